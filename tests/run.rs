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
        "lines 10–11: the file ends inside a quoted field",
        "4 leads: ",
        // Five records, six lines: the unclosed quote took two.
        "5 rejected (6 lines; written to",
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
    // Not flexible: every row has the header's cells (the short row is
    // padded), so `qualify_line` is always column 18.
    let mut reader = csv::Reader::from_reader(&rejected[..]);
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
        stderr(&out).contains("5 rejected (6 lines; skipped)"),
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

// ------------------------------------------------------------ issue 15

/// `n` leads made from the b2b-saas example rows (IDs `L-0`, `L-1`, …),
/// each passed through `edit(index, row)`, with `line_end` after every line
/// (the header too). `plain` keeps only the example rows without quotes.
fn leads_csv(
    n: usize,
    line_end: &str,
    plain: bool,
    edit: impl Fn(usize, String) -> String,
) -> String {
    let source = std::fs::read_to_string("examples/b2b-saas/leads.csv").unwrap();
    let mut lines = source.lines();
    let header = lines.next().unwrap();
    let rows: Vec<&str> = lines.filter(|l| !plain || !l.contains('"')).collect();
    let mut text = format!("{header}{line_end}");
    for i in 0..n {
        let rest = rows[i % rows.len()].split_once(',').unwrap().1;
        text.push_str(&edit(i, format!("L-{i},{rest}")));
        text.push_str(line_end);
    }
    text
}

/// Files in `dir` whose name says they are a run's temporary files.
fn temporary_files(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains(".qualify-"))
        .collect()
}

#[test]
fn an_output_or_rejects_file_that_is_the_input_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("leads.csv");
    std::fs::copy("examples/b2b-saas/leads.csv", &input).unwrap();
    let before = std::fs::read(&input).unwrap();
    let p = input.to_str().unwrap();
    let mut spellings = vec![
        input.clone(),
        dir.path()
            .join(".")
            .join("sub")
            .join("..")
            .join("leads.csv"),
        dir.path().join("hard-link.csv"),
    ];
    std::fs::create_dir(dir.path().join("sub")).unwrap();
    std::fs::hard_link(&input, &spellings[2]).unwrap();
    #[cfg(unix)]
    {
        let link = dir.path().join("symlink.csv");
        std::os::unix::fs::symlink(&input, &link).unwrap();
        spellings.push(link);
    }
    for same in &spellings {
        let same = same.to_str().unwrap();
        let out = qualify(&["run", B2B, p, "-o", same]);
        assert_eq!(out.status.code(), Some(2), "{same}: {}", stderr(&out));
        assert!(
            stderr(&out).contains("is the lead file itself"),
            "{}",
            stderr(&out)
        );
        let out = qualify(&["run", B2B, p, "--on-error", &format!("reject={same}")]);
        assert_eq!(out.status.code(), Some(2), "{same}: {}", stderr(&out));
        assert!(
            stderr(&out).contains("is the lead file itself"),
            "{}",
            stderr(&out)
        );
        assert_eq!(stdout(&out), "", "nothing is run");
    }
    assert_eq!(
        std::fs::read(&input).unwrap(),
        before,
        "the leads are intact"
    );

    // Results and rejects in one file: the rejects would overwrite them.
    let both = dir.path().join("both.csv");
    let b = both.to_str().unwrap();
    let out = qualify(&["run", B2B, p, "-o", b, "--on-error", &format!("reject={b}")]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("are the same file"),
        "{}",
        stderr(&out)
    );
    assert!(!both.exists());

    // `>> leads.csv` would read its own results.
    #[cfg(unix)]
    {
        let appending = std::fs::OpenOptions::new()
            .append(true)
            .open(&input)
            .unwrap();
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_qualify"))
            .args(["run", B2B, p])
            .stdout(appending)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2));
        assert!(
            stderr(&out).contains("standard output goes to the lead file"),
            "{}",
            stderr(&out)
        );
        assert_eq!(std::fs::read(&input).unwrap(), before);
    }
}

#[test]
fn a_quote_inside_a_cell_is_a_plain_character_and_no_lead_is_lost() {
    let dir = tempfile::tempdir().unwrap();
    let text = leads_csv(200_000, "\n", false, |i, row| match i {
        // A quote in an unquoted cell, in a column no rule reads.
        1000 => row.replacen(",Wayne Enterprises,", ",Wayne 5\" Enterprises,", 1),
        // Text after a closing quote: the `csv` crate keeps it.
        1001 => row.replacen(",Wayne Enterprises,", ",\"Wayne\" Enterprises,", 1),
        _ => row,
    });
    assert!(text.contains("L-1000,Wayne 5\" Enterprises,"));
    assert!(text.contains("L-1001,\"Wayne\" Enterprises,"));
    let input = dir.path().join("stray.csv");
    std::fs::write(&input, &text).unwrap();
    let output = dir.path().join("out.csv");
    let out = qualify(&[
        "run",
        B2B,
        input.to_str().unwrap(),
        "--on-error",
        "skip",
        "--keep-columns",
        "-o",
        output.to_str().unwrap(),
        "--as-of",
        AS_OF,
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("200,000 leads: "), "{err}");
    assert!(err.contains("; 0 rejected (skipped)"), "{err}");
    // Cell for cell what the `csv` crate reads.
    let mut expected = csv::Reader::from_reader(text.as_bytes());
    let mut got = csv::Reader::from_reader(std::fs::File::open(&output).unwrap());
    let mut rows = 0;
    for (want, have) in expected.records().zip(got.records()) {
        let (want, have) = (want.unwrap(), have.unwrap());
        assert_eq!(
            have.iter().take(want.len()).collect::<Vec<_>>(),
            want.iter().collect::<Vec<_>>()
        );
        rows += 1;
    }
    assert_eq!(rows, 200_000);
    let text = std::fs::read_to_string(&output).unwrap();
    assert!(
        text.contains("\nL-1000,\"Wayne 5\"\" Enterprises\","),
        "re-quoted"
    );
    assert!(text.contains("\nL-1001,Wayne Enterprises,"));
}

#[test]
fn a_quote_that_never_closes_is_reported_and_counted_with_every_line_it_took() {
    let dir = tempfile::tempdir().unwrap();
    // Lead 9 (line 11) opens a quoted field that is never closed: the
    // rest of the file is one record.
    let text = leads_csv(1000, "\n", true, |i, row| {
        if i == 9 {
            row.replacen("L-9,", "L-9,\"", 1)
        } else {
            row
        }
    });
    let input = dir.path().join("open.csv");
    std::fs::write(&input, &text).unwrap();
    let out = qualify(&["run", B2B, input.to_str().unwrap(), "--on-error", "skip"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains("warning: lines 11–1001: the file ends inside a quoted field"),
        "{err}"
    );
    // 9 leads + 991 lines rejected = the 1,000 leads of the file.
    assert!(err.contains("9 leads: "), "{err}");
    assert!(err.contains("; 1 rejected (991 lines; skipped)"), "{err}");

    // Closed ten lines later by a quoted cell: one record over 11 lines,
    // with far too many fields.
    let text = leads_csv(1000, "\n", true, |i, row| match i {
        9 => row.replacen("L-9,", "L-9,\"", 1),
        19 => row.replacen("L-19,", "L-19,\"x\",", 1),
        _ => row,
    });
    std::fs::write(&input, &text).unwrap();
    let rejects = dir.path().join("rejects.csv");
    let out = qualify(&[
        "run",
        B2B,
        input.to_str().unwrap(),
        "--on-error",
        &format!("reject={}", rejects.display()),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains("warning: lines 11–21: expected 17 fields, as in the header, but found"),
        "{err}"
    );
    assert!(
        err.contains("a quote (\") that starts a field is closed only on a later line"),
        "{err}"
    );
    assert!(err.contains("989 leads: "), "{err}");
    assert!(err.contains("; 1 rejected (11 lines; written to"), "{err}");
}

#[test]
fn carriage_return_line_ends_old_mac_and_excel_are_read() {
    let dir = tempfile::tempdir().unwrap();
    let lf = dir.path().join("lf.csv");
    std::fs::write(&lf, leads_csv(1000, "\n", false, |_, r| r)).unwrap();
    let reference = qualify(&["run", B2B, lf.to_str().unwrap(), "--as-of", AS_OF]);
    assert_eq!(reference.status.code(), Some(0), "{}", stderr(&reference));
    let cr = dir.path().join("cr.csv");
    std::fs::write(&cr, leads_csv(1000, "\r", false, |_, r| r)).unwrap();
    let out = qualify(&["run", B2B, cr.to_str().unwrap(), "--as-of", AS_OF]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stderr(&out).contains("1,000 leads: "), "{}", stderr(&out));
    assert_eq!(stdout(&out), stdout(&reference));

    // Mixed line ends, and a bad row: its line number counts every kind.
    let ends = ["\n", "\r\n", "\r"];
    let mut text = leads_csv(0, "\r", false, |_, r| r);
    let rows = leads_csv(1000, "\n", false, |i, row| {
        if i == 499 {
            "L-499,Acme,lots,saas,US,vp,100,Yes,urgent,,Yes,1,0,No,1,,CEO".to_string()
        } else {
            row
        }
    });
    for (i, row) in rows.lines().skip(1).enumerate() {
        text.push_str(row);
        text.push_str(ends[i % 3]);
    }
    let mixed = dir.path().join("mixed.csv");
    std::fs::write(&mixed, &text).unwrap();
    let out = qualify(&[
        "run",
        B2B,
        mixed.to_str().unwrap(),
        "--on-error",
        "skip",
        "--as-of",
        AS_OF,
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains("warning: line 501, column \"Employees\": `lots`"),
        "{err}"
    );
    assert!(err.contains("999 leads: "), "{err}");
    assert_eq!(stdout(&out).lines().count(), 1000);
}

#[test]
fn a_failed_run_leaves_an_existing_file_as_it_was_and_no_temporary_file() {
    let dir = tempfile::tempdir().unwrap();
    let input = bad_file(dir.path());
    let (output, rejects) = (dir.path().join("out.csv"), dir.path().join("rejects.csv"));
    std::fs::write(&output, "yesterday's results\n").unwrap();
    let out = qualify(&[
        "run",
        B2B,
        input.to_str().unwrap(),
        "-o",
        output.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(err.contains("nothing was written to"), "{err}");
    assert!(err.contains("out.csv (left as it was)"), "{err}");
    assert_eq!(
        std::fs::read_to_string(&output).unwrap(),
        "yesterday's results\n"
    );
    assert_eq!(temporary_files(dir.path()), Vec::<String>::new());

    // A run that succeeds replaces both files whole.
    std::fs::write(&rejects, "old rejects\n").unwrap();
    let out = qualify(&[
        "run",
        B2B,
        input.to_str().unwrap(),
        "-o",
        output.to_str().unwrap(),
        "--on-error",
        &format!("reject={}", rejects.display()),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        std::fs::read(&output)
            .unwrap()
            .starts_with(b"Lead ID,stage,")
    );
    assert!(
        std::fs::read(&rejects)
            .unwrap()
            .starts_with(b"Lead ID,Company,")
    );
    assert_eq!(temporary_files(dir.path()), Vec::<String>::new());

    // A JSON array cut short: with the default `fail`, no partial results.
    let objects: Vec<serde_json::Value> =
        std::fs::read_to_string("examples/product-led/leads.jsonl")
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
    let array = serde_json::to_string_pretty(&objects).unwrap();
    let truncated = dir.path().join("cut.json");
    std::fs::write(&truncated, &array[..array.len() / 2]).unwrap();
    let json_out = dir.path().join("out.jsonl");
    let out = qualify(&[
        "run",
        "examples/product-led/policy.qual",
        truncated.to_str().unwrap(),
        "-o",
        json_out.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("the JSON array is invalid"),
        "{}",
        stderr(&out)
    );
    assert!(
        stderr(&out).contains("out.jsonl (not created)"),
        "{}",
        stderr(&out)
    );
    assert!(!json_out.exists());
    assert_eq!(temporary_files(dir.path()), Vec::<String>::new());
}

#[test]
fn with_fail_standard_output_stops_at_the_first_bad_row_and_says_what_was_not_written() {
    let dir = tempfile::tempdir().unwrap();
    // Several 1 MiB chunks; bad rows at leads 20,000 and 30,000.
    let text = leads_csv(40_000, "\n", true, |i, row| {
        if i == 20_000 || i == 30_000 {
            row.replacen(",", ",x,", 1)
        } else {
            row
        }
    });
    assert!(text.len() > 3 << 20);
    let input = dir.path().join("leads.csv");
    std::fs::write(&input, &text).unwrap();
    let out = qualify(&["run", B2B, input.to_str().unwrap(), "--as-of", AS_OF]);
    assert_eq!(out.status.code(), Some(1));
    let printed = stdout(&out);
    let ids: Vec<&str> = printed
        .lines()
        .skip(1)
        .map(|l| l.split(',').next().unwrap())
        .collect();
    let expected: Vec<String> = (0..20_000).map(|i| format!("L-{i}")).collect();
    assert_eq!(
        ids, expected,
        "a clean prefix: every lead before the bad row, none after"
    );
    let err = stderr(&out);
    assert!(err.contains("error: "), "{err}");
    assert!(err.contains("line 20002: expected 17 fields"), "{err}");
    assert!(
        err.contains("line 30002: expected 17 fields"),
        "later bad rows are named too: {err}"
    );
    assert!(
        err.contains("2 bad rows; with `--on-error fail` the results on standard output stop before line 20002: 20,000 leads before it were written; 19,998 leads and 2 bad rows from there on were not"),
        "{err}"
    );
}

#[test]
fn rejects_files_keep_the_header_shape_and_load_in_csv_readers() {
    let dir = tempfile::tempdir().unwrap();
    let source = std::fs::read_to_string("examples/b2b-saas/leads.csv").unwrap();
    let header = source.lines().next().unwrap();
    let text = [
        header,
        "L-1,Acme,5,saas",
        "L-2,Acme,5,saas,US,vp,100,Yes,urgent,,Yes,1,0,No,1,,CEO,\"extra, quoted\",more",
        "L-3,Wayne 5\" Enterprises,lots,saas,US,vp,100,Yes,urgent,,Yes,1,0,No,1,,CEO",
        "L-4,Acme,5,saas,US,vp,100,Yes,urgent,,Yes,1,0,No,1,,CEO",
        "L-5,\"Acme",
    ]
    .join("\n");
    let input = dir.path().join("leads.csv");
    std::fs::write(&input, &text).unwrap();
    let rejects = dir.path().join("rejects.csv");
    let out = qualify(&[
        "run",
        B2B,
        input.to_str().unwrap(),
        "--on-error",
        &format!("reject={}", rejects.display()),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stderr(&out).contains("1 lead: "), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("4 rejected (written to"),
        "{}",
        stderr(&out)
    );
    // A strict reader: every row has exactly the header's 19 cells.
    let mut reader = csv::Reader::from_path(&rejects).unwrap();
    let names = reader.headers().unwrap().clone();
    assert_eq!(names.len(), 19);
    assert_eq!((&names[17], &names[18]), ("qualify_line", "qualify_error"));
    let rows: Vec<csv::StringRecord> = reader.records().map(|r| r.unwrap()).collect();
    let lines: Vec<&str> = rows.iter().map(|r| &r[17]).collect();
    assert_eq!(lines, ["2", "3", "4", "6"]);
    // Too few cells: padded with empty ones.
    assert_eq!(&rows[0][3], "saas");
    assert_eq!(&rows[0][16], "");
    assert!(rows[0][18].contains("expected 17 fields"));
    // Too many: the last column holds the rest of the record as it was.
    assert_eq!(&rows[1][16], "CEO,\"extra, quoted\",more");
    assert!(rows[1][18].contains("but found 19"));
    // A quote inside a cell reads back as the same text.
    assert_eq!(&rows[2][1], "Wayne 5\" Enterprises");
    assert!(rows[2][18].contains("`lots` is not a number"));
    // The unclosed quote is closed, and the record padded.
    assert_eq!(&rows[3][1], "Acme");
    assert!(rows[3][18].contains("the file ends inside a quoted field"));

    // DuckDB's reader (with its sniffer) agrees, when a Python with duckdb is around.
    let python = [
        std::env::var("QUALIFY_DUCKDB_PYTHON").unwrap_or_default(),
        format!(
            "{}/target/bench-venv/bin/python",
            env!("CARGO_MANIFEST_DIR")
        ),
        "python3".into(),
    ]
    .into_iter()
    .filter(|p| !p.is_empty())
    .find(|p| {
        std::process::Command::new(p)
            .args(["-c", "import duckdb"])
            .output()
            .is_ok_and(|o| o.status.success())
    });
    match python {
        Some(python) => {
            let script = format!(
                "import duckdb; print(duckdb.sql(\"select count(*), string_agg(qualify_line::varchar, ' ') from read_csv('{}')\").fetchall()[0])",
                rejects.display()
            );
            let out = std::process::Command::new(python)
                .args(["-c", &script])
                .output()
                .unwrap();
            assert!(out.status.success(), "{}", stderr(&out));
            assert_eq!(stdout(&out).trim(), "(4, '2 3 4 6')");
        }
        None => eprintln!("skipping the DuckDB check: no Python with duckdb"),
    }
}

#[test]
fn duplicate_header_names_are_refused_when_read_and_named_when_kept() {
    let dir = tempfile::tempdir().unwrap();
    let source = std::fs::read_to_string("examples/b2b-saas/leads.csv").unwrap();
    let read_twice: String = source
        .lines()
        .enumerate()
        .map(|(i, l)| {
            if i == 0 {
                format!("{l},Employees\n")
            } else {
                format!("{l},7\n")
            }
        })
        .collect();
    let input = dir.path().join("twice.csv");
    std::fs::write(&input, read_twice).unwrap();
    let out = qualify(&["run", B2B, input.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(stdout(&out), "");
    assert!(
        stderr(&out).contains("column \"Employees\" (for field `company size`) is in the header twice: as columns 3 and 18"),
        "{}",
        stderr(&out)
    );

    // A column no field reads: a warning; kept under two names.
    let policy = dir.path().join("p.qual");
    std::fs::write(
        &policy,
        "field id: string key from \"Id\"\nfield demo: bool from \"Demo\"\nstages cold < hot\notherwise cold\nrule asked: demo => hot\n",
    )
    .unwrap();
    let leads = dir.path().join("l.csv");
    std::fs::write(&leads, "Id,Notes,Demo,Notes\n1,first,yes,second\n").unwrap();
    let (p, l) = (policy.to_str().unwrap(), leads.to_str().unwrap());
    let csv_out = qualify(&["run", p, l, "--keep-columns"]);
    assert_eq!(csv_out.status.code(), Some(0), "{}", stderr(&csv_out));
    assert!(
        stderr(&csv_out).contains("warning: ")
            && stderr(&csv_out).contains("the header has \"Notes\" twice, as columns 2 and 4; the output calls the second \"Notes (column 4)\""),
        "{}",
        stderr(&csv_out)
    );
    assert_eq!(
        stdout(&csv_out),
        "Id,Notes,Demo,Notes (column 4),stage,rule\n1,first,yes,second,hot,asked\n"
    );
    let json_out = qualify(&["run", p, l, "--keep-columns", "--format", "jsonl"]);
    let value: serde_json::Value = serde_json::from_str(stdout(&json_out).trim()).unwrap();
    assert_eq!(value["Notes"], "first");
    assert_eq!(value["Notes (column 4)"], "second");
}

#[test]
fn result_columns_that_clash_with_input_columns_are_renamed_alike_in_csv_and_json_lines() {
    let dir = tempfile::tempdir().unwrap();
    let policy = dir.path().join("p.qual");
    std::fs::write(
        &policy,
        "field id: string key from \"Id\"\nfield demo: bool from \"Demo\"\nstages cold < hot\notherwise cold\nrule asked: demo => hot\n",
    )
    .unwrap();
    let p = policy.to_str().unwrap();
    let leads = dir.path().join("l.csv");
    std::fs::write(&leads, "Id,Demo,stage,qualify_stage\n1,yes,old,older\n").unwrap();
    let l = leads.to_str().unwrap();
    let csv_out = qualify(&["run", p, l, "--keep-columns"]);
    assert_eq!(
        stdout(&csv_out),
        "Id,Demo,stage,qualify_stage,qualify_qualify_stage,rule\n1,yes,old,older,hot,asked\n"
    );
    let json_out = qualify(&["run", p, l, "--keep-columns", "--format", "jsonl"]);
    let value: serde_json::Value = serde_json::from_str(stdout(&json_out).trim()).unwrap();
    assert_eq!(
        value,
        serde_json::json!({"Id": "1", "Demo": "yes", "stage": "old", "qualify_stage": "older",
            "qualify_qualify_stage": "hot", "rule": "asked"})
    );

    // JSON input: the first record's keys are the input columns.
    let jsonl = dir.path().join("l.jsonl");
    std::fs::write(
        &jsonl,
        "{\"Id\": \"1\", \"Demo\": \"yes\", \"rule\": \"r\", \"stage\": \"old\"}\n{\"Id\": \"2\", \"Demo\": \"no\", \"extra\": 1}\n",
    )
    .unwrap();
    let j = jsonl.to_str().unwrap();
    let csv_out = qualify(&["run", p, j, "--keep-columns"]);
    assert_eq!(csv_out.status.code(), Some(0), "{}", stderr(&csv_out));
    assert_eq!(
        stdout(&csv_out),
        "Demo,Id,rule,stage,qualify_stage,qualify_rule\nyes,1,r,old,hot,asked\nno,2,,,cold,\n"
    );
    assert!(
        stderr(&csv_out).contains("line 2 has a key \"extra\" that the first record lacks"),
        "{}",
        stderr(&csv_out)
    );
    let json_out = qualify(&["run", p, j, "--keep-columns", "--format", "jsonl"]);
    let first: serde_json::Value =
        serde_json::from_str(stdout(&json_out).lines().next().unwrap()).unwrap();
    assert_eq!(
        first,
        serde_json::json!({"Demo": "yes", "Id": "1", "rule": "r", "stage": "old",
            "qualify_stage": "hot", "qualify_rule": "asked"})
    );
}

/// A JSON record that gives a column twice (exactly, or in another case,
/// which `json_get` would match too) is rejected, as a CSV header with a
/// column twice is refused: which value to read would be a guess.
#[test]
fn json_records_with_a_key_twice_are_rejected_not_guessed() {
    let dir = tempfile::tempdir().unwrap();
    let policy = dir.path().join("p.qual");
    std::fs::write(
        &policy,
        "field lead id: string key from \"Lead ID\"\nfield demo: bool from \"Demo\" default false\nstages cold < hot\notherwise cold\ndemo => hot\n",
    )
    .unwrap();
    let leads = dir.path().join("l.jsonl");
    std::fs::write(
        &leads,
        "{\"Lead ID\":\"L1\",\"Demo\":\"yes\",\"Demo\":\"no\"}\n{\"Lead ID\":\"L2\",\"Demo\":true}\n{\"Lead ID\":\"L3\",\"demo\":\"yes\",\"DEMO\":\"no\"}\n",
    )
    .unwrap();
    let out = qualify(&[
        "run",
        policy.to_str().unwrap(),
        leads.to_str().unwrap(),
        "--on-error",
        "skip",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(stdout(&out).lines().count(), 2, "{}", stdout(&out));
    let err = stderr(&out);
    assert!(
        err.contains("line 1: the key \"Demo\" is in this record twice"),
        "{err}"
    );
    assert!(
        err.contains("line 3: the keys \"demo\" and \"DEMO\" name the same column"),
        "{err}"
    );
    assert!(err.contains("2 rejected"), "{err}");
}

// ------------------------------------------------------------ issue 16

/// An unnamed rule is named by its stage and its place among that stage's
/// rules, so edits elsewhere in the policy do not rename it in the output.
#[test]
fn unnamed_rules_keep_their_names_when_other_lines_move() {
    let dir = tempfile::tempdir().unwrap();
    let leads = dir.path().join("l.csv");
    std::fs::write(
        &leads,
        "Demo,Size,Student\nyes,10,no\nno,500,no\nyes,10,yes\n",
    )
    .unwrap();
    let run = |text: &str| {
        let policy = dir.path().join("p.qual");
        std::fs::write(&policy, text).unwrap();
        let out = qualify(&["run", policy.to_str().unwrap(), leads.to_str().unwrap()]);
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        stdout(&out)
    };
    let before = run("field demo: bool from \"Demo\"\n\
         field size: integer from \"Size\"\n\
         field student: bool from \"Student\"\n\
         stages cold < warm < hot\n\
         otherwise cold\n\
         demo => hot\n\
         size > 100 => hot\n\
         student => at most cold\n");
    assert_eq!(
        before,
        "stage,rule\nhot,hot rule 1\nhot,hot rule 2\ncold,at most cold rule 1\n"
    );
    let after = run("# Fields from the CRM export\n\
         field demo: bool from \"Demo\"\n\n\
         field size: integer from \"Size\"\n\
         field student: bool from \"Student\"\n\
         stages cold < warm < hot\n\
         otherwise cold\n\
         size > 1 => warm\n\
         # a comment between rules\n\
         demo => hot\n\
         size > 100 => hot\n\
         student => at most cold\n");
    assert_eq!(after, before, "no unnamed rule was renamed");
}
