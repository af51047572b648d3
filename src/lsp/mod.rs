//! `qualify lsp`: the language server, over stdio.
//!
//! Built on tower-lsp-server, the maintained fork of tower-lsp (tower-lsp
//! has had no release since 2023 and depends on an abandoned lsp-types; the
//! fork is what Biome, Oxc and cedar's language server use). Protocol types
//! stay inside this module; the features live in `crate::ide`.

mod convert;
mod server;

pub use server::Server;
use tower_lsp_server::{LspService, Server as Transport};

/// Serve LSP on stdin/stdout until the client says `exit`.
pub fn serve_stdio() -> Result<(), String> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the server's runtime: {e}"))?;
    runtime.block_on(async {
        let (service, socket) = LspService::new(Server::new);
        Transport::new(tokio::io::stdin(), tokio::io::stdout(), socket)
            .serve(service)
            .await;
    });
    // Dropping the runtime would wait for every blocking task, and an
    // analysis of a large policy can run for seconds: after `exit` (or the
    // end of input) the process must end now.
    runtime.shutdown_background();
    Ok(())
}
