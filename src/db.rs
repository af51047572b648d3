//! The salsa database: source text in, checked policies and diagnostics out.
//! The CLI and the language server both go through these queries.

use std::collections::{HashMap, HashSet};
use std::path::{Component, Path, PathBuf};
use std::sync::{Arc, Mutex};

use crate::check::names::NameIndex;
use crate::check::{self, Checked, Unit};
use crate::config::{ConfigError, Sample, SampleChoice};
use crate::diagnostic::{Code, Diagnostic};
use crate::syntax::{self, ItemKind, Parsed};

/// Reading a policy from disk is below the database (`qualify.toml` is read
/// the same way); the paths through `db` stay.
pub use crate::files::{MAX_POLICY_BYTES, ReadError, read_policy_text};

/// A file a query reads: a policy, an import, a `qualify.toml`. There is one
/// for every path a query asked about, including paths that could not be
/// read (then `text` is empty and `unreadable` says why), so that creating,
/// changing or deleting the file on disk re-runs exactly the queries that
/// looked at it (`Database::reread`).
#[salsa::input(debug)]
pub struct SourceFile {
    #[returns(ref)]
    pub path: PathBuf,
    #[returns(ref)]
    pub text: String,
    #[returns(ref)]
    pub unreadable: Option<ReadError>,
}

/// A lead file a query reads as a whole (the sample): not held in the
/// database, but its size and modification time are, so a change on disk
/// re-runs the queries that read it.
#[salsa::input(debug)]
pub struct DataFile {
    #[returns(ref)]
    pub path: PathBuf,
    pub stamp: Option<FileStamp>,
}

/// What says a data file changed without reading it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct FileStamp {
    pub len: u64,
    pub modified: Option<std::time::SystemTime>,
}

impl FileStamp {
    pub fn of(path: &Path) -> Option<FileStamp> {
        let metadata = std::fs::metadata(path).ok()?;
        Some(FileStamp {
            len: metadata.len(),
            modified: metadata.modified().ok(),
        })
    }
}

/// Settings every analysis depends on; one per database.
#[salsa::input(debug)]
pub struct Settings {
    /// The date `within N days` is judged against (days since 1970-01-01).
    pub as_of: i32,
    /// Which sample lead file measures pass rates.
    #[returns(ref)]
    pub sample: SampleChoice,
}

#[salsa::db]
pub trait Db: salsa::Database {
    /// The input for the file at `path`, read from disk on first use (or set
    /// by the editor); it exists even when the file cannot be read.
    fn file_at(&self, path: &Path) -> SourceFile;
    /// The input for a lead file read outside the database.
    fn data_file(&self, path: &Path) -> DataFile;
    fn settings(&self) -> Settings;

    /// The file at `path` when it can be read.
    fn load(&self, path: &Path) -> Option<SourceFile>;
    /// As `load`, saying why a file cannot be read.
    fn try_load(&self, path: &Path) -> Result<SourceFile, ReadError>;
}

#[salsa::db]
#[derive(Clone, Default)]
pub struct Database {
    storage: salsa::Storage<Self>,
    files: Arc<Mutex<HashMap<PathBuf, SourceFile>>>,
    data_files: Arc<Mutex<HashMap<PathBuf, DataFile>>>,
    settings: Arc<Mutex<Option<Settings>>>,
}

#[salsa::db]
impl salsa::Database for Database {}

#[salsa::db]
impl Db for Database {
    fn file_at(&self, path: &Path) -> SourceFile {
        let key = file_key(path);
        if let Some(file) = self.files.lock().unwrap().get(&key) {
            return *file;
        }
        let (text, unreadable) = match read_policy_text(path) {
            Ok(text) => (text, None),
            Err(e) => (String::new(), Some(e)),
        };
        let file = SourceFile::new(self, normalize(path), text, unreadable);
        // Another thread may have read it meanwhile: one input per file.
        *self.files.lock().unwrap().entry(key).or_insert(file)
    }

    fn data_file(&self, path: &Path) -> DataFile {
        let key = file_key(path);
        if let Some(file) = self.data_files.lock().unwrap().get(&key) {
            return *file;
        }
        let file = DataFile::new(self, path.to_path_buf(), FileStamp::of(path));
        *self.data_files.lock().unwrap().entry(key).or_insert(file)
    }

    fn settings(&self) -> Settings {
        *self.settings.lock().unwrap().get_or_insert_with(|| {
            Settings::new(self, crate::check::today(), SampleChoice::default())
        })
    }

    fn load(&self, path: &Path) -> Option<SourceFile> {
        self.try_load(path).ok()
    }

    fn try_load(&self, path: &Path) -> Result<SourceFile, ReadError> {
        let file = self.file_at(path);
        match file.unreadable(self) {
            Some(e) => Err(e.clone()),
            None => Ok(file),
        }
    }
}

impl Database {
    /// Set (or replace) a file's text, as the editor does on every change.
    pub fn set_file(&mut self, path: &Path, text: String) -> SourceFile {
        self.set_contents(path, Ok(text))
    }

    fn set_contents(&mut self, path: &Path, contents: Result<String, ReadError>) -> SourceFile {
        use salsa::Setter;
        let (text, unreadable) = match contents {
            Ok(text) => (text, None),
            Err(e) => (String::new(), Some(e)),
        };
        let existing = self.existing(path);
        match existing {
            Some(file) => {
                if file.text(self) != &text {
                    file.set_text(self).to(text);
                }
                if file.unreadable(self) != &unreadable {
                    file.set_unreadable(self).to(unreadable);
                }
                file
            }
            None => {
                let file = SourceFile::new(self, normalize(path), text, unreadable);
                self.files.lock().unwrap().insert(file_key(path), file);
                file
            }
        }
    }

    /// The input a query already made for `path`. A file that did not
    /// exist was keyed by its written path, one that did by its canonical
    /// path; after a creation or a deletion either may be the one.
    fn existing(&self, path: &Path) -> Option<SourceFile> {
        let files = self.files.lock().unwrap();
        files
            .get(&file_key(path))
            .or_else(|| files.get(&normalize(path)))
            .copied()
    }

    /// A file changed on disk (created, edited, deleted): read it again if a
    /// query has read it, so the queries that did re-run. Files the editor
    /// holds open are set with `set_file` instead.
    pub fn reread(&mut self, path: &Path) {
        use salsa::Setter;
        if self.existing(path).is_some() {
            self.set_contents(path, read_policy_text(path));
        }
        let data = {
            let files = self.data_files.lock().unwrap();
            files
                .get(&file_key(path))
                .or_else(|| files.get(&normalize(path)))
                .copied()
        };
        if let Some(data) = data {
            let stamp = FileStamp::of(path);
            if *data.stamp(self) != stamp {
                data.set_stamp(self).to(stamp);
            }
        }
    }

    /// Judge `within N days` against this date from now on.
    pub fn set_as_of(&mut self, day: i32) {
        use salsa::Setter;
        let settings = self.settings();
        if *settings.as_of(self) != day {
            settings.set_as_of(self).to(day);
        }
    }

    pub fn set_sample_choice(&mut self, choice: SampleChoice) {
        use salsa::Setter;
        let settings = self.settings();
        if settings.sample(self) != &choice {
            settings.set_sample(self).to(choice);
        }
    }

    /// Every file the database holds that could be read.
    pub fn files(&self) -> Vec<SourceFile> {
        let files: Vec<SourceFile> = self.files.lock().unwrap().values().copied().collect();
        files
            .into_iter()
            .filter(|f| f.unreadable(self).is_none())
            .collect()
    }

    pub fn file(&self, path: &Path) -> Option<SourceFile> {
        self.files.lock().unwrap().get(&file_key(path)).copied()
    }
}

/// Files are identified by their canonical path when they exist.
pub fn file_key(path: &Path) -> PathBuf {
    std::fs::canonicalize(path).unwrap_or_else(|_| normalize(path))
}

/// `a/b/../c` → `a/c`, without touching the file system. Leading `..`s
/// stay (`../../c`), and `/..` is `/`.
pub fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir => match out.components().next_back() {
                Some(Component::Normal(_)) => {
                    out.pop();
                }
                Some(Component::RootDir | Component::Prefix(_)) => {}
                Some(Component::ParentDir | Component::CurDir) | None => out.push(".."),
            },
            other => out.push(other),
        }
    }
    if out.as_os_str().is_empty() {
        out.push(".");
    }
    out
}

#[salsa::tracked(returns(ref))]
pub fn parse(db: &dyn Db, file: SourceFile) -> Parsed {
    syntax::parse(file.path(db), file.text(db))
}

/// The policy a file defines, with its imports, checked.
#[salsa::tracked(returns(ref))]
pub fn checked(db: &dyn Db, file: SourceFile) -> Checked {
    let mut order: Vec<(SourceFile, Option<syntax::Span>)> = Vec::new();
    let mut seen: HashSet<PathBuf> = HashSet::new();
    let mut import_errors: Vec<Diagnostic> = Vec::new();
    collect_imports(db, file, None, &mut seen, &mut order, &mut import_errors);
    let units: Vec<Unit> = order
        .iter()
        .map(|(f, at)| Unit {
            path: f.path(db).clone(),
            text: f.text(db),
            module: &parse(db, *f).file,
            imported_at: *at,
        })
        .collect();
    let mut result = check::check(&units);
    let root_path = file.path(db).clone();
    let (mut diagnostics, elsewhere): (Vec<Diagnostic>, Vec<Diagnostic>) =
        std::mem::take(&mut result.diagnostics)
            .into_iter()
            .partition(|d| d.file == root_path);
    diagnostics.extend(parse(db, file).diagnostics.iter().cloned());
    diagnostics.extend(
        import_errors
            .iter()
            .filter(|d| d.file == root_path)
            .cloned(),
    );
    // An imported file's errors (syntax, imports, names, types) are reported
    // once, at the policy's own import line; `qualify check` on that file
    // shows each of them where it is.
    for (f, at) in &order {
        let Some(at) = at else { continue };
        let mut errors: Vec<&Diagnostic> = parse(db, *f)
            .diagnostics
            .iter()
            .chain(import_errors.iter().filter(|d| &d.file == f.path(db)))
            .chain(
                elsewhere
                    .iter()
                    .filter(|d| &d.file == f.path(db) && d.is_error()),
            )
            .collect();
        errors.sort_by_key(|d| d.span.start);
        if let Some(first) = errors.first() {
            diagnostics.push(
                Diagnostic::new(
                    Code::ImportHasErrors,
                    root_path.clone(),
                    *at,
                    format!(
                        "`{}` has {} error{}; the first: {}",
                        f.path(db).display(),
                        errors.len(),
                        if errors.len() == 1 { "" } else { "s" },
                        first.message
                    ),
                )
                .label("imported here")
                .related(first.file.clone(), first.span, first.message.clone())
                .help(format!(
                    "run `qualify check {}` to see them all",
                    f.path(db).display()
                )),
            );
        }
    }
    diagnostics.sort_by_key(|d| (d.span.start, d.code));
    diagnostics.dedup();
    result.diagnostics = diagnostics;
    result
}

/// Where `import "target"` written in a file of folder `dir` points:
/// relative to that folder, from any working directory. `..` is resolved
/// lexically, for readable paths in messages, unless a symbolic link makes
/// it mean another folder; then as the file system resolves it.
pub fn resolve_import(dir: &Path, target: &Path) -> PathBuf {
    let joined = dir.join(target);
    let lexical = normalize(&joined);
    if let Ok(physical) = std::fs::canonicalize(&joined) {
        if std::fs::canonicalize(&lexical).ok().as_ref() != Some(&physical) {
            return physical;
        }
    }
    lexical
}

enum Refusal {
    Read(ReadError),
    NotAPolicy(&'static str),
}

/// Why an import cannot be read or is not a policy; the message never
/// quotes the file, which may be anything (`/etc/shadow`).
fn import_refused(path: &Path, target: &str, refusal: Refusal) -> (String, String) {
    let shown = path.display();
    let refusal = match refusal {
        Refusal::Read(e) => e,
        Refusal::NotAPolicy(why) => {
            return (
                format!("`{shown}` is not a policy: {why}"),
                "its content is not shown; check that the import names the policy you mean".into(),
            );
        }
    };
    match refusal {
        ReadError::NotFound => (
            format!("cannot read `{shown}`"),
            "import paths are relative to the importing file's folder".into(),
        ),
        ReadError::NotRegular => (
            format!("cannot read `{shown}`: it is not a regular file"),
            format!(
                "`{target}` is a FIFO, a device or a folder; an import must name a policy file"
            ),
        ),
        ReadError::NotUtf8 => (
            format!("`{shown}` is not a policy: it is not UTF-8 text"),
            "its content is not shown; check that the import names the policy you mean".into(),
        ),
        other => (
            format!("cannot read `{shown}`: {other}"),
            "import paths are relative to the importing file's folder".into(),
        ),
    }
}

/// A file that parses to nothing but unreadable lines (or holds NUL bytes)
/// is not a policy: its errors would quote it.
fn not_a_policy(db: &dyn Db, file: SourceFile) -> Option<&'static str> {
    if file.text(db).contains('\0') {
        return Some("it holds binary data");
    }
    let items = &parse(db, file).file.items;
    (!items.is_empty() && items.iter().all(|i| matches!(i.kind, ItemKind::Error)))
        .then_some("no line of it is a declaration")
}

/// Depth-first over imports, so a file comes after everything it imports.
fn collect_imports(
    db: &dyn Db,
    file: SourceFile,
    imported_at: Option<syntax::Span>,
    seen: &mut HashSet<PathBuf>,
    order: &mut Vec<(SourceFile, Option<syntax::Span>)>,
    errors: &mut Vec<Diagnostic>,
) {
    if !seen.insert(file_key(file.path(db))) {
        return;
    }
    let dir = file
        .path(db)
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default();
    for item in &parse(db, file).file.items {
        let ItemKind::Import(target) = &item.kind else {
            continue;
        };
        let refuse = |message: String, help: String| {
            Diagnostic::new(
                Code::ImportNotFound,
                file.path(db).clone(),
                target.span,
                message,
            )
            .label("imported here")
            .help(help)
        };
        let written = Path::new(&target.value);
        // A policy names the files it imports relative to itself, so it
        // reads the same files wherever it is checked out.
        if written.is_absolute() || written.has_root() {
            errors.push(refuse(
                format!("`{}`: an import path must be relative", target.value),
                "write the path relative to this file's folder (`../shared/schema.qual`)".into(),
            ));
            continue;
        }
        if !written
            .extension()
            .is_some_and(|x| x.eq_ignore_ascii_case("qual"))
        {
            errors.push(refuse(
                format!(
                    "`{}` is not a policy file: an import must name a `.qual` file",
                    target.value
                ),
                "policies are `.qual` files; other files are never read".into(),
            ));
            continue;
        }
        let path = resolve_import(&dir, written);
        let refusal = match db.try_load(&path) {
            Ok(imported) => match not_a_policy(db, imported) {
                None => {
                    // Errors inside an import are blamed on the policy's own import line.
                    let at = imported_at.or(Some(item.span));
                    collect_imports(db, imported, at, seen, order, errors);
                    continue;
                }
                Some(why) => Refusal::NotAPolicy(why),
            },
            Err(e) => Refusal::Read(e),
        };
        let (message, help) = import_refused(&path, &target.value, refusal);
        errors.push(refuse(message, help));
    }
    order.push((file, imported_at));
}

/// Everything `qualify check` reports for a file: its checker diagnostics
/// and, when it has no errors, the analysis findings.
#[salsa::tracked(returns(ref))]
pub fn diagnostics(db: &dyn Db, file: SourceFile) -> Vec<Diagnostic> {
    let checked = checked(db, file);
    let mut all = checked.diagnostics.clone();
    if !checked.has_errors() {
        all.extend(analysis(db, file).iter().map(|f| f.diagnostic.clone()));
        all.sort_by_key(|d| (d.span.start, d.code));
    }
    all
}

/// The analysis findings of a policy without errors.
#[salsa::tracked(returns(ref))]
pub fn analysis(db: &dyn Db, file: SourceFile) -> Vec<crate::analysis::Finding> {
    let checked = checked(db, file);
    if checked.has_errors() {
        return Vec::new();
    }
    let policy = &checked.policy;
    let texts = sources(db, policy);
    crate::analysis::analyze_interruptible(policy, &texts, *db.settings().as_of(db), &|| {
        db.unwind_if_revision_cancelled()
    })
}

/// The text of each of `policy.files`, for quoting clauses in findings.
fn sources<'db>(db: &'db dyn Db, policy: &check::Policy) -> Vec<&'db str> {
    policy
        .files
        .iter()
        .map(|p| db.load(p).map(|f| f.text(db).as_str()).unwrap_or(""))
        .collect()
}

/// Where each name of a policy is written and what it names, across the
/// policy file and its imports.
#[salsa::tracked(returns(ref))]
pub fn names(db: &dyn Db, file: SourceFile) -> NameIndex {
    let checked = checked(db, file);
    let parsed: Vec<(u32, &Parsed)> = checked
        .policy
        .files
        .iter()
        .enumerate()
        .filter_map(|(i, path)| Some((i as u32, parse(db, db.load(path)?))))
        .collect();
    let modules: Vec<(u32, &syntax::Module)> = parsed.iter().map(|(i, p)| (*i, &p.file)).collect();
    check::names::index(&checked.policy, &modules)
}

/// Why a policy's sample could not be measured: what reaches the editor
/// and `qualify check`, each with its own code.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum SampleError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error("{message} (the sample named in {})", origin.display())]
    Unreadable {
        file: PathBuf,
        origin: PathBuf,
        message: String,
    },
}

impl SampleError {
    pub fn code(&self) -> Code {
        match self {
            SampleError::Config(_) => Code::ConfigUnreadable,
            SampleError::Unreadable { .. } => Code::SampleUnreadable,
        }
    }

    /// The error as a diagnostic of `policy`, on its first line: `qualify
    /// check` and the editor report it alike.
    pub fn diagnostic(&self, policy: &Path) -> Diagnostic {
        let help = match self {
            SampleError::Config(_) => {
                "fix the file, or check without it (`--no-config`, or the editor setting `qualify.noConfig`)".to_string()
            }
            SampleError::Unreadable { origin, .. } => format!(
                "check the sample's path (`[sample] file` in {}, or `--sample`) and that the file is a lead file",
                origin.display()
            ),
        };
        Diagnostic::new(
            self.code(),
            policy.to_path_buf(),
            crate::span::Span::new(0, 0),
            match self {
                SampleError::Config(_) => format!("the project settings cannot be used: {self}"),
                SampleError::Unreadable { .. } => format!("the sample cannot be read: {self}"),
            },
        )
        .help(help)
    }
}

/// The sample settings in force for a policy file. Every `qualify.toml`
/// looked for is read through the database, found or not, so creating,
/// editing or deleting one re-runs this query.
#[salsa::tracked(returns(ref))]
pub fn sample_config(db: &dyn Db, file: SourceFile) -> Result<Option<Sample>, ConfigError> {
    let settings = db.settings();
    crate::config::sample_for(settings.sample(db), file.path(db), |path| {
        let toml = db.file_at(path);
        match toml.unreadable(db) {
            None => Ok(Some(toml.text(db).clone())),
            Some(ReadError::NotFound | ReadError::NotRegular) => Ok(None),
            Some(e) => Err(e.clone()),
        }
    })
}

/// The policy measured on its sample: `None` when no sample is configured or
/// the policy has errors.
#[salsa::tracked(returns(ref))]
pub fn sample_report(
    db: &dyn Db,
    file: SourceFile,
) -> Option<Result<(Sample, crate::analysis::sample::Report), SampleError>> {
    let sample = match sample_config(db, file) {
        Ok(Some(sample)) => sample.clone(),
        Ok(None) => return None,
        Err(e) => return Some(Err(e.clone().into())),
    };
    let checked = checked(db, file);
    if checked.has_errors() {
        return None;
    }
    // Read again when the file changes on disk.
    db.data_file(&sample.file).stamp(db);
    let settings = db.settings();
    let policy = &checked.policy;
    let texts = sources(db, policy);
    let report = crate::analysis::sample::findings_interruptible(
        policy,
        &texts,
        &sample.file,
        &sample.thresholds,
        sample.outcome.as_ref(),
        *settings.as_of(db),
        &|| db.unwind_if_revision_cancelled(),
    )
    .map_err(|message| SampleError::Unreadable {
        file: sample.file.clone(),
        origin: sample.origin.clone(),
        message,
    });
    Some(report.map(|report| (sample, report)))
}

/// Each score's lowest and highest possible total (empty while the policy
/// has errors).
#[salsa::tracked(returns(ref))]
pub fn score_ranges(db: &dyn Db, file: SourceFile) -> Vec<(f64, f64)> {
    let checked = checked(db, file);
    if checked.has_errors() {
        return Vec::new();
    }
    crate::analysis::score_ranges(&checked.policy, *db.settings().as_of(db))
}
