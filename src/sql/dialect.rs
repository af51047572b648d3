//! What differs between the SQL engines Qualify targets: quoting, literal
//! escapes, type names and the handful of functions whose names or argument
//! orders are not shared. Everything else the compiler writes is SQL that all
//! five accept (CASE, COALESCE, LEAST/GREATEST, SUBSTR, LOWER, LEFT/RIGHT,
//! LENGTH, `||`).

use std::fmt;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Dialect {
    DuckDb,
    Postgres,
    Snowflake,
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
    /// their escape syntaxes differ); they are concatenated as `chr(n)`. The
    /// literal is also cut (`'{' || '{'`) between the two characters of
    /// every template delimiter — Jinja's `{{ {% {# }} %} #}` and Spark's
    /// variable substitution `${` — so that no text the policy writes can be
    /// read by a template engine, even outside a dbt raw block.
    pub fn string(self, text: &str) -> String {
        let mut parts: Vec<String> = Vec::new();
        let mut current = String::new();
        let mut previous: Option<char> = None;
        for c in text.chars() {
            if (c as u32) < 0x20 || c == '\u{7f}' {
                if !current.is_empty() {
                    parts.push(self.quote(&current));
                    current.clear();
                }
                parts.push(self.chars(&[c as u32]));
                previous = None;
            } else {
                if previous.is_some_and(|p| template_pair(p, c)) {
                    parts.push(self.quote(&current));
                    current.clear();
                }
                current.push(c);
                previous = Some(c);
            }
        }
        if !current.is_empty() || parts.is_empty() {
            parts.push(self.quote(&current));
        }
        if parts.len() == 1 {
            parts.pop().unwrap_or_default()
        } else {
            format!("({})", parts.join(" || "))
        }
    }

    /// Text for the inside of a `--` comment line: it can neither end the
    /// line nor open anything. Control characters (and the Unicode line and
    /// paragraph separators) are written as `\xNN` / `\uNNNN`, a backslash
    /// as `\\`, and a backslash is put between the two characters of every
    /// template delimiter (`{\{`, `%\}`, `$\{`) and of `/*` and `*/`, so the
    /// comment is inert in every engine, in Jinja and inside a block comment.
    pub fn comment(self, text: &str) -> String {
        let mut out = String::with_capacity(text.len());
        let mut previous: Option<char> = None;
        for c in text.chars() {
            if previous
                .is_some_and(|p| template_pair(p, c) || matches!((p, c), ('/', '*') | ('*', '/')))
            {
                out.push('\\');
            }
            match c {
                '\\' => out.push_str("\\\\"),
                c if c.is_control() || matches!(c, '\u{2028}' | '\u{2029}') => {
                    let code = c as u32;
                    if code < 0x100 {
                        out.push_str(&format!("\\x{code:02x}"));
                    } else {
                        out.push_str(&format!("\\u{code:04x}"));
                    }
                }
                c => out.push(c),
            }
            previous = Some(c);
        }
        out
    }

    /// Why a name (a column, `--keep`, `--table`, `--view`) cannot be
    /// written as an identifier, if it cannot: control characters have no
    /// quoting shared by the engines (PostgreSQL refuses NUL, BigQuery raw
    /// line breaks) and would need escaping in the header comment; in a
    /// template (`jinja`: a dbt model) a name may not hold a Jinja opening
    /// delimiter, which no identifier quoting can hide; Spark substitutes
    /// `${…}` anywhere in a query, quoted identifiers included.
    pub fn refuses_name(self, name: &str, jinja: bool) -> Option<String> {
        if let Some(c) = name.chars().find(|c| c.is_control()) {
            return Some(format!(
                "a name with a control character (U+{:04X}) cannot be quoted in every engine",
                c as u32
            ));
        }
        if jinja {
            if let Some(d) = ["{{", "{%", "{#"].iter().find(|d| name.contains(**d)) {
                return Some(format!(
                    "a name containing `{d}` would be read by Jinja in a dbt model"
                ));
            }
        }
        if self == Dialect::Spark && name.contains("${") {
            return Some(
                "Spark SQL substitutes `${…}` anywhere in a query, quoted names included".into(),
            );
        }
        None
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

    /// TRUE when a column's own type is the engine's BOOLEAN (the same for
    /// every row; a typed yes/no column, as `read_csv_auto` makes of Yes/No
    /// cells), FALSE for any other type. Each test compiles for a column of
    /// any type: a type name where the engine has one, otherwise the JSON
    /// or VARIANT form of the value, which tells `true` from `'true'`.
    pub fn is_boolean(self, column: &str) -> String {
        match self {
            Dialect::DuckDb => format!("(typeof({column}) = 'BOOLEAN')"),
            Dialect::Postgres => format!("(pg_typeof({column}) = 'boolean'::regtype)"),
            Dialect::Snowflake => format!("COALESCE(IS_BOOLEAN(TO_VARIANT({column})), FALSE)"),
            Dialect::BigQuery => {
                format!("(TO_JSON_STRING({column}) IN ('true', 'false'))")
            }
            Dialect::Spark => format!("(typeof({column}) = 'boolean')"),
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

/// `a` then `b` opens or closes a Jinja tag, expression or comment, or
/// opens a Spark variable (`${`).
fn template_pair(a: char, b: char) -> bool {
    matches!(
        (a, b),
        ('{', '{' | '%' | '#') | ('}' | '%' | '#', '}') | ('$', '{')
    )
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

    #[test]
    fn template_delimiters_are_cut_out_of_literals() {
        assert_eq!(Dialect::DuckDb.string("{{ x }}"), "('{' || '{ x }' || '}')");
        assert_eq!(
            Dialect::Snowflake.string("{% raw %}"),
            "('{' || '% raw %' || '}')"
        );
        assert_eq!(Dialect::Spark.string("${env:A}"), "('$' || '{env:A}')");
        assert_eq!(Dialect::Postgres.string("{#\n"), "('{' || '#' || CHR(10))");
        assert_eq!(Dialect::Postgres.string("{ {"), "'{ {'");
        for d in Dialect::ALL {
            let s = d.string("{{{%}}{#%}#}${");
            for delimiter in ["{{", "{%", "{#", "}}", "%}", "#}", "${"] {
                assert!(!s.contains(delimiter), "{d}: {s}");
            }
        }
    }

    #[test]
    fn comments_cannot_end_or_open_anything() {
        let d = Dialect::DuckDb;
        assert_eq!(d.comment("a\nDROP TABLE t; --"), "a\\x0aDROP TABLE t; --");
        assert_eq!(d.comment("x\r\u{2028}\u{85}\\"), "x\\x0d\\u2028\\x85\\\\");
        assert_eq!(
            d.comment("{{ a }} {% b %} {# c #}"),
            "{\\{ a }\\} {\\% b %\\} {\\# c #\\}"
        );
        assert_eq!(d.comment("/* */ ${x}"), "/\\* *\\/ $\\{x}");
        // An escape never forms a delimiter with its neighbours.
        assert_eq!(d.comment("{\u{1}}"), "{\\x01}");
    }

    #[test]
    fn names_with_control_characters_or_template_delimiters_are_refused() {
        for d in Dialect::ALL {
            assert!(d.refuses_name("a\nb", false).is_some());
            assert!(d.refuses_name("a\u{7f}", false).is_some());
            assert!(d.refuses_name("a {{ b", true).is_some());
            assert!(d.refuses_name("a {% b", true).is_some());
            assert!(d.refuses_name("a {# b", true).is_some());
            assert!(d.refuses_name("a {{ b", false).is_none());
            assert!(d.refuses_name("Lead \"ID\" ; -- }}", true).is_none());
        }
        assert!(Dialect::Spark.refuses_name("${x}", false).is_some());
        assert!(Dialect::DuckDb.refuses_name("${x}", false).is_none());
    }
}
