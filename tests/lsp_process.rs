//! The language server as a process, the way an editor runs it: after
//! `shutdown` and `exit` it must end at once, even while it is analysing a
//! large policy (an editor waits for it, or kills it, on every restart).

#[path = "../benches/common/policy_text.rs"]
mod policy_text;

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn frame(message: serde_json::Value) -> Vec<u8> {
    let body = message.to_string();
    format!("Content-Length: {}\r\n\r\n{body}", body.len()).into_bytes()
}

/// Reads one framed message.
fn read_message(reader: &mut impl BufRead) -> Option<serde_json::Value> {
    let mut length = None;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).ok()? == 0 {
            return None;
        }
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        if let Some(n) = line.strip_prefix("Content-Length: ") {
            length = n.parse().ok();
        }
    }
    let mut body = vec![0; length?];
    reader.read_exact(&mut body).ok()?;
    serde_json::from_slice(&body).ok()
}

#[test]
fn exits_at_once_after_shutdown_while_an_analysis_runs() {
    let dir = tempfile::tempdir().unwrap();
    // A policy full of real mistakes: its analysis takes seconds.
    let text = policy_text::generate_policy(500, 7);
    let path = dir.path().join("big.qual");
    std::fs::write(&path, &text).unwrap();
    let uri = format!("file://{}", path.display());

    let mut server = Command::new(env!("CARGO_BIN_EXE_qualify"))
        .args(["lsp", "--stdio"])
        .current_dir(dir.path())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut input = server.stdin.take().unwrap();
    let mut output = BufReader::new(server.stdout.take().unwrap());
    let root = format!("file://{}", dir.path().display());
    input
        .write_all(&frame(serde_json::json!({
            "jsonrpc": "2.0", "id": 1, "method": "initialize",
            "params": { "rootUri": root, "capabilities": {},
                        "initializationOptions": { "noConfig": true } }
        })))
        .unwrap();
    loop {
        let message = read_message(&mut output).expect("an initialize answer");
        if message["id"] == 1 {
            break;
        }
    }
    input
        .write_all(&frame(
            serde_json::json!({ "jsonrpc": "2.0", "method": "initialized", "params": {} }),
        ))
        .unwrap();
    input
        .write_all(&frame(serde_json::json!({
            "jsonrpc": "2.0", "method": "textDocument/didOpen",
            "params": { "textDocument": { "uri": uri, "languageId": "qualify", "version": 1, "text": text } }
        })))
        .unwrap();
    // The checker's diagnostics come first; the analysis is then running.
    loop {
        let message = read_message(&mut output).expect("published diagnostics");
        if message["method"] == "textDocument/publishDiagnostics" {
            break;
        }
    }
    let asked = Instant::now();
    input
        .write_all(&frame(
            serde_json::json!({ "jsonrpc": "2.0", "id": 2, "method": "shutdown" }),
        ))
        .unwrap();
    loop {
        let message = read_message(&mut output).expect("a shutdown answer");
        if message["id"] == 2 {
            break;
        }
    }
    input
        .write_all(&frame(
            serde_json::json!({ "jsonrpc": "2.0", "method": "exit" }),
        ))
        .unwrap();
    // Generous for a loaded CI machine, far below the analysis' own time
    // in a debug build (tens of seconds).
    let deadline = Duration::from_secs(5);
    loop {
        if let Some(status) = server.try_wait().unwrap() {
            assert!(status.success(), "the server exited with {status}");
            break;
        }
        if asked.elapsed() > deadline {
            let _ = server.kill();
            panic!("the server was still running {deadline:?} after shutdown and exit");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    println!("exited {:?} after shutdown", asked.elapsed());
}
