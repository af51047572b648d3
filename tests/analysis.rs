//! The analysis corpus: every policy under tests/analysis/ with its findings
//! as a snapshot, and every witness lead the analysis prints run through the
//! compiled evaluator to check that it shows what the finding claims.

mod common;

use std::path::{Path, PathBuf};

use qualify::analysis::{Finding, Subject};
use qualify::check::{Policy, date_from_ymd};
use qualify::compile::Program;
use qualify::db::{self, Database, Db};
use qualify::eval::{Machine, Truth};

const AS_OF: &str = "2026-06-01";

fn database() -> Database {
    let mut db = Database::default();
    db.set_as_of(date_from_ymd(AS_OF).unwrap());
    db
}

fn policies_under(dir: &str) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = walkdir::WalkDir::new(dir)
        .into_iter()
        .filter_map(Result::ok)
        .map(|e| e.into_path())
        .filter(|p| p.extension().is_some_and(|e| e == "qual"))
        .collect();
    out.sort();
    out
}

#[test]
fn corpus_findings_are_snapshotted() {
    insta::glob!("analysis/*.qual", |path| {
        let relative = path.strip_prefix(env!("CARGO_MANIFEST_DIR")).unwrap();
        let db = database();
        let file = db.load(relative).expect("readable");
        let diags = db::diagnostics(&db, file).clone();
        assert!(
            diags.iter().all(|d| !d.is_error()),
            "{} has errors: the corpus is for the analysis",
            relative.display()
        );
        let read = |p: &Path| db.file(p).map(|f| f.text(&db).clone());
        let mut rendered = qualify::render::human(&diags, &read, false);
        if rendered.is_empty() {
            rendered = "no finding\n".into();
        }
        insta::assert_snapshot!(rendered);
    });
}

#[test]
fn the_corpus_is_large_and_covers_every_static_finding() {
    use qualify::diagnostic::Code;
    let files = policies_under("tests/analysis");
    assert!(files.len() >= 40, "only {} policies", files.len());
    let mut clean = 0;
    let mut seen = std::collections::HashSet::new();
    for path in &files {
        let db = database();
        let file = db.load(path).unwrap();
        let diags = db::diagnostics(&db, file);
        if diags.is_empty() {
            clean += 1;
        }
        seen.extend(diags.iter().map(|d| d.code));
    }
    assert!(clean >= 10, "only {clean} policies without findings");
    for code in [
        Code::Contradiction,
        Code::ShadowedRule,
        Code::ConflictingRules,
        Code::UnreachableThreshold,
        Code::TrivialThreshold,
        Code::RedundantClause,
        Code::NoStageGap,
        Code::StageInversion,
        Code::Undecided,
    ] {
        assert!(
            seen.contains(&code),
            "no corpus policy shows {}",
            code.as_str()
        );
    }
}

/// Check that a printed witness demonstrates its finding; the lead is read
/// back from the printed JSON the way `qualify explain --lead` reads it.
fn check_witness(policy: &Policy, finding: &Finding, as_of: i32) -> Result<(), String> {
    let Some(printed) = &finding.diagnostic.witness else {
        return if finding.witness.is_some() {
            Err("a witness lead was found but not printed".into())
        } else {
            Ok(())
        };
    };
    let mut program = Program::compile(policy);
    let requirement_nodes = program.add_probes(
        policy,
        &policy
            .requirements
            .iter()
            .map(|r| &r.expr)
            .collect::<Vec<_>>(),
    );
    let row = qualify::leads::row_from_json(policy, &program, printed)
        .map_err(|e| format!("printed witness {printed} does not read: {e}"))?;
    let mut machine = Machine::new(&program, as_of);
    let decision = machine.run(&program, &row);
    let mut rule_true = |r: usize| {
        let node = program
            .rules
            .iter()
            .find(|p| p.rule == r)
            .map(|p| p.cond)
            .unwrap();
        machine.truth(&program, &row, node) == Truth::True
    };
    match &finding.subject {
        Subject::Conflict { winner, loser } => {
            if !rule_true(*winner) || !rule_true(*loser) {
                return Err(format!("{printed} does not match both rules"));
            }
        }
        Subject::Gap => {
            if decision.stage.is_some() {
                return Err(format!("{printed} gets a stage"));
            }
        }
        Subject::Inversion { rule, requirement } => {
            if decision.rule != *rule || decision.stage.is_none() {
                return Err(format!(
                    "{printed} is decided by {:?}, not rule {rule:?}",
                    decision.rule
                ));
            }
            let node = requirement_nodes[*requirement];
            if machine.truth(&program, &row, node) == Truth::True {
                return Err(format!("{printed} meets the requirement"));
            }
        }
        other => return Err(format!("{other:?} should not carry a witness")),
    }
    Ok(())
}

#[test]
fn every_printed_witness_demonstrates_its_finding() {
    let mut files = policies_under("tests/analysis");
    files.extend(policies_under("examples"));
    files.extend(policies_under("templates"));
    let as_of = date_from_ymd(AS_OF).unwrap();
    let mut checked = 0;
    let mut failures = Vec::new();
    for path in &files {
        let db = database();
        let file = db.load(path).unwrap();
        let policy = &db::checked(&db, file).policy;
        for finding in db::analysis(&db, file) {
            if finding.diagnostic.witness.is_some() {
                checked += 1;
            }
            if let Err(e) = check_witness(policy, finding, as_of) {
                failures.push(format!(
                    "{}: {}: {e}",
                    path.display(),
                    finding.diagnostic.message
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(checked >= 10, "only {checked} witnesses checked");
}

#[test]
fn check_reports_findings_in_every_format_and_deny_warnings_fails() {
    let path = "tests/analysis/conflict_overlapping_stages.qual";
    if !Path::new(path).exists() {
        panic!("{path} is part of the corpus");
    }
    let plain = common::qualify(&["check", "--as-of", AS_OF, path]);
    assert!(plain.status.success(), "warnings alone pass");
    assert!(common::stderr(&plain).contains("Q0303"));
    let denied = common::qualify(&["check", "--as-of", AS_OF, "--deny-warnings", path]);
    assert_eq!(denied.status.code(), Some(1));
    for format in ["json", "github", "sarif"] {
        let out = common::qualify(&["check", "--as-of", AS_OF, "--format", format, path]);
        let text = common::stdout(&out);
        assert!(text.contains("Q0303"), "{format}: {text}");
        assert!(
            text.contains("for example") || text.contains("\"witness\""),
            "{format} shows the witness: {text}"
        );
    }
}

#[test]
fn a_sample_shows_over_qualification_missing_fields_and_unreached_stages() {
    let policy = "tests/analysis/sample/policy.qual";
    // The sample and its thresholds come from the qualify.toml beside it.
    let out = common::qualify(&["check", "--as-of", AS_OF, "--format", "json", policy]);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let messages: Vec<(String, String)> = json
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["code"].as_str().unwrap().to_string(),
                d["message"].as_str().unwrap().to_string() + " " + d["help"].as_str().unwrap_or(""),
            )
        })
        .collect();
    let has = |code: &str, text: &str| messages.iter().any(|(c, m)| c == code && m.contains(text));
    assert!(has("Q0310", "passes 0 of 40 sample leads"), "{messages:?}");
    assert!(
        has(
            "Q0310",
            "`company size >= 5000` is the most restrictive clause: without it 5 of 40"
        ),
        "{messages:?}"
    );
    assert!(has("Q0311", "reaches customer"), "{messages:?}");
    assert!(
        has(
            "Q0312",
            "needs `budget`, which 24 of 40 sample leads (60.0%) lack"
        ),
        "{messages:?}"
    );
    assert!(
        !has("Q0312", "company size"),
        "a field with a default is never missing"
    );
    // Without the project file: only the static analysis.
    let out = common::qualify(&[
        "check",
        "--as-of",
        AS_OF,
        "--no-config",
        "--format",
        "json",
        policy,
    ]);
    assert_eq!(common::stdout(&out).trim(), "[]");
    // The command line overrides the file's thresholds.
    let out = common::qualify(&[
        "check",
        "--as-of",
        AS_OF,
        "--format",
        "json",
        "--min-pass-rate",
        "0%",
        "--max-missing",
        "90%",
        policy,
    ]);
    let text = common::stdout(&out);
    assert!(!text.contains("Q0310") && !text.contains("Q0312"), "{text}");
    assert!(text.contains("Q0311"), "{text}");
}
