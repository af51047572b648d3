//! `cargo bench --bench eval`: evaluation alone, leads already in memory
//! (target: under 50 ns per lead for the reference policy of
//! `benches/run/`). Reads `target/bench-data/leads-1000000.csv` when
//! `bash benches/run/run.sh` has generated it, else the b2b-saas example
//! repeated.

use std::path::Path;
use std::time::Instant;

use qualify::compile::Program;
use qualify::eval::Machine;

fn main() {
    let policy_path = Path::new("benches/run/policy.qual");
    let big = Path::new("target/bench-data/leads-1000000.csv");
    let policy = {
        let db = qualify::db::Database::default();
        use qualify::db::Db;
        let file = db.load(policy_path).expect("benches/run/policy.qual");
        let checked = qualify::db::checked(&db, file);
        assert!(
            checked.diagnostics.iter().all(|d| !d.is_error()),
            "the benchmark policy has errors"
        );
        checked.policy.clone()
    };
    let program = Program::compile(&policy);
    let (rows, source) = if big.exists() {
        let loaded = qualify::leads::load(big, &policy, &program, Some(20_000)).unwrap();
        (loaded.rows, big.display().to_string())
    } else {
        let loaded =
            qualify::leads::load(Path::new("benches/run/sample.csv"), &policy, &program, None)
                .unwrap();
        let rows: Vec<_> = loaded.rows.iter().cycle().take(20_000).cloned().collect();
        (rows, "benches/run/sample.csv, repeated".to_string())
    };
    let as_of = qualify::check::policy::date_from_ymd("2026-06-01").unwrap();
    let mut machine = Machine::new(&program, as_of);
    let mut best = f64::MAX;
    let mut checksum = 0usize;
    for _ in 0..50 {
        let start = Instant::now();
        for row in &rows {
            let d = machine.run(&program, row);
            checksum = checksum.wrapping_add(d.rule.unwrap_or(99));
        }
        let ns = start.elapsed().as_nanos() as f64 / rows.len() as f64;
        best = best.min(ns);
    }
    println!(
        "eval: {:.1} ns per lead (best of 50 passes over {} leads from {source}; checksum {checksum})",
        best,
        rows.len()
    );
}
