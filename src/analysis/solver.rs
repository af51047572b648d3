//! Search for a lead that meets a set of goals ("rule A is true, rule B is
//! not"), over the regions of `model`.
//!
//! The search assigns one field (or one open test) at a time and evaluates
//! every goal over *sets* of truth values: a goal whose set no longer meets
//! what it allows prunes the branch. The evaluation over-approximates — a
//! value outside the set is impossible — so "no lead" is exact. A lead found
//! is built from concrete values and run through the reference evaluator
//! before it is believed; when no candidate passes, the answer is
//! `Undecided`, never a guess.

use super::model::*;
use crate::check::{CmpOp, Expr, FieldId, FieldType, ScoreId, Term, TextOp, Value};
use crate::eval::{Lead, ValueRef, at_least, compare_refs, in_truth, reference};

/// One condition and the truth values it may take.
#[derive(Clone, Copy)]
pub struct Goal<'p> {
    pub node: NodeId,
    pub expr: &'p Expr,
    pub allowed: TSet,
}

#[derive(Debug)]
pub enum Answer {
    /// A lead that meets every goal, checked by the evaluator.
    Sat(Lead),
    /// No lead meets the goals.
    Unsat,
    /// The search could not settle it: only unverifiable candidates, or the
    /// step budget ran out.
    Undecided,
}

#[derive(Clone, Copy)]
enum Var {
    /// Split a field's regions by the truth of one of its tests.
    ByAtom(FieldId, AtomId),
    /// Split a field's regions into lower and upper halves.
    Halve(FieldId),
    /// Decide an open test.
    Atom(AtomId),
}

/// A set of regions of one field, as bits.
type Regions = Vec<u64>;

fn has(set: &[u64], r: usize) -> bool {
    set[r / 64] >> (r % 64) & 1 == 1
}

fn set_bit(set: &mut [u64], r: usize) {
    set[r / 64] |= 1 << (r % 64);
}

fn meets(a: &[u64], b: &[u64]) -> bool {
    a.iter().zip(b).any(|(x, y)| x & y != 0)
}

fn count(set: &[u64]) -> u32 {
    set.iter().map(|w| w.count_ones()).sum()
}

fn members(set: &[u64]) -> impl Iterator<Item = usize> + '_ {
    set.iter().enumerate().flat_map(|(i, &w)| {
        (0..64)
            .filter(move |b| w >> b & 1 == 1)
            .map(move |b| i * 64 + b)
    })
}

/// Steps (partial assignments) one question may take before giving up.
const STEP_BUDGET: usize = 20_000;
/// Concrete leads tried per candidate assignment.
const WITNESS_BUDGET: usize = 512;

pub struct Solver<'m, 'p> {
    pub model: &'m Model<'p>,
    /// The regions each field may still be in.
    region: Vec<Regions>,
    every: Vec<Regions>,
    /// Per unary atom, the regions where it is true, false, unknown.
    masks: Vec<[Regions; 3]>,
    atom: Vec<Option<bool>>,
    memo: Vec<(u32, TSet)>,
    score_memo: Vec<(u32, f64, f64)>,
    stamp: u32,
    steps: usize,
    unsure: bool,
    /// Called now and then; the language server makes it unwind when the
    /// text changes, so a stale analysis never holds up typing.
    interrupt: &'m dyn Fn(),
}

enum Present {
    Single(Value),
    Range(f64, f64),
    Opaque,
}

/// What a term may be: possibly missing, and what it is when present
/// (`None`: never present).
struct Abstract {
    missing: bool,
    present: Option<Present>,
}

impl<'m, 'p> Solver<'m, 'p> {
    pub fn new(model: &'m Model<'p>) -> Self {
        Self::interruptible(model, &|| {})
    }

    pub fn interruptible(model: &'m Model<'p>, interrupt: &'m dyn Fn()) -> Self {
        let every: Vec<Regions> = model
            .regions
            .iter()
            .map(|rs| {
                let mut set = vec![0u64; rs.len().div_ceil(64).max(1)];
                (0..rs.len()).for_each(|r| set_bit(&mut set, r));
                set
            })
            .collect();
        let masks = model
            .atoms
            .iter()
            .map(|atom| match &atom.kind {
                AtomKind::Unary { field, table } => {
                    let words = every[*field].len();
                    let mut m = [vec![0u64; words], vec![0u64; words], vec![0u64; words]];
                    for (r, &t) in table.iter().enumerate() {
                        for (i, bit) in [T, F, U].into_iter().enumerate() {
                            if t & bit != 0 {
                                set_bit(&mut m[i], r);
                            }
                        }
                    }
                    m
                }
                _ => [Vec::new(), Vec::new(), Vec::new()],
            })
            .collect();
        Solver {
            model,
            region: every.clone(),
            every,
            masks,
            atom: vec![None; model.atoms.len()],
            memo: vec![(0, 0); model.nodes.len()],
            score_memo: vec![(0, 0.0, 0.0); model.score_when.len()],
            stamp: 0,
            steps: 0,
            unsure: false,
            interrupt,
        }
    }

    pub fn goal(&self, expr: &'p Expr, allowed: TSet) -> Goal<'p> {
        Goal {
            node: self.model.node(expr),
            expr,
            allowed,
        }
    }

    fn reset(&mut self) {
        self.region.clone_from(&self.every);
        self.atom.iter_mut().for_each(|a| *a = None);
        self.steps = 0;
        self.unsure = false;
    }

    fn next_stamp(&mut self) {
        self.stamp = self.stamp.wrapping_add(1);
        if self.stamp == 0 {
            self.memo.iter_mut().for_each(|m| m.0 = u32::MAX);
            self.score_memo.iter_mut().for_each(|m| m.0 = u32::MAX);
            self.stamp = 1;
        }
    }

    /// The truth values `node` can take when `field` is in `region` and
    /// everything else is free: a cheap filter before a full search.
    pub fn possible_with(&mut self, node: NodeId, field: FieldId, region: usize) -> TSet {
        self.reset();
        self.region[field].iter_mut().for_each(|w| *w = 0);
        set_bit(&mut self.region[field], region);
        self.next_stamp();
        self.eval(node)
    }

    /// Bounds of a score over all leads, from its point lines and caps.
    pub fn score_bounds(&mut self, s: ScoreId) -> (f64, f64) {
        self.reset();
        self.next_stamp();
        self.score_range(s)
    }

    pub fn solve(&mut self, goals: &[Goal<'p>]) -> Answer {
        self.reset();
        match self.search(goals) {
            Some(lead) => Answer::Sat(lead),
            None if self.unsure => Answer::Undecided,
            None => Answer::Unsat,
        }
    }

    fn search(&mut self, goals: &[Goal<'p>]) -> Option<Lead> {
        self.steps += 1;
        if self.steps % 256 == 1 {
            (self.interrupt)();
        }
        if self.steps > STEP_BUDGET {
            self.unsure = true;
            return None;
        }
        self.next_stamp();
        let mut open = None;
        for g in goals {
            let s = self.eval(g.node);
            if s & g.allowed == 0 {
                return None;
            }
            if open.is_none() && s & !g.allowed != 0 {
                open = Some(g.node);
            }
        }
        let Some(node) = open else {
            let lead = self.witness(goals);
            if lead.is_none() {
                self.unsure = true;
            }
            return lead;
        };
        let Some(var) = self.pick(node) else {
            self.unsure = true;
            return None;
        };
        match var {
            Var::ByAtom(f, _) | Var::Halve(f) => {
                let saved = self.region[f].clone();
                for part in self.split(var) {
                    self.region[f] = part;
                    if let Some(lead) = self.search(goals) {
                        return Some(lead);
                    }
                    if self.steps > STEP_BUDGET {
                        break;
                    }
                }
                self.region[f] = saved;
            }
            Var::Atom(a) => {
                for b in [true, false] {
                    self.atom[a] = Some(b);
                    if let Some(lead) = self.search(goals) {
                        return Some(lead);
                    }
                }
                self.atom[a] = None;
            }
        }
        None
    }

    // ------------------------------------------------------------ evaluation

    fn eval(&mut self, n: NodeId) -> TSet {
        if self.memo[n].0 == self.stamp {
            return self.memo[n].1;
        }
        let model = self.model;
        let s = match &model.nodes[n] {
            Node::Const(b) => {
                if *b {
                    T
                } else {
                    F
                }
            }
            Node::Atom(a) => self.atom(*a),
            Node::Criterion(c) => self.eval(model.criteria[*c]),
            Node::And(kids) => {
                let mut acc = T;
                for &k in kids {
                    acc = and_sets(acc, self.eval(k));
                    if acc == F {
                        break;
                    }
                }
                acc
            }
            Node::Or(kids) => {
                let mut acc = F;
                for &k in kids {
                    acc = not_set(and_sets(not_set(acc), not_set(self.eval(k))));
                    if acc == T {
                        break;
                    }
                }
                acc
            }
            Node::Not(k) => not_set(self.eval(*k)),
            Node::AtLeast(need, kids) => {
                // Which (true, unknown) counts are reachable.
                let k = kids.len();
                let width = k + 1;
                let mut reach = vec![false; width * width];
                reach[0] = true;
                for &kid in kids {
                    let s = self.eval(kid);
                    let mut next = vec![false; width * width];
                    for t in 0..width {
                        for u in 0..width {
                            if !reach[t * width + u] {
                                continue;
                            }
                            if s & T != 0 && t < k {
                                next[(t + 1) * width + u] = true;
                            }
                            if s & U != 0 && u < k {
                                next[t * width + u + 1] = true;
                            }
                            if s & F != 0 {
                                next[t * width + u] = true;
                            }
                        }
                    }
                    reach = next;
                }
                let mut out = 0;
                for t in 0..width {
                    for u in 0..width {
                        if reach[t * width + u] {
                            out |= tset(at_least(*need, t as u32, u as u32));
                        }
                    }
                }
                out
            }
        };
        self.memo[n] = (self.stamp, s);
        s
    }

    fn atom(&mut self, a: AtomId) -> TSet {
        let model = self.model;
        let s = match &model.atoms[a].kind {
            AtomKind::Fixed(t) => *t,
            AtomKind::Unary { field, .. } => {
                let allowed = &self.region[*field];
                let masks = &self.masks[a];
                let mut s = 0;
                for (i, bit) in [T, F, U].into_iter().enumerate() {
                    if meets(allowed, &masks[i]) {
                        s |= bit;
                    }
                }
                s
            }
            AtomKind::Relation {
                lhs,
                op,
                rhs,
                ignore_case,
            } => {
                let (x, y) = (self.term(lhs), self.term(rhs));
                relate(&x, *op, &y, *ignore_case)
            }
            AtomKind::ScoreIn { score, values } => {
                let (lo, hi) = self.score_range(*score);
                if lo == hi {
                    tset(in_truth(Some(ValueRef::Num(lo)), values, false))
                } else {
                    let inside = values.iter().any(|v| match v {
                        Value::Num(n) => *n >= lo && *n <= hi,
                        _ => false,
                    });
                    if inside { T | F } else { F }
                }
            }
        };
        if s == T | F {
            if let Some(b) = self.atom[a] {
                return if b { T } else { F };
            }
        }
        s
    }

    fn term(&mut self, t: &Term) -> Abstract {
        match t {
            Term::Const(v) => Abstract {
                missing: false,
                present: Some(Present::Single(v.clone())),
            },
            Term::Score(s) => {
                let (lo, hi) = self.score_range(*s);
                Abstract {
                    missing: false,
                    present: Some(if lo == hi {
                        Present::Single(Value::Num(lo))
                    } else {
                        Present::Range(lo, hi)
                    }),
                }
            }
            Term::Field(f) => {
                let regions = &self.model.regions[*f];
                {
                    {
                        let allowed: Vec<&Region> =
                            members(&self.region[*f]).map(|r| &regions[r]).collect();
                        let missing = allowed.iter().any(|r| r.kind == RegionKind::Missing);
                        let present: Vec<&Region> = allowed
                            .into_iter()
                            .filter(|r| r.kind != RegionKind::Missing)
                            .collect();
                        let numeric = matches!(
                            self.model.policy.fields[*f].ty,
                            FieldType::Integer
                                | FieldType::Number
                                | FieldType::Money
                                | FieldType::Date
                        );
                        let present = match present.as_slice() {
                            [] => None,
                            [one] => present_of(one),
                            many if numeric => Some(Present::Range(
                                many.iter().map(|r| r.lo).fold(f64::INFINITY, f64::min),
                                many.iter().map(|r| r.hi).fold(f64::NEG_INFINITY, f64::max),
                            )),
                            _ => Some(Present::Opaque),
                        };
                        Abstract { missing, present }
                    }
                }
            }
        }
    }

    /// Bounds of a score over the leads the current assignment allows.
    fn score_range(&mut self, s: ScoreId) -> (f64, f64) {
        if self.score_memo[s].0 == self.stamp {
            return (self.score_memo[s].1, self.score_memo[s].2);
        }
        let model = self.model;
        let score = &model.policy.scores[s];
        let (mut lo, mut hi) = (0.0f64, 0.0f64);
        for (i, line) in score.lines.iter().enumerate() {
            let holds = match model.score_when[s][i] {
                Some(w) => self.eval(w),
                None => T,
            };
            let (mut a, mut b) = match line.per {
                None => (line.points, line.points),
                Some(_) if line.points == 0.0 => (0.0, 0.0),
                Some(f) => {
                    let (vlo, vhi) = self.field_bounds(f);
                    let (x, y) = (line.points * vlo, line.points * vhi);
                    (x.min(y), x.max(y))
                }
            };
            if let Some(cap) = line.cap {
                a = a.clamp(-cap, cap);
                b = b.clamp(-cap, cap);
            }
            if holds == T {
                lo += a;
                hi += b;
            } else if holds & T != 0 {
                lo += a.min(0.0);
                hi += b.max(0.0);
            }
        }
        if let Some(cap) = score.cap {
            lo = lo.min(cap);
            hi = hi.min(cap);
        }
        self.score_memo[s] = (self.stamp, lo, hi);
        (lo, hi)
    }

    /// Bounds of a `per` field's value; a missing value counts as 0.
    fn field_bounds(&self, f: FieldId) -> (f64, f64) {
        let regions = &self.model.regions[f];
        let one = |r: &Region| match r.kind {
            RegionKind::Missing => (0.0, 0.0),
            _ => (r.lo, r.hi),
        };
        members(&self.region[f])
            .map(|r| one(&regions[r]))
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), (a, b)| {
                (lo.min(a), hi.max(b))
            })
    }

    // ------------------------------------------------------------ branching

    /// The first field or open test that `n`'s truth still depends on.
    fn pick(&mut self, n: NodeId) -> Option<Var> {
        if is_single(self.eval(n)) {
            return None;
        }
        let model = self.model;
        match &model.nodes[n] {
            Node::Const(_) => None,
            Node::Atom(a) => self.pick_atom(*a),
            Node::Criterion(c) => self.pick(model.criteria[*c]),
            Node::And(kids) | Node::Or(kids) | Node::AtLeast(_, kids) => {
                kids.iter().find_map(|&k| self.pick(k))
            }
            Node::Not(k) => self.pick(*k),
        }
    }

    fn pick_atom(&mut self, a: AtomId) -> Option<Var> {
        let model = self.model;
        let inner = match &model.atoms[a].kind {
            AtomKind::Fixed(_) => return None,
            AtomKind::Unary { field, .. } => {
                if count(&self.region[*field]) > 1 {
                    return Some(Var::ByAtom(*field, a));
                }
                None
            }
            AtomKind::Relation { lhs, rhs, .. } => {
                let mut found = None;
                for t in [lhs, rhs] {
                    found = match t {
                        Term::Field(f) if count(&self.region[*f]) > 1 => Some(Var::Halve(*f)),
                        Term::Score(s) => self.pick_score(*s),
                        _ => None,
                    };
                    if found.is_some() {
                        break;
                    }
                }
                found
            }
            AtomKind::ScoreIn { score, .. } => self.pick_score(*score),
        };
        inner.or_else(|| self.atom[a].is_none().then_some(Var::Atom(a)))
    }

    fn pick_score(&mut self, s: ScoreId) -> Option<Var> {
        let model = self.model;
        for (i, line) in model.policy.scores[s].lines.iter().enumerate() {
            if let Some(f) = line.per {
                if count(&self.region[f]) > 1 {
                    return Some(Var::Halve(f));
                }
            }
            if let Some(w) = model.score_when[s][i] {
                if let Some(v) = self.pick(w) {
                    return Some(v);
                }
            }
        }
        None
    }

    // ------------------------------------------------------------ witnesses

    /// A concrete lead for the current assignment that the evaluator
    /// confirms meets every goal.
    fn witness(&mut self, goals: &[Goal<'p>]) -> Option<Lead> {
        let model = self.model;
        let policy = model.policy;
        let candidates: Vec<Vec<Option<Value>>> = (0..policy.fields.len())
            .map(|f| match self.chosen_region(f) {
                Some(r) => self.candidates(f, r),
                None => {
                    let field = &policy.fields[f];
                    if field.default.is_some() {
                        vec![field.default.clone()]
                    } else if field.can_be_missing() {
                        vec![None]
                    } else {
                        let any = model.regions[f].iter().find(|r| r.rep.is_some());
                        vec![any.and_then(|r| r.rep.clone())]
                    }
                }
            })
            .collect();
        let exprs: Vec<&Expr> = goals.iter().map(|g| g.expr).collect();
        let mut index = vec![0usize; candidates.len()];
        for _ in 0..WITNESS_BUDGET {
            let lead: Lead = index
                .iter()
                .zip(&candidates)
                .map(|(&i, c)| c[i].clone())
                .collect();
            let truths = reference::truths_of(policy, &lead, model.as_of, &exprs);
            if truths
                .iter()
                .zip(goals)
                .all(|(t, g)| tset(*t) & g.allowed != 0)
            {
                return Some(lead);
            }
            // Next combination, mixed radix.
            let mut carried = true;
            for (i, c) in index.iter_mut().zip(&candidates) {
                *i += 1;
                if *i < c.len() {
                    carried = false;
                    break;
                }
                *i = 0;
            }
            if carried {
                break;
            }
        }
        None
    }

    /// The region a witness takes a field from: `None` when the search left
    /// the field entirely open (it then keeps its default, or stays missing).
    fn chosen_region(&self, f: FieldId) -> Option<usize> {
        let allowed = &self.region[f];
        if *allowed == self.every[f] && count(allowed) > 1 {
            return None;
        }
        self.model.order[f]
            .iter()
            .map(|&r| r as usize)
            .find(|&r| has(allowed, r))
    }

    /// The parts a branching variable splits a field's regions into, tried
    /// in this order.
    fn split(&self, var: Var) -> Vec<Regions> {
        let model = self.model;
        match var {
            Var::ByAtom(f, a) => {
                let AtomKind::Unary { table, .. } = &model.atoms[a].kind else {
                    unreachable!()
                };
                let words = self.every[f].len();
                let mut parts: Vec<(TSet, Regions)> = Vec::new();
                for &r in &model.order[f] {
                    let r = r as usize;
                    if !has(&self.region[f], r) {
                        continue;
                    }
                    let t = table[r];
                    match parts.iter_mut().find(|(pt, _)| *pt == t) {
                        Some((_, set)) => set_bit(set, r),
                        None => {
                            let mut set = vec![0u64; words];
                            set_bit(&mut set, r);
                            parts.push((t, set));
                        }
                    }
                }
                parts.into_iter().map(|(_, set)| set).collect()
            }
            Var::Halve(f) => {
                let all: Vec<usize> = members(&self.region[f]).collect();
                let words = self.every[f].len();
                let (low, high) = all.split_at(all.len() / 2);
                [low, high]
                    .into_iter()
                    .map(|half| {
                        let mut set = vec![0u64; words];
                        half.iter().for_each(|&r| set_bit(&mut set, r));
                        set
                    })
                    .collect()
            }
            Var::Atom(_) => Vec::new(),
        }
    }

    /// Concrete values to try for a field in a region.
    fn candidates(&self, f: FieldId, r: usize) -> Vec<Option<Value>> {
        let model = self.model;
        let region = &model.regions[f][r];
        match &region.kind {
            RegionKind::Missing => vec![None],
            RegionKind::Single | RegionKind::Variant => vec![region.rep.clone()],
            RegionKind::Range { integral } => {
                let is_date = model.policy.fields[f].ty == FieldType::Date;
                numbers_in(region.lo, region.hi, *integral)
                    .into_iter()
                    .map(|n| {
                        Some(if is_date {
                            Value::Date(n as i32)
                        } else {
                            Value::Num(n)
                        })
                    })
                    .collect()
            }
            RegionKind::OtherText | RegionKind::AnyList => {
                // Build the value from the open tests the search chose true.
                let (mut starts, mut middle, mut ends) = (String::new(), Vec::new(), String::new());
                for (a, atom) in model.atoms.iter().enumerate() {
                    if self.atom[a] != Some(true) {
                        continue;
                    }
                    if let crate::check::ExprKind::Text {
                        field, op, value, ..
                    } = &atom.expr.kind
                    {
                        if *field != f {
                            continue;
                        }
                        match op {
                            TextOp::StartsWith if starts.len() < value.len() => {
                                starts = value.clone()
                            }
                            TextOp::EndsWith if ends.len() < value.len() => ends = value.clone(),
                            TextOp::Contains => middle.push(value.clone()),
                            _ => {}
                        }
                    }
                }
                if region.kind == RegionKind::AnyList {
                    if middle.is_empty() {
                        return vec![region.rep.clone()];
                    }
                    let mut with_other = middle.clone();
                    with_other.push("an item the policy does not name".into());
                    return vec![Some(Value::List(middle)), Some(Value::List(with_other))];
                }
                let Some(Value::Str(other)) = &region.rep else {
                    return vec![region.rep.clone()];
                };
                if starts.is_empty() && middle.is_empty() && ends.is_empty() {
                    return vec![region.rep.clone()];
                }
                let joined = middle.join(" ");
                vec![
                    Some(Value::Str(format!("{starts}{joined}{ends}"))),
                    Some(Value::Str(format!("{starts} {joined} {ends}"))),
                    Some(Value::Str(format!("{starts}{other} {joined}{ends}"))),
                ]
            }
        }
    }
}

fn present_of(region: &Region) -> Option<Present> {
    match region.kind {
        RegionKind::Missing => None,
        RegionKind::Single => region.rep.clone().map(Present::Single),
        RegionKind::Range { .. } => Some(Present::Range(region.lo, region.hi)),
        RegionKind::OtherText | RegionKind::AnyList | RegionKind::Variant => Some(Present::Opaque),
    }
}

/// A few numbers of `[lo, hi]` worth trying: its ends and middle, or
/// growing steps away from a finite end.
fn numbers_in(lo: f64, hi: f64, integral: bool) -> Vec<f64> {
    let mut out: Vec<f64> = Vec::new();
    let steps = [1.0, 10.0, 1000.0, 100_000.0];
    match (lo.is_finite(), hi.is_finite()) {
        (true, true) => {
            if integral {
                out.extend([lo, hi, lo + 1.0, hi - 1.0, ((lo + hi) / 2.0).floor()]);
            } else {
                let w = hi - lo;
                out.extend([lo + w / 2.0, lo + w / 4.0, hi - w / 4.0]);
            }
        }
        (true, false) => {
            if integral {
                out.push(lo);
            }
            out.extend(steps.iter().map(|s| lo + s));
        }
        (false, true) => {
            if integral {
                out.push(hi);
            }
            out.extend(steps.iter().map(|s| hi - s));
        }
        (false, false) => out.extend([0.0, 1.0, -1.0, 10.0, 1000.0, -1000.0, 100_000.0]),
    }
    out.retain(|n| *n >= lo && *n <= hi && (!integral || n.fract() == 0.0));
    out.dedup();
    out
}

fn and_sets(a: TSet, b: TSet) -> TSet {
    let mut out = 0;
    if a & F != 0 || b & F != 0 {
        out |= F;
    }
    if a & T != 0 && b & T != 0 {
        out |= T;
    }
    // Unknown: neither false, at least one unknown.
    if (a & U != 0 && b & (T | U) != 0) || (b & U != 0 && a & (T | U) != 0) {
        out |= U;
    }
    out
}

fn not_set(a: TSet) -> TSet {
    let mut out = a & U;
    if a & T != 0 {
        out |= F;
    }
    if a & F != 0 {
        out |= T;
    }
    out
}

/// The truth values of `x op y` given what each side may be.
fn relate(x: &Abstract, op: CmpOp, y: &Abstract, ignore_case: bool) -> TSet {
    let mut out = 0;
    if x.missing || y.missing {
        out |= U;
    }
    let (Some(a), Some(b)) = (&x.present, &y.present) else {
        return out;
    };
    if let (Present::Single(a), Present::Single(b)) = (a, b) {
        return out
            | match compare_refs(&a.as_ref(), op, &b.as_ref(), ignore_case) {
                Some(true) => T,
                Some(false) => F,
                None => U,
            };
    }
    let range = |p: &Present| match p {
        Present::Single(v) => numeric(v).map(|n| (n, n)),
        Present::Range(lo, hi) => Some((*lo, *hi)),
        Present::Opaque => None,
    };
    let (Some((a1, a2)), Some((b1, b2))) = (range(a), range(b)) else {
        return out | T | F;
    };
    let (can_true, can_false) = match op {
        CmpOp::Lt => (a1 < b2, a2 >= b1),
        CmpOp::Le => (a1 <= b2, a2 > b1),
        CmpOp::Gt => (a2 > b1, a1 <= b2),
        CmpOp::Ge => (a2 >= b1, a1 < b2),
        CmpOp::Eq | CmpOp::Ne => {
            let meet = a1 <= b2 && b1 <= a2;
            let differ = !(a1 == a2 && b1 == b2 && a1 == b1);
            if op == CmpOp::Eq {
                (meet, differ)
            } else {
                (differ, meet)
            }
        }
    };
    if can_true {
        out |= T;
    }
    if can_false {
        out |= F;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kleene_sets_match_the_truth_tables() {
        use crate::eval::Truth::*;
        let all = [True, False, Unknown];
        let and = |a, b| match (a, b) {
            (False, _) | (_, False) => False,
            (True, True) => True,
            _ => Unknown,
        };
        for a in all {
            for b in all {
                assert_eq!(
                    and_sets(tset(a), tset(b)),
                    tset(and(a, b)),
                    "{a:?} and {b:?}"
                );
                assert_eq!(not_set(tset(a)), tset(a.negate()));
            }
        }
        assert_eq!(and_sets(T | F, T), T | F);
        assert_eq!(and_sets(T | U, F), F);
    }

    #[test]
    fn numbers_in_stays_inside() {
        for (lo, hi, integral) in [
            (f64::NEG_INFINITY, 4.0, true),
            (5.0, f64::INFINITY, false),
            (2.0, 3.0, true),
            (2.0, 3.0, false),
            (f64::NEG_INFINITY, f64::INFINITY, true),
        ] {
            let ns = numbers_in(lo, hi, integral);
            assert!(!ns.is_empty());
            assert!(ns.iter().all(|n| *n >= lo && *n <= hi));
        }
    }
}
