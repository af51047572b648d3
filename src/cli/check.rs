use std::path::PathBuf;
use std::process::ExitCode;

use super::{Format, collect_policy_files, print_diagnostics};
use crate::db::{self, Database};
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
    /// A lead file (CSV or JSON) to measure each rule's pass rate on; default: the
    /// `[sample] file` of the nearest qualify.toml.
    #[arg(long, value_name = "FILE")]
    sample: Option<PathBuf>,
    /// Warn about rules fewer than this share of sample leads pass (default 1%).
    #[arg(long, value_name = "RATE", value_parser = crate::config::parse_rate)]
    min_pass_rate: Option<f64>,
    /// Warn about fields a rule needs that more than this share of sample leads lack (default 30%).
    #[arg(long, value_name = "RATE", value_parser = crate::config::parse_rate)]
    max_missing: Option<f64>,
    /// Ignore qualify.toml.
    #[arg(long)]
    no_config: bool,
}

pub fn run(args: Args) -> Result<ExitCode, String> {
    let files = collect_policy_files(&args.paths)?;
    let mut db = Database::default();
    if let Some(day) = args.as_of {
        db.set_as_of(day);
    }
    db.set_sample_choice(crate::config::SampleChoice {
        file: args.sample.clone(),
        use_config: !args.no_config,
        min_pass_rate: args.min_pass_rate,
        max_missing: args.max_missing,
    });
    let mut all = Vec::new();
    for path in &files {
        let file = super::read_policy_file(&db, path)?;
        let diagnostics = db::diagnostics(&db, file);
        all.extend(diagnostics.iter().cloned());
        if diagnostics.iter().any(|d| d.is_error()) {
            continue;
        }
        if let Some(report) = db::sample_report(&db, file) {
            let (sample, report) = match report {
                Ok(measured) => measured,
                Err(error) => {
                    all.push(error.diagnostic(file.path(&db)));
                    continue;
                }
            };
            let read = &report.read;
            // Rows the sample could not read are not counted; say so, so
            // pass rates are not taken for the whole file.
            if !read.rejected.is_empty() && args.format == Format::Human {
                eprintln!(
                    "sample {}: {} leads read, {} row{} rejected and not counted (first: {})",
                    sample.file.display(),
                    crate::check::thousands(read.leads as u64),
                    crate::check::thousands(read.rejected.len() as u64),
                    plural(read.rejected.len()),
                    read.rejected[0]
                );
            }
            all.extend(report.diagnostics.iter().cloned());
        }
    }
    let count = |s: Severity| all.iter().filter(|d| d.severity == s).count();
    let (errors, warnings, notes) = (
        count(Severity::Error),
        count(Severity::Warning),
        count(Severity::Note),
    );
    print_diagnostics(&db, &all, args.format)?;
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
