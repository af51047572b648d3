//! `cargo bench --bench analysis`: the static analysis of a generated
//! 500-rule policy (target: under one second in release), and the sample
//! statistics of a 200-rule policy over 100,000 generated leads (target: a
//! few seconds).

mod common;
use common::time;
use std::fmt::Write;
use std::path::Path;

use qualify::check::date_from_ymd;
use qualify::db::{self, Database};

/// A small deterministic generator, so every run analyses the same policy.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self, n: usize) -> usize {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((self.0 >> 33) as usize) % n
    }
}

const INDUSTRIES: [&str; 6] = [
    "saas",
    "fintech",
    "retail",
    "healthcare",
    "education",
    "other",
];
const SENIORITY: [&str; 5] = ["c_level", "vp", "director", "manager", "individual"];
const SOURCES: [&str; 5] = ["web", "event", "partner", "outbound", "referral"];

/// A policy shaped like a large real one: a schema of 20 fields, criteria,
/// two scores, five stages and `rules` rules of two to four clauses.
pub fn generate_policy(rules: usize, seed: u64) -> String {
    let mut rng = Lcg(seed);
    let mut text = String::new();
    text.push_str("field lead id: string key from \"Lead ID\"\n");
    text.push_str(&format!(
        "field industry: enum {{ {} }} optional from \"Industry\"\n",
        INDUSTRIES.join(", ")
    ));
    text.push_str(&format!(
        "field seniority: enum {{ {} }} optional from \"Seniority\"\n",
        SENIORITY.join(", ")
    ));
    text.push_str(&format!(
        "field source: enum {{ {} }} default web from \"Source\"\n",
        SOURCES.join(", ")
    ));
    text.push_str("field employees: integer optional from \"Employees\"\n");
    text.push_str("field budget: money optional from \"Budget\"\n");
    text.push_str("field visits: integer default 0 from \"Visits\"\n");
    text.push_str("field downloads: integer default 0 from \"Downloads\"\n");
    text.push_str("field opens: integer default 0 from \"Opens\"\n");
    text.push_str("field demo requested: bool default false from \"Demo\"\n");
    text.push_str("field authority: bool default false from \"Authority\"\n");
    text.push_str("field trial: bool default false from \"Trial\"\n");
    text.push_str("field country: string optional from \"Country\"\n");
    text.push_str("field last activity: date optional from \"Last Activity\"\n");
    text.push_str(
        "stages unqualified < nurture < MQL < SQL < opportunity\notherwise unqualified\n",
    );
    text.push_str("criterion icp: employees known and industry known and employees between 50 and 5000 and industry in { saas, fintech, healthcare }\n");
    text.push_str(
        "criterion decision maker: seniority in { c_level, vp, director } or authority\n",
    );
    text.push_str("criterion active: last activity within 30 days\n");
    text.push_str("score fit {\n  +30 when icp\n  +20 when decision maker\n  -20 when industry in { education, other }\n  +10 when country = \"US\"\n  cap 100\n}\n");
    text.push_str("score engagement {\n  +20 when demo requested\n  +5 per downloads cap 15\n  +3 per visits cap 15\n  +1 per opens cap 10\n  +10 when active\n  cap 100\n}\n");
    let stages = ["nurture", "MQL", "SQL", "opportunity"];
    for i in 0..rules {
        let mut clauses: Vec<String> = Vec::new();
        let count = 2 + rng.next(3);
        while clauses.len() < count {
            let clause = match rng.next(10) {
                0 => format!(
                    "industry in {{ {}, {} }}",
                    INDUSTRIES[rng.next(6)],
                    INDUSTRIES[rng.next(6)]
                ),
                1 => format!("seniority = {}", SENIORITY[rng.next(5)]),
                2 => format!("source != {}", SOURCES[rng.next(5)]),
                3 => format!("employees > {}", 10 * (1 + rng.next(100))),
                4 => format!("budget >= ${}", 1000 * (1 + rng.next(50))),
                5 => [
                    "demo requested",
                    "authority",
                    "not trial",
                    "icp",
                    "decision maker",
                ][rng.next(5)]
                .to_string(),
                6 => format!("fit >= {}", 10 * rng.next(8)),
                7 => format!("engagement >= {}", 5 * rng.next(12)),
                8 => format!("visits > {}", rng.next(10)),
                _ => "active".to_string(),
            };
            if !clauses.contains(&clause) {
                clauses.push(clause);
            }
        }
        let _ = writeln!(
            text,
            "rule r{i}: {} => {}",
            clauses.join(" and "),
            stages[rng.next(4)]
        );
    }
    text
}

fn main() {
    let as_of = date_from_ymd("2026-06-01").unwrap();
    for rules in [100, 500] {
        let text = generate_policy(rules, 7);
        let mut findings = 0;
        let took = time(3, || {
            let mut db = Database::default();
            db.set_as_of(as_of);
            let file = db.set_file(Path::new("/bench/policy.qual"), text.clone());
            let checked = db::checked(&db, file);
            assert!(!checked.has_errors(), "{:?}", checked.diagnostics.first());
            findings = db::analysis(&db, file).len();
        });
        println!(
            "analysis of a {rules}-rule policy: {:.0} ms ({findings} findings)",
            took.as_secs_f64() * 1e3
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
