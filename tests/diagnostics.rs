//! Every policy under tests/wrong/ is wrong in a known way: its rendered
//! diagnostics are snapshots, and together they exercise every code.

use std::collections::HashSet;
use std::path::Path;

use qualify::db::{self, Database, Db};
use qualify::diagnostic::Code;

fn diagnostics_for(path: &Path) -> Vec<qualify::diagnostic::Diagnostic> {
    let db = Database::default();
    let file = db.load(path).expect("readable");
    db::checked(&db, file).diagnostics.clone()
}

fn render(path: &Path) -> String {
    let db = Database::default();
    let file = db.load(path).expect("readable");
    let diags = db::checked(&db, file).diagnostics.clone();
    let read = |p: &Path| {
        db.file(p)
            .map(|f| f.text(&db).clone())
            .or_else(|| std::fs::read_to_string(p).ok())
    };
    qualify::render::human(&diags, &read, false)
}

#[test]
fn wrong_policies_render_as_snapshotted() {
    insta::glob!("wrong/**/*.qual", |path| {
        let relative = path.strip_prefix(env!("CARGO_MANIFEST_DIR")).unwrap();
        let rendered = render(relative);
        assert!(
            !rendered.is_empty(),
            "{} produced no diagnostic",
            relative.display()
        );
        insta::assert_snapshot!(rendered);
    });
}

#[test]
fn wrong_policies_cover_every_code() {
    let mut seen = HashSet::new();
    let dir = Path::new("tests/wrong");
    for entry in walk(dir) {
        for d in diagnostics_for(&entry) {
            seen.insert(d.code);
        }
    }
    // The analysis findings come from the analysis corpus; those that need
    // a sample lead file are covered by tests/analysis.rs.
    for entry in walk(Path::new("tests/analysis")) {
        let mut db = Database::default();
        db.set_as_of(qualify::check::date_from_ymd("2026-06-01").unwrap());
        let file = db.load(&entry).expect("readable");
        for d in db::diagnostics(&db, file) {
            seen.insert(d.code);
        }
    }
    let sample_codes = [
        Code::RarelyPasses,
        Code::StageNeverReached,
        Code::OftenMissing,
        Code::ConfigUnreadable,
        Code::SampleUnreadable,
    ];
    let missing: Vec<&str> = Code::ALL
        .iter()
        .filter(|c| !seen.contains(c) && !sample_codes.contains(c))
        .map(|c| c.as_str())
        .collect();
    assert!(missing.is_empty(), "no wrong policy produces {missing:?}");
}

#[test]
fn every_diagnostic_has_a_help_line_and_a_real_span() {
    for path in walk(Path::new("tests/wrong")) {
        let text = std::fs::read_to_string(&path).unwrap();
        for d in diagnostics_for(&path) {
            assert!(
                d.help.is_some(),
                "{}: {} has no help",
                path.display(),
                d.code.as_str()
            );
            assert!(
                d.span.end as usize <= text.len(),
                "{}: span out of range",
                path.display()
            );
            assert!(d.span.start <= d.span.end);
        }
    }
}

#[test]
fn several_errors_in_one_file_are_all_reported() {
    let diags = diagnostics_for(Path::new("tests/wrong/syntax_several_errors.qual"));
    assert_eq!(diags.len(), 2, "{diags:#?}");
    let diags = diagnostics_for(Path::new("tests/wrong/test_wrong_value_type.qual"));
    assert_eq!(diags.len(), 2, "{diags:#?}");
}

#[test]
fn the_catalogue_documents_every_code() {
    let catalogue = std::fs::read_to_string("docs/diagnostics.md").expect("docs/diagnostics.md");
    for code in Code::ALL {
        assert!(
            catalogue.contains(&format!("## {}", code.as_str())),
            "docs/diagnostics.md has no section for {}",
            code.as_str()
        );
    }
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else if path.extension().is_some_and(|e| e == "qual") {
            out.push(path);
        }
    }
    out.sort();
    out
}
