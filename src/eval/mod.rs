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

pub mod reference;

pub use reference::evaluate;

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
}

/// One lead's values, indexed by `FieldId`; `None` is missing.
pub type Lead = Vec<Option<Value>>;

#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct Outcome {
    pub stage: Option<StageId>,
    /// The rule that decided, or `None` for `otherwise` / no stage.
    pub rule: Option<RuleId>,
    /// Indexed by `ScoreId`.
    pub scores: Vec<f64>,
}

/// Compare two present values; `None` when they are not comparable.
pub fn compare(a: &Value, op: CmpOp, b: &Value, ignore_case: bool) -> Option<bool> {
    use std::cmp::Ordering;
    let ord: Ordering = match (a, b) {
        (Value::Num(x), Value::Num(y)) => x.partial_cmp(y)?,
        (Value::Date(x), Value::Date(y)) => x.cmp(y),
        (Value::Str(x), Value::Str(y)) => {
            if ignore_case {
                x.to_lowercase().cmp(&y.to_lowercase())
            } else {
                x.cmp(y)
            }
        }
        (Value::Enum(x), Value::Enum(y)) => x.cmp(y),
        (Value::Bool(x), Value::Bool(y)) => x.cmp(y),
        (Value::List(x), Value::List(y)) => x.cmp(y),
        _ => return None,
    };
    Some(match op {
        CmpOp::Eq => ord == Ordering::Equal,
        CmpOp::Ne => ord != Ordering::Equal,
        CmpOp::Lt => ord == Ordering::Less,
        CmpOp::Le => ord != Ordering::Greater,
        CmpOp::Gt => ord == Ordering::Greater,
        CmpOp::Ge => ord != Ordering::Less,
    })
}

pub fn text_test(haystack: &str, op: TextOp, needle: &str, ignore_case: bool) -> bool {
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

/// A score line's contribution, given whether its condition held and the
/// value of its `per` field.
pub fn line_points(line: &PointLine, holds: bool, per_value: Option<f64>) -> f64 {
    if !holds {
        return 0.0;
    }
    let raw = match line.per {
        Some(_) => line.points * per_value.unwrap_or(0.0),
        None => line.points,
    };
    match line.cap {
        Some(cap) => raw.clamp(-cap, cap),
        None => raw,
    }
}

pub fn cap_total(score: &Score, total: f64) -> f64 {
    match score.cap {
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
