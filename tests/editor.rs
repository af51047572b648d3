//! A real editor as the client: Neovim, headless, starts `qualify lsp` on an
//! example with a deliberate error. Needs `nvim` (Debian's 0.7 is enough);
//! `.ci/run` installs it and sets QUALIFY_REQUIRE_NVIM so a missing editor
//! fails there instead of skipping.

use std::process::{Command, Stdio};
use std::sync::mpsc::Receiver;
use std::time::{Duration, Instant};

#[test]
fn neovim_shows_the_diagnostic_and_a_hover() {
    let has_nvim = Command::new("nvim")
        .arg("--version")
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !has_nvim {
        assert!(
            std::env::var_os("QUALIFY_REQUIRE_NVIM").is_none(),
            "nvim is required here but not installed"
        );
        eprintln!("skipped: nvim is not installed (apt-get install neovim)");
        return;
    }
    let root = env!("CARGO_MANIFEST_DIR");
    let dir = tempfile::tempdir().unwrap();
    let policy = std::fs::read_to_string(format!("{root}/examples/b2b-saas/policy.qual"))
        .unwrap()
        .replace(
            "rule ready to buy: budget known",
            "rule ready to buy: budjet known",
        );
    let error_line = policy.lines().position(|l| l.contains("budjet")).unwrap() + 1;
    let path = dir.path().join("policy.qual");
    std::fs::write(&path, policy).unwrap();
    let mut child = Command::new("nvim")
        .args(["--headless", "--clean", "-S"])
        .arg(format!("{root}/tests/nvim/e2e.lua"))
        .current_dir(dir.path())
        .env("QUALIFY_BIN", env!("CARGO_BIN_EXE_qualify"))
        .env("QUALIFY_NVIM_PLUGIN", format!("{root}/editors/nvim"))
        .env("QUALIFY_POLICY", &path)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start nvim");
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if started.elapsed() > Duration::from_secs(90) {
            child.kill().unwrap();
            panic!("nvim did not finish");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let output = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        status.success(),
        "nvim failed\nstdout:\n{stdout}\nstderr:\n{stderr}"
    );
    assert!(
        stdout.contains(&format!(
            "diagnostic Q0101 line {error_line}: unknown name `budjet`"
        )),
        "{stdout}"
    );
    assert!(
        stdout.contains("hover: **field** `company`: string, optional"),
        "{stdout}"
    );
    assert!(stdout.contains("cleared after the fix"), "{stdout}");
    assert!(
        stdout.contains(
            "syntax: at=qualifyKeyword most=qualifyKeyword name most= overrides=qualifyObsolete"
        ),
        "{stdout}"
    );
}

/// Helix is not packaged here, so its setup is checked as Helix reads it:
/// the `languages.toml` entry parses, names `.qual` files, and its server
/// command starts `qualify lsp`, which completes the handshake with the
/// `config` table as initializationOptions and publishes a diagnostic.
#[test]
fn helix_languages_toml_starts_the_server() {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/editors/helix/languages.toml"
    ))
    .unwrap();
    let config: toml::Table = toml::from_str(&text).expect("languages.toml parses");
    let language = &config["language"].as_array().unwrap()[0];
    assert_eq!(language["name"].as_str(), Some("qualify"));
    assert_eq!(
        language["file-types"].as_array().unwrap()[0].as_str(),
        Some("qual")
    );
    assert_eq!(language["comment-token"].as_str(), Some("#"));
    let server_name = language["language-servers"].as_array().unwrap()[0]
        .as_str()
        .unwrap();
    let server = &config["language-server"][server_name];
    assert_eq!(server["command"].as_str(), Some("qualify"));
    let args: Vec<&str> = server["args"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap())
        .collect();

    // `command` is looked up on PATH by Helix; here it is the built binary.
    let (mut child, mut send, rx) = start_server(&args);
    let dir = tempfile::tempdir().unwrap();
    let uri = format!("file://{}/policy.qual", dir.path().display());
    send(
        serde_json::json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
            "processId": null,
            "rootUri": format!("file://{}", dir.path().display()),
            "capabilities": {},
            "clientInfo": {"name": "helix", "version": "25.01"},
            "initializationOptions": {"asOf": "2026-06-01"},
        }}),
    );
    let next = |rx: &Receiver<serde_json::Value>| {
        rx.recv_timeout(Duration::from_secs(30))
            .expect("the server answered in time")
    };
    let reply = loop {
        let message = next(&rx);
        if message["id"] == 1 {
            break message;
        }
    };
    assert!(reply["result"]["capabilities"]["hoverProvider"].as_bool() == Some(true));
    send(serde_json::json!({"jsonrpc": "2.0", "method": "initialized", "params": {}}));
    send(
        serde_json::json!({"jsonrpc": "2.0", "method": "textDocument/didOpen", "params": {
            "textDocument": {"uri": uri, "languageId": "qualify", "version": 1,
                "text": "stages cold < hot\notherwise cold\nbudgett known => hot\n"}
        }}),
    );
    let diagnostics = loop {
        let message = next(&rx);
        if message["method"] == "textDocument/publishDiagnostics"
            && !message["params"]["diagnostics"]
                .as_array()
                .unwrap()
                .is_empty()
        {
            break message["params"]["diagnostics"].clone();
        }
    };
    assert_eq!(diagnostics[0]["code"], "Q0101", "{diagnostics}");
    send(serde_json::json!({"jsonrpc": "2.0", "id": 2, "method": "shutdown"}));
    send(serde_json::json!({"jsonrpc": "2.0", "method": "exit"}));
    let status = child.wait().unwrap();
    assert!(status.success());
}

type Sender = Box<dyn FnMut(serde_json::Value)>;

/// `qualify ARGS` as a language server over stdio: the child, a function that
/// sends a message, and the messages it sends back.
fn start_server(args: &[&str]) -> (std::process::Child, Sender, Receiver<serde_json::Value>) {
    use std::io::{BufRead, BufReader, Read, Write};
    let mut child = Command::new(env!("CARGO_BIN_EXE_qualify"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel::<serde_json::Value>();
    std::thread::spawn(move || {
        let mut reader = BufReader::new(stdout);
        loop {
            let mut length = 0usize;
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 {
                    return;
                }
                let line = line.trim_end();
                if line.is_empty() {
                    break;
                }
                if let Some(n) = line.strip_prefix("Content-Length: ") {
                    length = n.parse().unwrap();
                }
            }
            let mut body = vec![0; length];
            reader.read_exact(&mut body).unwrap();
            if tx.send(serde_json::from_slice(&body).unwrap()).is_err() {
                return;
            }
        }
    });
    let send = Box::new(move |message: serde_json::Value| {
        let body = message.to_string();
        write!(stdin, "Content-Length: {}\r\n\r\n{body}", body.len()).unwrap();
        stdin.flush().unwrap();
    });
    (child, send, rx)
}

/// vscode-languageclient adds `--stdio`; a setting of the wrong type is
/// reported by name and does not drop the others.
#[test]
fn server_accepts_stdio_flag_and_reports_bad_settings() {
    let (mut child, mut send, rx) = start_server(&["lsp", "--stdio"]);
    send(
        serde_json::json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
            "processId": null, "capabilities": {},
            "initializationOptions": {"minPassRate": "lots", "noConfig": null, "asOf": "2026-06-01"},
        }}),
    );
    loop {
        let message = rx.recv_timeout(Duration::from_secs(30)).expect("an answer");
        if message["id"] == 1 {
            assert!(message["result"]["capabilities"].is_object());
            break;
        }
    }
    send(serde_json::json!({"jsonrpc": "2.0", "method": "initialized", "params": {}}));
    let warned = loop {
        let message = rx
            .recv_timeout(Duration::from_secs(30))
            .expect("a warning about the bad setting");
        if message["method"] == "window/showMessage" {
            break message["params"]["message"].as_str().unwrap().to_string();
        }
    };
    assert!(
        warned.contains("`minPassRate` should be a rate"),
        "{warned}"
    );
    assert!(!warned.contains("noConfig"), "{warned}");
    send(serde_json::json!({"jsonrpc": "2.0", "id": 2, "method": "shutdown"}));
    send(serde_json::json!({"jsonrpc": "2.0", "method": "exit"}));
    assert!(child.wait().unwrap().success());
}
