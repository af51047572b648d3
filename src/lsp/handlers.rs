//! One function per request or notification: find the file, ask
//! `crate::ide` on a snapshot (`State::read`), convert the answer
//! (`convert`). Edits are written to the database at once and start a
//! diagnostics pass (`diagnostics::refresh`).

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use tower_lsp_server::jsonrpc::{Error, Result};
use tower_lsp_server::ls_types::*;

use super::convert::{self, Lines, path_of};
use super::diagnostics::{everything, refresh, sample_of};
use super::settings;
use super::state::{Doc, State};
use crate::db::{Database, Db, SourceFile};
use crate::diagnostic::Diagnostic as QDiagnostic;
use crate::ide;

/// Remember the workspace folders and what the client can do; apply the
/// initialization options (their problems are shown once initialized).
pub(super) fn initialize(state: &State, params: &InitializeParams) {
    let mut roots: Vec<PathBuf> = params
        .workspace_folders
        .iter()
        .flatten()
        .filter_map(|f| path_of(&f.uri))
        .collect();
    #[allow(deprecated)] // older clients send only root_uri
    if roots.is_empty() {
        roots.extend(params.root_uri.as_ref().and_then(path_of));
    }
    *state.roots.lock().unwrap() = roots;
    let can_watch = params
        .capabilities
        .workspace
        .as_ref()
        .and_then(|w| w.did_change_watched_files.as_ref())
        .and_then(|w| w.dynamic_registration)
        .unwrap_or(false);
    state.watch_files.store(can_watch, Ordering::SeqCst);
    if let Some(options) = &params.initialization_options {
        *state.settings_problems.lock().unwrap() = settings::apply(state, options);
    }
}

pub(super) async fn initialized(state: &State) {
    let problems = std::mem::take(&mut *state.settings_problems.lock().unwrap());
    settings::report(state, problems).await;
    // Hear about policies, qualify.toml and sample files changing on
    // disk, when the client lets the server ask (without blocking here
    // on the client's answer).
    if state.watch_files.load(Ordering::SeqCst) {
        let client = state.client.clone();
        tokio::spawn(async move {
            let watchers: Vec<serde_json::Value> = [
                "**/*.qual",
                "**/qualify.toml",
                "**/*.csv",
                "**/*.jsonl",
                "**/*.json",
            ]
            .iter()
            .map(|glob| serde_json::json!({ "globPattern": glob }))
            .collect();
            let _ = client
                .register_capability(vec![Registration {
                    id: "qualify-watch".into(),
                    method: "workspace/didChangeWatchedFiles".into(),
                    register_options: Some(serde_json::json!({ "watchers": watchers })),
                }])
                .await;
        });
    }
    // Every policy in the workspace, so references and rename reach
    // files that are not open.
    let roots = state.roots.lock().unwrap().clone();
    let mut found = Vec::new();
    for root in roots {
        let walker = walkdir::WalkDir::new(root).into_iter().filter_entry(|e| {
            let name = e.file_name().to_string_lossy();
            e.depth() == 0 || !(name.starts_with('.') || name == "target" || name == "node_modules")
        });
        for entry in walker.flatten().take(20_000) {
            if entry.path().extension().is_some_and(|x| x == "qual") {
                found.push(entry.path().to_path_buf());
            }
        }
    }
    {
        let db = state.db.lock().unwrap();
        for path in &found {
            db.load(path);
        }
    }
    *state.workspace.lock().unwrap() = found;
}

pub(super) fn did_open(state: &Arc<State>, params: DidOpenTextDocumentParams) {
    let doc = params.text_document;
    let Some(path) = path_of(&doc.uri) else {
        return;
    };
    state.set_text(&path, doc.text);
    state.docs.lock().unwrap().insert(
        path,
        Doc {
            uri: doc.uri,
            version: doc.version,
        },
    );
    refresh(state);
}

pub(super) fn did_change(state: &Arc<State>, params: DidChangeTextDocumentParams) {
    let Some(path) = path_of(&params.text_document.uri) else {
        return;
    };
    // Full sync: the last change holds the whole text.
    let Some(change) = params.content_changes.into_iter().last() else {
        return;
    };
    state.set_text(&path, change.text);
    if let Some(doc) = state.docs.lock().unwrap().get_mut(&path) {
        doc.version = params.text_document.version;
    }
    refresh(state);
}

pub(super) async fn did_close(state: &Arc<State>, params: DidCloseTextDocumentParams) {
    let uri = params.text_document.uri;
    let Some(path) = path_of(&uri) else { return };
    state.docs.lock().unwrap().remove(&path);
    state.published.lock().unwrap().remove(&path);
    state.analysed.lock().unwrap().remove(&path);
    // Back to what is on disk, for the policies that import it.
    state.write(|db| db.reread(&path));
    state
        .client
        .publish_diagnostics(uri, Vec::new(), None)
        .await;
    refresh(state);
}

pub(super) async fn did_change_configuration(
    state: &Arc<State>,
    params: DidChangeConfigurationParams,
) {
    let problems = settings::apply(state, &params.settings);
    settings::report(state, problems).await;
    refresh(state);
}

pub(super) fn did_change_watched_files(state: &Arc<State>, params: DidChangeWatchedFilesParams) {
    for change in params.changes {
        let Some(path) = path_of(&change.uri) else {
            continue;
        };
        // An open file's text is the editor's, not the disk's.
        let open = state.docs.lock().unwrap().contains_key(&path);
        if !open {
            state.write(|db| db.reread(&path));
        }
    }
    refresh(state);
}

/// Pull diagnostics: not advertised (editors get them pushed), but
/// answered, with everything settled, for tests and tools.
pub(super) async fn diagnostic(
    state: &State,
    params: DocumentDiagnosticParams,
) -> Result<DocumentDiagnosticReportResult> {
    let Some((path, file)) = state.file_of(&params.text_document.uri) else {
        return Err(Error::invalid_params("not a file this server knows"));
    };
    let items = match state
        .read_at(move |db, _| {
            let lines = Lines::new(file.text(db));
            everything(db, file)
                .0
                .iter()
                .map(|d| convert::diagnostic(db, &lines, d))
                .collect::<Vec<_>>()
        })
        .await
    {
        Some((items, generation)) => {
            state.analysed.lock().unwrap().insert(path, generation);
            items
        }
        None => Vec::new(),
    };
    Ok(DocumentDiagnosticReportResult::Report(
        DocumentDiagnosticReport::Full(RelatedFullDocumentDiagnosticReport {
            related_documents: None,
            full_document_diagnostic_report: FullDocumentDiagnosticReport {
                result_id: None,
                items,
            },
        }),
    ))
}

pub(super) async fn hover(state: &State, params: HoverParams) -> Result<Option<Hover>> {
    let p = params.text_document_position_params;
    let Some((path, file)) = state.file_of(&p.text_document.uri) else {
        return Ok(None);
    };
    let sample = state.sample(&path);
    Ok(state
        .read(move |db| {
            let lines = Lines::new(file.text(db));
            let offset = lines.offset(p.position);
            let sample = sample_of(db, file, sample.clone());
            let (span, markdown) = ide::hover::hover(db, file, offset, sample.as_deref())?;
            Some(convert::hover(&lines, span, markdown))
        })
        .await
        .flatten())
}

pub(super) async fn goto_definition(
    state: &State,
    params: GotoDefinitionParams,
) -> Result<Option<GotoDefinitionResponse>> {
    let p = params.text_document_position_params;
    let Some((_, file)) = state.file_of(&p.text_document.uri) else {
        return Ok(None);
    };
    Ok(state
        .read(move |db| {
            let offset = Lines::new(file.text(db)).offset(p.position);
            let site = ide::navigate::definition(db, file, offset)?;
            Some(GotoDefinitionResponse::Scalar(convert::location(
                db, &site,
            )?))
        })
        .await
        .flatten())
}

pub(super) async fn references(
    state: &State,
    params: ReferenceParams,
) -> Result<Option<Vec<Location>>> {
    let p = params.text_document_position;
    let Some((_, file)) = state.file_of(&p.text_document.uri) else {
        return Ok(None);
    };
    let workspace = state.workspace.lock().unwrap().clone();
    let include = params.context.include_declaration;
    Ok(state
        .read(move |db| {
            let offset = Lines::new(file.text(db)).offset(p.position);
            let roots = workspace_files(db, &workspace);
            let found = ide::navigate::references(db, &roots, file, offset, include);
            let locations: Vec<Location> = found
                .iter()
                .filter_map(|f| convert::location(db, f))
                .collect();
            (!locations.is_empty()).then_some(locations)
        })
        .await
        .flatten())
}

pub(super) async fn prepare_rename(
    state: &State,
    params: TextDocumentPositionParams,
) -> Result<Option<PrepareRenameResponse>> {
    let Some((_, file)) = state.file_of(&params.text_document.uri) else {
        return Ok(None);
    };
    Ok(state
        .read(move |db| {
            let lines = Lines::new(file.text(db));
            let offset = lines.offset(params.position);
            let (span, text) = ide::navigate::prepare_rename(db, file, offset)?;
            Some(PrepareRenameResponse::RangeWithPlaceholder {
                range: lines.range(span),
                placeholder: text,
            })
        })
        .await
        .flatten())
}

pub(super) async fn rename(state: &State, params: RenameParams) -> Result<Option<WorkspaceEdit>> {
    let p = params.text_document_position;
    let Some((_, file)) = state.file_of(&p.text_document.uri) else {
        return Ok(None);
    };
    let workspace = state.workspace.lock().unwrap().clone();
    let new_name = params.new_name;
    let result = state
        .read(move |db| {
            let offset = Lines::new(file.text(db)).offset(p.position);
            let roots = workspace_files(db, &workspace);
            ide::navigate::rename(db, &roots, file, offset, &new_name)
                .map(|edits| convert::workspace_edit(db, edits))
        })
        .await;
    match result {
        Some(Ok(edit)) => Ok(Some(edit)),
        Some(Err(message)) => Err(Error::invalid_params(message)),
        None => Ok(None),
    }
}

pub(super) async fn document_symbol(
    state: &State,
    params: DocumentSymbolParams,
) -> Result<Option<DocumentSymbolResponse>> {
    let Some((_, file)) = state.file_of(&params.text_document.uri) else {
        return Ok(None);
    };
    Ok(state
        .read(move |db| {
            let lines = Lines::new(file.text(db));
            let symbols = ide::outline::symbols(db, file)
                .into_iter()
                .map(|s| convert::symbol(&lines, s))
                .collect();
            DocumentSymbolResponse::Nested(symbols)
        })
        .await)
}

pub(super) async fn folding_range(
    state: &State,
    params: FoldingRangeParams,
) -> Result<Option<Vec<FoldingRange>>> {
    let Some((_, file)) = state.file_of(&params.text_document.uri) else {
        return Ok(None);
    };
    Ok(state
        .read(move |db| {
            ide::outline::folding(db, file)
                .into_iter()
                .map(convert::folding_range)
                .collect()
        })
        .await)
}

pub(super) async fn completion(
    state: &State,
    params: CompletionParams,
) -> Result<Option<CompletionResponse>> {
    let p = params.text_document_position;
    let Some((_, file)) = state.file_of(&p.text_document.uri) else {
        return Ok(None);
    };
    Ok(state
        .read(move |db| {
            let text = file.text(db);
            let lines = Lines::new(text);
            let offset = lines.offset(p.position);
            let items: Vec<CompletionItem> = ide::complete::complete(db, file, offset)
                .into_iter()
                .enumerate()
                .map(|(i, c)| convert::completion_item(&lines, text, i, c))
                .collect();
            CompletionResponse::Array(items)
        })
        .await)
}

pub(super) async fn formatting(
    state: &State,
    params: DocumentFormattingParams,
) -> Result<Option<Vec<TextEdit>>> {
    let Some((_, file)) = state.file_of(&params.text_document.uri) else {
        return Ok(None);
    };
    Ok(state
        .read(move |db| convert::format_edits(file.text(db), None))
        .await
        .flatten())
}

pub(super) async fn range_formatting(
    state: &State,
    params: DocumentRangeFormattingParams,
) -> Result<Option<Vec<TextEdit>>> {
    let Some((_, file)) = state.file_of(&params.text_document.uri) else {
        return Ok(None);
    };
    let range = params.range;
    Ok(state
        .read(move |db| convert::format_edits(file.text(db), Some(range)))
        .await
        .flatten())
}

pub(super) async fn semantic_tokens_full(
    state: &State,
    params: SemanticTokensParams,
) -> Result<Option<SemanticTokensResult>> {
    let Some((_, file)) = state.file_of(&params.text_document.uri) else {
        return Ok(None);
    };
    Ok(state
        .read(move |db| {
            let lines = Lines::new(file.text(db));
            let tokens = ide::tokens::tokens(db, file);
            SemanticTokensResult::Tokens(convert::semantic_tokens(&lines, tokens))
        })
        .await)
}

pub(super) async fn inlay_hint(
    state: &State,
    params: InlayHintParams,
) -> Result<Option<Vec<InlayHint>>> {
    let Some((path, file)) = state.file_of(&params.text_document.uri) else {
        return Ok(None);
    };
    let sample = state.sample(&path);
    let range = params.range;
    Ok(state
        .read(move |db| {
            let lines = Lines::new(file.text(db));
            let sample = sample_of(db, file, sample.clone());
            ide::hints::hints(db, file, sample.as_deref())
                .into_iter()
                .map(|h| convert::inlay_hint(&lines, h))
                .filter(|h| {
                    h.position.line >= range.start.line && h.position.line <= range.end.line
                })
                .collect()
        })
        .await)
}

/// Quick fixes. The checker's are answered at once; those that come from
/// the analysis or the sample (`at most`, a finding's example as a test)
/// only when that has already run for this text: a code action never
/// waits for an analysis (editors ask on every cursor move).
pub(super) async fn code_action(
    state: &Arc<State>,
    params: CodeActionParams,
) -> Result<Option<CodeActionResponse>> {
    let Some((path, file)) = state.file_of(&params.text_document.uri) else {
        return Ok(None);
    };
    let sample = state.sample(&path);
    let range = params.range;
    let shared = state.clone();
    Ok(state
        .read_at(move |db, generation| {
            let lines = Lines::new(file.text(db));
            let span = lines.span(range);
            let actions = if shared.analysed_at(&path, generation) {
                let extra: Vec<QDiagnostic> = sample_of(db, file, sample.clone())
                    .as_ref()
                    .map(|s| s.diagnostics.clone())
                    .unwrap_or_default();
                ide::actions::actions(db, file, span, &extra)
            } else {
                ide::actions::checker_actions(db, file, span)
            };
            actions
                .into_iter()
                .map(|a| convert::code_action(db, &lines, a))
                .collect()
        })
        .await
        .map(|(actions, _)| actions))
}

/// The policy files of the workspace, for references and rename.
fn workspace_files(db: &Database, paths: &[PathBuf]) -> Vec<SourceFile> {
    paths.iter().filter_map(|p| db.load(p)).collect()
}
