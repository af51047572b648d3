//! Raw cell → field value, as `docs/language.md` ("Reading lead data")
//! states it. One `FieldReader` per field the program reads, built once per
//! file; converting a cell allocates nothing beyond the row's own buffers.

use rustc_hash::FxHashMap;

use crate::check::policy::*;
use crate::compile::Program;
use crate::eval::row::{Row, Slot};

#[derive(Clone, Debug)]
enum Kind {
    Bool {
        yes: Vec<String>,
        no: Vec<String>,
    },
    Integer,
    Number,
    Money,
    Text {
        intern: bool,
    },
    Date,
    List {
        separator: String,
    },
    Enum {
        exact: FxHashMap<Box<str>, u32>,
        folded: FxHashMap<String, u32>,
        values: Vec<String>,
    },
}

#[derive(Clone, Debug)]
pub struct FieldReader {
    pub field: FieldId,
    pub name: String,
    pub column: String,
    kind: Kind,
    missing: Vec<String>,
    default: Option<Value>,
    required: bool,
}

impl FieldReader {
    pub fn new(policy: &Policy, program: &Program, field: FieldId) -> FieldReader {
        let f = &policy.fields[field];
        let kind = match &f.ty {
            FieldType::Bool => {
                let (yes, no) = if f.true_values.is_empty() && f.false_values.is_empty() {
                    (
                        DEFAULT_YES.iter().map(|s| s.to_string()).collect(),
                        DEFAULT_NO.iter().map(|s| s.to_string()).collect(),
                    )
                } else {
                    (f.true_values.clone(), f.false_values.clone())
                };
                Kind::Bool { yes, no }
            }
            FieldType::Integer => Kind::Integer,
            FieldType::Number => Kind::Number,
            FieldType::Money => Kind::Money,
            FieldType::String => Kind::Text {
                intern: program.interned[field],
            },
            FieldType::Date => Kind::Date,
            FieldType::List => Kind::List {
                separator: f.separator.clone(),
            },
            FieldType::Enum(values) => Kind::Enum {
                exact: values
                    .iter()
                    .enumerate()
                    .map(|(i, v)| (v.as_str().into(), i as u32))
                    .collect(),
                folded: values
                    .iter()
                    .enumerate()
                    .map(|(i, v)| (v.to_lowercase(), i as u32))
                    .collect(),
                values: values.clone(),
            },
        };
        FieldReader {
            field,
            name: f.name.clone(),
            column: f.column.clone(),
            kind,
            missing: f.missing.clone(),
            default: f.default.clone(),
            required: !f.optional && f.default.is_none(),
        }
    }

    /// A missing value: the default, or an error for a required field.
    pub fn read_missing(&self, row: &mut Row, program: &Program) -> Result<(), String> {
        match &self.default {
            Some(value) => {
                row.set(self.field, value, |t| program.symbol(t));
                Ok(())
            }
            None if self.required => Err(format!(
                "`{}` needs a value: the field is neither `optional` nor has a `default`",
                self.name
            )),
            None => {
                row.slots[self.field] = Slot::Missing;
                Ok(())
            }
        }
    }

    /// Convert one raw cell (CSV text, or a JSON string) into the row.
    /// Only text needs UTF-8 validation: every other type accepts ASCII
    /// spellings alone, which the byte comparisons below enforce.
    pub fn read_text(&self, raw: &[u8], row: &mut Row, program: &Program) -> Result<(), String> {
        let trimmed = raw.trim_ascii();
        if trimmed.is_empty()
            || self
                .missing
                .iter()
                .any(|m| m.as_bytes().eq_ignore_ascii_case(trimmed))
        {
            return self.read_missing(row, program);
        }
        let shown = || String::from_utf8_lossy(trimmed);
        let slot = match &self.kind {
            Kind::Bool { yes, no } => {
                if yes
                    .iter()
                    .any(|y| y.as_bytes().eq_ignore_ascii_case(trimmed))
                {
                    Slot::Bool(true)
                } else if no
                    .iter()
                    .any(|n| n.as_bytes().eq_ignore_ascii_case(trimmed))
                {
                    Slot::Bool(false)
                } else {
                    return Err(format!(
                        "`{}` is not a yes/no value; this field reads {} as yes and {} as no",
                        shown(),
                        spellings(yes),
                        spellings(no)
                    ));
                }
            }
            Kind::Integer => match parse_number(trimmed) {
                Some(n) if n.abs() >= 1e15 || is_whole(n) => Slot::Num(n),
                Some(_) => return Err(format!("`{}` is not a whole number", shown())),
                None => return Err(format!("`{}` is not a number", shown())),
            },
            Kind::Number => match parse_number(trimmed) {
                Some(n) => Slot::Num(n),
                None => return Err(format!("`{}` is not a number", shown())),
            },
            Kind::Money => match parse_money(trimmed) {
                Some(n) => Slot::Num(n),
                None => {
                    return Err(format!(
                        "`{}` is not an amount of money (like 1200, $1,200.50)",
                        shown()
                    ));
                }
            },
            Kind::Date => match parse_date(trimmed) {
                Some(d) => Slot::Date(d),
                None => return Err(format!("`{}` is not a date as YYYY-MM-DD", shown())),
            },
            Kind::Text { intern } => {
                let text = utf8(raw)?;
                let sym = if *intern {
                    program.symbol(text)
                } else {
                    crate::compile::NO_SYMBOL
                };
                let (start, len) = row.push_text(text);
                Slot::Text { start, len, sym }
            }
            Kind::List { separator } => {
                let text = utf8(raw)?;
                let start = row.items.len() as u32;
                let mut len = 0;
                for item in text.split(separator.as_str()) {
                    let item = item.trim();
                    if !item.is_empty() {
                        let range = row.push_text(item);
                        row.items.push(range);
                        len += 1;
                    }
                }
                Slot::List { start, len }
            }
            Kind::Enum {
                exact,
                folded,
                values,
            } => match enum_index(trimmed, exact, folded, values) {
                Some(i) => Slot::Enum(i),
                None => {
                    let text = shown();
                    let suggestion =
                        crate::diagnostic::did_you_mean(&text, values.iter().map(String::as_str))
                            .map(|s| format!(" (did you mean `{s}`?)"))
                            .unwrap_or_default();
                    return Err(format!(
                        "`{text}` is not one of the values of `{}`: {}{suggestion}",
                        self.name,
                        values.join(", ")
                    ));
                }
            },
        };
        row.slots[self.field] = slot;
        Ok(())
    }

    /// Convert one JSON value into the row: `null` is missing, JSON numbers
    /// and booleans fill number and bool fields directly, strings are read
    /// as text, arrays fill list fields.
    pub fn read_json(
        &self,
        value: &serde_json::Value,
        row: &mut Row,
        program: &Program,
    ) -> Result<(), String> {
        use serde_json::Value as J;
        match (value, &self.kind) {
            (J::Null, _) => self.read_missing(row, program),
            (J::String(s), _) => self.read_text(s.as_bytes(), row, program),
            (J::Number(n), Kind::Integer | Kind::Number | Kind::Money) => {
                self.read_text(n.to_string().as_bytes(), row, program)
            }
            (J::Number(n), Kind::Text { .. } | Kind::Bool { .. }) => {
                self.read_text(n.to_string().as_bytes(), row, program)
            }
            (J::Bool(b), Kind::Bool { .. }) => {
                row.slots[self.field] = Slot::Bool(*b);
                Ok(())
            }
            (J::Array(items), Kind::List { .. }) => {
                let start = row.items.len() as u32;
                let mut len = 0;
                for item in items {
                    let text = match item {
                        J::String(s) => s.clone(),
                        J::Number(n) => n.to_string(),
                        J::Bool(b) => b.to_string(),
                        _ => return Err("a list item must be text, a number or a boolean".into()),
                    };
                    if !text.trim().is_empty() {
                        let range = row.push_text(text.trim());
                        row.items.push(range);
                        len += 1;
                    }
                }
                row.slots[self.field] = Slot::List { start, len };
                Ok(())
            }
            (other, _) => Err(format!(
                "{} does not fit {} field",
                json_kind(other),
                match self.type_name() {
                    name @ ("integer" | "enum") => format!("an {name}"),
                    name => format!("a {name}"),
                }
            )),
        }
    }

    fn type_name(&self) -> &'static str {
        match self.kind {
            Kind::Bool { .. } => "bool",
            Kind::Integer => "integer",
            Kind::Number => "number",
            Kind::Money => "money",
            Kind::Text { .. } => "string",
            Kind::Date => "date",
            Kind::List { .. } => "list",
            Kind::Enum { .. } => "enum",
        }
    }
}

fn utf8(raw: &[u8]) -> Result<&str, String> {
    std::str::from_utf8(raw).map_err(|e| {
        format!(
            "the text is not valid UTF-8 (a bad byte 0x{:02x} after {} good bytes)",
            raw[e.valid_up_to()],
            e.valid_up_to()
        )
    })
}

/// An enum value by its spelling, ignoring case. Enums are short lists, so
/// scanning beats hashing; the maps serve long lists and non-ASCII case.
fn enum_index(
    cell: &[u8],
    exact: &FxHashMap<Box<str>, u32>,
    folded: &FxHashMap<String, u32>,
    values: &[String],
) -> Option<u32> {
    if values.len() <= 16 {
        if let Some(i) = values.iter().position(|v| v.as_bytes() == cell) {
            return Some(i as u32);
        }
        if let Some(i) = values
            .iter()
            .position(|v| v.as_bytes().eq_ignore_ascii_case(cell))
        {
            return Some(i as u32);
        }
        if cell.is_ascii() {
            return None;
        }
    }
    let text = std::str::from_utf8(cell).ok()?;
    exact
        .get(text)
        .or_else(|| folded.get(&text.to_lowercase()))
        .copied()
}

fn json_kind(value: &serde_json::Value) -> &'static str {
    match value {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "a boolean",
        serde_json::Value::Number(_) => "a number",
        serde_json::Value::String(_) => "text",
        serde_json::Value::Array(_) => "an array",
        serde_json::Value::Object(_) => "an object",
    }
}

fn spellings(words: &[String]) -> String {
    words
        .iter()
        .map(|w| format!("`{w}`"))
        .collect::<Vec<_>>()
        .join("/")
}

/// A finite decimal number (`12`, `-3.5`, `1e3`); never NaN or infinity.
pub fn parse_number(bytes: &[u8]) -> Option<f64> {
    // Fast path for plain integers, the common case in lead files.
    if !bytes.is_empty() && bytes.len() <= 15 && bytes.iter().all(u8::is_ascii_digit) {
        let mut n: i64 = 0;
        for b in bytes {
            n = n * 10 + (b - b'0') as i64;
        }
        return Some(n as f64);
    }
    // `f64::from_str` also accepts `inf`, `NaN` and `infinity`: not numbers here.
    if !bytes
        .iter()
        .all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'-' | b'+' | b'e' | b'E'))
    {
        return None;
    }
    if !within_digit_limits(bytes) {
        return None;
    }
    std::str::from_utf8(bytes)
        .ok()?
        .parse::<f64>()
        .ok()
        .filter(|n| n.is_finite())
}

/// At most 200 digits before the point, 100 after it and two in the
/// exponent: every such number is finite in every engine, so the compiled
/// SQL (`sql::NUMBER`) can accept exactly what this accepts without a cast
/// ever overflowing.
fn within_digit_limits(bytes: &[u8]) -> bool {
    let (mantissa, exponent) = match bytes.iter().position(|b| matches!(b, b'e' | b'E')) {
        Some(at) => (&bytes[..at], &bytes[at + 1..]),
        None => (bytes, &b""[..]),
    };
    let mantissa = mantissa
        .strip_prefix(b"-")
        .or_else(|| mantissa.strip_prefix(b"+"))
        .unwrap_or(mantissa);
    let (whole, fraction) = match mantissa.iter().position(|&b| b == b'.') {
        Some(at) => (&mantissa[..at], &mantissa[at + 1..]),
        None => (mantissa, &b""[..]),
    };
    let exponent_digits = exponent.iter().filter(|b| b.is_ascii_digit()).count();
    whole.len() <= 200 && fraction.len() <= 100 && exponent_digits <= 2
}

/// Money: an optional sign and currency sign, digits with optional
/// thousands separators (`,` between groups of three), optional decimals.
pub fn parse_money(text: &[u8]) -> Option<f64> {
    if let Some(n) = parse_number(text) {
        return Some(n);
    }
    let text = std::str::from_utf8(text).ok()?;
    let (negative, rest) = match text.strip_prefix('-') {
        Some(rest) => (true, rest.trim_start()),
        None => (false, text),
    };
    let rest = rest
        .strip_prefix('$')
        .or_else(|| rest.strip_prefix('€'))
        .or_else(|| rest.strip_prefix('£'))
        .unwrap_or(rest)
        .trim_start();
    let (negative, rest) = match rest.strip_prefix('-') {
        Some(r) if !negative => (true, r),
        Some(_) => return None,
        None => (negative, rest),
    };
    let (whole, fraction) = match rest.split_once('.') {
        Some((w, f)) => (w, Some(f)),
        None => (rest, None),
    };
    if whole.contains(',') {
        let groups: Vec<&str> = whole.split(',').collect();
        let first_ok = (1..=3).contains(&groups[0].len());
        if !first_ok || groups[1..].iter().any(|g| g.len() != 3) {
            return None;
        }
    }
    let digits: String = whole.chars().filter(|c| *c != ',').collect();
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) || digits.len() > 200 {
        return None;
    }
    if fraction.is_some_and(|f| f.len() > 100) {
        return None;
    }
    let value = match fraction {
        Some(f) if f.is_empty() || !f.bytes().all(|b| b.is_ascii_digit()) => return None,
        Some(f) => format!("{digits}.{f}").parse::<f64>().ok()?,
        None => digits.parse::<f64>().ok()?,
    };
    Some(if negative { -value } else { value })
}

/// `YYYY-MM-DD`, optionally followed by a time (`T…` or ` …`), as CRM
/// exports write timestamps. Days since 1970-01-01.
pub fn parse_date(b: &[u8]) -> Option<i32> {
    if b.len() < 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    if b.len() > 10 && !matches!(b[10], b'T' | b' ') {
        return None;
    }
    let num = |range: std::ops::Range<usize>| -> Option<i32> {
        let mut n = 0i32;
        for &c in &b[range] {
            if !c.is_ascii_digit() {
                return None;
            }
            n = n * 10 + (c - b'0') as i32;
        }
        Some(n)
    };
    let (y, m, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    if !(1..=12).contains(&m) || d < 1 || d > days_in_month(y, m) {
        return None;
    }
    Some(days_from_civil(y, m, d))
}

fn days_in_month(y: i32, m: i32) -> i32 {
    match m {
        2 if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Howard Hinnant's `days_from_civil`.
fn days_from_civil(y: i32, m: i32, d: i32) -> i32 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_agree_with_the_policy_date_parser() {
        for text in [
            "1970-01-01",
            "2024-02-29",
            "2026-06-01",
            "1999-12-31",
            "0001-01-01",
        ] {
            assert_eq!(parse_date(text.as_bytes()), date_from_ymd(text), "{text}");
        }
        assert_eq!(
            parse_date(b"2026-06-01T10:30:00Z"),
            date_from_ymd("2026-06-01")
        );
        assert_eq!(parse_date(b"2026-06-01 10:30"), date_from_ymd("2026-06-01"));
        for bad in [
            "2023-02-29",
            "2026-13-01",
            "2026-6-1",
            "01/06/2026",
            "2026-06-01x",
        ] {
            assert_eq!(parse_date(bad.as_bytes()), None, "{bad}");
        }
    }

    #[test]
    fn numbers_and_money() {
        assert_eq!(parse_number(b"1200"), Some(1200.0));
        assert_eq!(parse_number(b"-12.5"), Some(-12.5));
        assert_eq!(parse_number(b"NaN"), None);
        assert_eq!(parse_number(b"inf"), None);
        assert_eq!(parse_number(b"12 000"), None);
        assert_eq!(parse_money("$1,200.50".as_bytes()), Some(1200.5));
        assert_eq!(parse_money("1,200".as_bytes()), Some(1200.0));
        assert_eq!(parse_money("-$40".as_bytes()), Some(-40.0));
        assert_eq!(parse_money("€ 300".as_bytes()), Some(300.0));
        assert_eq!(parse_money("1,20".as_bytes()), None);
        assert_eq!(parse_money("12a".as_bytes()), None);
        assert_eq!(parse_money("$".as_bytes()), None);
        assert_eq!(parse_number(b"1e400"), None);
        assert_eq!(parse_number(b"1e99"), Some(1e99));
        assert_eq!(parse_number("9".repeat(201).as_bytes()), None);
        assert_eq!(parse_money("9".repeat(201).as_bytes()), None);
    }
}
