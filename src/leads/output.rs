//! Where `qualify run` writes. A result or rejects file is written to a
//! temporary file in the destination's folder and renamed over the
//! destination only when the run succeeds (`commit`): a run that fails, is
//! interrupted or is killed never leaves a partial file under the
//! destination's name, and a file that was there keeps its contents.
//!
//! SIGINT, SIGTERM and SIGHUP are taken by a thread of their own
//! (`catch_signals`), which removes the temporary files, says what was and
//! was not written, and exits with 128 + the signal's number. SIGKILL
//! cannot be caught: it leaves the hidden temporary file
//! (`.NAME.qualify-PID.tmp`), which the next run writing NAME removes.

use std::fs::{self, File};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};

/// The files being written, for the signal thread.
struct Registry {
    /// (temporary file, destination as given, whether it existed).
    files: Vec<(PathBuf, PathBuf, bool)>,
    /// Results go to standard output.
    stdout: bool,
    /// The run has finished and its files are being (or have been) renamed:
    /// a signal now changes nothing.
    done: bool,
}

static REGISTRY: Mutex<Registry> = Mutex::new(Registry {
    files: Vec::new(),
    stdout: false,
    done: false,
});

/// Held while a chunk of results is written to standard output, so that an
/// interruption ends the output at the end of a row.
static STDOUT_WRITE: Mutex<()> = Mutex::new(());

/// Leads written to standard output so far.
static STDOUT_LEADS: AtomicU64 = AtomicU64::new(0);

fn registry() -> MutexGuard<'static, Registry> {
    REGISTRY.lock().unwrap_or_else(PoisonError::into_inner)
}

/// A result or rejects file being written.
pub struct OutputFile {
    /// The path as the user gave it (for messages).
    shown: PathBuf,
    /// Where the file ends up (a symbolic link resolved).
    target: PathBuf,
    /// The temporary file; `None` when writing straight to `target`, which
    /// is not a regular file (`/dev/null`, a FIFO).
    temp: Option<PathBuf>,
    existed: bool,
    writer: BufWriter<File>,
    committed: bool,
}

impl OutputFile {
    /// Start writing `path`: a temporary file next to it, with the
    /// permissions of the file it will replace.
    pub fn create(path: &Path) -> Result<OutputFile, String> {
        let shown = path.to_path_buf();
        let fail = |e: io::Error| format!("{}: {e}", shown.display());
        let target = fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
        let existing = fs::metadata(&target).ok();
        if let Some(meta) = &existing {
            if meta.is_dir() {
                return Err(format!("{}: is a folder", shown.display()));
            }
            if !meta.is_file() {
                let file = fs::OpenOptions::new()
                    .write(true)
                    .open(&target)
                    .map_err(fail)?;
                return Ok(OutputFile {
                    shown,
                    target,
                    temp: None,
                    existed: true,
                    writer: BufWriter::with_capacity(1 << 20, file),
                    committed: false,
                });
            }
            // Renaming over a file one may not write would replace it
            // anyway: ask as writing it would (this open changes nothing).
            fs::OpenOptions::new()
                .write(true)
                .open(&target)
                .map_err(fail)?;
        }
        let name = target
            .file_name()
            .ok_or_else(|| format!("{}: not a file name", shown.display()))?
            .to_string_lossy()
            .into_owned();
        let dir = match target.parent() {
            Some(dir) if !dir.as_os_str().is_empty() => dir.to_path_buf(),
            _ => PathBuf::from("."),
        };
        remove_stale(&dir, &name);
        let temp = dir.join(format!(".{name}.qualify-{}.tmp", std::process::id()));
        let _ = fs::remove_file(&temp);
        // Registered before it exists, so that a signal arriving in between
        // still removes it.
        registry()
            .files
            .push((temp.clone(), shown.clone(), existing.is_some()));
        let file = fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&temp)
            .map_err(|e| {
                unregister(&temp);
                format!(
                    "{}: cannot create a temporary file in {}: {e}",
                    shown.display(),
                    dir.display()
                )
            })?;
        if let Some(meta) = &existing {
            let _ = file.set_permissions(meta.permissions());
        }
        Ok(OutputFile {
            shown,
            target,
            temp: Some(temp),
            existed: existing.is_some(),
            writer: BufWriter::with_capacity(1 << 20, file),
            committed: false,
        })
    }

    /// The path as the user gave it.
    pub fn shown(&self) -> &Path {
        &self.shown
    }

    /// What a failed run leaves: `out.csv (left as it was)`.
    pub fn left_as(&self) -> String {
        if self.temp.is_none() {
            format!("{} (partly written)", self.shown.display())
        } else if self.existed {
            format!("{} (left as it was)", self.shown.display())
        } else {
            format!("{} (not created)", self.shown.display())
        }
    }
}

impl Write for OutputFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.writer.write(buf)
    }
    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        self.writer.write_all(buf)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.writer.flush()
    }
}

impl Drop for OutputFile {
    fn drop(&mut self) {
        if let Some(temp) = &self.temp {
            if !self.committed {
                let _ = fs::remove_file(temp);
                unregister(temp);
            }
        }
    }
}

fn unregister(temp: &Path) {
    registry().files.retain(|(t, _, _)| t != temp);
}

/// Rename every file over its destination: the run succeeded. From here on
/// a signal no longer removes anything.
pub fn commit(files: &mut [&mut OutputFile]) -> Result<(), String> {
    for file in files.iter_mut() {
        file.writer
            .flush()
            .map_err(|e| format!("{}: {e}", file.shown.display()))?;
    }
    let mut registry = registry();
    registry.done = true;
    for file in files.iter_mut() {
        if let Some(temp) = &file.temp {
            fs::rename(temp, &file.target).map_err(|e| format!("{}: {e}", file.shown.display()))?;
            registry.files.retain(|(t, _, _)| t != temp);
        }
        file.committed = true;
    }
    Ok(())
}

/// Remove temporary files that a killed run left for `name` in `dir`
/// (their process is gone).
fn remove_stale(dir: &Path, name: &str) {
    #[cfg(unix)]
    {
        let prefix = format!(".{name}.qualify-");
        let Ok(entries) = fs::read_dir(dir) else {
            return;
        };
        for entry in entries.flatten() {
            let file_name = entry.file_name();
            let Some(pid) = file_name
                .to_str()
                .and_then(|n| n.strip_prefix(&prefix))
                .and_then(|n| n.strip_suffix(".tmp"))
                .and_then(|n| n.parse::<libc::pid_t>().ok())
            else {
                continue;
            };
            // SAFETY: `kill` with signal 0 only checks that the process exists.
            let gone = pid > 0
                && unsafe { libc::kill(pid, 0) } == -1
                && io::Error::last_os_error().raw_os_error() == Some(libc::ESRCH);
            if gone {
                let _ = fs::remove_file(entry.path());
            }
        }
    }
    #[cfg(not(unix))]
    let _ = (dir, name);
}

/// Whether two paths name the same file: the same inode when both exist
/// (a hard link, a symbolic link or `./x` are caught), else the same
/// resolved location. Only regular files and paths that do not exist yet
/// count: `/dev/null` is not "the same file" as itself here.
pub fn same_file(a: &Path, b: &Path) -> bool {
    match (fs::metadata(a), fs::metadata(b)) {
        (Ok(ma), Ok(mb)) => {
            if !ma.is_file() || !mb.is_file() {
                return false;
            }
            #[cfg(unix)]
            {
                use std::os::unix::fs::MetadataExt;
                ma.dev() == mb.dev() && ma.ino() == mb.ino()
            }
            #[cfg(not(unix))]
            {
                fs::canonicalize(a).ok() == fs::canonicalize(b).ok()
            }
        }
        (Err(_), Err(_)) => match (resolved(a), resolved(b)) {
            (Some(x), Some(y)) => x == y,
            _ => a == b,
        },
        _ => false,
    }
}

/// Where a path that does not exist yet would be created.
fn resolved(path: &Path) -> Option<PathBuf> {
    let parent = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    Some(fs::canonicalize(parent).ok()?.join(path.file_name()?))
}

/// The file behind standard input or output, when it is one (Linux and
/// the BSDs have `/dev/stdin` and `/dev/stdout`).
pub fn std_stream_path(output: bool) -> Option<PathBuf> {
    let path = Path::new(if output { "/dev/stdout" } else { "/dev/stdin" });
    fs::metadata(path)
        .ok()
        .filter(|m| m.is_file())
        .map(|_| path.to_path_buf())
}

/// Results go to standard output: an interruption says how far they got.
pub fn writing_to_stdout() {
    registry().stdout = true;
}

/// Write a chunk of results (whole rows) to standard output.
pub fn write_stdout(bytes: &[u8], leads: u64) -> io::Result<()> {
    let _writing = STDOUT_WRITE.lock().unwrap_or_else(PoisonError::into_inner);
    let mut out = io::stdout().lock();
    out.write_all(bytes)?;
    out.flush()?;
    STDOUT_LEADS.fetch_add(leads, Ordering::Relaxed);
    Ok(())
}

/// Take SIGINT, SIGTERM and SIGHUP in a thread of their own from now on
/// (call before any other thread starts, so that all of them leave these
/// signals to it). SIGPIPE is blocked too: a write to a closed pipe then
/// fails with `BrokenPipe`, and the run ends cleanly.
pub fn catch_signals() {
    #[cfg(unix)]
    {
        static ONCE: std::sync::Once = std::sync::Once::new();
        ONCE.call_once(|| {
            // SAFETY: plain libc calls on a zeroed, then initialised,
            // signal set; the thread only waits for those signals.
            unsafe {
                let mut set: libc::sigset_t = std::mem::zeroed();
                libc::sigemptyset(&mut set);
                for signal in [libc::SIGINT, libc::SIGTERM, libc::SIGHUP, libc::SIGPIPE] {
                    libc::sigaddset(&mut set, signal);
                }
                libc::pthread_sigmask(libc::SIG_BLOCK, &set, std::ptr::null_mut());
                let mut wait: libc::sigset_t = std::mem::zeroed();
                libc::sigemptyset(&mut wait);
                for signal in [libc::SIGINT, libc::SIGTERM, libc::SIGHUP] {
                    libc::sigaddset(&mut wait, signal);
                }
                let _ = std::thread::Builder::new()
                    .name("signals".into())
                    .spawn(move || {
                        loop {
                            let mut signal = 0;
                            if libc::sigwait(&wait, &mut signal) == 0 {
                                interrupted(signal);
                            }
                        }
                    });
            }
        });
    }
}

#[cfg(unix)]
fn interrupted(signal: i32) {
    let registry = registry();
    if registry.done {
        return;
    }
    // Let a write to standard output in progress end its rows (but do not
    // wait for a reader that has stopped reading).
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(1);
    let _writing = loop {
        match STDOUT_WRITE.try_lock() {
            Ok(guard) => break Some(guard),
            Err(std::sync::TryLockError::Poisoned(e)) => break Some(e.into_inner()),
            Err(std::sync::TryLockError::WouldBlock) if std::time::Instant::now() < deadline => {
                std::thread::sleep(std::time::Duration::from_millis(5))
            }
            Err(std::sync::TryLockError::WouldBlock) => break None,
        }
    };
    let name = match signal {
        libc::SIGINT => "SIGINT",
        libc::SIGTERM => "SIGTERM",
        libc::SIGHUP => "SIGHUP",
        _ => "a signal",
    };
    let mut said = Vec::new();
    if registry.stdout {
        said.push(format!(
            "the results on standard output stop after {} leads, before the end of the file",
            crate::check::thousands(STDOUT_LEADS.load(Ordering::Relaxed))
        ));
    }
    let mut files = Vec::new();
    for (temp, shown, existed) in &registry.files {
        let _ = fs::remove_file(temp);
        files.push(format!(
            "{} ({})",
            shown.display(),
            if *existed {
                "left as it was"
            } else {
                "not created"
            }
        ));
    }
    if !files.is_empty() {
        said.push(format!(
            "nothing was written to {}; the unfinished temporary file{} removed",
            files.join(" or "),
            if files.len() == 1 { " was" } else { "s were" }
        ));
    }
    if said.is_empty() {
        said.push("nothing was written".into());
    }
    eprintln!(
        "\nerror: interrupted by {name} before the run finished: {}",
        said.join("; ")
    );
    std::process::exit(128 + signal);
}
