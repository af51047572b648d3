//! The `qualify` binary end to end, on real files.

mod common;

use std::path::Path;

use common::{qualify, stderr, stdout};

#[test]
fn check_passes_on_the_examples_and_fails_on_an_error() {
    let ok = qualify(&["check", "examples/b2b-saas"]);
    assert_eq!(ok.status.code(), Some(0), "{}", stderr(&ok));
    let bad = qualify(&["check", "tests/wrong/unknown_stage.qual"]);
    assert_eq!(bad.status.code(), Some(1));
    assert!(stderr(&bad).contains("Q0102"), "{}", stderr(&bad));
    assert!(stderr(&bad).contains("did you mean `SQL`?"));
}

#[test]
fn warnings_fail_only_with_deny_warnings() {
    let path = "tests/wrong/obsolete_overrides.qual";
    assert_eq!(qualify(&["check", path]).status.code(), Some(0));
    assert_eq!(
        qualify(&["check", "--deny-warnings", path]).status.code(),
        Some(1)
    );
}

#[test]
fn usage_errors_exit_with_two() {
    assert_eq!(qualify(&["check", "--no-such-flag"]).status.code(), Some(2));
    assert_eq!(qualify(&["check", "no/such/dir"]).status.code(), Some(2));
    assert_eq!(
        qualify(&["check", "--format", "xml", "."]).status.code(),
        Some(2)
    );
}

#[test]
fn json_format_lists_code_line_and_column() {
    let out = qualify(&[
        "check",
        "--format",
        "json",
        "tests/wrong/unknown_stage.qual",
    ]);
    let diags: serde_json::Value = serde_json::from_str(&stdout(&out)).expect("json");
    let d = &diags[0];
    assert_eq!(d["code"], "Q0102");
    assert_eq!(d["line"], 9);
    assert_eq!(d["column"], 19);
    assert_eq!(d["severity"], "error");
}

#[test]
fn github_format_prints_workflow_annotations() {
    let out = qualify(&[
        "check",
        "--format",
        "github",
        "tests/wrong/unknown_stage.qual",
    ]);
    let text = stdout(&out);
    assert!(
        text.starts_with("::error file=tests/wrong/unknown_stage.qual,line=9,col=19,endLine=9,endColumn=22,title=Q0102"),
        "{text}"
    );
    assert_eq!(text.lines().count(), 1, "one line per annotation: {text}");
}

#[test]
fn sarif_format_is_sarif_2_1_0() {
    let out = qualify(&[
        "check",
        "--format",
        "sarif",
        "tests/wrong/type_mismatch_date.qual",
    ]);
    let doc: serde_json::Value = serde_json::from_str(&stdout(&out)).expect("json");
    assert_eq!(doc["version"], "2.1.0");
    let run = &doc["runs"][0];
    assert_eq!(run["tool"]["driver"]["name"], "qualify");
    let result = &run["results"][0];
    assert_eq!(result["ruleId"], "Q0107");
    let index = result["ruleIndex"].as_u64().unwrap() as usize;
    assert_eq!(run["tool"]["driver"]["rules"][index]["id"], "Q0107");
    let region = &result["locations"][0]["physicalLocation"]["region"];
    assert_eq!(region["startLine"], 9);
    assert!(
        result["message"]["text"]
            .as_str()
            .unwrap()
            .contains("cannot compare")
    );
}

#[test]
fn fmt_check_names_files_and_fmt_rewrites_them() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("p.qual");
    std::fs::write(
        &path,
        "stages a<b\n# keep me\nfield x: bool   default false\nx=>b # why\n",
    )
    .unwrap();
    let p = path.to_str().unwrap();
    let check = qualify(&["fmt", "--check", p]);
    assert_eq!(check.status.code(), Some(1));
    assert!(
        stdout(&check).contains("would reformat"),
        "{}",
        stdout(&check)
    );
    assert_eq!(qualify(&["fmt", p]).status.code(), Some(0));
    let formatted = std::fs::read_to_string(&path).unwrap();
    assert_eq!(
        formatted,
        "stages a < b\n# keep me\nfield x: bool default false\nx => b  # why\n"
    );
    assert_eq!(qualify(&["fmt", "--check", p]).status.code(), Some(0));
}

#[test]
fn fmt_refuses_a_file_with_syntax_errors() {
    let out = qualify(&["fmt", "--check", "tests/wrong/syntax_missing_arrow.qual"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("Q0001"));
}

#[test]
fn failing_test_shows_expected_actual_and_deciding_rule() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("p.qual");
    std::fs::write(
        &path,
        "field demo: bool default false\nfield budget: money optional\nstages none < MQL < SQL\notherwise none\n\
         rule demo asked: demo => MQL\nrule money: budget known and budget > 1000 => SQL\n\
         test \"passes\" {\n  lead { demo: true }\n  expect MQL\n}\n\
         test \"fails\" {\n  lead { demo: true }\n  expect SQL\n}\n",
    )
    .unwrap();
    let out = qualify(&["test", path.to_str().unwrap()]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(text.contains("✓ passes"), "{text}");
    assert!(text.contains("✗ fails"), "{text}");
    assert!(
        text.contains("expected SQL, got MQL — decided by rule `demo asked`"),
        "{text}"
    );
    assert!(text.trim_end().ends_with("1 passed, 1 failed"), "{text}");
}

#[test]
fn examples_check_and_test_clean() {
    let check = qualify(&["check", "--deny-warnings", "examples"]);
    assert_eq!(check.status.code(), Some(0), "{}", stderr(&check));
    let test = qualify(&["test", "examples"]);
    assert_eq!(test.status.code(), Some(0), "{}", stdout(&test));
    assert!(stdout(&test).contains(" passed, 0 failed"));
}

#[test]
fn init_templates_pass_check_and_test_as_created() {
    for template in ["bant", "meddpicc", "plg"] {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join(template);
        let t = target.to_str().unwrap();
        let init = qualify(&["init", t, "--template", template]);
        assert_eq!(init.status.code(), Some(0), "{}", stderr(&init));
        for file in [
            "schema.qual",
            "policy.qual",
            "policy.test.qual",
            "leads.csv",
            ".github/workflows/qualify.yml",
        ] {
            assert!(Path::new(t).join(file).is_file(), "{template}: no {file}");
        }
        let check = qualify(&["check", "--deny-warnings", t]);
        assert_eq!(
            check.status.code(),
            Some(0),
            "{template}: {}",
            stderr(&check)
        );
        let test = qualify(&["test", t]);
        assert_eq!(test.status.code(), Some(0), "{template}: {}", stdout(&test));
        let summary = stdout(&test).lines().last().unwrap_or_default().to_string();
        assert!(
            !summary.starts_with("0 passed"),
            "{template} has no tests: {summary}"
        );
        // A second init refuses to overwrite.
        assert_eq!(
            qualify(&["init", t, "--template", template]).status.code(),
            Some(2)
        );
    }
}

#[test]
fn every_command_has_help_with_an_example() {
    for command in ["check", "fmt", "test", "init"] {
        let out = qualify(&[command, "--help"]);
        assert_eq!(out.status.code(), Some(0));
        assert!(
            stdout(&out).contains("Examples:"),
            "{command} --help has no example"
        );
    }
}

/// Standard output on a full disk: a clear error and exit 2, never a panic
/// (exit 101), for every command that prints results.
#[test]
fn a_full_disk_on_standard_output_is_an_error_not_a_panic() {
    if !Path::new("/dev/full").exists() {
        return; // not Linux
    }
    let commands: [&[&str]; 5] = [
        &[
            "compile",
            "examples/b2b-saas/policy.qual",
            "--dialect",
            "duckdb",
        ],
        &["check", "--format", "json", "examples/b2b-saas"],
        &[
            "explain",
            "examples/b2b-saas/policy.qual",
            "examples/b2b-saas/leads.csv",
            "--row",
            "1",
        ],
        &["test", "examples/b2b-saas"],
        &["fmt", "--check", "tests/wrong/unknown_stage.qual"],
    ];
    for args in commands {
        let full = std::fs::OpenOptions::new()
            .write(true)
            .open("/dev/full")
            .unwrap();
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_qualify"))
            .args(args)
            .stdout(full)
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        if args[0] == "fmt" {
            // Prints nothing to stdout for a file it cannot parse.
            continue;
        }
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(
            err.contains("cannot write to standard output"),
            "{args:?}: {err}"
        );
    }
}

#[test]
fn a_policy_with_a_byte_order_mark_checks_tests_and_keeps_its_mark() {
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string("examples/b2b-saas/policy.qual").unwrap();
    let path = dir.path().join("bom.qual");
    std::fs::write(&path, format!("\u{feff}{text}")).unwrap();
    let path = path.to_str().unwrap();
    let check = qualify(&["check", path]);
    assert_eq!(check.status.code(), Some(0), "{}", stderr(&check));
    let fmt = qualify(&["fmt", "--check", path]);
    assert_eq!(
        fmt.status.code(),
        Some(0),
        "{}{}",
        stdout(&fmt),
        stderr(&fmt)
    );
    let test = qualify(&["test", path]);
    assert_eq!(test.status.code(), Some(0), "{}", stderr(&test));
}

#[test]
fn a_policy_that_is_not_utf8_says_so_with_its_line() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("latin1.qual");
    std::fs::write(&path, b"field a: bool\nfield caf\xe9: bool\n").unwrap();
    let out = qualify(&["check", path.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("not UTF-8 text (line 2"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn a_misspelt_test_block_fails_and_a_run_without_tests_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let misspelt = dir.path().join("tset.qual");
    std::fs::write(
        &misspelt,
        "field a: bool\nstages x < y\ntset \"t\" {\n  lead { a: true }\n  expect y\n}\n",
    )
    .unwrap();
    let out = qualify(&["test", misspelt.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    assert!(
        stderr(&out).contains("did you mean `test`?"),
        "{}",
        stderr(&out)
    );

    let none = dir.path().join("none.qual");
    std::fs::write(&none, "field a: bool\nstages x < y\na => y\n").unwrap();
    let out = qualify(&["test", none.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("no tests found in"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn a_rule_with_an_unknown_stage_draws_no_follow_on_warnings() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("stage.qual");
    std::fs::write(
        &path,
        "field a: bool\nstages cold < hot\ncriterion keen: a\nrule r: keen => hto\n",
    )
    .unwrap();
    let out = qualify(&["check", path.to_str().unwrap()]);
    let err = stderr(&out);
    assert!(err.contains("Q0102"), "{err}");
    assert!(err.contains("1 error, 0 warnings"), "{err}");
}
