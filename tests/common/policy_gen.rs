//! Random *checked* policies and leads, for property tests that compare the
//! evaluators (and, later, the SQL compiler) with the reference interpreter.
//! Built straight from a seed so proptest only has to shrink numbers.

#![allow(dead_code)]

use qualify::check::policy::*;
use qualify::syntax::{CmpOp, Direction, TextOp};

/// splitmix64: small, deterministic, good enough for test data.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
    pub fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

const WORDS: &[&str] = &[
    "acme", "Acme", "ops", "VP Sales", "x", "", "ünï", "a,b", "q\"t",
];
const ENUM: &[&str] = &["saas", "fintech", "retail", "health", "edu"];
const TAGS: &[&str] = &["crm", "erp", "CRM", "bi"];
const AS_OF: i32 = 20_600;

fn field_types() -> Vec<FieldType> {
    vec![
        FieldType::Bool,
        FieldType::Integer,
        FieldType::Money,
        FieldType::String,
        FieldType::Date,
        FieldType::List,
        FieldType::Enum(ENUM.iter().map(|s| s.to_string()).collect()),
    ]
}

pub fn as_of() -> i32 {
    AS_OF
}

fn loc() -> Loc {
    Loc::default()
}

fn expr(kind: ExprKind) -> Expr {
    Expr { kind, loc: loc() }
}

/// A value of a field's type, often near the constants policies use.
pub fn value_of(rng: &mut Rng, ty: &FieldType) -> Value {
    match ty {
        FieldType::Bool => Value::Bool(rng.chance(50)),
        FieldType::Integer | FieldType::Number | FieldType::Money => {
            Value::Num(*rng.pick(&[-5.0, 0.0, 1.0, 2.5, 10.0, 50.0, 100.0, 500.0, 1e6]))
        }
        FieldType::String => Value::Str(rng.pick(WORDS).to_string()),
        FieldType::Date => {
            Value::Date(AS_OF + *rng.pick(&[-400, -91, -90, -31, -30, -1, 0, 1, 30, 31, 90, 91]))
        }
        FieldType::List => {
            let n = rng.below(3);
            Value::List((0..n).map(|_| rng.pick(TAGS).to_string()).collect())
        }
        FieldType::Enum(values) => Value::Enum(rng.below(values.len()) as u32),
    }
}

pub struct Gen<'a> {
    pub rng: &'a mut Rng,
    pub policy: Policy,
}

impl Gen<'_> {
    fn field_of(&mut self, pred: impl Fn(&FieldType) -> bool) -> Option<FieldId> {
        let ids: Vec<FieldId> = (0..self.policy.fields.len())
            .filter(|&f| pred(&self.policy.fields[f].ty))
            .collect();
        if ids.is_empty() {
            None
        } else {
            Some(*self.rng.pick(&ids))
        }
    }

    fn op(&mut self) -> CmpOp {
        *self.rng.pick(&[
            CmpOp::Eq,
            CmpOp::Ne,
            CmpOp::Lt,
            CmpOp::Le,
            CmpOp::Gt,
            CmpOp::Ge,
        ])
    }

    /// A predicate on one field (or a score below `scores`).
    fn predicate(&mut self, scores: usize) -> ExprKind {
        let f = self.rng.below(self.policy.fields.len());
        let ty = self.policy.fields[f].ty.clone();
        match self.rng.below(10) {
            0 => return ExprKind::Known(f),
            1 => return ExprKind::Unknown(f),
            2 if scores > 0 => {
                let s = self.rng.below(scores);
                let k = *self.rng.pick(&[0.0, 10.0, 20.0, 35.0, 50.0]);
                let op = self.op();
                return ExprKind::Cmp {
                    lhs: Term::Score(s),
                    op,
                    rhs: Term::Const(Value::Num(k)),
                    ignore_case: false,
                };
            }
            _ => {}
        }
        let ignore_case = self.rng.chance(30);
        match &ty {
            FieldType::Bool => {
                if self.rng.chance(50) {
                    ExprKind::BoolField(f)
                } else {
                    let op = *self.rng.pick(&[CmpOp::Eq, CmpOp::Ne]);
                    ExprKind::Cmp {
                        lhs: Term::Field(f),
                        op,
                        rhs: Term::Const(Value::Bool(self.rng.chance(50))),
                        ignore_case: false,
                    }
                }
            }
            FieldType::Integer | FieldType::Number | FieldType::Money | FieldType::Date => {
                let other = self.field_of(|t| *t == ty);
                let rhs = match other {
                    Some(g) if self.rng.chance(15) => Term::Field(g),
                    _ => Term::Const(value_of(self.rng, &ty)),
                };
                if matches!(ty, FieldType::Date) && self.rng.chance(40) {
                    return ExprKind::Within {
                        field: f,
                        days: *self.rng.pick(&[0, 1, 30, 90]),
                        direction: *self.rng.pick(&[
                            Direction::Either,
                            Direction::Last,
                            Direction::Next,
                        ]),
                    };
                }
                if self.rng.chance(25) {
                    let values = (0..1 + self.rng.below(3))
                        .map(|_| value_of(self.rng, &ty))
                        .collect();
                    return ExprKind::In {
                        lhs: Term::Field(f),
                        values,
                        ignore_case: false,
                    };
                }
                let op = self.op();
                let (lhs, rhs) = if self.rng.chance(20) {
                    (rhs, Term::Field(f))
                } else {
                    (Term::Field(f), rhs)
                };
                ExprKind::Cmp {
                    lhs,
                    op,
                    rhs,
                    ignore_case: false,
                }
            }
            FieldType::String => match self.rng.below(4) {
                0 => ExprKind::Text {
                    field: f,
                    op: *self
                        .rng
                        .pick(&[TextOp::Contains, TextOp::StartsWith, TextOp::EndsWith]),
                    value: self.rng.pick(WORDS).to_string(),
                    ignore_case,
                },
                1 => ExprKind::In {
                    lhs: Term::Field(f),
                    values: (0..1 + self.rng.below(3))
                        .map(|_| value_of(self.rng, &ty))
                        .collect(),
                    ignore_case,
                },
                _ => {
                    let rhs = match self.field_of(|t| *t == FieldType::String) {
                        Some(g) if self.rng.chance(15) => Term::Field(g),
                        _ => Term::Const(value_of(self.rng, &ty)),
                    };
                    ExprKind::Cmp {
                        lhs: Term::Field(f),
                        op: *self.rng.pick(&[CmpOp::Eq, CmpOp::Ne]),
                        rhs,
                        ignore_case,
                    }
                }
            },
            FieldType::List => {
                if self.rng.chance(70) {
                    ExprKind::Text {
                        field: f,
                        op: TextOp::Contains,
                        value: self.rng.pick(TAGS).to_string(),
                        ignore_case,
                    }
                } else {
                    ExprKind::Cmp {
                        lhs: Term::Field(f),
                        op: *self.rng.pick(&[CmpOp::Eq, CmpOp::Ne]),
                        rhs: Term::Const(value_of(self.rng, &ty)),
                        ignore_case,
                    }
                }
            }
            FieldType::Enum(_) => {
                if self.rng.chance(50) {
                    ExprKind::In {
                        lhs: Term::Field(f),
                        values: (0..1 + self.rng.below(4))
                            .map(|_| value_of(self.rng, &ty))
                            .collect(),
                        ignore_case: false,
                    }
                } else {
                    ExprKind::Cmp {
                        lhs: Term::Field(f),
                        op: *self.rng.pick(&[CmpOp::Eq, CmpOp::Ne]),
                        rhs: Term::Const(value_of(self.rng, &ty)),
                        ignore_case: false,
                    }
                }
            }
        }
    }

    /// A condition that may use criteria below `criteria` and scores below
    /// `scores` (so there are no cycles).
    pub fn cond(&mut self, depth: u32, criteria: usize, scores: usize) -> Expr {
        let leaf = depth == 0 || self.rng.chance(35);
        if leaf {
            if criteria > 0 && self.rng.chance(20) {
                return expr(ExprKind::Criterion(self.rng.below(criteria)));
            }
            if self.rng.chance(3) {
                return expr(ExprKind::Const(self.rng.chance(50)));
            }
            return expr(self.predicate(scores));
        }
        let n = 1 + self.rng.below(4);
        let kind = self.rng.below(4);
        if kind == 2 {
            return expr(ExprKind::Not(Box::new(self.cond(
                depth - 1,
                criteria,
                scores,
            ))));
        }
        let items: Vec<Expr> = (0..n)
            .map(|_| self.cond(depth - 1, criteria, scores))
            .collect();
        match kind {
            0 => expr(ExprKind::And(items)),
            1 => expr(ExprKind::Or(items)),
            _ => {
                let k = 1 + self.rng.below(items.len()) as u32;
                expr(ExprKind::AtLeast { n: k, items })
            }
        }
    }
}

pub fn policy(seed: u64) -> Policy {
    let mut rng = Rng::new(seed);
    let mut policy = Policy {
        files: vec!["generated.qual".into()],
        ..Policy::default()
    };
    let types = field_types();
    let n_fields = 2 + rng.below(7);
    for i in 0..n_fields {
        let ty = types[rng.below(types.len())].clone();
        let optional = rng.chance(70);
        let default = if !optional && rng.chance(50) {
            Some(value_of(&mut rng, &ty))
        } else {
            None
        };
        policy.fields.push(Field {
            name: format!("f{i}"),
            loc: loc(),
            ty,
            optional,
            key: i == 0,
            column: format!("F{i}"),
            missing: vec![],
            true_values: vec![],
            false_values: vec![],
            separator: ";".into(),
            default,
        });
    }
    for (i, name) in ["cold", "MQL", "SQL", "PQL"]
        .iter()
        .take(2 + rng.below(3))
        .enumerate()
    {
        let _ = i;
        policy.stages.push(Stage {
            name: name.to_string(),
            loc: loc(),
        });
    }
    if rng.chance(70) {
        policy.otherwise = Some(0);
    }
    let mut g = Gen {
        rng: &mut rng,
        policy,
    };
    let n_scores = g.rng.below(3);
    for s in 0..n_scores {
        let lines = (0..1 + g.rng.below(4))
            .map(|_| {
                let per = if g.rng.chance(30) {
                    g.field_of(|t| t.is_numeric())
                } else {
                    None
                };
                PointLine {
                    points: *g.rng.pick(&[-7.0, -2.0, 0.5, 3.0, 10.0, 20.0]),
                    per,
                    cap: if g.rng.chance(30) { Some(15.0) } else { None },
                    when: if per.is_none() || g.rng.chance(50) {
                        Some(g.cond(2, 0, s))
                    } else {
                        None
                    },
                    loc: loc(),
                }
            })
            .collect();
        let cap = if g.rng.chance(40) { Some(25.0) } else { None };
        g.policy.scores.push(Score {
            name: format!("s{s}"),
            loc: loc(),
            lines,
            cap,
        });
        g.policy.score_order.push(s);
    }
    let n_criteria = g.rng.below(4);
    for c in 0..n_criteria {
        let e = g.cond(3, c, n_scores);
        g.policy.criteria.push(Criterion {
            name: format!("c{c}"),
            loc: loc(),
            expr: e,
        });
    }
    let n_rules = 1 + g.rng.below(6);
    for r in 0..n_rules {
        let e = g.cond(3, n_criteria, n_scores);
        let stage = g.rng.below(g.policy.stages.len());
        let ceiling = g.rng.chance(25);
        g.policy.rules.push(Rule {
            label: Some(format!("r{r}")),
            loc: loc(),
            expr: e,
            stage,
            stage_loc: loc(),
            ceiling,
            reason: None,
            line: r as u32 + 1,
            positional_name: format!("r{r}"),
        });
    }
    g.policy
}

/// A lead for a policy: each field missing a quarter of the time (unless it
/// has a default, which then applies).
pub fn lead(policy: &Policy, seed: u64) -> Vec<Option<Value>> {
    let mut rng = Rng::new(seed ^ 0x5eed);
    policy
        .fields
        .iter()
        .map(|f| {
            if rng.chance(25) {
                f.default.clone()
            } else {
                Some(value_of(&mut rng, &f.ty))
            }
        })
        .collect()
}
