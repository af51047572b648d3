//! `qualify backtest` through the binary: its numbers against an
//! independent count over `qualify run --keep-columns` output, missing
//! outcomes, the error cases and the JSON shape.

mod common;

use std::collections::BTreeMap;
use std::path::Path;

use common::{qualify, stderr, stdout};
use serde_json::Value;

const POLICY: &str = "examples/salvirt/policy.qual";
const LEADS: &str = "examples/salvirt/leads.csv";

fn backtest_json(args: &[&str]) -> Value {
    let mut all = vec!["backtest"];
    all.extend_from_slice(args);
    all.extend_from_slice(&["--format", "json"]);
    let out = qualify(&all);
    assert!(out.status.success(), "{}", stderr(&out));
    serde_json::from_str(&stdout(&out)).expect("backtest --format json prints JSON")
}

/// Each lead of `leads` as `qualify run --keep-columns` writes it: the
/// input columns, then stage, scores and rule.
fn run_rows(leads: &Path) -> Vec<BTreeMap<String, String>> {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out.csv");
    let o = qualify(&[
        "run",
        POLICY,
        leads.to_str().unwrap(),
        "--keep-columns",
        "-q",
        "-o",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let mut reader = csv::Reader::from_path(&out).unwrap();
    let headers = reader.headers().unwrap().clone();
    reader
        .records()
        .map(|r| {
            let r = r.unwrap();
            headers
                .iter()
                .zip(r.iter())
                .map(|(h, v)| (h.to_string(), v.to_string()))
                .collect()
        })
        .collect()
}

fn won(r: &BTreeMap<String, String>) -> bool {
    r["Status"] == "Won"
}

fn stage<'a>(report: &'a Value, name: &str) -> &'a Value {
    report["stages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["stage"] == name)
        .unwrap_or_else(|| panic!("no stage {name} in {report}"))
}

fn close(a: &Value, b: f64) {
    let a = a.as_f64().unwrap();
    assert!((a - b).abs() < 1e-3, "{a} != {b}");
}

#[test]
fn stage_numbers_agree_with_an_independent_count() {
    let rows = run_rows(Path::new(LEADS));
    let report = backtest_json(&[POLICY, LEADS, "--outcome", "Status=Won"]);
    let order = ["unqualified", "MQL", "SQL"];
    let n = rows.len() as f64;
    let total = rows.iter().filter(|r| won(r)).count() as f64;
    assert_eq!(report["leads"], rows.len());
    assert_eq!(report["judged"], rows.len());
    assert_eq!(report["conversions"], total as u64);
    assert_eq!(report["outcome_missing"], 0);
    close(&report["base_rate"], total / n);
    for (rank, name) in order.iter().enumerate() {
        let in_stage: Vec<_> = rows.iter().filter(|r| r["stage"] == *name).collect();
        let conv = in_stage.iter().filter(|r| won(r)).count() as f64;
        let at_or_above = rows
            .iter()
            .filter(|r| order.iter().position(|s| *s == r["stage"]).unwrap() >= rank)
            .filter(|r| won(r))
            .count() as f64;
        let s = stage(&report, name);
        assert_eq!(s["leads"], in_stage.len(), "{name}");
        assert_eq!(s["conversions"], conv as u64, "{name}");
        close(&s["share"], in_stage.len() as f64 / n);
        close(&s["rate"], conv / in_stage.len() as f64);
        close(&s["recall"], at_or_above / total);
        close(&s["lift"], (conv / in_stage.len() as f64) / (total / n));
    }
    // Per rule: the leads each decided, as `run` names the deciding rule.
    for r in report["rules"].as_array().unwrap() {
        let name = r["rule"].as_str().unwrap_or("");
        let decided: Vec<_> = rows.iter().filter(|row| row["rule"] == name).collect();
        assert_eq!(r["leads"], decided.len(), "rule {name}");
        assert_eq!(
            r["conversions"],
            decided.iter().filter(|r| won(r)).count(),
            "{name}"
        );
    }
    // The sweep at the current threshold: leads with `deal strength >= 50`.
    let score = &report["scores"][0];
    assert_eq!(score["score"], "deal strength");
    let sweep = &score["thresholds"][0];
    assert_eq!(sweep["test"], "deal strength >= 50");
    let current: Vec<_> = sweep["sweep"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["current"] == true)
        .collect();
    assert_eq!(current.len(), 1);
    let passing: Vec<_> = rows
        .iter()
        .filter(|r| r["deal strength"].parse::<f64>().unwrap() >= 50.0)
        .collect();
    assert_eq!(current[0]["leads"], passing.len());
    assert_eq!(
        current[0]["conversions"],
        passing.iter().filter(|r| won(r)).count()
    );
    // Bands cover every lead once.
    let banded: u64 = score["bands"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["leads"].as_u64().unwrap())
        .sum();
    assert_eq!(banded, rows.len() as u64);
    // Strictness: converters left below SQL.
    let below = rows
        .iter()
        .filter(|r| r["stage"] != "SQL")
        .filter(|r| won(r))
        .count();
    assert_eq!(report["strictness"]["target"], "SQL");
    assert_eq!(report["strictness"]["converted_below_target"], below);
    let bant = &report["strictness"]["rules"][0];
    assert_eq!(bant["rule"], "bant");
    assert!(bant["blocked_converters"].as_u64().unwrap() <= below as u64);
}

#[test]
fn json_shape() {
    let report = backtest_json(&[POLICY, LEADS, "--outcome", "Status=Won"]);
    for key in [
        "outcome",
        "leads",
        "outcome_missing",
        "rejected",
        "judged",
        "conversions",
        "base_rate",
        "stages",
        "rules",
        "rules_deciding_none",
        "scores",
        "strictness",
        "warnings",
    ] {
        assert!(report.get(key).is_some(), "no `{key}` in {report}");
    }
    for key in [
        "stage",
        "leads",
        "share",
        "conversions",
        "rate",
        "recall",
        "lift",
    ] {
        assert!(report["stages"][0].get(key).is_some(), "stages[].{key}");
    }
    for key in [
        "rule",
        "clause",
        "blocked_converters",
        "would_reach_converters",
        "would_reach_non_converters",
    ] {
        assert!(
            report["strictness"]["rules"][0].get(key).is_some(),
            "strictness.rules[].{key}"
        );
    }
    // 60 leads, fewer than 30 conversions in some stage: a warning.
    assert!(!report["warnings"].as_array().unwrap().is_empty());
    assert_eq!(report["outcome"]["column"], "Status");
}

/// The sample with its `Status` column rewritten by `f` (line number from
/// 2, old value).
fn with_status(dir: &Path, f: impl Fn(usize, &str) -> String) -> std::path::PathBuf {
    let text = std::fs::read_to_string(LEADS).unwrap();
    let mut out = String::new();
    for (i, line) in text.lines().enumerate() {
        let (rest, status) = line.rsplit_once(';').unwrap();
        let status = if i == 0 {
            status.to_string()
        } else {
            f(i + 1, status)
        };
        out.push_str(&format!("{rest};{status}\n"));
    }
    let path = dir.join("leads.csv");
    std::fs::write(&path, out).unwrap();
    path
}

#[test]
fn missing_outcomes_are_counted_not_dropped() {
    let dir = tempfile::tempdir().unwrap();
    let path = with_status(dir.path(), |line, s| {
        if line % 10 == 0 {
            String::new()
        } else {
            s.to_string()
        }
    });
    let report = backtest_json(&[POLICY, path.to_str().unwrap(), "--outcome", "Status=Won"]);
    assert_eq!(report["leads"], 60);
    assert_eq!(report["outcome_missing"], 6);
    assert_eq!(report["judged"], 54);
    let per_stage: u64 = report["stages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["outcome_missing"].as_u64().unwrap())
        .sum();
    assert_eq!(per_stage, 6);
    let human = qualify(&[
        "backtest",
        POLICY,
        path.to_str().unwrap(),
        "--outcome",
        "Status=Won",
    ]);
    assert!(human.status.success());
    assert!(
        stdout(&human).contains("6 with no outcome"),
        "{}",
        stdout(&human)
    );
}

#[test]
fn yes_no_outcome_reads_like_a_field() {
    let dir = tempfile::tempdir().unwrap();
    let spellings = ["1", "Yes", "true", "y"];
    let nos = ["0", "No", "false", "n"];
    let path = with_status(dir.path(), |line, s| {
        if s == "Won" {
            spellings[line % 4].into()
        } else {
            nos[line % 4].into()
        }
    });
    let yes_no = backtest_json(&[POLICY, path.to_str().unwrap(), "--outcome", "Status"]);
    let words = backtest_json(&[POLICY, LEADS, "--outcome", "Status=Won"]);
    assert_eq!(yes_no["stages"], words["stages"]);
    assert_eq!(yes_no["conversions"], words["conversions"]);

    // A cell that is not yes/no is a bad row, with its line, column, value.
    let path = with_status(dir.path(), |line, s| {
        if line == 7 {
            "maybe".into()
        } else if s == "Won" {
            "Yes".into()
        } else {
            "No".into()
        }
    });
    let leads = path.to_str().unwrap();
    let out = qualify(&["backtest", POLICY, leads, "--outcome", "Status"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains("line 7, column \"Status\": `maybe` is not a yes/no value"),
        "{err}"
    );
    assert!(stdout(&out).is_empty());
    let out = qualify(&[
        "backtest",
        POLICY,
        leads,
        "--outcome",
        "Status",
        "--on-error",
        "skip",
        "--format",
        "json",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let report: Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(report["rejected"], 1);
    assert_eq!(report["leads"], 59);
    let rejects = dir.path().join("rejects.csv");
    let arg = format!("reject={}", rejects.display());
    let out = qualify(&[
        "backtest",
        POLICY,
        leads,
        "--outcome",
        "Status",
        "--on-error",
        &arg,
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = std::fs::read_to_string(&rejects).unwrap();
    assert_eq!(text.lines().count(), 2, "{text}");
    assert!(text.contains("maybe"));
}

#[test]
fn unknown_outcome_column_names_close_ones() {
    let out = qualify(&["backtest", POLICY, LEADS, "--outcome", "Statsu=Won"]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(err.contains("no column \"Statsu\""), "{err}");
    assert!(err.contains("\"Status\""), "{err}");
}

#[test]
fn unknown_target_lists_the_stages() {
    let out = qualify(&[
        "backtest",
        POLICY,
        LEADS,
        "--outcome",
        "Status=Won",
        "--target",
        "SLQ",
    ]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(err.contains("--target SLQ"), "{err}");
    assert!(err.contains("unqualified, MQL, SQL"), "{err}");
}

#[test]
fn target_stage_can_be_chosen() {
    let rows = run_rows(Path::new(LEADS));
    let report = backtest_json(&[POLICY, LEADS, "--outcome", "Status=Won", "--target", "MQL"]);
    let below = rows
        .iter()
        .filter(|r| r["stage"] == "unqualified" && r["Status"] == "Won")
        .count();
    assert_eq!(report["strictness"]["target"], "MQL");
    assert_eq!(report["strictness"]["converted_below_target"], below);
    // Both MQL rules are judged.
    assert_eq!(report["strictness"]["rules"].as_array().unwrap().len(), 2);
}

#[test]
fn help_shows_an_example() {
    let out = qualify(&["backtest", "--help"]);
    assert!(out.status.success());
    assert!(stdout(&out).contains("qualify backtest examples/salvirt/policy.qual"));
}
