//! Diagnostics, published in two steps after each edit: first what the
//! checker says (parse, names, types — milliseconds), with the previous
//! analysis findings carried along, moved by the edit; then, when it is
//! done, the analysis and the sample's findings. The next edit cancels the
//! second step: salsa unwinds the running queries when the database is
//! written, and the analysis and the sample pass check for that as they go.

use std::collections::HashMap;
use std::panic::AssertUnwindSafe;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use tower_lsp_server::ls_types::{Diagnostic, Uri};

use super::convert::{self, Lines};
use super::state::{Published, State};
use crate::analysis::sample::Report;
use crate::db::{self, Database, SourceFile};
use crate::diagnostic::{Code, Diagnostic as QDiagnostic, Severity};
use crate::syntax::Span;

/// Recompute and publish the diagnostics of every open document.
pub(super) fn refresh(state: &Arc<State>) {
    let edit = state.edits.fetch_add(1, Ordering::SeqCst) + 1;
    let state = state.clone();
    tokio::spawn(async move {
        let client = state.client.clone();
        let docs: Vec<(PathBuf, Uri, i32)> = state
            .docs
            .lock()
            .unwrap()
            .iter()
            .map(|(p, d)| (p.clone(), d.uri.clone(), d.version))
            .collect();
        let current = |state: &State| state.edits.load(Ordering::SeqCst) == edit;
        // Step 1: the checker's diagnostics, with earlier findings moved.
        let snapshot = state.db.lock().unwrap().clone();
        let carried: HashMap<PathBuf, (String, Vec<QDiagnostic>)> = state
            .published
            .lock()
            .unwrap()
            .iter()
            .map(|(p, pub_)| (p.clone(), (pub_.text.clone(), pub_.analysis.clone())))
            .collect();
        let docs2 = docs.clone();
        let quick = tokio::task::spawn_blocking(move || {
            salsa::Cancelled::catch(AssertUnwindSafe(|| {
                docs2
                    .iter()
                    .filter_map(|(path, uri, version)| {
                        let file = snapshot.file(path)?;
                        let checked = db::checked(&snapshot, file);
                        let text = file.text(&snapshot);
                        let mut all = checked.diagnostics.clone();
                        if !checked.has_errors() {
                            if let Some((old, analysis)) = carried.get(path) {
                                all.extend(shift(old, text, analysis));
                            }
                        }
                        let lines = Lines::new(text);
                        let lsp: Vec<Diagnostic> = all
                            .iter()
                            .map(|d| convert::diagnostic(&snapshot, &lines, d))
                            .collect();
                        Some((uri.clone(), *version, lsp))
                    })
                    .collect::<Vec<_>>()
            }))
        })
        .await;
        let Ok(Ok(quick)) = quick else { return };
        if !current(&state) {
            return;
        }
        for (uri, version, diagnostics) in quick {
            client
                .publish_diagnostics(uri, diagnostics, Some(version))
                .await;
        }
        // Step 2: the analysis and the sample.
        let (snapshot, generation) = state.snapshot();
        let full = tokio::task::spawn_blocking(move || {
            salsa::Cancelled::catch(AssertUnwindSafe(|| {
                docs.iter()
                    .filter_map(|(path, uri, version)| {
                        let file = snapshot.file(path)?;
                        let text = file.text(&snapshot).clone();
                        let (all, sample) = everything(&snapshot, file);
                        let lines = Lines::new(&text);
                        let lsp: Vec<Diagnostic> = all
                            .iter()
                            .map(|d| convert::diagnostic(&snapshot, &lines, d))
                            .collect();
                        let analysis: Vec<QDiagnostic> = all
                            .into_iter()
                            .filter(|d| d.code.is_analysis_finding())
                            .collect();
                        Some((
                            path.clone(),
                            uri.clone(),
                            *version,
                            lsp,
                            text,
                            analysis,
                            sample,
                        ))
                    })
                    .collect::<Vec<_>>()
            }))
        })
        .await;
        let Ok(Ok(full)) = full else { return };
        {
            let mut analysed = state.analysed.lock().unwrap();
            for (path, ..) in &full {
                analysed.insert(path.clone(), generation);
            }
        }
        if !current(&state) {
            return;
        }
        for (path, uri, version, diagnostics, text, analysis, sample) in full {
            state
                .published
                .lock()
                .unwrap()
                .insert(path.clone(), Published { text, analysis });
            match sample {
                Some(report) => state.samples.lock().unwrap().insert(path, report),
                None => state.samples.lock().unwrap().remove(&path),
            };
            client
                .publish_diagnostics(uri, diagnostics, Some(version))
                .await;
        }
    });
}

/// Everything reported for a file: checker, analysis and sample findings;
/// and the sample's report, for hover and hints.
pub(super) fn everything(
    db: &Database,
    file: SourceFile,
) -> (Vec<QDiagnostic>, Option<Arc<Report>>) {
    let mut all = db::diagnostics(db, file).clone();
    let mut sample = None;
    // What the sample could not give is said on the first line, as a note,
    // rather than lost: the editor has no stderr to print it to.
    let first_line = |code: Code, message: String| {
        QDiagnostic::new(code, file.path(db).clone(), Span::new(0, 0), message)
    };
    match db::sample_report(db, file) {
        Some(Ok((config, report))) => {
            all.extend(report.diagnostics.iter().cloned());
            let rejected = &report.read.rejected;
            if let Some(first) = rejected.first() {
                let mut note = first_line(
                    Code::SampleUnreadable,
                    format!(
                        "sample {}: {} leads read, {} row{} rejected and not counted (first: {first})",
                        config.file.display(),
                        crate::check::thousands(report.read.leads as u64),
                        crate::check::thousands(rejected.len() as u64),
                        if rejected.len() == 1 { "" } else { "s" },
                    ),
                );
                note.severity = Severity::Note;
                all.push(note);
            }
            sample = Some(Arc::new(report.clone()));
        }
        Some(Err(error)) => all.push(error.diagnostic(file.path(db))),
        None => {}
    }
    all.sort_by_key(|d| (d.span.start, d.code));
    (all, sample)
}

/// The sample report of a file: the one the last diagnostics pass kept,
/// else computed now.
pub(super) fn sample_of(
    db: &Database,
    file: SourceFile,
    kept: Option<Arc<Report>>,
) -> Option<Arc<Report>> {
    kept.or_else(|| match db::sample_report(db, file) {
        Some(Ok((_, report))) => Some(Arc::new(report.clone())),
        _ => None,
    })
}

/// Move `diagnostics` computed on `old` to where they are in `new`: spans
/// before the edited region stay, spans after it move with it, spans inside
/// it are dropped until the analysis runs again.
fn shift(old: &str, new: &str, diagnostics: &[QDiagnostic]) -> Vec<QDiagnostic> {
    if old == new {
        return diagnostics.to_vec();
    }
    let prefix = old
        .bytes()
        .zip(new.bytes())
        .take_while(|(a, b)| a == b)
        .count();
    let suffix = old.as_bytes()[prefix..]
        .iter()
        .rev()
        .zip(new.as_bytes()[prefix..].iter().rev())
        .take_while(|(a, b)| a == b)
        .count();
    let old_end = old.len() - suffix;
    let delta = new.len() as i64 - old.len() as i64;
    let map = |span: Span| -> Option<Span> {
        if (span.end as usize) <= prefix {
            Some(span)
        } else if (span.start as usize) >= old_end {
            Some(Span::new(
                (span.start as i64 + delta) as usize,
                (span.end as i64 + delta) as usize,
            ))
        } else {
            None
        }
    };
    diagnostics
        .iter()
        .filter_map(|d| {
            let mut d = d.clone();
            d.span = map(d.span)?;
            d.fix = None;
            d.related.retain_mut(|r| {
                if r.file != d.file {
                    return true;
                }
                match map(r.span) {
                    Some(s) => {
                        r.span = s;
                        true
                    }
                    None => false,
                }
            });
            Some(d)
        })
        .collect()
}
