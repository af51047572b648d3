use std::path::PathBuf;
use std::process::ExitCode;

use super::{Format, collect_policy_files, print_diagnostics};
use crate::db::{self, Database, Db};
use crate::diagnostic::Severity;

#[derive(clap::Args)]
pub struct Args {
    /// Policy files or directories (searched recursively for .qual files).
    paths: Vec<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Human)]
    format: Format,
    /// Exit with status 1 on warnings too.
    #[arg(long)]
    deny_warnings: bool,
    /// The date `within N days` is judged against in the analysis (YYYY-MM-DD; default today).
    #[arg(long, value_name = "DATE", value_parser = super::parse_date_arg)]
    as_of: Option<i32>,
}

pub fn run(args: Args) -> Result<ExitCode, String> {
    let files = collect_policy_files(&args.paths)?;
    let mut db = Database::default();
    if let Some(day) = args.as_of {
        db.set_as_of(day);
    }
    let mut all = Vec::new();
    for path in &files {
        let file = db
            .load(path)
            .ok_or_else(|| format!("{}: cannot read file", path.display()))?;
        all.extend(db::diagnostics(&db, file).iter().cloned());
    }
    let count = |s: Severity| all.iter().filter(|d| d.severity == s).count();
    let (errors, warnings, notes) = (
        count(Severity::Error),
        count(Severity::Warning),
        count(Severity::Note),
    );
    print_diagnostics(&db, &all, args.format);
    if args.format == Format::Human {
        let notes = if notes > 0 {
            format!(", {notes} note{}", plural(notes))
        } else {
            String::new()
        };
        eprintln!(
            "checked {} file{}: {} error{}, {} warning{}{notes}",
            files.len(),
            plural(files.len()),
            errors,
            plural(errors),
            warnings,
            plural(warnings)
        );
    }
    let failed = errors > 0 || (args.deny_warnings && warnings > 0);
    Ok(if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

pub(crate) fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}
