//! Byte offsets and our types ↔ LSP positions and types. The only place,
//! with `server.rs`, that knows the protocol.

use std::path::{Path, PathBuf};

use tower_lsp_server::ls_types::{self as lsp, Position, Range, Uri};

use crate::db::{Database, Db};
use crate::diagnostic::{Diagnostic, Severity};
use crate::line_index::LineIndex;
use crate::syntax::Span;

pub fn path_of(uri: &Uri) -> Option<PathBuf> {
    uri.to_file_path().map(|p| p.into_owned())
}

pub fn uri_of(path: &Path) -> Option<Uri> {
    let absolute = if path.is_absolute() {
        path.to_path_buf()
    } else {
        std::env::current_dir().ok()?.join(path)
    };
    Uri::from_file_path(absolute)
}

/// Text with its line index, for converting positions.
pub struct Lines<'a> {
    pub text: &'a str,
    pub index: LineIndex,
}

impl<'a> Lines<'a> {
    pub fn new(text: &'a str) -> Self {
        Lines {
            text,
            index: LineIndex::new(text),
        }
    }
    pub fn position(&self, offset: usize) -> Position {
        let (line, character) = self.index.utf16(self.text, offset);
        Position { line, character }
    }
    pub fn range(&self, span: Span) -> Range {
        Range {
            start: self.position(span.start as usize),
            end: self.position(span.end as usize),
        }
    }
    pub fn offset(&self, position: Position) -> usize {
        self.index
            .offset_utf16(self.text, position.line, position.character)
    }
    pub fn span(&self, range: Range) -> Span {
        Span::new(self.offset(range.start), self.offset(range.end))
    }
}

/// The range of `span` in the file at `path`, reading its text from the
/// database (or disk).
pub fn range_in(db: &Database, path: &Path, span: Span) -> Range {
    match db.load(path) {
        Some(file) => Lines::new(file.text(db)).range(span),
        None => Range::default(),
    }
}

pub fn diagnostic(db: &Database, lines: &Lines, d: &Diagnostic) -> lsp::Diagnostic {
    let mut message = d.message.clone();
    if let Some(help) = &d.help {
        message.push_str("\nhelp: ");
        message.push_str(help);
    }
    if let Some(witness) = &d.witness {
        message.push('\n');
        message.push_str(&d.witness_intro());
        message.push_str(": ");
        message.push_str(witness);
    }
    let related: Vec<lsp::DiagnosticRelatedInformation> = d
        .related
        .iter()
        .filter_map(|r| {
            Some(lsp::DiagnosticRelatedInformation {
                location: lsp::Location {
                    uri: uri_of(&r.file)?,
                    range: if r.file == d.file {
                        lines.range(r.span)
                    } else {
                        range_in(db, &r.file, r.span)
                    },
                },
                message: r.message.clone(),
            })
        })
        .collect();
    lsp::Diagnostic {
        range: lines.range(d.span),
        severity: Some(match d.severity {
            Severity::Error => lsp::DiagnosticSeverity::ERROR,
            Severity::Warning => lsp::DiagnosticSeverity::WARNING,
            Severity::Note => lsp::DiagnosticSeverity::INFORMATION,
        }),
        code: Some(lsp::NumberOrString::String(d.code.as_str().to_string())),
        code_description: None,
        source: Some("qualify".into()),
        message,
        related_information: (!related.is_empty()).then_some(related),
        tags: None,
        data: None,
    }
}
