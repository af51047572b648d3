//! Checked policy → evaluation program.
//!
//! The program is a flat arena of nodes with the policy's names already
//! gone: fields are slot numbers, enum values are indices, and string
//! constants compared for equality are interned, so that a row reader can
//! turn a cell into a symbol once and every `=`/`in` on it is an integer
//! comparison. Comparisons of a field with a constant get their own node
//! kinds (the common case); anything else goes through the general
//! comparison shared with the reference interpreter. Rules are stored in
//! precedence order so the runtime stops at the first that holds.
//!
//! The program says nothing about *how* it runs; `eval::machine` does.

use rustc_hash::FxHashMap;

use crate::check::policy::*;

/// Symbol of a string that equals none of the policy's string constants.
pub const NO_SYMBOL: u32 = u32::MAX;

pub type NodeId = u32;

#[derive(Clone, Debug, PartialEq)]
pub enum Node {
    Const(bool),
    Known(FieldId),
    Unknown(FieldId),
    /// A `bool` field used on its own.
    IsTrue(FieldId),
    Criterion(CriterionId),
    /// Number field against a constant.
    Num {
        field: FieldId,
        op: CmpOp,
        k: f64,
    },
    Score {
        score: ScoreId,
        op: CmpOp,
        k: f64,
    },
    Date {
        field: FieldId,
        op: CmpOp,
        k: i32,
    },
    BoolEq {
        field: FieldId,
        value: bool,
    },
    EnumEq {
        field: FieldId,
        value: u32,
    },
    /// Bit `i` of the set is enum value `i`.
    EnumIn {
        field: FieldId,
        set: Box<[u64]>,
    },
    /// Case-sensitive text equality with an interned constant.
    SymEq {
        field: FieldId,
        sym: u32,
    },
    SymIn {
        field: FieldId,
        syms: Box<[u32]>,
    },
    /// `contains`, `starts with`, `ends with` on text.
    Text {
        field: FieldId,
        op: TextOp,
        needle: Box<str>,
        ignore_case: bool,
    },
    /// `contains` on a list.
    ListHas {
        field: FieldId,
        item: Box<str>,
        ignore_case: bool,
    },
    Within {
        field: FieldId,
        days: u32,
        direction: Direction,
    },
    /// Any other comparison (field with field, text ignoring case, lists…).
    Compare {
        lhs: Term,
        op: CmpOp,
        rhs: Term,
        ignore_case: bool,
    },
    In {
        lhs: Term,
        values: Box<[Value]>,
        ignore_case: bool,
    },
    /// Children are `kids[start..start+len]`.
    And {
        start: u32,
        len: u32,
    },
    Or {
        start: u32,
        len: u32,
    },
    Not(NodeId),
    AtLeast {
        n: u32,
        start: u32,
        len: u32,
    },
}

#[derive(Clone, Debug, PartialEq)]
pub struct LineProgram {
    pub points: f64,
    pub per: Option<FieldId>,
    pub cap: Option<f64>,
    pub when: Option<NodeId>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct ScoreProgram {
    pub lines: Vec<LineProgram>,
    pub cap: Option<f64>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct RuleProgram {
    pub rule: RuleId,
    pub stage: StageId,
    pub cond: NodeId,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Program {
    pub nodes: Vec<Node>,
    pub kids: Vec<NodeId>,
    /// Root node of each criterion.
    pub criteria: Vec<NodeId>,
    pub scores: Vec<ScoreProgram>,
    pub score_order: Vec<ScoreId>,
    /// The ordinary rules in precedence order, then the ceilings lowest
    /// first, as `eval::decide` takes them.
    pub rules: Vec<RuleProgram>,
    pub ceilings: Vec<RuleProgram>,
    /// Each rule's condition, by `RuleId`.
    pub conds: Vec<NodeId>,
    pub otherwise: Option<StageId>,
    /// Interned string constants (case-sensitive equality).
    pub symbols: FxHashMap<Box<str>, u32>,
    /// Per field: whether the program reads it (readers convert only these,
    /// plus key fields).
    pub reads: Vec<bool>,
    /// Per field: whether its text should be interned when read.
    pub interned: Vec<bool>,
}

impl Program {
    pub fn compile(policy: &Policy) -> Program {
        let mut c = Compiler {
            policy,
            program: Program {
                reads: vec![false; policy.fields.len()],
                interned: vec![false; policy.fields.len()],
                otherwise: policy.otherwise,
                score_order: policy.score_order.clone(),
                ..Program::default()
            },
        };
        for criterion in &policy.criteria {
            let root = c.expr(&criterion.expr);
            c.program.criteria.push(root);
        }
        for score in &policy.scores {
            let lines = score
                .lines
                .iter()
                .map(|line| {
                    if let Some(f) = line.per {
                        c.program.reads[f] = true;
                    }
                    LineProgram {
                        points: line.points,
                        per: line.per,
                        cap: line.cap,
                        when: line.when.as_ref().map(|w| c.expr(w)),
                    }
                })
                .collect();
            c.program.scores.push(ScoreProgram {
                lines,
                cap: score.cap,
            });
        }
        c.program.conds = policy.rules.iter().map(|r| c.expr(&r.expr)).collect();
        let entry = |rule: RuleId| RuleProgram {
            rule,
            stage: policy.rules[rule].stage,
            cond: c.program.conds[rule],
        };
        let rules = policy
            .rules_by_precedence()
            .into_iter()
            .map(entry)
            .collect();
        let ceilings = policy
            .ceilings_by_precedence()
            .into_iter()
            .map(entry)
            .collect();
        c.program.rules = rules;
        c.program.ceilings = ceilings;
        for (f, field) in policy.fields.iter().enumerate() {
            if field.key {
                c.program.reads[f] = true;
            }
        }
        c.program
    }

    /// Compile extra conditions of the same policy into this program (for
    /// explanations, which evaluate each clause on its own).
    pub fn add_probes(&mut self, policy: &Policy, exprs: &[&Expr]) -> Vec<NodeId> {
        let mut c = Compiler {
            policy,
            program: std::mem::take(self),
        };
        let ids = exprs.iter().map(|e| c.expr(e)).collect();
        *self = c.program;
        ids
    }

    /// The interned id of a text, or `NO_SYMBOL`.
    #[inline]
    pub fn symbol(&self, text: &str) -> u32 {
        self.symbols.get(text).copied().unwrap_or(NO_SYMBOL)
    }

    pub fn children(&self, start: u32, len: u32) -> &[NodeId] {
        &self.kids[start as usize..(start + len) as usize]
    }
}

struct Compiler<'a> {
    policy: &'a Policy,
    program: Program,
}

impl Compiler<'_> {
    fn push(&mut self, node: Node) -> NodeId {
        self.program.nodes.push(node);
        (self.program.nodes.len() - 1) as NodeId
    }

    fn read(&mut self, term: &Term) {
        if let Term::Field(f) = term {
            self.program.reads[*f] = true;
        }
    }

    fn intern(&mut self, field: FieldId, text: &str) -> u32 {
        self.program.interned[field] = true;
        let next = self.program.symbols.len() as u32;
        *self.program.symbols.entry(text.into()).or_insert(next)
    }

    fn group(&mut self, items: &[Expr]) -> (u32, u32) {
        let ids: Vec<NodeId> = items.iter().map(|e| self.expr(e)).collect();
        let start = self.program.kids.len() as u32;
        self.program.kids.extend(ids);
        (start, items.len() as u32)
    }

    fn expr(&mut self, e: &Expr) -> NodeId {
        let node = match &e.kind {
            ExprKind::Const(b) => Node::Const(*b),
            ExprKind::Known(f) => {
                self.program.reads[*f] = true;
                Node::Known(*f)
            }
            ExprKind::Unknown(f) => {
                self.program.reads[*f] = true;
                Node::Unknown(*f)
            }
            ExprKind::BoolField(f) => {
                self.program.reads[*f] = true;
                Node::IsTrue(*f)
            }
            ExprKind::Criterion(c) => Node::Criterion(*c),
            ExprKind::Cmp {
                lhs,
                op,
                rhs,
                ignore_case,
            } => {
                self.read(lhs);
                self.read(rhs);
                // Constants go on the right, so one node kind covers both.
                let (lhs, op, rhs) = match (lhs, rhs) {
                    (Term::Const(_), Term::Field(_) | Term::Score(_)) => (rhs, mirror(*op), lhs),
                    _ => (lhs, *op, rhs),
                };
                if op == CmpOp::Ne {
                    // In three-valued logic `a != b` is exactly `not (a = b)`.
                    let eq = self.cmp(lhs, CmpOp::Eq, rhs, *ignore_case);
                    let eq = self.push(eq);
                    Node::Not(eq)
                } else {
                    self.cmp(lhs, op, rhs, *ignore_case)
                }
            }
            ExprKind::In {
                lhs,
                values,
                ignore_case,
            } => {
                self.read(lhs);
                self.membership(lhs, values, *ignore_case)
            }
            ExprKind::Text {
                field,
                op,
                value,
                ignore_case,
            } => {
                self.program.reads[*field] = true;
                if matches!(self.policy.fields[*field].ty, FieldType::List) {
                    Node::ListHas {
                        field: *field,
                        item: value.as_str().into(),
                        ignore_case: *ignore_case,
                    }
                } else {
                    Node::Text {
                        field: *field,
                        op: *op,
                        needle: value.as_str().into(),
                        ignore_case: *ignore_case,
                    }
                }
            }
            ExprKind::Within {
                field,
                days,
                direction,
            } => {
                self.program.reads[*field] = true;
                Node::Within {
                    field: *field,
                    days: *days,
                    direction: *direction,
                }
            }
            ExprKind::And(items) => {
                let (start, len) = self.group(items);
                Node::And { start, len }
            }
            ExprKind::Or(items) => {
                let (start, len) = self.group(items);
                Node::Or { start, len }
            }
            ExprKind::Not(inner) => Node::Not(self.expr(inner)),
            ExprKind::AtLeast { n, items } => {
                let (start, len) = self.group(items);
                Node::AtLeast { n: *n, start, len }
            }
        };
        self.push(node)
    }

    fn cmp(&mut self, lhs: &Term, op: CmpOp, rhs: &Term, ignore_case: bool) -> Node {
        let general = || Node::Compare {
            lhs: lhs.clone(),
            op,
            rhs: rhs.clone(),
            ignore_case,
        };
        match (lhs, rhs) {
            (Term::Score(s), Term::Const(Value::Num(k))) => Node::Score {
                score: *s,
                op,
                k: *k,
            },
            (Term::Field(f), Term::Const(k)) => match (k, &self.policy.fields[*f].ty) {
                (Value::Num(k), ty) if ty.is_numeric() => Node::Num {
                    field: *f,
                    op,
                    k: *k,
                },
                (Value::Date(k), FieldType::Date) => Node::Date {
                    field: *f,
                    op,
                    k: *k,
                },
                (Value::Bool(b), FieldType::Bool) if op == CmpOp::Eq => Node::BoolEq {
                    field: *f,
                    value: *b,
                },
                (Value::Enum(v), FieldType::Enum(_)) if op == CmpOp::Eq => Node::EnumEq {
                    field: *f,
                    value: *v,
                },
                (Value::Str(s), FieldType::String) if op == CmpOp::Eq && !ignore_case => {
                    Node::SymEq {
                        field: *f,
                        sym: self.intern(*f, s),
                    }
                }
                _ => general(),
            },
            _ => general(),
        }
    }

    fn membership(&mut self, lhs: &Term, values: &[Value], ignore_case: bool) -> Node {
        let general = || Node::In {
            lhs: lhs.clone(),
            values: values.into(),
            ignore_case,
        };
        let Term::Field(f) = lhs else {
            return general();
        };
        match &self.policy.fields[*f].ty {
            FieldType::Enum(names) => {
                let mut set = vec![0u64; names.len().div_ceil(64).max(1)];
                for v in values {
                    match v {
                        Value::Enum(i) => set[*i as usize / 64] |= 1 << (i % 64),
                        _ => return general(),
                    }
                }
                Node::EnumIn {
                    field: *f,
                    set: set.into(),
                }
            }
            FieldType::String if !ignore_case => {
                let mut syms = Vec::new();
                for v in values {
                    match v {
                        Value::Str(s) => syms.push(self.intern(*f, s)),
                        _ => return general(),
                    }
                }
                syms.sort_unstable();
                syms.dedup();
                Node::SymIn {
                    field: *f,
                    syms: syms.into(),
                }
            }
            _ => general(),
        }
    }
}

/// `k op x` as `x op' k`.
fn mirror(op: CmpOp) -> CmpOp {
    match op {
        CmpOp::Lt => CmpOp::Gt,
        CmpOp::Le => CmpOp::Ge,
        CmpOp::Gt => CmpOp::Lt,
        CmpOp::Ge => CmpOp::Le,
        other => other,
    }
}
