//! The language server: one salsa database for the workspace, edits applied
//! as they arrive, every answer computed on a snapshot off the async threads.
//!
//! Diagnostics are published in two steps after each edit: first what the
//! checker says (parse, names, types — milliseconds), with the previous
//! analysis findings carried along, moved by the edit; then, when it is
//! done, the analysis and the sample's findings. The next edit cancels the
//! second step: salsa unwinds the running queries when the database is
//! written, and the analysis and the sample pass check for that as they go.

use std::collections::HashMap;
use std::panic::AssertUnwindSafe;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use tower_lsp_server::jsonrpc::{Error, Result};
use tower_lsp_server::ls_types::*;
use tower_lsp_server::{Client, LanguageServer};

use super::convert::{self, Lines, path_of, uri_of};
use crate::analysis::sample::Report;
use crate::config::SampleChoice;
use crate::db::{self, Database, Db, SourceFile};
use crate::diagnostic::Diagnostic as QDiagnostic;
use crate::ide;
use crate::syntax::Span;

pub struct Server {
    client: Client,
    state: Arc<State>,
}

struct Doc {
    uri: Uri,
    version: i32,
}

/// What was last published for a file, to carry analysis findings across
/// an edit until they are computed again.
struct Published {
    text: String,
    analysis: Vec<QDiagnostic>,
}

#[derive(Default)]
struct State {
    db: Mutex<Database>,
    /// Open documents by path.
    docs: Mutex<HashMap<PathBuf, Doc>>,
    /// Workspace folders, and the policy files found in them.
    roots: Mutex<Vec<PathBuf>>,
    workspace: Mutex<Vec<PathBuf>>,
    samples: Mutex<HashMap<PathBuf, Arc<Report>>>,
    published: Mutex<HashMap<PathBuf, Published>>,
    /// Counts edits; a diagnostics pass publishes only if none came since.
    edits: AtomicU64,
    /// Counts writes to the database, bumped under its lock: a snapshot
    /// taken at generation `g` sees exactly the writes up to `g`.
    writes: AtomicU64,
    /// For each file, the last generation at which its analysis and sample
    /// pass ran to the end: their results are cached in the database while
    /// no write came since.
    analysed: Mutex<HashMap<PathBuf, u64>>,
    /// The client can watch files for us.
    watch_files: std::sync::atomic::AtomicBool,
    /// Problems with the initialization options, shown once the client is
    /// initialized (it may not be sent messages before).
    settings_problems: Mutex<Vec<String>>,
}

/// A rate setting (`minPassRate`, `maxMissing`): 0.05 or "5%".
fn rate(value: &Option<serde_json::Value>) -> Option<f64> {
    match value.as_ref()? {
        serde_json::Value::Number(n) => crate::config::parse_rate(&n.to_string()).ok(),
        serde_json::Value::String(s) => crate::config::parse_rate(s).ok(),
        _ => None,
    }
}

impl Server {
    pub fn new(client: Client) -> Self {
        Server {
            client,
            state: Arc::new(State::default()),
        }
    }

    /// Run `f` on a snapshot of the database, off the async threads. An edit
    /// arriving meanwhile cancels it; it is then retried on the new text.
    async fn read<T, F>(&self, f: F) -> Option<T>
    where
        T: Send + 'static,
        F: Fn(&Database) -> T + Send + Sync + 'static,
    {
        self.read_at(move |db, _| f(db))
            .await
            .map(|(value, _)| value)
    }

    /// As `read`, with the generation of the snapshot the answer is from.
    async fn read_at<T, F>(&self, f: F) -> Option<(T, u64)>
    where
        T: Send + 'static,
        F: Fn(&Database, u64) -> T + Send + Sync + 'static,
    {
        let f = Arc::new(f);
        for _ in 0..8 {
            let (snapshot, generation) = self.state.snapshot();
            let f = f.clone();
            let result = tokio::task::spawn_blocking(move || {
                salsa::Cancelled::catch(AssertUnwindSafe(|| f(&snapshot, generation)))
            })
            .await;
            match result {
                Ok(Ok(value)) => return Some((value, generation)),
                Ok(Err(_cancelled)) => continue,
                Err(panic) => {
                    self.client
                        .log_message(
                            MessageType::ERROR,
                            format!("qualify: request failed: {panic}"),
                        )
                        .await;
                    return None;
                }
            }
        }
        None
    }

    /// Apply the editor's settings, key by key: a key of the wrong type is
    /// reported and left out, never the reason to drop the others. Returns
    /// the problems, for the caller to show.
    fn apply_settings(&self, value: &serde_json::Value) -> Vec<String> {
        use serde_json::Value as J;
        let value = value.get("qualify").unwrap_or(value);
        let mut problems = Vec::new();
        let get = |key: &str| value.get(key).filter(|v| !v.is_null());
        let sample = match get("sample") {
            Some(J::String(s)) => Some(s.clone()),
            Some(other) => {
                problems.push(format!("`sample` should be a file path, not {other}"));
                None
            }
            None => None,
        };
        let no_config = match get("noConfig") {
            Some(J::Bool(b)) => *b,
            Some(other) => {
                problems.push(format!("`noConfig` should be true or false, not {other}"));
                false
            }
            None => false,
        };
        let mut rate_of = |key: &str| {
            let raw = get(key).cloned();
            let parsed = rate(&raw);
            if raw.is_some() && parsed.is_none() {
                problems.push(format!(
                    "`{key}` should be a rate such as 0.05 or \"5%\", not {}",
                    raw.unwrap_or_default()
                ));
            }
            parsed
        };
        let min_pass_rate = rate_of("minPassRate");
        let max_missing = rate_of("maxMissing");
        // No date (or an empty one) means today, so clearing the setting
        // takes effect.
        let as_of = match get("asOf") {
            Some(J::String(s)) if s.trim().is_empty() => Some(crate::check::policy::today()),
            None => Some(crate::check::policy::today()),
            Some(J::String(s)) => match crate::check::date_from_ymd(s.trim()) {
                Some(day) => Some(day),
                None => {
                    problems.push(format!("`asOf` should be a date as YYYY-MM-DD, not {s:?}"));
                    None
                }
            },
            Some(other) => {
                problems.push(format!(
                    "`asOf` should be a date as YYYY-MM-DD, not {other}"
                ));
                None
            }
        };
        let root = self.state.roots.lock().unwrap().first().cloned();
        let choice = SampleChoice {
            file: sample.as_ref().filter(|s| !s.is_empty()).map(|s| {
                let p = PathBuf::from(s);
                match (&root, p.is_absolute()) {
                    (Some(root), false) => root.join(p),
                    _ => p,
                }
            }),
            use_config: !no_config,
            min_pass_rate,
            max_missing,
        };
        self.state.write(|db| {
            db.set_sample_choice(choice);
            if let Some(day) = as_of {
                db.set_as_of(day);
            }
        });
        problems
    }

    async fn report_settings(&self, problems: Vec<String>) {
        if !problems.is_empty() {
            self.client
                .show_message(
                    MessageType::WARNING,
                    format!("qualify: ignored settings: {}", problems.join("; ")),
                )
                .await;
        }
    }

    fn file_of(&self, uri: &Uri) -> Option<(PathBuf, SourceFile)> {
        let path = path_of(uri)?;
        let db = self.state.db.lock().unwrap();
        let file = db.file(&path).or_else(|| db.load(&path))?;
        Some((path, file))
    }

    fn workspace_files(db: &Database, paths: &[PathBuf]) -> Vec<SourceFile> {
        paths.iter().filter_map(|p| db.load(p)).collect()
    }

    /// Recompute and publish the diagnostics of every open document.
    fn refresh(&self) {
        let edit = self.state.edits.fetch_add(1, Ordering::SeqCst) + 1;
        let state = self.state.clone();
        let client = self.client.clone();
        tokio::spawn(async move {
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
                            let analysis: Vec<QDiagnostic> =
                                all.into_iter().filter(is_analysis).collect();
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

    fn sample(&self, path: &Path) -> Option<Arc<Report>> {
        self.state.samples.lock().unwrap().get(path).cloned()
    }

    fn set_text(&self, path: &Path, text: String) {
        self.state.write(|db| {
            db.set_file(path, text);
        });
    }

    fn edits_to_workspace(db: &Database, edits: Vec<ide::FileEdit>) -> WorkspaceEdit {
        let mut changes: HashMap<Uri, Vec<TextEdit>> = HashMap::new();
        for edit in edits {
            let Some(uri) = uri_of(&edit.path) else {
                continue;
            };
            changes.entry(uri).or_default().push(TextEdit {
                range: convert::range_in(db, &edit.path, edit.span),
                new_text: edit.text,
            });
        }
        WorkspaceEdit {
            changes: Some(changes),
            ..WorkspaceEdit::default()
        }
    }
}

impl State {
    /// A snapshot of the database and its generation.
    fn snapshot(&self) -> (Database, u64) {
        let db = self.db.lock().unwrap();
        (db.clone(), self.writes.load(Ordering::SeqCst))
    }

    /// Write to the database (waiting for running reads to unwind).
    fn write<T>(&self, f: impl FnOnce(&mut Database) -> T) -> T {
        let mut db = self.db.lock().unwrap();
        let result = f(&mut db);
        self.writes.fetch_add(1, Ordering::SeqCst);
        result
    }

    /// The analysis and sample pass of `path` are cached for a snapshot of
    /// this generation: asking for them costs nothing.
    fn analysed_at(&self, path: &Path, generation: u64) -> bool {
        self.analysed.lock().unwrap().get(path) == Some(&generation)
    }
}

/// The quick fixes carried by the checker's diagnostics (did-you-mean, …):
/// ready as soon as the policy is checked, never waiting for the analysis.
fn checker_actions(db: &Database, file: SourceFile, range: Span) -> Vec<ide::actions::Action> {
    let touches = |d: &&QDiagnostic| d.span.start <= range.end && range.start <= d.span.end;
    db::checked(db, file)
        .diagnostics
        .iter()
        .filter(touches)
        .filter_map(|d| {
            let fix = d.fix.as_ref()?;
            Some(ide::actions::Action {
                title: fix
                    .title
                    .clone()
                    .unwrap_or_else(|| format!("Change to `{}`", fix.replacement)),
                edits: vec![ide::FileEdit {
                    path: file.path(db).clone(),
                    span: fix.span,
                    text: fix.replacement.clone(),
                }],
                diagnostic: Some(d.clone()),
                preferred: true,
            })
        })
        .collect()
}

/// Everything reported for a file: checker, analysis and sample findings;
/// and the sample's report, for hover and hints.
fn everything(db: &Database, file: SourceFile) -> (Vec<QDiagnostic>, Option<Arc<Report>>) {
    let mut all = db::diagnostics(db, file).clone();
    let mut sample = None;
    // What the sample could not give is said on the first line, as a note,
    // rather than lost: the editor has no stderr to print it to.
    let first_line = |code: crate::diagnostic::Code, message: String| {
        QDiagnostic::new(code, file.path(db).clone(), Span::new(0, 0), message)
    };
    match db::sample_report(db, file) {
        Some(Ok((config, report))) => {
            all.extend(report.diagnostics.iter().cloned());
            let rejected = &report.read.rejected;
            if let Some(first) = rejected.first() {
                let mut note = first_line(
                    crate::diagnostic::Code::SampleUnreadable,
                    format!(
                        "sample {}: {} leads read, {} row{} rejected and not counted (first: {first})",
                        config.file.display(),
                        crate::check::thousands(report.read.leads as u64),
                        crate::check::thousands(rejected.len() as u64),
                        if rejected.len() == 1 { "" } else { "s" },
                    ),
                );
                note.severity = crate::diagnostic::Severity::Note;
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
fn sample_of(db: &Database, file: SourceFile, kept: Option<Arc<Report>>) -> Option<Arc<Report>> {
    kept.or_else(|| match db::sample_report(db, file) {
        Some(Ok((_, report))) => Some(Arc::new(report.clone())),
        _ => None,
    })
}

fn is_analysis(d: &QDiagnostic) -> bool {
    d.code.as_str().starts_with("Q03")
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

fn legend() -> SemanticTokensLegend {
    use ide::tokens::TokenType as T;
    SemanticTokensLegend {
        token_types: T::ALL
            .iter()
            .map(|t| match t {
                T::Keyword => SemanticTokenType::KEYWORD,
                T::Type => SemanticTokenType::TYPE,
                T::String => SemanticTokenType::STRING,
                T::Number => SemanticTokenType::NUMBER,
                T::Operator => SemanticTokenType::OPERATOR,
                T::Comment => SemanticTokenType::COMMENT,
                T::EnumMember => SemanticTokenType::ENUM_MEMBER,
                T::Property => SemanticTokenType::PROPERTY,
                T::Function => SemanticTokenType::FUNCTION,
                T::Variable => SemanticTokenType::VARIABLE,
                T::Class => SemanticTokenType::CLASS,
                T::Method => SemanticTokenType::METHOD,
            })
            .collect(),
        token_modifiers: vec![SemanticTokenModifier::DECLARATION],
    }
}

fn symbol(lines: &Lines, s: ide::outline::Symbol) -> DocumentSymbol {
    use ide::outline::SymbolKind as K;
    #[allow(deprecated)] // `deprecated` is a required field of the struct
    DocumentSymbol {
        name: if s.name.is_empty() {
            "?".into()
        } else {
            s.name
        },
        detail: s.detail,
        kind: match s.kind {
            K::Import => SymbolKind::MODULE,
            K::Field => SymbolKind::FIELD,
            K::Stage => SymbolKind::ENUM_MEMBER,
            K::Criterion => SymbolKind::FUNCTION,
            K::Requirement => SymbolKind::INTERFACE,
            K::Score => SymbolKind::CLASS,
            K::PointLine => SymbolKind::PROPERTY,
            K::Rule => SymbolKind::METHOD,
            K::Test => SymbolKind::EVENT,
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

/// The formatter's output as edits: only the lines that change, and with
/// `within`, only the changes that touch those lines.
fn format_edits(text: &str, within: Option<Range>) -> Option<Vec<TextEdit>> {
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
        edits.push(TextEdit {
            range: Range { start, end },
            new_text: new_lines[new_range].concat(),
        });
    }
    Some(edits)
}

impl LanguageServer for Server {
    async fn initialize(&self, params: InitializeParams) -> Result<InitializeResult> {
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
        *self.state.roots.lock().unwrap() = roots;
        let can_watch = params
            .capabilities
            .workspace
            .as_ref()
            .and_then(|w| w.did_change_watched_files.as_ref())
            .and_then(|w| w.dynamic_registration)
            .unwrap_or(false);
        self.state.watch_files.store(can_watch, Ordering::SeqCst);
        if let Some(options) = &params.initialization_options {
            *self.state.settings_problems.lock().unwrap() = self.apply_settings(options);
        }
        Ok(InitializeResult {
            server_info: Some(ServerInfo {
                name: "qualify".into(),
                version: Some(env!("CARGO_PKG_VERSION").into()),
            }),
            capabilities: ServerCapabilities {
                text_document_sync: Some(TextDocumentSyncCapability::Options(
                    TextDocumentSyncOptions {
                        open_close: Some(true),
                        change: Some(TextDocumentSyncKind::FULL),
                        save: Some(TextDocumentSyncSaveOptions::Supported(true)),
                        ..Default::default()
                    },
                )),
                hover_provider: Some(HoverProviderCapability::Simple(true)),
                definition_provider: Some(OneOf::Left(true)),
                references_provider: Some(OneOf::Left(true)),
                rename_provider: Some(OneOf::Right(RenameOptions {
                    prepare_provider: Some(true),
                    work_done_progress_options: Default::default(),
                })),
                document_symbol_provider: Some(OneOf::Left(true)),
                folding_range_provider: Some(FoldingRangeProviderCapability::Simple(true)),
                completion_provider: Some(CompletionOptions {
                    trigger_characters: Some(vec![">".into(), "{".into(), ",".into()]),
                    ..Default::default()
                }),
                document_formatting_provider: Some(OneOf::Left(true)),
                document_range_formatting_provider: Some(OneOf::Left(true)),
                semantic_tokens_provider: Some(
                    SemanticTokensServerCapabilities::SemanticTokensOptions(
                        SemanticTokensOptions {
                            legend: legend(),
                            full: Some(SemanticTokensFullOptions::Bool(true)),
                            range: None,
                            ..Default::default()
                        },
                    ),
                ),
                inlay_hint_provider: Some(OneOf::Left(true)),
                code_action_provider: Some(CodeActionProviderCapability::Options(
                    CodeActionOptions {
                        code_action_kinds: Some(vec![CodeActionKind::QUICKFIX]),
                        ..Default::default()
                    },
                )),
                ..Default::default()
            },
            offset_encoding: None,
        })
    }

    async fn initialized(&self, _: InitializedParams) {
        let problems = std::mem::take(&mut *self.state.settings_problems.lock().unwrap());
        self.report_settings(problems).await;
        // Hear about policies, qualify.toml and sample files changing on
        // disk, when the client lets the server ask (without blocking here
        // on the client's answer).
        if self.state.watch_files.load(Ordering::SeqCst) {
            let client = self.client.clone();
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
        let roots = self.state.roots.lock().unwrap().clone();
        let mut found = Vec::new();
        for root in roots {
            let walker = walkdir::WalkDir::new(root).into_iter().filter_entry(|e| {
                let name = e.file_name().to_string_lossy();
                e.depth() == 0
                    || !(name.starts_with('.') || name == "target" || name == "node_modules")
            });
            for entry in walker.flatten().take(20_000) {
                if entry.path().extension().is_some_and(|x| x == "qual") {
                    found.push(entry.path().to_path_buf());
                }
            }
        }
        {
            let db = self.state.db.lock().unwrap();
            for path in &found {
                db.load(path);
            }
        }
        *self.state.workspace.lock().unwrap() = found;
    }

    async fn shutdown(&self) -> Result<()> {
        Ok(())
    }

    async fn did_open(&self, params: DidOpenTextDocumentParams) {
        let doc = params.text_document;
        let Some(path) = path_of(&doc.uri) else {
            return;
        };
        self.set_text(&path, doc.text);
        self.state.docs.lock().unwrap().insert(
            path,
            Doc {
                uri: doc.uri,
                version: doc.version,
            },
        );
        self.refresh();
    }

    async fn did_change(&self, params: DidChangeTextDocumentParams) {
        let Some(path) = path_of(&params.text_document.uri) else {
            return;
        };
        // Full sync: the last change holds the whole text.
        let Some(change) = params.content_changes.into_iter().last() else {
            return;
        };
        self.set_text(&path, change.text);
        if let Some(doc) = self.state.docs.lock().unwrap().get_mut(&path) {
            doc.version = params.text_document.version;
        }
        self.refresh();
    }

    async fn did_save(&self, _: DidSaveTextDocumentParams) {}

    async fn did_close(&self, params: DidCloseTextDocumentParams) {
        let uri = params.text_document.uri;
        let Some(path) = path_of(&uri) else { return };
        self.state.docs.lock().unwrap().remove(&path);
        self.state.published.lock().unwrap().remove(&path);
        self.state.analysed.lock().unwrap().remove(&path);
        // Back to what is on disk, for the policies that import it.
        self.state.write(|db| db.reread(&path));
        self.client.publish_diagnostics(uri, Vec::new(), None).await;
        self.refresh();
    }

    async fn did_change_configuration(&self, params: DidChangeConfigurationParams) {
        let problems = self.apply_settings(&params.settings);
        self.report_settings(problems).await;
        self.refresh();
    }

    async fn did_change_watched_files(&self, params: DidChangeWatchedFilesParams) {
        for change in params.changes {
            let Some(path) = path_of(&change.uri) else {
                continue;
            };
            // An open file's text is the editor's, not the disk's.
            let open = self.state.docs.lock().unwrap().contains_key(&path);
            if !open {
                self.state.write(|db| db.reread(&path));
            }
        }
        self.refresh();
    }

    /// Pull diagnostics: not advertised (editors get them pushed), but
    /// answered, with everything settled, for tests and tools.
    async fn diagnostic(
        &self,
        params: DocumentDiagnosticParams,
    ) -> Result<DocumentDiagnosticReportResult> {
        let Some((path, file)) = self.file_of(&params.text_document.uri) else {
            return Err(Error::invalid_params("not a file this server knows"));
        };
        let items = match self
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
                self.state.analysed.lock().unwrap().insert(path, generation);
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

    async fn hover(&self, params: HoverParams) -> Result<Option<Hover>> {
        let p = params.text_document_position_params;
        let Some((path, file)) = self.file_of(&p.text_document.uri) else {
            return Ok(None);
        };
        let sample = self.sample(&path);
        Ok(self
            .read(move |db| {
                let lines = Lines::new(file.text(db));
                let offset = lines.offset(p.position);
                let sample = sample_of(db, file, sample.clone());
                let (span, markdown) = ide::hover::hover(db, file, offset, sample.as_deref())?;
                Some(Hover {
                    contents: HoverContents::Markup(MarkupContent {
                        kind: MarkupKind::Markdown,
                        value: markdown,
                    }),
                    range: Some(lines.range(span)),
                })
            })
            .await
            .flatten())
    }

    async fn goto_definition(
        &self,
        params: GotoDefinitionParams,
    ) -> Result<Option<GotoDefinitionResponse>> {
        let p = params.text_document_position_params;
        let Some((_, file)) = self.file_of(&p.text_document.uri) else {
            return Ok(None);
        };
        Ok(self
            .read(move |db| {
                let offset = Lines::new(file.text(db)).offset(p.position);
                let site = ide::navigate::definition(db, file, offset)?;
                Some(GotoDefinitionResponse::Scalar(Location {
                    uri: uri_of(&site.path)?,
                    range: convert::range_in(db, &site.path, site.span),
                }))
            })
            .await
            .flatten())
    }

    async fn references(&self, params: ReferenceParams) -> Result<Option<Vec<Location>>> {
        let p = params.text_document_position;
        let Some((_, file)) = self.file_of(&p.text_document.uri) else {
            return Ok(None);
        };
        let workspace = self.state.workspace.lock().unwrap().clone();
        let include = params.context.include_declaration;
        Ok(self
            .read(move |db| {
                let offset = Lines::new(file.text(db)).offset(p.position);
                let roots = Server::workspace_files(db, &workspace);
                let found = ide::navigate::references(db, &roots, file, offset, include);
                let locations: Vec<Location> = found
                    .into_iter()
                    .filter_map(|f| {
                        Some(Location {
                            uri: uri_of(&f.path)?,
                            range: convert::range_in(db, &f.path, f.span),
                        })
                    })
                    .collect();
                (!locations.is_empty()).then_some(locations)
            })
            .await
            .flatten())
    }

    async fn prepare_rename(
        &self,
        params: TextDocumentPositionParams,
    ) -> Result<Option<PrepareRenameResponse>> {
        let Some((_, file)) = self.file_of(&params.text_document.uri) else {
            return Ok(None);
        };
        Ok(self
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

    async fn rename(&self, params: RenameParams) -> Result<Option<WorkspaceEdit>> {
        let p = params.text_document_position;
        let Some((_, file)) = self.file_of(&p.text_document.uri) else {
            return Ok(None);
        };
        let workspace = self.state.workspace.lock().unwrap().clone();
        let new_name = params.new_name;
        let result = self
            .read(move |db| {
                let offset = Lines::new(file.text(db)).offset(p.position);
                let roots = Server::workspace_files(db, &workspace);
                ide::navigate::rename(db, &roots, file, offset, &new_name)
                    .map(|edits| Server::edits_to_workspace(db, edits))
            })
            .await;
        match result {
            Some(Ok(edit)) => Ok(Some(edit)),
            Some(Err(message)) => Err(Error::invalid_params(message)),
            None => Ok(None),
        }
    }

    async fn document_symbol(
        &self,
        params: DocumentSymbolParams,
    ) -> Result<Option<DocumentSymbolResponse>> {
        let Some((_, file)) = self.file_of(&params.text_document.uri) else {
            return Ok(None);
        };
        Ok(self
            .read(move |db| {
                let lines = Lines::new(file.text(db));
                let symbols = ide::outline::symbols(db, file)
                    .into_iter()
                    .map(|s| symbol(&lines, s))
                    .collect();
                DocumentSymbolResponse::Nested(symbols)
            })
            .await)
    }

    async fn folding_range(&self, params: FoldingRangeParams) -> Result<Option<Vec<FoldingRange>>> {
        let Some((_, file)) = self.file_of(&params.text_document.uri) else {
            return Ok(None);
        };
        Ok(self
            .read(move |db| {
                ide::outline::folding(db, file)
                    .into_iter()
                    .map(|f| FoldingRange {
                        start_line: f.start_line,
                        end_line: f.end_line,
                        kind: Some(match f.kind {
                            ide::outline::FoldKind::Comment => FoldingRangeKind::Comment,
                            ide::outline::FoldKind::Imports => FoldingRangeKind::Imports,
                            ide::outline::FoldKind::Region => FoldingRangeKind::Region,
                        }),
                        ..Default::default()
                    })
                    .collect()
            })
            .await)
    }

    async fn completion(&self, params: CompletionParams) -> Result<Option<CompletionResponse>> {
        let p = params.text_document_position;
        let Some((_, file)) = self.file_of(&p.text_document.uri) else {
            return Ok(None);
        };
        Ok(self
            .read(move |db| {
                use ide::complete::ItemKind as K;
                let lines = Lines::new(file.text(db));
                let offset = lines.offset(p.position);
                let items: Vec<CompletionItem> = ide::complete::complete(db, file, offset)
                    .into_iter()
                    .enumerate()
                    .map(|(i, c)| CompletionItem {
                        label: c.label.clone(),
                        kind: Some(match c.kind {
                            K::Field => CompletionItemKind::FIELD,
                            K::Criterion => CompletionItemKind::FUNCTION,
                            K::Score => CompletionItemKind::VARIABLE,
                            K::Stage => CompletionItemKind::CLASS,
                            K::Rule => CompletionItemKind::METHOD,
                            K::EnumValue => CompletionItemKind::ENUM_MEMBER,
                            K::Operator => CompletionItemKind::OPERATOR,
                            K::Keyword => CompletionItemKind::KEYWORD,
                            K::Type => CompletionItemKind::TYPE_PARAMETER,
                            K::Snippet => CompletionItemKind::SNIPPET,
                        }),
                        detail: c.detail,
                        // Keep our order: context first, as computed.
                        sort_text: Some(format!("{i:04}")),
                        filter_text: Some(file.text(db).get(c.replace.range()).map_or_else(
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
                            InsertTextFormat::SNIPPET
                        } else {
                            InsertTextFormat::PLAIN_TEXT
                        }),
                        text_edit: Some(CompletionTextEdit::Edit(TextEdit {
                            range: lines.range(c.replace),
                            new_text: c.insert,
                        })),
                        ..Default::default()
                    })
                    .collect();
                CompletionResponse::Array(items)
            })
            .await)
    }

    async fn formatting(&self, params: DocumentFormattingParams) -> Result<Option<Vec<TextEdit>>> {
        let Some((_, file)) = self.file_of(&params.text_document.uri) else {
            return Ok(None);
        };
        Ok(self
            .read(move |db| format_edits(file.text(db), None))
            .await
            .flatten())
    }

    async fn range_formatting(
        &self,
        params: DocumentRangeFormattingParams,
    ) -> Result<Option<Vec<TextEdit>>> {
        let Some((_, file)) = self.file_of(&params.text_document.uri) else {
            return Ok(None);
        };
        let range = params.range;
        Ok(self
            .read(move |db| format_edits(file.text(db), Some(range)))
            .await
            .flatten())
    }

    async fn semantic_tokens_full(
        &self,
        params: SemanticTokensParams,
    ) -> Result<Option<SemanticTokensResult>> {
        let Some((_, file)) = self.file_of(&params.text_document.uri) else {
            return Ok(None);
        };
        Ok(self
            .read(move |db| {
                let lines = Lines::new(file.text(db));
                let types = ide::tokens::TokenType::ALL;
                let mut data = Vec::new();
                let (mut last_line, mut last_start) = (0u32, 0u32);
                for token in ide::tokens::tokens(db, file) {
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
                    data.push(SemanticToken {
                        delta_line,
                        delta_start,
                        length: range.end.character - range.start.character,
                        token_type: types.iter().position(|t| *t == token.ty).unwrap_or(0) as u32,
                        token_modifiers_bitset: u32::from(token.declaration),
                    });
                    last_line = range.start.line;
                    last_start = range.start.character;
                }
                SemanticTokensResult::Tokens(SemanticTokens {
                    result_id: None,
                    data,
                })
            })
            .await)
    }

    async fn inlay_hint(&self, params: InlayHintParams) -> Result<Option<Vec<InlayHint>>> {
        let Some((path, file)) = self.file_of(&params.text_document.uri) else {
            return Ok(None);
        };
        let sample = self.sample(&path);
        let range = params.range;
        Ok(self
            .read(move |db| {
                let lines = Lines::new(file.text(db));
                let sample = sample_of(db, file, sample.clone());
                ide::hints::hints(db, file, sample.as_deref())
                    .into_iter()
                    .map(|h| InlayHint {
                        position: lines.position(h.offset),
                        label: InlayHintLabel::String(h.label),
                        kind: None,
                        text_edits: None,
                        tooltip: None,
                        padding_left: Some(true),
                        padding_right: None,
                        data: None,
                    })
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
    async fn code_action(&self, params: CodeActionParams) -> Result<Option<CodeActionResponse>> {
        let Some((path, file)) = self.file_of(&params.text_document.uri) else {
            return Ok(None);
        };
        let sample = self.sample(&path);
        let range = params.range;
        let state = self.state.clone();
        Ok(self
            .read_at(move |db, generation| {
                let lines = Lines::new(file.text(db));
                let span = lines.span(range);
                let actions = if state.analysed_at(&path, generation) {
                    let extra: Vec<QDiagnostic> = sample_of(db, file, sample.clone())
                        .as_ref()
                        .map(|s| s.diagnostics.clone())
                        .unwrap_or_default();
                    ide::actions::actions(db, file, span, &extra)
                } else {
                    checker_actions(db, file, span)
                };
                actions
                    .into_iter()
                    .map(|a| {
                        CodeActionOrCommand::CodeAction(CodeAction {
                            title: a.title,
                            kind: Some(CodeActionKind::QUICKFIX),
                            diagnostics: a
                                .diagnostic
                                .map(|d| vec![convert::diagnostic(db, &lines, &d)]),
                            edit: Some(Server::edits_to_workspace(db, a.edits)),
                            is_preferred: Some(a.preferred),
                            ..Default::default()
                        })
                    })
                    .collect()
            })
            .await
            .map(|(actions, _)| actions))
    }
}
