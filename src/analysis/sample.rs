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
use crate::leads::outcome::Outcome;

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
    /// With an outcome column: what the leads did.
    pub conversions: Option<Conversions>,
}

/// How many sample leads converted, overall and among those each rule lets
/// through; leads whose outcome is empty are not counted.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Conversions {
    /// Leads whose outcome is known.
    pub known: usize,
    pub converted: usize,
    /// Per rule: leads it matches whose outcome is known, and of those the
    /// leads that converted.
    pub rule_known: Vec<usize>,
    pub rule_converted: Vec<usize>,
}

/// Count, over the sample, what every rule and criterion lets through.
pub fn statistics(
    policy: &Policy,
    program: &Program,
    rows: &[crate::eval::Row],
    outcome: Option<(&Outcome, FieldId)>,
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
        conversions: outcome.map(|_| Conversions {
            rule_known: vec![0; policy.rules.len()],
            rule_converted: vec![0; policy.rules.len()],
            ..Conversions::default()
        }),
    };
    for (i, row) in rows.iter().enumerate() {
        if i % 4096 == 0 {
            interrupt();
        }
        let decision = machine.run(program, row);
        if let Some(stage) = decision.stage {
            stats.stage_reached[stage] += 1;
        }
        let converted = outcome.and_then(|(o, field)| o.converted(row, field));
        if let (Some(c), Some(converted)) = (&mut stats.conversions, converted) {
            c.known += 1;
            c.converted += usize::from(converted);
        }
        for rule in &program.rules {
            if machine.truth(program, row, rule.cond) == Truth::True {
                stats.rule_passes[rule.rule] += 1;
                if let (Some(c), Some(converted)) = (&mut stats.conversions, converted) {
                    c.rule_known[rule.rule] += 1;
                    c.rule_converted[rule.rule] += usize::from(converted);
                }
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
    outcome: Option<&Outcome>,
    as_of: i32,
) -> Result<Report, String> {
    findings_interruptible(policy, sources, sample, thresholds, outcome, as_of, &|| {})
}

/// `findings`, calling `interrupt` now and then; it may unwind to abandon
/// the work.
pub fn findings_interruptible(
    policy: &Policy,
    sources: &[&str],
    sample: &Path,
    thresholds: &Thresholds,
    outcome: Option<&Outcome>,
    as_of: i32,
    interrupt: &dyn Fn(),
) -> Result<Report, String> {
    // The outcome is read as one more field, after the policy's own, so
    // every id of the policy stays as it is.
    let with_outcome;
    let (policy, outcome) = match outcome {
        Some(o) => {
            let mut extended = policy.clone();
            let field = o.add_to(&mut extended);
            with_outcome = extended;
            (&with_outcome, Some((o, field)))
        }
        None => (policy, None),
    };
    let mut program = Program::compile(policy);
    if let Some((_, field)) = outcome {
        program.reads[field] = true;
    }
    let loaded = crate::leads::load(sample, policy, &program, None)?;
    interrupt();
    let mut stats = statistics(policy, &program, &loaded.rows, outcome, as_of, interrupt);
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

    // Rules and criteria few leads pass, with the clause to blame. Only
    // those that let leads in: a ceiling, a rule at or below `otherwise`'s
    // stage, or a criterion only used to hold leads back (in a ceiling, or
    // negated) is meant to match few leads.
    let gates = gating_criteria(policy);
    let mut subjects: Vec<(String, &Expr, Loc, usize)> = Vec::new();
    for (r, rule) in policy.rules.iter().enumerate() {
        if rule.loc.file == ROOT && lets_leads_in(policy, r) {
            let name = format!("rule `{}`", rule.display_name());
            subjects.push((name, &rule.expr, rule.loc, stats.rule_passes[r]));
        }
    }
    for (c, criterion) in policy.criteria.iter().enumerate() {
        if criterion.loc.file == ROOT && gates[c] != Some(false) {
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
        if rule.loc.file != ROOT || !lets_leads_in(policy, r) {
            continue;
        }
        for f in needed_fields(&model, &mut solver, r) {
            let share = stats.missing[f] as f64 / n as f64;
            if share <= thresholds.max_missing {
                continue;
            }
            let field = &policy.fields[f];
            let share = percent(stats.missing[f], n);
            out.push(
                Diagnostic::new(
                    Code::OftenMissing,
                    policy.path(rule.loc),
                    rule.loc.span,
                    format!(
                        "rule `{}` needs `{}`, which {} of {} sample leads ({share}) lack; those leads can never pass it",
                        rule.display_name(),
                        field.name,
                        count(stats.missing[f]),
                        count(n),
                    ),
                )
                .label("needs a field many leads lack")
                .related(policy.path(field.loc), field.loc.span, "the field")
                .help(often_missing_help(policy, &rule.expr, f, &share)),
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

/// Q0312's help. It never recommends letting more leads in: a rule that
/// already says `X known` (or `X unknown`) has decided what a missing value
/// means, and is only pointed at the data; otherwise letting leads without
/// the field through is offered as one choice among others.
fn often_missing_help(policy: &Policy, expr: &Expr, f: FieldId, share: &str) -> String {
    let field = &policy.fields[f];
    let name = &field.name;
    let data = format!(
        "if that is more than expected, check that column \"{}\" is exported and filled in where the sample comes from",
        field.column
    );
    match says_what_missing_means(policy, expr, f, 0) {
        Some(test) => format!(
            "the rule says `{name} {test}`, so it leaves out the {share} of sample leads without `{name}` on purpose; {data}"
        ),
        None => format!(
            "a test on a missing value is never met, so the rule leaves out the {share} of sample leads without `{name}`; {data}. \
             Whether such leads may pass is a choice: `{name} known and …` keeps them out and says so, \
             `({name} unknown or …)` would let them through this rule, a `default` would give them a value"
        ),
    }
}

/// How the condition (or a criterion it uses) tests `f` for presence:
/// `known` if it does anywhere, else `unknown` if it does, else `None`.
fn says_what_missing_means(
    policy: &Policy,
    expr: &Expr,
    f: FieldId,
    depth: usize,
) -> Option<&'static str> {
    match &expr.kind {
        ExprKind::Known(g) if *g == f => Some("known"),
        ExprKind::Unknown(g) if *g == f => Some("unknown"),
        ExprKind::And(items) | ExprKind::Or(items) | ExprKind::AtLeast { items, .. } => {
            let found: Vec<_> = items
                .iter()
                .filter_map(|x| says_what_missing_means(policy, x, f, depth))
                .collect();
            found
                .iter()
                .copied()
                .find(|t| *t == "known")
                .or(found.first().copied())
        }
        ExprKind::Not(inner) => says_what_missing_means(policy, inner, f, depth),
        ExprKind::Criterion(c) if depth < 32 => {
            says_what_missing_means(policy, &policy.criteria[*c].expr, f, depth + 1)
        }
        _ => None,
    }
}

/// Whether a rule lets leads in: an ordinary rule above `otherwise`'s
/// stage. Ceilings and rules at or below `otherwise` hold leads back, and
/// are meant to match few of them.
fn lets_leads_in(policy: &Policy, rule: RuleId) -> bool {
    let rule = &policy.rules[rule];
    !rule.ceiling && policy.otherwise.is_none_or(|o| rule.stage > o)
}

/// Per criterion: `Some(true)` when some rule that lets leads in needs it
/// to be true (or a ceiling needs it to be false), `Some(false)` when rules
/// use it only to hold leads back, `None` when no rule uses it.
fn gating_criteria(policy: &Policy) -> Vec<Option<bool>> {
    /// `gate`: whether the criterion being true lets leads in here; `None`
    /// inside a rule that lets no lead in, either way.
    fn visit(
        policy: &Policy,
        expr: &Expr,
        gate: Option<bool>,
        out: &mut Vec<Option<bool>>,
        depth: usize,
    ) {
        match &expr.kind {
            ExprKind::And(items) | ExprKind::Or(items) | ExprKind::AtLeast { items, .. } => {
                for x in items {
                    visit(policy, x, gate, out, depth);
                }
            }
            ExprKind::Not(inner) => visit(policy, inner, gate.map(|g| !g), out, depth),
            ExprKind::Criterion(c) if depth < 32 => {
                out[*c] = Some(out[*c] == Some(true) || gate == Some(true));
                visit(policy, &policy.criteria[*c].expr, gate, out, depth + 1);
            }
            _ => {}
        }
    }
    let mut out = vec![None; policy.criteria.len()];
    for (r, rule) in policy.rules.iter().enumerate() {
        let gate = if rule.ceiling {
            Some(false)
        } else if lets_leads_in(policy, r) {
            Some(true)
        } else {
            None
        };
        visit(policy, &rule.expr, gate, &mut out, 0);
    }
    out
}
