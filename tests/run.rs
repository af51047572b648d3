//! `qualify run` and `qualify explain` end to end: every example through
//! the binary agrees with the reference interpreter; bad input is reported
//! with its line and column and never lost.

mod common;

use std::path::{Path, PathBuf};

use common::{policy, qualify, qualify_stdin, stderr, stdout};
use qualify::compile::Program;

const AS_OF: &str = "2026-06-01";
const B2B: &str = "examples/b2b-saas/policy.qual";

fn examples() -> Vec<(PathBuf, PathBuf)> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir("examples").unwrap() {
        let dir = entry.unwrap().path();
        let leads = ["leads.csv", "leads.jsonl"]
            .iter()
            .map(|n| dir.join(n))
            .find(|p| p.exists());
        let Some(leads) = leads else { continue };
        for name in ["policy.qual", "inbound.qual", "outbound.qual"] {
            if dir.join(name).exists() {
                out.push((dir.join(name), leads.clone()));
            }
        }
    }
    out.sort();
    assert!(out.len() >= 5, "{out:?}");
    out
}

/// For each example, every output line equals what the reference
/// interpreter decides for that lead, in input order.
#[test]
fn every_example_runs_and_agrees_with_the_reference_interpreter() {
    let as_of = qualify::check::policy::date_from_ymd(AS_OF).unwrap();
    for (policy_path, leads_path) in examples() {
        let (p, l) = (policy_path.to_str().unwrap(), leads_path.to_str().unwrap());
        let out = qualify(&["run", p, l, "--as-of", AS_OF, "--format", "jsonl"]);
        assert_eq!(out.status.code(), Some(0), "{p}: {}", stderr(&out));
        assert!(stderr(&out).contains("0 rejected"), "{p}: {}", stderr(&out));
        let policy = policy(p);
        let program = Program::compile(&policy);
        let loaded = qualify::leads::load(&leads_path, &policy, &program, None).unwrap();
        assert!(loaded.rejects.is_empty(), "{p}: {:?}", loaded.rejects);
        let lines: Vec<serde_json::Value> = stdout(&out)
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(lines.len(), loaded.rows.len(), "{p}");
        for (row, line) in loaded.rows.iter().zip(&lines) {
            let lead: Vec<_> = (0..policy.fields.len())
                .map(|f| row.owned_value(f))
                .collect();
            let expected = qualify::eval::evaluate(&policy, &lead, as_of);
            let stage = expected.stage.map(|s| policy.stages[s].name.clone());
            assert_eq!(
                line["stage"].as_str().map(str::to_string),
                stage,
                "{p}: {line}"
            );
            let rule = expected.rule.map(|r| policy.rules[r].display_name());
            assert_eq!(
                line["rule"].as_str().map(str::to_string),
                rule,
                "{p}: {line}"
            );
            for (s, score) in policy.scores.iter().enumerate() {
                assert_eq!(
                    line[&score.name].as_f64(),
                    Some(expected.scores[s]),
                    "{p}: {line}"
                );
            }
        }
    }
}

#[test]
fn the_output_format_follows_the_output_extension() {
    let dir = tempfile::tempdir().unwrap();
    let output = dir.path().join("out.jsonl");
    let out = qualify(&[
        "run",
        B2B,
        "examples/b2b-saas/leads.csv",
        "-o",
        output.to_str().unwrap(),
        "--as-of",
        AS_OF,
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = std::fs::read_to_string(&output).unwrap();
    let first: serde_json::Value = serde_json::from_str(text.lines().next().unwrap()).unwrap();
    assert_eq!(first["Lead ID"], "L-1001");
    assert_eq!(first["stage"], "MQL");
    assert_eq!(text.lines().count(), 40);
}

#[test]
fn csv_output_has_key_stage_scores_and_rule() {
    let out = qualify(&["run", B2B, "examples/b2b-saas/leads.csv", "--as-of", AS_OF]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some("Lead ID,stage,fit,engagement,rule"));
    assert_eq!(lines.next(), Some("L-1001,MQL,50,40,engaged fit"));
    assert_eq!(text.lines().count(), 41);
    assert!(stderr(&out).contains("40 leads: unqualified 16 · MQL 10 · SQL 14; 0 rejected"));
}

/// A file several chunks long, run on two threads: same rows, same order
/// as one thread.
#[test]
fn large_files_keep_input_order_across_threads() {
    let dir = tempfile::tempdir().unwrap();
    let source = std::fs::read_to_string("examples/b2b-saas/leads.csv").unwrap();
    let mut lines = source.lines();
    let header = lines.next().unwrap();
    let rows: Vec<&str> = lines.collect();
    let mut big = format!("{header}\n");
    for i in 0..40_000 {
        let row = rows[i % rows.len()];
        let rest = row.split_once(',').unwrap().1;
        big.push_str(&format!("L-{i},{rest}\n"));
    }
    assert!(big.len() > 2 << 20, "several 1 MiB chunks");
    let input = dir.path().join("big.csv");
    std::fs::write(&input, &big).unwrap();
    let input = input.to_str().unwrap();
    let one = qualify(&["run", B2B, input, "--as-of", AS_OF, "--threads", "1"]);
    let two = qualify(&["run", B2B, input, "--as-of", AS_OF, "--threads", "2"]);
    assert_eq!(one.status.code(), Some(0), "{}", stderr(&one));
    assert_eq!(stdout(&one), stdout(&two));
    let ids: Vec<String> = stdout(&two)
        .lines()
        .skip(1)
        .map(|l| l.split(',').next().unwrap().to_string())
        .collect();
    let expected: Vec<String> = (0..40_000).map(|i| format!("L-{i}")).collect();
    assert_eq!(ids, expected);
}

#[test]
fn a_missing_column_is_an_error_before_any_row_naming_the_closest_header() {
    let dir = tempfile::tempdir().unwrap();
    let source = std::fs::read_to_string("examples/b2b-saas/leads.csv").unwrap();
    let input = dir.path().join("renamed.csv");
    std::fs::write(&input, source.replacen("Employees", "Employes", 1)).unwrap();
    let out = qualify(&["run", B2B, input.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        stdout(&out),
        "",
        "nothing written before the header is checked"
    );
    let err = stderr(&out);
    assert!(
        err.contains("no column \"Employees\" (for field `company size`)"),
        "{err}"
    );
    assert!(err.contains("the closest column is \"Employes\""), "{err}");
}

fn bad_file(dir: &Path) -> PathBuf {
    let source = std::fs::read_to_string("examples/b2b-saas/leads.csv").unwrap();
    let mut lines: Vec<String> = source.lines().take(4).map(str::to_string).collect();
    // line 5: text in a number column; 6: too few fields; 7: an enum value
    // not in the list; 8: invalid UTF-8 (written below); 9: fine; 10-11: a
    // quote that never closes.
    lines.push("L-9,Acme,lots,saas,US,vp,100,Yes,urgent,,Yes,1,0,No,1,,CEO".into());
    lines.push("L-10,Acme,5,saas".into());
    lines.push("L-11,Acme,5,banking,US,vp,100,Yes,urgent,,Yes,1,0,No,1,,CEO".into());
    lines.push("L-12,Acme,42,saas,US,vp,100,Yes,urgent,,Yes,1,0,No,1,,UTF8HERE".into());
    lines.push("L-13,\"Acme, Inc.\",50,saas,US,vp,100,Yes,urgent,,Yes,1,0,No,1,,CEO".into());
    lines.push("L-14,\"Acme".into());
    lines.push("Corp,5,saas".into());
    let mut bytes = lines.join("\r\n").into_bytes();
    let at = bytes.windows(8).position(|w| w == b"UTF8HERE").unwrap();
    bytes.splice(at..at + 8, [b'C', 0xff, b'O']);
    let path = dir.join("bad.csv");
    std::fs::write(&path, bytes).unwrap();
    path
}

#[test]
fn on_error_fail_stops_at_the_first_bad_row_with_line_column_and_value() {
    let dir = tempfile::tempdir().unwrap();
    let input = bad_file(dir.path());
    let output = dir.path().join("out.csv");
    let out = qualify(&[
        "run",
        B2B,
        input.to_str().unwrap(),
        "-o",
        output.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.contains("line 5, column \"Employees\": `lots` is not a number"),
        "{err}"
    );
    assert!(err.contains("--on-error reject="), "{err}");
    assert!(!output.exists(), "no partial output is left behind");
}

#[test]
fn on_error_reject_accounts_for_every_row() {
    let dir = tempfile::tempdir().unwrap();
    let input = bad_file(dir.path());
    let (output, rejects) = (dir.path().join("out.csv"), dir.path().join("rejects.csv"));
    let out = qualify(&[
        "run",
        B2B,
        input.to_str().unwrap(),
        "-o",
        output.to_str().unwrap(),
        "--on-error",
        &format!("reject={}", rejects.display()),
        "--as-of",
        AS_OF,
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let err = stderr(&out);
    for expected in [
        "line 5, column \"Employees\": `lots` is not a number",
        "line 6: expected 17 fields, as in the header, but found 4",
        "line 7, column \"Industry\": `banking` is not one of the values of `industry`",
        "line 8, column \"Title\": the text is not valid UTF-8",
        "line 10: the file ends inside a quoted field",
        "4 leads: ",
        "5 rejected (written to",
    ] {
        assert!(err.contains(expected), "missing {expected:?} in\n{err}");
    }
    let written = std::fs::read_to_string(&output).unwrap();
    let ids: Vec<&str> = written
        .lines()
        .skip(1)
        .map(|l| l.split(',').next().unwrap())
        .collect();
    assert_eq!(ids, ["L-1001", "L-1002", "L-1003", "L-13"]);
    let rejected = std::fs::read(&rejects).unwrap();
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .from_reader(&rejected[..]);
    let header = reader.headers().unwrap().clone();
    assert_eq!(header.get(17), Some("qualify_line"));
    // Byte records: the rejected rows are kept exactly, invalid UTF-8 too.
    let lines: Vec<String> = reader
        .byte_records()
        .map(|r| {
            let r = r.unwrap();
            String::from_utf8_lossy(r.get(r.len() - 2).unwrap()).into_owned()
        })
        .collect();
    assert_eq!(lines, ["5", "6", "7", "8", "10"]);
}

#[test]
fn on_error_skip_counts_rows_it_leaves_out() {
    let dir = tempfile::tempdir().unwrap();
    let input = bad_file(dir.path());
    let out = qualify(&["run", B2B, input.to_str().unwrap(), "--on-error", "skip"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(
        stderr(&out).contains("5 rejected (skipped)"),
        "{}",
        stderr(&out)
    );
    assert_eq!(stdout(&out).lines().count(), 5);
}

#[test]
fn bom_crlf_and_quoted_newlines_are_read_with_true_line_numbers() {
    let dir = tempfile::tempdir().unwrap();
    let source = std::fs::read_to_string("examples/b2b-saas/leads.csv").unwrap();
    let header = source.lines().next().unwrap();
    let text = format!(
        "\u{feff}{header}\r\nL-1,\"Acme\r\nHoldings, \"\"West\"\"\",600,saas,US,vp,1000,Yes,urgent,,Yes,1,0,No,1,,\"Ops, Lead\"\r\nL-2,Acme,many,saas,US,vp,100,Yes,urgent,,Yes,1,0,No,1,,CEO\r\n"
    );
    let input = dir.path().join("quoted.csv");
    std::fs::write(&input, text).unwrap();
    let out = qualify(&[
        "run",
        B2B,
        input.to_str().unwrap(),
        "--keep-columns",
        "--on-error",
        "skip",
        "--as-of",
        AS_OF,
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    // The first record spans lines 2-3, so the bad one is on line 4.
    assert!(
        stderr(&out).contains("line 4, column \"Employees\""),
        "{}",
        stderr(&out)
    );
    let mut reader = csv::Reader::from_reader(out.stdout.as_slice());
    let headers = reader.headers().unwrap().clone();
    assert_eq!(
        headers.get(0),
        Some("Lead ID"),
        "the BOM is not part of the name"
    );
    assert_eq!(headers.get(17), Some("stage"));
    let row = reader.records().next().unwrap().unwrap();
    assert_eq!(row.get(1), Some("Acme\r\nHoldings, \"West\""));
    assert_eq!(row.get(16), Some("Ops, Lead"));
    assert_eq!(row.get(17), Some("SQL"));
}

#[test]
fn json_lines_json_arrays_and_stdin() {
    let jsonl = std::fs::read("examples/product-led/leads.jsonl").unwrap();
    let policy = "examples/product-led/policy.qual";
    let from_file = qualify(&[
        "run",
        policy,
        "examples/product-led/leads.jsonl",
        "--as-of",
        AS_OF,
    ]);
    assert_eq!(from_file.status.code(), Some(0), "{}", stderr(&from_file));
    let from_stdin = qualify_stdin(&["run", policy, "-", "--as-of", AS_OF], &jsonl);
    assert_eq!(
        stdout(&from_stdin),
        stdout(&from_file),
        "{}",
        stderr(&from_stdin)
    );

    let dir = tempfile::tempdir().unwrap();
    let objects: Vec<serde_json::Value> = String::from_utf8(jsonl)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let array = dir.path().join("leads.json");
    std::fs::write(&array, serde_json::to_string_pretty(&objects).unwrap()).unwrap();
    let from_array = qualify(&["run", policy, array.to_str().unwrap(), "--as-of", AS_OF]);
    assert_eq!(
        stdout(&from_array),
        stdout(&from_file),
        "{}",
        stderr(&from_array)
    );

    // Keys match ignoring case, as CSV headers do.
    let shouting = dir.path().join("shouting.jsonl");
    std::fs::write(
        &shouting,
        "{\"ACCOUNT_ID\": \"a\", \"Email\": \"x@y.z\", \"PLAN\": \"trial\", \"Active_Users\": 9}\n",
    )
    .unwrap();
    let out = qualify(&[
        "run",
        policy,
        shouting.to_str().unwrap(),
        "--format",
        "jsonl",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("\"account_id\":\"a\""),
        "{}",
        stdout(&out)
    );

    let broken = dir.path().join("broken.jsonl");
    std::fs::write(
        &broken,
        "{\"account_id\": \"a\", \"email\": \"x@y.z\", \"plan\": \"trial\"}\n{\"account_id\": \"b\",\n[1]\n",
    )
    .unwrap();
    let out = qualify(&[
        "run",
        policy,
        broken.to_str().unwrap(),
        "--on-error",
        "skip",
    ]);
    let err = stderr(&out);
    assert!(err.contains("line 2: not valid JSON"), "{err}");
    assert!(
        err.contains("line 3: each line must be a JSON object"),
        "{err}"
    );
    assert!(err.contains("1 lead: "), "{err}");
}

#[test]
fn explain_shows_the_deciding_rule_and_what_the_next_stage_needs() {
    let out = qualify(&[
        "explain",
        B2B,
        "examples/b2b-saas/leads.csv",
        "--id",
        "L-1003",
        "--as-of",
        AS_OF,
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    insta::assert_snapshot!("explain_l1003", stdout(&out));

    let json = qualify(&[
        "explain",
        B2B,
        "--lead",
        r#"{"lead id": "X", "budget": "$40,000", "demo requested": true}"#,
        "--format",
        "json",
        "--as-of",
        AS_OF,
    ]);
    let value: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(value["stage"], "SQL");
    assert_eq!(value["rule"]["name"], "ready to buy");
    assert_eq!(value["decided_by"]["condition"]["holds"], "true");
    assert_eq!(value["lead"]["budget"], 40000.0);

    // L-1003 is the third lead of the file.
    let by_row = qualify(&[
        "explain",
        B2B,
        "examples/b2b-saas/leads.csv",
        "--row",
        "3",
        "--as-of",
        AS_OF,
    ]);
    assert_eq!(stdout(&by_row), stdout(&out));

    let missing = qualify(&["explain", B2B, "examples/b2b-saas/leads.csv", "--id", "L-0"]);
    assert_eq!(missing.status.code(), Some(2));
    assert!(stderr(&missing).contains("no lead with ID `L-0`"));
    let typo = qualify(&["explain", B2B, "--lead", r#"{"budgt": 5}"#]);
    assert!(
        stderr(&typo).contains("did you mean `budget`?"),
        "{}",
        stderr(&typo)
    );
}

#[test]
fn results_without_a_key_field_say_so() {
    let dir = tempfile::tempdir().unwrap();
    let policy = dir.path().join("p.qual");
    std::fs::write(
        &policy,
        "field demo: bool from \"Demo\"\nstages cold < hot\notherwise cold\nrule asked: demo => hot\n",
    )
    .unwrap();
    let leads = dir.path().join("l.csv");
    std::fs::write(&leads, "Demo;Other\nyes;1\nno;2\n").unwrap();
    let out = qualify(&["run", policy.to_str().unwrap(), leads.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(
        stdout(&out),
        "stage,rule\nhot,asked\ncold,\n",
        "a `;` file is sniffed"
    );
    assert!(
        stderr(&out).contains("no field is marked `key`"),
        "{}",
        stderr(&out)
    );
}
