//! The analysis corpus: every policy under tests/analysis/ with its findings
//! as a snapshot, and every witness lead the analysis prints run through the
//! compiled evaluator to check that it shows what the finding claims.
//!
//! Two parts of it state what is right, not just what the tool says today:
//! `natural_*.qual`, policies written the way revenue teams write them, must
//! draw no diagnostic at all; `mistake_*.qual`, real mistakes, must each draw
//! exactly the codes named on their first line (`# expect: Q0313`).

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
        Code::ToothlessDisqualifier,
        Code::IneffectiveCeiling,
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
        let node = program.conds[r];
        machine.truth(&program, &row, node) == Truth::True
    };
    match &finding.subject {
        Subject::Toothless { rule, by } => {
            if !rule_true(*rule) {
                return Err(format!("{printed} does not match rule {rule}"));
            }
            if decision.rule != Some(*by)
                || decision
                    .stage
                    .is_none_or(|s| s <= policy.rules[*rule].stage)
            {
                return Err(format!(
                    "{printed} is not taken above rule {rule}'s stage by rule {by}: {decision:?}"
                ));
            }
        }
        Subject::Gap => {
            if decision.stage.is_some() {
                return Err(format!("{printed} gets a stage"));
            }
        }
        Subject::Inversion { rule, requirement } => {
            // A ceiling between the two stages may decide instead; the
            // lead still reached the stage through `rule`.
            let reached = decision.lowered_from.map_or(decision.rule, |r| r.rule);
            let required = policy.requirements[*requirement].stage;
            if reached != *rule || decision.stage.is_none_or(|s| s < required) {
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
    let path = "tests/analysis/mistake_competitor_rule_at_otherwise.qual";
    if !Path::new(path).exists() {
        panic!("{path} is part of the corpus");
    }
    let plain = common::qualify(&["check", "--as-of", AS_OF, path]);
    assert!(plain.status.success(), "warnings alone pass");
    assert!(common::stderr(&plain).contains("Q0313"));
    let denied = common::qualify(&["check", "--as-of", AS_OF, "--deny-warnings", path]);
    assert_eq!(denied.status.code(), Some(1));
    for format in ["json", "github", "sarif"] {
        let out = common::qualify(&["check", "--as-of", AS_OF, "--format", format, path]);
        let text = common::stdout(&out);
        assert!(text.contains("Q0313"), "{format}: {text}");
        assert!(
            text.contains("for example") || text.contains("\"witness\""),
            "{format} shows the witness: {text}"
        );
    }
}

/// Every diagnostic `qualify check` gives a corpus file, as (code, message).
fn findings_of(path: &Path) -> Vec<(String, String)> {
    let db = database();
    let file = db.load(path).expect("readable");
    db::diagnostics(&db, file)
        .iter()
        .map(|d| (d.code.as_str().to_string(), d.message.clone()))
        .collect()
}

fn corpus(prefix: &str) -> Vec<PathBuf> {
    policies_under("tests/analysis")
        .into_iter()
        .filter(|p| {
            p.parent() == Some(Path::new("tests/analysis"))
                && p.file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| n.starts_with(prefix))
        })
        .collect()
}

/// Policies written the way revenue teams write them — escalating funnels,
/// BANT, MEDDPICC, product usage, score bands, several routes to one stage,
/// ceilings as disqualifiers, optional fields tested positively — draw no
/// diagnostic at all, not even a note.
#[test]
fn natural_policies_check_without_any_diagnostic() {
    let files = corpus("natural_");
    assert!(files.len() >= 15, "only {} natural policies", files.len());
    let mut failures = Vec::new();
    for path in &files {
        for (code, message) in findings_of(path) {
            failures.push(format!("{}: {code} {message}", path.display()));
        }
    }
    assert!(
        failures.is_empty(),
        "natural policies must check clean:\n{}",
        failures.join("\n")
    );
}

/// The codes a `mistake_*.qual` file names on its first line,
/// `# expect: Q0313` or `# expect: Q0304, Q0301`.
fn expected_codes(path: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(path).unwrap();
    let first = text.lines().next().unwrap_or("");
    let Some(codes) = first.strip_prefix("# expect:") else {
        panic!(
            "{}: the first line must be `# expect: Q0xxx`",
            path.display()
        );
    };
    let codes: Vec<String> = codes
        .split(',')
        .map(|c| c.trim().to_string())
        .filter(|c| !c.is_empty())
        .collect();
    assert!(
        !codes.is_empty() && codes.iter().all(|c| c.len() == 5 && c.starts_with('Q')),
        "{}: bad expectation line `{first}`",
        path.display()
    );
    codes
}

/// Each real mistake is found: every code its `# expect:` line names
/// appears, and nothing else does.
#[test]
fn every_mistake_is_found_and_nothing_else() {
    let files = corpus("mistake_");
    assert!(files.len() >= 12, "only {} mistakes", files.len());
    let mut failures = Vec::new();
    for path in &files {
        let expected = expected_codes(path);
        let found = findings_of(path);
        for code in &expected {
            if !found.iter().any(|(c, _)| c == code) {
                failures.push(format!("{}: {code} not found", path.display()));
            }
        }
        for (code, message) in &found {
            if !expected.contains(code) {
                failures.push(format!("{}: unexpected {code} {message}", path.display()));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Q0201 warns where three-valued logic surprises: a negated test of an
/// optional field without a default, in a rule, a ceiling or a score line,
/// unless the condition says what missing means or needs the field anyway.
#[test]
fn q0201_warns_about_negations_of_optional_fields_only() {
    let policy = r#"field title: string optional
field industry: enum { saas, retail, education } optional
field size: integer optional
field country: enum { us, de } optional
field segment: enum { smb, enterprise } default smb
field demo requested: bool default false

stages unqualified < nurture < MQL < SQL
otherwise unqualified

criterion student: title contains "student" ignoring case
criterion known student: title known and title contains "student" ignoring case

score fit {
  +20 when industry = saas
  +10 when industry != retail
}

rule positive: industry = saas and size >= 50 => SQL
rule positive in: industry in { saas, education } and title = "CEO" => SQL
rule negated: demo requested and industry != retail => MQL
rule negated criterion: demo requested and not student => MQL
rule settled: demo requested and (industry unknown or industry != education) => MQL
rule settled criterion: demo requested and not known student => MQL
rule needed anyway: title contains "Director" and not (title contains "Assistant") => SQL
rule with default: segment != smb => MQL
rule foreign: country not in { us } => at most nurture
rule fit: fit >= 20 => nurture
"#;
    let mut db = database();
    let file = db.set_file(Path::new("q0201.qual"), policy.to_string());
    let checked = db::checked(&db, file);
    let warned: Vec<(usize, String)> = checked
        .diagnostics
        .iter()
        .filter(|d| d.code == qualify::diagnostic::Code::UncheckedOptional)
        .map(|d| {
            let line = policy[..d.span.start as usize].matches('\n').count() + 1;
            (line, d.message.clone())
        })
        .collect();
    let mut warned = warned;
    warned.sort();
    let line_of = |needle: &str| {
        policy
            .lines()
            .position(|l| l.contains(needle))
            .map(|i| i + 1)
            .unwrap()
    };
    let lines: Vec<usize> = warned.iter().map(|(l, _)| *l).collect();
    assert_eq!(
        lines,
        vec![
            line_of("+10 when industry != retail"),
            line_of("rule negated:"),
            line_of("rule negated criterion:"),
            line_of("rule foreign:"),
        ],
        "{warned:#?}"
    );
    assert!(
        warned[0].1.contains("never get these 10 points"),
        "{warned:?}"
    );
    assert!(warned[1].1.contains("never reach MQL"), "{warned:?}");
    assert!(warned[2].1.starts_with("`title` is optional"), "{warned:?}");
    assert!(
        warned[3].1.contains("ceiling never holds back"),
        "{warned:?}"
    );
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

fn sample_findings(policy: &str) -> Vec<(String, String)> {
    let out = common::qualify(&["check", "--as-of", AS_OF, "--format", "json", policy]);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    json.as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["code"].as_str().unwrap().to_string(),
                d["message"].as_str().unwrap().to_string()
                    + "\n"
                    + d["help"].as_str().unwrap_or(""),
            )
        })
        .collect()
}

/// Q0312 points at the data, and never recommends a change that lets more
/// leads in: a rule that already says `budget known` is not told to accept
/// `budget unknown`; for one that does not, letting such leads through is
/// one choice among others.
#[test]
fn q0312_help_never_recommends_letting_more_leads_in() {
    let with_known = sample_findings("tests/analysis/sample/policy.qual");
    let (_, text) = with_known
        .iter()
        .find(|(c, _)| c == "Q0312")
        .expect("Q0312 on `enterprise ready`");
    assert!(text.contains("says `budget known`"), "{text}");
    assert!(text.contains("column \"Budget\""), "{text}");
    assert!(!text.contains("unknown or"), "{text}");

    let without = sample_findings("tests/analysis/sample/without_known.qual");
    let (_, text) = without
        .iter()
        .find(|(c, m)| c == "Q0312" && m.contains("funded demo"))
        .unwrap_or_else(|| panic!("Q0312 on `funded demo`: {without:?}"));
    assert!(
        text.contains("60.0% of sample leads without `budget`"),
        "{text}"
    );
    assert!(text.contains("column \"Budget\""), "{text}");
    assert!(text.contains("is a choice"), "{text}");
    assert!(
        text.contains("`budget known and …` keeps them out"),
        "{text}"
    );
    assert!(
        text.contains("`(budget unknown or …)` would let them"),
        "{text}"
    );
    // Disqualifiers are meant to match few leads.
    assert!(
        !without
            .iter()
            .any(|(c, m)| c == "Q0310" && (m.contains("too small") || m.contains("tiny"))),
        "{without:?}"
    );
}
