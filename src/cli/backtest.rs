//! `qualify backtest`: run a policy over leads whose outcome is known and
//! say how well its stages, rules, scores and thresholds separate the leads
//! that converted from the rest.
//!
//! The outcome column is read by the same reader as every field: it is
//! added to the checked policy as one more (optional) field, `bool` for
//! `--outcome Converted` and `string` for `--outcome Status=Won`, so a bad
//! cell is a bad row with its line and column, handled by `--on-error` as in
//! `run`.

use std::path::PathBuf;
use std::process::ExitCode;

use serde_json::{Value as Json, json};

use super::load_policy;
use super::run::{OnError, create_rejects, parse_on_error, write_reject};
use crate::check::policy::{
    CmpOp, Expr, ExprKind, Field, FieldType, Policy, ScoreId, StageId, Term, Value, thousands,
    today, write_number,
};
use crate::compile::Program;
use crate::eval::{Machine, Row, Truth, ValueRef};
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

/// What the backtest keeps of one lead.
struct Lead {
    stage: Option<StageId>,
    rule: Option<usize>,
    scores: Vec<f64>,
    /// `None`: the outcome cell was empty.
    converted: Option<bool>,
    /// Per target-stage rule, per top-level clause: whether it is true.
    clauses: Vec<Vec<bool>>,
}

struct ChunkResult {
    leads: Vec<Lead>,
    rejects: Vec<Reject>,
}

/// A rule of the target stage and its top-level clauses.
struct TargetRule {
    rule: usize,
    clauses: Vec<Expr>,
}

fn outcome_spec(text: &str) -> Result<(String, Vec<String>), String> {
    let (column, values) = match text.split_once('=') {
        Some((c, v)) => (
            c.trim(),
            v.split(',')
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty())
                .collect::<Vec<_>>(),
        ),
        None => (text.trim(), Vec::new()),
    };
    if column.is_empty() {
        return Err(
            "--outcome needs a column: `--outcome Converted` or `--outcome Status=Won`".into(),
        );
    }
    if text.contains('=') && values.is_empty() {
        return Err(format!(
            "--outcome {text}: no value after `=`; say which values mean converted, e.g. `--outcome {column}=Won`"
        ));
    }
    Ok((column.to_string(), values))
}

/// Columns whose name is close to `wanted`, closest first.
fn close_columns(wanted: &str, columns: &[String]) -> Vec<String> {
    let wanted = wanted.to_lowercase();
    let mut scored: Vec<(f64, &String)> = columns
        .iter()
        .map(|c| (strsim::jaro_winkler(&wanted, &c.to_lowercase()), c))
        .filter(|(s, c)| *s >= 0.7 || c.to_lowercase().contains(&wanted))
        .collect();
    scored.sort_by(|a, b| b.0.total_cmp(&a.0));
    scored.into_iter().take(5).map(|(_, c)| c.clone()).collect()
}

fn has_column(columns: &[String], wanted: &str) -> bool {
    columns
        .iter()
        .any(|c| c == wanted || c.trim().eq_ignore_ascii_case(wanted.trim()))
}

/// The text of an expression as written in the policy.
fn source_text(policy: &Policy, files: &[Option<String>], e: &Expr) -> String {
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

fn passes(score: f64, op: CmpOp, t: f64) -> bool {
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
    let as_of = args.as_of.unwrap_or_else(today);
    let (column, values) = outcome_spec(&args.outcome)?;
    let Some(mut policy) = load_policy(&args.policy)? else {
        return Ok(ExitCode::from(1));
    };
    if policy.stages.is_empty() {
        return Err(format!(
            "{}: the policy declares no stages",
            args.policy.display()
        ));
    }
    let target = match &args.target {
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
    let outcome = policy.fields.len();
    policy.fields.push(Field {
        name: format!("outcome \"{column}\""),
        loc: Default::default(),
        ty: if values.is_empty() {
            FieldType::Bool
        } else {
            FieldType::String
        },
        optional: true,
        key: false,
        column: column.clone(),
        missing: Vec::new(),
        true_values: Vec::new(),
        false_values: Vec::new(),
        separator: String::new(),
        default: None,
    });
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
    program.reads[outcome] = true;
    let probe_exprs: Vec<&Expr> = targets.iter().flat_map(|t| t.clauses.iter()).collect();
    let probes = program.add_probes(&policy, &probe_exprs);

    let mut input = leads::open(&args.leads, None)?;
    let binding = match input.format {
        InputFormat::Csv { .. } => {
            let columns = input.columns()?;
            if !has_column(&columns, &column) {
                return Err(unknown_column(&input.name, &column, &columns));
            }
            Binding::new(&policy, &program, columns)
        }
        InputFormat::JsonLines | InputFormat::JsonArray => {
            let keys = input.columns()?;
            if !keys.is_empty() && !has_column(&keys, &column) {
                return Err(unknown_column(&input.name, &column, &keys));
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
                    args.policy.display()
                );
            }
            return Ok(ExitCode::from(1));
        }
    };

    let mut rejects_out = match &args.on_error {
        OnError::Reject(path) => {
            if args.leads.as_os_str() != "-" && output::same_file(path, &args.leads) {
                return Err(format!(
                    "--on-error reject={} is the lead file itself: the rejected rows would replace the leads; write them to another file",
                    path.display()
                ));
            }
            Some(create_rejects(path, input.format, &binding.columns)?)
        }
        _ => None,
    };

    let threads = args.threads.unwrap_or_else(|| {
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(2)
    });
    let unit = if input.format == InputFormat::JsonArray {
        "element"
    } else {
        "line"
    };
    let fail = args.on_error == OnError::Fail;
    let format = input.format;
    let mut all: Vec<Lead> = Vec::new();
    let (mut rejected, mut shown, mut outcome_bad) = (0u64, 0usize, 0u64);
    let mut io_error: Option<String> = None;
    let array_error = input.array_error.clone();
    let name = input.name.clone();
    let split = leads::pipeline::run(
        input.splitter,
        threads,
        || {
            let mut row = Row::new(policy.fields.len());
            let mut machine = Machine::new(&program, as_of);
            let (program, binding, targets, probes, values) =
                (&program, &binding, &targets, &probes, &values);
            move |chunk: &leads::chunks::Chunk| {
                let mut result = ChunkResult {
                    leads: Vec::new(),
                    rejects: Vec::new(),
                };
                let judge = |row: &Row, machine: &mut Machine| {
                    let decision = machine.run(program, row);
                    let converted = match row.value(outcome) {
                        None => None,
                        Some(ValueRef::Bool(b)) => Some(b),
                        Some(ValueRef::Str(s)) => Some(values.iter().any(|v| v == s.trim())),
                        Some(_) => None,
                    };
                    let mut k = 0;
                    let clauses = targets
                        .iter()
                        .map(|t| {
                            t.clauses
                                .iter()
                                .map(|_| {
                                    k += 1;
                                    machine.truth(program, row, probes[k - 1]) == Truth::True
                                })
                                .collect()
                        })
                        .collect();
                    Lead {
                        stage: decision.stage,
                        rule: decision.rule,
                        scores: machine.scores.clone(),
                        converted,
                        clauses,
                    }
                };
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
                                    Ok(()) => result.leads.push(judge(&row, &mut machine)),
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
                                Ok(()) => result.leads.push(judge(&row, &mut machine)),
                            }
                        });
                    }
                }
                result
            }
        },
        |result: ChunkResult| {
            all.extend(result.leads);
            for reject in result.rejects {
                rejected += 1;
                if reject.column.as_deref() == Some(column.as_str()) && values.is_empty() {
                    outcome_bad += 1;
                }
                if shown < 10 {
                    let text = reject.describe(unit);
                    if fail {
                        eprintln!("error: {name}: {text}");
                    } else {
                        eprintln!("warning: {text}");
                    }
                    shown += 1;
                }
                if let Some(file) = &mut rejects_out {
                    if let Err(e) = write_reject(file, &reject, format, binding.columns.len()) {
                        io_error = Some(format!("{}: {e}", file.shown().display()));
                        return false;
                    }
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
    if shown < rejected as usize {
        eprintln!(
            "… and {} more bad row(s) not shown",
            rejected - shown as u64
        );
    }
    if outcome_bad > 0 {
        eprintln!(
            "help: {outcome_bad} outcome cell(s) in \"{column}\" are not yes/no; if the column holds words, say which mean converted: `--outcome {column}=Won`"
        );
    }
    if fail && rejected > 0 {
        eprintln!(
            "error: {name}: {rejected} bad row(s); with `--on-error fail` no backtest is reported"
        );
        eprintln!(
            "help: fix the row(s), or run with `--on-error skip` (or `reject=rejects.csv`) to leave bad rows out and go on"
        );
        return Ok(ExitCode::from(1));
    }
    if let Some(error) = array_error.and_then(|slot| slot.lock().unwrap().take()) {
        eprintln!("error: {name}: {error}");
        return Ok(ExitCode::from(1));
    }
    if let Some(file) = &mut rejects_out {
        output::commit(&mut [file])?;
    }

    let files: Vec<Option<String>> = policy
        .files
        .iter()
        .map(|p| std::fs::read_to_string(p).ok())
        .collect();
    let report = report(
        &policy, &all, rejected, target, &targets, &files, &column, &values,
    );
    match args.format {
        BacktestFormat::Json => outln!(
            "{}",
            serde_json::to_string_pretty(&report).unwrap_or_default()
        )?,
        BacktestFormat::Human => out!("{}", human(&report))?,
    }
    Ok(ExitCode::SUCCESS)
}

fn unknown_column(input: &str, column: &str, columns: &[String]) -> String {
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

/// The whole backtest as JSON; the human table is rendered from it.
#[allow(clippy::too_many_arguments)]
fn report(
    policy: &Policy,
    all: &[Lead],
    rejected: u64,
    target: StageId,
    targets: &[TargetRule],
    files: &[Option<String>],
    column: &str,
    values: &[String],
) -> Json {
    let judged: Vec<&Lead> = all.iter().filter(|l| l.converted.is_some()).collect();
    let n = judged.len() as u64;
    let c = judged.iter().filter(|l| l.converted == Some(true)).count() as u64;
    let base = rate(c, n);
    let mut warnings: Vec<String> = Vec::new();
    if c < ENOUGH {
        warnings.push(format!(
            "only {c} conversion(s) in {n} lead(s) with an outcome: too little data to judge (fewer than {ENOUGH})"
        ));
    }

    // Stages, highest first; leads with no stage last.
    let stage_rank = |l: &Lead| l.stage.map_or(-1i64, |s| s as i64);
    let mut stages = Vec::new();
    let mut thin = Vec::new();
    let mut rows: Vec<(Option<StageId>, String)> = policy
        .stages
        .iter()
        .enumerate()
        .rev()
        .map(|(i, s)| (Some(i), s.name.clone()))
        .collect();
    if judged.iter().any(|l| l.stage.is_none()) {
        rows.push((None, "(no stage)".into()));
    }
    for (s, name) in rows {
        let in_stage: Vec<&&Lead> = judged.iter().filter(|l| l.stage == s).collect();
        let leads = in_stage.len() as u64;
        let conversions = in_stage
            .iter()
            .filter(|l| l.converted == Some(true))
            .count() as u64;
        let rank = s.map_or(-1i64, |s| s as i64);
        let at_or_above = judged
            .iter()
            .filter(|l| stage_rank(l) >= rank && l.converted == Some(true))
            .count() as u64;
        let missing = all
            .iter()
            .filter(|l| l.stage == s && l.converted.is_none())
            .count() as u64;
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
        let decided: Vec<&&Lead> = judged.iter().filter(|l| l.rule == Some(i)).collect();
        let any = all.iter().any(|l| l.rule == Some(i));
        if !any {
            idle.push(Json::from(r.display_name()));
            continue;
        }
        let leads = decided.len() as u64;
        let conversions = decided.iter().filter(|l| l.converted == Some(true)).count() as u64;
        rules.push(json!({
            "rule": r.display_name(),
            "stage": policy.stages[r.stage].name,
            "ceiling": r.ceiling,
            "leads": leads,
            "conversions": conversions,
            "rate": round(rate(conversions, leads)),
        }));
    }
    let none: Vec<&&Lead> = judged.iter().filter(|l| l.rule.is_none()).collect();
    if !none.is_empty() {
        let conversions = none.iter().filter(|l| l.converted == Some(true)).count() as u64;
        rules.push(json!({
            "rule": null,
            "stage": policy.otherwise.map(|s| policy.stages[s].name.clone()),
            "ceiling": false,
            "leads": none.len(),
            "conversions": conversions,
            "rate": round(rate(conversions, none.len() as u64)),
        }));
    }

    // Scores.
    let thresholds = score_thresholds(policy);
    let mut scores = Vec::new();
    for (s, score) in policy.scores.iter().enumerate() {
        let mut pairs: Vec<(f64, bool)> = judged
            .iter()
            .map(|l| (l.scores[s], l.converted == Some(true)))
            .collect();
        pairs.sort_by(|a, b| a.0.total_cmp(&b.0));
        let len = pairs.len();
        let mut bands: Vec<(f64, f64, u64, u64)> = Vec::new();
        let mut band_of_prev: Option<usize> = None;
        for (i, (v, won)) in pairs.iter().enumerate() {
            let want = (i * 10 / len.max(1)).min(9);
            let same_as_prev = i > 0 && pairs[i - 1].0 == *v;
            let b = match band_of_prev {
                Some(b) if same_as_prev || want <= b => b,
                _ => {
                    bands.push((*v, *v, 0, 0));
                    want
                }
            };
            band_of_prev = Some(b);
            let last = bands.last_mut().expect("a band");
            last.1 = *v;
            last.2 += 1;
            last.3 += u64::from(*won);
        }
        let bands: Vec<Json> = bands
            .iter()
            .map(|(lo, hi, leads, conv)| {
                json!({"min": lo, "max": hi, "leads": leads, "conversions": conv, "rate": round(rate(*conv, *leads))})
            })
            .collect();
        let mut distinct: Vec<f64> = pairs.iter().map(|p| p.0).collect();
        distinct.dedup();
        let candidates_base: Vec<f64> = if distinct.len() <= 20 {
            distinct.clone()
        } else {
            let mut q: Vec<f64> = (0..20).map(|k| pairs[k * len / 20].0).collect();
            q.push(pairs[len - 1].0);
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
                    let pass: Vec<&(f64, bool)> =
                        pairs.iter().filter(|p| passes(p.0, *op, *t)).collect();
                    let leads = pass.len() as u64;
                    let conversions = pass.iter().filter(|p| p.1).count() as u64;
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
    let below: Vec<&&Lead> = judged
        .iter()
        .filter(|l| l.stage.is_none_or(|s| s < target))
        .collect();
    let missed = below.iter().filter(|l| l.converted == Some(true)).count() as u64;
    let mut blocks = Vec::new();
    for (t, tr) in targets.iter().enumerate() {
        let k = tr.clauses.len();
        let mut best: Option<(usize, u64)> = None;
        for i in 0..k {
            let blocked = below
                .iter()
                .filter(|l| l.converted == Some(true) && !l.clauses[t][i])
                .count() as u64;
            if best.is_none_or(|(_, b)| blocked > b) {
                best = Some((i, blocked));
            }
        }
        let Some((i, blocked)) = best else { continue };
        let reach: Vec<&&&Lead> = below
            .iter()
            .filter(|l| !l.clauses[t][i] && (0..k).all(|j| j == i || l.clauses[t][j]))
            .collect();
        let reach_conv = reach.iter().filter(|l| l.converted == Some(true)).count() as u64;
        let reach_non = reach.len() as u64 - reach_conv;
        blocks.push(json!({
            "rule": policy.rules[tr.rule].display_name(),
            "clauses": k,
            "clause": source_text(policy, files, &tr.clauses[i]),
            "blocked_converters": blocked,
            "would_reach_converters": reach_conv,
            "would_reach_non_converters": reach_non,
        }));
    }

    let missing = all.iter().filter(|l| l.converted.is_none()).count() as u64;
    json!({
        "outcome": {"column": column, "converted_when": if values.is_empty() { Json::from("yes") } else { json!(values) }},
        "leads": all.len(),
        "outcome_missing": missing,
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
