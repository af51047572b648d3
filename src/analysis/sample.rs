//! Data-driven strictness: run the compiled policy over a sample of real
//! leads and report what the static analysis cannot see — rules that almost
//! no lead passes (over-qualification) and the clause to blame, stages no
//! lead reaches, and fields a rule needs that many leads lack.

use std::path::Path;

use super::model::{Model, RegionKind};
use super::solver::Solver;
use super::{ROOT, conjuncts};
use crate::check::{Expr, ExprKind, FieldId, Loc, Policy, RuleId};
use crate::compile::Program;
use crate::diagnostic::{Code, Diagnostic};
use crate::eval::{Machine, Slot, Truth};

/// Thresholds, from `qualify.toml` or the command line.
#[derive(Clone, Debug, PartialEq)]
pub struct Thresholds {
    /// Warn about a rule or criterion fewer than this share of leads pass.
    pub min_pass_rate: f64,
    /// Warn when a field a rule needs is missing in more than this share.
    pub max_missing: f64,
}

impl Default for Thresholds {
    fn default() -> Self {
        Thresholds {
            min_pass_rate: 0.01,
            max_missing: 0.30,
        }
    }
}

/// What one pass over the sample counted.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SampleStats {
    pub leads: usize,
    pub rejected: usize,
    /// Per rule: leads whose condition is true.
    pub rule_passes: Vec<usize>,
    pub criterion_passes: Vec<usize>,
    pub stage_reached: Vec<usize>,
    pub missing: Vec<usize>,
}

/// Count, over the sample, what every rule and criterion lets through.
pub fn statistics(
    policy: &Policy,
    program: &Program,
    rows: &[crate::eval::Row],
    as_of: i32,
    interrupt: &dyn Fn(),
) -> SampleStats {
    let mut machine = Machine::new(program, as_of);
    let mut stats = SampleStats {
        leads: rows.len(),
        rejected: 0,
        rule_passes: vec![0; policy.rules.len()],
        criterion_passes: vec![0; policy.criteria.len()],
        stage_reached: vec![0; policy.stages.len()],
        missing: vec![0; policy.fields.len()],
    };
    for (i, row) in rows.iter().enumerate() {
        if i % 4096 == 0 {
            interrupt();
        }
        let decision = machine.run(program, row);
        if let Some(stage) = decision.stage {
            stats.stage_reached[stage] += 1;
        }
        for rule in &program.rules {
            if machine.truth(program, row, rule.cond) == Truth::True {
                stats.rule_passes[rule.rule] += 1;
            }
        }
        for (c, &node) in program.criteria.iter().enumerate() {
            if machine.truth(program, row, node) == Truth::True {
                stats.criterion_passes[c] += 1;
            }
        }
        for (f, slot) in row.slots.iter().enumerate() {
            if matches!(slot, Slot::Missing) {
                stats.missing[f] += 1;
            }
        }
    }
    stats
}

/// What reading the sample gave, besides the findings.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Read {
    pub leads: usize,
    /// Rows that could not be read, described ("line 12, column …: …").
    pub rejected: Vec<String>,
}

/// Everything a sample told about a policy.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Report {
    pub diagnostics: Vec<Diagnostic>,
    pub read: Read,
    pub stats: SampleStats,
}

/// Read the sample and report its findings for the policy file.
pub fn findings(
    policy: &Policy,
    sources: &[&str],
    sample: &Path,
    thresholds: &Thresholds,
    as_of: i32,
) -> Result<Report, String> {
    findings_interruptible(policy, sources, sample, thresholds, as_of, &|| {})
}

/// `findings`, calling `interrupt` now and then; it may unwind to abandon
/// the work.
pub fn findings_interruptible(
    policy: &Policy,
    sources: &[&str],
    sample: &Path,
    thresholds: &Thresholds,
    as_of: i32,
    interrupt: &dyn Fn(),
) -> Result<Report, String> {
    let program = Program::compile(policy);
    let loaded = crate::leads::load(sample, policy, &program, None)?;
    interrupt();
    let mut stats = statistics(policy, &program, &loaded.rows, as_of, interrupt);
    stats.rejected = loaded.rejects.len();
    let read = Read {
        leads: loaded.rows.len(),
        rejected: loaded.rejects.iter().map(|r| r.describe("line")).collect(),
    };
    let diagnostics = report(
        policy,
        sources,
        &program,
        &loaded.rows,
        &stats,
        thresholds,
        as_of,
        sample,
    );
    Ok(Report {
        diagnostics,
        read,
        stats,
    })
}

/// `part` of `whole` as a percentage, with two decimals below 0.1%.
pub fn percent(part: usize, whole: usize) -> String {
    let share = if whole == 0 {
        0.0
    } else {
        part as f64 * 100.0 / whole as f64
    };
    if share > 0.0 && share < 0.1 {
        format!("{share:.2}%")
    } else {
        format!("{share:.1}%")
    }
}

fn count(n: usize) -> String {
    crate::check::thousands(n as u64)
}

#[allow(clippy::too_many_arguments)]
fn report(
    policy: &Policy,
    sources: &[&str],
    program: &Program,
    rows: &[crate::eval::Row],
    stats: &SampleStats,
    thresholds: &Thresholds,
    as_of: i32,
    sample: &Path,
) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    let n = stats.leads;
    if n == 0 {
        return out;
    }
    let quote = |e: &Expr| -> String {
        let text = sources
            .get(e.loc.file as usize)
            .and_then(|s| s.get(e.loc.span.range()))
            .unwrap_or("");
        text.split_whitespace().collect::<Vec<_>>().join(" ")
    };
    let sample_name = sample.display().to_string();
    let min_passes = thresholds.min_pass_rate * n as f64;

    // Rules and criteria few leads pass, with the clause to blame.
    let mut subjects: Vec<(String, &Expr, Loc, usize)> = Vec::new();
    for (r, rule) in policy.rules.iter().enumerate() {
        if rule.loc.file == ROOT {
            let name = format!("rule `{}`", rule.display_name());
            subjects.push((name, &rule.expr, rule.loc, stats.rule_passes[r]));
        }
    }
    for (c, criterion) in policy.criteria.iter().enumerate() {
        if criterion.loc.file == ROOT {
            let name = format!("criterion `{}`", criterion.name);
            subjects.push((
                name,
                &criterion.expr,
                criterion.loc,
                stats.criterion_passes[c],
            ));
        }
    }
    let low: Vec<&(String, &Expr, Loc, usize)> = subjects
        .iter()
        .filter(|(_, _, _, passes)| (*passes as f64) < min_passes)
        .collect();
    // One more pass over the sample, only for the rules that need it: how
    // many more leads would pass without each clause.
    let relaxed: Vec<Vec<Expr>> = low
        .iter()
        .map(|(_, expr, _, _)| {
            let clauses = conjuncts(expr);
            if clauses.len() < 2 {
                return Vec::new();
            }
            (0..clauses.len())
                .map(|skip| Expr {
                    kind: ExprKind::And(
                        clauses
                            .iter()
                            .enumerate()
                            .filter(|(i, _)| *i != skip)
                            .map(|(_, e)| (*e).clone())
                            .collect(),
                    ),
                    loc: expr.loc,
                })
                .collect()
        })
        .collect();
    let mut extended = program.clone();
    let probe_exprs: Vec<&Expr> = relaxed.iter().flatten().collect();
    let probes = extended.add_probes(policy, &probe_exprs);
    let mut relaxed_passes = vec![0usize; probes.len()];
    if !probes.is_empty() {
        let mut machine = Machine::new(&extended, as_of);
        for row in rows {
            machine.begin(&extended, row);
            for (i, &node) in probes.iter().enumerate() {
                if machine.truth(&extended, row, node) == Truth::True {
                    relaxed_passes[i] += 1;
                }
            }
        }
    }
    let mut next_probe = 0;
    for ((what, expr, loc, passes), relaxed) in low.iter().zip(&relaxed) {
        let path = policy.path(*loc);
        let mut diag = Diagnostic::new(
            Code::RarelyPasses,
            path,
            loc.span,
            format!(
                "{what} passes {} of {} sample leads ({}), below the {} threshold",
                count(*passes),
                count(n),
                percent(*passes, n),
                percent((thresholds.min_pass_rate * 1e4).round() as usize, 10_000)
            ),
        )
        .label("few sample leads pass this");
        let clauses = conjuncts(expr);
        let counts = &relaxed_passes[next_probe..next_probe + relaxed.len()];
        next_probe += relaxed.len();
        let best = counts.iter().enumerate().max_by_key(|(_, c)| **c);
        diag = match best {
            Some((i, &with)) if with > *passes => {
                let clause = clauses[i];
                diag.related(
                    path,
                    clause.loc.span,
                    format!("the most restrictive clause: without it, {} more leads pass", count(with - passes)),
                )
                .help(format!(
                    "`{}` is the most restrictive clause: without it {} of {} sample leads ({}) would pass; \
                     check that it is not stricter than meant (over-qualification)",
                    quote(clause),
                    count(with),
                    count(n),
                    percent(with, n)
                ))
            }
            _ => diag.help(
                "check that the condition is not stricter than meant (over-qualification), \
                 or that the sample holds the leads it is meant for",
            ),
        };
        out.push(diag);
    }

    // Stages no sample lead reaches.
    for (s, stage) in policy.stages.iter().enumerate() {
        if stats.stage_reached[s] == 0 && stage.loc.file == ROOT {
            out.push(
                Diagnostic::new(
                    Code::StageNeverReached,
                    policy.path(stage.loc),
                    stage.loc.span,
                    format!("no lead of the sample ({} leads) reaches {}", count(n), stage.name),
                )
                .label("no sample lead gets this stage")
                .help(format!(
                    "the rules for {} may be too strict for these leads; `qualify explain POLICY {sample_name} --row N` shows what a lead lacks",
                    stage.name
                )),
            );
        }
    }

    // Fields a rule needs that many leads lack.
    let model = Model::new(policy, as_of);
    let mut solver = Solver::new(&model);
    for (r, rule) in policy.rules.iter().enumerate() {
        if rule.loc.file != ROOT {
            continue;
        }
        for f in needed_fields(&model, &mut solver, r) {
            let share = stats.missing[f] as f64 / n as f64;
            if share <= thresholds.max_missing {
                continue;
            }
            let field = &policy.fields[f];
            out.push(
                Diagnostic::new(
                    Code::OftenMissing,
                    policy.path(rule.loc),
                    rule.loc.span,
                    format!(
                        "rule `{}` needs `{}`, which {} of {} sample leads ({}) lack; those leads can never pass it",
                        rule.display_name(),
                        field.name,
                        count(stats.missing[f]),
                        count(n),
                        percent(stats.missing[f], n)
                    ),
                )
                .label("needs a field many leads lack")
                .related(policy.path(field.loc), field.loc.span, "the field")
                .help(format!(
                    "say what a missing `{}` should mean (`{} unknown or …`, or a `default`), or use another field",
                    field.name, field.name
                )),
            );
        }
    }
    out
}

/// Fields without which the rule can never be true.
fn needed_fields(model: &Model, solver: &mut Solver, rule: RuleId) -> Vec<FieldId> {
    let node = model.node(&model.policy.rules[rule].expr);
    model
        .fields_of(node)
        .into_iter()
        .filter(|&f| {
            model.regions[f].first().map(|r| &r.kind) == Some(&RegionKind::Missing)
                && solver.possible_with(node, f, 0) & super::T == 0
        })
        .collect()
}
