//! `qualify backtest`: run a policy over leads whose outcome is known and
//! say how well its stages, rules, scores and thresholds separate the leads
//! that converted from the rest.
//!
//! The outcome column is read by the same reader as every field: it is
//! added to the checked policy as one more (optional) field, `bool` for
//! `--outcome Converted` and `string` for `--outcome Status=Won`, so a bad
//! cell is a bad row with its line and column, handled by `--on-error` as in
//! `run`.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use rustc_hash::FxHashMap;
use serde_json::{Value as Json, json};

use super::bad_rows::BadRows;
use super::load_policy;
use super::run::{OnError, parse_on_error};
use crate::check::policy::{
    CmpOp, Expr, ExprKind, Policy, ScoreId, StageId, Term, Value, thousands, today, write_number,
};
use crate::compile::Program;
use crate::eval::{Machine, Row, Truth};
use crate::leads::outcome::Outcome;
use crate::leads::{self, Binding, ColumnProblem, Format as InputFormat, Reject, output};

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum BacktestFormat {
    Human,
    Json,
}

#[derive(clap::Args)]
pub struct Args {
    /// The policy (.qual) to judge.
    policy: PathBuf,
    /// Lead file with a known outcome: CSV, JSON Lines (.jsonl) or a JSON
    /// array (.json); `-` for stdin.
    leads: PathBuf,
    /// The outcome column: `Converted` (a yes/no column: 1/0, yes/no,
    /// true/false) or `Status=Won` (converted when the cell is one of the
    /// comma-separated values). An empty cell is a missing outcome.
    #[arg(long, value_name = "COLUMN[=VALUE,…]")]
    outcome: String,
    /// The stage the policy aims converters at (default: the highest).
    #[arg(long, value_name = "STAGE")]
    target: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value = "human")]
    format: BacktestFormat,
    /// Evaluation date for `within N days` (default: today).
    #[arg(long, value_name = "YYYY-MM-DD", value_parser = super::parse_date_arg)]
    as_of: Option<i32>,
    /// What to do with a row that does not fit the schema (or whose outcome
    /// is not a yes/no value): stop (`fail`, the default), leave it out and
    /// count it (`skip`), or write it to a file with the reason
    /// (`reject=FILE`).
    #[arg(long, value_name = "fail|skip|reject=FILE", default_value = "fail", value_parser = parse_on_error)]
    on_error: OnError,
    /// Worker threads (default: one per core).
    #[arg(long)]
    threads: Option<usize>,
}

/// Below this many conversions, rates are too noisy to judge.
const ENOUGH: u64 = 30;

/// Outcome slots of a count: not converted, converted, no outcome.
pub(crate) const NOT: usize = 0;
pub(crate) const WON: usize = 1;
pub(crate) const UNKNOWN: usize = 2;

/// Leads by outcome: `[not converted, converted, no outcome]`.
pub(crate) type Counts = [u64; 3];

fn add(a: &mut Counts, b: &Counts) {
    for k in 0..3 {
        a[k] += b[k];
    }
}

/// Judged leads (with an outcome) of a count.
pub(crate) fn judged(c: &Counts) -> u64 {
    c[NOT] + c[WON]
}

/// What the backtest keeps of the leads: counts, never one entry per lead
/// (a score has one entry per distinct value).
struct Tally {
    /// Per stage, then one for leads with no stage.
    stages: Vec<Counts>,
    /// Per rule, then one for leads no rule decided.
    rules: Vec<Counts>,
    /// Per score: distinct value (as bits) → counts.
    scores: Vec<FxHashMap<u64, Counts>>,
    /// Per target-stage rule, per top-level clause: converted leads below
    /// the target for which the clause is not true.
    blocked: Vec<Vec<u64>>,
    /// Per target-stage rule, per clause: leads below the target (with an
    /// outcome) for which this clause is the only one not true, by outcome.
    only: Vec<Vec<Counts>>,
}

impl Tally {
    fn new(stages: usize, rules: usize, scores: usize, targets: &[TargetRule]) -> Tally {
        Tally {
            stages: vec![[0; 3]; stages + 1],
            rules: vec![[0; 3]; rules + 1],
            scores: vec![FxHashMap::default(); scores],
            blocked: targets.iter().map(|t| vec![0; t.clauses.len()]).collect(),
            only: targets
                .iter()
                .map(|t| vec![[0; 3]; t.clauses.len()])
                .collect(),
        }
    }

    fn merge(&mut self, other: Tally) {
        for (a, b) in self.stages.iter_mut().zip(&other.stages) {
            add(a, b);
        }
        for (a, b) in self.rules.iter_mut().zip(&other.rules) {
            add(a, b);
        }
        for (a, b) in self.scores.iter_mut().zip(other.scores) {
            if a.is_empty() {
                *a = b;
                continue;
            }
            for (v, c) in b {
                add(a.entry(v).or_default(), &c);
            }
        }
        for (a, b) in self.blocked.iter_mut().zip(&other.blocked) {
            for (x, y) in a.iter_mut().zip(b) {
                *x += y;
            }
        }
        for (a, b) in self.only.iter_mut().zip(&other.only) {
            for (x, y) in a.iter_mut().zip(b) {
                add(x, y);
            }
        }
    }
}

struct ChunkResult {
    tally: Tally,
    rejects: Vec<Reject>,
}

/// A rule of the target stage and its top-level clauses.
struct TargetRule {
    rule: usize,
    clauses: Vec<Expr>,
}

/// What `compute` is asked: the command line of `backtest` or `report`.
pub(crate) struct Request<'a> {
    pub policy: &'a Path,
    pub leads: &'a Path,
    /// `COLUMN[=VALUE,…]`; `None`: no outcome (the report then shows
    /// counts only).
    pub outcome: Option<&'a str>,
    pub target: Option<&'a str>,
    pub as_of: i32,
    pub on_error: &'a OnError,
    pub threads: Option<usize>,
    /// What the command reports, for "no backtest is reported".
    pub command: &'static str,
}

/// A computed backtest: the JSON report `qualify backtest` prints, and
/// what the charts of `qualify report` need besides.
pub(crate) struct Computed {
    pub report: Json,
    /// The checked policy (with the outcome as one more field, last).
    pub policy: Policy,
    /// Every lead, with or without an outcome: per stage (by `StageId`),
    /// then the leads with no stage.
    pub stages: Vec<Counts>,
    /// Every lead: per rule (by index), then the leads no rule decided.
    pub rules: Vec<Counts>,
    /// Per score: its distinct values in ascending order, with counts.
    pub histograms: Vec<Vec<(f64, Counts)>>,
    /// Every `score OP number` test of the policy: (score, op, threshold,
    /// where).
    pub thresholds: Vec<(ScoreId, CmpOp, f64, String)>,
}

/// `--outcome TEXT`, or the error naming the option.
pub(super) fn parse_outcome(text: &str) -> Result<Outcome, String> {
    Outcome::parse(text).map_err(|e| format!("--outcome {e}"))
}

/// Columns whose name is close to `wanted`, closest first.
pub(super) fn close_columns(wanted: &str, columns: &[String]) -> Vec<String> {
    let wanted = wanted.to_lowercase();
    let mut scored: Vec<(f64, &String)> = columns
        .iter()
        .map(|c| (strsim::jaro_winkler(&wanted, &c.to_lowercase()), c))
        .filter(|(s, c)| *s >= 0.7 || c.to_lowercase().contains(&wanted))
        .collect();
    scored.sort_by(|a, b| b.0.total_cmp(&a.0));
    scored.into_iter().take(5).map(|(_, c)| c.clone()).collect()
}

pub(super) fn has_column(columns: &[String], wanted: &str) -> bool {
    columns
        .iter()
        .any(|c| c == wanted || c.trim().eq_ignore_ascii_case(wanted.trim()))
}

/// The text of an expression as written in the policy.
pub(super) fn source_text(policy: &Policy, files: &[Option<String>], e: &Expr) -> String {
    let Some(Some(text)) = files.get(e.loc.file as usize) else {
        return "(clause)".into();
    };
    let (s, t) = (e.loc.span.start as usize, e.loc.span.end as usize);
    let _ = policy;
    text.get(s..t)
        .map(|s| s.split_whitespace().collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|| "(clause)".into())
}

/// Every `score OP number` comparison in rules and criteria: (score, op as
/// `score OP threshold`, threshold, where).
fn score_thresholds(policy: &Policy) -> Vec<(ScoreId, CmpOp, f64, String)> {
    fn walk(e: &Expr, place: &str, out: &mut Vec<(ScoreId, CmpOp, f64, String)>) {
        match &e.kind {
            ExprKind::Cmp { lhs, op, rhs, .. } => match (lhs, rhs) {
                (Term::Score(s), Term::Const(Value::Num(n))) => {
                    out.push((*s, *op, *n, place.to_string()))
                }
                (Term::Const(Value::Num(n)), Term::Score(s)) => {
                    let flipped = match op {
                        CmpOp::Lt => CmpOp::Gt,
                        CmpOp::Le => CmpOp::Ge,
                        CmpOp::Gt => CmpOp::Lt,
                        CmpOp::Ge => CmpOp::Le,
                        other => *other,
                    };
                    out.push((*s, flipped, *n, place.to_string()))
                }
                _ => {}
            },
            ExprKind::And(v) | ExprKind::Or(v) => v.iter().for_each(|x| walk(x, place, out)),
            ExprKind::Not(x) => walk(x, place, out),
            ExprKind::AtLeast { items, .. } => items.iter().for_each(|x| walk(x, place, out)),
            _ => {}
        }
    }
    let mut out = Vec::new();
    for r in &policy.rules {
        walk(&r.expr, &format!("rule {}", r.display_name()), &mut out);
    }
    for c in &policy.criteria {
        walk(&c.expr, &format!("criterion {}", c.name), &mut out);
    }
    out.sort_by_key(|a| a.0);
    out.dedup_by(|a, b| a.0 == b.0 && a.1 == b.1 && a.2 == b.2 && a.3 == b.3);
    out
}

pub(crate) fn passes(score: f64, op: CmpOp, t: f64) -> bool {
    match op {
        CmpOp::Eq => score == t,
        CmpOp::Ne => score != t,
        CmpOp::Lt => score < t,
        CmpOp::Le => score <= t,
        CmpOp::Gt => score > t,
        CmpOp::Ge => score >= t,
    }
}

fn rate(n: u64, d: u64) -> Option<f64> {
    (d > 0).then(|| n as f64 / d as f64)
}

fn pct(r: Option<f64>) -> String {
    r.map_or("–".into(), |r| format!("{:.1}%", r * 100.0))
}

fn num(n: f64) -> String {
    let mut s = String::new();
    write_number(&mut s, n);
    s
}

fn round(r: Option<f64>) -> Json {
    r.map_or(Json::Null, |r| json!((r * 10000.0).round() / 10000.0))
}

pub fn run(args: Args) -> Result<ExitCode, String> {
    output::catch_signals();
    let computed = compute(&Request {
        policy: &args.policy,
        leads: &args.leads,
        outcome: Some(&args.outcome),
        target: args.target.as_deref(),
        as_of: args.as_of.unwrap_or_else(today),
        on_error: &args.on_error,
        threads: args.threads,
        command: "backtest",
    })?;
    let Some(computed) = computed else {
        return Ok(ExitCode::from(1));
    };
    match args.format {
        BacktestFormat::Json => outln!(
            "{}",
            serde_json::to_string_pretty(&computed.report).unwrap_or_default()
        )?,
        BacktestFormat::Human => out!("{}", human(&computed.report))?,
    }
    Ok(ExitCode::SUCCESS)
}

/// Run the policy over the leads and count. `Ok(None)`: the policy has
/// errors, the file lacks a column, or a bad row with `--on-error fail`;
/// the reason is on standard error (exit status 1).
pub(crate) fn compute(req: &Request) -> Result<Option<Computed>, String> {
    let as_of = req.as_of;
    let spec = req.outcome.map(parse_outcome).transpose()?;
    let column = spec.as_ref().map(|o| o.column.clone());
    let values = spec.as_ref().map(|o| o.values.clone()).unwrap_or_default();
    let Some(mut policy) = load_policy(req.policy)? else {
        return Ok(None);
    };
    if policy.stages.is_empty() {
        return Err(format!(
            "{}: the policy declares no stages",
            req.policy.display()
        ));
    }
    let target = match req.target {
        None => policy.stages.len() - 1,
        Some(name) => policy
            .stages
            .iter()
            .position(|s| s.name == *name)
            .or_else(|| {
                policy
                    .stages
                    .iter()
                    .position(|s| s.name.eq_ignore_ascii_case(name))
            })
            .ok_or_else(|| {
                let names: Vec<&str> = policy.stages.iter().map(|s| s.name.as_str()).collect();
                format!(
                    "--target {name}: no such stage; the stages are {}",
                    names.join(", ")
                )
            })?,
    };

    // The outcome, read like a field.
    let outcome = spec.as_ref().map(|o| o.add_to(&mut policy));
    let targets: Vec<TargetRule> = policy
        .rules
        .iter()
        .enumerate()
        .filter(|(_, r)| r.stage == target && !r.ceiling)
        .map(|(i, r)| TargetRule {
            rule: i,
            clauses: match &r.expr.kind {
                ExprKind::And(v) => v.clone(),
                _ => vec![r.expr.clone()],
            },
        })
        .collect();
    let mut program = Program::compile(&policy);
    if let Some(outcome) = outcome {
        program.reads[outcome] = true;
    }
    let probe_exprs: Vec<&Expr> = targets.iter().flat_map(|t| t.clauses.iter()).collect();
    let probes = program.add_probes(&policy, &probe_exprs);

    let mut input = leads::open(req.leads, None)?;
    let binding = match input.format {
        InputFormat::Csv { .. } => {
            let columns = input.columns()?;
            if let Some(column) = &column {
                if !has_column(&columns, column) {
                    return Err(unknown_column(&input.name, column, &columns));
                }
            }
            Binding::new(&policy, &program, columns)
        }
        InputFormat::JsonLines | InputFormat::JsonArray => {
            let keys = input.columns()?;
            if let Some(column) = &column {
                if !keys.is_empty() && !has_column(&keys, column) {
                    return Err(unknown_column(&input.name, column, &keys));
                }
            }
            input.binding(&policy, &program)?
        }
    };
    let binding = match binding {
        Ok(b) => b,
        Err(problems) => {
            eprintln!(
                "error: {}: {} column(s) the policy needs cannot be read:",
                input.name,
                problems.len()
            );
            for p in &problems {
                eprintln!("  - {p}");
            }
            if problems
                .iter()
                .any(|p| matches!(p, ColumnProblem::Missing { .. }))
            {
                eprintln!(
                    "help: rename the column in the file, or change the field's `from \"…\"` in {}",
                    req.policy.display()
                );
            }
            return Ok(None);
        }
    };

    let mut bad_rows = BadRows::new(
        req.on_error,
        req.leads,
        &input.name,
        input.format,
        &binding.columns,
        spec.as_ref(),
    )?;

    let threads = req.threads.unwrap_or_else(|| {
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(2)
    });
    let format = input.format;
    let (n_stages, n_rules, n_scores) =
        (policy.stages.len(), policy.rules.len(), policy.scores.len());
    let mut tally = Tally::new(n_stages, n_rules, n_scores, &targets);
    let mut io_error: Option<String> = None;
    let array_error = input.array_error.clone();
    let name = input.name.clone();
    let column_name = column.clone().unwrap_or_default();
    let split = leads::pipeline::run(
        input.splitter,
        threads,
        || {
            let mut row = Row::new(policy.fields.len());
            let mut machine = Machine::new(&program, as_of);
            let mut truths: Vec<bool> = Vec::new();
            let (program, binding, targets, probes, spec) =
                (&program, &binding, &targets, &probes, &spec);
            move |chunk: &leads::chunks::Chunk| {
                let mut result = ChunkResult {
                    tally: Tally::new(n_stages, n_rules, n_scores, targets),
                    rejects: Vec::new(),
                };
                let mut judge = |row: &Row, machine: &mut Machine, tally: &mut Tally| {
                    let decision = machine.run(program, row);
                    let converted = spec
                        .as_ref()
                        .zip(outcome)
                        .and_then(|(spec, field)| spec.converted(row, field));
                    let o = match converted {
                        Some(false) => NOT,
                        Some(true) => WON,
                        None => UNKNOWN,
                    };
                    tally.stages[decision.stage.unwrap_or(n_stages)][o] += 1;
                    tally.rules[decision.rule.unwrap_or(n_rules)][o] += 1;
                    for (s, v) in machine.scores.iter().enumerate() {
                        tally.scores[s].entry(v.to_bits()).or_default()[o] += 1;
                    }
                    if o == UNKNOWN || decision.stage.is_some_and(|s| s >= target) {
                        return;
                    }
                    // Below the target: which clauses of each target rule
                    // held it back.
                    let mut k = 0;
                    for (t, tr) in targets.iter().enumerate() {
                        truths.clear();
                        for _ in &tr.clauses {
                            truths.push(machine.truth(program, row, probes[k]) == Truth::True);
                            k += 1;
                        }
                        let mut failed = truths.iter().enumerate().filter(|(_, t)| !**t);
                        let first = failed.next().map(|(i, _)| i);
                        let more = failed.next().is_some();
                        if o == WON {
                            for (i, held) in truths.iter().enumerate() {
                                if !held {
                                    tally.blocked[t][i] += 1;
                                }
                            }
                        }
                        if let (Some(i), false) = (first, more) {
                            tally.only[t][i][o] += 1;
                        }
                    }
                };
                let tally = &mut result.tally;
                match format {
                    InputFormat::Csv { delimiter } => {
                        leads::for_each_csv_record(
                            chunk,
                            delimiter,
                            |lines, record| match record {
                                Err(reject) => result.rejects.push(reject),
                                Ok(record) => match binding.read_csv(program, &record, &mut row) {
                                    Err(mut reject) => {
                                        (reject.line, reject.last_line) = record.span(lines);
                                        result.rejects.push(reject);
                                    }
                                    Ok(()) => judge(&row, &mut machine, tally),
                                },
                            },
                        );
                    }
                    InputFormat::JsonLines | InputFormat::JsonArray => {
                        leads::for_each_json_line(chunk, |line, raw, object| {
                            match object
                                .and_then(|o| binding.read_json(program, &o, line, raw, &mut row))
                            {
                                Err(reject) => result.rejects.push(reject),
                                Ok(()) => judge(&row, &mut machine, tally),
                            }
                        });
                    }
                }
                result
            }
        },
        |result: ChunkResult| {
            tally.merge(result.tally);
            for reject in &result.rejects {
                if let Err(e) = bad_rows.add(reject) {
                    io_error = Some(e);
                    return false;
                }
            }
            true
        },
        |_| {},
    );
    if let Err(e) = split {
        return Err(format!("{name}: {e}"));
    }
    if let Some(e) = io_error {
        return Err(e);
    }
    if !bad_rows.finish(req.command, None) {
        return Ok(None);
    }
    if let Some(error) = array_error.and_then(|slot| {
        slot.lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .take()
    }) {
        eprintln!("error: {name}: {error}");
        return Ok(None);
    }
    bad_rows.commit()?;

    let files: Vec<Option<String>> = policy
        .files
        .iter()
        .map(|p| std::fs::read_to_string(p).ok())
        .collect();
    let histograms: Vec<Vec<(f64, Counts)>> = tally
        .scores
        .iter()
        .map(|map| {
            let mut values: Vec<(f64, Counts)> =
                map.iter().map(|(v, c)| (f64::from_bits(*v), *c)).collect();
            values.sort_by(|a, b| a.0.total_cmp(&b.0));
            values
        })
        .collect();
    let thresholds = score_thresholds(&policy);
    let report = report(
        &policy,
        &tally,
        &histograms,
        &thresholds,
        bad_rows.count,
        target,
        &targets,
        &files,
        &column_name,
        &values,
    );
    Ok(Some(Computed {
        report,
        policy,
        stages: tally.stages,
        rules: tally.rules,
        histograms,
        thresholds,
    }))
}

pub(super) fn unknown_column(input: &str, column: &str, columns: &[String]) -> String {
    let close = close_columns(column, columns);
    let mut text = format!("{input}: --outcome: no column \"{column}\" in the lead file");
    if close.is_empty() {
        let shown: Vec<String> = columns
            .iter()
            .take(12)
            .map(|c| format!("\"{c}\""))
            .collect();
        text.push_str(&format!("; its columns are {}", shown.join(", ")));
        if columns.len() > 12 {
            text.push_str(", …");
        }
    } else {
        let shown: Vec<String> = close.iter().map(|c| format!("\"{c}\"")).collect();
        text.push_str(&format!("; close ones: {}", shown.join(", ")));
    }
    text
}

/// A score's distinct values as the report reads them: runs of equal
/// values (`==`: -0 and 0 are one) with the judged leads and conversions.
fn judged_runs(histogram: &[(f64, Counts)]) -> Vec<(f64, f64, u64, u64)> {
    // (first value, last value, leads, conversions)
    let mut runs: Vec<(f64, f64, u64, u64)> = Vec::new();
    for (v, c) in histogram {
        let leads = judged(c);
        if leads == 0 {
            continue;
        }
        match runs.last_mut() {
            Some(last) if last.1 == *v => {
                last.1 = *v;
                last.2 += leads;
                last.3 += c[WON];
            }
            _ => runs.push((*v, *v, leads, c[WON])),
        }
    }
    runs
}

/// The whole backtest as JSON; the human table is rendered from it.
#[allow(clippy::too_many_arguments)]
fn report(
    policy: &Policy,
    tally: &Tally,
    histograms: &[Vec<(f64, Counts)>],
    thresholds: &[(ScoreId, CmpOp, f64, String)],
    rejected: u64,
    target: StageId,
    targets: &[TargetRule],
    files: &[Option<String>],
    column: &str,
    values: &[String],
) -> Json {
    let mut total: Counts = [0; 3];
    for s in &tally.stages {
        add(&mut total, s);
    }
    let n = judged(&total);
    let c = total[WON];
    let base = rate(c, n);
    let mut warnings: Vec<String> = Vec::new();
    if c < ENOUGH {
        warnings.push(format!(
            "only {c} conversion(s) in {n} lead(s) with an outcome: too little data to judge (fewer than {ENOUGH})"
        ));
    }

    // Stages, highest first; leads with no stage last.
    let none_slot = policy.stages.len();
    let mut stages = Vec::new();
    let mut thin = Vec::new();
    let mut rows: Vec<(Option<StageId>, String)> = policy
        .stages
        .iter()
        .enumerate()
        .rev()
        .map(|(i, s)| (Some(i), s.name.clone()))
        .collect();
    if judged(&tally.stages[none_slot]) > 0 {
        rows.push((None, "(no stage)".into()));
    }
    for (s, name) in rows {
        let counts = tally.stages[s.unwrap_or(none_slot)];
        let leads = judged(&counts);
        let conversions = counts[WON];
        let at_or_above: u64 = match s {
            // Every stage is at or above "no stage".
            None => c,
            Some(s) => tally.stages[s..none_slot].iter().map(|k| k[WON]).sum(),
        };
        let missing = counts[UNKNOWN];
        if leads > 0 && conversions < ENOUGH {
            thin.push(format!("{name} ({conversions})"));
        }
        stages.push(json!({
            "stage": name,
            "leads": leads,
            "share": round(rate(leads, n)),
            "conversions": conversions,
            "rate": round(rate(conversions, leads)),
            "recall": round(rate(at_or_above, c)),
            "lift": round(rate(conversions, leads).zip(base).and_then(|(r, b)| (b > 0.0).then(|| r / b))),
            "outcome_missing": missing,
        }));
    }
    if !thin.is_empty() && c >= ENOUGH {
        warnings.push(format!(
            "fewer than {ENOUGH} conversions in stage(s) {}: their rates are too noisy to judge",
            thin.join(", ")
        ));
    }

    // Rules.
    let mut rules = Vec::new();
    let mut idle = Vec::new();
    for (i, r) in policy.rules.iter().enumerate() {
        let counts = tally.rules[i];
        if counts.iter().sum::<u64>() == 0 {
            idle.push(Json::from(r.display_name()));
            continue;
        }
        let leads = judged(&counts);
        let conversions = counts[WON];
        rules.push(json!({
            "rule": r.display_name(),
            "stage": policy.stages[r.stage].name,
            "ceiling": r.ceiling,
            "leads": leads,
            "conversions": conversions,
            "rate": round(rate(conversions, leads)),
        }));
    }
    let none = tally.rules[policy.rules.len()];
    if judged(&none) > 0 {
        let conversions = none[WON];
        rules.push(json!({
            "rule": null,
            "stage": policy.otherwise.map(|s| policy.stages[s].name.clone()),
            "ceiling": false,
            "leads": judged(&none),
            "conversions": conversions,
            "rate": round(rate(conversions, judged(&none))),
        }));
    }

    // Scores.
    let mut scores = Vec::new();
    for (s, score) in policy.scores.iter().enumerate() {
        let runs = judged_runs(&histograms[s]);
        let len: u64 = runs.iter().map(|r| r.2).sum();
        // Deciles of the judged leads in score order; equal scores in one band.
        let mut bands: Vec<(f64, f64, u64, u64)> = Vec::new();
        let mut band_of_prev: Option<u64> = None;
        let mut i = 0u64;
        for (first, last, leads, won) in &runs {
            let want = (i * 10 / len.max(1)).min(9);
            let b = match band_of_prev {
                Some(b) if want <= b => b,
                _ => {
                    bands.push((*first, *first, 0, 0));
                    want
                }
            };
            band_of_prev = Some(b);
            if let Some(band) = bands.last_mut() {
                band.1 = *last;
                band.2 += leads;
                band.3 += won;
            }
            i += leads;
        }
        let bands: Vec<Json> = bands
            .iter()
            .map(|(lo, hi, leads, conv)| {
                json!({"min": lo, "max": hi, "leads": leads, "conversions": conv, "rate": round(rate(*conv, *leads))})
            })
            .collect();
        // The value of the judged lead at position `k` in score order.
        let at = |k: u64| -> f64 {
            let mut seen = 0;
            for r in &runs {
                seen += r.2;
                if k < seen {
                    return r.0;
                }
            }
            runs.last().map_or(0.0, |r| r.1)
        };
        let candidates_base: Vec<f64> = if runs.len() <= 20 {
            runs.iter().map(|r| r.0).collect()
        } else {
            let mut q: Vec<f64> = (0..20).map(|k| at(k * len / 20)).collect();
            q.push(at(len - 1));
            q.dedup();
            q
        };
        let mut sweeps = Vec::new();
        for (_, op, current, place) in thresholds.iter().filter(|t| t.0 == s) {
            let mut candidates = candidates_base.clone();
            candidates.push(*current);
            candidates.sort_by(f64::total_cmp);
            candidates.dedup();
            let sweep: Vec<Json> = candidates
                .iter()
                .map(|t| {
                    let (mut leads, mut conversions) = (0u64, 0u64);
                    for r in runs.iter().filter(|r| passes(r.0, *op, *t)) {
                        leads += r.2;
                        conversions += r.3;
                    }
                    json!({
                        "threshold": t,
                        "leads": leads,
                        "conversions": conversions,
                        "rate": round(rate(conversions, leads)),
                        "recall": round(rate(conversions, c)),
                        "current": t == current,
                    })
                })
                .collect();
            sweeps.push(json!({
                "where": place,
                "test": format!("{} {} {}", score.name, op.symbol(), num(*current)),
                "op": op.symbol(),
                "current": current,
                "sweep": sweep,
            }));
        }
        scores.push(json!({"score": score.name, "bands": bands, "thresholds": sweeps}));
    }

    // What strictness costs.
    let missed: u64 =
        tally.stages[..target].iter().map(|k| k[WON]).sum::<u64>() + tally.stages[none_slot][WON];
    let mut blocks = Vec::new();
    for (t, tr) in targets.iter().enumerate() {
        let mut best: Option<(usize, u64)> = None;
        for (i, blocked) in tally.blocked[t].iter().enumerate() {
            if best.is_none_or(|(_, b)| *blocked > b) {
                best = Some((i, *blocked));
            }
        }
        let Some((i, blocked)) = best else { continue };
        let reach = tally.only[t][i];
        blocks.push(json!({
            "rule": policy.rules[tr.rule].display_name(),
            "clauses": tr.clauses.len(),
            "clause": source_text(policy, files, &tr.clauses[i]),
            "blocked_converters": blocked,
            "would_reach_converters": reach[WON],
            "would_reach_non_converters": reach[NOT],
        }));
    }

    let leads: u64 = total.iter().sum();
    json!({
        "outcome": {"column": column, "converted_when": if values.is_empty() { Json::from("yes") } else { json!(values) }},
        "leads": leads,
        "outcome_missing": total[UNKNOWN],
        "rejected": rejected,
        "judged": n,
        "conversions": c,
        "base_rate": round(base),
        "stages": stages,
        "rules": rules,
        "rules_deciding_none": idle,
        "scores": scores,
        "strictness": {
            "target": policy.stages[target].name,
            "converted_below_target": missed,
            "rules": blocks,
        },
        "warnings": warnings,
    })
}

fn get_u(v: &Json, k: &str) -> u64 {
    v[k].as_u64().unwrap_or(0)
}

fn get_r(v: &Json, k: &str) -> Option<f64> {
    v[k].as_f64()
}

/// The human report: plain tables.
fn human(r: &Json) -> String {
    use std::fmt::Write;
    let mut o = String::new();
    let _ = writeln!(
        o,
        "{} leads; {} with an outcome, {} converted (base rate {}); {} with no outcome (not counted below); {} rejected",
        thousands(get_u(r, "leads")),
        thousands(get_u(r, "judged")),
        thousands(get_u(r, "conversions")),
        pct(get_r(r, "base_rate")),
        thousands(get_u(r, "outcome_missing")),
        thousands(get_u(r, "rejected")),
    );
    let _ = writeln!(o, "\nStages (highest first)");
    let _ = writeln!(
        o,
        "  {:<16} {:>6} {:>7} {:>6} {:>7} {:>8} {:>6}",
        "stage", "leads", "share", "conv", "rate", "recall", "lift"
    );
    for s in r["stages"].as_array().into_iter().flatten() {
        let _ = writeln!(
            o,
            "  {:<16} {:>6} {:>7} {:>6} {:>7} {:>8} {:>6}",
            s["stage"].as_str().unwrap_or(""),
            get_u(s, "leads"),
            pct(get_r(s, "share")),
            get_u(s, "conversions"),
            pct(get_r(s, "rate")),
            pct(get_r(s, "recall")),
            get_r(s, "lift").map_or("–".into(), |l| format!("{l:.2}")),
        );
    }
    let _ = writeln!(
        o,
        "  (recall: share of all conversions in this stage or higher; lift: rate / base rate)"
    );
    let _ = writeln!(o, "\nRules (leads each decided)");
    for s in r["rules"].as_array().into_iter().flatten() {
        let name = s["rule"]
            .as_str()
            .map_or("(no rule: otherwise)".to_string(), |n| n.to_string());
        let _ = writeln!(
            o,
            "  {:<28} → {:<12} {:>6} leads {:>5} conv {:>7}",
            name,
            s["stage"].as_str().unwrap_or("(none)"),
            get_u(s, "leads"),
            get_u(s, "conversions"),
            pct(get_r(s, "rate")),
        );
    }
    let idle: Vec<&str> = r["rules_deciding_none"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|v| v.as_str())
        .collect();
    if !idle.is_empty() {
        let _ = writeln!(o, "  rules that decide no lead: {}", idle.join(", "));
    }
    for s in r["scores"].as_array().into_iter().flatten() {
        let name = s["score"].as_str().unwrap_or("");
        let _ = writeln!(o, "\nScore {name}: conversion rate by band (deciles)");
        for b in s["bands"].as_array().into_iter().flatten() {
            let (lo, hi) = (
                b["min"].as_f64().unwrap_or(0.0),
                b["max"].as_f64().unwrap_or(0.0),
            );
            let range = if lo == hi {
                num(lo)
            } else {
                format!("{}–{}", num(lo), num(hi))
            };
            let _ = writeln!(
                o,
                "  {:>12} {:>6} leads {:>5} conv {:>7}",
                range,
                get_u(b, "leads"),
                get_u(b, "conversions"),
                pct(get_r(b, "rate")),
            );
        }
        for t in s["thresholds"].as_array().into_iter().flatten() {
            let _ = writeln!(
                o,
                "  threshold sweep for `{}` ({})",
                t["test"].as_str().unwrap_or(""),
                t["where"].as_str().unwrap_or("")
            );
            let op = t["op"].as_str().unwrap_or("");
            for p in t["sweep"].as_array().into_iter().flatten() {
                let _ = writeln!(
                    o,
                    "    {name} {op} {:<8} {:>6} leads {:>7} rate {:>7} of conversions{}",
                    num(p["threshold"].as_f64().unwrap_or(0.0)),
                    get_u(p, "leads"),
                    pct(get_r(p, "rate")),
                    pct(get_r(p, "recall")),
                    if p["current"].as_bool() == Some(true) {
                        "  ← current"
                    } else {
                        ""
                    },
                );
            }
        }
    }
    let st = &r["strictness"];
    let target = st["target"].as_str().unwrap_or("");
    let _ = writeln!(
        o,
        "\nWhat strictness costs: {} converted lead(s) were left below {target}",
        get_u(st, "converted_below_target")
    );
    for b in st["rules"].as_array().into_iter().flatten() {
        let _ = writeln!(
            o,
            "  rule {}: `{}` blocked {} of them; dropping it, {} more converter(s) and {} non-converter(s) would pass the rule",
            b["rule"].as_str().unwrap_or(""),
            b["clause"].as_str().unwrap_or(""),
            get_u(b, "blocked_converters"),
            get_u(b, "would_reach_converters"),
            get_u(b, "would_reach_non_converters"),
        );
    }
    for w in r["warnings"].as_array().into_iter().flatten() {
        let _ = writeln!(o, "\nwarning: {}", w.as_str().unwrap_or(""));
    }
    o
}
