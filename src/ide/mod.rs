//! What an editor asks about a policy — hover, definitions, references,
//! rename, outline, folding, completion, highlighting, hints, quick fixes —
//! answered from the salsa database in byte offsets and plain Rust types.
//!
//! The language server (`crate::lsp`) is a thin translation of these answers
//! into LSP types; keeping the protocol out of here lets the features be
//! tested directly and keeps a protocol-crate upgrade local to `lsp`.
//!
//! Invariant: every function here answers from whatever the database holds,
//! including a file with syntax errors, and never panics on any offset.

pub mod actions;
pub mod complete;
pub mod hints;
pub mod hover;
pub mod navigate;
pub mod outline;
pub mod tokens;

use std::path::{Path, PathBuf};

use crate::check::names::{NameRef, Target};
use crate::check::{Loc, Policy};
use crate::db::{self, Db, SourceFile};
use crate::syntax::Span;

/// A span in a named file.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FileSpan {
    pub path: PathBuf,
    pub span: Span,
}

/// A text edit in a named file.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct FileEdit {
    pub path: PathBuf,
    pub span: Span,
    pub text: String,
}

/// The name written at `offset` in `file`, and what it names.
pub fn name_at(db: &dyn Db, file: SourceFile, offset: usize) -> Option<NameRef> {
    db::names(db, file).at(0, offset).copied()
}

/// Where `target` of the policy rooted at `file` is declared.
pub fn declaration(db: &dyn Db, file: SourceFile, target: Target) -> Option<FileSpan> {
    let policy = &db::checked(db, file).policy;
    if let Some(def) = db::names(db, file).definition(target) {
        return Some(FileSpan {
            path: policy.files[def.file as usize].clone(),
            span: def.span,
        });
    }
    // An unlabelled rule has no name to point at: its whole line.
    if let Target::Rule(r) = target {
        let loc = policy.rules.get(r)?.loc;
        return Some(file_span(policy, loc));
    }
    None
}

pub fn file_span(policy: &Policy, loc: Loc) -> FileSpan {
    FileSpan {
        path: policy.path(loc).to_path_buf(),
        span: loc.span,
    }
}

/// Two paths name the same file.
pub fn same_file(a: &Path, b: &Path) -> bool {
    a == b || db::file_key(a) == db::file_key(b)
}

/// The text of `span` in `file`, or "" when out of range.
pub fn slice(text: &str, span: Span) -> &str {
    text.get(span.range()).unwrap_or("")
}

/// Clamp `offset` into `text` at a character boundary.
pub fn clamp(text: &str, offset: usize) -> usize {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    offset
}
