//! `cargo bench --bench analysis`: the static analysis of a generated
//! 500-rule policy (target: under one second in release), and the sample
//! statistics of a 200-rule policy over 100,000 generated leads (target: a
//! few seconds).

mod common;
use common::policy_text::{
    INDUSTRIES, Lcg, SENIORITY, SOURCES, generate_overlapping_policy, generate_policy,
};
use common::time;
use std::fmt::Write;
use std::path::Path;

use qualify::check::date_from_ymd;
use qualify::db::{self, Database};

fn main() {
    let as_of = date_from_ymd("2026-06-01").unwrap();
    for rules in [100, 500] {
        let text = generate_policy(rules, 7);
        let mut findings = Vec::new();
        let took = time(3, || {
            let mut db = Database::default();
            db.set_as_of(as_of);
            let file = db.set_file(Path::new("/bench/policy.qual"), text.clone());
            let checked = db::checked(&db, file);
            assert!(!checked.has_errors(), "{:?}", checked.diagnostics.first());
            findings = db::analysis(&db, file).clone();
        });
        println!(
            "analysis of a {rules}-rule policy: {:.0} ms ({})",
            took.as_secs_f64() * 1e3,
            by_code(&findings)
        );
    }

    // Rules that all overlap: a policy written the natural way must check
    // clean and fast however many rules escalate each other. The file is
    // left in target/bench-data/ for timing `qualify check` and the editor.
    for rules in [500, 2_000] {
        let text = generate_overlapping_policy(rules, 7);
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join(format!("target/bench-data/overlap-{rules}.qual"));
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, &text).unwrap();
        let mut findings = Vec::new();
        let took = time(1, || {
            let mut db = Database::default();
            db.set_as_of(as_of);
            let file = db.set_file(Path::new("/bench/overlap.qual"), text.clone());
            let checked = db::checked(&db, file);
            assert!(!checked.has_errors(), "{:?}", checked.diagnostics.first());
            findings = db::analysis(&db, file).clone();
        });
        println!(
            "analysis of {rules} rules that all overlap: {:.0} ms ({}; written to {})",
            took.as_secs_f64() * 1e3,
            by_code(&findings),
            path.display()
        );
    }

    // Sample statistics: 200 rules over 100,000 leads.
    let leads = 100_000;
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/bench-data/analysis-sample.csv");
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(&path, generate_leads(leads, 11)).unwrap();
    let text = generate_policy(200, 7);
    let mut db = Database::default();
    db.set_as_of(as_of);
    let file = db.set_file(Path::new("/bench/policy.qual"), text.clone());
    let policy = db::checked(&db, file).policy.clone();
    let mut reported = 0;
    let took = time(3, || {
        let found = qualify::analysis::sample::findings(
            &policy,
            &[text.as_str()],
            &path,
            &Default::default(),
            None,
            as_of,
        )
        .unwrap();
        reported = found.diagnostics.len();
    });
    println!(
        "sample statistics, 200 rules x {leads} leads: {:.0} ms ({reported} findings)",
        took.as_secs_f64() * 1e3
    );
}

/// Leads for the generated policy's schema, with some values missing.
fn generate_leads(n: usize, seed: u64) -> String {
    let mut rng = Lcg(seed);
    let mut out = String::from(
        "Lead ID,Industry,Seniority,Source,Employees,Budget,Visits,Downloads,Opens,Demo,Authority,Trial,Country,Last Activity\n",
    );
    for i in 0..n {
        let mut maybe = |text: String| {
            if rng.next(5) == 0 {
                String::new()
            } else {
                text
            }
        };
        let industry = maybe(INDUSTRIES[i % 6].to_string());
        let seniority = maybe(SENIORITY[i % 5].to_string());
        let employees = maybe(((i * 7919) % 3000).to_string());
        let budget = maybe((((i * 104729) % 60) * 1000).to_string());
        let country = ["US", "DE", "FR", "IN"][rng.next(4)];
        let day = 1 + rng.next(28);
        let _ = writeln!(
            out,
            "L{i},{industry},{seniority},{},{employees},{budget},{},{},{},{},{},{},{country},2026-05-{day:02}",
            SOURCES[rng.next(5)],
            rng.next(12),
            rng.next(5),
            rng.next(30),
            ["yes", "no"][rng.next(2)],
            ["yes", "no"][rng.next(2)],
            ["yes", "no"][rng.next(2)],
        );
    }
    out
}

/// `N findings (Q0302 × 3, …)`.
fn by_code(findings: &[qualify::analysis::Finding]) -> String {
    let mut codes = std::collections::BTreeMap::new();
    for f in findings {
        *codes.entry(f.diagnostic.code.as_str()).or_insert(0) += 1;
    }
    let parts: Vec<String> = codes.iter().map(|(c, n)| format!("{c} × {n}")).collect();
    format!("{} findings: {}", findings.len(), parts.join(", "))
}
