//! Evaluating a checked policy on one lead.
//!
//! Missing values use three-valued logic, as SQL does: a test on a missing
//! value is *unknown*; `not unknown` is unknown; `and`/`or` follow Kleene's
//! tables; `at least N of` is true when N items are true, false when even
//! the unknown ones could not make N. A rule applies, and a point line
//! counts, only when its condition is *true*. `known`/`unknown` are never
//! unknown themselves. This is the one statement of the semantics: every
//! front end (test, run, explain, the editor) goes through this module.

use crate::check::policy::*;

pub mod machine;
pub mod reference;
pub mod row;

pub use machine::Machine;
pub use reference::evaluate;
pub use row::{Row, Slot};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Truth {
    True,
    False,
    Unknown,
}

impl Truth {
    pub fn from_bool(b: bool) -> Truth {
        if b { Truth::True } else { Truth::False }
    }
    pub fn negate(self) -> Truth {
        match self {
            Truth::True => Truth::False,
            Truth::False => Truth::True,
            Truth::Unknown => Truth::Unknown,
        }
    }
    pub fn is_true(self) -> bool {
        self == Truth::True
    }

    /// Kleene `and`: false if any item is false, else unknown if any is
    /// unknown. Items are evaluated in order and only as far as needed.
    pub fn and(items: impl IntoIterator<Item = Truth>) -> Truth {
        let mut result = Truth::True;
        for item in items {
            match item {
                Truth::False => return Truth::False,
                Truth::Unknown => result = Truth::Unknown,
                Truth::True => {}
            }
        }
        result
    }

    /// Kleene `or`: true if any item is true, else unknown if any is
    /// unknown.
    pub fn or(items: impl IntoIterator<Item = Truth>) -> Truth {
        let mut result = Truth::False;
        for item in items {
            match item {
                Truth::True => return Truth::True,
                Truth::Unknown => result = Truth::Unknown,
                Truth::False => {}
            }
        }
        result
    }

    /// `at least N of`: true when N items are true, false when fewer than N
    /// can be, else unknown. Stops as soon as the answer cannot change.
    pub fn at_least<I>(n: u32, items: I) -> Truth
    where
        I: IntoIterator<Item = Truth>,
        I::IntoIter: ExactSizeIterator,
    {
        let mut items = items.into_iter();
        let (mut yes, mut maybe) = (0u32, 0u32);
        while let Some(item) = items.next() {
            match item {
                Truth::True => yes += 1,
                Truth::Unknown => maybe += 1,
                Truth::False => {}
            }
            let left = items.len() as u32;
            if yes >= n || yes + maybe + left < n {
                break;
            }
        }
        at_least(n, yes, maybe)
    }
}

/// One lead's values, indexed by `FieldId`; `None` is missing.
pub type Lead = Vec<Option<Value>>;

#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct Outcome {
    pub stage: Option<StageId>,
    /// The rule that decided, or `None` for `otherwise` / no stage.
    pub rule: Option<RuleId>,
    /// When a ceiling lowered the stage: what the lead had reached before.
    pub lowered_from: Option<Reached>,
    /// Indexed by `ScoreId`.
    pub scores: Vec<f64>,
}

/// A stage and the rule that gave it (`None`: `otherwise`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Reached {
    pub stage: StageId,
    pub rule: Option<RuleId>,
}

/// What decided a lead.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Decision {
    pub stage: Option<StageId>,
    pub rule: Option<RuleId>,
    pub lowered_from: Option<Reached>,
}

/// Which rule decides a lead. The stage is the highest among the ordinary
/// rules that hold (among rules of one stage, the earliest), or `otherwise`
/// when none does; then the lowest ceiling that holds and lies below it
/// lowers it, and that ceiling decides. A ceiling never gives a stage to a
/// lead that has none. `ordinary` is in `Policy::rules_by_precedence` order
/// and `ceilings` in `Policy::ceilings_by_precedence` order, each as
/// (rule, stage); `holds` says whether a rule's condition is true.
pub fn decide(
    ordinary: impl IntoIterator<Item = (RuleId, StageId)>,
    ceilings: impl IntoIterator<Item = (RuleId, StageId)>,
    otherwise: Option<StageId>,
    mut holds: impl FnMut(RuleId) -> bool,
) -> Decision {
    let (stage, rule) = ordinary
        .into_iter()
        .find(|&(r, _)| holds(r))
        .map_or((otherwise, None), |(r, s)| (Some(s), Some(r)));
    let Some(reached) = stage else {
        return Decision {
            stage,
            rule,
            lowered_from: None,
        };
    };
    for (ceiling, cap) in ceilings {
        if cap >= reached {
            break;
        }
        if holds(ceiling) {
            return Decision {
                stage: Some(cap),
                rule: Some(ceiling),
                lowered_from: Some(Reached {
                    stage: reached,
                    rule,
                }),
            };
        }
    }
    Decision {
        stage,
        rule,
        lowered_from: None,
    }
}

/// A borrowed value: what both evaluators compare, so that comparison has
/// one definition whether the lead came from a test (`Value`) or a file
/// (`Row`).
#[derive(Clone, Debug, PartialEq)]
pub enum ValueRef<'a> {
    Bool(bool),
    Num(f64),
    Str(&'a str),
    Enum(u32),
    Date(i32),
    List(Vec<&'a str>),
}

impl Value {
    pub fn as_ref(&self) -> ValueRef<'_> {
        match self {
            Value::Bool(b) => ValueRef::Bool(*b),
            Value::Num(n) => ValueRef::Num(*n),
            Value::Str(s) => ValueRef::Str(s),
            Value::Enum(e) => ValueRef::Enum(*e),
            Value::Date(d) => ValueRef::Date(*d),
            Value::List(items) => ValueRef::List(items.iter().map(String::as_str).collect()),
        }
    }
}

/// Compare two present values; `None` when they are not comparable.
pub fn compare_refs(a: &ValueRef, op: CmpOp, b: &ValueRef, ignore_case: bool) -> Option<bool> {
    use std::cmp::Ordering;
    let ord: Ordering = match (a, b) {
        (ValueRef::Num(x), ValueRef::Num(y)) => x.partial_cmp(y)?,
        (ValueRef::Date(x), ValueRef::Date(y)) => x.cmp(y),
        (ValueRef::Str(x), ValueRef::Str(y)) => text_cmp(x, y, ignore_case),
        (ValueRef::Enum(x), ValueRef::Enum(y)) => x.cmp(y),
        (ValueRef::Bool(x), ValueRef::Bool(y)) => x.cmp(y),
        (ValueRef::List(x), ValueRef::List(y)) => x.cmp(y),
        _ => return None,
    };
    Some(op_holds(op, ord))
}

/// A comparison in three-valued logic: unknown when a side is missing or
/// the two are not comparable.
pub fn compare_truth(
    a: Option<ValueRef>,
    op: CmpOp,
    b: Option<ValueRef>,
    ignore_case: bool,
) -> Truth {
    match (a, b) {
        (Some(a), Some(b)) => {
            compare_refs(&a, op, &b, ignore_case).map_or(Truth::Unknown, Truth::from_bool)
        }
        _ => Truth::Unknown,
    }
}

/// `in { … }`: unknown when the value is missing.
pub fn in_truth(value: Option<ValueRef>, set: &[Value], ignore_case: bool) -> Truth {
    match value {
        Some(v) => Truth::from_bool(
            set.iter()
                .any(|x| compare_refs(&v, CmpOp::Eq, &x.as_ref(), ignore_case) == Some(true)),
        ),
        None => Truth::Unknown,
    }
}

pub fn op_holds(op: CmpOp, ord: std::cmp::Ordering) -> bool {
    use std::cmp::Ordering;
    match op {
        CmpOp::Eq => ord == Ordering::Equal,
        CmpOp::Ne => ord != Ordering::Equal,
        CmpOp::Lt => ord == Ordering::Less,
        CmpOp::Le => ord != Ordering::Greater,
        CmpOp::Gt => ord == Ordering::Greater,
        CmpOp::Ge => ord != Ordering::Less,
    }
}

/// Text order; `ignoring case` compares the lowercase forms (Unicode).
pub fn text_cmp(x: &str, y: &str, ignore_case: bool) -> std::cmp::Ordering {
    if !ignore_case {
        x.cmp(y)
    } else if x.is_ascii() && y.is_ascii() {
        // Same order as comparing `to_lowercase()`, without allocating.
        x.bytes()
            .map(|b| b.to_ascii_lowercase())
            .cmp(y.bytes().map(|b| b.to_ascii_lowercase()))
    } else {
        x.to_lowercase().cmp(&y.to_lowercase())
    }
}

pub fn text_eq(x: &str, y: &str, ignore_case: bool) -> bool {
    if !ignore_case {
        x == y
    } else if x.is_ascii() && y.is_ascii() {
        x.eq_ignore_ascii_case(y)
    } else {
        x.to_lowercase() == y.to_lowercase()
    }
}

pub fn text_test(haystack: &str, op: TextOp, needle: &str, ignore_case: bool) -> bool {
    if ignore_case && haystack.is_ascii() && needle.is_ascii() {
        // ASCII lowercase is Unicode lowercase here; no allocation.
        let (h, n) = (haystack.as_bytes(), needle.as_bytes());
        return match op {
            TextOp::Contains => contains_ignore_ascii_case(h, n),
            TextOp::StartsWith => h.len() >= n.len() && h[..n.len()].eq_ignore_ascii_case(n),
            TextOp::EndsWith => {
                h.len() >= n.len() && h[h.len() - n.len()..].eq_ignore_ascii_case(n)
            }
        };
    }
    let (h, n);
    let (haystack, needle) = if ignore_case {
        h = haystack.to_lowercase();
        n = needle.to_lowercase();
        (h.as_str(), n.as_str())
    } else {
        (haystack, needle)
    };
    match op {
        TextOp::Contains => haystack.contains(needle),
        TextOp::StartsWith => haystack.starts_with(needle),
        TextOp::EndsWith => haystack.ends_with(needle),
    }
}

/// Case-insensitive ASCII substring search. Lead fields are short, so a
/// plain scan for the first letter beats a vectorised search's set-up.
fn contains_ignore_ascii_case(haystack: &[u8], needle: &[u8]) -> bool {
    let Some((&first, rest)) = needle.split_first() else {
        return true;
    };
    let first = first.to_ascii_lowercase();
    let Some(last_start) = haystack.len().checked_sub(needle.len()) else {
        return false;
    };
    (0..=last_start).any(|i| {
        haystack[i].to_ascii_lowercase() == first
            && haystack[i + 1..i + needle.len()].eq_ignore_ascii_case(rest)
    })
}

/// `contains` on a list: one of the items is the value.
pub fn list_has<'a>(
    mut items: impl Iterator<Item = &'a str>,
    value: &str,
    ignore_case: bool,
) -> bool {
    items.any(|item| text_eq(item, value, ignore_case))
}

/// The dates a `within` test accepts, both ends included, as days since
/// the epoch: `within the last N days` is `as_of - N ..= as_of`, `within the
/// next N days` is `as_of ..= as_of + N`, and `within N days` both.
pub fn within_window(as_of: i32, days: u32, direction: Direction) -> (i64, i64) {
    let (as_of, days) = (as_of as i64, days as i64);
    match direction {
        Direction::Either => (as_of - days, as_of + days),
        Direction::Last => (as_of - days, as_of),
        Direction::Next => (as_of, as_of + days),
    }
}

/// `within [the last | the next] N days` of the evaluation date.
pub fn within(date: i32, as_of: i32, days: u32, direction: Direction) -> bool {
    let (low, high) = within_window(as_of, days, direction);
    (low..=high).contains(&(date as i64))
}

/// `at least N of`, from the counts of true and unknown items.
pub fn at_least(n: u32, yes: u32, maybe: u32) -> Truth {
    if yes >= n {
        Truth::True
    } else if yes + maybe >= n {
        Truth::Unknown
    } else {
        Truth::False
    }
}

/// A score line's contribution, given whether its condition held and the
/// value of its `per` field.
pub fn line_points(line: &PointLine, holds: bool, per_value: Option<f64>) -> f64 {
    if !holds {
        return 0.0;
    }
    points_of(line.points, line.per.map(|_| per_value), line.cap)
}

/// What a line whose condition holds adds: its points — times the value of
/// its `per` field (`Some(value)`, 0 when the value is missing) — within
/// `±cap`. Both evaluators score through this.
pub fn points_of(points: f64, per: Option<Option<f64>>, cap: Option<f64>) -> f64 {
    let raw = match per {
        Some(value) => points * value.unwrap_or(0.0),
        None => points,
    };
    match cap {
        Some(cap) => raw.clamp(-cap, cap),
        None => raw,
    }
}

/// A score's total under its cap.
pub fn cap_total(cap: Option<f64>, total: f64) -> f64 {
    match cap {
        Some(cap) => total.min(cap),
        None => total,
    }
}

/// A lead from the values it sets; unset fields take their `default` or
/// are missing.
pub fn lead_from(policy: &Policy, values: impl IntoIterator<Item = (FieldId, Value)>) -> Lead {
    let mut lead: Lead = policy.fields.iter().map(|f| f.default.clone()).collect();
    for (field, value) in values {
        lead[field] = Some(value);
    }
    lead
}
