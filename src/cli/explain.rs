//! `qualify explain`: why one lead got its stage, and what it lacks for the
//! stages above. Every truth value shown comes from the compiled program
//! (each clause is compiled as an extra root), so the explanation cannot
//! disagree with `qualify run`.

use std::path::PathBuf;
use std::process::ExitCode;

use serde::Serialize;

use super::load_policy;
use crate::check::policy::*;
use crate::compile::{NodeId, Program};
use crate::eval::{Decision, Machine, Row, Truth};
use crate::leads;

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum ExplainFormat {
    Human,
    Json,
}

#[derive(clap::Args)]
pub struct Args {
    /// The policy (.qual).
    policy: PathBuf,
    /// A lead file to take the lead from (with --row or --id).
    leads: Option<PathBuf>,
    /// The lead as a JSON object, keyed by field name or source column.
    #[arg(long, value_name = "JSON", conflicts_with_all = ["leads", "row", "id"])]
    lead: Option<String>,
    /// The lead's position among the file's leads, from 1.
    #[arg(long, requires = "leads", conflicts_with = "id")]
    row: Option<usize>,
    /// The lead whose key field (e.g. the lead ID) has this value.
    #[arg(long, requires = "leads")]
    id: Option<String>,
    /// Evaluation date for `within N days` (default: today).
    #[arg(long, value_name = "YYYY-MM-DD", value_parser = super::parse_date_arg)]
    as_of: Option<i32>,
    #[arg(long, value_enum, default_value = "human")]
    format: ExplainFormat,
}

#[derive(Serialize)]
struct Explanation {
    stage: Option<String>,
    rule: Option<RuleRef>,
    as_of: String,
    /// The values of the fields the policy reads; `null` is missing.
    lead: serde_json::Map<String, serde_json::Value>,
    decided_by: Option<RuleExplanation>,
    /// When a ceiling lowered the stage: what the lead would have reached
    /// without it.
    lowered_from: Option<Reached>,
    scores: Vec<ScoreExplanation>,
    /// Per stage above the lead's, the rules that would lift it there.
    next: Vec<StageGap>,
}

#[derive(Serialize)]
struct RuleRef {
    name: String,
    location: String,
}

#[derive(Serialize)]
struct Reached {
    stage: String,
    /// `None`: `otherwise`.
    rule: Option<RuleRef>,
}

#[derive(Serialize)]
struct RuleExplanation {
    rule: RuleRef,
    stage: String,
    /// A ceiling (`=> at most STAGE`).
    ceiling: bool,
    reason: Option<String>,
    condition: Clause,
}

#[derive(Serialize)]
struct Clause {
    text: String,
    holds: Truth,
    /// The lead's values of the fields this clause tests.
    values: Vec<(String, String)>,
    /// What the lead would need for this clause to hold, when it does not.
    needs: Option<String>,
    parts: Vec<Clause>,
}

#[derive(Serialize)]
struct ScoreExplanation {
    name: String,
    value: f64,
    lines: Vec<LineExplanation>,
}

#[derive(Serialize)]
struct LineExplanation {
    text: String,
    points: f64,
}

#[derive(Serialize)]
struct StageGap {
    stage: String,
    rules: Vec<RuleGap>,
}

#[derive(Serialize)]
struct RuleGap {
    rule: RuleRef,
    /// The top-level clauses that did not hold.
    failed: Vec<Clause>,
}

pub fn run(args: Args) -> Result<ExitCode, String> {
    let as_of = args.as_of.unwrap_or_else(today);
    let Some(policy) = load_policy(&args.policy)? else {
        return Ok(ExitCode::from(1));
    };
    let mut program = Program::compile(&policy);
    let row = match (&args.lead, &args.leads) {
        (Some(json), _) => crate::leads::row_from_json(&policy, &program, json)
            .map_err(|e| format!("--lead: {e}"))?,
        (None, Some(path)) => {
            lead_from_file(&policy, &program, path, args.row, args.id.as_deref())?
        }
        (None, None) => {
            return Err("give a lead: --lead '{…}', or a lead file with --row N or --id ID".into());
        }
    };
    let sources: Vec<String> = policy
        .files
        .iter()
        .map(|p| std::fs::read_to_string(p).unwrap_or_default())
        .collect();
    let explainer = Explainer::new(&policy, &mut program, &sources);
    let mut machine = Machine::new(&program, as_of);
    let decision = machine.run(&program, &row);
    let explanation = explainer.explain(&program, &mut machine, &row, decision, as_of);
    match args.format {
        ExplainFormat::Json => outln!(
            "{}",
            serde_json::to_string_pretty(&explanation).map_err(|e| e.to_string())?
        )?,
        ExplainFormat::Human => out!("{}", render(&explanation))?,
    }
    Ok(ExitCode::SUCCESS)
}

fn lead_from_file(
    policy: &Policy,
    program: &Program,
    path: &std::path::Path,
    row: Option<usize>,
    id: Option<&str>,
) -> Result<Row, String> {
    let loaded = leads::load(path, policy, program, row)?;
    match (row, id) {
        (Some(n), _) => {
            if n == 0 {
                return Err("--row counts from 1".into());
            }
            loaded.rows.get(n - 1).cloned().ok_or_else(|| {
                let rejected = if loaded.rejects.is_empty() {
                    String::new()
                } else {
                    format!(" ({} rows could not be read)", loaded.rejects.len())
                };
                format!(
                    "{}: has {} readable leads{rejected}, so there is no row {n}",
                    path.display(),
                    loaded.rows.len()
                )
            })
        }
        (None, Some(id)) => {
            let keys: Vec<FieldId> = (0..policy.fields.len())
                .filter(|&f| policy.fields[f].key)
                .collect();
            if keys.is_empty() {
                return Err(format!(
                    "{}: no field is marked `key`, so leads have no ID; use --row",
                    path.display()
                ));
            }
            loaded
                .rows
                .into_iter()
                .find(|r| {
                    keys.iter().any(|&k| match r.owned_value(k) {
                        Some(Value::Str(text)) => text == id,
                        Some(v) => policy.show_value(Some(k), &v) == id,
                        None => false,
                    })
                })
                .ok_or_else(|| format!("{}: no lead with ID `{id}`", path.display()))
        }
        (None, None) => Err("give --row N or --id ID with a lead file".into()),
    }
}

struct Explainer<'a> {
    policy: &'a Policy,
    sources: &'a [String],
    /// Probe node of every expression of every rule, criterion and score
    /// line, keyed by the expression's address.
    probes: std::collections::HashMap<*const Expr, NodeId>,
}

impl<'a> Explainer<'a> {
    fn new(policy: &'a Policy, program: &mut Program, sources: &'a [String]) -> Explainer<'a> {
        fn collect<'e>(e: &'e Expr, out: &mut Vec<&'e Expr>) {
            out.push(e);
            match &e.kind {
                ExprKind::And(items) | ExprKind::Or(items) | ExprKind::AtLeast { items, .. } => {
                    items.iter().for_each(|i| collect(i, out))
                }
                ExprKind::Not(inner) => collect(inner, out),
                _ => {}
            }
        }
        let mut exprs = Vec::new();
        for rule in &policy.rules {
            collect(&rule.expr, &mut exprs);
        }
        for criterion in &policy.criteria {
            collect(&criterion.expr, &mut exprs);
        }
        for score in &policy.scores {
            for line in &score.lines {
                if let Some(w) = &line.when {
                    collect(w, &mut exprs);
                }
            }
        }
        let ids = program.add_probes(policy, &exprs);
        Explainer {
            policy,
            sources,
            probes: exprs.iter().map(|e| *e as *const Expr).zip(ids).collect(),
        }
    }

    fn text(&self, loc: Loc) -> String {
        let source = &self.sources[loc.file as usize];
        source
            .get(loc.span.start as usize..loc.span.end as usize)
            .unwrap_or("")
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
    }

    fn rule_ref(&self, r: RuleId) -> RuleRef {
        let rule = &self.policy.rules[r];
        let path = self.policy.path(rule.loc);
        let name = path.file_name().map_or(path.display().to_string(), |n| {
            n.to_string_lossy().into_owned()
        });
        RuleRef {
            name: rule.display_name(),
            location: format!("{name}:{}", rule.line),
        }
    }

    fn show(&self, row: &Row, field: FieldId) -> String {
        match row.owned_value(field) {
            Some(v) => self.policy.show_value(Some(field), &v),
            None => "missing".into(),
        }
    }

    fn clause(&self, program: &Program, m: &mut Machine, row: &Row, e: &Expr) -> Clause {
        let holds = m.truth(program, row, self.probes[&(e as *const Expr)]);
        let mut parts = Vec::new();
        let mut values = Vec::new();
        let p = self.policy;
        let needs = match &e.kind {
            // `a between x and y` is checked as two comparisons written at
            // one place: show it as the one clause the author wrote.
            ExprKind::And(items) if items.iter().all(|i| i.loc == e.loc) => {
                let inner: Vec<Clause> = items
                    .iter()
                    .map(|i| self.clause(program, m, row, i))
                    .collect();
                values = inner.first().map(|c| c.values.clone()).unwrap_or_default();
                let needs: Vec<String> = inner.iter().filter_map(|c| c.needs.clone()).collect();
                (!needs.is_empty()).then(|| needs.join(" and "))
            }
            ExprKind::And(items) | ExprKind::Or(items) | ExprKind::AtLeast { items, .. } => {
                parts = items
                    .iter()
                    .map(|i| self.clause(program, m, row, i))
                    .collect();
                None
            }
            ExprKind::Not(inner) => {
                parts.push(self.clause(program, m, row, inner));
                None
            }
            ExprKind::Criterion(c) => {
                parts.push(self.clause(program, m, row, &p.criteria[*c].expr));
                None
            }
            ExprKind::Const(_) => None,
            ExprKind::Known(f) => {
                values.push((p.fields[*f].name.clone(), self.show(row, *f)));
                Some("any value".to_string())
            }
            ExprKind::Unknown(f) => {
                values.push((p.fields[*f].name.clone(), self.show(row, *f)));
                Some("no value".to_string())
            }
            ExprKind::BoolField(f) => {
                values.push((p.fields[*f].name.clone(), self.show(row, *f)));
                Some("true".to_string())
            }
            ExprKind::Cmp { lhs, op, rhs, .. } => {
                let mut needs = None;
                for (term, other) in [(lhs, rhs), (rhs, lhs)] {
                    match term {
                        Term::Field(f) => {
                            values.push((p.fields[*f].name.clone(), self.show(row, *f)));
                            if let Term::Const(k) = other {
                                needs =
                                    Some(format!("{} {}", op.symbol(), p.show_value(Some(*f), k)));
                            }
                        }
                        Term::Score(s) => {
                            let value = m.scores[*s];
                            values.push((p.scores[*s].name.clone(), format_number(value)));
                            if let Term::Const(Value::Num(k)) = other {
                                let gap = match op {
                                    CmpOp::Ge => Some(k - value),
                                    CmpOp::Gt => Some(k - value),
                                    _ => None,
                                };
                                needs = Some(match gap {
                                    Some(g) if g > 0.0 => format!(
                                        "{} {} ({} more points)",
                                        op.symbol(),
                                        format_number(*k),
                                        format_number(g)
                                    ),
                                    _ => format!("{} {}", op.symbol(), format_number(*k)),
                                });
                            }
                        }
                        Term::Const(_) => {}
                    }
                }
                needs
            }
            ExprKind::In {
                lhs, values: set, ..
            } => {
                let field = match lhs {
                    Term::Field(f) => {
                        values.push((p.fields[*f].name.clone(), self.show(row, *f)));
                        Some(*f)
                    }
                    Term::Score(s) => {
                        values.push((p.scores[*s].name.clone(), format_number(m.scores[*s])));
                        None
                    }
                    Term::Const(_) => None,
                };
                let names: Vec<String> = set.iter().map(|v| p.show_value(field, v)).collect();
                Some(format!("one of {}", names.join(", ")))
            }
            ExprKind::Text {
                field, op, value, ..
            } => {
                values.push((p.fields[*field].name.clone(), self.show(row, *field)));
                Some(format!(
                    "text that {} {}",
                    op.words(),
                    crate::syntax::escape(value)
                ))
            }
            ExprKind::Within {
                field,
                days,
                direction,
            } => {
                values.push((p.fields[*field].name.clone(), self.show(row, *field)));
                let (low, high) = crate::eval::within_window(m.as_of, *days, *direction);
                // Lead dates are years 0000 to 9999 (days since 1970).
                let show = |day: i64| date_to_string(day.clamp(-719_528, 2_932_896) as i32);
                Some(format!("a date from {} to {}", show(low), show(high)))
            }
        };
        Clause {
            text: self.text(e.loc),
            needs: if holds == Truth::True { None } else { needs },
            holds,
            values,
            parts,
        }
    }

    /// A rule's top-level clauses (the items of its `and`).
    fn top_clauses<'e>(&self, e: &'e Expr) -> Vec<&'e Expr> {
        match &e.kind {
            ExprKind::And(items) => items.iter().flat_map(|i| self.top_clauses(i)).collect(),
            _ => vec![e],
        }
    }

    fn explain(
        &self,
        program: &Program,
        m: &mut Machine,
        row: &Row,
        d: Decision,
        as_of: i32,
    ) -> Explanation {
        let p = self.policy;
        let mut lead = serde_json::Map::new();
        for (f, field) in p.fields.iter().enumerate() {
            if program.reads[f] {
                let value = match row.owned_value(f) {
                    None => serde_json::Value::Null,
                    Some(Value::Num(n)) => serde_json::Number::from_f64(n)
                        .map(serde_json::Value::Number)
                        .unwrap_or_default(),
                    Some(Value::Bool(b)) => serde_json::Value::Bool(b),
                    Some(Value::Str(s)) => serde_json::Value::String(s),
                    Some(Value::List(items)) => items.into(),
                    Some(v) => serde_json::Value::String(p.show_value(Some(f), &v)),
                };
                lead.insert(field.name.clone(), value);
            }
        }
        let decided_by = d.rule.map(|r| RuleExplanation {
            rule: self.rule_ref(r),
            stage: p.stages[p.rules[r].stage].name.clone(),
            ceiling: p.rules[r].ceiling,
            reason: p.rules[r].reason.clone(),
            condition: self.clause(program, m, row, &p.rules[r].expr),
        });
        let lowered_from = d.lowered_from.map(|reached| Reached {
            stage: p.stages[reached.stage].name.clone(),
            rule: reached.rule.map(|r| self.rule_ref(r)),
        });
        let scores = p
            .scores
            .iter()
            .enumerate()
            .map(|(s, score)| ScoreExplanation {
                name: score.name.clone(),
                value: m.scores[s],
                lines: score
                    .lines
                    .iter()
                    .filter_map(|line| {
                        let holds = match &line.when {
                            Some(w) => m
                                .truth(program, row, self.probes[&(w as *const Expr)])
                                .is_true(),
                            None => true,
                        };
                        let per = line.per.and_then(|f| match row.owned_value(f) {
                            Some(Value::Num(n)) => Some(n),
                            _ => None,
                        });
                        let points = crate::eval::line_points(line, holds, per);
                        (points != 0.0).then(|| LineExplanation {
                            text: self.text(line.loc),
                            points,
                        })
                    })
                    .collect(),
            })
            .collect();
        let current = d.stage.map_or(-1, |s| s as i64);
        // No rule lifts a lead above a ceiling that holds for it.
        let held_at = program
            .ceilings
            .iter()
            .find(|c| m.truth(program, row, c.cond) == Truth::True)
            .map_or(usize::MAX, |c| c.stage);
        let next = (0..p.stages.len())
            .filter(|&s| s as i64 > current && s <= held_at)
            .map(|s| StageGap {
                stage: p.stages[s].name.clone(),
                rules: (0..p.rules.len())
                    .filter(|&r| p.rules[r].stage == s && !p.rules[r].ceiling)
                    .map(|r| RuleGap {
                        rule: self.rule_ref(r),
                        failed: self
                            .top_clauses(&p.rules[r].expr)
                            .into_iter()
                            .map(|e| self.clause(program, m, row, e))
                            .filter(|c| c.holds != Truth::True)
                            .collect(),
                    })
                    .collect(),
            })
            .filter(|g| !g.rules.is_empty())
            .collect();
        Explanation {
            stage: d.stage.map(|s| p.stages[s].name.clone()),
            rule: d.rule.map(|r| self.rule_ref(r)),
            as_of: date_to_string(as_of),
            lead,
            decided_by,
            lowered_from,
            scores,
            next,
        }
    }
}

fn mark(t: Truth) -> &'static str {
    match t {
        Truth::True => "✓",
        Truth::False => "✗",
        Truth::Unknown => "?",
    }
}

fn render_clause(out: &mut String, c: &Clause, depth: usize) {
    use std::fmt::Write;
    let indent = "  ".repeat(depth);
    let _ = write!(out, "{indent}{} {}", mark(c.holds), c.text);
    if !c.values.is_empty() {
        let values: Vec<String> = c
            .values
            .iter()
            .map(|(k, v)| format!("{k} is {v}"))
            .collect();
        let _ = write!(out, "  — {}", values.join(", "));
    }
    if let Some(needs) = &c.needs {
        let _ = write!(out, "; needs {needs}");
    }
    if c.holds == Truth::Unknown && c.parts.is_empty() {
        let _ = write!(out, " (unknown: a value is missing)");
    }
    out.push('\n');
    // One level of a criterion or group is enough to see why; deeper
    // levels only when they are what failed.
    for part in &c.parts {
        if depth < 6 {
            render_clause(out, part, depth + 1);
        }
    }
}

fn render(e: &Explanation) -> String {
    use std::fmt::Write;
    let mut out = String::new();
    let stage = e.stage.as_deref().unwrap_or("no stage");
    match (&e.decided_by, &e.rule) {
        (Some(d), Some(r)) => {
            let how = if d.ceiling {
                "held down by ceiling"
            } else {
                "decided by rule"
            };
            let _ = writeln!(out, "Stage: {stage}, {how} `{}` ({})", r.name, r.location);
            if let Some(reason) = &d.reason {
                let _ = writeln!(out, "  because: {reason}");
            }
            render_clause(&mut out, &d.condition, 1);
            if let Some(reached) = &e.lowered_from {
                match &reached.rule {
                    Some(by) => {
                        let _ = writeln!(
                            out,
                            "  Without this ceiling the lead would be {}, through rule `{}` ({})",
                            reached.stage, by.name, by.location
                        );
                    }
                    None => {
                        let _ = writeln!(
                            out,
                            "  Without this ceiling the lead would be {} (`otherwise`)",
                            reached.stage
                        );
                    }
                }
            }
        }
        _ if e.stage.is_some() => {
            let _ = writeln!(
                out,
                "Stage: {stage} — no rule matched, so `otherwise` applies"
            );
        }
        _ => {
            let _ = writeln!(
                out,
                "Stage: none — no rule matched, and the policy has no `otherwise`"
            );
        }
    }
    let _ = writeln!(out, "  (evaluated as of {})", e.as_of);
    for s in &e.scores {
        let _ = writeln!(out, "\nScore {} = {}", s.name, format_number(s.value));
        for line in &s.lines {
            let sign = if line.points >= 0.0 { "+" } else { "" };
            let points = format!("{sign}{}", format_number(line.points));
            if line.text.starts_with(&points) && !line.text.contains(" per ") {
                let _ = writeln!(out, "  {}", line.text);
            } else {
                let _ = writeln!(out, "  {points} from {}", line.text);
            }
        }
    }
    for gap in &e.next {
        let _ = writeln!(out, "\nTo reach {}:", gap.stage);
        for rule in &gap.rules {
            let _ = writeln!(out, "  rule `{}` ({})", rule.rule.name, rule.rule.location);
            for c in &rule.failed {
                render_clause(&mut out, c, 2);
            }
        }
    }
    out
}
