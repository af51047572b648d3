//! One lead as the compiled program reads it: a fixed array of slots, one
//! per field, with text kept in a per-row buffer so that reading a row
//! allocates nothing once the buffers have grown.

use super::ValueRef;
use crate::check::policy::{FieldId, Value};

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Slot {
    Missing,
    Bool(bool),
    Num(f64),
    Date(i32),
    Enum(u32),
    /// Bytes `start..start+len` of `Row::text`; `sym` is the interned id
    /// when the text equals a string constant of the policy
    /// (`compile::NO_SYMBOL` otherwise).
    Text {
        start: u32,
        len: u32,
        sym: u32,
    },
    /// Items `start..start+len` of `Row::items`.
    List {
        start: u32,
        len: u32,
    },
}

#[derive(Clone, Debug, Default)]
pub struct Row {
    pub slots: Vec<Slot>,
    pub text: String,
    /// Byte ranges into `text`, for list items.
    pub items: Vec<(u32, u32)>,
}

impl Row {
    pub fn new(fields: usize) -> Row {
        Row {
            slots: vec![Slot::Missing; fields],
            text: String::new(),
            items: Vec::new(),
        }
    }

    pub fn clear(&mut self) {
        self.slots.fill(Slot::Missing);
        self.text.clear();
        self.items.clear();
    }

    #[inline]
    pub fn str_at(&self, start: u32, len: u32) -> &str {
        &self.text[start as usize..(start + len) as usize]
    }

    pub fn push_text(&mut self, text: &str) -> (u32, u32) {
        let start = self.text.len() as u32;
        self.text.push_str(text);
        (start, text.len() as u32)
    }

    pub fn list_items(&self, start: u32, len: u32) -> impl Iterator<Item = &str> {
        self.items[start as usize..(start + len) as usize]
            .iter()
            .map(|&(s, l)| self.str_at(s, l))
    }

    /// The value of a field, borrowed; `None` when missing.
    pub fn value(&self, field: FieldId) -> Option<ValueRef<'_>> {
        Some(match self.slots[field] {
            Slot::Missing => return None,
            Slot::Bool(b) => ValueRef::Bool(b),
            Slot::Num(n) => ValueRef::Num(n),
            Slot::Date(d) => ValueRef::Date(d),
            Slot::Enum(e) => ValueRef::Enum(e),
            Slot::Text { start, len, .. } => ValueRef::Str(self.str_at(start, len)),
            Slot::List { start, len } => ValueRef::List(self.list_items(start, len).collect()),
        })
    }

    /// The value of a field, owned (explanations, JSON output).
    pub fn owned_value(&self, field: FieldId) -> Option<Value> {
        Some(match self.value(field)? {
            ValueRef::Bool(b) => Value::Bool(b),
            ValueRef::Num(n) => Value::Num(n),
            ValueRef::Str(s) => Value::Str(s.to_string()),
            ValueRef::Enum(e) => Value::Enum(e),
            ValueRef::Date(d) => Value::Date(d),
            ValueRef::List(items) => Value::List(items.iter().map(|s| s.to_string()).collect()),
        })
    }

    /// Set a field from a typed value; `symbol` interns text (see
    /// `Program::symbol`).
    pub fn set(&mut self, field: FieldId, value: &Value, symbol: impl Fn(&str) -> u32) {
        self.slots[field] = match value {
            Value::Bool(b) => Slot::Bool(*b),
            Value::Num(n) => Slot::Num(*n),
            Value::Date(d) => Slot::Date(*d),
            Value::Enum(e) => Slot::Enum(*e),
            Value::Str(s) => {
                let (start, len) = self.push_text(s);
                Slot::Text {
                    start,
                    len,
                    sym: symbol(s),
                }
            }
            Value::List(items) => {
                let start = self.items.len() as u32;
                for item in items {
                    let range = self.push_text(item);
                    self.items.push(range);
                }
                Slot::List {
                    start,
                    len: items.len() as u32,
                }
            }
        };
    }
}
