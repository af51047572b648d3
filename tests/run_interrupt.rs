//! Fault injection on `qualify run`: SIGINT, SIGTERM and SIGKILL in the
//! middle of a large file. Whatever happens, no partial file is left under
//! the `-o` or rejects name, a file that was there keeps its contents,
//! temporary files are removed (or, after SIGKILL, removed by the next
//! run), and the run says what it did not write.

#![cfg(unix)]

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const B2B: &str = "examples/b2b-saas/policy.qual";

/// A CSV of `n` leads from the b2b-saas example rows.
fn leads(n: usize) -> String {
    let source = std::fs::read_to_string("examples/b2b-saas/leads.csv").unwrap();
    let mut lines = source.lines();
    let mut text = format!("{}\n", lines.next().unwrap());
    let rows: Vec<&str> = lines.collect();
    for i in 0..n {
        let rest = rows[i % rows.len()].split_once(',').unwrap().1;
        text.push_str(&format!("L-{i},{rest}\n"));
    }
    text
}

fn temporary_files(dir: &Path) -> Vec<PathBuf> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.to_string_lossy().contains(".qualify-"))
        .collect()
}

/// Wait until the run has written some results to its temporary file, so
/// the signal lands in the middle of the work; the run must still be going.
fn wait_for_temporary_output(child: &mut Child, dir: &Path) {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let written = temporary_files(dir).iter().any(|p| {
            p.to_string_lossy().contains(".out.csv.")
                && std::fs::metadata(p).is_ok_and(|m| m.len() > 0)
        });
        if written {
            break;
        }
        assert!(
            child.try_wait().unwrap().is_none(),
            "the run ended before it could be interrupted"
        );
        assert!(Instant::now() < deadline, "no output after two minutes");
        std::thread::sleep(Duration::from_millis(5));
    }
    assert!(
        child.try_wait().unwrap().is_none(),
        "the run must still be going"
    );
}

fn signal(child: &Child, signal: i32) {
    // SAFETY: sending a signal to our own child process.
    let sent = unsafe { libc::kill(child.id() as libc::pid_t, signal) };
    assert_eq!(sent, 0);
}

fn start(args: &[&str]) -> Child {
    Command::new(env!("CARGO_BIN_EXE_qualify"))
        .args(args)
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

#[test]
fn sigint_and_sigterm_leave_no_partial_file_and_no_temporary_file() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("big.csv");
    std::fs::write(&input, leads(300_000)).unwrap();
    for (sig, name, code) in [
        (libc::SIGINT, "SIGINT", 130),
        (libc::SIGTERM, "SIGTERM", 143),
    ] {
        let output = dir.path().join("out.csv");
        let rejects = dir.path().join("rejects.csv");
        std::fs::write(&output, "the results of the last run\n").unwrap();
        let _ = std::fs::remove_file(&rejects);
        let mut child = start(&[
            "run",
            B2B,
            input.to_str().unwrap(),
            "-o",
            output.to_str().unwrap(),
            "--on-error",
            &format!("reject={}", rejects.display()),
            "--threads",
            "1",
        ]);
        wait_for_temporary_output(&mut child, dir.path());
        signal(&child, sig);
        let out = child.wait_with_output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(code), "{name}: {err}");
        assert!(
            err.contains(&format!("interrupted by {name} before the run finished")),
            "{err}"
        );
        assert!(err.contains("out.csv (left as it was)"), "{err}");
        assert!(err.contains("rejects.csv (not created)"), "{err}");
        assert!(
            err.contains("the unfinished temporary files were removed"),
            "{err}"
        );
        assert_eq!(
            std::fs::read_to_string(&output).unwrap(),
            "the results of the last run\n",
            "{name}: the old results are untouched"
        );
        assert!(!rejects.exists(), "{name}");
        assert_eq!(temporary_files(dir.path()), Vec::<PathBuf>::new(), "{name}");
    }
}

#[test]
fn an_interrupted_run_on_standard_output_ends_at_a_row_and_says_how_far_it_got() {
    // The leads come through a pipe that is left open: the run is waiting
    // for more when the signal comes, whatever the machine's speed.
    let mut child = Command::new(env!("CARGO_BIN_EXE_qualify"))
        .args(["run", B2B, "-", "--input-format", "csv"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(leads(60_000).as_bytes()).unwrap();
    stdin.flush().unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let seen = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counter = seen.clone();
    let reader = std::thread::spawn(move || {
        let mut all = Vec::new();
        let mut buf = [0u8; 1 << 16];
        loop {
            match stdout.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    all.extend_from_slice(&buf[..n]);
                    counter.store(all.len(), std::sync::atomic::Ordering::SeqCst);
                }
            }
        }
        all
    });
    let mut err = child.stderr.take().unwrap();
    // Wait for results beyond the header, then interrupt: the run cannot
    // finish, as its input is still open.
    let deadline = Instant::now() + Duration::from_secs(120);
    while seen.load(std::sync::atomic::Ordering::SeqCst) < 1000 {
        assert!(child.try_wait().unwrap().is_none());
        assert!(Instant::now() < deadline, "no output after two minutes");
        std::thread::sleep(Duration::from_millis(5));
    }
    std::thread::sleep(Duration::from_millis(100));
    signal(&child, libc::SIGTERM);
    let status = child.wait().unwrap();
    drop(stdin);
    let printed = reader.join().unwrap();
    let mut message = String::new();
    err.read_to_string(&mut message).unwrap();
    assert_eq!(status.code(), Some(143), "{message}");
    let printed = String::from_utf8(printed).unwrap();
    assert!(
        printed.is_empty() || printed.ends_with('\n'),
        "rows are whole"
    );
    let rows = printed.lines().skip(1).count();
    for line in printed.lines() {
        assert_eq!(line.split(',').count(), 5, "{line:?}");
    }
    assert!(
        message.contains(&format!(
            "interrupted by SIGTERM before the run finished: the results on standard output stop after {} leads",
            thousands(rows)
        )),
        "{rows} rows printed; {message}"
    );
    assert!(rows < 60_000);
}

fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[test]
fn sigkill_leaves_only_a_hidden_temporary_file_that_the_next_run_removes() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("big.csv");
    std::fs::write(&input, leads(300_000)).unwrap();
    let output = dir.path().join("out.csv");
    std::fs::write(&output, "the results of the last run\n").unwrap();
    let mut child = start(&[
        "run",
        B2B,
        input.to_str().unwrap(),
        "-o",
        output.to_str().unwrap(),
        "--threads",
        "1",
    ]);
    wait_for_temporary_output(&mut child, dir.path());
    child.kill().unwrap();
    let status = child.wait().unwrap();
    assert!(!status.success());
    assert_eq!(
        std::fs::read_to_string(&output).unwrap(),
        "the results of the last run\n",
        "no partial results under the output's name"
    );
    let left = temporary_files(dir.path());
    assert_eq!(left.len(), 1, "{left:?}");
    let name = left[0].file_name().unwrap().to_string_lossy().into_owned();
    assert!(
        name.starts_with(".out.csv.qualify-") && name.ends_with(".tmp"),
        "{name}"
    );

    // The next run writing out.csv removes what the killed one left.
    let small = dir.path().join("small.csv");
    std::fs::write(&small, leads(10)).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_qualify"))
        .args([
            "run",
            B2B,
            small.to_str().unwrap(),
            "-o",
            output.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(temporary_files(dir.path()), Vec::<PathBuf>::new());
    assert_eq!(
        std::fs::read_to_string(&output).unwrap().lines().count(),
        11
    );
}
