//! `cargo bench --bench lsp`: the language server, in process.
//!
//! - After a one-character edit in a policy of 2,000 rules that all overlap
//!   (`generate_overlapping_policy`): time until the checker's diagnostics
//!   for the new text are published (target: under 50 ms in release), and
//!   until the analysis findings follow (target: under 1 s).
//! - Resident memory of the server with 50 policies open.

#[path = "../tests/common/lsp_client.rs"]
mod lsp_client;
#[path = "common/policy_text.rs"]
mod policy_text;

use std::time::{Duration, Instant};

use lsp_client::Lsp;
use policy_text::{generate_overlapping_policy, generate_policy};
use serde_json::json;

/// The 2,000-rule policy whose rules all overlap (`benches/analysis.rs`
/// times the same policy from the command line's side).
fn overlapping_policy() -> String {
    generate_overlapping_policy(2_000, 7)
}

fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

fn median(mut xs: Vec<Duration>) -> Duration {
    xs.sort();
    xs[xs.len() / 2]
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let dir = tempfile::tempdir().unwrap();
        let ws = dir.path().to_path_buf();
        let options = json!({ "asOf": "2026-06-01", "noConfig": true });

        let text = overlapping_policy();
        let path = ws.join("big.qual");
        std::fs::write(&path, &text).unwrap();
        let mut lsp = Lsp::start(&ws, options.clone()).await;
        lsp.open(&path, &text).await;
        let settled = lsp.diagnostics(&path).await; // settle: the first analysis
        println!("({} diagnostics on the 2,000-rule policy)", settled.as_array().unwrap().len());
        // Edit one character of a rule's threshold, back and forth.
        let at = text.find("visits >= ").expect("a visits rule") + "visits >= ".len();
        let (mut quick, mut full) = (Vec::new(), Vec::new());
        for round in 0..15 {
            let mut edited = text.clone();
            if round % 2 == 0 {
                let digit = edited.as_bytes()[at];
                let other = if digit == b'9' { "8" } else { "9" };
                edited.replace_range(at..at + 1, other);
            }
            let start = Instant::now();
            let version = lsp.change(&path, &edited).await;
            lsp.published(&path, |p| p["version"] == version).await;
            quick.push(start.elapsed());
            lsp.published(&path, |p| p["version"] == version).await;
            full.push(start.elapsed());
        }
        println!(
            "one-character edit in a {}-line policy ({} rules that all overlap): checker diagnostics published in {:.1} ms, analysis findings in {:.0} ms (median of {})",
            text.lines().count(),
            2_000,
            median(quick).as_secs_f64() * 1e3,
            median(full).as_secs_f64() * 1e3,
            15
        );
        lsp.shutdown().await;

        // Memory with 50 open policies of 100 rules each (~250 lines).
        let before = rss_kib();
        let mut lsp = Lsp::start(&ws, options).await;
        for i in 0..50 {
            let text = generate_policy(100, 100 + i);
            let path = ws.join(format!("policy{i}.qual"));
            std::fs::write(&path, &text).unwrap();
            lsp.open(&path, &text).await;
        }
        for i in 0..50 {
            lsp.diagnostics(&ws.join(format!("policy{i}.qual"))).await;
        }
        let after = rss_kib();
        println!(
            "50 open policies (100 rules each), analysed: server memory {:.1} MiB (process RSS grew from {:.1} to {:.1} MiB)",
            (after.saturating_sub(before)) as f64 / 1024.0,
            before as f64 / 1024.0,
            after as f64 / 1024.0
        );
        lsp.shutdown().await;
    });
}
