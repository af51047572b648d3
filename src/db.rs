//! The salsa database: source text in, checked policies and diagnostics out.
//! The CLI and the language server both go through these queries.

use std::collections::{HashMap, HashSet};
use std::path::{Component, Path, PathBuf};
use std::sync::{Arc, Mutex};

use crate::check::names::NameIndex;
use crate::check::{self, Checked, Unit};
use crate::config::{Sample, SampleChoice};
use crate::diagnostic::{Code, Diagnostic};
use crate::syntax::{self, ItemKind, Parsed};

#[salsa::input(debug)]
pub struct SourceFile {
    #[returns(ref)]
    pub path: PathBuf,
    #[returns(ref)]
    pub text: String,
}

/// Settings every analysis depends on; one per database.
#[salsa::input(debug)]
pub struct Settings {
    /// The date `within N days` is judged against (days since 1970-01-01).
    pub as_of: i32,
    /// Which sample lead file measures pass rates.
    #[returns(ref)]
    pub sample: SampleChoice,
    /// Bumped when a file read outside the database changes on disk (a
    /// sample lead file, a qualify.toml), so queries that read it run again.
    pub disk_generation: u64,
}

#[salsa::db]
pub trait Db: salsa::Database {
    /// The file at `path`, read from disk on first use (or set by the editor).
    fn load(&self, path: &Path) -> Option<SourceFile>;
    /// As `load`, saying why a file cannot be read.
    fn try_load(&self, path: &Path) -> Result<SourceFile, ReadError>;
    fn settings(&self) -> Settings;
}

/// The largest policy file read from disk. Policies are text written by
/// people; a file this large is a mistake (or `/dev/zero`), not a policy.
pub const MAX_POLICY_BYTES: u64 = 4 << 20;

/// Why a policy file was not read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ReadError {
    NotFound,
    /// Another error from the file system (permission denied, …).
    Io(String),
    /// A FIFO, a device, a socket or a folder: never opened, since reading
    /// one can block forever or never end.
    NotRegular,
    /// Larger than `MAX_POLICY_BYTES`.
    TooLarge,
    NotUtf8,
}

impl std::fmt::Display for ReadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ReadError::NotFound => write!(f, "no such file"),
            ReadError::Io(e) => write!(f, "{e}"),
            ReadError::NotRegular => write!(f, "not a regular file"),
            ReadError::TooLarge => write!(
                f,
                "larger than {} MiB, the limit for a policy file",
                MAX_POLICY_BYTES >> 20
            ),
            ReadError::NotUtf8 => write!(f, "not UTF-8 text"),
        }
    }
}

/// A policy's text from disk: only a regular file, at most
/// `MAX_POLICY_BYTES`, and UTF-8. Never blocks on a FIFO or a device, and
/// never reads more than the limit, whatever the file claims to be.
pub fn read_policy_text(path: &Path) -> Result<String, ReadError> {
    use std::io::Read;
    let io = |e: std::io::Error| match e.kind() {
        std::io::ErrorKind::NotFound => ReadError::NotFound,
        _ => ReadError::Io(e.to_string()),
    };
    // Checked before opening: opening a FIFO waits for a writer.
    if !std::fs::metadata(path).map_err(io)?.is_file() {
        return Err(ReadError::NotRegular);
    }
    let mut options = std::fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        // Should the file be swapped for a FIFO after the check, opening it
        // still does not wait.
        use std::os::unix::fs::OpenOptionsExt;
        options.custom_flags(libc::O_NONBLOCK);
    }
    let file = options.open(path).map_err(io)?;
    let metadata = file.metadata().map_err(io)?;
    if !metadata.is_file() {
        return Err(ReadError::NotRegular);
    }
    if metadata.len() > MAX_POLICY_BYTES {
        return Err(ReadError::TooLarge);
    }
    // Files in /proc claim a length of 0: the limit holds while reading too.
    let mut bytes = Vec::with_capacity(metadata.len() as usize);
    file.take(MAX_POLICY_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(io)?;
    if bytes.len() as u64 > MAX_POLICY_BYTES {
        return Err(ReadError::TooLarge);
    }
    String::from_utf8(bytes).map_err(|_| ReadError::NotUtf8)
}

#[salsa::db]
#[derive(Clone, Default)]
pub struct Database {
    storage: salsa::Storage<Self>,
    files: Arc<Mutex<HashMap<PathBuf, SourceFile>>>,
    settings: Arc<Mutex<Option<Settings>>>,
}

#[salsa::db]
impl salsa::Database for Database {}

#[salsa::db]
impl Db for Database {
    fn load(&self, path: &Path) -> Option<SourceFile> {
        self.try_load(path).ok()
    }

    fn try_load(&self, path: &Path) -> Result<SourceFile, ReadError> {
        let key = file_key(path);
        if let Some(file) = self.files.lock().unwrap().get(&key) {
            return Ok(*file);
        }
        let text = read_policy_text(path)?;
        let file = SourceFile::new(self, normalize(path), text);
        // Another thread may have read it meanwhile: one input per file.
        Ok(*self.files.lock().unwrap().entry(key).or_insert(file))
    }

    fn settings(&self) -> Settings {
        *self.settings.lock().unwrap().get_or_insert_with(|| {
            Settings::new(self, crate::check::today(), SampleChoice::default(), 0)
        })
    }
}

impl Database {
    /// Set (or replace) a file's text, as the editor does on every change.
    pub fn set_file(&mut self, path: &Path, text: String) -> SourceFile {
        use salsa::Setter;
        let key = file_key(path);
        let existing = self.files.lock().unwrap().get(&key).copied();
        match existing {
            Some(file) => {
                if file.text(self) != &text {
                    file.set_text(self).to(text);
                }
                file
            }
            None => {
                let file = SourceFile::new(self, normalize(path), text);
                self.files.lock().unwrap().insert(key, file);
                file
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

    /// Something read from disk outside the database (a sample, a
    /// qualify.toml) changed: read it again.
    pub fn disk_changed(&mut self) {
        use salsa::Setter;
        let settings = self.settings();
        let next = settings.disk_generation(self) + 1;
        settings.set_disk_generation(self).to(next);
    }

    /// Every file the database holds.
    pub fn files(&self) -> Vec<SourceFile> {
        self.files.lock().unwrap().values().copied().collect()
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

/// The sample settings in force for a policy file.
#[salsa::tracked(returns(ref))]
pub fn sample_config(db: &dyn Db, file: SourceFile) -> Result<Option<Sample>, String> {
    let settings = db.settings();
    settings.disk_generation(db);
    crate::config::sample_for(settings.sample(db), file.path(db))
}

/// The policy measured on its sample: `None` when no sample is configured or
/// the policy has errors.
#[salsa::tracked(returns(ref))]
pub fn sample_report(
    db: &dyn Db,
    file: SourceFile,
) -> Option<Result<(Sample, crate::analysis::sample::Report), String>> {
    let sample = match sample_config(db, file) {
        Ok(Some(sample)) => sample.clone(),
        Ok(None) => return None,
        Err(e) => return Some(Err(e.clone())),
    };
    let checked = checked(db, file);
    if checked.has_errors() {
        return None;
    }
    let settings = db.settings();
    settings.disk_generation(db);
    let policy = &checked.policy;
    let texts = sources(db, policy);
    let report = crate::analysis::sample::findings_interruptible(
        policy,
        &texts,
        &sample.file,
        &sample.thresholds,
        *settings.as_of(db),
        &|| db.unwind_if_revision_cancelled(),
    )
    .map_err(|e| {
        format!(
            "{} ({}): {e}",
            sample.file.display(),
            sample.origin.display()
        )
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
