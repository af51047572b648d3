//! `qualify lsp`: the language server, over stdio.
//!
//! Built on tower-lsp-server, the maintained fork of tower-lsp (tower-lsp
//! has had no release since 2023 and depends on an abandoned lsp-types; the
//! fork is what Biome, Oxc and cedar's language server use). Protocol types
//! stay inside this module; the features live in `crate::ide`. Messages
//! from the client pass through `framing`, which answers malformed ones
//! itself and ends the session on time.

mod convert;
mod diagnostics;
mod framing;
mod handlers;
mod server;
mod settings;
mod state;

use std::time::Duration;

pub use server::Server;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::sync::{mpsc, oneshot};
use tower_lsp_server::{LspService, Server as Transport};

/// How long the server may finish its work after `exit` or the end of
/// input, and then its output; never the time of an analysis.
const GRACE: Duration = Duration::from_millis(250);

/// Serve LSP on stdin/stdout until the client says `exit` or closes stdin.
pub fn serve_stdio() -> Result<(), String> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the server's runtime: {e}"))?;
    runtime.block_on(serve(tokio::io::stdin(), tokio::io::stdout()));
    // Dropping the runtime would wait for every blocking task, and an
    // analysis of a large policy can run for seconds: after `exit` (or the
    // end of input) the process must end now.
    runtime.shutdown_background();
    Ok(())
}

/// Serve LSP on `input`/`output`: the client's frames are checked by
/// `framing` and passed to tower-lsp-server's transport through a pipe;
/// its answers and `framing`'s errors share one writer.
pub async fn serve<I, O>(input: I, output: O)
where
    I: AsyncRead + Unpin + Send + 'static,
    O: AsyncWrite + Unpin + Send + 'static,
{
    let (service, socket) = LspService::new(Server::new);
    let (to_server, server_in) = tokio::io::duplex(64 << 10);
    let (server_out, from_server) = tokio::io::duplex(64 << 10);
    let (out, queue) = mpsc::channel(64);
    tokio::spawn(framing::write_out(output, queue));
    let relay = tokio::spawn(framing::relay(from_server, out.clone()));
    let reader = tokio::spawn(framing::read_client(input, to_server, out.clone()));
    let serve = Transport::new(server_in, server_out, socket).serve(service);
    tokio::pin!(serve);
    tokio::select! {
        () = &mut serve => {}
        _ = reader => {
            // `exit`, or the end of input: the server's input has ended
            // too. It may finish what is quick, not a running analysis.
            let _ = tokio::time::timeout(GRACE, &mut serve).await;
        }
    }
    // Write what is already answered.
    let _ = tokio::time::timeout(GRACE, async {
        let _ = relay.await;
        let (done, written) = oneshot::channel();
        if out.send(framing::Out::Flush(done)).await.is_ok() {
            let _ = written.await;
        }
    })
    .await;
}
