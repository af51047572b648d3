//! The server's shared state: one salsa database for the workspace, the
//! open documents, what was last published; and the scheduling around the
//! database: writes applied at once under its lock, reads computed on a
//! snapshot off the async threads and retried when a write cancels them.

use std::collections::HashMap;
use std::panic::AssertUnwindSafe;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use tower_lsp_server::Client;
use tower_lsp_server::ls_types::{MessageType, Uri};

use super::convert::path_of;
use crate::analysis::sample::Report;
use crate::db::{Database, Db, SourceFile};
use crate::diagnostic::Diagnostic as QDiagnostic;

pub(super) struct Doc {
    pub uri: Uri,
    pub version: i32,
}

/// What was last published for a file, to carry analysis findings across
/// an edit until they are computed again.
pub(super) struct Published {
    pub text: String,
    pub analysis: Vec<QDiagnostic>,
}

pub(super) struct State {
    pub client: Client,
    pub db: Mutex<Database>,
    /// Open documents by path.
    pub docs: Mutex<HashMap<PathBuf, Doc>>,
    /// Workspace folders, and the policy files found in them.
    pub roots: Mutex<Vec<PathBuf>>,
    pub workspace: Mutex<Vec<PathBuf>>,
    pub samples: Mutex<HashMap<PathBuf, Arc<Report>>>,
    pub published: Mutex<HashMap<PathBuf, Published>>,
    /// Counts edits; a diagnostics pass publishes only if none came since.
    pub edits: AtomicU64,
    /// Counts writes to the database, bumped under its lock: a snapshot
    /// taken at generation `g` sees exactly the writes up to `g`.
    writes: AtomicU64,
    /// For each file, the last generation at which its analysis and sample
    /// pass ran to the end: their results are cached in the database while
    /// no write came since.
    pub analysed: Mutex<HashMap<PathBuf, u64>>,
    /// The client can watch files for us.
    pub watch_files: AtomicBool,
    /// Problems with the initialization options, shown once the client is
    /// initialized (it may not be sent messages before).
    pub settings_problems: Mutex<Vec<String>>,
}

impl State {
    pub fn new(client: Client) -> Self {
        State {
            client,
            db: Mutex::default(),
            docs: Mutex::default(),
            roots: Mutex::default(),
            workspace: Mutex::default(),
            samples: Mutex::default(),
            published: Mutex::default(),
            edits: AtomicU64::default(),
            writes: AtomicU64::default(),
            analysed: Mutex::default(),
            watch_files: AtomicBool::default(),
            settings_problems: Mutex::default(),
        }
    }

    /// A snapshot of the database and its generation.
    pub fn snapshot(&self) -> (Database, u64) {
        let db = self.db.lock().unwrap();
        (db.clone(), self.writes.load(Ordering::SeqCst))
    }

    /// Write to the database (waiting for running reads to unwind).
    pub fn write<T>(&self, f: impl FnOnce(&mut Database) -> T) -> T {
        let mut db = self.db.lock().unwrap();
        let result = f(&mut db);
        self.writes.fetch_add(1, Ordering::SeqCst);
        result
    }

    /// The analysis and sample pass of `path` are cached for a snapshot of
    /// this generation: asking for them costs nothing.
    pub fn analysed_at(&self, path: &Path, generation: u64) -> bool {
        self.analysed.lock().unwrap().get(path) == Some(&generation)
    }

    /// Run `f` on a snapshot of the database, off the async threads. An edit
    /// arriving meanwhile cancels it; it is then retried on the new text.
    pub async fn read<T, F>(&self, f: F) -> Option<T>
    where
        T: Send + 'static,
        F: Fn(&Database) -> T + Send + Sync + 'static,
    {
        self.read_at(move |db, _| f(db))
            .await
            .map(|(value, _)| value)
    }

    /// As `read`, with the generation of the snapshot the answer is from.
    pub async fn read_at<T, F>(&self, f: F) -> Option<(T, u64)>
    where
        T: Send + 'static,
        F: Fn(&Database, u64) -> T + Send + Sync + 'static,
    {
        let f = Arc::new(f);
        for _ in 0..8 {
            let (snapshot, generation) = self.snapshot();
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

    /// The file behind `uri`, loaded from disk if the editor has not sent it.
    pub fn file_of(&self, uri: &Uri) -> Option<(PathBuf, SourceFile)> {
        let path = path_of(uri)?;
        let db = self.db.lock().unwrap();
        let file = db.file(&path).or_else(|| db.load(&path))?;
        Some((path, file))
    }

    /// The sample report the last diagnostics pass kept for `path`.
    pub fn sample(&self, path: &Path) -> Option<Arc<Report>> {
        self.samples.lock().unwrap().get(path).cloned()
    }

    pub fn set_text(&self, path: &Path, text: String) {
        self.write(|db| {
            db.set_file(path, text);
        });
    }
}
