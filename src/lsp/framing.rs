//! The messages between the editor and the server, checked before
//! tower-lsp-server sees them.
//!
//! tower-lsp-server's transport stops at the first message it cannot decode
//! (a body that is not JSON, `{}`, a bad header), and would buffer whatever
//! length a header claims. So this layer reads the client's
//! `Content-Length` frames itself: a malformed one is answered here with a
//! JSON-RPC error (`-32700 Parse error`, `-32600 Invalid request`) and the
//! server keeps serving; a well-formed one is passed on unchanged. Bytes that
//! are not a frame are skipped up to the next `Content-Length` header.
//!
//! It also ends the session on time: after `exit`, or at the end of input,
//! the server stops without waiting for a running analysis.

use tokio::io::{
    AsyncBufRead, AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt,
};
use tokio::sync::{mpsc, oneshot};
use tower_lsp_server::jsonrpc::{Request, Response};

/// The largest message body accepted (a whole document of a did-open is
/// one message; policies are far smaller).
pub const MAX_MESSAGE_BYTES: u64 = 64 << 20;

/// A header block longer than this is not a header: only its tail is kept,
/// where the next `Content-Length` may start.
const MAX_HEADER_BYTES: usize = 16 << 10;

/// What the writer puts on the output, in order.
pub enum Out {
    /// A whole framed message.
    Frame(Vec<u8>),
    /// Everything before has been written.
    Flush(oneshot::Sender<()>),
}

/// Why the client's side of the session ended.
#[derive(Debug, PartialEq, Eq)]
pub enum End {
    Exit,
    EndOfInput,
}

pub fn frame(body: &[u8]) -> Vec<u8> {
    let mut out = format!("Content-Length: {}\r\n\r\n", body.len()).into_bytes();
    out.extend_from_slice(body);
    out
}

/// A JSON-RPC error response.
fn error(id: serde_json::Value, code: i64, message: String) -> Vec<u8> {
    frame(
        serde_json::json!({
            "jsonrpc": "2.0",
            "id": id,
            "error": { "code": code, "message": message },
        })
        .to_string()
        .as_bytes(),
    )
}

fn parse_error(detail: &str) -> Vec<u8> {
    error(
        serde_json::Value::Null,
        -32700,
        format!("Parse error: {detail}"),
    )
}

/// Reads the client's messages from `input` until `exit` or the end of
/// input: each well-formed one goes to `server`, each malformed one is
/// answered on `out`. Never echoes what it could not read.
pub async fn read_client<R, W>(input: R, mut server: W, out: mpsc::Sender<Out>) -> End
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    let mut input = tokio::io::BufReader::with_capacity(64 << 10, input);
    // Set after a header that left us out of step with the frames: the
    // bytes skipped until the next header are part of the same mistake and
    // are not answered again.
    let mut skipping = false;
    let answer = |bytes: Vec<u8>, why: &str| {
        eprintln!("qualify lsp: answered a malformed message: {why}");
        let out = out.clone();
        async move { out.send(Out::Frame(bytes)).await.is_ok() }
    };
    loop {
        let Some(block) = header_block(&mut input).await else {
            return End::EndOfInput;
        };
        let (garbage, length) = header(&block);
        let length = match length {
            Ok(length) => {
                if garbage && !skipping {
                    answer(
                        parse_error("bytes that are not a message were skipped"),
                        "bytes before a header",
                    )
                    .await;
                }
                length
            }
            Err(HeaderError::TooLarge) => {
                answer(
                    error(
                        serde_json::Value::Null,
                        -32600,
                        format!(
                            "Invalid request: the message is larger than {} MiB; it was skipped",
                            MAX_MESSAGE_BYTES >> 20
                        ),
                    ),
                    "Content-Length too large",
                )
                .await;
                skipping = true;
                continue;
            }
            Err(e) => {
                if !skipping {
                    answer(parse_error(e.message()), e.message()).await;
                }
                skipping = true;
                continue;
            }
        };
        skipping = false;
        let mut body = vec![0; length as usize];
        if input.read_exact(&mut body).await.is_err() {
            return End::EndOfInput;
        }
        match check(&body) {
            Ok(exit) => {
                let sent =
                    server.write_all(&frame(&body)).await.is_ok() && server.flush().await.is_ok();
                if exit || !sent {
                    return End::Exit;
                }
            }
            Err(bytes) => {
                answer(bytes, "not a JSON-RPC message").await;
            }
        }
    }
}

/// The next header block: the bytes up to an empty line (blank lines
/// between messages are skipped). Only the last `MAX_HEADER_BYTES` of a
/// longer block are kept. `None` at the end of input.
async fn header_block<R: AsyncBufRead + Unpin>(input: &mut R) -> Option<Vec<u8>> {
    let mut block = Vec::new();
    // Bytes other than `\r` since the last `\n`.
    let mut line = 0usize;
    loop {
        let buffer = input.fill_buf().await.ok()?;
        if buffer.is_empty() {
            return None;
        }
        let mut used = 0;
        let mut done = false;
        for &byte in buffer {
            used += 1;
            if byte == b'\n' {
                if line == 0 {
                    if block.iter().any(|b: &u8| !b.is_ascii_whitespace()) {
                        done = true;
                        break;
                    }
                    block.clear();
                    continue;
                }
                line = 0;
            } else if byte != b'\r' {
                line += 1;
            }
            block.push(byte);
        }
        input.consume(used);
        if block.len() > MAX_HEADER_BYTES {
            block.drain(..block.len() - MAX_HEADER_BYTES / 2);
        }
        if done {
            return Some(block);
        }
    }
}

#[derive(Debug, PartialEq, Eq)]
enum HeaderError {
    Missing,
    NotANumber,
    TooLarge,
}

impl HeaderError {
    fn message(&self) -> &'static str {
        match self {
            HeaderError::Missing => "expected a Content-Length header",
            HeaderError::NotANumber => "the Content-Length header is not a number",
            HeaderError::TooLarge => "the Content-Length header is too large",
        }
    }
}

/// Whether the block holds bytes that are not headers before its last
/// `Content-Length` header, and the length that header gives.
fn header(block: &[u8]) -> (bool, Result<u64, HeaderError>) {
    const NAME: &[u8] = b"content-length";
    let lower = block.to_ascii_lowercase();
    let Some(at) = lower.windows(NAME.len()).rposition(|w| w == NAME) else {
        return (false, Err(HeaderError::Missing));
    };
    // The lines before it must be headers, and nothing may precede it on
    // its own line.
    let lines: Vec<&[u8]> = block[..at].split(|&b| b == b'\n').collect();
    let (partial, complete) = lines.split_last().expect("split yields one slice at least");
    let garbage = !partial.iter().all(u8::is_ascii_whitespace)
        || complete
            .iter()
            .map(|l| l.strip_suffix(b"\r").unwrap_or(l))
            .any(|l| !l.is_empty() && !is_header_line(l));
    let rest = &block[at + NAME.len()..];
    let line = rest.split(|&b| b == b'\n').next().unwrap_or_default();
    let line = std::str::from_utf8(line).unwrap_or("");
    let Some(value) = line.trim_start().strip_prefix(':') else {
        return (garbage, Err(HeaderError::NotANumber));
    };
    let value = value.trim();
    if value.is_empty() || !value.bytes().all(|b| b.is_ascii_digit()) {
        return (garbage, Err(HeaderError::NotANumber));
    }
    match value.parse::<u64>() {
        Ok(n) if n <= MAX_MESSAGE_BYTES => (garbage, Ok(n)),
        _ => (garbage, Err(HeaderError::TooLarge)),
    }
}

/// `Name: value`, as in `Content-Type: application/vscode-jsonrpc`.
fn is_header_line(line: &[u8]) -> bool {
    match line.iter().position(|&b| b == b':') {
        Some(colon) => {
            colon > 0
                && line[..colon]
                    .iter()
                    .all(|b| b.is_ascii_alphanumeric() || *b == b'-')
        }
        None => false,
    }
}

/// A body the server can take (`Ok(true)` for `exit`), or the error that
/// answers it.
fn check(body: &[u8]) -> Result<bool, Vec<u8>> {
    let text = std::str::from_utf8(body).map_err(|_| parse_error("the message is not UTF-8"))?;
    // serde_json's messages give a line and column, never the text.
    let value: serde_json::Value =
        serde_json::from_str(text).map_err(|e| parse_error(&e.to_string()))?;
    let id = match value.get("id") {
        Some(id @ serde_json::Value::String(_)) => id.clone(),
        Some(id) if id.as_i64().is_some() => id.clone(),
        _ => serde_json::Value::Null,
    };
    let invalid = |why: &str| error(id.clone(), -32600, format!("Invalid request: {why}"));
    let Some(object) = value.as_object() else {
        return Err(invalid("a message is a JSON object"));
    };
    if object.get("jsonrpc").and_then(|v| v.as_str()) != Some("2.0") {
        return Err(invalid("`jsonrpc` must be \"2.0\""));
    }
    match object.get("method") {
        Some(serde_json::Value::String(method)) if !method.is_empty() => {
            if serde_json::from_value::<Request>(value.clone()).is_err() {
                return Err(invalid("`id` must be a number or a string"));
            }
            Ok(method == "exit")
        }
        Some(_) => Err(invalid("`method` must be a non-empty string")),
        None if object.contains_key("result") || object.contains_key("error") => {
            serde_json::from_value::<Response>(value.clone())
                .map(|_| false)
                .map_err(|_| invalid("a response needs an `id` and one `result` or `error`"))
        }
        None => Err(invalid("a request needs a `method`")),
    }
}

/// Passes the server's own frames on to `out`, until its output ends.
pub async fn relay<R: AsyncRead + Unpin>(from_server: R, out: mpsc::Sender<Out>) {
    let mut reader = tokio::io::BufReader::new(from_server);
    loop {
        let mut length = None;
        loop {
            let mut line = String::new();
            match reader.read_line(&mut line).await {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
            let line = line.trim_end();
            if line.is_empty() {
                if length.is_some() {
                    break;
                }
                continue;
            }
            if let Some(value) = line.strip_prefix("Content-Length:") {
                length = value.trim().parse::<usize>().ok();
            }
        }
        let mut body = vec![0; length.unwrap_or_default()];
        if reader.read_exact(&mut body).await.is_err() {
            return;
        }
        if out.send(Out::Frame(frame(&body))).await.is_err() {
            return;
        }
    }
}

/// Writes each message whole, so the server's answers and this layer's
/// errors never interleave.
pub async fn write_out<W: AsyncWrite + Unpin>(mut output: W, mut queue: mpsc::Receiver<Out>) {
    while let Some(item) = queue.recv().await {
        match item {
            Out::Frame(bytes) => {
                if output.write_all(&bytes).await.is_err() || output.flush().await.is_err() {
                    return;
                }
            }
            Out::Flush(done) => {
                let _ = done.send(());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_are_read_leniently_and_garbage_is_noticed() {
        assert_eq!(header(b"Content-Length: 12\r\n"), (false, Ok(12)));
        assert_eq!(header(b"content-length:7\n"), (false, Ok(7)));
        assert_eq!(
            header(b"Content-Type: application/vscode-jsonrpc\r\nContent-Length: 3\r\n"),
            (false, Ok(3))
        );
        assert_eq!(header(b"{\"x\": 1}Content-Length: 3\r\n"), (true, Ok(3)));
        assert_eq!(header(b"hello\r\nContent-Length: 3\r\n"), (true, Ok(3)));
        assert_eq!(header(b"hello\r\n"), (false, Err(HeaderError::Missing)));
        assert_eq!(
            header(b"Content-Length: ten\r\n"),
            (false, Err(HeaderError::NotANumber))
        );
        assert_eq!(
            header(b"Content-Length: 99999999999999999999999\r\n"),
            (false, Err(HeaderError::TooLarge))
        );
        assert_eq!(
            header(b"Content-Length: 67108865\r\n"),
            (false, Err(HeaderError::TooLarge))
        );
    }

    #[test]
    fn bodies_are_checked() {
        assert_eq!(check(br#"{"jsonrpc":"2.0","method":"exit"}"#), Ok(true));
        assert_eq!(
            check(br#"{"jsonrpc":"2.0","id":1,"method":"shutdown"}"#),
            Ok(false)
        );
        assert_eq!(
            check(br#"{"jsonrpc":"2.0","id":1,"result":null}"#),
            Ok(false)
        );
        let code = |body: &[u8]| {
            let framed = check(body).unwrap_err();
            let at = framed.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
            let v: serde_json::Value = serde_json::from_slice(&framed[at + 4..]).unwrap();
            (v["error"]["code"].as_i64().unwrap(), v["id"].clone())
        };
        assert_eq!(code(b"not json"), (-32700, serde_json::Value::Null));
        assert_eq!(code(b"\xff\xfe"), (-32700, serde_json::Value::Null));
        assert_eq!(code(b"{}"), (-32600, serde_json::Value::Null));
        assert_eq!(code(b"[]"), (-32600, serde_json::Value::Null));
        assert_eq!(code(br#"{"jsonrpc":"2.0","id":4}"#), (-32600, 4.into()));
        assert_eq!(
            code(br#"{"jsonrpc":"1.0","id":"a","method":"x"}"#),
            (-32600, "a".into())
        );
        assert_eq!(
            code(br#"{"jsonrpc":"2.0","id":1.5,"method":"x"}"#),
            (-32600, serde_json::Value::Null)
        );
    }
}
