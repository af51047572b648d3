//! The `qualify` command line. Each subcommand is a thin layer over the
//! database queries and the evaluator; exit codes: 0 ok, 1 findings or
//! failures, 2 usage or I/O errors.

/// `print!` to standard output, as a `Result`: see `write_stdout`.
macro_rules! out {
    ($($arg:tt)*) => {
        $crate::cli::write_stdout(&format!($($arg)*))
    };
}

/// `println!` to standard output, as a `Result`: see `write_stdout`.
macro_rules! outln {
    ($($arg:tt)*) => {
        $crate::cli::write_stdout(&format!("{}\n", format_args!($($arg)*)))
    };
}

mod backtest;
mod bad_rows;
mod check;
mod compile;
mod diff;
mod explain;
mod fmt;
mod init;
mod report;
mod run;
mod test;

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};

use crate::db::{self, Database};
use crate::diagnostic::Diagnostic;

#[derive(Parser)]
#[command(
    name = "qualify",
    version,
    about = "Check, test and run lead qualification policies (.qual files)",
    after_help = "Examples:\n  qualify check examples/\n  qualify test examples/\n  qualify fmt --check policies/\n  qualify init my-policy --template bant"
)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Check policies for syntax, name and type errors and policy problems.
    #[command(
        after_help = "Examples:\n  qualify check policy.qual\n  qualify check examples/ --format github\n  qualify check . --deny-warnings --format sarif > qualify.sarif\n\nExit status: 0 clean, 1 errors (or warnings with --deny-warnings), 2 usage error."
    )]
    Check(check::Args),
    /// Rewrite policies in the canonical layout.
    #[command(
        after_help = "Examples:\n  qualify fmt policy.qual\n  qualify fmt --check examples/\n\nWith --check nothing is written; exit status 1 names the files that would change."
    )]
    Fmt(fmt::Args),
    /// Run the `test` blocks of policies.
    #[command(
        after_help = "Examples:\n  qualify test examples/\n  qualify test policy.qual --as-of 2026-06-30\n\nExit status: 0 when every test passes, 1 otherwise."
    )]
    Test(test::Args),
    /// Create a working policy folder: schema, policy, tests, sample leads, CI workflow.
    #[command(
        after_help = "Examples:\n  qualify init my-policy\n  qualify init enterprise --template meddpicc"
    )]
    Init(init::Args),
    /// Run a policy over a lead file: each lead's stage, scores and deciding rule.
    #[command(
        after_help = "Examples:\n  qualify run policy.qual leads.csv -o qualified.csv\n  qualify run policy.qual leads.jsonl --format jsonl --as-of 2026-06-30\n  cat leads.csv | qualify run policy.qual - --keep-columns > out.csv\n  qualify run policy.qual leads.csv -o out.csv --on-error reject=bad-rows.csv\n\nOutput columns: the key field(s), stage, one column per score, rule.\nExit status: 0 done, 1 policy errors / missing columns / a bad row with --on-error fail, 2 usage or I/O error."
    )]
    Run(run::Args),
    /// Explain one lead: its stage, the rule that decided and why, the score
    /// lines that counted, and what it lacks for each higher stage.
    #[command(
        after_help = "Examples:\n  qualify explain policy.qual leads.csv --id L-1003\n  qualify explain policy.qual leads.csv --row 12 --as-of 2026-06-01\n  qualify explain policy.qual --lead '{\"budget\": 40000, \"demo requested\": true}'\n  qualify explain policy.qual leads.csv --id L-1003 --format json"
    )]
    Explain(explain::Args),
    /// Judge a policy against known outcomes: conversion rate, recall and
    /// lift per stage, per rule and per score band, threshold sweeps, and
    /// the converted leads the policy left below its target stage.
    #[command(
        after_help = "Examples:\n  qualify backtest examples/salvirt/policy.qual examples/salvirt/leads.csv --outcome Status=Won\n  qualify backtest policy.qual leads.csv --outcome Converted --target SQL --format json\n  qualify backtest policy.qual leads.csv --outcome \"Stage=Closed Won,Won\" --on-error skip\n\n--outcome COLUMN reads yes/no (1/0, yes/no, true/false); COLUMN=V1,V2 means converted when the cell is V1 or V2. An empty cell is a missing outcome: counted and reported, not judged.\nExit status: 0 done, 1 policy errors / missing columns / a bad row with --on-error fail, 2 usage error (unknown --outcome column or --target stage) or I/O error."
    )]
    Backtest(backtest::Args),
    /// Compare two versions of a policy on the same leads: the stage
    /// migration matrix (old stage × new stage), conversion rates per cell
    /// with --outcome, the leads that moved and the rule that decided them
    /// before and after, and the rules that decide more or fewer leads.
    #[command(
        after_help = "Examples:\n  qualify diff main:policy.qual policy.qual leads.csv\n  qualify diff old.qual examples/salvirt/policy.qual examples/salvirt/leads.csv --outcome Status=Won\n  qualify diff origin/main:policy.qual policy.qual leads.csv --format markdown > diff.md\n  qualify diff HEAD~1:./policy.qual policy.qual leads.csv --format csv > moved.csv\n\nOLD and NEW are policy files, or REV:path to read one (and the files it imports) from git; REV:./path is relative to the current folder. The two must rank the same stages in the same order.\nFormats: human (a table), markdown (for a pull-request comment), csv (one row per moved lead), json (everything).\nExit status: 0 done, 1 policy errors / missing columns / a bad row with --on-error fail, 2 usage error (different stages, unknown --outcome column, unknown git revision) or I/O error."
    )]
    Diff(diff::Args),
    /// Write the backtest as one self-contained HTML page for a RevOps
    /// review: the funnel, score distributions by outcome, threshold sweeps,
    /// what strictness costs, the rules, the policy's findings and (with
    /// --against) the migration matrix from an older version.
    #[command(
        after_help = "Examples:\n  qualify report examples/x-education/policy.qual examples/x-education/leads.csv --outcome Converted -o report.html\n  qualify report examples/salvirt/policy.qual examples/salvirt/leads.csv --outcome Status=Won --against main:examples/salvirt/policy.qual -o report.html\n  qualify report policy.qual leads.csv -o counts.html   (no --outcome: counts, scores, rules and findings only)\n\nThe page has no script and loads nothing: open it in any browser, attach it to a mail or a ticket.\n--outcome COLUMN reads yes/no (1/0, yes/no, true/false); COLUMN=V1,V2 means converted when the cell is V1 or V2.\nThe file is written whole or not at all; an -o that is the lead file or the policy is refused.\nExit status: 0 written, 1 policy errors / missing columns / a bad row with --on-error fail, 2 usage or I/O error."
    )]
    Report(report::Args),
    /// Compile a policy to SQL for a warehouse (DuckDB, PostgreSQL,
    /// Snowflake, BigQuery, Spark) or to a dbt model.
    #[command(
        after_help = "Examples:\n  qualify compile policy.qual --dialect duckdb --table leads\n  qualify compile policy.qual --dialect postgres --table crm.leads --view qualified_leads\n  qualify compile policy.qual --dialect snowflake --as-of 2026-06-30\n  qualify compile policy.qual --target dbt --dialect bigquery --table crm.leads -o models/qualified_leads.sql\n\nThe table's columns are the schema's source columns (`from \"…\"`), text or typed (a native BOOLEAN is taken as it is; other cells are read as text).\nOutput columns: the key field(s), stage, one column per score, rule, qualify_error.\nExit status: 0 written, 1 policy errors or a construct the dialect cannot express, 2 usage error."
    )]
    Compile(compile::Args),
    /// Start the language server (LSP over stdin/stdout) for editors.
    #[command(
        after_help = "Editors start this themselves; see editors/ for VS Code, Neovim and Helix.\nSettings (initializationOptions or settings.qualify): sample, minPassRate, maxMissing, noConfig, asOf."
    )]
    Lsp {
        /// Accepted and ignored: stdin/stdout is the only transport, and
        /// clients such as vscode-languageclient add this flag.
        #[arg(long, hide = true)]
        stdio: bool,
    },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Human,
    Json,
    Github,
    Sarif,
}

pub fn main() -> ExitCode {
    // `qualify run … | head` should end quietly, as other Unix tools do,
    // rather than panic in `println!` on a closed pipe.
    #[cfg(unix)]
    // SAFETY: restoring the default action of a signal before any thread
    // starts; no handler is involved.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(err) => {
            let code = if err.use_stderr() { 2 } else { 0 };
            let _ = err.print();
            return ExitCode::from(code);
        }
    };
    let result = match cli.command {
        Command::Check(args) => check::run(args),
        Command::Fmt(args) => fmt::run(args),
        Command::Test(args) => test::run(args),
        Command::Init(args) => init::run(args),
        Command::Run(args) => run::run(args),
        Command::Explain(args) => explain::run(args),
        Command::Backtest(args) => backtest::run(args),
        Command::Diff(args) => diff::run(args),
        Command::Report(args) => report::run(args),
        Command::Compile(args) => compile::run(args),
        Command::Lsp { .. } => crate::lsp::serve_stdio().map(|()| ExitCode::SUCCESS),
    };
    match result {
        Ok(code) => code,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::from(2)
        }
    }
}

/// `--as-of` and other date arguments: days since 1970-01-01.
pub(crate) fn parse_date_arg(text: &str) -> Result<i32, String> {
    crate::check::policy::date_from_ymd(text).ok_or_else(|| "expected a date as YYYY-MM-DD".into())
}

/// `.qual` files named on the command line, directories searched recursively.
pub(crate) fn collect_policy_files(paths: &[PathBuf]) -> Result<Vec<PathBuf>, String> {
    let paths: Vec<PathBuf> = if paths.is_empty() {
        vec![PathBuf::from(".")]
    } else {
        paths.to_vec()
    };
    let mut files = Vec::new();
    for path in &paths {
        if path.is_dir() {
            let mut found: Vec<PathBuf> = walkdir::WalkDir::new(path)
                .into_iter()
                .filter_entry(|e| {
                    let name = e.file_name().to_string_lossy();
                    e.depth() == 0
                        || !(name.starts_with('.') || name == "target" || name == "node_modules")
                })
                .filter_map(Result::ok)
                .filter(|e| {
                    e.file_type().is_file() && e.path().extension().is_some_and(|x| x == "qual")
                })
                .map(|e| db::normalize(e.path()))
                .collect();
            found.sort();
            files.extend(found);
        } else if path.is_file() {
            files.push(db::normalize(path));
        } else {
            return Err(format!("{}: no such file or directory", path.display()));
        }
    }
    Ok(files)
}

pub(crate) fn read_file_for(db: &Database) -> impl Fn(&Path) -> Option<String> + '_ {
    move |path: &Path| {
        db.file(path)
            .map(|f| f.text(db).clone())
            .or_else(|| std::fs::read_to_string(path).ok())
    }
}

pub(crate) fn print_diagnostics(
    db: &Database,
    diags: &[Diagnostic],
    format: Format,
) -> Result<(), String> {
    let read = read_file_for(db);
    match format {
        Format::Human => {
            let color = std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none();
            eprint!("{}", crate::render::human(diags, &read, color));
        }
        Format::Json => outln!("{}", crate::render::json(diags, &read))?,
        Format::Github => out!("{}", crate::render::github(diags, &read))?,
        Format::Sarif => outln!("{}", crate::render::sarif(diags, &read))?,
    }
    Ok(())
}

/// Load a policy file into the database, or say why it cannot be read.
pub(crate) fn read_policy_file(
    db: &Database,
    path: &Path,
) -> Result<crate::db::SourceFile, String> {
    use crate::db::{Db, ReadError};
    match db.try_load(path) {
        Ok(file) => Ok(file),
        // A regular file within the size limit: safe to read again, to
        // say where the first bad byte is.
        Err(ReadError::NotUtf8) => {
            let bytes = std::fs::read(path).unwrap_or_default();
            let at = std::str::from_utf8(&bytes)
                .err()
                .map_or(0, |e| e.valid_up_to());
            let line = bytes[..at].iter().filter(|&&b| b == b'\n').count() + 1;
            Err(format!(
                "{}: not UTF-8 text (line {line}, byte {} is not valid UTF-8); save the policy as UTF-8",
                path.display(),
                at + 1
            ))
        }
        Err(e) => Err(format!("{}: cannot read the policy: {e}", path.display())),
    }
}

/// Write to standard output. A write that fails (a full disk, a closed
/// file) is an error the user is told about, not a panic.
pub(crate) fn write_stdout(text: &str) -> Result<(), String> {
    use std::io::Write;
    let mut stdout = std::io::stdout().lock();
    stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush())
        .map_err(|e| format!("cannot write to standard output: {e}"))
}

/// Check a policy for running: its diagnostics go to stderr; `None` when it
/// has errors (a policy with errors is never run).
pub(crate) fn load_policy(path: &Path) -> Result<Option<crate::check::policy::Policy>, String> {
    let db = Database::default();
    let path = db::normalize(path);
    let file = read_policy_file(&db, &path)?;
    let checked = db::checked(&db, file);
    let errors: Vec<Diagnostic> = checked
        .diagnostics
        .iter()
        .filter(|d| d.is_error())
        .cloned()
        .collect();
    if !errors.is_empty() {
        print_diagnostics(&db, &errors, Format::Human)?;
        eprintln!(
            "error: {} has {} error(s); fix them before running it (see `qualify check`)",
            path.display(),
            errors.len()
        );
        return Ok(None);
    }
    Ok(Some(checked.policy.clone()))
}
