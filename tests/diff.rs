//! `qualify diff` through the binary: the migration matrix and rule counts
//! against an independent count over two `qualify run` outputs, every moved
//! lead in CSV, policies read from git (`REV:path`, with imports), the error
//! cases, and markdown that text from a policy or a lead file cannot break.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::{qualify, stderr, stdout};
use serde_json::Value;

const SALVIRT: &str = "examples/salvirt/policy.qual";
const SALVIRT_LEADS: &str = "examples/salvirt/leads.csv";
const B2B: &str = "examples/b2b-saas/policy.qual";
const B2B_LEADS: &str = "examples/b2b-saas/leads.csv";
const AS_OF: &str = "2026-06-01";

/// `text` with each `(from, to)` replaced; every `from` must be there.
fn edited(text: &str, edits: &[(&str, &str)]) -> String {
    let mut text = text.to_string();
    for (from, to) in edits {
        assert!(text.contains(from), "no `{from}` to edit");
        text = text.replace(from, to);
    }
    text
}

/// A copy of `policy` with `edits`, in `dir`.
fn edited_policy(dir: &Path, policy: &str, edits: &[(&str, &str)]) -> PathBuf {
    let text = std::fs::read_to_string(policy).unwrap();
    let path = dir.join("new.qual");
    std::fs::write(&path, edited(&text, edits)).unwrap();
    path
}

/// The salvirt policy with a lower MQL threshold, a wider disqualifier,
/// a looser SQL rule, one rule renamed and one added.
fn salvirt_changed(dir: &Path) -> PathBuf {
    edited_policy(
        dir,
        SALVIRT,
        &[
            ("deal strength >= 50 => MQL", "deal strength >= 30 => MQL"),
            (
                "needs defined in { No, Poor }",
                "needs defined in { No, Poor, \"Info gathering\" }",
            ),
            (
                "budget allocated and need and decision maker and competitors known and not competitors => SQL",
                "budget allocated and need and decision maker and not competitors => SQL",
            ),
            ("rule defined need:", "rule current client need:"),
            (
                "rule no need:",
                "rule big partner: partnership and company size = Big => SQL\nrule no need:",
            ),
        ],
    )
}

fn diff_json(args: &[&str]) -> Value {
    let mut all = vec!["diff"];
    all.extend_from_slice(args);
    all.extend_from_slice(&["--format", "json"]);
    let out = qualify(&all);
    assert!(out.status.success(), "{}", stderr(&out));
    serde_json::from_str(&stdout(&out)).expect("diff --format json prints JSON")
}

/// Each lead as `qualify run --keep-columns` writes it.
fn run_rows(policy: &Path, leads: &str) -> Vec<BTreeMap<String, String>> {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out.csv");
    let o = qualify(&[
        "run",
        policy.to_str().unwrap(),
        leads,
        "--keep-columns",
        "--as-of",
        AS_OF,
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

/// `(no stage)` for an empty stage cell, as the diff names it.
fn stage_of(row: &BTreeMap<String, String>) -> String {
    match row["stage"].as_str() {
        "" => "(no stage)".into(),
        s => s.into(),
    }
}

#[test]
fn matrix_and_rules_agree_with_two_runs() {
    let dir = tempfile::tempdir().unwrap();
    let new = salvirt_changed(dir.path());
    let before = run_rows(Path::new(SALVIRT), SALVIRT_LEADS);
    let after = run_rows(&new, SALVIRT_LEADS);
    assert_eq!(before.len(), after.len());
    let report = diff_json(&[
        SALVIRT,
        new.to_str().unwrap(),
        SALVIRT_LEADS,
        "--outcome",
        "Status=Won",
        "--as-of",
        AS_OF,
    ]);

    // Independent count of (old stage, new stage) pairs and conversions.
    let mut pairs: BTreeMap<(String, String), (u64, u64)> = BTreeMap::new();
    for (b, a) in before.iter().zip(&after) {
        let e = pairs.entry((stage_of(b), stage_of(a))).or_default();
        e.0 += 1;
        e.1 += u64::from(b["Status"] == "Won");
    }
    let stages: Vec<String> = report["stages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap().to_string())
        .collect();
    assert_eq!(stages, ["unqualified", "MQL", "SQL"]);
    let mut moved = 0;
    for (o, old) in stages.iter().enumerate() {
        for (n, new) in stages.iter().enumerate() {
            let (leads, conv) = pairs
                .get(&(old.clone(), new.clone()))
                .copied()
                .unwrap_or_default();
            let cell = &report["matrix"][o][n];
            assert_eq!(cell["leads"], leads, "{old} → {new}");
            assert_eq!(cell["converted"], conv, "{old} → {new}");
            if o != n {
                moved += leads;
            }
        }
    }
    assert!(moved > 0, "the change moves some leads");
    assert_eq!(report["moved"], moved);
    assert_eq!(report["total"], before.len());
    assert_eq!(report["rejected"], 0);
    assert_eq!(report["outcome_missing"], 0);

    // Every moved lead is listed, with its line and both deciding rules.
    let listed = report["moved_leads"].as_array().unwrap();
    assert_eq!(listed.len() as u64, moved);
    for m in listed {
        let i = m["line"].as_u64().unwrap() as usize - 2;
        let rule = |r: &BTreeMap<String, String>| match r["rule"].as_str() {
            "" => Value::Null,
            s => Value::from(s),
        };
        assert_eq!(m["old_stage"], stage_of(&before[i]).as_str());
        assert_eq!(m["new_stage"], stage_of(&after[i]).as_str());
        assert_eq!(m["old_rule"], rule(&before[i]));
        assert_eq!(m["new_rule"], rule(&after[i]));
        assert_eq!(m["converted"], before[i]["Status"] == "Won");
    }

    // Rules: leads decided before and after, as `run` names the rule.
    let decided = |rows: &[BTreeMap<String, String>], name: &str| {
        rows.iter().filter(|r| r["rule"] == name).count() as u64
    };
    let rules = report["rules"].as_array().unwrap();
    let find = |name: &str| {
        rules
            .iter()
            .find(|r| r["name"] == name)
            .unwrap_or_else(|| panic!("no rule {name} in {rules:?}"))
    };
    for r in rules {
        let name = r["name"].as_str().unwrap();
        match r["change"].as_str().unwrap() {
            "added" => {
                assert!(r["old_leads"].is_null());
                assert_eq!(r["new_leads"], decided(&after, name), "{name}");
            }
            "removed" => {
                assert!(r["new_leads"].is_null());
                assert_eq!(r["old_leads"], decided(&before, name), "{name}");
            }
            change => {
                let (o, n) = (decided(&before, name), decided(&after, name));
                assert_eq!(r["old_leads"], o, "{name}");
                assert_eq!(r["new_leads"], n, "{name}");
                let expected = match n.cmp(&o) {
                    std::cmp::Ordering::Greater => "more",
                    std::cmp::Ordering::Less => "fewer",
                    std::cmp::Ordering::Equal => "same",
                };
                assert_eq!(change, expected, "{name}");
            }
        }
    }
    assert_eq!(find("big partner")["change"], "added");
    assert_eq!(find("defined need")["change"], "removed");
    assert_eq!(find("current client need")["change"], "added");
    assert_eq!(find("strong deal")["change"], "more");
    assert_eq!(find("strong deal")["condition_changed"], true);
    assert_eq!(find("bant")["condition_changed"], true);
    assert_eq!(
        report["otherwise"]["old_leads"],
        decided(&before, ""),
        "leads no rule decided"
    );

    // The human report says the same.
    let out = qualify(&[
        "diff",
        SALVIRT,
        new.to_str().unwrap(),
        SALVIRT_LEADS,
        "--outcome",
        "Status=Won",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.contains(&format!("{moved} moved")), "{text}");
    assert!(text.contains("Stage migration"), "{text}");
    assert!(text.contains("big partner"), "{text}");
}

#[test]
fn csv_lists_every_moved_lead() {
    let dir = tempfile::tempdir().unwrap();
    let new = edited_policy(
        dir.path(),
        B2B,
        &[
            (
                "fit >= 30 and engagement >= 25 => MQL",
                "fit >= 10 and engagement >= 20 => MQL",
            ),
            ("engagement >= 50 => MQL", "engagement >= 60 => MQL"),
        ],
    );
    let before = run_rows(Path::new(B2B), B2B_LEADS);
    let after = run_rows(&new, B2B_LEADS);
    let expected: Vec<(String, String, String)> = before
        .iter()
        .zip(&after)
        .filter(|(b, a)| b["stage"] != a["stage"])
        .map(|(b, a)| (b["Lead ID"].clone(), b["stage"].clone(), a["stage"].clone()))
        .collect();
    assert!(expected.len() > 5, "more moved leads than --show lists");

    let out = qualify(&[
        "diff",
        B2B,
        new.to_str().unwrap(),
        B2B_LEADS,
        "--format",
        "csv",
        "--show",
        "1",
        "--as-of",
        AS_OF,
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let headers = reader.headers().unwrap().clone();
    assert_eq!(
        headers.iter().collect::<Vec<_>>(),
        [
            "line",
            "Lead ID",
            "old_stage",
            "old_rule",
            "new_stage",
            "new_rule"
        ]
    );
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    let got: Vec<(String, String, String)> = rows
        .iter()
        .map(|r| (r[1].to_string(), r[2].to_string(), r[4].to_string()))
        .collect();
    assert_eq!(got, expected);
    // Lines point at the leads.
    let leads = std::fs::read_to_string(B2B_LEADS).unwrap();
    let lines: Vec<&str> = leads.lines().collect();
    for r in &rows {
        let line: usize = r[0].parse().unwrap();
        assert!(lines[line - 1].starts_with(&r[1]), "line {line}");
    }
    assert!(
        stderr(&out).contains(&format!("{} moved", expected.len())),
        "{}",
        stderr(&out)
    );

    // The human report lists one per cell, and says how many more.
    let out = qualify(&[
        "diff",
        B2B,
        new.to_str().unwrap(),
        B2B_LEADS,
        "--show",
        "1",
        "--as-of",
        AS_OF,
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("more"), "{}", stdout(&out));
}

#[test]
fn different_stages_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let new = edited_policy(
        dir.path(),
        SALVIRT,
        &[(
            "stages unqualified < MQL < SQL",
            "stages unqualified < MQL < SQL < customer",
        )],
    );
    let out = qualify(&["diff", SALVIRT, new.to_str().unwrap(), SALVIRT_LEADS]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("different stages"), "{err}");
    assert!(err.contains("only in"), "{err}");
    assert!(err.contains("customer"), "{err}");
    assert!(stdout(&out).is_empty());

    // The same stages in another order are different stages too.
    let swapped = edited_policy(
        dir.path(),
        SALVIRT,
        &[(
            "stages unqualified < MQL < SQL",
            "stages unqualified < SQL < MQL",
        )],
    );
    let out = qualify(&["diff", SALVIRT, swapped.to_str().unwrap(), SALVIRT_LEADS]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("another order"), "{}", stderr(&out));
}

#[test]
fn unknown_outcome_column_names_close_ones() {
    let out = qualify(&[
        "diff",
        SALVIRT,
        SALVIRT,
        SALVIRT_LEADS,
        "--outcome",
        "Statsu=Won",
    ]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(err.contains("no column \"Statsu\""), "{err}");
    assert!(err.contains("\"Status\""), "{err}");
}

#[test]
fn policy_errors_are_reported_as_run_reports_them() {
    let dir = tempfile::tempdir().unwrap();
    let new = edited_policy(
        dir.path(),
        SALVIRT,
        &[("=> MQL because", "=> MQLL because")],
    );
    let out = qualify(&["diff", SALVIRT, new.to_str().unwrap(), SALVIRT_LEADS]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("MQLL"), "{}", stderr(&out));
}

#[test]
fn identical_policies_move_nothing() {
    let report = diff_json(&[SALVIRT, SALVIRT, SALVIRT_LEADS, "--outcome", "Status=Won"]);
    assert_eq!(report["moved"], 0);
    assert_eq!(report["same_stage_other_rule"], 0);
    assert!(report["moved_leads"].as_array().unwrap().is_empty());
    for r in report["rules"].as_array().unwrap() {
        assert_eq!(r["change"], "same", "{r}");
    }
}

/// A small policy: rules without a name are matched by condition and stage,
/// wherever they are in the file.
#[test]
fn unnamed_rules_are_matched_by_condition() {
    let dir = tempfile::tempdir().unwrap();
    let old = dir.path().join("old.qual");
    let new = dir.path().join("new.qual");
    let leads = dir.path().join("leads.csv");
    let head = "field lead id: string key from \"Lead ID\"\nfield points: integer from \"Points\"\nstages cold < warm < hot\notherwise cold\n";
    std::fs::write(
        &old,
        format!("{head}points >= 50 => warm\npoints >= 90 => hot\n"),
    )
    .unwrap();
    std::fs::write(
        &new,
        format!(
            "{head}# Moved down and reordered: still the same rules.\n\npoints >= 90 => hot\npoints >= 50 => warm\npoints >= 20 => warm\n"
        ),
    )
    .unwrap();
    std::fs::write(&leads, "Lead ID,Points\nA,10\nB,30\nC,60\nD,95\n").unwrap();
    let report = diff_json(&[
        old.to_str().unwrap(),
        new.to_str().unwrap(),
        leads.to_str().unwrap(),
    ]);
    let rules = report["rules"].as_array().unwrap();
    let changes: Vec<&str> = rules
        .iter()
        .map(|r| r["change"].as_str().unwrap())
        .collect();
    assert_eq!(changes, ["same", "same", "added"], "{rules:?}");
    assert_eq!(report["moved"], 1);
    assert_eq!(report["moved_leads"][0]["key"]["Lead ID"], "B");
    assert_eq!(report["moved_leads"][0]["old_stage"], "cold");
    assert_eq!(report["moved_leads"][0]["new_stage"], "warm");
    assert!(report["moved_leads"][0]["old_rule"].is_null());
}

#[test]
fn bad_rows_for_either_policy_are_rejects() {
    let dir = tempfile::tempdir().unwrap();
    let old = dir.path().join("old.qual");
    let new = dir.path().join("new.qual");
    let leads = dir.path().join("leads.csv");
    std::fs::write(
        &old,
        "field points: integer from \"Points\"\nstages cold < warm\notherwise cold\npoints >= 50 => warm\n",
    )
    .unwrap();
    // The new version reads a column the old one does not.
    std::fs::write(
        &new,
        "field points: integer from \"Points\"\nfield region: enum { eu, us } from \"Region\"\nstages cold < warm\notherwise cold\npoints >= 50 and region = eu => warm\n",
    )
    .unwrap();
    std::fs::write(&leads, "Points,Region\n60,eu\n70,mars\nabc,us\n80,us\n").unwrap();
    let (o, n, l) = (
        old.to_str().unwrap(),
        new.to_str().unwrap(),
        leads.to_str().unwrap(),
    );
    let out = qualify(&["diff", o, n, l]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(err.contains("line 3, column \"Region\""), "{err}");
    assert!(err.contains("line 4, column \"Points\""), "{err}");
    assert!(stdout(&out).is_empty());

    let report = diff_json(&[o, n, l, "--on-error", "skip"]);
    assert_eq!(report["rejected"], 2);
    assert_eq!(report["total"], 2);
    assert_eq!(report["moved"], 1);

    let rejects = dir.path().join("rejects.csv");
    let arg = format!("reject={}", rejects.display());
    let out = qualify(&["diff", o, n, l, "--on-error", &arg]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = std::fs::read_to_string(&rejects).unwrap();
    assert_eq!(text.lines().count(), 3, "{text}");
    assert!(text.contains("mars") && text.contains("abc"), "{text}");
}

#[test]
fn markdown_escapes_text_from_policies_and_leads() {
    let dir = tempfile::tempdir().unwrap();
    let old = dir.path().join("old.qual");
    let new = dir.path().join("new.qual");
    let leads = dir.path().join("leads.csv");
    let policy = |threshold: u32| {
        format!(
            "field lead id: string key from \"Lead ID\"\nfield score_: integer from \"Score\"\nstages un_qualified < M_Q_L\notherwise un_qualified\nrule __hot__ lead: score_ >= {threshold} => M_Q_L\n"
        )
    };
    std::fs::write(&old, policy(50)).unwrap();
    std::fs::write(&new, policy(10)).unwrap();
    std::fs::write(
        &leads,
        "Lead ID,Score\n\"L|1\n## injected <b>@team</b> *x* [y](http://e.x)\",20\nL-2,60\n",
    )
    .unwrap();
    let out = qualify(&[
        "diff",
        old.to_str().unwrap(),
        new.to_str().unwrap(),
        leads.to_str().unwrap(),
        "--format",
        "markdown",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let md = stdout(&out);
    // The lead's line break did not start a line of its own.
    assert!(!md.lines().any(|l| l.starts_with("## injected")), "{md}");
    assert!(!md.contains("<b>"), "{md}");
    assert!(!md.contains("@team"), "{md}");
    assert!(!md.contains("](http"), "{md}");
    assert!(md.contains("L\\|1"), "{md}");
    assert!(md.contains("\\_\\_hot\\_\\_ lead"), "{md}");
    assert!(md.contains("M\\_Q\\_L"), "{md}");
    assert!(!md.contains("M_Q_L"), "{md}");
    // Every row of a table has as many cells as its header.
    let mut cells = None;
    for line in md.lines() {
        if !line.starts_with('|') {
            cells = None;
            continue;
        }
        let bars = line
            .char_indices()
            .filter(|(i, c)| *c == '|' && (*i == 0 || line.as_bytes()[i - 1] != b'\\'))
            .count();
        match cells {
            None => cells = Some(bars),
            Some(n) => assert_eq!(bars, n, "{line}\n\n{md}"),
        }
    }
}

#[test]
fn help_shows_an_example() {
    let out = qualify(&["diff", "--help"]);
    assert!(out.status.success());
    assert!(
        stdout(&out).contains("qualify diff main:policy.qual policy.qual leads.csv"),
        "{}",
        stdout(&out)
    );
}

// ------------------------------------------------------------------- git

fn git(dir: &Path, args: &[&str]) {
    let out = Command::new("git")
        .args(["-c", "user.name=Q", "-c", "user.email=q@example.com"])
        .args([
            "-c",
            "commit.gpgsign=false",
            "-c",
            "init.defaultBranch=main",
        ])
        .args(args)
        .current_dir(dir)
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .output()
        .expect("git runs");
    assert!(out.status.success(), "git {args:?}: {}", stderr(&out));
}

/// `qualify` run in `dir`.
fn qualify_in(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_qualify"))
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .output()
        .expect("run qualify")
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

/// The JSON without the labels of the two versions.
fn without_labels(mut v: Value) -> Value {
    let object = v.as_object_mut().unwrap();
    object.remove("old");
    object.remove("new");
    object.remove("leads_file");
    v
}

#[test]
fn old_version_from_git_with_its_imports() {
    let repo = tempfile::tempdir().unwrap();
    let pristine = tempfile::tempdir().unwrap();
    let team = Path::new("examples/team-shared");
    copy_dir(team, &repo.path().join("policies"));
    copy_dir(team, pristine.path());
    git(repo.path(), &["init", "-q"]);
    git(repo.path(), &["add", "."]);
    git(repo.path(), &["commit", "-q", "-m", "policies"]);

    // The working copy changes a rule and a shared criterion (imported
    // twice over: inbound → shared/bant → shared/schema).
    let policies = repo.path().join("policies");
    let inbound = policies.join("inbound.qual");
    let text = std::fs::read_to_string(&inbound).unwrap();
    std::fs::write(
        &inbound,
        edited(
            &text,
            &[(
                "inbound engagement >= 50 => MQL",
                "inbound engagement >= 25 => MQL",
            )],
        ),
    )
    .unwrap();

    let expected = {
        let out = qualify(&[
            "diff",
            pristine.path().join("inbound.qual").to_str().unwrap(),
            inbound.to_str().unwrap(),
            policies.join("leads.csv").to_str().unwrap(),
            "--format",
            "json",
            "--as-of",
            AS_OF,
        ]);
        assert!(out.status.success(), "{}", stderr(&out));
        without_labels(serde_json::from_str(&stdout(&out)).unwrap())
    };
    assert!(expected["moved"].as_u64().unwrap() > 0);

    let from = |dir: &Path, old: &str, new: &str, leads: &str| {
        let out = qualify_in(
            dir,
            &[
                "diff", old, new, leads, "--format", "json", "--as-of", AS_OF,
            ],
        );
        assert!(out.status.success(), "{old}: {}", stderr(&out));
        serde_json::from_str::<Value>(&stdout(&out)).unwrap()
    };
    // From the top of the repository, and from a folder with `REV:./path`.
    let top = from(
        repo.path(),
        "HEAD:policies/inbound.qual",
        "policies/inbound.qual",
        "policies/leads.csv",
    );
    assert_eq!(top["old"], "HEAD:policies/inbound.qual");
    assert_eq!(without_labels(top), expected);
    let here = from(
        &policies,
        "main:./inbound.qual",
        "inbound.qual",
        "leads.csv",
    );
    assert_eq!(without_labels(here), expected);
    // Both sides may come from git.
    let both = from(
        &policies,
        "HEAD:./inbound.qual",
        "HEAD:./inbound.qual",
        "leads.csv",
    );
    assert_eq!(both["moved"], 0);

    // The copies read from git are removed.
    let temp = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_qualify"))
        .args(["diff", "HEAD:./inbound.qual", "inbound.qual", "leads.csv"])
        .current_dir(&policies)
        .env("TMPDIR", temp.path())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let left: Vec<_> = std::fs::read_dir(temp.path()).unwrap().collect();
    assert!(left.is_empty(), "{left:?}");
}

#[test]
fn git_errors_are_clear() {
    let repo = tempfile::tempdir().unwrap();
    copy_dir(Path::new("examples/salvirt"), repo.path());
    git(repo.path(), &["init", "-q"]);
    git(repo.path(), &["add", "policy.qual", "leads.csv"]);
    git(repo.path(), &["commit", "-q", "-m", "policy"]);
    let dir = repo.path();

    let out = qualify_in(
        dir,
        &["diff", "nope:policy.qual", "policy.qual", "leads.csv"],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("no revision `nope`"),
        "{}",
        stderr(&out)
    );

    let out = qualify_in(
        dir,
        &["diff", "HEAD:missing.qual", "policy.qual", "leads.csv"],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("no file `missing.qual` in revision `HEAD`"),
        "{}",
        stderr(&out)
    );

    // An import that the revision does not have is named.
    let text = std::fs::read_to_string(dir.join("policy.qual")).unwrap();
    std::fs::write(
        dir.join("importing.qual"),
        format!("import \"shared/extra.qual\"\n{text}"),
    )
    .unwrap();
    git(dir, &["add", "importing.qual"]);
    git(dir, &["commit", "-q", "-m", "import"]);
    let out = qualify_in(
        dir,
        &["diff", "HEAD:importing.qual", "policy.qual", "leads.csv"],
    );
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(err.contains("imports \"shared/extra.qual\""), "{err}");
    assert!(err.contains("no file `shared/extra.qual`"), "{err}");

    // Outside a repository.
    let elsewhere = tempfile::tempdir().unwrap();
    std::fs::copy(dir.join("leads.csv"), elsewhere.path().join("leads.csv")).unwrap();
    std::fs::copy(
        dir.join("policy.qual"),
        elsewhere.path().join("policy.qual"),
    )
    .unwrap();
    let out = qualify_in(
        elsewhere.path(),
        &["diff", "main:policy.qual", "policy.qual", "leads.csv"],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("git"), "{}", stderr(&out));

    // A file whose name has a colon is a file, not a revision.
    std::fs::copy(dir.join("policy.qual"), dir.join("v1:policy.qual")).unwrap();
    let out = qualify_in(dir, &["diff", "v1:policy.qual", "policy.qual", "leads.csv"]);
    assert!(out.status.success(), "{}", stderr(&out));
}

/// JSON Lines leads, a version that leaves leads without a stage, and keys
/// that are numbers.
#[test]
fn json_lines_and_leads_without_a_stage() {
    let dir = tempfile::tempdir().unwrap();
    let old = dir.path().join("old.qual");
    let new = dir.path().join("new.qual");
    let leads = dir.path().join("leads.jsonl");
    let head = "field id: integer key from \"id\"\nfield points: integer optional from \"points\"\nstages cold < warm\n";
    std::fs::write(
        &old,
        format!("{head}otherwise cold\nrule warm up: points >= 50 => warm\n"),
    )
    .unwrap();
    // No `otherwise`: a lead no rule matches gets no stage.
    std::fs::write(
        &new,
        format!("{head}rule warm up: points >= 40 => warm\nrule cool: points < 10 => cold\n"),
    )
    .unwrap();
    std::fs::write(
        &leads,
        "{\"id\": 1, \"points\": 45}\n{\"id\": 2, \"points\": 5}\n{\"id\": 3, \"points\": 20}\n{\"id\": 4}\n{\"id\": 5, \"points\": 70}\n",
    )
    .unwrap();
    let report = diff_json(&[
        old.to_str().unwrap(),
        new.to_str().unwrap(),
        leads.to_str().unwrap(),
    ]);
    assert_eq!(
        report["stages"],
        serde_json::json!(["cold", "warm", "(no stage)"])
    );
    // cold → warm: 1; cold → cold: 2 (via `cool`); cold → none: 3, 4;
    // warm → warm: 5.
    let leads_in = |o: usize, n: usize| report["matrix"][o][n]["leads"].as_u64().unwrap();
    assert_eq!(leads_in(0, 1), 1);
    assert_eq!(leads_in(0, 0), 1);
    assert_eq!(leads_in(0, 2), 2);
    assert_eq!(leads_in(1, 1), 1);
    assert_eq!(leads_in(2, 2), 0);
    assert_eq!(report["moved"], 3);
    assert_eq!(report["down"], 2);
    assert_eq!(report["same_stage_other_rule"], 1);
    let keys: Vec<&Value> = report["moved_leads"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| &m["key"]["id"])
        .collect();
    assert_eq!(keys, ["1", "3", "4"]);
    assert!(report["moved_leads"][1]["new_stage"].is_null());

    let out = qualify(&[
        "diff",
        old.to_str().unwrap(),
        new.to_str().unwrap(),
        leads.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("cold → (no stage): 2 lead(s)"),
        "{}",
        stdout(&out)
    );
}
