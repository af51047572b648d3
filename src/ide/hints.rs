//! Inlay hints: what each `per` line of a score can add and each score's
//! range, and — with a sample — the share of sample leads each rule passes.

use crate::analysis::sample::Report;
use crate::check::format_number;
use crate::db::{self, Db, SourceFile};

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Hint {
    /// Shown just after this byte offset.
    pub offset: usize,
    pub label: String,
}

fn signed(n: f64) -> String {
    if n > 0.0 {
        format!("+{}", format_number(n))
    } else {
        format_number(n)
    }
}

pub fn hints(db: &dyn Db, file: SourceFile, sample: Option<&Report>) -> Vec<Hint> {
    let checked = db::checked(db, file);
    let policy = &checked.policy;
    let ranges = db::score_ranges(db, file);
    let mut out = Vec::new();
    for (s, score) in policy.scores.iter().enumerate() {
        if score.loc.file != 0 {
            continue;
        }
        if let Some((low, high)) = ranges.get(s) {
            out.push(Hint {
                offset: score.loc.span.end as usize,
                label: format!("range {} to {}", format_number(*low), format_number(*high)),
            });
        }
        for line in &score.lines {
            let Some(_) = line.per else { continue };
            let label = match line.cap {
                Some(cap) => format!(
                    "adds up to {}",
                    signed(if line.points < 0.0 { -cap } else { cap })
                ),
                None => format!("{} each", signed(line.points)),
            };
            out.push(Hint {
                offset: line.loc.span.end as usize,
                label,
            });
        }
    }
    if let Some(report) = sample {
        let leads = report.stats.leads.max(1) as f64;
        for (r, rule) in policy.rules.iter().enumerate() {
            if rule.loc.file != 0 {
                continue;
            }
            if let Some(&n) = report.stats.rule_passes.get(r) {
                out.push(Hint {
                    offset: rule.loc.span.end as usize,
                    label: format!("{:.1}% of sample", n as f64 * 100.0 / leads),
                });
            }
        }
    }
    out.sort_by_key(|h| h.offset);
    out
}
