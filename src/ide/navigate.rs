//! Go to definition, find references and rename, across every file of the
//! workspace: a name declared in a shared file is found through each policy
//! that imports it.

use std::collections::BTreeSet;

use super::{FileEdit, FileSpan, declaration, name_at, same_file};
use crate::check::names::Target;
use crate::db::{self, Db, SourceFile};
use crate::syntax::{self, ItemKind};

pub fn definition(db: &dyn Db, file: SourceFile, offset: usize) -> Option<FileSpan> {
    let name = name_at(db, file, offset)?;
    declaration(db, file, name.target)
}

/// Every place the name at `offset` is written, in `file` and in every
/// policy of `workspace` that sees the same declaration.
pub fn references(
    db: &dyn Db,
    workspace: &[SourceFile],
    file: SourceFile,
    offset: usize,
    include_declaration: bool,
) -> Vec<FileSpan> {
    let Some(name) = name_at(db, file, offset) else {
        return Vec::new();
    };
    let Some(site) = declaration(db, file, name.target) else {
        return Vec::new();
    };
    let mut found = BTreeSet::new();
    let roots = std::iter::once(file).chain(workspace.iter().copied());
    for root in roots {
        let Some(target) = same_target(db, root, &site, name.target) else {
            continue;
        };
        let policy = &db::checked(db, root).policy;
        for r in db::names(db, root).uses(target) {
            if r.is_definition && !include_declaration {
                continue;
            }
            let path = policy.files[r.file as usize].clone();
            found.insert(FileSpan { path, span: r.span });
        }
    }
    // One file reached through two policies under two spellings of its path.
    let mut out: Vec<FileSpan> = Vec::new();
    for f in found {
        if !out
            .iter()
            .any(|o| o.span == f.span && same_file(&o.path, &f.path))
        {
            out.push(f);
        }
    }
    out
}

/// The target of `root`'s policy declared at `site`, if that policy sees it.
fn same_target(db: &dyn Db, root: SourceFile, site: &FileSpan, like: Target) -> Option<Target> {
    let policy = &db::checked(db, root).policy;
    let index = db::names(db, root);
    index
        .refs
        .iter()
        .filter(|r| {
            r.is_definition && std::mem::discriminant(&r.target) == std::mem::discriminant(&like)
        })
        .find(|r| r.span == site.span && same_file(&policy.files[r.file as usize], &site.path))
        .map(|r| r.target)
}

/// The span and current text of the name a rename at `offset` would change.
pub fn prepare_rename(
    db: &dyn Db,
    file: SourceFile,
    offset: usize,
) -> Option<(crate::syntax::Span, String)> {
    let name = name_at(db, file, offset)?;
    let text = file.text(db).get(name.span.range())?.to_string();
    Some((name.span, text))
}

/// The edits renaming the name at `offset` to `new_name`, or why not.
pub fn rename(
    db: &dyn Db,
    workspace: &[SourceFile],
    file: SourceFile,
    offset: usize,
    new_name: &str,
) -> Result<Vec<FileEdit>, String> {
    let new_name = new_name.trim();
    let Some(name) = name_at(db, file, offset) else {
        return Err("there is no field, criterion, score, stage or rule name here".into());
    };
    if !syntax::is_valid_name(new_name) {
        return Err(format!(
            "`{new_name}` is not a name: use words of letters, digits and `_`, separated by single spaces, without reserved words like `and` or `in`"
        ));
    }
    let policy = &db::checked(db, file).policy;
    let old = match name.target {
        Target::Field(f) => policy.fields[f].name.clone(),
        Target::Criterion(c) => policy.criteria[c].name.clone(),
        Target::Score(s) => policy.scores[s].name.clone(),
        Target::Stage(s) => policy.stages[s].name.clone(),
        Target::Rule(r) => policy.rules[r].label.clone().unwrap_or_default(),
    };
    if old == new_name {
        return Ok(Vec::new());
    }
    let uses = references(db, workspace, file, offset, true);
    // Refuse a name already taken in any policy the rename touches.
    let roots = std::iter::once(file).chain(workspace.iter().copied());
    for root in roots {
        let p = &db::checked(db, root).policy;
        let touched = p
            .files
            .iter()
            .any(|f| uses.iter().any(|u| same_file(&u.path, f)));
        if !touched {
            continue;
        }
        let clash = match name.target {
            Target::Field(_) | Target::Criterion(_) | Target::Score(_) => {
                if p.field_by_name(new_name).is_some() {
                    Some("field")
                } else if p.criteria.iter().any(|c| c.name == new_name) {
                    Some("criterion")
                } else if p.score_by_name(new_name).is_some() {
                    Some("score")
                } else {
                    None
                }
            }
            // Stages and rule labels are never written in the same place
            // (`=> STAGE`, `expect STAGE` against `expect rule NAME`).
            Target::Stage(_) => p.stage_by_name(new_name).map(|_| "stage"),
            Target::Rule(_) => p
                .rules
                .iter()
                .any(|r| r.label.as_deref() == Some(new_name))
                .then_some("rule"),
        };
        if let Some(kind) = clash {
            return Err(format!(
                "`{new_name}` is already the name of a {kind} in {}",
                p.files[0].display()
            ));
        }
    }
    let mut edits: Vec<FileEdit> = uses
        .into_iter()
        .map(|u| FileEdit {
            path: u.path,
            span: u.span,
            text: new_name.to_string(),
        })
        .collect();
    // A field without `from` reads the column of its own name: keep it
    // reading that column.
    if let Target::Field(f) = name.target {
        if let Some(site) = declaration(db, file, name.target) {
            if let Some(decl_file) = db.load(&site.path) {
                for item in &db::parse(db, decl_file).file.items {
                    if let ItemKind::Field(decl) = &item.kind {
                        if decl.name.span == site.span && decl.column.is_none() {
                            edits.push(FileEdit {
                                path: site.path.clone(),
                                span: crate::syntax::Span::new(
                                    decl.ty_span.end as usize,
                                    decl.ty_span.end as usize,
                                ),
                                text: format!(" from {}", syntax::escape(&policy.fields[f].column)),
                            });
                        }
                    }
                }
            }
        }
    }
    edits.sort();
    Ok(edits)
}
