//! The finite model of a policy that the solver searches.
//!
//! Each field's values are cut into **regions** so that every test on that
//! field alone (`size > 500`, `industry in { … }`, `title = "VP"`, `within 30
//! days`, `known`) has one truth value over each whole region: a lead is then
//! described, for all such tests at once, by one region per field. Tables of
//! those truth values are filled by running the real evaluator on one
//! representative value per region, so the model cannot drift from the
//! evaluator's semantics.
//!
//! Two kinds of test are not constant over a region and stay **open**: a text
//! test (`contains`, `starts with`, `ends with`) on a string that equals none
//! of the policy's constants, and list membership. Comparisons between two
//! fields or involving a score (**relations**) are judged on value ranges. The
//! solver decides open tests by branching on them, and a witness built from
//! such choices is only believed once the evaluator confirms it.

use rustc_hash::FxHashMap;

use crate::check::{
    CmpOp, CriterionId, Expr, ExprKind, FieldId, FieldType, Policy, ScoreId, Term, Value,
};
use crate::eval::{Truth, reference};

/// A set of truth values, as bits.
pub type TSet = u8;
pub const T: TSet = 1;
pub const F: TSet = 2;
pub const U: TSet = 4;
pub const NOT_TRUE: TSet = F | U;

pub fn tset(t: Truth) -> TSet {
    match t {
        Truth::True => T,
        Truth::False => F,
        Truth::Unknown => U,
    }
}

pub fn is_single(s: TSet) -> bool {
    s.count_ones() == 1
}

pub type NodeId = usize;
pub type AtomId = usize;

#[derive(Debug)]
pub enum Node {
    Const(bool),
    Atom(AtomId),
    Criterion(CriterionId),
    And(Vec<NodeId>),
    Or(Vec<NodeId>),
    Not(NodeId),
    AtLeast(u32, Vec<NodeId>),
}

#[derive(Debug)]
pub enum AtomKind<'p> {
    /// A test on one field: its truth over each of the field's regions.
    /// `T | F` marks a region where the test stays open.
    Unary { field: FieldId, table: Vec<TSet> },
    /// A comparison where a side is a score or both sides are fields.
    Relation {
        lhs: &'p Term,
        op: CmpOp,
        rhs: &'p Term,
        ignore_case: bool,
    },
    /// `score in { … }`.
    ScoreIn { score: ScoreId, values: &'p [Value] },
    /// A test on constants only.
    Fixed(TSet),
}

#[derive(Debug)]
pub struct Atom<'p> {
    pub expr: &'p Expr,
    pub kind: AtomKind<'p>,
    /// Every field the atom's truth depends on, scores' fields included.
    pub deps: Vec<FieldId>,
}

#[derive(Clone, Debug, PartialEq)]
pub enum RegionKind {
    Missing,
    /// One value.
    Single,
    /// Every value from `lo` to `hi` (whole numbers only when `integral`).
    Range {
        integral: bool,
    },
    /// Another spelling (letter case) of a constant compared ignoring case,
    /// equal to none of the constants exactly.
    Variant,
    /// A string equal to none of the policy's constants.
    OtherText,
    /// A present list.
    AnyList,
}

#[derive(Clone, Debug)]
pub struct Region {
    pub kind: RegionKind,
    /// A value of the region (`None` for missing), used to fill the tables.
    pub rep: Option<Value>,
    /// Numeric bounds (dates as day numbers); infinite when unbounded.
    pub lo: f64,
    pub hi: f64,
}

pub struct Model<'p> {
    pub policy: &'p Policy,
    pub as_of: i32,
    pub nodes: Vec<Node>,
    pub atoms: Vec<Atom<'p>>,
    /// Root node of each criterion.
    pub criteria: Vec<NodeId>,
    /// Node of each `when` condition, per score and line.
    pub score_when: Vec<Vec<Option<NodeId>>>,
    pub regions: Vec<Vec<Region>>,
    /// The order the solver tries a field's regions in: missing first, then
    /// from zero upwards, so witnesses read like ordinary leads.
    pub order: Vec<Vec<u16>>,
    by_expr: FxHashMap<*const Expr, NodeId>,
}

impl<'p> Model<'p> {
    pub fn new(policy: &'p Policy, as_of: i32) -> Model<'p> {
        let mut model = Model {
            policy,
            as_of,
            nodes: Vec::new(),
            atoms: Vec::new(),
            criteria: Vec::new(),
            score_when: Vec::new(),
            regions: Vec::new(),
            order: Vec::new(),
            by_expr: FxHashMap::default(),
        };
        for c in &policy.criteria {
            let id = model.add(&c.expr);
            model.criteria.push(id);
        }
        for s in &policy.scores {
            let whens = s
                .lines
                .iter()
                .map(|l| l.when.as_ref().map(|w| model.add(w)))
                .collect();
            model.score_when.push(whens);
        }
        for r in &policy.rules {
            model.add(&r.expr);
        }
        for r in &policy.requirements {
            model.add(&r.expr);
        }
        model.regions = (0..policy.fields.len())
            .map(|f| model.field_regions(f))
            .collect();
        model.order = model
            .regions
            .iter()
            .map(|regions| {
                let mut order: Vec<u16> = (0..regions.len() as u16).collect();
                order.sort_by(|&a, &b| {
                    let key = |r: &Region| match r.kind {
                        RegionKind::Missing => (0, 0.0),
                        _ if r.hi < 0.0 => (2, -r.hi),
                        _ => (1, r.lo.max(0.0)),
                    };
                    let (x, y) = (key(&regions[a as usize]), key(&regions[b as usize]));
                    x.0.cmp(&y.0).then(x.1.total_cmp(&y.1))
                });
                order
            })
            .collect();
        model.fill_tables();
        model.fill_deps();
        model
    }

    /// The node of an expression of the policy (a rule, a clause, …).
    pub fn node(&self, expr: &Expr) -> NodeId {
        self.by_expr[&(expr as *const Expr)]
    }

    fn add(&mut self, expr: &'p Expr) -> NodeId {
        let node = match &expr.kind {
            ExprKind::Const(b) => Node::Const(*b),
            ExprKind::Criterion(c) => Node::Criterion(*c),
            ExprKind::And(items) => Node::And(items.iter().map(|e| self.add(e)).collect()),
            ExprKind::Or(items) => Node::Or(items.iter().map(|e| self.add(e)).collect()),
            ExprKind::Not(inner) => Node::Not(self.add(inner)),
            ExprKind::AtLeast { n, items } => {
                Node::AtLeast(*n, items.iter().map(|e| self.add(e)).collect())
            }
            _ => {
                let kind = atom_kind(expr);
                self.atoms.push(Atom {
                    expr,
                    kind,
                    deps: Vec::new(),
                });
                Node::Atom(self.atoms.len() - 1)
            }
        };
        self.nodes.push(node);
        let id = self.nodes.len() - 1;
        self.by_expr.insert(expr as *const Expr, id);
        id
    }

    /// Cut points of a field's values: every constant it is tested against,
    /// the ends of `within` windows, and where a capped `per` line stops
    /// growing.
    fn field_regions(&self, f: FieldId) -> Vec<Region> {
        let field = &self.policy.fields[f];
        let mut regions = Vec::new();
        if field.can_be_missing() {
            regions.push(Region {
                kind: RegionKind::Missing,
                rep: None,
                lo: 0.0,
                hi: 0.0,
            });
        }
        let single = |v: Value| {
            let n = numeric(&v).unwrap_or(0.0);
            Region {
                kind: RegionKind::Single,
                rep: Some(v),
                lo: n,
                hi: n,
            }
        };
        match &field.ty {
            FieldType::Bool => {
                regions.push(single(Value::Bool(true)));
                regions.push(single(Value::Bool(false)));
            }
            FieldType::Enum(values) => {
                for i in 0..values.len() {
                    regions.push(single(Value::Enum(i as u32)));
                }
            }
            FieldType::List => regions.push(Region {
                kind: RegionKind::AnyList,
                rep: Some(Value::List(vec!["an item the policy does not name".into()])),
                lo: 0.0,
                hi: 0.0,
            }),
            FieldType::String => {
                // A constant that lead data reads as missing (blank, or in
                // the field's `missing` list) is never a value.
                let reads_missing = |t: &str| {
                    let t = t.trim();
                    t.is_empty()
                        || field
                            .missing
                            .iter()
                            .any(|m| m.trim().to_lowercase() == t.to_lowercase())
                };
                let mut texts: Vec<String> = Vec::new();
                let mut folded: Vec<String> = Vec::new();
                for (value, ignore_case) in self.constants(f) {
                    if let Value::Str(s) = value {
                        if reads_missing(s) {
                            continue;
                        }
                        if !texts.contains(s) {
                            texts.push(s.clone());
                        }
                        if ignore_case && !folded.iter().any(|x| crate::eval::text_eq(x, s, true)) {
                            folded.push(s.clone());
                        }
                    }
                }
                for t in &texts {
                    regions.push(single(Value::Str(t.clone())));
                }
                // Per constant compared ignoring case, one region for its
                // other spellings, when there is one.
                for s in folded {
                    if let Some(variant) = case_variants(&s)
                        .into_iter()
                        .find(|v| !texts.contains(v) && !reads_missing(v))
                    {
                        regions.push(Region {
                            kind: RegionKind::Variant,
                            rep: Some(Value::Str(variant)),
                            lo: 0.0,
                            hi: 0.0,
                        });
                    }
                }
                let mut other = String::from("example");
                while texts.iter().any(|t| crate::eval::text_eq(t, &other, true)) {
                    other.push('!');
                }
                regions.push(Region {
                    kind: RegionKind::OtherText,
                    rep: Some(Value::Str(other)),
                    lo: 0.0,
                    hi: 0.0,
                });
            }
            FieldType::Integer | FieldType::Number | FieldType::Money | FieldType::Date => {
                let integral = matches!(field.ty, FieldType::Integer | FieldType::Date);
                let is_date = field.ty == FieldType::Date;
                let mut points: Vec<f64> = Vec::new();
                for (value, _) in self.constants(f) {
                    if let Some(n) = numeric(value) {
                        if integral {
                            points.push(n.floor());
                            points.push(n.ceil());
                        } else {
                            points.push(n);
                        }
                    }
                }
                for atom in &self.atoms {
                    if let ExprKind::Within {
                        field,
                        days,
                        direction,
                    } = &atom.expr.kind
                    {
                        if *field == f {
                            let (low, high) =
                                crate::eval::within_window(self.as_of, *days, *direction);
                            points.push(low as f64);
                            points.push(high as f64);
                        }
                    }
                }
                for score in &self.policy.scores {
                    for line in &score.lines {
                        if line.per != Some(f) || line.points == 0.0 {
                            continue;
                        }
                        let Some(cap) = line.cap else { continue };
                        let k = cap / line.points.abs();
                        if integral && k <= 32.0 {
                            // Every value up to where the line saturates, so
                            // the line's points are exact in each region.
                            let k = k.ceil() as i64;
                            points.extend((-k..=k).map(|i| i as f64));
                        } else if integral {
                            points.extend([k.floor(), k.ceil(), -k.floor(), -k.ceil()]);
                        } else {
                            points.extend([k, -k]);
                        }
                    }
                }
                points.retain(|p| p.is_finite());
                points.sort_by(|a, b| a.total_cmp(b));
                points.dedup();
                let make = |n: f64| {
                    if is_date {
                        Value::Date(n as i32)
                    } else {
                        Value::Num(n)
                    }
                };
                let range = |lo: f64, hi: f64, rep: f64| Region {
                    kind: RegionKind::Range { integral },
                    rep: Some(make(rep)),
                    lo,
                    hi,
                };
                if points.is_empty() {
                    regions.push(range(f64::NEG_INFINITY, f64::INFINITY, 0.0));
                    return regions;
                }
                let step = if integral { 1.0 } else { 0.0 };
                let first = points[0];
                regions.push(range(f64::NEG_INFINITY, first - step, first - 1.0));
                for (i, &p) in points.iter().enumerate() {
                    regions.push(single(make(p)));
                    match points.get(i + 1) {
                        Some(&next) => {
                            let (lo, hi) = (p + step, next - step);
                            if lo <= hi && (integral || lo < hi || step == 0.0) {
                                let rep = if integral { lo } else { (p + next) / 2.0 };
                                regions.push(range(lo, hi, rep));
                            }
                        }
                        None => regions.push(range(p + step, f64::INFINITY, p + 1.0)),
                    }
                }
            }
        }
        regions
    }

    /// Constants a field is compared with, and whether ignoring case.
    fn constants(&self, f: FieldId) -> Vec<(&'p Value, bool)> {
        let mut out = Vec::new();
        for atom in &self.atoms {
            match &atom.expr.kind {
                ExprKind::Cmp {
                    lhs,
                    rhs,
                    ignore_case,
                    ..
                } => match (lhs, rhs) {
                    (Term::Field(x), Term::Const(v)) | (Term::Const(v), Term::Field(x))
                        if *x == f =>
                    {
                        out.push((v, *ignore_case))
                    }
                    _ => {}
                },
                ExprKind::In {
                    lhs: Term::Field(x),
                    values,
                    ignore_case,
                } if *x == f => out.extend(values.iter().map(|v| (v, *ignore_case))),
                _ => {}
            }
        }
        out
    }

    fn fill_tables(&mut self) {
        let policy = self.policy;
        let as_of = self.as_of;
        for atom in &mut self.atoms {
            if let AtomKind::Fixed(truth) = &mut atom.kind {
                let lead: Vec<Option<Value>> = vec![None; policy.fields.len()];
                *truth = tset(reference::truth_of(policy, &lead, as_of, atom.expr));
                continue;
            }
            let AtomKind::Unary { field, table } = &mut atom.kind else {
                continue;
            };
            let mut lead: Vec<Option<Value>> = vec![None; policy.fields.len()];
            for region in &self.regions[*field] {
                let open = matches!(atom.expr.kind, ExprKind::Text { .. })
                    && matches!(
                        region.kind,
                        RegionKind::OtherText | RegionKind::AnyList | RegionKind::Variant
                    );
                if open {
                    table.push(T | F);
                    continue;
                }
                lead[*field] = region.rep.clone();
                let truth = reference::truth_of(policy, &lead, as_of, atom.expr);
                table.push(tset(truth));
            }
        }
    }

    fn fill_deps(&mut self) {
        // Scores in dependency order, so a score's fields include those of
        // the scores its lines test.
        let mut score_deps: Vec<Vec<FieldId>> = vec![Vec::new(); self.policy.scores.len()];
        let mut criterion_deps: Vec<Option<Vec<FieldId>>> = vec![None; self.policy.criteria.len()];
        for &s in &self.policy.score_order {
            let mut deps = Vec::new();
            for (i, line) in self.policy.scores[s].lines.iter().enumerate() {
                deps.extend(line.per);
                if let Some(w) = self.score_when[s][i] {
                    self.node_deps(w, &score_deps, &mut criterion_deps, &mut deps);
                }
            }
            deps.sort_unstable();
            deps.dedup();
            score_deps[s] = deps;
        }
        for a in 0..self.atoms.len() {
            let mut deps = Vec::new();
            match &self.atoms[a].kind {
                AtomKind::Unary { field, .. } => deps.push(*field),
                AtomKind::Relation { lhs, rhs, .. } => {
                    for t in [lhs, rhs] {
                        match t {
                            Term::Field(f) => deps.push(*f),
                            Term::Score(s) => deps.extend(&score_deps[*s]),
                            Term::Const(_) => {}
                        }
                    }
                }
                AtomKind::ScoreIn { score, .. } => deps.extend(&score_deps[*score]),
                AtomKind::Fixed(_) => {}
            }
            deps.sort_unstable();
            deps.dedup();
            self.atoms[a].deps = deps;
        }
    }

    fn node_deps(
        &self,
        node: NodeId,
        score_deps: &[Vec<FieldId>],
        criterion_deps: &mut Vec<Option<Vec<FieldId>>>,
        out: &mut Vec<FieldId>,
    ) {
        match &self.nodes[node] {
            Node::Const(_) => {}
            Node::Atom(a) => match &self.atoms[*a].kind {
                AtomKind::Unary { field, .. } => out.push(*field),
                AtomKind::Relation { lhs, rhs, .. } => {
                    for t in [lhs, rhs] {
                        match t {
                            Term::Field(f) => out.push(*f),
                            Term::Score(s) => out.extend(&score_deps[*s]),
                            Term::Const(_) => {}
                        }
                    }
                }
                AtomKind::ScoreIn { score, .. } => out.extend(&score_deps[*score]),
                AtomKind::Fixed(_) => {}
            },
            Node::Criterion(c) => {
                if criterion_deps[*c].is_none() {
                    criterion_deps[*c] = Some(Vec::new()); // cut cycles the checker reported
                    let mut deps = Vec::new();
                    self.node_deps(self.criteria[*c], score_deps, criterion_deps, &mut deps);
                    criterion_deps[*c] = Some(deps);
                }
                out.extend(criterion_deps[*c].as_ref().unwrap());
            }
            Node::And(kids) | Node::Or(kids) | Node::AtLeast(_, kids) => {
                for &k in kids {
                    self.node_deps(k, score_deps, criterion_deps, out);
                }
            }
            Node::Not(k) => self.node_deps(*k, score_deps, criterion_deps, out),
        }
    }

    /// Every field a node depends on, through criteria and scores.
    pub fn fields_of(&self, node: NodeId) -> Vec<FieldId> {
        let mut out = Vec::new();
        let mut seen_criteria = vec![false; self.criteria.len()];
        self.collect_fields(node, &mut seen_criteria, &mut out);
        out.sort_unstable();
        out.dedup();
        out
    }

    fn collect_fields(&self, node: NodeId, seen: &mut [bool], out: &mut Vec<FieldId>) {
        match &self.nodes[node] {
            Node::Const(_) => {}
            Node::Atom(a) => out.extend(&self.atoms[*a].deps),
            Node::Criterion(c) => {
                if !std::mem::replace(&mut seen[*c], true) {
                    self.collect_fields(self.criteria[*c], seen, out);
                }
            }
            Node::And(kids) | Node::Or(kids) | Node::AtLeast(_, kids) => {
                for &k in kids {
                    self.collect_fields(k, seen, out);
                }
            }
            Node::Not(k) => self.collect_fields(*k, seen, out),
        }
    }
}

fn atom_kind(expr: &Expr) -> AtomKind<'_> {
    match &expr.kind {
        ExprKind::Known(f)
        | ExprKind::Unknown(f)
        | ExprKind::BoolField(f)
        | ExprKind::Text { field: f, .. }
        | ExprKind::Within { field: f, .. } => AtomKind::Unary {
            field: *f,
            table: Vec::new(),
        },
        ExprKind::Cmp {
            lhs: Term::Field(f),
            rhs: Term::Const(_),
            ..
        }
        | ExprKind::Cmp {
            lhs: Term::Const(_),
            rhs: Term::Field(f),
            ..
        }
        | ExprKind::In {
            lhs: Term::Field(f),
            ..
        } => AtomKind::Unary {
            field: *f,
            table: Vec::new(),
        },
        ExprKind::Cmp {
            lhs,
            op,
            rhs,
            ignore_case,
        } => AtomKind::Relation {
            lhs,
            op: *op,
            rhs,
            ignore_case: *ignore_case,
        },
        ExprKind::In {
            lhs: Term::Score(s),
            values,
            ..
        } => AtomKind::ScoreIn { score: *s, values },
        ExprKind::In { .. } => AtomKind::Fixed(0),
        _ => unreachable!("not an atom: {:?}", expr.kind),
    }
}

/// Other spellings of `s` that equal it ignoring case: one letter's case
/// flipped at a time, then all upper and all lower case.
fn case_variants(s: &str) -> Vec<String> {
    let chars: Vec<char> = s.chars().collect();
    let mut out = Vec::new();
    for i in 0..chars.len() {
        let c = chars[i];
        let flipped: String = if c.is_lowercase() {
            c.to_uppercase().collect()
        } else if c.is_uppercase() {
            c.to_lowercase().collect()
        } else {
            continue;
        };
        let mut v: String = chars[..i].iter().collect();
        v.push_str(&flipped);
        v.extend(&chars[i + 1..]);
        out.push(v);
    }
    out.push(s.to_uppercase());
    out.push(s.to_lowercase());
    out.retain(|v| v != s && crate::eval::text_eq(v, s, true));
    out
}

/// A number or a date as a number (days), for ranges.
pub fn numeric(v: &Value) -> Option<f64> {
    match v {
        Value::Num(n) => Some(*n),
        Value::Date(d) => Some(*d as f64),
        _ => None,
    }
}
