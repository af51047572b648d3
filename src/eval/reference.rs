//! The reference interpreter: walks the checked policy directly, written for
//! obviousness rather than speed. The compiled evaluator must agree with it.

use super::*;

struct Ctx<'a> {
    policy: &'a Policy,
    lead: &'a [Option<Value>],
    as_of: i32,
    scores: Vec<Option<f64>>,
    criteria: Vec<Option<Truth>>,
}

pub fn evaluate(policy: &Policy, lead: &[Option<Value>], as_of: i32) -> Outcome {
    let mut ctx = Ctx {
        policy,
        lead,
        as_of,
        scores: vec![None; policy.scores.len()],
        criteria: vec![None; policy.criteria.len()],
    };
    for &s in &policy.score_order {
        ctx.score(s);
    }
    let scores: Vec<f64> = (0..policy.scores.len()).map(|s| ctx.score(s)).collect();
    let with_stage = |r: RuleId| (r, policy.rules[r].stage);
    let decision = decide(
        policy.rules_by_precedence().into_iter().map(with_stage),
        policy.ceilings_by_precedence().into_iter().map(with_stage),
        policy.otherwise,
        |r| ctx.expr(&policy.rules[r].expr).is_true(),
    );
    Outcome {
        stage: decision.stage,
        rule: decision.rule,
        lowered_from: decision.lowered_from,
        scores,
    }
}

/// Evaluate several conditions for one lead, computing its scores once
/// (the analysis checks its witness leads this way).
pub fn truths_of(
    policy: &Policy,
    lead: &[Option<Value>],
    as_of: i32,
    exprs: &[&Expr],
) -> Vec<Truth> {
    let mut ctx = Ctx {
        policy,
        lead,
        as_of,
        scores: vec![None; policy.scores.len()],
        criteria: vec![None; policy.criteria.len()],
    };
    exprs.iter().map(|e| ctx.expr(e)).collect()
}

/// Evaluate one condition of the policy for a lead (used by explanations).
pub fn truth_of(policy: &Policy, lead: &[Option<Value>], as_of: i32, expr: &Expr) -> Truth {
    truths_of(policy, lead, as_of, &[expr])[0]
}

impl Ctx<'_> {
    fn score(&mut self, s: ScoreId) -> f64 {
        if let Some(v) = self.scores[s] {
            return v;
        }
        // Guards against a cycle the checker reported but could not cut.
        self.scores[s] = Some(0.0);
        let score = &self.policy.scores[s];
        let mut total = 0.0;
        for line in &score.lines {
            let holds = match &line.when {
                Some(w) => self.expr(w).is_true(),
                None => true,
            };
            let per = line.per.and_then(|f| match &self.lead[f] {
                Some(Value::Num(n)) => Some(*n),
                _ => None,
            });
            total += line_points(line, holds, per);
        }
        let total = cap_total(score.cap, total);
        self.scores[s] = Some(total);
        total
    }

    fn term(&mut self, t: &Term) -> Option<Value> {
        match t {
            Term::Field(f) => self.lead[*f].clone(),
            Term::Score(s) => Some(Value::Num(self.score(*s))),
            Term::Const(v) => Some(v.clone()),
        }
    }

    fn expr(&mut self, e: &Expr) -> Truth {
        match &e.kind {
            ExprKind::Const(b) => Truth::from_bool(*b),
            ExprKind::Known(f) => Truth::from_bool(self.lead[*f].is_some()),
            ExprKind::Unknown(f) => Truth::from_bool(self.lead[*f].is_none()),
            ExprKind::BoolField(f) => match &self.lead[*f] {
                Some(Value::Bool(b)) => Truth::from_bool(*b),
                _ => Truth::Unknown,
            },
            ExprKind::Criterion(c) => {
                if let Some(t) = self.criteria[*c] {
                    return t;
                }
                self.criteria[*c] = Some(Truth::Unknown);
                let t = self.expr(&self.policy.criteria[*c].expr);
                self.criteria[*c] = Some(t);
                t
            }
            ExprKind::Cmp {
                lhs,
                op,
                rhs,
                ignore_case,
            } => {
                let (a, b) = (self.term(lhs), self.term(rhs));
                compare_truth(
                    a.as_ref().map(Value::as_ref),
                    *op,
                    b.as_ref().map(Value::as_ref),
                    *ignore_case,
                )
            }
            ExprKind::In {
                lhs,
                values,
                ignore_case,
            } => {
                let v = self.term(lhs);
                in_truth(v.as_ref().map(Value::as_ref), values, *ignore_case)
            }
            ExprKind::Text {
                field,
                op,
                value,
                ignore_case,
            } => match &self.lead[*field] {
                Some(Value::Str(s)) => Truth::from_bool(text_test(s, *op, value, *ignore_case)),
                Some(Value::List(items)) => Truth::from_bool(list_has(
                    items.iter().map(String::as_str),
                    value,
                    *ignore_case,
                )),
                _ => Truth::Unknown,
            },
            ExprKind::Within {
                field,
                days,
                direction,
            } => match &self.lead[*field] {
                Some(Value::Date(d)) => Truth::from_bool(within(*d, self.as_of, *days, *direction)),
                _ => Truth::Unknown,
            },
            ExprKind::And(items) => Truth::and(items.iter().map(|i| self.expr(i))),
            ExprKind::Or(items) => Truth::or(items.iter().map(|i| self.expr(i))),
            ExprKind::Not(inner) => self.expr(inner).negate(),
            ExprKind::AtLeast { n, items } => {
                Truth::at_least(*n, items.iter().map(|i| self.expr(i)))
            }
        }
    }
}
