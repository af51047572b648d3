//! The outcome column of a lead file: whether each lead converted. It is
//! read by the same reader as every field — added to the policy as one more
//! optional field, `bool` for `Converted` (1/0, yes/no, true/false) and
//! `string` for `Status=Won,Closed Won` — so a bad cell is a bad row with
//! its line and column, and an empty cell is a missing outcome.

use crate::check::policy::{Field, FieldId, FieldType, Policy};
use crate::eval::{Row, ValueRef};

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Outcome {
    pub column: String,
    /// The cell values that mean converted; empty for a yes/no column.
    pub values: Vec<String>,
}

impl Outcome {
    /// `Converted` or `Status=Won,Closed Won`.
    pub fn parse(text: &str) -> Result<Outcome, String> {
        let (column, values) = match text.split_once('=') {
            Some((c, v)) => (
                c.trim(),
                v.split(',')
                    .map(|s| s.trim().to_string())
                    .filter(|s| !s.is_empty())
                    .collect::<Vec<_>>(),
            ),
            None => (text.trim(), Vec::new()),
        };
        if column.is_empty() {
            return Err("needs a column: `Converted` or `Status=Won`".into());
        }
        if text.contains('=') && values.is_empty() {
            return Err(format!(
                "{text}: no value after `=`; say which values mean converted, e.g. `{column}=Won`"
            ));
        }
        Ok(Outcome {
            column: column.to_string(),
            values,
        })
    }

    /// Whether the column holds yes/no values rather than words.
    pub fn is_yes_no(&self) -> bool {
        self.values.is_empty()
    }

    /// Add the outcome to `policy` as a field; its id.
    pub fn add_to(&self, policy: &mut Policy) -> FieldId {
        policy.fields.push(Field {
            name: format!("outcome \"{}\"", self.column),
            loc: Default::default(),
            ty: if self.is_yes_no() {
                FieldType::Bool
            } else {
                FieldType::String
            },
            optional: true,
            key: false,
            column: self.column.clone(),
            missing: Vec::new(),
            true_values: Vec::new(),
            false_values: Vec::new(),
            separator: String::new(),
            default: None,
        });
        policy.fields.len() - 1
    }

    /// Whether the lead in `row` converted; `None` when its cell is empty.
    pub fn converted(&self, row: &Row, field: FieldId) -> Option<bool> {
        match row.value(field)? {
            ValueRef::Bool(b) => Some(b),
            ValueRef::Str(s) => Some(self.values.iter().any(|v| v == s.trim())),
            _ => None,
        }
    }
}
