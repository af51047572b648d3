use std::path::PathBuf;
use std::process::ExitCode;

use super::{Format, collect_policy_files, print_diagnostics};
use crate::db::{self, Database};
use crate::syntax::format::format;

#[derive(clap::Args)]
pub struct Args {
    /// Policy files or directories (searched recursively for .qual files).
    paths: Vec<PathBuf>,
    /// Change nothing; exit with status 1 and name the files that would change.
    #[arg(long)]
    check: bool,
}

pub fn run(args: Args) -> Result<ExitCode, String> {
    let files = collect_policy_files(&args.paths)?;
    let db = Database::default();
    let mut would_change = Vec::new();
    let mut unparsable = 0;
    for path in &files {
        let file = super::read_policy_file(&db, path)?;
        let parsed = db::parse(&db, file);
        if !parsed.diagnostics.is_empty() {
            // Formatting a file with syntax errors would drop the lines it
            // could not read: refuse, and show why.
            print_diagnostics(&db, &parsed.diagnostics, Format::Human)?;
            unparsable += 1;
            continue;
        }
        let text = file.text(&db);
        let formatted = format(text, &parsed.file);
        if &formatted != text {
            if args.check {
                outln!("would reformat {}", path.display())?;
            } else {
                std::fs::write(path, &formatted).map_err(|e| format!("{}: {e}", path.display()))?;
                outln!("formatted {}", path.display())?;
            }
            would_change.push(path.clone());
        }
    }
    if unparsable > 0 {
        eprintln!("{unparsable} file(s) not formatted because of syntax errors");
        return Ok(ExitCode::from(1));
    }
    if args.check && !would_change.is_empty() {
        eprintln!(
            "{} of {} file(s) would be reformatted; run `qualify fmt` to fix",
            would_change.len(),
            files.len()
        );
        return Ok(ExitCode::from(1));
    }
    Ok(ExitCode::SUCCESS)
}
