//! What differs between the SQL engines Qualify targets: quoting, literal
//! escapes, type names and the handful of functions whose names or argument
//! orders are not shared. Everything else the compiler writes is SQL that all
//! five accept (CASE, COALESCE, LEAST/GREATEST, SUBSTR, LOWER, LEFT/RIGHT,
//! LENGTH, `||`).

use std::fmt;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, clap::ValueEnum)]
pub enum Dialect {
    #[value(name = "duckdb")]
    DuckDb,
    Postgres,
    Snowflake,
    #[value(name = "bigquery")]
    BigQuery,
    Spark,
}

impl fmt::Display for Dialect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Dialect::DuckDb => "DuckDB",
            Dialect::Postgres => "PostgreSQL",
            Dialect::Snowflake => "Snowflake",
            Dialect::BigQuery => "BigQuery",
            Dialect::Spark => "Spark SQL",
        })
    }
}

impl Dialect {
    pub const ALL: [Dialect; 5] = [
        Dialect::DuckDb,
        Dialect::Postgres,
        Dialect::Snowflake,
        Dialect::BigQuery,
        Dialect::Spark,
    ];

    /// The name used on the command line and in file names.
    pub fn key(self) -> &'static str {
        match self {
            Dialect::DuckDb => "duckdb",
            Dialect::Postgres => "postgres",
            Dialect::Snowflake => "snowflake",
            Dialect::BigQuery => "bigquery",
            Dialect::Spark => "spark",
        }
    }

    /// A quoted identifier: the name exactly as written, spaces and case
    /// included.
    pub fn ident(self, name: &str) -> String {
        match self {
            Dialect::DuckDb | Dialect::Postgres | Dialect::Snowflake => {
                format!("\"{}\"", name.replace('"', "\"\""))
            }
            Dialect::BigQuery => format!("`{}`", name.replace('\\', "\\\\").replace('`', "\\`")),
            Dialect::Spark => format!("`{}`", name.replace('`', "``")),
        }
    }

    /// A possibly qualified table name (`schema.table`, `project.dataset.table`):
    /// each part quoted on its own.
    pub fn table(self, name: &str) -> String {
        name.split('.')
            .map(|part| self.ident(part))
            .collect::<Vec<_>>()
            .join(".")
    }

    /// A string literal for any text. Characters below U+0020 never appear
    /// inside the quotes (some engines reject raw newlines in literals, and
    /// their escape syntaxes differ); they are concatenated as `chr(n)`.
    pub fn string(self, text: &str) -> String {
        let mut parts: Vec<String> = Vec::new();
        let mut current = String::new();
        let mut quoted = false;
        for c in text.chars() {
            if (c as u32) < 0x20 || c == '\u{7f}' {
                if quoted || parts.is_empty() && !current.is_empty() {
                    parts.push(self.quote(&current));
                }
                current.clear();
                quoted = false;
                parts.push(self.chars(&[c as u32]));
            } else {
                current.push(c);
                quoted = true;
            }
        }
        if quoted || parts.is_empty() {
            parts.push(self.quote(&current));
        }
        if parts.len() == 1 {
            parts.pop().unwrap_or_default()
        } else {
            format!("({})", parts.join(" || "))
        }
    }

    /// Text without control characters between single quotes.
    fn quote(self, text: &str) -> String {
        let escaped = match self {
            // Standard SQL: only the quote is special (PostgreSQL with
            // standard_conforming_strings, the default since 9.1).
            Dialect::DuckDb | Dialect::Postgres => text.replace('\'', "''"),
            // These read backslash escapes inside single quotes.
            Dialect::Snowflake | Dialect::BigQuery | Dialect::Spark => {
                text.replace('\\', "\\\\").replace('\'', "\\'")
            }
        };
        format!("'{escaped}'")
    }

    /// Characters by code point.
    pub fn chars(self, codes: &[u32]) -> String {
        match self {
            Dialect::BigQuery => format!(
                "CODE_POINTS_TO_STRING([{}])",
                codes
                    .iter()
                    .map(u32::to_string)
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            _ => codes
                .iter()
                .map(|c| format!("CHR({c})"))
                .collect::<Vec<_>>()
                .join(" || "),
        }
    }

    pub fn text_type(self) -> &'static str {
        match self {
            Dialect::DuckDb | Dialect::Snowflake => "VARCHAR",
            Dialect::Postgres => "TEXT",
            Dialect::BigQuery | Dialect::Spark => "STRING",
        }
    }

    pub fn double_type(self) -> &'static str {
        match self {
            Dialect::Postgres => "DOUBLE PRECISION",
            Dialect::BigQuery => "FLOAT64",
            Dialect::DuckDb | Dialect::Snowflake | Dialect::Spark => "DOUBLE",
        }
    }

    pub fn int_type(self) -> &'static str {
        match self {
            Dialect::BigQuery => "INT64",
            _ => "INTEGER",
        }
    }

    /// `text` matches the regular expression. Patterns use only syntax common
    /// to POSIX ERE, RE2 and Java, start with `^`, and write the end of the
    /// text as `{END}` (and `{ANY}` where Snowflake, which matches the whole
    /// text, must accept any rest): Java's `$` also matches before a final line break,
    /// so Spark gets `\z`. Snowflake matches the whole text (`.` with the
    /// `s` flag crosses line breaks); the others search.
    pub fn matches(self, text: &str, pattern: &str) -> String {
        let end = if self == Dialect::Spark { "\\z" } else { "$" };
        let any = if self == Dialect::Snowflake { ".*" } else { "" };
        let pattern = self.string(&pattern.replace("{END}", end).replace("{ANY}", any));
        match self {
            Dialect::Postgres => format!("({text} ~ {pattern})"),
            Dialect::DuckDb => format!("regexp_matches({text}, {pattern})"),
            Dialect::Snowflake => format!("REGEXP_LIKE({text}, {pattern}, 's')"),
            Dialect::BigQuery => format!("REGEXP_CONTAINS({text}, {pattern})"),
            Dialect::Spark => format!("({text} RLIKE {pattern})"),
        }
    }

    /// Replace every match of a pattern with literal text (`\\` and, for
    /// Java, `$` are special in replacements, so they are escaped).
    pub fn replace_all(self, text: &str, pattern: &str, with: &str) -> String {
        let mut literal = with.replace('\\', "\\\\");
        if self == Dialect::Spark {
            literal = literal.replace('$', "\\$");
        }
        let (pattern, with) = (self.string(pattern), self.string(&literal));
        match self {
            Dialect::Postgres | Dialect::DuckDb => {
                format!("regexp_replace({text}, {pattern}, {with}, 'g')")
            }
            Dialect::Snowflake | Dialect::BigQuery | Dialect::Spark => {
                format!("REGEXP_REPLACE({text}, {pattern}, {with})")
            }
        }
    }

    /// ASCII whitespace (space, tab, LF, FF, CR) removed from both ends, as
    /// lead readers trim cells.
    pub fn trim(self, text: &str) -> String {
        let set = self.chars(&[32, 9, 10, 12, 13]);
        match self {
            Dialect::Postgres => format!("btrim({text}, {set})"),
            Dialect::Spark => format!("trim(BOTH {set} FROM {text})"),
            _ => format!("TRIM({text}, {set})"),
        }
    }

    /// 1-based position of `needle` in `haystack`, 0 when absent.
    pub fn position(self, haystack: &str, needle: &str) -> String {
        match self {
            Dialect::Postgres | Dialect::DuckDb => format!("strpos({haystack}, {needle})"),
            Dialect::BigQuery => format!("STRPOS({haystack}, {needle})"),
            Dialect::Snowflake => format!("POSITION({needle}, {haystack})"),
            Dialect::Spark => format!("instr({haystack}, {needle})"),
        }
    }

    /// Cast text that has already been checked to look like a number (the
    /// guard sits in the surrounding CASE, which evaluates lazily).
    pub fn to_double(self, text: &str) -> String {
        match self {
            // DuckDB may evaluate a CASE branch for rows that do not take it,
            // and Snowflake does not document that it never does; TRY_CAST
            // keeps that harmless.
            Dialect::DuckDb | Dialect::Snowflake => {
                format!("TRY_CAST({text} AS {})", self.double_type())
            }
            _ => format!("CAST({text} AS {})", self.double_type()),
        }
    }

    pub fn to_int(self, text: &str) -> String {
        match self {
            Dialect::DuckDb | Dialect::Snowflake => format!("TRY_CAST({text} AS INTEGER)"),
            _ => format!("CAST({text} AS {})", self.int_type()),
        }
    }

    pub fn to_date(self, text: &str) -> String {
        match self {
            Dialect::DuckDb => format!("TRY_CAST({text} AS DATE)"),
            // Independent of the session's DATE_INPUT_FORMAT.
            Dialect::Snowflake => format!("TRY_TO_DATE({text}, 'YYYY-MM-DD')"),
            _ => format!("CAST({text} AS DATE)"),
        }
    }

    pub fn date_literal(self, iso: &str) -> String {
        format!("DATE '{iso}'")
    }

    pub fn current_date(self) -> &'static str {
        match self {
            Dialect::BigQuery => "CURRENT_DATE()",
            Dialect::Spark => "current_date()",
            _ => "CURRENT_DATE",
        }
    }

    /// A date `days` after (or before, when negative) another.
    pub fn add_days(self, date: &str, days: i64) -> String {
        match self {
            Dialect::Postgres | Dialect::DuckDb => {
                if days < 0 {
                    format!("({date} - {})", -days)
                } else {
                    format!("({date} + {days})")
                }
            }
            Dialect::Snowflake => format!("DATEADD(day, {days}, {date})"),
            Dialect::BigQuery => format!("DATE_ADD({date}, INTERVAL {days} DAY)"),
            Dialect::Spark => format!("date_add({date}, {days})"),
        }
    }

    pub fn modulo(self, a: &str, b: u32) -> String {
        match self {
            Dialect::Postgres | Dialect::DuckDb | Dialect::Spark => format!("({a} % {b})"),
            Dialect::Snowflake | Dialect::BigQuery => format!("MOD({a}, {b})"),
        }
    }

    /// A construct the engine cannot hold, as the compile error's reason.
    pub fn rejects_text(self, text: &str) -> Option<&'static str> {
        match self {
            Dialect::Postgres if text.contains('\0') => {
                Some("PostgreSQL text cannot contain the NUL character")
            }
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_and_backslashes_are_escaped_per_dialect() {
        let text = r#"O'Brien \ "x""#;
        assert_eq!(Dialect::Postgres.string(text), r#"'O''Brien \ "x"'"#);
        assert_eq!(Dialect::DuckDb.string(text), r#"'O''Brien \ "x"'"#);
        assert_eq!(Dialect::Snowflake.string(text), r#"'O\'Brien \\ "x"'"#);
        assert_eq!(Dialect::BigQuery.string(text), r#"'O\'Brien \\ "x"'"#);
        assert_eq!(Dialect::Spark.string(text), r#"'O\'Brien \\ "x"'"#);
    }

    #[test]
    fn control_characters_leave_the_quotes() {
        assert_eq!(Dialect::Postgres.string("a\nb"), "('a' || CHR(10) || 'b')");
        assert_eq!(Dialect::Postgres.string("\t"), "CHR(9)");
        assert_eq!(
            Dialect::BigQuery.string("\tx"),
            "(CODE_POINTS_TO_STRING([9]) || 'x')"
        );
        assert_eq!(Dialect::Postgres.string(""), "''");
    }

    #[test]
    fn identifiers_keep_spaces_case_and_quotes() {
        assert_eq!(
            Dialect::Postgres.ident("Lead \"ID\""),
            "\"Lead \"\"ID\"\"\""
        );
        assert_eq!(Dialect::Spark.ident("a`b c"), "`a``b c`");
        assert_eq!(Dialect::BigQuery.ident("a`b"), "`a\\`b`");
        assert_eq!(Dialect::Snowflake.table("crm.Leads"), "\"crm\".\"Leads\"");
    }
}
