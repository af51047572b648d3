//! Byte offsets and our types ↔ LSP positions and types: every answer of
//! `crate::ide` becomes a protocol type here, so the handlers only ask and
//! pass on.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use tower_lsp_server::ls_types::{self as lsp, Position, Range, Uri};

use crate::db::{Database, Db};
use crate::diagnostic::{Diagnostic, Severity};
use crate::ide;
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

/// Edits in named files as one workspace edit.
pub fn workspace_edit(db: &Database, edits: Vec<ide::FileEdit>) -> lsp::WorkspaceEdit {
    let mut changes: HashMap<Uri, Vec<lsp::TextEdit>> = HashMap::new();
    for edit in edits {
        let Some(uri) = uri_of(&edit.path) else {
            continue;
        };
        changes.entry(uri).or_default().push(lsp::TextEdit {
            range: range_in(db, &edit.path, edit.span),
            new_text: edit.text,
        });
    }
    lsp::WorkspaceEdit {
        changes: Some(changes),
        ..lsp::WorkspaceEdit::default()
    }
}

pub fn location(db: &Database, site: &ide::FileSpan) -> Option<lsp::Location> {
    Some(lsp::Location {
        uri: uri_of(&site.path)?,
        range: range_in(db, &site.path, site.span),
    })
}

pub fn hover(lines: &Lines, span: Span, markdown: String) -> lsp::Hover {
    lsp::Hover {
        contents: lsp::HoverContents::Markup(lsp::MarkupContent {
            kind: lsp::MarkupKind::Markdown,
            value: markdown,
        }),
        range: Some(lines.range(span)),
    }
}

/// The semantic token types, in the order of `ide::tokens::TokenType::ALL`.
pub fn legend() -> lsp::SemanticTokensLegend {
    use ide::tokens::TokenType as T;
    use lsp::SemanticTokenType as S;
    lsp::SemanticTokensLegend {
        token_types: T::ALL
            .iter()
            .map(|t| match t {
                T::Keyword => S::KEYWORD,
                T::Type => S::TYPE,
                T::String => S::STRING,
                T::Number => S::NUMBER,
                T::Operator => S::OPERATOR,
                T::Comment => S::COMMENT,
                T::EnumMember => S::ENUM_MEMBER,
                T::Property => S::PROPERTY,
                T::Function => S::FUNCTION,
                T::Variable => S::VARIABLE,
                T::Class => S::CLASS,
                T::Method => S::METHOD,
            })
            .collect(),
        token_modifiers: vec![lsp::SemanticTokenModifier::DECLARATION],
    }
}

/// Tokens in the protocol's relative encoding (lines and starts as deltas
/// from the previous token), types as indices into `legend()`.
pub fn semantic_tokens(lines: &Lines, tokens: Vec<ide::tokens::Token>) -> lsp::SemanticTokens {
    let types = ide::tokens::TokenType::ALL;
    let mut data = Vec::new();
    let (mut last_line, mut last_start) = (0u32, 0u32);
    for token in tokens {
        let range = lines.range(token.span);
        if range.start.line != range.end.line {
            continue; // tokens never span lines in this language
        }
        let delta_line = range.start.line - last_line;
        let delta_start = if delta_line == 0 {
            range.start.character - last_start
        } else {
            range.start.character
        };
        data.push(lsp::SemanticToken {
            delta_line,
            delta_start,
            length: range.end.character - range.start.character,
            token_type: types.iter().position(|t| *t == token.ty).unwrap_or(0) as u32,
            token_modifiers_bitset: u32::from(token.declaration),
        });
        last_line = range.start.line;
        last_start = range.start.character;
    }
    lsp::SemanticTokens {
        result_id: None,
        data,
    }
}

pub fn symbol(lines: &Lines, s: ide::outline::Symbol) -> lsp::DocumentSymbol {
    use ide::outline::SymbolKind as K;
    use lsp::SymbolKind as S;
    #[allow(deprecated)] // `deprecated` is a required field of the struct
    lsp::DocumentSymbol {
        name: if s.name.is_empty() {
            "?".into()
        } else {
            s.name
        },
        detail: s.detail,
        kind: match s.kind {
            K::Import => S::MODULE,
            K::Field => S::FIELD,
            K::Stage => S::ENUM_MEMBER,
            K::Criterion => S::FUNCTION,
            K::Requirement => S::INTERFACE,
            K::Score => S::CLASS,
            K::PointLine => S::PROPERTY,
            K::Rule => S::METHOD,
            K::Test => S::EVENT,
        },
        tags: None,
        deprecated: None,
        range: lines.range(s.span),
        selection_range: lines.range(s.selection),
        children: if s.children.is_empty() {
            None
        } else {
            Some(s.children.into_iter().map(|c| symbol(lines, c)).collect())
        },
    }
}

pub fn folding_range(f: ide::outline::Fold) -> lsp::FoldingRange {
    use ide::outline::FoldKind as K;
    lsp::FoldingRange {
        start_line: f.start_line,
        end_line: f.end_line,
        kind: Some(match f.kind {
            K::Comment => lsp::FoldingRangeKind::Comment,
            K::Imports => lsp::FoldingRangeKind::Imports,
            K::Region => lsp::FoldingRangeKind::Region,
        }),
        ..Default::default()
    }
}

/// The `index`th completion, sorted as computed (context first); `text` is
/// the document's, for the filter text.
pub fn completion_item(
    lines: &Lines,
    text: &str,
    index: usize,
    c: ide::complete::Completion,
) -> lsp::CompletionItem {
    use ide::complete::ItemKind as K;
    use lsp::CompletionItemKind as C;
    lsp::CompletionItem {
        label: c.label.clone(),
        kind: Some(match c.kind {
            K::Field => C::FIELD,
            K::Criterion => C::FUNCTION,
            K::Score => C::VARIABLE,
            K::Stage => C::CLASS,
            K::Rule => C::METHOD,
            K::EnumValue => C::ENUM_MEMBER,
            K::Operator => C::OPERATOR,
            K::Keyword => C::KEYWORD,
            K::Type => C::TYPE_PARAMETER,
            K::Snippet => C::SNIPPET,
        }),
        detail: c.detail,
        // Keep our order: context first, as computed.
        sort_text: Some(format!("{index:04}")),
        filter_text: Some(text.get(c.replace.range()).map_or_else(
            || c.label.clone(),
            |typed| {
                if c.label.to_lowercase().starts_with(&typed.to_lowercase()) {
                    c.label.clone()
                } else {
                    format!("{typed}{}", c.label)
                }
            },
        )),
        insert_text_format: Some(if c.snippet {
            lsp::InsertTextFormat::SNIPPET
        } else {
            lsp::InsertTextFormat::PLAIN_TEXT
        }),
        text_edit: Some(lsp::CompletionTextEdit::Edit(lsp::TextEdit {
            range: lines.range(c.replace),
            new_text: c.insert,
        })),
        ..Default::default()
    }
}

pub fn inlay_hint(lines: &Lines, h: ide::hints::Hint) -> lsp::InlayHint {
    lsp::InlayHint {
        position: lines.position(h.offset),
        label: lsp::InlayHintLabel::String(h.label),
        kind: None,
        text_edits: None,
        tooltip: None,
        padding_left: Some(true),
        padding_right: None,
        data: None,
    }
}

pub fn code_action(
    db: &Database,
    lines: &Lines,
    a: ide::actions::Action,
) -> lsp::CodeActionOrCommand {
    lsp::CodeActionOrCommand::CodeAction(lsp::CodeAction {
        title: a.title,
        kind: Some(lsp::CodeActionKind::QUICKFIX),
        diagnostics: a.diagnostic.map(|d| vec![diagnostic(db, lines, &d)]),
        edit: Some(workspace_edit(db, a.edits)),
        is_preferred: Some(a.preferred),
        ..Default::default()
    })
}

/// The formatter's output as edits: only the lines that change, and with
/// `within`, only the changes that touch those lines. `None` when the text
/// does not parse.
pub fn format_edits(text: &str, within: Option<Range>) -> Option<Vec<lsp::TextEdit>> {
    let parsed = crate::syntax::parse(Path::new("document.qual"), text);
    if !parsed.diagnostics.is_empty() {
        // Formatting would drop the lines that do not parse.
        return None;
    }
    let formatted = crate::syntax::format::format(text, &parsed.file);
    let diff = similar::TextDiff::from_lines(text, &formatted);
    let old_lines: Vec<&str> = text.split_inclusive('\n').collect();
    let new_lines: Vec<&str> = formatted.split_inclusive('\n').collect();
    let mut edits = Vec::new();
    for op in diff.ops() {
        let (tag, old_range, new_range) = op.as_tag_tuple();
        if tag == similar::DiffTag::Equal {
            continue;
        }
        if let Some(r) = within {
            let (first, last) = (
                old_range.start as u32,
                old_range.end.max(old_range.start + 1) as u32 - 1,
            );
            if last < r.start.line || first > r.end.line {
                continue;
            }
        }
        let start = Position::new(old_range.start as u32, 0);
        let end = if old_range.end < old_lines.len() || text.ends_with('\n') {
            Position::new(old_range.end as u32, 0)
        } else {
            // The last line has no newline: end at its end.
            let last = old_lines.last().copied().unwrap_or("");
            Position::new(
                old_range.end.saturating_sub(1) as u32,
                last.encode_utf16().count() as u32,
            )
        };
        edits.push(lsp::TextEdit {
            range: Range { start, end },
            new_text: new_lines[new_range].concat(),
        });
    }
    Some(edits)
}
