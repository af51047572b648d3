//! A generated policy shaped like a large real one, for benchmarks and the
//! language server's tests.

#![allow(dead_code)]

use std::fmt::Write;

/// A small deterministic generator, so every run analyses the same policy.
pub struct Lcg(pub u64);

impl Lcg {
    pub fn next(&mut self, n: usize) -> usize {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((self.0 >> 33) as usize) % n
    }
}

pub const INDUSTRIES: [&str; 6] = [
    "saas",
    "fintech",
    "retail",
    "healthcare",
    "education",
    "other",
];
pub const SENIORITY: [&str; 5] = ["c_level", "vp", "director", "manager", "individual"];
pub const SOURCES: [&str; 5] = ["web", "event", "partner", "outbound", "referral"];

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
    text.push_str("criterion active: last activity within the last 30 days\n");
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

/// A policy of `rules` rules that all overlap, written the way a large
/// routing table is: every rule asks for three of five activity and size
/// thresholds (and sometimes a segment), so one "perfect" lead (large,
/// big budget, very active, `saas`, C-level) matches every rule, and every
/// pair of rules overlaps. Within a stage the thresholds trade off against
/// each other (they add up to the same total), and a higher stage asks for
/// a larger total, so every rule still decides the lead that just meets it:
/// the policy has no real mistake, and the analysis must say so quickly.
/// The schema is `generate_policy`'s.
pub fn generate_overlapping_policy(rules: usize, seed: u64) -> String {
    let mut rng = Lcg(seed);
    let mut text = generate_policy(0, seed);
    let stages = ["nurture", "MQL", "SQL", "opportunity"];
    // How `n` steps of the total are written for each measure.
    let measures: [fn(usize) -> String; 5] = [
        |n| format!("employees >= {}", 10 * n),
        |n| format!("budget >= ${}", 500 * n),
        |n| format!("visits >= {n}"),
        |n| format!("downloads >= {n}"),
        |n| format!("opens >= {n}"),
    ];
    let mut seen = std::collections::HashSet::new();
    let mut written = 0;
    while written < rules {
        let stage = rng.next(stages.len());
        let total = 12 * (stage + 1);
        // Three distinct measures and a split of the total into three
        // positive parts.
        let mut picked: Vec<usize> = Vec::new();
        while picked.len() < 3 {
            let m = rng.next(measures.len());
            if !picked.contains(&m) {
                picked.push(m);
            }
        }
        picked.sort_unstable();
        let a = 1 + rng.next(total - 2);
        let b = 1 + rng.next(total - a - 1);
        let parts = [a, b, total - a - b];
        let segment = rng.next(3);
        if !seen.insert((stage, picked.clone(), parts)) {
            continue;
        }
        let mut clauses: Vec<String> = picked
            .iter()
            .zip(parts)
            .map(|(&m, n)| measures[m](n))
            .collect();
        match segment {
            1 => clauses.push(format!(
                "industry in {{ saas, {} }}",
                INDUSTRIES[1 + rng.next(5)]
            )),
            2 => clauses.push(format!(
                "seniority in {{ c_level, {} }}",
                SENIORITY[1 + rng.next(4)]
            )),
            _ => {}
        }
        let _ = writeln!(
            text,
            "rule r{written}: {} => {}",
            clauses.join(" and "),
            stages[stage]
        );
        written += 1;
    }
    text
}
