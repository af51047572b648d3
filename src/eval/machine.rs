//! The runtime of a compiled program: evaluates one row at a time, reusing
//! its buffers, so evaluating a lead allocates nothing.

use super::*;
use crate::compile::{Node, NodeId, Program};
use crate::eval::row::{Row, Slot};

/// Per-thread evaluation state for one program.
#[derive(Clone, Debug)]
pub struct Machine {
    pub as_of: i32,
    /// Criterion values for the current row; `None` until first needed.
    criteria: Vec<Option<Truth>>,
    /// Score values for the current row, by `ScoreId`.
    pub scores: Vec<f64>,
}

impl Machine {
    pub fn new(program: &Program, as_of: i32) -> Machine {
        Machine {
            as_of,
            criteria: vec![None; program.criteria.len()],
            scores: vec![0.0; program.scores.len()],
        }
    }

    /// Evaluate every score, then the rules in precedence order (the
    /// scores are left in `Machine::scores`).
    pub fn run(&mut self, program: &Program, row: &Row) -> Decision {
        self.begin(program, row);
        let entry = |r: &crate::compile::RuleProgram| (r.rule, r.stage);
        decide(
            program.rules.iter().map(entry),
            program.ceilings.iter().map(entry),
            program.otherwise,
            |r| self.kid(program, row, program.conds[r]) == Truth::True,
        )
    }

    /// Evaluate one node for a row (after `run` or `begin` on that row).
    pub fn truth(&mut self, program: &Program, row: &Row, node: NodeId) -> Truth {
        self.node(program, row, node)
    }

    /// Reset per-row state and compute the scores.
    pub fn begin(&mut self, program: &Program, row: &Row) {
        self.criteria.fill(None);
        self.scores.fill(0.0);
        for &s in &program.score_order {
            let score = &program.scores[s];
            let mut total = 0.0;
            for line in &score.lines {
                if let Some(when) = line.when {
                    if self.kid(program, row, when) != Truth::True {
                        continue;
                    }
                }
                let per = line.per.map(|f| match row.slots[f] {
                    Slot::Num(n) => Some(n),
                    _ => None,
                });
                total += points_of(line.points, per, line.cap);
            }
            self.scores[s] = cap_total(score.cap, total);
        }
    }

    fn term<'r>(&self, row: &'r Row, term: &'r Term) -> Option<ValueRef<'r>> {
        match term {
            Term::Field(f) => row.value(*f),
            Term::Score(s) => Some(ValueRef::Num(self.scores[*s])),
            Term::Const(v) => Some(v.as_ref()),
        }
    }

    /// Leaves: tests of one slot or score. Inlined into the loops of
    /// `and`/`or`/`at least` and score lines, so that most nodes cost no
    /// call; `None` for every other kind.
    #[inline(always)]
    fn leaf(&self, row: &Row, node: &Node) -> Option<Truth> {
        Some(match node {
            Node::Const(b) => Truth::from_bool(*b),
            Node::Known(f) => Truth::from_bool(row.slots[*f] != Slot::Missing),
            Node::Unknown(f) => Truth::from_bool(row.slots[*f] == Slot::Missing),
            Node::IsTrue(f) => match row.slots[*f] {
                Slot::Bool(b) => Truth::from_bool(b),
                _ => Truth::Unknown,
            },
            Node::Num { field, op, k } => match row.slots[*field] {
                Slot::Num(n) => ordered(n.partial_cmp(k), *op),
                _ => Truth::Unknown,
            },
            Node::Score { score, op, k } => ordered(self.scores[*score].partial_cmp(k), *op),
            Node::Date { field, op, k } => match row.slots[*field] {
                Slot::Date(d) => ordered(Some(d.cmp(k)), *op),
                _ => Truth::Unknown,
            },
            Node::BoolEq { field, value } => match row.slots[*field] {
                Slot::Bool(b) => Truth::from_bool(b == *value),
                _ => Truth::Unknown,
            },
            Node::EnumEq { field, value } => match row.slots[*field] {
                Slot::Enum(e) => Truth::from_bool(e == *value),
                _ => Truth::Unknown,
            },
            Node::EnumIn { field, set } => match row.slots[*field] {
                Slot::Enum(e) => Truth::from_bool(
                    set.get(e as usize / 64)
                        .is_some_and(|word| word & (1 << (e % 64)) != 0),
                ),
                _ => Truth::Unknown,
            },
            Node::SymEq { field, sym } => match row.slots[*field] {
                Slot::Text { sym: s, .. } => Truth::from_bool(s == *sym),
                _ => Truth::Unknown,
            },
            Node::SymIn { field, syms } => match row.slots[*field] {
                Slot::Text { sym, .. } => Truth::from_bool(syms.binary_search(&sym).is_ok()),
                _ => Truth::Unknown,
            },
            Node::Within {
                field,
                days,
                direction,
            } => match row.slots[*field] {
                Slot::Date(d) => Truth::from_bool(within(d, self.as_of, *days, *direction)),
                _ => Truth::Unknown,
            },
            _ => return None,
        })
    }

    #[inline(always)]
    fn kid(&mut self, program: &Program, row: &Row, id: NodeId) -> Truth {
        match self.leaf(row, &program.nodes[id as usize]) {
            Some(t) => t,
            None => self.node(program, row, id),
        }
    }

    fn node(&mut self, program: &Program, row: &Row, id: NodeId) -> Truth {
        let node = &program.nodes[id as usize];
        if let Some(t) = self.leaf(row, node) {
            return t;
        }
        match node {
            Node::Criterion(c) => {
                if let Some(t) = self.criteria[*c] {
                    return t;
                }
                // A cycle the checker reported reads as unknown, as in the
                // reference interpreter.
                self.criteria[*c] = Some(Truth::Unknown);
                let t = self.node(program, row, program.criteria[*c]);
                self.criteria[*c] = Some(t);
                t
            }
            Node::And { start, len } => Truth::and(
                program.kids[*start as usize..(start + len) as usize]
                    .iter()
                    .map(|&k| self.kid(program, row, k)),
            ),
            Node::Or { start, len } => Truth::or(
                program.kids[*start as usize..(start + len) as usize]
                    .iter()
                    .map(|&k| self.kid(program, row, k)),
            ),
            Node::Not(inner) => self.kid(program, row, *inner).negate(),
            Node::AtLeast { n, start, len } => Truth::at_least(
                *n,
                program.kids[*start as usize..(start + len) as usize]
                    .iter()
                    .map(|&k| self.kid(program, row, k)),
            ),
            _ => self.rare_node(row, id, program),
        }
    }
}

impl Machine {
    /// Node kinds that are uncommon in policies, kept out of `node` so the
    /// hot recursive function stays small.
    #[inline(never)]
    #[cold]
    fn rare_node(&self, row: &Row, id: NodeId, program: &Program) -> Truth {
        match &program.nodes[id as usize] {
            Node::Text {
                field,
                op,
                needle,
                ignore_case,
            } => match row.slots[*field] {
                Slot::Text { start, len, .. } => {
                    Truth::from_bool(text_test(row.str_at(start, len), *op, needle, *ignore_case))
                }
                _ => Truth::Unknown,
            },
            Node::ListHas {
                field,
                item,
                ignore_case,
            } => match row.slots[*field] {
                Slot::List { start, len } => {
                    Truth::from_bool(list_has(row.list_items(start, len), item, *ignore_case))
                }
                _ => Truth::Unknown,
            },
            Node::Within {
                field,
                days,
                direction,
            } => match row.slots[*field] {
                Slot::Date(d) => Truth::from_bool(within(d, self.as_of, *days, *direction)),
                _ => Truth::Unknown,
            },
            Node::Compare {
                lhs,
                op,
                rhs,
                ignore_case,
            } => compare_truth(self.term(row, lhs), *op, self.term(row, rhs), *ignore_case),
            Node::In {
                lhs,
                values,
                ignore_case,
            } => in_truth(self.term(row, lhs), values, *ignore_case),
            _ => unreachable!("`node` handles every other kind"),
        }
    }
}

#[inline]
fn ordered(ord: Option<std::cmp::Ordering>, op: CmpOp) -> Truth {
    match ord {
        Some(ord) => Truth::from_bool(op_holds(op, ord)),
        None => Truth::Unknown,
    }
}

/// A row from a lead given as typed values (tests, `--lead` JSON).
pub fn row_from_lead(program: &Program, lead: &[Option<Value>]) -> Row {
    let mut row = Row::new(lead.len());
    for (field, value) in lead.iter().enumerate() {
        if let Some(value) = value {
            row.set(field, value, |text| program.symbol(text));
        }
    }
    row
}

/// Evaluate one lead with the compiled program, as an `Outcome`.
pub fn run_lead(program: &Program, lead: &[Option<Value>], as_of: i32) -> Outcome {
    let row = row_from_lead(program, lead);
    let mut machine = Machine::new(program, as_of);
    let decision = machine.run(program, &row);
    Outcome {
        stage: decision.stage,
        rule: decision.rule,
        lowered_from: decision.lowered_from,
        scores: machine.scores.clone(),
    }
}
