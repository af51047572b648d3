//! An in-process LSP client: drives `qualify::lsp::Server` through its
//! `LspService`, and collects what the server sends (diagnostics, logs).

#![allow(dead_code)]

use std::path::Path;
use std::time::Duration;

use futures::StreamExt;
use serde_json::{Value, json};
use tokio::sync::mpsc::{UnboundedReceiver, unbounded_channel};
use tower::{Service, ServiceExt};
use tower_lsp_server::LspService;
use tower_lsp_server::jsonrpc::Request;

pub struct Lsp {
    service: LspService<qualify::lsp::Server>,
    incoming: UnboundedReceiver<Request>,
    id: i64,
    versions: std::collections::HashMap<String, i32>,
}

pub fn uri(path: &Path) -> String {
    format!("file://{}", path.display()).replace(' ', "%20")
}

impl Lsp {
    /// Initialize with `root` as the workspace folder.
    pub async fn start(root: &Path, options: Value) -> Lsp {
        let (service, mut socket) = LspService::new(qualify::lsp::Server::new);
        let (tx, incoming) = unbounded_channel();
        // The socket's channel holds one message: read it all the time, or
        // the server blocks on its next notification.
        tokio::spawn(async move {
            while let Some(message) = socket.next().await {
                if tx.send(message).is_err() {
                    break;
                }
            }
        });
        let mut lsp = Lsp {
            service,
            incoming,
            id: 0,
            versions: Default::default(),
        };
        lsp.request(
            "initialize",
            json!({
                "processId": null,
                "rootUri": uri(root),
                "workspaceFolders": [{ "uri": uri(root), "name": "workspace" }],
                "capabilities": {},
                "initializationOptions": options,
            }),
        )
        .await;
        lsp.notify("initialized", json!({})).await;
        lsp
    }

    /// A request's result, or its error object.
    pub async fn call(&mut self, method: &str, params: Value) -> Result<Value, Value> {
        self.id += 1;
        let request = Request::build(method.to_string())
            .params(params)
            .id(self.id)
            .finish();
        let response = self
            .service
            .ready()
            .await
            .expect("service ready")
            .call(request)
            .await
            .expect("service answers")
            .expect("a request gets a response");
        let (_, body) = response.into_parts();
        body.map_err(|e| serde_json::to_value(e).unwrap())
    }

    pub async fn request(&mut self, method: &str, params: Value) -> Value {
        match self.call(method, params).await {
            Ok(value) => value,
            Err(e) => panic!("{method} failed: {e}"),
        }
    }

    pub async fn notify(&mut self, method: &str, params: Value) {
        let request = Request::build(method.to_string()).params(params).finish();
        let answer = self
            .service
            .ready()
            .await
            .expect("service ready")
            .call(request)
            .await
            .expect("service takes notifications");
        assert!(answer.is_none(), "a notification gets no response");
    }

    pub async fn open(&mut self, path: &Path, text: &str) {
        self.versions.insert(uri(path), 1);
        self.notify(
            "textDocument/didOpen",
            json!({ "textDocument": { "uri": uri(path), "languageId": "qualify", "version": 1, "text": text } }),
        )
        .await;
    }

    /// Replace the whole text; returns the new version.
    pub async fn change(&mut self, path: &Path, text: &str) -> i32 {
        let version = self.versions.entry(uri(path)).or_insert(1);
        *version += 1;
        let version = *version;
        self.notify(
            "textDocument/didChange",
            json!({ "textDocument": { "uri": uri(path), "version": version }, "contentChanges": [{ "text": text }] }),
        )
        .await;
        version
    }

    /// Settled diagnostics of a document (checker, analysis and sample).
    pub async fn diagnostics(&mut self, path: &Path) -> Value {
        let report = self
            .request(
                "textDocument/diagnostic",
                json!({ "textDocument": { "uri": uri(path) } }),
            )
            .await;
        report["items"].clone()
    }

    /// Wait for a `publishDiagnostics` for `path` that `accept` takes.
    pub async fn published(&mut self, path: &Path, accept: impl Fn(&Value) -> bool) -> Value {
        let wanted = uri(path);
        let wait = async {
            loop {
                let message = self.incoming.recv().await.expect("server alive");
                let (method, _, params) = message.into_parts();
                if method != "textDocument/publishDiagnostics" {
                    continue;
                }
                let params = params.unwrap_or(Value::Null);
                if params["uri"] == wanted.as_str() && accept(&params) {
                    return params;
                }
            }
        };
        tokio::time::timeout(Duration::from_secs(120), wait)
            .await
            .expect("diagnostics published in time")
    }

    pub async fn at(&mut self, method: &str, path: &Path, line: u32, character: u32) -> Value {
        self.request(
            method,
            json!({ "textDocument": { "uri": uri(path) }, "position": { "line": line, "character": character } }),
        )
        .await
    }

    pub async fn shutdown(mut self) {
        self.request("shutdown", Value::Null).await;
    }
}

/// The 0-based line and UTF-16 column of the first `needle` in `text`
/// (plus `skip` characters into it).
pub fn position_of(text: &str, needle: &str, skip: usize) -> (u32, u32) {
    let offset = text
        .find(needle)
        .unwrap_or_else(|| panic!("`{needle}` not in text"))
        + skip;
    let line = text[..offset].matches('\n').count() as u32;
    let start = text[..offset].rfind('\n').map_or(0, |i| i + 1);
    (line, text[start..offset].encode_utf16().count() as u32)
}
