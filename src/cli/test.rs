use std::path::PathBuf;
use std::process::ExitCode;

use super::{Format, collect_policy_files, print_diagnostics};
use crate::check::policy::{Policy, date_to_string, format_number, today};
use crate::db::{self, Database};
use crate::line_index::LineIndex;

#[derive(clap::Args)]
pub struct Args {
    /// Policy files or directories (searched recursively for .qual files).
    paths: Vec<PathBuf>,
    /// Evaluation date for tests that do not set `as of` (default: today).
    #[arg(long, value_name = "YYYY-MM-DD", value_parser = super::parse_date_arg)]
    as_of: Option<i32>,
}

pub fn run(args: Args) -> Result<ExitCode, String> {
    let as_of = args.as_of.unwrap_or_else(today);
    let files = collect_policy_files(&args.paths)?;
    let db = Database::default();
    let (mut passed, mut failed) = (0usize, 0usize);
    for path in &files {
        let file = super::read_policy_file(&db, path)?;
        let checked = db::checked(&db, file);
        let errors: Vec<_> = checked
            .diagnostics
            .iter()
            .filter(|d| d.is_error())
            .cloned()
            .collect();
        let has_tests = db::parse(&db, file)
            .file
            .items
            .iter()
            .any(|i| matches!(i.kind, crate::syntax::ItemKind::Test(_)));
        // A policy with errors fails even without a test block: the block
        // may be what is broken (`tset "…" { … }`).
        if !has_tests && errors.is_empty() {
            continue;
        }
        outln!("{}", path.display())?;
        if !errors.is_empty() {
            print_diagnostics(&db, &errors, Format::Human)?;
            outln!(
                "  ✗ the policy has {} error(s); its tests cannot run",
                errors.len()
            )?;
            failed += checked.policy.tests.len().max(1);
            continue;
        }
        let policy = &checked.policy;
        let program = crate::compile::Program::compile(policy);
        for test in &policy.tests {
            let failures = run_one(policy, &program, test, test.as_of.unwrap_or(as_of));
            if failures.is_empty() {
                passed += 1;
                outln!("  ✓ {}", test.name)?;
            } else {
                failed += 1;
                let index = LineIndex::new(file.text(&db));
                let (line, _) = index.line_col(file.text(&db), test.loc.span.start as usize);
                outln!("  ✗ {} ({}:{line})", test.name, path.display())?;
                for failure in failures {
                    outln!("      {failure}")?;
                }
            }
        }
    }
    if passed + failed == 0 {
        // A run that tested nothing must not look like a run that passed.
        let searched: Vec<String> = args.paths.iter().map(|p| p.display().to_string()).collect();
        let place = if searched.is_empty() {
            ".".to_string()
        } else {
            searched.join(", ")
        };
        return Err(format!(
            "no tests found in {place}: write `test \"…\" {{ lead {{ … }} expect STAGE }}` blocks in a policy file"
        ));
    }
    outln!("")?;
    outln!("{passed} passed, {failed} failed")?;
    Ok(if failed > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// What went wrong with one test, in words; empty when it passed.
pub fn run_one(
    policy: &Policy,
    program: &crate::compile::Program,
    test: &crate::check::policy::Test,
    as_of: i32,
) -> Vec<String> {
    let lead = crate::eval::lead_from(policy, test.lead.iter().cloned());
    let outcome = crate::eval::machine::run_lead(program, &lead, as_of);
    let stage_name =
        |s: Option<usize>| s.map_or("no stage".to_string(), |s| policy.stages[s].name.clone());
    let decided_by = || match outcome.rule {
        Some(r) => {
            let rule = &policy.rules[r];
            format!(
                "decided by rule `{}` ({}:{})",
                rule.display_name(),
                policy.path(rule.loc).display(),
                rule.line
            )
        }
        None if outcome.stage.is_some() => "no rule matched, so `otherwise` applied".to_string(),
        None => "no rule matched and the policy has no `otherwise`".to_string(),
    };
    let mut failures = Vec::new();
    if let Some(expected) = test.expect_stage {
        if expected != outcome.stage {
            failures.push(format!(
                "expected {}, got {} — {}",
                stage_name(expected),
                stage_name(outcome.stage),
                decided_by()
            ));
        }
    }
    for (score, expected) in &test.expect_scores {
        let actual = outcome.scores[*score];
        if (actual - expected).abs() > 1e-9 {
            failures.push(format!(
                "expected score {} = {}, got {}",
                policy.scores[*score].name,
                format_number(*expected),
                format_number(actual)
            ));
        }
    }
    if let Some(expected) = test.expect_rule {
        if outcome.rule != Some(expected) {
            failures.push(format!(
                "expected rule `{}` to decide, but {}",
                policy.rules[expected].display_name(),
                decided_by()
            ));
        }
    }
    if !failures.is_empty() && test.as_of.is_none() {
        failures.push(format!("(evaluated as of {})", date_to_string(as_of)));
    }
    failures
}
