//! The language server as a process, the way an editor runs it: it ends at
//! once after `exit` or the end of its input, even while it is analysing a
//! large policy (an editor waits for it, or kills it, on every restart); a
//! malformed message is answered with a JSON-RPC error and the server keeps
//! serving; quick fixes never wait for an analysis.

#[path = "../benches/common/policy_text.rs"]
mod policy_text;

use std::io::{BufRead, BufReader, Read, Write};
use std::path::Path;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{Receiver, RecvTimeoutError, channel};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

fn frame(message: Value) -> Vec<u8> {
    raw(message.to_string().as_bytes())
}

fn raw(body: &[u8]) -> Vec<u8> {
    let mut out = format!("Content-Length: {}\r\n\r\n", body.len()).into_bytes();
    out.extend_from_slice(body);
    out
}

/// Reads one framed message; `None` at the end of output.
fn read_message(reader: &mut impl BufRead) -> Option<Value> {
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

/// `qualify lsp` with its stdout read on a thread, so waits have deadlines.
struct Session {
    server: Child,
    input: Option<ChildStdin>,
    output: Receiver<Value>,
    /// Messages read while waiting for another one.
    backlog: Vec<Value>,
    /// Every raw byte the server wrote, to search for what must not appear.
    raw: std::sync::Arc<std::sync::Mutex<Vec<u8>>>,
    stderr: std::sync::Arc<std::sync::Mutex<Vec<u8>>>,
}

impl Session {
    fn start(dir: &Path) -> Session {
        let mut server = Command::new(env!("CARGO_BIN_EXE_qualify"))
            .args(["lsp", "--stdio"])
            .current_dir(dir)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let input = server.stdin.take();
        let stdout = server.stdout.take().unwrap();
        let stderr_pipe = server.stderr.take().unwrap();
        let raw = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let stderr = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let (tx, output) = channel();
        let raw2 = raw.clone();
        std::thread::spawn(move || {
            // Tee the raw bytes while parsing frames.
            struct Tee<R>(R, std::sync::Arc<std::sync::Mutex<Vec<u8>>>);
            impl<R: Read> Read for Tee<R> {
                fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
                    let n = self.0.read(buf)?;
                    self.1.lock().unwrap().extend_from_slice(&buf[..n]);
                    Ok(n)
                }
            }
            let mut reader = BufReader::new(Tee(stdout, raw2));
            while let Some(message) = read_message(&mut reader) {
                if tx.send(message).is_err() {
                    break;
                }
            }
        });
        let stderr2 = stderr.clone();
        std::thread::spawn(move || {
            let mut pipe = stderr_pipe;
            let mut buf = [0; 4096];
            while let Ok(n) = pipe.read(&mut buf) {
                if n == 0 {
                    break;
                }
                stderr2.lock().unwrap().extend_from_slice(&buf[..n]);
            }
        });
        let mut session = Session {
            server,
            input,
            output,
            backlog: Vec::new(),
            raw,
            stderr,
        };
        let root = format!("file://{}", dir.display());
        session.send(&frame(json!({
            "jsonrpc": "2.0", "id": 1, "method": "initialize",
            "params": { "rootUri": root, "capabilities": {},
                        "initializationOptions": { "noConfig": true } }
        })));
        session.wait_for(|m| m["id"] == 1, "an initialize answer");
        session.send(&frame(
            json!({ "jsonrpc": "2.0", "method": "initialized", "params": {} }),
        ));
        session
    }

    fn send(&mut self, bytes: &[u8]) {
        let input = self.input.as_mut().expect("stdin open");
        input.write_all(bytes).unwrap();
        input.flush().unwrap();
    }

    fn open(&mut self, path: &Path, text: &str) {
        self.send(&frame(json!({
            "jsonrpc": "2.0", "method": "textDocument/didOpen",
            "params": { "textDocument": { "uri": format!("file://{}", path.display()),
                        "languageId": "qualify", "version": 1, "text": text } }
        })));
    }

    /// The first message `accept` takes, within a minute.
    fn wait_for(&mut self, accept: impl Fn(&Value) -> bool, what: &str) -> Value {
        self.wait_within(Duration::from_secs(60), accept)
            .unwrap_or_else(|| panic!("no {what} from the server"))
    }

    fn wait_within(&mut self, limit: Duration, accept: impl Fn(&Value) -> bool) -> Option<Value> {
        if let Some(i) = self.backlog.iter().position(&accept) {
            return Some(self.backlog.remove(i));
        }
        let deadline = Instant::now() + limit;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.output.recv_timeout(left) {
                Ok(message) if accept(&message) => return Some(message),
                Ok(message) => self.backlog.push(message),
                Err(RecvTimeoutError::Timeout) => return None,
                Err(RecvTimeoutError::Disconnected) => {
                    panic!(
                        "the server ended; stderr: {}",
                        String::from_utf8_lossy(&self.stderr.lock().unwrap())
                    )
                }
            }
        }
    }

    /// Waits for the process to end; panics after `limit`.
    fn ended_within(&mut self, since: Instant, limit: Duration) -> std::process::ExitStatus {
        loop {
            if let Some(status) = self.server.try_wait().unwrap() {
                return status;
            }
            if since.elapsed() > limit {
                let _ = self.server.kill();
                panic!("the server was still running {limit:?} later");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn is_running(&mut self) -> bool {
        self.server.try_wait().unwrap().is_none()
    }

    fn all_output(&self) -> String {
        let mut all = String::from_utf8_lossy(&self.raw.lock().unwrap()).into_owned();
        all.push_str(&String::from_utf8_lossy(&self.stderr.lock().unwrap()));
        all
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        let _ = self.server.kill();
        let _ = self.server.wait();
    }
}

/// A policy full of real mistakes: its analysis takes seconds (tens of
/// seconds in a debug build), and the checker finds nothing.
fn heavy_policy(dir: &Path) -> (std::path::PathBuf, String) {
    let text = policy_text::generate_policy(500, 7);
    let path = dir.join("big.qual");
    std::fs::write(&path, &text).unwrap();
    (path, text)
}

fn is_diagnostics(m: &Value) -> bool {
    m["method"] == "textDocument/publishDiagnostics"
}

// Generous for a loaded CI machine, far below the analysis' own time in a
// debug build (tens of seconds).
const PROMPT: Duration = Duration::from_secs(5);

#[test]
fn exits_at_once_after_shutdown_while_an_analysis_runs() {
    let dir = tempfile::tempdir().unwrap();
    let (path, text) = heavy_policy(dir.path());
    let mut lsp = Session::start(dir.path());
    lsp.open(&path, &text);
    // The checker's diagnostics come first; the analysis is then running.
    lsp.wait_for(is_diagnostics, "published diagnostics");
    let asked = Instant::now();
    lsp.send(&frame(
        json!({ "jsonrpc": "2.0", "id": 2, "method": "shutdown" }),
    ));
    lsp.wait_for(|m| m["id"] == 2, "shutdown answer");
    lsp.send(&frame(json!({ "jsonrpc": "2.0", "method": "exit" })));
    let status = lsp.ended_within(asked, PROMPT);
    assert!(status.success(), "the server exited with {status}");
    println!("exited {:?} after shutdown", asked.elapsed());
}

#[test]
fn exits_at_once_after_exit_while_a_request_waits_for_an_analysis() {
    let dir = tempfile::tempdir().unwrap();
    let (path, text) = heavy_policy(dir.path());
    let mut lsp = Session::start(dir.path());
    lsp.open(&path, &text);
    lsp.wait_for(is_diagnostics, "published diagnostics");
    // Pull diagnostics wait for the analysis: a request in flight.
    lsp.send(&frame(json!({
        "jsonrpc": "2.0", "id": 2, "method": "textDocument/diagnostic",
        "params": { "textDocument": { "uri": format!("file://{}", path.display()) } }
    })));
    std::thread::sleep(Duration::from_millis(200));
    let asked = Instant::now();
    lsp.send(&frame(json!({ "jsonrpc": "2.0", "method": "exit" })));
    lsp.ended_within(asked, PROMPT);
    println!("exited {:?} after exit", asked.elapsed());
}

#[test]
fn exits_at_once_at_the_end_of_input_while_an_analysis_runs() {
    let dir = tempfile::tempdir().unwrap();
    let (path, text) = heavy_policy(dir.path());
    let mut lsp = Session::start(dir.path());
    lsp.open(&path, &text);
    lsp.wait_for(is_diagnostics, "published diagnostics");
    lsp.send(&frame(json!({
        "jsonrpc": "2.0", "id": 2, "method": "textDocument/diagnostic",
        "params": { "textDocument": { "uri": format!("file://{}", path.display()) } }
    })));
    std::thread::sleep(Duration::from_millis(200));
    let closed = Instant::now();
    drop(lsp.input.take());
    lsp.ended_within(closed, PROMPT);
    println!("exited {:?} after the end of input", closed.elapsed());
}

#[test]
fn quick_fixes_do_not_wait_for_the_analysis() {
    let dir = tempfile::tempdir().unwrap();
    let (path, text) = heavy_policy(dir.path());
    let mut lsp = Session::start(dir.path());
    lsp.open(&path, &text);
    lsp.wait_for(is_diagnostics, "published diagnostics");
    let asked = Instant::now();
    let uri = format!("file://{}", path.display());
    lsp.send(&frame(json!({
        "jsonrpc": "2.0", "id": 2, "method": "textDocument/codeAction",
        "params": { "textDocument": { "uri": uri },
                    "range": { "start": { "line": 0, "character": 0 }, "end": { "line": 3, "character": 0 } },
                    "context": { "diagnostics": [] } }
    })));
    let answer = lsp
        .wait_within(PROMPT, |m| m["id"] == 2)
        .expect("code actions answered while the analysis runs");
    assert!(answer["result"].is_array(), "{answer}");
    println!("code actions in {:?}", asked.elapsed());

    // A typo's did-you-mean comes from the checker: offered at once.
    let typo = text.replacen(
        "criterion decision maker: seniority",
        "criterion decision maker: seniorty",
        1,
    );
    let line = typo.lines().position(|l| l.contains("seniorty")).unwrap();
    lsp.send(&frame(json!({
        "jsonrpc": "2.0", "method": "textDocument/didChange",
        "params": { "textDocument": { "uri": uri, "version": 2 },
                    "contentChanges": [{ "text": typo }] }
    })));
    lsp.send(&frame(json!({
        "jsonrpc": "2.0", "id": 3, "method": "textDocument/codeAction",
        "params": { "textDocument": { "uri": uri },
                    "range": { "start": { "line": line, "character": 0 }, "end": { "line": line + 1, "character": 0 } },
                    "context": { "diagnostics": [] } }
    })));
    let answer = lsp
        .wait_within(PROMPT, |m| m["id"] == 3)
        .expect("quick fixes answered at once");
    let titles: Vec<&str> = answer["result"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|a| a["title"].as_str())
        .collect();
    assert!(
        titles.contains(&"Change to `seniority`"),
        "{titles:?} in {answer}"
    );
}

/// Each malformed message gets a JSON-RPC error, and the server keeps
/// answering the well-formed ones after it.
#[test]
fn malformed_messages_are_answered_and_the_server_keeps_serving() {
    let dir = tempfile::tempdir().unwrap();
    let mut lsp = Session::start(dir.path());
    let mut next_id = 100;
    let mut still_serving = |lsp: &mut Session, case: &str| {
        next_id += 1;
        let id = next_id;
        lsp.send(&frame(json!({
            "jsonrpc": "2.0", "id": id, "method": "textDocument/hover",
            "params": { "textDocument": { "uri": format!("file://{}/none.qual", dir.path().display()) },
                        "position": { "line": 0, "character": 0 } }
        })));
        let answer = lsp
            .wait_within(PROMPT, |m| m["id"] == id)
            .unwrap_or_else(|| panic!("no answer after {case}"));
        assert!(answer.get("result").is_some(), "{case}: {answer}");
        assert!(lsp.is_running(), "{case}");
    };
    let error_for = |lsp: &mut Session, case: &str, id: Value| -> i64 {
        let answer = lsp
            .wait_within(PROMPT, |m| m.get("error").is_some() && m["id"] == id)
            .unwrap_or_else(|| panic!("no error answered for {case}"));
        answer["error"]["code"].as_i64().unwrap()
    };

    lsp.send(&raw(b"this is not json"));
    assert_eq!(
        error_for(&mut lsp, "a body that is not JSON", Value::Null),
        -32700
    );
    still_serving(&mut lsp, "a body that is not JSON");

    lsp.send(&raw(b"{}"));
    assert_eq!(error_for(&mut lsp, "{}", Value::Null), -32600);
    still_serving(&mut lsp, "{}");

    lsp.send(&raw(br#"{"jsonrpc":"2.0","id":7}"#));
    assert_eq!(error_for(&mut lsp, "no method", json!(7)), -32600);
    still_serving(&mut lsp, "no method");

    lsp.send(&raw(b"\xff\xfe\x00garbage"));
    assert_eq!(error_for(&mut lsp, "not UTF-8", Value::Null), -32700);
    still_serving(&mut lsp, "not UTF-8");

    lsp.send(b"Content-Lenght: 12\r\n\r\n");
    assert_eq!(
        error_for(&mut lsp, "a misspelt header", Value::Null),
        -32700
    );
    still_serving(&mut lsp, "a misspelt header");

    lsp.send(b"Content-Length: twelve\r\n\r\n");
    assert_eq!(
        error_for(&mut lsp, "a length that is not a number", Value::Null),
        -32700
    );
    still_serving(&mut lsp, "a length that is not a number");

    // A length far beyond any message: refused without waiting for it or
    // reserving memory for it; what follows is read again as messages.
    lsp.send(b"Content-Length: 999999999999999\r\n\r\n{\"jsonrpc\":\"2.0\"}");
    assert_eq!(
        error_for(&mut lsp, "a huge Content-Length", Value::Null),
        -32600
    );
    still_serving(&mut lsp, "a huge Content-Length");

    lsp.send(b"Content-Length: 99999999999999999999999999\r\n\r\n");
    assert_eq!(
        error_for(&mut lsp, "a Content-Length beyond u64", Value::Null),
        -32600
    );
    still_serving(&mut lsp, "a Content-Length beyond u64");

    // Stray bytes between messages.
    lsp.send(b"hello\r\n");
    still_serving(&mut lsp, "stray bytes");
    assert_eq!(error_for(&mut lsp, "stray bytes", Value::Null), -32700);

    // Still a working server: shutdown and exit end it cleanly.
    lsp.send(&frame(
        json!({ "jsonrpc": "2.0", "id": 2, "method": "shutdown" }),
    ));
    lsp.wait_for(
        |m| m["id"] == 2 && m.get("result").is_some(),
        "shutdown answer",
    );
    let asked = Instant::now();
    lsp.send(&frame(json!({ "jsonrpc": "2.0", "method": "exit" })));
    let status = lsp.ended_within(asked, PROMPT);
    assert!(status.success(), "{status}");
}

/// `import "/dev/stdin"` (or a link to it) must not make the server read
/// its own JSON-RPC stream; a FIFO must not hang it. Every document still
/// gets its diagnostics, and `shutdown` is answered.
#[cfg(unix)]
#[test]
fn imports_of_stdin_and_fifos_do_not_hang_the_server() {
    let dir = tempfile::tempdir().unwrap();
    let dir_path = std::fs::canonicalize(dir.path()).unwrap();
    std::os::unix::fs::symlink("/dev/stdin", dir_path.join("stdin.qual")).unwrap();
    let fifo = dir_path.join("pipe.qual");
    let status = Command::new("mkfifo").arg(&fifo).status().unwrap();
    assert!(status.success());
    let mut lsp = Session::start(&dir_path);
    let cases = [
        ("a.qual", "import \"/dev/stdin\"\nstages A < B\n"),
        ("b.qual", "import \"stdin.qual\"\nstages A < B\n"),
        ("c.qual", "import \"pipe.qual\"\nstages A < B\n"),
    ];
    for (name, text) in cases {
        let path = dir_path.join(name);
        std::fs::write(&path, text).unwrap();
        lsp.open(&path, text);
        let uri = format!("file://{}", path.display());
        let published = lsp
            .wait_within(PROMPT, |m| {
                is_diagnostics(m)
                    && m["params"]["uri"] == uri.as_str()
                    && m["params"]["diagnostics"]
                        .as_array()
                        .is_some_and(|d| !d.is_empty())
            })
            .unwrap_or_else(|| panic!("no diagnostics for {name}"));
        let first = &published["params"]["diagnostics"][0];
        assert_eq!(first["code"], "Q0003", "{name}: {published}");
    }
    lsp.send(&frame(
        json!({ "jsonrpc": "2.0", "id": 2, "method": "shutdown" }),
    ));
    lsp.wait_for(|m| m["id"] == 2, "shutdown answer");
    assert!(
        !lsp.all_output().contains("not a JSON-RPC message"),
        "{}",
        lsp.all_output()
    );
}
