//! No input makes the parser or checker panic or overflow the stack.

use std::path::Path;

use proptest::prelude::*;

const SEED: &str = include_str!("../examples/b2b-saas/policy.qual");

fn check_text(text: &str) {
    let mut db = qualify::db::Database::default();
    let file = db.set_file(Path::new("/virtual/fuzz.qual"), text.to_string());
    let checked = qualify::db::checked(&db, file);
    for d in &checked.diagnostics {
        assert!(d.span.start <= d.span.end);
        assert!(
            d.span.end as usize <= text.len().max(1) || d.file != Path::new("/virtual/fuzz.qual")
        );
    }
    // The formatter must not panic on whatever parsed.
    let parsed = qualify::db::parse(&db, file);
    if parsed.diagnostics.is_empty() {
        let once = qualify::syntax::format::format(text, &parsed.file);
        let reparsed = qualify::syntax::parse(Path::new("f.qual"), &once);
        assert!(
            reparsed.diagnostics.is_empty(),
            "formatted output does not parse:\n{once}"
        );
        let twice = qualify::syntax::format::format(&once, &reparsed.file);
        assert_eq!(once, twice, "formatting is not idempotent");
    }
}

fn mutate(seed: &str, ops: &[(usize, u8, u8)]) -> String {
    let mut bytes = seed.as_bytes().to_vec();
    const ALPHABET: &[u8] = b"()\"{}=<>!,:#+-_ \n\tabcdefknoqrstuwyz0123456789$.";
    for &(pos, kind, ch) in ops {
        if bytes.is_empty() {
            break;
        }
        let pos = pos % bytes.len();
        let ch = ALPHABET[ch as usize % ALPHABET.len()];
        match kind % 4 {
            0 => bytes[pos] = ch,
            1 => {
                bytes.remove(pos);
            }
            2 => bytes.insert(pos, ch),
            _ => {
                // Duplicate a slice: repeats whole constructs.
                let end = (pos + 40).min(bytes.len());
                let slice = bytes[pos..end].to_vec();
                bytes.splice(pos..pos, slice);
            }
        }
    }
    String::from_utf8_lossy(&bytes).into_owned()
}

/// Every editor feature, at `offsets` (and the text's edges), on any text.
fn ask_everything(text: &str, offsets: &[usize]) {
    use qualify::ide;
    let mut db = qualify::db::Database::default();
    db.set_as_of(20_600);
    let file = db.set_file(Path::new("/virtual/editor.qual"), text.to_string());
    ide::outline::symbols(&db, file);
    ide::outline::folding(&db, file);
    for token in ide::tokens::tokens(&db, file) {
        assert!(token.span.end as usize <= text.len());
    }
    ide::hints::hints(&db, file, None);
    let ends = [0, text.len(), text.len() + 10];
    for &offset in offsets.iter().chain(&ends) {
        let offset = if text.is_empty() {
            offset
        } else {
            offset % (text.len() + 1)
        };
        ide::hover::hover(&db, file, offset, None);
        ide::navigate::definition(&db, file, offset);
        ide::navigate::references(&db, &[], file, offset, true);
        let _ = ide::navigate::rename(&db, &[], file, offset, "new name");
        for c in ide::complete::complete(&db, file, offset) {
            assert!(c.replace.start <= c.replace.end && c.replace.end as usize <= text.len());
        }
        let span = qualify::syntax::Span::new(offset.min(text.len()), offset.min(text.len()));
        ide::actions::actions(&db, file, span, &[]);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    #[test]
    fn editor_features_never_panic_on_mutated_policies(
        ops in proptest::collection::vec((any::<usize>(), any::<u8>(), any::<u8>()), 1..8),
        offsets in proptest::collection::vec(any::<usize>(), 4),
    ) {
        ask_everything(&mutate(SEED, &ops), &offsets);
    }

    #[test]
    fn editor_features_never_panic_on_random_text(text in "\\PC{0,120}", offsets in proptest::collection::vec(any::<usize>(), 4)) {
        ask_everything(&text, &offsets);
    }

    #[test]
    fn mutated_policies_never_panic(ops in proptest::collection::vec((any::<usize>(), any::<u8>(), any::<u8>()), 1..12)) {
        check_text(&mutate(SEED, &ops));
    }

    #[test]
    fn random_text_never_panics(text in "\\PC{0,200}") {
        check_text(&text);
    }
}

#[test]
fn ten_thousand_nested_parentheses_is_an_error() {
    let text = format!(
        "field x: bool\nstages a < b\n{}x{} => b\n",
        "(".repeat(10_000),
        ")".repeat(10_000)
    );
    check_text(&text);
    let parsed = qualify::syntax::parse(Path::new("deep.qual"), &text);
    assert_eq!(
        parsed.diagnostics[0].code,
        qualify::diagnostic::Code::TooDeep
    );
}

#[test]
fn long_chains_of_not_and_and_do_not_overflow() {
    let text = format!(
        "field x: bool\nstages a < b\n{}x => b\n{} => b\n",
        "not ".repeat(20_000),
        vec!["x"; 20_000].join(" and ")
    );
    check_text(&text);
}
