//! `cargo bench --bench check`: parse + check a generated policy of 5,000
//! rules (target: well under a second in release), and re-check after a
//! one-character edit through the salsa database.

mod common;
use common::time;
use std::fmt::Write;
use std::path::Path;

use qualify::db::{self, Database};

pub fn generate_policy(rules: usize) -> String {
    let mut text = String::new();
    text.push_str("field company size: integer optional from \"Employees\"\n");
    text.push_str("field industry: enum { saas, fintech, retail, healthcare, other } optional from \"Industry\"\n");
    text.push_str("field budget: money optional from \"Budget\"\n");
    text.push_str("field demo requested: bool default false from \"Demo\"\n");
    text.push_str("field visits: integer default 0 from \"Visits\"\n");
    text.push_str("field last activity: date optional from \"Last Activity\"\n");
    text.push_str("stages unqualified < MQL < SQL\notherwise unqualified\n");
    text.push_str("criterion icp: company size known and industry known and company size between 50 and 5000 and industry in { saas, fintech }\n");
    text.push_str("score engagement {\n  +20 when demo requested\n  +2 per visits cap 20\n  +10 when last activity within the last 30 days\n  cap 100\n}\n");
    for i in 0..rules {
        let stage = if i % 3 == 0 { "SQL" } else { "MQL" };
        let _ = writeln!(
            text,
            "rule r{i}: budget known and budget > {} and (icp or engagement >= {}) and company size known and company size < {} => {stage} because \"rule {i}\"",
            1000 + i,
            i % 100,
            100 + i * 3
        );
    }
    text
}

fn main() {
    let text = generate_policy(5_000);
    let lines = text.lines().count();
    let cold = time(5, || {
        let mut db = Database::default();
        let file = db.set_file(Path::new("/bench/policy.qual"), text.clone());
        let checked = db::checked(&db, file);
        assert!(!checked.has_errors(), "{:?}", checked.diagnostics.first());
        checked.policy.rules.len()
    });
    println!(
        "check 5,000-rule policy ({lines} lines, {} KB), cold: {:.1} ms",
        text.len() / 1024,
        cold.as_secs_f64() * 1e3
    );

    let mut db = Database::default();
    let file = db.set_file(Path::new("/bench/policy.qual"), text.clone());
    let _ = db::checked(&db, file);
    let mut flip = false;
    let edit = time(5, || {
        flip = !flip;
        let edited = if flip {
            text.replacen("rule 1\"", "rule 1!\"", 1)
        } else {
            text.clone()
        };
        let file = db.set_file(Path::new("/bench/policy.qual"), edited);
        db::checked(&db, file).diagnostics.len()
    });
    println!(
        "re-check after a one-character edit: {:.1} ms",
        edit.as_secs_f64() * 1e3
    );
}
