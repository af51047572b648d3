//! Policy files (and `qualify.toml`) from disk, read safely. Below the
//! database, which loads policies with it, and the configuration, which reads
//! `qualify.toml` the same way; `db` re-exports it.

use std::path::Path;

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
