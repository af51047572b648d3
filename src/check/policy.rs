//! The checked policy: every name resolved to an index, every literal
//! converted to the type it is compared with. Everything after the checker
//! (analysis, compile, eval, SQL) reads this, never the syntax tree.

use std::path::PathBuf;

use serde::Serialize;

pub use crate::syntax::{CmpOp, Direction, Span, TextOp};

pub type FieldId = usize;
pub type StageId = usize;
pub type CriterionId = usize;
pub type ScoreId = usize;
pub type RuleId = usize;

/// Where something was written: a file of the policy and a span in it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize)]
pub struct Loc {
    pub file: u32,
    pub span: Span,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Policy {
    /// Files the policy was read from; index 0 is the policy file itself.
    pub files: Vec<PathBuf>,
    pub fields: Vec<Field>,
    /// In ascending order: index is rank.
    pub stages: Vec<Stage>,
    pub otherwise: Option<StageId>,
    pub criteria: Vec<Criterion>,
    pub scores: Vec<Score>,
    /// Every score after the scores it depends on.
    pub score_order: Vec<ScoreId>,
    /// In policy order (imported files first); see `decides_over`.
    pub rules: Vec<Rule>,
    /// Tests written in the policy file itself (not in its imports).
    pub tests: Vec<Test>,
    /// `require STAGE: CONDITION` lines, in policy order.
    pub requirements: Vec<Requirement>,
}

/// What every lead at `stage` or a higher stage must meet; the analysis
/// reports rules that let in leads which do not.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Requirement {
    pub stage: StageId,
    pub expr: Expr,
    pub loc: Loc,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub enum FieldType {
    Bool,
    Integer,
    Number,
    Money,
    String,
    Date,
    List,
    Enum(Vec<String>),
}

impl FieldType {
    pub fn describe(&self) -> &'static str {
        match self {
            FieldType::Bool => "bool",
            FieldType::Integer => "integer",
            FieldType::Number => "number",
            FieldType::Money => "money",
            FieldType::String => "string",
            FieldType::Date => "date",
            FieldType::List => "list",
            FieldType::Enum(_) => "enum",
        }
    }
    pub fn is_numeric(&self) -> bool {
        matches!(
            self,
            FieldType::Integer | FieldType::Number | FieldType::Money
        )
    }
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Field {
    pub name: String,
    pub loc: Loc,
    pub ty: FieldType,
    /// Declared `optional`: a missing value is normal and reads as missing.
    pub optional: bool,
    pub key: bool,
    /// The column (CSV header or JSON key) the value comes from.
    pub column: String,
    /// Raw values that mean "missing", besides the empty string.
    pub missing: Vec<String>,
    pub true_values: Vec<String>,
    pub false_values: Vec<String>,
    pub separator: String,
    /// What a missing value reads as; a field with a default is never missing.
    pub default: Option<Value>,
}

/// How a yes/no cell is spelt when a field names no spellings of its own
/// (compared ignoring case); the reader and every SQL dialect use these.
pub const DEFAULT_YES: &[&str] = &["true", "yes", "y", "1"];
pub const DEFAULT_NO: &[&str] = &["false", "no", "n", "0"];

impl Field {
    /// Whether a lead can reach evaluation with this field missing.
    pub fn can_be_missing(&self) -> bool {
        self.optional && self.default.is_none()
    }
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Stage {
    pub name: String,
    pub loc: Loc,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Criterion {
    pub name: String,
    pub loc: Loc,
    pub expr: Expr,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Score {
    pub name: String,
    pub loc: Loc,
    pub lines: Vec<PointLine>,
    /// The total never exceeds this.
    pub cap: Option<f64>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PointLine {
    pub points: f64,
    /// `per FIELD`: points times the field's value (0 when missing).
    pub per: Option<FieldId>,
    /// Bound on the line's contribution, in either direction.
    pub cap: Option<f64>,
    /// The line counts only when this holds (is true, not unknown).
    pub when: Option<Expr>,
    pub loc: Loc,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Rule {
    pub label: Option<String>,
    pub loc: Loc,
    pub expr: Expr,
    pub stage: StageId,
    /// Where the stage's name is written.
    pub stage_loc: Loc,
    /// `=> at most STAGE`: the rule lowers the stage of the leads it
    /// matches to `stage` (if it is higher) instead of raising it.
    pub ceiling: bool,
    pub reason: Option<String>,
    /// 1-based line in its file, for pointing at the rule.
    pub line: u32,
    /// The rule's name when it has no label: its stage and its position
    /// among the rules of that stage and kind (`SQL rule 2`, `at most MQL
    /// rule 1`). Unlike a line number it survives edits elsewhere in the
    /// file, so `run`'s rule column, backtests and diffs of two versions
    /// keep naming the same rule.
    pub positional_name: String,
}

impl Rule {
    pub fn display_name(&self) -> String {
        match &self.label {
            Some(label) => label.clone(),
            None => self.positional_name.clone(),
        }
    }
}

/// `positional_name` of the next unlabelled rule deciding `stage`.
pub fn positional_rule_name(
    rules: &[Rule],
    stage: StageId,
    stage_name: &str,
    ceiling: bool,
) -> String {
    let position = 1 + rules
        .iter()
        .filter(|r| r.stage == stage && r.ceiling == ceiling)
        .count();
    if ceiling {
        format!("at most {stage_name} rule {position}")
    } else {
        format!("{stage_name} rule {position}")
    }
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Test {
    pub name: String,
    pub loc: Loc,
    pub lead: Vec<(FieldId, Value)>,
    /// `Some(None)` is `expect no stage`.
    pub expect_stage: Option<Option<StageId>>,
    pub expect_scores: Vec<(ScoreId, f64)>,
    pub expect_rule: Option<RuleId>,
    /// Evaluation date for the test; the run's date when absent.
    pub as_of: Option<i32>,
}

/// A value of a field, a literal, or a score.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Value {
    Bool(bool),
    /// Integer, number, money and scores are compared as numbers.
    Num(f64),
    Str(String),
    /// Index into the field's enum values.
    Enum(u32),
    /// Days since 1970-01-01.
    Date(i32),
    List(Vec<String>),
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Expr {
    pub kind: ExprKind,
    pub loc: Loc,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub enum Term {
    Field(FieldId),
    Score(ScoreId),
    Const(Value),
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub enum ExprKind {
    Const(bool),
    Known(FieldId),
    Unknown(FieldId),
    BoolField(FieldId),
    Criterion(CriterionId),
    Cmp {
        lhs: Term,
        op: CmpOp,
        rhs: Term,
        ignore_case: bool,
    },
    In {
        lhs: Term,
        values: Vec<Value>,
        ignore_case: bool,
    },
    /// `contains` on a list field tests membership; otherwise substring tests.
    Text {
        field: FieldId,
        op: TextOp,
        value: String,
        ignore_case: bool,
    },
    /// The date is at most this many days from the evaluation date, on the
    /// side `direction` says (`eval::within`).
    Within {
        field: FieldId,
        days: u32,
        direction: Direction,
    },
    And(Vec<Expr>),
    Or(Vec<Expr>),
    Not(Box<Expr>),
    AtLeast {
        n: u32,
        items: Vec<Expr>,
    },
}

impl Policy {
    pub fn field_by_name(&self, name: &str) -> Option<FieldId> {
        self.fields.iter().position(|f| f.name == name)
    }
    pub fn stage_by_name(&self, name: &str) -> Option<StageId> {
        self.stages.iter().position(|s| s.name == name)
    }
    pub fn score_by_name(&self, name: &str) -> Option<ScoreId> {
        self.scores.iter().position(|s| s.name == name)
    }
    /// The ordinary rules (not ceilings) in the order they are tried: the
    /// first that matches decides (the higher stage wins; between rules of
    /// one stage, the earlier one in the policy). See `eval::decide`.
    pub fn rules_by_precedence(&self) -> Vec<RuleId> {
        let mut order: Vec<RuleId> = (0..self.rules.len())
            .filter(|&r| !self.rules[r].ceiling)
            .collect();
        order.sort_by_key(|&r| (std::cmp::Reverse(self.rules[r].stage), r));
        order
    }
    /// The ceilings, lowest stage first (then policy order): the first that
    /// matches and lies below the stage the ordinary rules gave decides.
    pub fn ceilings_by_precedence(&self) -> Vec<RuleId> {
        let mut order: Vec<RuleId> = (0..self.rules.len())
            .filter(|&r| self.rules[r].ceiling)
            .collect();
        order.sort_by_key(|&r| (self.rules[r].stage, r));
        order
    }
    pub fn path(&self, loc: Loc) -> &std::path::Path {
        &self.files[loc.file as usize]
    }
    /// Render a value for people: enum values by name, dates as ISO.
    pub fn show_value(&self, field: Option<FieldId>, value: &Value) -> String {
        match value {
            Value::Bool(b) => b.to_string(),
            Value::Num(n) => format_number(*n),
            Value::Str(s) => crate::syntax::escape(s),
            Value::Enum(i) => match field.map(|f| &self.fields[f].ty) {
                Some(FieldType::Enum(values)) => {
                    values.get(*i as usize).cloned().unwrap_or_default()
                }
                _ => format!("#{i}"),
            },
            Value::Date(d) => date_to_string(*d),
            Value::List(items) => {
                let items: Vec<String> = items.iter().map(|s| crate::syntax::escape(s)).collect();
                format!("[{}]", items.join(", "))
            }
        }
    }
}

/// Whole and below 1e15 in size. (`f64::fract` is a libm call; this is two
/// instructions, and it matters when printing millions of scores.)
#[inline]
pub fn is_whole(n: f64) -> bool {
    n.abs() < 1e15 && (n as i64) as f64 == n
}

/// Numbers print without a trailing `.0` when whole, and with at most six
/// decimals otherwise.
pub fn format_number(n: f64) -> String {
    let mut out = String::new();
    write_number(&mut out, n);
    out
}

/// `format_number` into a buffer. Whole numbers and numbers whose sixth
/// decimal is clear-cut (every score built from simple point values) skip
/// the general float formatting, which dominates writing results otherwise.
pub fn write_number(out: &mut String, n: f64) {
    use std::fmt::Write;
    if is_whole(n) {
        let _ = write!(out, "{}", n as i64);
        return;
    }
    let scaled = n.abs() * 1e6;
    let rounded = scaled.round();
    if n.is_finite() && scaled < 1e15 && (scaled - rounded).abs() < 1e-3 {
        let micros = rounded as u64;
        let (whole, mut frac) = (micros / 1_000_000, micros % 1_000_000);
        if n < 0.0 && micros != 0 {
            out.push('-');
        }
        let _ = write!(out, "{whole}");
        if frac != 0 {
            let mut digits = 6;
            while frac % 10 == 0 {
                frac /= 10;
                digits -= 1;
            }
            let _ = write!(out, ".{frac:0digits$}");
        }
        return;
    }
    let s = format!("{n:.6}");
    out.push_str(s.trim_end_matches('0').trim_end_matches('.'));
}

/// A count with thousands separators: `9,240`.
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

const UNIX_EPOCH_FROM_CE: i32 = 719_163;

pub fn date_from_ymd(text: &str) -> Option<i32> {
    use chrono::Datelike;
    let date = chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d").ok()?;
    Some(date.num_days_from_ce() - UNIX_EPOCH_FROM_CE)
}

pub fn date_to_string(days: i32) -> String {
    chrono::NaiveDate::from_num_days_from_ce_opt(days + UNIX_EPOCH_FROM_CE)
        .map(|d| d.format("%Y-%m-%d").to_string())
        .unwrap_or_else(|| format!("day {days}"))
}

pub fn today() -> i32 {
    use chrono::Datelike;
    chrono::Local::now().date_naive().num_days_from_ce() - UNIX_EPOCH_FROM_CE
}

/// `name`, or `qualify_name` (`qualify_qualify_name`, …) if `taken` has it.
pub fn unique_name(name: &str, taken: &[String]) -> String {
    let mut name = name.to_string();
    while taken.contains(&name) {
        name = format!("qualify_{name}");
    }
    name
}

/// Names of the result columns: stage, each score, rule — each prefixed
/// with `qualify_` (as often as needed) where an input column written
/// before it, or an earlier result column, has that name. `run` (CSV and
/// JSON Lines) and the SQL of every dialect name them alike.
pub fn result_column_names(policy: &Policy, input_names: &[String]) -> Vec<String> {
    let mut taken: Vec<String> = input_names.to_vec();
    let mut names = vec!["stage".to_string()];
    names.extend(policy.scores.iter().map(|s| s.name.clone()));
    names.push("rule".to_string());
    for name in &mut names {
        *name = unique_name(name, &taken);
        taken.push(name.clone());
    }
    names
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The fast path prints exactly what the general formatting prints.
    #[test]
    fn write_number_matches_general_formatting() {
        let general = |n: f64| -> String {
            if n.fract() == 0.0 && n.abs() < 1e15 {
                format!("{}", n as i64)
            } else {
                let s = format!("{n:.6}");
                s.trim_end_matches('0').trim_end_matches('.').to_string()
            }
        };
        let mut values = vec![
            0.5,
            -0.5,
            2.25,
            0.1 + 0.2,
            -7.125,
            1e-7,
            5e-7,
            123456.789,
            -0.0000004,
        ];
        for i in -2000..2000 {
            values.push(i as f64 * 0.1);
            values.push(i as f64 * 0.37);
            values.push(i as f64 / 3.0);
        }
        for n in values {
            assert_eq!(format_number(n), general(n), "{n}");
        }
    }
}
