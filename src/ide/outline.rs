//! The outline (document symbols) and folding ranges of one file, from its
//! syntax tree alone: they work while the file has errors.

use crate::db::{self, Db, SourceFile};
use crate::line_index::LineIndex;
use crate::syntax::{ItemKind, ScoreEntry, Span, TestEntry};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SymbolKind {
    Import,
    Field,
    Stage,
    Criterion,
    Requirement,
    Score,
    PointLine,
    Rule,
    Test,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Symbol {
    pub name: String,
    pub detail: Option<String>,
    pub kind: SymbolKind,
    /// The whole item.
    pub span: Span,
    /// The part to select: its name.
    pub selection: Span,
    pub children: Vec<Symbol>,
}

pub fn symbols(db: &dyn Db, file: SourceFile) -> Vec<Symbol> {
    let parsed = db::parse(db, file);
    let text = file.text(db);
    let mut out = Vec::new();
    for item in &parsed.file.items {
        let leaf = |name: String, detail: Option<String>, kind, selection| Symbol {
            name,
            detail,
            kind,
            span: item.span,
            selection,
            children: Vec::new(),
        };
        match &item.kind {
            ItemKind::Import(path) => out.push(leaf(
                path.value.clone(),
                Some("import".into()),
                SymbolKind::Import,
                path.span,
            )),
            ItemKind::Field(f) => out.push(leaf(
                f.name.text.clone(),
                Some(super::slice(text, f.ty_span).to_string()),
                SymbolKind::Field,
                f.name.span,
            )),
            ItemKind::Stages(names) => {
                for n in names {
                    out.push(Symbol {
                        name: n.text.clone(),
                        detail: Some("stage".into()),
                        kind: SymbolKind::Stage,
                        span: n.span,
                        selection: n.span,
                        children: Vec::new(),
                    });
                }
            }
            ItemKind::Otherwise(n) => out.push(leaf(
                format!("otherwise {}", n.text),
                None,
                SymbolKind::Rule,
                n.span,
            )),
            ItemKind::Criterion(c) => out.push(leaf(
                c.name.text.clone(),
                Some("criterion".into()),
                SymbolKind::Criterion,
                c.name.span,
            )),
            ItemKind::Require(r) => out.push(leaf(
                format!("require {}", r.stage.text),
                None,
                SymbolKind::Requirement,
                r.stage.span,
            )),
            ItemKind::Score(s) => {
                let mut symbol = leaf(
                    s.name.text.clone(),
                    Some("score".into()),
                    SymbolKind::Score,
                    s.name.span,
                );
                for entry in &s.entries {
                    if let ScoreEntry::Points(line) = entry {
                        symbol.children.push(Symbol {
                            name: super::slice(text, line.span).to_string(),
                            detail: None,
                            kind: SymbolKind::PointLine,
                            span: line.span,
                            selection: line.points.span,
                            children: Vec::new(),
                        });
                    }
                }
                out.push(symbol);
            }
            ItemKind::Rule(r) => {
                let name = match &r.label {
                    Some(l) => l.text.clone(),
                    None => super::slice(text, r.condition.span).to_string(),
                };
                let selection = r.label.as_ref().map_or(r.condition.span, |l| l.span);
                out.push(leaf(
                    name,
                    Some(if r.ceiling.is_some() {
                        format!("=> at most {}", r.stage.text)
                    } else {
                        format!("=> {}", r.stage.text)
                    }),
                    SymbolKind::Rule,
                    selection,
                ));
            }
            ItemKind::Test(t) => {
                let expect = t.entries.iter().find_map(|e| match e {
                    TestEntry::ExpectStage(n) => Some(format!("expect {}", n.text)),
                    TestEntry::ExpectNoStage { .. } => Some("expect no stage".into()),
                    _ => None,
                });
                out.push(leaf(
                    t.name.value.clone(),
                    expect.or(Some("test".into())),
                    SymbolKind::Test,
                    t.name.span,
                ));
            }
            ItemKind::Error => {}
        }
    }
    out
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FoldKind {
    Region,
    Comment,
    Imports,
}

/// 0-based first and last line of each foldable region.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Fold {
    pub start_line: u32,
    pub end_line: u32,
    pub kind: FoldKind,
}

pub fn folding(db: &dyn Db, file: SourceFile) -> Vec<Fold> {
    let parsed = db::parse(db, file);
    let text = file.text(db);
    let lines = LineIndex::new(text);
    let line = |offset: u32| lines.line(offset as usize) as u32;
    let mut folds = Vec::new();
    let mut imports: Option<(u32, u32)> = None;
    for item in &parsed.file.items {
        let (start, end) = (line(item.span.start), line(item.span.end.saturating_sub(1)));
        if matches!(item.kind, ItemKind::Import(_)) {
            imports = Some(match imports {
                Some((s, e)) if e + 1 >= start => (s, end),
                Some((s, e)) => {
                    if e > s {
                        folds.push(Fold {
                            start_line: s,
                            end_line: e,
                            kind: FoldKind::Imports,
                        });
                    }
                    (start, end)
                }
                None => (start, end),
            });
            continue;
        }
        if end > start {
            folds.push(Fold {
                start_line: start,
                end_line: end,
                kind: FoldKind::Region,
            });
        }
    }
    if let Some((s, e)) = imports {
        if e > s {
            folds.push(Fold {
                start_line: s,
                end_line: e,
                kind: FoldKind::Imports,
            });
        }
    }
    // Runs of whole-line comments.
    let mut run: Option<(u32, u32)> = None;
    for comment in parsed.file.comments.iter().filter(|c| !c.trailing) {
        let l = line(comment.span.start);
        run = match run {
            Some((s, e)) if e + 1 == l => Some((s, l)),
            Some((s, e)) => {
                if e > s {
                    folds.push(Fold {
                        start_line: s,
                        end_line: e,
                        kind: FoldKind::Comment,
                    });
                }
                Some((l, l))
            }
            None => Some((l, l)),
        };
    }
    if let Some((s, e)) = run {
        if e > s {
            folds.push(Fold {
                start_line: s,
                end_line: e,
                kind: FoldKind::Comment,
            });
        }
    }
    folds.sort_by_key(|f| (f.start_line, f.end_line));
    folds
}
