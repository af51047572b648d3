//! The language server, driven in-process through its `LspService`: every
//! feature, with snapshots of the responses.

mod common;

use std::path::{Path, PathBuf};

use common::lsp_client::{Lsp, position_of, uri};
use serde_json::{Value, json};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn codes(diagnostics: &Value) -> Vec<String> {
    diagnostics
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["code"].as_str().unwrap().to_string())
        .collect()
}

/// A copy of an example folder, so edits and renames never touch the repo.
fn workspace(example: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let from = root().join("examples").join(example);
    for entry in walkdir::WalkDir::new(&from) {
        let entry = entry.unwrap();
        let to = dir.path().join(entry.path().strip_prefix(&from).unwrap());
        if entry.file_type().is_dir() {
            std::fs::create_dir_all(&to).unwrap();
        } else {
            std::fs::copy(entry.path(), &to).unwrap();
        }
    }
    let path = std::fs::canonicalize(dir.path()).unwrap();
    (dir, path)
}

fn redact_in(value: &Value, dir: &Path) -> Value {
    let text = value
        .to_string()
        .replace(&dir.display().to_string(), "[ws]");
    serde_json::from_str(&text).unwrap()
}

const TYPO: &str = "field budget: money optional\nfield demo requested: bool default false\n\nstages MQL < SQL\n\nrule hot: budjet known and demo requested => SQL\n";

#[tokio::test]
async fn diagnostics_are_published_with_code_span_and_fix() {
    let (_dir, ws) = workspace("b2b-saas");
    let path = ws.join("typo.qual");
    std::fs::write(&path, TYPO).unwrap();
    let mut lsp = Lsp::start(&ws, Value::Null).await;
    lsp.open(&path, TYPO).await;
    let published = lsp
        .published(&path, |p| {
            p["version"] == 1 && !p["diagnostics"].as_array().unwrap().is_empty()
        })
        .await;
    let d = &published["diagnostics"][0];
    assert_eq!(d["code"], "Q0101");
    assert_eq!(d["range"]["start"], json!({ "line": 5, "character": 10 }));
    assert_eq!(d["range"]["end"], json!({ "line": 5, "character": 16 }));
    assert!(
        d["message"]
            .as_str()
            .unwrap()
            .contains("did you mean `budget`?")
    );
    // The quick fix applies the did-you-mean.
    let actions = lsp
        .request(
            "textDocument/codeAction",
            json!({ "textDocument": { "uri": uri(&path) }, "range": d["range"], "context": { "diagnostics": [] } }),
        )
        .await;
    assert_eq!(actions[0]["title"], "Change to `budget`");
    assert_eq!(actions[0]["isPreferred"], true);
    let edit = &actions[0]["edit"]["changes"][uri(&path)][0];
    assert_eq!(edit["newText"], "budget");
    assert_eq!(edit["range"], d["range"]);
    // Fixing the text clears the error in the next publication.
    let fixed = TYPO.replace("budjet", "budget");
    let version = lsp.change(&path, &fixed).await;
    let published = lsp
        .published(&path, |p| {
            p["version"] == version && !codes(&p["diagnostics"]).contains(&"Q0101".to_string())
        })
        .await;
    assert!(!codes(&published["diagnostics"]).contains(&"Q0101".into()));
    lsp.shutdown().await;
}

/// A disqualifier written as an ordinary rule: `money` takes its leads to
/// SQL, since the highest stage wins.
const TOOTHLESS: &str = "field budget: money optional\nfield student: bool default false\n\nstages unqualified < MQL < SQL\notherwise unqualified\n\nrule money: budget >= $10_000 => SQL\nrule students: student => unqualified because \"Students do not buy\"\n";

/// Applies the first edit of the code action titled `title` to `text`.
fn apply_action(actions: &Value, title: &str, path: &Path, text: &str) -> String {
    let action = actions
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["title"] == title)
        .unwrap_or_else(|| panic!("no action {title:?} in {actions:#}"));
    let e = &action["edit"]["changes"][uri(path)][0];
    let offset = |at: &Value| {
        let (line, ch) = (
            at["line"].as_u64().unwrap() as usize,
            at["character"].as_u64().unwrap() as usize,
        );
        text.split_inclusive('\n')
            .take(line)
            .map(str::len)
            .sum::<usize>()
            + ch
    };
    let (start, end) = (offset(&e["range"]["start"]), offset(&e["range"]["end"]));
    format!(
        "{}{}{}",
        &text[..start],
        e["newText"].as_str().unwrap(),
        &text[end..]
    )
}

#[tokio::test]
async fn analysis_findings_carry_related_rule_witness_and_fixes() {
    let (_dir, ws) = workspace("b2b-saas");
    let path = ws.join("toothless.qual");
    std::fs::write(&path, TOOTHLESS).unwrap();
    let mut lsp = Lsp::start(&ws, json!({ "asOf": "2026-06-01" })).await;
    lsp.open(&path, TOOTHLESS).await;
    let diagnostics = lsp.diagnostics(&path).await;
    insta::assert_json_snapshot!("lsp_toothless_diagnostics", redact_in(&diagnostics, &ws));
    let finding = diagnostics
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["code"] == "Q0313")
        .expect("a toothless disqualifier");
    assert!(
        finding["message"]
            .as_str()
            .unwrap()
            .contains("for example (as of 2026-06-01): {")
    );
    // The related information points at the rule that takes the lead.
    assert_eq!(
        finding["relatedInformation"][0]["location"]["uri"],
        uri(&path)
    );
    assert_eq!(
        finding["relatedInformation"][0]["location"]["range"]["start"]["line"],
        6
    );
    let actions = lsp
        .request(
            "textDocument/codeAction",
            json!({ "textDocument": { "uri": uri(&path) }, "range": finding["range"], "context": { "diagnostics": [] } }),
        )
        .await;
    let titles: Vec<&str> = actions
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["title"].as_str().unwrap())
        .collect();
    let ceiling = "Make it a ceiling: `=> at most unqualified`";
    assert!(titles.contains(&ceiling), "{titles:?}");
    assert!(
        titles.contains(&"Turn the example lead into a test"),
        "{titles:?}"
    );
    // The example lead as a test pins today's outcome: the student reaches SQL.
    let pinned = apply_action(
        &actions,
        "Turn the example lead into a test",
        &path,
        TOOTHLESS,
    );
    insta::assert_snapshot!("lsp_toothless_pinned", pinned);
    std::fs::write(&path, &pinned).unwrap();
    let out = common::qualify(&["test", path.to_str().unwrap()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    // The quick fix makes the rule a ceiling: the finding is gone, and the
    // same lead is now held at unqualified by `students` (so the pinned test
    // fails, as it should).
    let fixed = apply_action(&actions, ceiling, &path, &pinned);
    assert!(
        fixed.contains("rule students: student => at most unqualified because"),
        "{fixed}"
    );
    std::fs::write(&path, &fixed).unwrap();
    let out = common::qualify(&["check", "--as-of", "2026-06-01", path.to_str().unwrap()]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stdout}{stderr}");
    assert!(
        !stdout.contains("Q0313") && !stderr.contains("Q0313"),
        "{stdout}{stderr}"
    );
    let out = common::qualify(&["test", path.to_str().unwrap()]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(!out.status.success(), "{stdout}");
    assert!(stdout.contains("students"), "{stdout}");
    lsp.shutdown().await;
}

#[tokio::test]
async fn an_obsolete_overrides_clause_is_deleted_by_its_quick_fix() {
    let (_dir, ws) = workspace("b2b-saas");
    let path = ws.join("old.qual");
    let old = "field budget: money optional\nfield demo requested: bool default false\n\nstages unqualified < MQL < SQL\notherwise unqualified\n\nrule demo: demo requested => MQL\nrule ready: budget known and demo requested => SQL because \"Budget and a demo\" overrides demo, MQL\n";
    std::fs::write(&path, old).unwrap();
    let mut lsp = Lsp::start(&ws, json!({ "asOf": "2026-06-01" })).await;
    lsp.open(&path, old).await;
    let diagnostics = lsp.diagnostics(&path).await;
    assert_eq!(codes(&diagnostics), ["Q0203"], "{diagnostics:#}");
    let d = &diagnostics[0];
    assert_eq!(d["severity"], 2);
    let actions = lsp
        .request(
            "textDocument/codeAction",
            json!({ "textDocument": { "uri": uri(&path) }, "range": d["range"], "context": { "diagnostics": [] } }),
        )
        .await;
    let title = "Delete the `overrides` clause";
    let fixed = apply_action(&actions, title, &path, old);
    assert_eq!(
        fixed,
        old.replace(" overrides demo, MQL", ""),
        "{actions:#}"
    );
    let version = lsp.change(&path, &fixed).await;
    let published = lsp.published(&path, |p| p["version"] == version).await;
    assert_eq!(published["diagnostics"], json!([]));
    lsp.shutdown().await;
}

#[tokio::test]
async fn hover_explains_fields_criteria_scores_stages_and_rules() {
    let (_dir, ws) = workspace("b2b-saas");
    let path = ws.join("policy.qual");
    let text = std::fs::read_to_string(&path).unwrap();
    let mut lsp = Lsp::start(&ws, json!({ "asOf": "2026-06-01" })).await;
    lsp.open(&path, &text).await;
    let mut hovers = Vec::new();
    for (needle, skip) in [
        ("company size: integer", 2),
        ("icp fit: company", 1),
        ("fit >= 30", 1),
        ("engagement >= 25", 3),
        ("=> SQL because \"Budget", 4),
        ("rule hot engagement", 8),
        ("industry in { saas", 2),
    ] {
        let (line, ch) = position_of(&text, needle, skip);
        let hover = lsp.at("textDocument/hover", &path, line, ch).await;
        hovers.push(json!({ "at": needle, "hover": hover["contents"]["value"] }));
    }
    insta::assert_json_snapshot!("lsp_hovers", hovers);
    // Off any name, on nothing: no hover, no error.
    let none = lsp.at("textDocument/hover", &path, 0, 0).await;
    assert!(none.is_null());
    lsp.shutdown().await;
}

#[tokio::test]
async fn a_sample_adds_strictness_findings_pass_rates_and_hints() {
    let (_dir, ws) = workspace("b2b-saas");
    let path = ws.join("policy.qual");
    let text = std::fs::read_to_string(&path).unwrap();
    let mut lsp = Lsp::start(
        &ws,
        json!({ "asOf": "2026-06-01", "sample": "leads.csv", "minPassRate": "30%" }),
    )
    .await;
    lsp.open(&path, &text).await;
    let diagnostics = lsp.diagnostics(&path).await;
    assert!(
        codes(&diagnostics).contains(&"Q0310".to_string()),
        "{diagnostics:#}"
    );
    let (line, ch) = position_of(&text, "rule ready to buy", 7);
    let hover = lsp.at("textDocument/hover", &path, line, ch).await;
    let value = hover["contents"]["value"].as_str().unwrap();
    assert!(value.contains("sample leads ("), "{value}");
    let hints = lsp
        .request(
            "textDocument/inlayHint",
            json!({ "textDocument": { "uri": uri(&path) }, "range": { "start": { "line": 0, "character": 0 }, "end": { "line": 999, "character": 0 } } }),
        )
        .await;
    let labels: Vec<String> = hints
        .as_array()
        .unwrap()
        .iter()
        .map(|h| {
            format!(
                "{}: {}",
                h["position"]["line"],
                h["label"].as_str().unwrap()
            )
        })
        .collect();
    insta::assert_json_snapshot!("lsp_inlay_hints_with_sample", labels);
    // The editor setting can switch the sample off again.
    lsp.notify(
        "workspace/didChangeConfiguration",
        json!({ "settings": { "qualify": { "asOf": "2026-06-01", "noConfig": true } } }),
    )
    .await;
    let diagnostics = lsp.diagnostics(&path).await;
    assert!(!codes(&diagnostics).contains(&"Q0310".to_string()));
    lsp.shutdown().await;
}

#[tokio::test]
async fn definition_references_and_rename_reach_across_files() {
    let (_dir, ws) = workspace("team-shared");
    let inbound = ws.join("inbound.qual");
    let outbound = ws.join("outbound.qual");
    let bant = ws.join("shared/bant.qual");
    let text = std::fs::read_to_string(&inbound).unwrap();
    let mut lsp = Lsp::start(&ws, Value::Null).await;
    lsp.open(&inbound, &text).await;
    // `bant` in inbound.qual is declared in shared/bant.qual and used by
    // outbound.qual too.
    let (line, ch) = position_of(&text, "bant and icp fit", 1);
    let def = lsp.at("textDocument/definition", &inbound, line, ch).await;
    assert_eq!(def["uri"], uri(&bant));
    let refs = lsp
        .request(
            "textDocument/references",
            json!({ "textDocument": { "uri": uri(&inbound) }, "position": { "line": line, "character": ch }, "context": { "includeDeclaration": true } }),
        )
        .await;
    insta::assert_json_snapshot!("lsp_references_bant", redact_in(&refs, &ws));
    let files: std::collections::BTreeSet<&str> = refs
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["uri"].as_str().unwrap())
        .collect();
    assert!(
        files.contains(uri(&outbound).as_str()),
        "outbound.qual uses it too: {files:?}"
    );
    // Rename reaches every file; a taken name is refused.
    let prepare = lsp
        .at("textDocument/prepareRename", &inbound, line, ch)
        .await;
    assert_eq!(prepare["placeholder"], "bant");
    let rename = |name: &str| json!({ "textDocument": { "uri": uri(&inbound) }, "position": { "line": line, "character": ch }, "newName": name });
    let edit = lsp.request("textDocument/rename", rename("bant met")).await;
    insta::assert_json_snapshot!("lsp_rename_bant", redact_in(&edit, &ws));
    let clash = lsp
        .call("textDocument/rename", rename("has budget"))
        .await
        .unwrap_err();
    assert!(
        clash["message"]
            .as_str()
            .unwrap()
            .contains("already the name of a criterion"),
        "{clash}"
    );
    let bad = lsp
        .call("textDocument/rename", rename("fit and more"))
        .await
        .unwrap_err();
    assert!(
        bad["message"].as_str().unwrap().contains("is not a name"),
        "{bad}"
    );
    lsp.shutdown().await;
}

#[tokio::test]
async fn renaming_a_field_keeps_the_column_it_reads() {
    let (_dir, ws) = workspace("b2b-saas");
    let path = ws.join("small.qual");
    let text = "field budget: money optional\nstages MQL < SQL\nrule r: budget known => SQL\n";
    std::fs::write(&path, text).unwrap();
    let mut lsp = Lsp::start(&ws, Value::Null).await;
    lsp.open(&path, text).await;
    let edit = lsp
        .request(
            "textDocument/rename",
            json!({ "textDocument": { "uri": uri(&path) }, "position": { "line": 2, "character": 9 }, "newName": "annual budget" }),
        )
        .await;
    let edits = &edit["changes"][uri(&path)];
    let new_texts: Vec<&str> = edits
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["newText"].as_str().unwrap())
        .collect();
    assert_eq!(
        new_texts,
        ["annual budget", " from \"budget\"", "annual budget"]
    );
    lsp.shutdown().await;
}

#[tokio::test]
async fn outline_folding_tokens_and_formatting() {
    let (_dir, ws) = workspace("b2b-saas");
    let path = ws.join("policy.qual");
    let text = std::fs::read_to_string(&path).unwrap();
    let mut lsp = Lsp::start(&ws, Value::Null).await;
    lsp.open(&path, &text).await;
    let doc = json!({ "textDocument": { "uri": uri(&path) } });
    let symbols = lsp
        .request("textDocument/documentSymbol", doc.clone())
        .await;
    let outline: Vec<String> = symbols
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            format!(
                "{} {} ({}) children {}",
                s["kind"],
                s["name"].as_str().unwrap(),
                s["detail"].as_str().unwrap_or(""),
                s["children"].as_array().map_or(0, Vec::len)
            )
        })
        .collect();
    insta::assert_json_snapshot!("lsp_outline", outline);
    let folds = lsp.request("textDocument/foldingRange", doc.clone()).await;
    insta::assert_json_snapshot!("lsp_folding", folds);
    // Semantic tokens, decoded back to text and type.
    let tokens = lsp
        .request("textDocument/semanticTokens/full", doc.clone())
        .await;
    let data: Vec<u32> = tokens["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_u64().unwrap() as u32)
        .collect();
    let lines: Vec<&str> = text.lines().collect();
    let types = [
        "keyword",
        "type",
        "string",
        "number",
        "operator",
        "comment",
        "enumMember",
        "property",
        "function",
        "variable",
        "class",
        "method",
    ];
    let (mut line, mut col) = (0u32, 0u32);
    let mut decoded = Vec::new();
    for t in data.chunks(5) {
        if t[0] > 0 {
            col = 0;
        }
        line += t[0];
        col += t[1];
        let l = lines[line as usize];
        let piece: String = l.chars().skip(col as usize).take(t[2] as usize).collect();
        if (20..40).contains(&line) {
            decoded.push(format!(
                "{line}:{col} {piece} {}{}",
                types[t[3] as usize],
                if t[4] == 1 { " (declaration)" } else { "" }
            ));
        }
    }
    insta::assert_json_snapshot!("lsp_semantic_tokens", decoded);
    // Formatting: the canonical file needs no edit; a messy line gets one.
    let none = lsp
        .request("textDocument/formatting", json!({ "textDocument": { "uri": uri(&path) }, "options": { "tabSize": 2, "insertSpaces": true } }))
        .await;
    assert_eq!(none, json!([]));
    let messy = text.replace(
        "rule engaged fit: fit >= 30",
        "rule   engaged fit:   fit>=30",
    );
    lsp.change(&path, &messy).await;
    let edits = lsp
        .request("textDocument/formatting", json!({ "textDocument": { "uri": uri(&path) }, "options": { "tabSize": 2, "insertSpaces": true } }))
        .await;
    insta::assert_json_snapshot!("lsp_formatting", edits);
    let (l, _) = position_of(&messy, "rule   engaged", 0);
    let outside = lsp
        .request(
            "textDocument/rangeFormatting",
            json!({ "textDocument": { "uri": uri(&path) }, "range": { "start": { "line": 0, "character": 0 }, "end": { "line": 3, "character": 0 } }, "options": { "tabSize": 2, "insertSpaces": true } }),
        )
        .await;
    assert_eq!(outside, json!([]));
    let inside = lsp
        .request(
            "textDocument/rangeFormatting",
            json!({ "textDocument": { "uri": uri(&path) }, "range": { "start": { "line": l, "character": 0 }, "end": { "line": l, "character": 5 } }, "options": { "tabSize": 2, "insertSpaces": true } }),
        )
        .await;
    assert_eq!(inside, edits);
    lsp.shutdown().await;
}

/// `=> at most STAGE` in the editor: `at most` is a keyword and the stage a
/// stage; the outline and hover say the rule is a ceiling.
#[tokio::test]
async fn ceilings_in_tokens_outline_and_hover() {
    let (_dir, ws) = workspace("product-led");
    let path = ws.join("policy.qual");
    let text = std::fs::read_to_string(&path).unwrap();
    let mut lsp = Lsp::start(&ws, json!({ "asOf": "2026-06-01" })).await;
    lsp.open(&path, &text).await;
    let doc = json!({ "textDocument": { "uri": uri(&path) } });
    let tokens = lsp
        .request("textDocument/semanticTokens/full", doc.clone())
        .await;
    let data: Vec<u32> = tokens["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_u64().unwrap() as u32)
        .collect();
    let lines: Vec<&str> = text.lines().collect();
    let types = [
        "keyword",
        "type",
        "string",
        "number",
        "operator",
        "comment",
        "enumMember",
        "property",
        "function",
        "variable",
        "class",
        "method",
    ];
    let ceilings =
        position_of(&text, "rule competitor:", 0).0..=position_of(&text, "rule student:", 0).0;
    let (mut line, mut col) = (0u32, 0u32);
    let mut decoded = Vec::new();
    for t in data.chunks(5) {
        if t[0] > 0 {
            col = 0;
        }
        line += t[0];
        col += t[1];
        let piece: String = lines[line as usize]
            .chars()
            .skip(col as usize)
            .take(t[2] as usize)
            .collect();
        if ceilings.contains(&line) {
            decoded.push(format!(
                "{line}:{col} {piece} {}{}",
                types[t[3] as usize],
                if t[4] == 1 { " (declaration)" } else { "" }
            ));
        }
    }
    insta::assert_json_snapshot!("lsp_ceiling_tokens", decoded);
    for word in [
        " at keyword",
        " most keyword",
        " MQL class",
        " unqualified class",
    ] {
        assert!(
            decoded.iter().any(|t| t.ends_with(word)),
            "no `{word}` token: {decoded:#?}"
        );
    }
    // The outline gives a ceiling's stage as `=> at most STAGE`.
    let symbols = lsp
        .request("textDocument/documentSymbol", doc.clone())
        .await;
    let rules: Vec<String> = symbols
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["detail"].as_str().is_some_and(|d| d.starts_with("=>")))
        .map(|s| {
            format!(
                "{} {}",
                s["name"].as_str().unwrap(),
                s["detail"].as_str().unwrap()
            )
        })
        .collect();
    assert_eq!(rules[0], "competitor => at most unqualified", "{rules:#?}");
    assert_eq!(rules[1], "student => at most MQL", "{rules:#?}");
    assert_eq!(rules[2], "asked for sales => SQL", "{rules:#?}");
    // Hover on the ceiling's name, and on its stage.
    let (l, c) = position_of(&text, "rule student:", 6);
    let hover = lsp.at("textDocument/hover", &path, l, c).await;
    let value = hover["contents"]["value"].as_str().unwrap();
    assert!(
        value.contains("at most `MQL`") && value.contains("ceiling"),
        "{value}"
    );
    let (l, c) = position_of(&text, "at most MQL", 9);
    let hover = lsp.at("textDocument/hover", &path, l, c).await;
    assert!(
        hover["contents"]["value"].as_str().unwrap().contains("MQL"),
        "{hover:#}"
    );
    // Definition of the stage written after `at most`.
    let def = lsp.at("textDocument/definition", &path, l, c).await;
    assert_eq!(
        def["range"]["start"]["line"],
        position_of(&text, "stages unqualified", 0).0
    );
    // Rule labels and stages are never written in the same place: a rule may
    // take a stage's name, not another rule's.
    let (l, c) = position_of(&text, "rule student:", 6);
    let rename = |name: &str| json!({ "textDocument": { "uri": uri(&path) }, "position": { "line": l, "character": c }, "newName": name });
    let clash = lsp
        .call("textDocument/rename", rename("competitor"))
        .await
        .unwrap_err();
    assert!(
        clash["message"]
            .as_str()
            .unwrap()
            .contains("already the name of a rule"),
        "{clash}"
    );
    let edit = lsp.request("textDocument/rename", rename("MQL")).await;
    // The label and the test's `expect rule student`; no stage is touched.
    let changes = edit["changes"][uri(&path)].as_array().unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let renamed: Vec<String> = changes
        .iter()
        .map(|e| {
            let line = lines[e["range"]["start"]["line"].as_u64().unwrap() as usize];
            let (a, b) = (
                e["range"]["start"]["character"].as_u64().unwrap() as usize,
                e["range"]["end"]["character"].as_u64().unwrap() as usize,
            );
            format!("{} -> {}", &line[a..b], e["newText"].as_str().unwrap())
        })
        .collect();
    assert_eq!(renamed, ["student -> MQL", "student -> MQL"], "{edit:#}");
    assert_eq!(changes[0]["range"]["start"]["line"], l);
    assert!(
        lines[changes[1]["range"]["start"]["line"].as_u64().unwrap() as usize]
            .contains("expect rule student")
    );
    lsp.shutdown().await;
}

/// Labels offered at the end of `prefix`, appended to the policy.
async fn completions(lsp: &mut Lsp, path: &Path, base: &str, prefix: &str) -> Vec<String> {
    let text = format!("{base}{prefix}");
    lsp.change(path, &text).await;
    let line = text.matches('\n').count() as u32;
    let ch = text.rsplit('\n').next().unwrap().encode_utf16().count() as u32;
    let items = lsp.at("textDocument/completion", path, line, ch).await;
    items
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["label"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn completion_knows_the_context() {
    let (_dir, ws) = workspace("b2b-saas");
    let path = ws.join("policy.qual");
    let base = std::fs::read_to_string(&path).unwrap();
    let mut lsp = Lsp::start(&ws, Value::Null).await;
    lsp.open(&path, &base).await;
    let mut seen = Vec::new();
    for prefix in [
        "",
        "rule new: ",
        "rule new: company size ",
        "rule new: industry ",
        "rule new: industry in { ",
        "rule new: need = ",
        "rule new: demo requested and budget known => ",
        "rule new: demo requested => a",
        "rule new: demo requested => at ",
        "rule new: demo requested => at most ",
        "rule new: demo requested => SQL ",
        "rule new: job title ",
        "rule new: last activity ",
        "rule new: icp fit and compa",
        "field region: ",
        "test \"t\" {\n  expect ",
        "test \"t\" {\n  lead { industry: ",
        "score s {\n  ",
        "rule new: job title contains \"",
    ] {
        let labels = completions(&mut lsp, &path, &base, prefix).await;
        seen.push(json!({ "after": prefix, "offers": labels }));
    }
    insta::assert_json_snapshot!("lsp_completions", seen);
    // A multi-word name replaces every word already typed.
    let text = format!("{base}rule new: company si");
    lsp.change(&path, &text).await;
    let line = text.matches('\n').count() as u32;
    let items = lsp.at("textDocument/completion", &path, line, 20).await;
    let size = items
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["label"] == "company size")
        .expect("company size offered");
    assert_eq!(size["textEdit"]["range"]["start"]["character"], 10);
    lsp.shutdown().await;
}

#[tokio::test]
async fn a_file_with_syntax_errors_still_answers() {
    let (_dir, ws) = workspace("b2b-saas");
    let path = ws.join("policy.qual");
    let good = std::fs::read_to_string(&path).unwrap();
    let broken = good
        .replace("criterion decision maker:", "criterion decision maker")
        .replace("+10 when job title", "+10 whenn job title");
    let mut lsp = Lsp::start(&ws, Value::Null).await;
    lsp.open(&path, &broken).await;
    let diagnostics = lsp.diagnostics(&path).await;
    let syntax: Vec<u64> = diagnostics
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["code"] == "Q0001")
        .map(|d| d["range"]["start"]["line"].as_u64().unwrap())
        .collect();
    assert_eq!(syntax.len(), 2, "one per broken line: {diagnostics:#}");
    // Hover, definition and completion still work in the parts that parsed.
    let (line, ch) = position_of(&broken, "icp fit =>", 1);
    let hover = lsp.at("textDocument/hover", &path, line, ch).await;
    assert!(
        hover["contents"]["value"]
            .as_str()
            .unwrap()
            .contains("criterion")
    );
    let def = lsp.at("textDocument/definition", &path, line, ch).await;
    assert_eq!(
        def["range"]["start"]["line"],
        position_of(&broken, "criterion icp fit", 0).0
    );
    let (line, ch) = position_of(&broken, "=> SQL because \"Budget", 4);
    let items = lsp.at("textDocument/completion", &path, line, ch).await;
    assert!(!items.as_array().unwrap().is_empty());
    lsp.shutdown().await;
}

#[tokio::test]
async fn a_change_to_a_shared_file_rechecks_the_policies_importing_it() {
    let (_dir, ws) = workspace("team-shared");
    let inbound = ws.join("inbound.qual");
    let bant = ws.join("shared/bant.qual");
    let inbound_text = std::fs::read_to_string(&inbound).unwrap();
    let bant_text = std::fs::read_to_string(&bant).unwrap();
    let mut lsp = Lsp::start(&ws, Value::Null).await;
    lsp.open(&inbound, &inbound_text).await;
    lsp.open(&bant, &bant_text).await;
    assert!(
        !codes(&lsp.diagnostics(&inbound).await)
            .iter()
            .any(|c| c.starts_with("Q0") && c.as_str() < "Q0200")
    );
    // Rename the criterion in the shared file only: inbound now names nothing.
    let edited = bant_text.replace("criterion has budget:", "criterion budget ok:");
    lsp.change(&bant, &edited).await;
    let published = lsp
        .published(&inbound, |p| {
            codes(&p["diagnostics"]).contains(&"Q0101".to_string())
        })
        .await;
    let message = published["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["code"] == "Q0101")
        .unwrap()["message"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(message.contains("has budget"), "{message}");
    lsp.shutdown().await;
}

#[tokio::test]
async fn an_edit_supersedes_a_long_analysis() {
    let (_dir, ws) = workspace("b2b-saas");
    let path = ws.join("big.qual");
    // Slow to analyse in a debug build (many overlapping score rules).
    let big = common::policy_text::generate_policy(400, 3);
    std::fs::write(&path, &big).unwrap();
    let mut lsp = Lsp::start(&ws, Value::Null).await;
    lsp.open(&path, &big).await;
    let version = lsp.change(&path, TYPO).await;
    // The checker's answer for the new text arrives without waiting for the
    // old analysis to finish.
    let published = lsp
        .published(&path, |p| {
            p["version"] == version && codes(&p["diagnostics"]).contains(&"Q0101".to_string())
        })
        .await;
    assert_eq!(published["version"], version);
    lsp.shutdown().await;
}

/// Every example policy typed into the server one character at a time, with
/// diagnostics, hover and completion asked at each step: every request is
/// answered, nothing panics, nothing hangs.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn typing_every_example_one_character_at_a_time() {
    let mut policies: Vec<PathBuf> = walkdir::WalkDir::new(root().join("examples"))
        .into_iter()
        .map(|e| e.unwrap().into_path())
        .filter(|p| p.extension().is_some_and(|x| x == "qual"))
        .collect();
    policies.sort();
    assert!(policies.len() >= 5);
    let mut steps = 0;
    for policy in policies {
        // Typed in place, in a copy of its example, so its imports resolve.
        let relative = policy.strip_prefix(root().join("examples")).unwrap();
        let example = relative
            .components()
            .next()
            .unwrap()
            .as_os_str()
            .to_str()
            .unwrap();
        let (_dir, ws) = workspace(example);
        let path = ws.join(relative.strip_prefix(example).unwrap());
        let full = std::fs::read_to_string(&policy).unwrap();
        let mut lsp = Lsp::start(&ws, json!({ "asOf": "2026-06-01", "noConfig": true })).await;
        lsp.open(&path, "").await;
        let mut typed = String::new();
        for c in full.chars() {
            typed.push(c);
            lsp.change(&path, &typed).await;
            let line = typed.matches('\n').count() as u32;
            let ch = typed.rsplit('\n').next().unwrap().encode_utf16().count() as u32;
            let diagnostics = lsp.diagnostics(&path).await;
            assert!(diagnostics.is_array());
            lsp.at("textDocument/hover", &path, line, ch).await;
            let items = lsp.at("textDocument/completion", &path, line, ch).await;
            assert!(items.is_array(), "completion answers at every step");
            steps += 1;
        }
        // The whole text typed: as clean as the file itself.
        let diagnostics = lsp.diagnostics(&path).await;
        let errors: Vec<&Value> = diagnostics
            .as_array()
            .unwrap()
            .iter()
            .filter(|d| d["severity"] == 1 && d["code"] != "Q0003" && d["code"] != "Q0004")
            .collect();
        assert!(errors.is_empty(), "{}: {errors:#?}", policy.display());
        lsp.shutdown().await;
    }
    assert!(steps > 5000);
}

#[tokio::test]
async fn sample_rows_that_cannot_be_read_are_reported_not_dropped() {
    let (_dir, ws) = workspace("b2b-saas");
    let path = ws.join("policy.qual");
    let text = std::fs::read_to_string(&path).unwrap();
    // Line 3 of the sample gets an unclosed quote.
    let leads = std::fs::read_to_string(ws.join("leads.csv")).unwrap();
    let mut lines: Vec<String> = leads.lines().map(String::from).collect();
    lines[2] = lines[2].replacen(',', ",\"", 1);
    std::fs::write(ws.join("broken.csv"), lines.join("\n") + "\n").unwrap();
    let mut lsp = Lsp::start(&ws, json!({ "asOf": "2026-06-01", "sample": "broken.csv" })).await;
    lsp.open(&path, &text).await;
    let diagnostics = lsp.diagnostics(&path).await;
    let note = diagnostics
        .as_array()
        .unwrap()
        .iter()
        .find(|d| {
            d["message"]
                .as_str()
                .unwrap()
                .contains("rejected and not counted")
        })
        .unwrap_or_else(|| panic!("a note about the rejected rows: {diagnostics:#}"));
    let message = note["message"].as_str().unwrap();
    // "line 3", or "lines 3–5" when the open quote runs over lines.
    assert!(
        message.contains("(first: line 3") || message.contains("(first: lines 3"),
        "{message}"
    );
    assert_eq!(note["severity"], 3);
    lsp.shutdown().await;
}

/// Files the queries read from disk are database inputs, found or not: the
/// editor reports what is on disk now without the importer being touched.
#[tokio::test]
async fn imports_and_qualify_toml_changing_on_disk_recheck_the_open_policy() {
    let (_dir, ws) = workspace("b2b-saas");
    let policy = ws.join("policy.qual");
    let text = format!(
        "import \"extra.qual\"\n{}",
        std::fs::read_to_string(&policy).unwrap()
    );
    std::fs::write(&policy, &text).unwrap();
    let extra = ws.join("extra.qual");
    let changed =
        |path: &Path, kind: u32| json!({ "changes": [{ "uri": uri(path), "type": kind }] });
    let (created, edited, deleted) = (1, 2, 3);
    let mut lsp = Lsp::start(&ws, json!({ "asOf": "2026-06-01" })).await;
    lsp.open(&policy, &text).await;
    assert!(
        codes(&lsp.diagnostics(&policy).await).contains(&"Q0003".to_string()),
        "the import is missing"
    );

    // Created on disk: the error goes, though the policy was not edited.
    std::fs::write(&extra, "criterion big deal: budget >= $100_000\n").unwrap();
    lsp.notify("workspace/didChangeWatchedFiles", changed(&extra, created))
        .await;
    let published = lsp
        .published(&policy, |p| {
            !codes(&p["diagnostics"]).contains(&"Q0003".to_string())
        })
        .await;
    assert!(
        !codes(&published["diagnostics"])
            .iter()
            .any(|c| c.as_str() < "Q0200"),
        "{published:#}"
    );

    // Edited on disk: its importer is checked again.
    std::fs::write(&extra, "criterion big deal: budjet >= $100_000\n").unwrap();
    lsp.notify("workspace/didChangeWatchedFiles", changed(&extra, edited))
        .await;
    lsp.published(&policy, |p| {
        codes(&p["diagnostics"]).contains(&"Q0004".to_string())
    })
    .await;

    // Deleted: missing again, not the old text.
    std::fs::remove_file(&extra).unwrap();
    lsp.notify("workspace/didChangeWatchedFiles", changed(&extra, deleted))
        .await;
    lsp.published(&policy, |p| {
        codes(&p["diagnostics"]).contains(&"Q0003".to_string())
    })
    .await;
    std::fs::write(&extra, "criterion big deal: budget >= $100_000\n").unwrap();
    lsp.notify("workspace/didChangeWatchedFiles", changed(&extra, created))
        .await;
    lsp.published(&policy, |p| {
        !codes(&p["diagnostics"]).contains(&"Q0003".to_string())
    })
    .await;

    // A qualify.toml created beside it brings the sample's findings; a
    // broken one is reported under its own code, not a finding's.
    let toml = ws.join("qualify.toml");
    std::fs::write(
        &toml,
        "[sample]\nfile = \"leads.csv\"\nmin_pass_rate = \"30%\"\n",
    )
    .unwrap();
    lsp.notify("workspace/didChangeWatchedFiles", changed(&toml, created))
        .await;
    lsp.published(&policy, |p| {
        codes(&p["diagnostics"]).contains(&"Q0310".to_string())
    })
    .await;
    std::fs::write(&toml, "[sample]\nfile = \"missing.csv\"\n").unwrap();
    lsp.notify("workspace/didChangeWatchedFiles", changed(&toml, edited))
        .await;
    let published = lsp
        .published(&policy, |p| {
            codes(&p["diagnostics"]).contains(&"Q0402".to_string())
        })
        .await;
    assert!(!codes(&published["diagnostics"]).contains(&"Q0310".to_string()));
    std::fs::write(&toml, "[sample\nfile = \"leads.csv\"\n").unwrap();
    lsp.notify("workspace/didChangeWatchedFiles", changed(&toml, edited))
        .await;
    lsp.published(&policy, |p| {
        codes(&p["diagnostics"]).contains(&"Q0401".to_string())
    })
    .await;
    std::fs::remove_file(&toml).unwrap();
    lsp.notify("workspace/didChangeWatchedFiles", changed(&toml, deleted))
        .await;
    lsp.published(&policy, |p| {
        let codes = codes(&p["diagnostics"]);
        !codes.contains(&"Q0401".to_string()) && !codes.contains(&"Q0310".to_string())
    })
    .await;
    lsp.shutdown().await;
}

/// With an outcome column named in qualify.toml, a rule's hover says how
/// the sample leads it matches converted, next to its pass rate; the
/// figures are counted here independently from the lead file.
#[tokio::test]
async fn a_sample_with_an_outcome_shows_conversion_in_rule_hovers() {
    let (_dir, ws) = workspace("x-education");
    std::fs::write(
        ws.join("qualify.toml"),
        "[sample]\nfile = \"leads.csv\"\noutcome = \"Converted\"\n",
    )
    .unwrap();
    let path = ws.join("policy.qual");
    let text = std::fs::read_to_string(&path).unwrap();
    let mut lsp = Lsp::start(&ws, json!({ "asOf": "2026-06-01" })).await;
    lsp.open(&path, &text).await;
    lsp.diagnostics(&path).await;
    let (line, ch) = position_of(&text, "rule relevant", 7);
    let hover = lsp.at("textDocument/hover", &path, line, ch).await;
    let value = hover["contents"]["value"].as_str().unwrap().to_string();

    // The same figures from the file: leads rated "High in Relevance", and
    // how many of them (and of all leads) converted.
    let mut reader = csv::Reader::from_path(ws.join("leads.csv")).unwrap();
    let headers = reader.headers().unwrap().clone();
    let column = |name: &str| headers.iter().position(|h| h == name).unwrap();
    let (quality, converted) = (column("Lead Quality"), column("Converted"));
    let (mut all, mut all_converted, mut matched, mut matched_converted) = (0, 0, 0, 0);
    for record in reader.records() {
        let record = record.unwrap();
        let yes = &record[converted] == "1";
        all += 1;
        all_converted += usize::from(yes);
        if &record[quality] == "High in Relevance" {
            matched += 1;
            matched_converted += usize::from(yes);
        }
    }
    assert!(
        matched > 0 && matched_converted > 0,
        "the example has such leads"
    );
    let share = |part: usize, whole: usize| qualify::analysis::sample::percent(part, whole);
    let expected = format!(
        "Of those with a known outcome, {} converted: {matched_converted} of {matched}, against {} of all sample leads.",
        share(matched_converted, matched),
        share(all_converted, all)
    );
    assert!(value.contains(&expected), "{value}\nexpected: {expected}");
    lsp.shutdown().await;
}
