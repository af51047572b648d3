//! Checked policy → one SQL query that a warehouse runs over its own lead
//! table, with the native evaluator's semantics.
//!
//! The query is a chain of CTEs, one concern each:
//!
//! 1. `qualify_cells`: every column the policy reads, as text (so typed
//!    warehouse columns work too), trimmed, with the schema's placeholders
//!    (`missing "Select"`, empty text) turned into NULL. Typed columns: the
//!    engine's text for a number or a date is one `leads::convert` reads
//!    alike (shortest round-trip numbers, ISO dates and timestamps in every
//!    engine's default settings; any other form is a `qualify_error`, never
//!    a guess); a BOOLEAN column read by a `bool` field is flagged (`n{f}`,
//!    `Dialect::is_boolean`) and taken as it stands, whatever the field's
//!    spellings, as `qualify run` takes a JSON `true`;
//! 2. `qualify_typed`: each cell converted as `leads::convert` converts it —
//!    yes/no spellings, numbers and money, dates, enum values ignoring case,
//!    lists normalised — or the field's default; a cell that does not convert
//!    (or a required field with no value) sets `qualify_error`, so a bad row
//!    is reported, never dropped and never silently given a stage;
//! 3. `qualify_layer_N`: criteria and scores, each as a column, a layer per
//!    depth of dependency (SQL cannot use a column in the SELECT that names it);
//! 4. `qualify_decided`: which rule decides, as `eval::decide` says — the
//!    first ordinary rule in precedence order whose condition is TRUE (or
//!    `otherwise`); with ceilings, that position is `qualify_reached`, and the
//!    first ceiling (lowest first) below the stage reached whose condition is
//!    TRUE takes over;
//! 5. the final SELECT: the key column(s), the deciding rule's stage and
//!    name, and every score.
//!
//! Missing values are SQL NULLs, so SQL's three-valued AND/OR/NOT are
//! exactly `eval`'s Kleene tables, and `CASE WHEN c` takes a branch only when
//! `c` is TRUE, as a rule applies and a point line counts only when its
//! condition is true. The differential tests (`tests/sql.rs`) hold this file
//! to `qualify run` in DuckDB and PostgreSQL, on text and on typed columns
//! (`tests/sql/typed.rs`).
//!
//! No text reaches the query unescaped: values through `Dialect::string`
//! (which also cuts every Jinja and Spark template delimiter out of the
//! literal), names through `Dialect::ident` after `Dialect::refuses_name`
//! (control characters, and Jinja delimiters in a dbt model, are refused),
//! and the CLI's header through `Dialect::comment`. `tests/sql/adversarial.rs`
//! holds this to an adversarial corpus in DuckDB, PostgreSQL and jinja2.

pub mod dialect;

use std::collections::HashMap;
use std::fmt::Write;

pub use dialect::Dialect;

use crate::check::policy::*;
use crate::compile::Program;

/// 0000-01-01 and 9999-12-31, the first and last dates lead data can hold
/// (days since 1970-01-01).
const FIRST_LEAD_DATE: i64 = -719_528;
const LAST_LEAD_DATE: i64 = 2_932_896;

/// The evaluation date for `within N days`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AsOf {
    /// Fixed when compiling (days since 1970-01-01).
    Date(i32),
    /// The engine's current date when the query runs.
    Now,
}

#[derive(Clone, Debug)]
pub struct Options {
    pub dialect: Dialect,
    /// Where the leads are read from.
    pub source: Source,
    pub as_of: AsOf,
    /// Source columns copied to the output before the results.
    pub keep: Vec<String>,
    /// The query goes into a Jinja template (a dbt model): names holding a
    /// Jinja delimiter are refused (string literals never hold one: see
    /// `Dialect::string`).
    pub jinja: bool,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Source {
    /// A table or view, possibly qualified (`crm.leads`); each part is quoted.
    Table(String),
    /// SQL written as is after FROM (a dbt `{{ ref('leads') }}`).
    Raw(String),
}

/// A construct the target cannot express: the query is refused rather than
/// written wrong.
#[derive(Clone, Debug, PartialEq)]
pub struct Unsupported {
    pub dialect: Dialect,
    pub construct: String,
    pub reason: String,
    pub loc: Option<Loc>,
}

impl std::fmt::Display for Unsupported {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} cannot be compiled to {} SQL: {}",
            self.construct, self.dialect, self.reason
        )
    }
}

/// Result columns in order: key columns and kept columns (by source column
/// name), `stage`, one per score, `rule` (renamed as `run` renames them
/// when a key or kept column has their name), `qualify_error`.
pub fn result_columns(policy: &Policy, options: &Options) -> Vec<String> {
    let mut names: Vec<String> = key_fields(policy)
        .map(|f| policy.fields[f].column.clone())
        .collect();
    names.extend(options.keep.iter().cloned());
    let results = result_column_names(policy, &names);
    names.extend(results);
    let error = unique_name(ERROR_COLUMN, &names);
    names.push(error);
    names
}

pub const ERROR_COLUMN: &str = "qualify_error";

fn key_fields(policy: &Policy) -> impl Iterator<Item = FieldId> + '_ {
    (0..policy.fields.len()).filter(|&f| policy.fields[f].key)
}

/// The query, without a trailing semicolon.
pub fn compile(policy: &Policy, options: &Options) -> Result<String, Unsupported> {
    let program = Program::compile(policy);
    let mut c = Compiler {
        policy,
        d: options.dialect,
        as_of: options.as_of,
        layer_of: HashMap::new(),
    };
    check_names(policy, &program, options)?;
    c.check_texts()?;
    let d = c.d;
    let read: Vec<FieldId> = (0..policy.fields.len())
        .filter(|&f| program.reads[f])
        .collect();

    let mut sql = String::new();
    let _ = writeln!(sql, "WITH");

    // 1. cells: raw text (r), trimmed (t).
    let mut cols = Vec::new();
    for &f in &read {
        let raw = format!(
            "CAST({} AS {})",
            d.ident(&policy.fields[f].column),
            d.text_type()
        );
        cols.push(format!("{raw} AS r{f}"));
        cols.push(format!("{} AS t{f}", d.trim(&raw)));
        if policy.fields[f].ty == FieldType::Bool {
            cols.push(format!(
                "{} AS n{f}",
                d.is_boolean(&d.ident(&policy.fields[f].column))
            ));
        }
    }
    for (i, column) in options.keep.iter().enumerate() {
        cols.push(format!(
            "CAST({} AS {}) AS p{i}",
            d.ident(column),
            d.text_type()
        ));
    }
    cols.push("1 AS qualify_one".to_string());
    let _ = writeln!(
        sql,
        "qualify_raw AS (\n  SELECT\n    {}\n  FROM {}\n),",
        cols.join(",\n    "),
        match &options.source {
            Source::Table(name) => d.table(name),
            Source::Raw(sql) => sql.clone(),
        }
    );

    // 2. values: NULL when missing, raw text for text fields.
    let mut cols = Vec::new();
    for &f in &read {
        let field = &policy.fields[f];
        let t = format!("t{f}");
        let mut missing = vec![format!("{t} = ''")];
        if !field.missing.is_empty() {
            let spellings: Vec<String> = field
                .missing
                .iter()
                .map(|m| d.string(&m.to_lowercase()))
                .collect();
            missing.push(format!("LOWER({t}) IN ({})", spellings.join(", ")));
        }
        let value = match field.ty {
            FieldType::String | FieldType::List => format!("r{f}"),
            _ => t.clone(),
        };
        // A typed boolean is a value as it stands, as a JSON boolean is to
        // `qualify run`: no placeholder applies to it.
        let native = if field.ty == FieldType::Bool {
            format!(" WHEN n{f} THEN {t}")
        } else {
            String::new()
        };
        cols.push(format!(
            "CASE{native} WHEN {} THEN NULL ELSE {value} END AS v{f}",
            missing.join(" OR ")
        ));
        if field.ty == FieldType::Bool {
            cols.push(format!("n{f}"));
        }
    }
    for &f in &read {
        if policy.fields[f].key {
            cols.push(format!("r{f}"));
        }
    }
    for i in 0..options.keep.len() {
        cols.push(format!("p{i}"));
    }
    cols.push("qualify_one".into());
    let _ = writeln!(
        sql,
        "qualify_cells AS (\n  SELECT\n    {}\n  FROM qualify_raw\n),",
        cols.join(",\n    ")
    );

    // 3. typed values and the first conversion error.
    let mut cols = Vec::new();
    let mut errors = Vec::new();
    for &f in &read {
        let (value, error) = c.convert(f);
        cols.push(format!("{value} AS x{f}"));
        errors.push(error);
    }
    for &f in &read {
        if policy.fields[f].key {
            cols.push(format!("r{f}"));
        }
    }
    for i in 0..options.keep.len() {
        cols.push(format!("p{i}"));
    }
    let error = match errors.len() {
        0 => format!("CAST(NULL AS {})", d.text_type()),
        1 => errors.remove(0),
        _ => format!("COALESCE(\n      {}\n    )", errors.join(",\n      ")),
    };
    cols.push(format!("{error} AS {ERROR_COLUMN}"));
    let _ = writeln!(
        sql,
        "qualify_typed AS (\n  SELECT\n    {}\n  FROM qualify_cells\n),",
        cols.join(",\n    ")
    );

    // 4. criteria and scores, layered by dependency.
    c.assign_layers();
    let layers = c.layer_of.values().copied().max().unwrap_or(0);
    let mut previous = "qualify_typed".to_string();
    for layer in 1..=layers {
        let mut cols = vec![format!("{previous}.*")];
        for (i, criterion) in policy.criteria.iter().enumerate() {
            if c.layer_of.get(&Node::Criterion(i)) == Some(&layer) {
                cols.push(format!("{} AS c{i}", c.cond(&criterion.expr)?));
            }
        }
        for &s in &policy.score_order {
            if c.layer_of.get(&Node::Score(s)) == Some(&layer) {
                cols.push(format!("{} AS s{s}", c.score(&policy.scores[s])?));
            }
        }
        let name = format!("qualify_layer_{layer}");
        let _ = writeln!(
            sql,
            "{name} AS (\n  SELECT\n    {}\n  FROM {previous}\n),",
            cols.join(",\n    ")
        );
        previous = name;
    }

    // 5. which rule decides: its position in `deciders`, from 1 (0:
    // `otherwise` or no stage; NULL: a bad row).
    let order = policy.rules_by_precedence();
    let ceilings = policy.ceilings_by_precedence();
    let deciders: Vec<RuleId> = order.iter().chain(&ceilings).copied().collect();
    // Without ceilings the first ordinary rule that holds decides; with
    // them, it gives the stage reached (`qualify_reached`), which a ceiling
    // may lower.
    let (first, column) = if ceilings.is_empty() {
        ("qualify_decided", "qualify_rule")
    } else {
        ("qualify_ordinary", "qualify_reached")
    };
    let mut reached = format!("CASE\n      WHEN {ERROR_COLUMN} IS NOT NULL THEN NULL");
    for (i, &r) in order.iter().enumerate() {
        let _ = write!(
            reached,
            "\n      WHEN {} THEN {}",
            c.cond(&policy.rules[r].expr)?,
            i + 1
        );
    }
    reached.push_str("\n      ELSE 0\n    END");
    let _ = write!(
        sql,
        "{first} AS (\n  SELECT\n    {previous}.*,\n    {reached} AS {column}\n  FROM {previous}\n)"
    );
    if !ceilings.is_empty() {
        let _ = writeln!(
            sql,
            ",\nqualify_decided AS (\n  SELECT\n    {first}.*,\n    {} AS qualify_rule\n  FROM {first}\n)",
            c.capped(column, &order, &ceilings)?
        );
    } else {
        sql.push('\n');
    }

    // 6. results.
    let names = result_columns(policy, options);
    let inputs = names.len() - policy.scores.len() - 3;
    let (stage_name, score_names, rule_name, error_name) = (
        &names[inputs],
        &names[inputs + 1..inputs + 1 + policy.scores.len()],
        &names[names.len() - 2],
        &names[names.len() - 1],
    );
    let mut cols = Vec::new();
    for f in key_fields(policy) {
        cols.push(format!("r{f} AS {}", d.ident(&policy.fields[f].column)));
    }
    for (i, column) in options.keep.iter().enumerate() {
        cols.push(format!("p{i} AS {}", d.ident(column)));
    }
    let mut stage = "CASE qualify_rule".to_string();
    let mut rule = "CASE qualify_rule".to_string();
    for (i, &r) in deciders.iter().enumerate() {
        let _ = write!(
            stage,
            " WHEN {} THEN {}",
            i + 1,
            d.string(&policy.stages[policy.rules[r].stage].name)
        );
        let _ = write!(
            rule,
            " WHEN {} THEN {}",
            i + 1,
            d.string(&policy.rules[r].display_name())
        );
    }
    match policy.otherwise {
        Some(s) => {
            let _ = write!(stage, " WHEN 0 THEN {}", d.string(&policy.stages[s].name));
        }
        None if deciders.is_empty() => stage.push_str(" WHEN 0 THEN NULL"),
        None => {}
    }
    if deciders.is_empty() {
        rule.push_str(" WHEN 0 THEN NULL");
    }
    stage.push_str(" END");
    rule.push_str(" END");
    cols.push(format!("{stage} AS {}", d.ident(stage_name)));
    for (s, name) in score_names.iter().enumerate() {
        cols.push(format!(
            "CASE WHEN {ERROR_COLUMN} IS NULL THEN CAST(s{s} AS {}) END AS {}",
            d.double_type(),
            d.ident(name)
        ));
    }
    cols.push(format!("{rule} AS {}", d.ident(rule_name)));
    cols.push(format!("{ERROR_COLUMN} AS {}", d.ident(error_name)));
    let _ = write!(
        sql,
        "SELECT\n  {}\nFROM qualify_decided",
        cols.join(",\n  ")
    );
    Ok(sql)
}

/// Every name the query writes as an identifier (the columns it reads, the
/// key and `--keep` columns it returns, the score columns, the table),
/// checked against `Dialect::refuses_name`.
fn check_names(policy: &Policy, program: &Program, options: &Options) -> Result<(), Unsupported> {
    let d = options.dialect;
    let mut names: Vec<(&str, &str)> = Vec::new();
    for (f, field) in policy.fields.iter().enumerate() {
        if program.reads[f] || field.key {
            names.push(("the column name", &field.column));
        }
    }
    names.extend(options.keep.iter().map(|k| ("the kept column", k.as_str())));
    names.extend(policy.scores.iter().map(|s| ("the score", s.name.as_str())));
    if let Source::Table(table) = &options.source {
        names.push(("the table", table));
    }
    for (what, name) in names {
        if let Some(reason) = d.refuses_name(name, options.jinja) {
            return Err(Unsupported {
                dialect: d,
                construct: format!("{what} {name:?}"),
                reason,
                loc: None,
            });
        }
    }
    Ok(())
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Node {
    Criterion(CriterionId),
    Score(ScoreId),
}

struct Compiler<'a> {
    policy: &'a Policy,
    d: Dialect,
    as_of: AsOf,
    /// The CTE layer (from 1) that computes each criterion and score.
    layer_of: HashMap<Node, usize>,
}

/// What `leads::convert::parse_number` accepts: a decimal with at most 200
/// digits before the point, 100 after and a two-digit exponent, so that no
/// engine's cast can overflow (which aborts a whole PostgreSQL query).
const NUMBER: &str =
    "^[+-]?([0-9]{1,200}[.]?[0-9]{0,100}|[.][0-9]{1,100})([eE][+-]?[0-9]{1,2})?{END}";
/// `leads::convert::parse_money` beyond plain numbers: a sign and a currency
/// sign in either order, thousands separators, decimals.
const MONEY: &str = "^(- *([$€£] *)?|([$€£] *)?-?)([0-9]{1,2}(,[0-9]{3}){66}|[0-9]{1,3}(,[0-9]{3}){1,65}|[0-9]{1,200})([.][0-9]{1,100})?{END}";
/// `YYYY-MM-DD`, optionally followed by a time (`{ANY}`: see `Dialect::matches`).
const DATE: &str = "^[0-9]{4}-[0-9]{2}-[0-9]{2}([T ]{ANY}|{END})";

impl Compiler<'_> {
    fn unsupported(&self, construct: impl Into<String>, reason: impl Into<String>) -> Unsupported {
        Unsupported {
            dialect: self.d,
            construct: construct.into(),
            reason: reason.into(),
            loc: None,
        }
    }

    /// Every text the query will carry, checked against what the engine
    /// can hold.
    fn check_texts(&self) -> Result<(), Unsupported> {
        let p = self.policy;
        let mut texts: Vec<(&str, &str)> = Vec::new();
        for field in &p.fields {
            texts.push(("a column name", &field.column));
            for m in field
                .missing
                .iter()
                .chain(&field.true_values)
                .chain(&field.false_values)
            {
                texts.push(("a spelling", m));
            }
            texts.push(("a list separator", &field.separator));
            if let FieldType::Enum(values) = &field.ty {
                for v in values {
                    texts.push(("an enum value", v));
                }
            }
        }
        for stage in &p.stages {
            texts.push(("a stage name", &stage.name));
        }
        for score in &p.scores {
            texts.push(("a score name", &score.name));
        }
        for rule in &p.rules {
            if let Some(label) = &rule.label {
                texts.push(("a rule label", label));
            }
        }
        let mut constants = Vec::new();
        let exprs = p
            .criteria
            .iter()
            .map(|c| &c.expr)
            .chain(p.rules.iter().map(|r| &r.expr))
            .chain(
                p.scores
                    .iter()
                    .flat_map(|s| s.lines.iter().filter_map(|l| l.when.as_ref())),
            );
        for e in exprs {
            collect_texts(e, &mut constants);
        }
        for field in &p.fields {
            if let Some(Value::Str(s)) = &field.default {
                constants.push(s.as_str());
            }
        }
        texts.extend(constants.into_iter().map(|t| ("a text value", t)));
        for (what, text) in texts {
            if let Some(reason) = self.d.rejects_text(text) {
                return Err(self.unsupported(format!("{what} ({text:?})"), reason));
            }
        }
        Ok(())
    }

    // ------------------------------------------------------------ reading

    /// A field's typed value from its cell `v{f}`, and the error text (NULL
    /// when the cell converts).
    fn convert(&self, f: FieldId) -> (String, String) {
        let d = self.d;
        let field = &self.policy.fields[f];
        let v = format!("v{f}");
        let column = &field.column;
        let problem = |what: &str| {
            format!(
                "{} || {v} || {}",
                d.string(&format!("column \"{column}\": `")),
                d.string(&format!("` {what}"))
            )
        };
        let (value, ok, what) = match &field.ty {
            FieldType::Bool => {
                let spell = |list: &[String], default: &[&str]| -> String {
                    let words: Vec<String> =
                        if field.true_values.is_empty() && field.false_values.is_empty() {
                            default.iter().map(|s| s.to_string()).collect()
                        } else {
                            list.to_vec()
                        };
                    words
                        .iter()
                        .map(|w| d.string(&w.to_lowercase()))
                        .collect::<Vec<_>>()
                        .join(", ")
                };
                let (yes, no) = (
                    spell(&field.true_values, DEFAULT_YES),
                    spell(&field.false_values, DEFAULT_NO),
                );
                let yes = if yes.is_empty() { "NULL".into() } else { yes };
                let no = if no.is_empty() { "NULL".into() } else { no };
                // A typed boolean column (`n{f}`) is read as it stands, as
                // `qualify run` reads a JSON `true`, whatever the spellings:
                // every engine casts it to the text `true` or `false`.
                (
                    format!(
                        "CASE WHEN n{f} THEN ({v} = 'true') WHEN LOWER({v}) IN ({yes}) THEN TRUE WHEN LOWER({v}) IN ({no}) THEN FALSE END"
                    ),
                    format!("n{f} OR LOWER({v}) IN ({yes}) OR LOWER({v}) IN ({no})"),
                    "is not a yes/no value",
                )
            }
            FieldType::Integer => {
                let n = d.to_double(&v);
                (
                    format!("CASE WHEN {} THEN {n} END", d.matches(&v, NUMBER)),
                    // SQL does not promise to evaluate AND left to right;
                    // CASE does, so a cast never sees text it cannot read.
                    format!(
                        "CASE WHEN {} THEN (FLOOR({n}) = {n} OR ABS({n}) >= 1e15) ELSE FALSE END",
                        d.matches(&v, NUMBER)
                    ),
                    "is not a whole number",
                )
            }
            FieldType::Number => (
                format!(
                    "CASE WHEN {} THEN {} END",
                    d.matches(&v, NUMBER),
                    d.to_double(&v)
                ),
                d.matches(&v, NUMBER),
                "is not a number",
            ),
            FieldType::Money => {
                let digits = d.to_double(&d.replace_all(&v, "[^0-9.]", ""));
                let sign = format!(
                    "CASE WHEN {} > 0 THEN -1 ELSE 1 END",
                    d.position(&v, &d.string("-"))
                );
                (
                    format!(
                        "CASE WHEN {} THEN {} WHEN {} THEN {sign} * {digits} END",
                        d.matches(&v, NUMBER),
                        d.to_double(&v),
                        d.matches(&v, MONEY)
                    ),
                    format!("{} OR {}", d.matches(&v, NUMBER), d.matches(&v, MONEY)),
                    "is not an amount of money",
                )
            }
            FieldType::Date => {
                let part = |from: u32, len: u32| d.to_int(&format!("SUBSTR({v}, {from}, {len})"));
                let (y, m, day) = (part(1, 4), part(6, 2), part(9, 2));
                let leap = format!(
                    "({} = 0 AND {} <> 0 OR {} = 0)",
                    d.modulo(&y, 4),
                    d.modulo(&y, 100),
                    d.modulo(&y, 400)
                );
                let days_in_month = format!(
                    "CASE WHEN {m} = 2 THEN CASE WHEN {leap} THEN 29 ELSE 28 END WHEN {m} IN (4, 6, 9, 11) THEN 30 ELSE 31 END"
                );
                let ok = format!(
                    "CASE WHEN {} THEN ({y} >= 1 AND {m} BETWEEN 1 AND 12 AND {day} >= 1 AND {day} <= ({days_in_month})) ELSE FALSE END",
                    d.matches(&v, DATE)
                );
                (
                    format!(
                        "CASE WHEN {ok} THEN {} END",
                        d.to_date(&format!("SUBSTR({v}, 1, 10)"))
                    ),
                    ok,
                    "is not a date as YYYY-MM-DD",
                )
            }
            FieldType::String => (v.clone(), "TRUE".into(), ""),
            FieldType::List => (
                self.normalized_list(&v, &field.separator),
                "TRUE".into(),
                "",
            ),
            FieldType::Enum(values) => {
                let mut exact = String::from("CASE");
                for (i, value) in values.iter().enumerate() {
                    let _ = write!(exact, " WHEN {v} = {} THEN {i}", d.string(value));
                }
                for (i, value) in values.iter().enumerate() {
                    let _ = write!(
                        exact,
                        " WHEN LOWER({v}) = {} THEN {i}",
                        d.string(&value.to_lowercase())
                    );
                }
                exact.push_str(" END");
                let ok = format!("({exact}) IS NOT NULL");
                (exact, ok, "is not one of the enum's values")
            }
        };
        let default = field.default.as_ref().map(|value| self.value(f, value));
        let typed = match &default {
            Some(default) => format!("CASE WHEN {v} IS NULL THEN {default} ELSE {value} END"),
            None => value,
        };
        let required = !field.optional && field.default.is_none();
        let mut error = String::from("CASE");
        if required {
            let _ = write!(
                error,
                " WHEN {v} IS NULL THEN {}",
                d.string(&format!(
                    "column \"{column}\": `{}` needs a value: the field is neither `optional` nor has a `default`",
                    field.name
                ))
            );
        }
        if ok != "TRUE" {
            let _ = write!(
                error,
                " WHEN {v} IS NOT NULL AND NOT ({ok}) THEN {}",
                problem(what)
            );
        }
        let error = if error == "CASE" {
            format!("CAST(NULL AS {})", d.text_type())
        } else {
            error + " END"
        };
        (typed, error)
    }

    /// A list cell as its items, trimmed, empty ones dropped, joined by the
    /// separator: two lists are equal when these texts are, and an item is
    /// in the list when `sep item sep` occurs in `sep text sep`.
    fn normalized_list(&self, v: &str, separator: &str) -> String {
        let d = self.d;
        let sep = regex_escape(separator);
        let ws = "[ \t\n\r\u{c}]*";
        let step = d.replace_all(v, &format!("{ws}{sep}{ws}"), separator);
        let step = d.replace_all(&step, &format!("^{ws}|{ws}$"), "");
        let step = d.replace_all(&step, &format!("({sep})+"), separator);
        d.replace_all(&step, &format!("^{sep}|{sep}$"), "")
    }

    /// A policy value as a SQL literal of the field's SQL type.
    fn value(&self, f: FieldId, value: &Value) -> String {
        let d = self.d;
        match value {
            Value::Bool(b) => (if *b { "TRUE" } else { "FALSE" }).into(),
            Value::Num(n) => self.number(*n),
            Value::Str(s) => d.string(s),
            Value::Enum(i) => i.to_string(),
            Value::Date(day) => d.date_literal(&date_to_string(*day)),
            Value::List(items) => {
                let sep = &self.policy.fields[f].separator;
                d.string(&items.join(sep))
            }
        }
    }

    fn number(&self, n: f64) -> String {
        if is_whole(n) {
            format!("{}", n as i64)
        } else {
            format!(
                "CAST({} AS {})",
                self.d.string(&format!("{n}")),
                self.d.double_type()
            )
        }
    }

    // ------------------------------------------------------------ decision

    /// `eval::decide`'s second step: the deciding position once the
    /// ceilings apply, from the column `reached` (the position in `order` of
    /// the ordinary rule that decided, from 1; 0 for `otherwise` or no stage;
    /// NULL for a bad row). `ceilings[j]` is position `order.len() + j + 1`;
    /// the first, in `ceilings` order, whose condition is TRUE and whose
    /// stage lies below the stage reached lowers it. A ceiling at or above
    /// every stage a lead can reach is left out.
    fn capped(
        &self,
        reached: &str,
        order: &[RuleId],
        ceilings: &[RuleId],
    ) -> Result<String, Unsupported> {
        let p = self.policy;
        let mut case = String::new();
        for (j, &r) in ceilings.iter().enumerate() {
            let cap = p.rules[r].stage;
            // `order` is by stage, highest first (`rules_by_precedence`), so
            // the positions that reach a stage above the cap are 1..=above.
            let above = order.partition_point(|&o| p.rules[o].stage > cap);
            let mut positions = Vec::new();
            if above > 0 {
                positions.push(format!("{reached} BETWEEN 1 AND {above}"));
            }
            if p.otherwise.is_some_and(|s| s > cap) {
                positions.push(format!("{reached} = 0"));
            }
            if positions.is_empty() {
                continue;
            }
            let _ = write!(
                case,
                "\n      WHEN ({}) AND {} THEN {}",
                positions.join(" OR "),
                self.cond(&p.rules[r].expr)?,
                order.len() + j + 1
            );
        }
        Ok(if case.is_empty() {
            reached.to_string()
        } else {
            format!("CASE{case}\n      ELSE {reached}\n    END")
        })
    }

    // ------------------------------------------------------------ layers

    fn assign_layers(&mut self) {
        for c in 0..self.policy.criteria.len() {
            self.layer(Node::Criterion(c), 0);
        }
        for s in 0..self.policy.scores.len() {
            self.layer(Node::Score(s), 0);
        }
    }

    fn layer(&mut self, node: Node, depth: usize) -> usize {
        if let Some(&layer) = self.layer_of.get(&node) {
            return layer;
        }
        // The checker refuses cycles; this only bounds a malformed policy.
        if depth > self.policy.criteria.len() + self.policy.scores.len() {
            return 1;
        }
        let mut deps = Vec::new();
        match node {
            Node::Criterion(c) => collect_deps(&self.policy.criteria[c].expr, &mut deps),
            Node::Score(s) => {
                for line in &self.policy.scores[s].lines {
                    if let Some(when) = &line.when {
                        collect_deps(when, &mut deps);
                    }
                }
            }
        }
        let layer = 1 + deps
            .into_iter()
            .map(|dep| self.layer(dep, depth + 1))
            .max()
            .unwrap_or(0);
        self.layer_of.insert(node, layer);
        layer
    }

    // ------------------------------------------------------------ scores

    fn score(&self, score: &Score) -> Result<String, Unsupported> {
        if score.lines.is_empty() {
            return Ok("0".into());
        }
        let mut terms = Vec::new();
        for line in &score.lines {
            let raw = match line.per {
                Some(f) => format!("{} * COALESCE(x{f}, 0)", self.number(line.points)),
                None => self.number(line.points),
            };
            let capped = match line.cap {
                Some(cap) => format!(
                    "LEAST(GREATEST({raw}, {}), {})",
                    self.number(-cap),
                    self.number(cap)
                ),
                None => raw,
            };
            terms.push(match &line.when {
                Some(when) => format!("CASE WHEN {} THEN {capped} ELSE 0 END", self.cond(when)?),
                None => capped,
            });
        }
        let total = format!(
            "CAST({} AS {})",
            terms.join("\n      + "),
            self.d.double_type()
        );
        Ok(match score.cap {
            Some(cap) => format!("LEAST({total}, {})", self.number(cap)),
            None => total,
        })
    }

    // ------------------------------------------------------------ conditions

    fn cond(&self, e: &Expr) -> Result<String, Unsupported> {
        let d = self.d;
        Ok(match &e.kind {
            ExprKind::Const(b) => (if *b { "TRUE" } else { "FALSE" }).into(),
            ExprKind::Known(f) => format!("(x{f} IS NOT NULL)"),
            ExprKind::Unknown(f) => format!("(x{f} IS NULL)"),
            ExprKind::BoolField(f) => format!("x{f}"),
            ExprKind::Criterion(c) => format!("c{c}"),
            ExprKind::Cmp {
                lhs,
                op,
                rhs,
                ignore_case,
            } => {
                if *op == CmpOp::Ne {
                    format!("(NOT {})", self.compare(lhs, CmpOp::Eq, rhs, *ignore_case)?)
                } else {
                    self.compare(lhs, *op, rhs, *ignore_case)?
                }
            }
            ExprKind::In {
                lhs,
                values,
                ignore_case,
            } => {
                let text = self.is_text(lhs);
                let fold = |s: String| {
                    if *ignore_case && text {
                        format!("LOWER({s})")
                    } else {
                        s
                    }
                };
                let field = match lhs {
                    Term::Field(f) => Some(*f),
                    _ => None,
                };
                let items: Vec<String> = values
                    .iter()
                    .map(|v| fold(self.constant(field, v)))
                    .collect();
                if items.is_empty() {
                    format!("({} IS NOT NULL AND FALSE)", self.term(lhs))
                } else {
                    format!("({} IN ({}))", fold(self.term(lhs)), items.join(", "))
                }
            }
            ExprKind::Text {
                field,
                op,
                value,
                ignore_case,
            } => {
                let x = format!("x{field}");
                if matches!(self.policy.fields[*field].ty, FieldType::List) {
                    self.list_has(*field, value, *ignore_case)
                } else if value.is_empty() {
                    // Every text contains, starts and ends with "".
                    format!("({x} IS NOT NULL OR NULL)")
                } else {
                    let (h, n) = if *ignore_case {
                        (format!("LOWER({x})"), format!("LOWER({})", d.string(value)))
                    } else {
                        (x, d.string(value))
                    };
                    match op {
                        TextOp::Contains => format!("({} > 0)", d.position(&h, &n)),
                        TextOp::StartsWith => format!("(LEFT({h}, LENGTH({n})) = {n})"),
                        TextOp::EndsWith => format!("(RIGHT({h}, LENGTH({n})) = {n})"),
                    }
                }
            }
            ExprKind::Within {
                field,
                days,
                direction,
            } => {
                // `eval::within`: the window's ends, both included.
                let days = *days as i64;
                let (before, after) = match direction {
                    Direction::Either => (days, days),
                    Direction::Last => (days, 0),
                    Direction::Next => (0, days),
                };
                let (low, high) = match self.as_of {
                    AsOf::Date(day) => {
                        // Lead dates are years 0000 to 9999: a window's end
                        // beyond them is that year's end, and a window that
                        // misses them holds no date (unknown on NULL).
                        let low = (day as i64 - before).max(FIRST_LEAD_DATE);
                        let high = (day as i64 + after).min(LAST_LEAD_DATE);
                        if low > high {
                            return Ok(format!("(x{field} <> x{field})"));
                        }
                        (
                            d.date_literal(&date_to_string(low as i32)),
                            d.date_literal(&date_to_string(high as i32)),
                        )
                    }
                    AsOf::Now => {
                        let end = |n: i64| match n {
                            0 => d.current_date().to_string(),
                            n => d.add_days(d.current_date(), n),
                        };
                        (end(-before), end(after))
                    }
                };
                format!("(x{field} BETWEEN {low} AND {high})")
            }
            ExprKind::And(items) => self.join(items, "AND", "TRUE")?,
            ExprKind::Or(items) => self.join(items, "OR", "FALSE")?,
            ExprKind::Not(inner) => format!("(NOT {})", self.cond(inner)?),
            ExprKind::AtLeast { n, items } => {
                // Weights: true 1001, unknown 1, false 0. The sum is
                // 1000·yes + (yes + unknown), so one pass over the items
                // gives both counts (fewer than 1000 items).
                if items.len() >= 1000 {
                    return Err(self.unsupported(
                        "`at least N of` with 1,000 items or more",
                        "the compiled count has room for 999",
                    ));
                }
                let weights = items
                    .iter()
                    .map(|item| {
                        Ok(format!(
                            "CASE {} WHEN TRUE THEN 1001 WHEN FALSE THEN 0 ELSE 1 END",
                            self.cond(item)?
                        ))
                    })
                    .collect::<Result<Vec<_>, Unsupported>>()?;
                let sum = format!("({})", weights.join(" + "));
                format!(
                    "(CASE WHEN {sum} >= {} THEN TRUE WHEN {} >= {n} THEN NULL ELSE FALSE END)",
                    1000 * n,
                    d.modulo(&sum, 1000)
                )
            }
        })
    }

    fn join(&self, items: &[Expr], op: &str, empty: &str) -> Result<String, Unsupported> {
        if items.is_empty() {
            return Ok(empty.into());
        }
        let parts = items
            .iter()
            .map(|e| self.cond(e))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(format!("({})", parts.join(&format!(" {op} "))))
    }

    fn is_text(&self, term: &Term) -> bool {
        match term {
            Term::Field(f) => matches!(self.policy.fields[*f].ty, FieldType::String),
            Term::Const(Value::Str(_)) => true,
            _ => false,
        }
    }

    fn term(&self, term: &Term) -> String {
        match term {
            Term::Field(f) => format!("x{f}"),
            Term::Score(s) => format!("s{s}"),
            Term::Const(v) => self.constant(None, v),
        }
    }

    /// A constant compared with `field` (which gives lists their separator).
    fn constant(&self, field: Option<FieldId>, value: &Value) -> String {
        match (field, value) {
            (Some(f), v) => self.value(f, v),
            (None, Value::List(items)) => self.d.string(&items.join(",")),
            (None, v) => self.value(0, v),
        }
    }

    fn compare(
        &self,
        lhs: &Term,
        op: CmpOp,
        rhs: &Term,
        ignore_case: bool,
    ) -> Result<String, Unsupported> {
        let list_field = |t: &Term| match t {
            Term::Field(f) if matches!(self.policy.fields[*f].ty, FieldType::List) => Some(*f),
            _ => None,
        };
        if let Some(f) = list_field(lhs).or(list_field(rhs)) {
            return self.list_equals(f, lhs, rhs);
        }
        let field = |t: &Term| match t {
            Term::Field(f) => Some(*f),
            _ => None,
        };
        let side = |t: &Term, other: &Term| match t {
            Term::Const(v) => self.constant(field(other), v),
            t => self.term(t),
        };
        let (mut a, mut b) = (side(lhs, rhs), side(rhs, lhs));
        if ignore_case && (self.is_text(lhs) || self.is_text(rhs)) {
            a = format!("LOWER({a})");
            b = format!("LOWER({b})");
        }
        Ok(format!("({a} {} {b})", op.symbol()))
    }

    /// `list = [..]` or `list = list`: the same items in the same order.
    fn list_equals(&self, f: FieldId, lhs: &Term, rhs: &Term) -> Result<String, Unsupported> {
        let sep = &self.policy.fields[f].separator;
        let side = |t: &Term| -> Result<Option<String>, Unsupported> {
            Ok(match t {
                Term::Field(g) => {
                    if self.policy.fields[*g].separator != *sep {
                        return Err(self.unsupported(
                            format!(
                                "comparing the lists `{}` and `{}`",
                                self.policy.fields[f].name, self.policy.fields[*g].name
                            ),
                            "their separators differ, so their items cannot be compared as text",
                        ));
                    }
                    Some(format!("x{g}"))
                }
                Term::Const(Value::List(items)) => {
                    // Items read from a cell are trimmed, non-empty and free
                    // of the separator; a constant item that is not can never
                    // be equal.
                    if items
                        .iter()
                        .any(|i| i.is_empty() || i.trim() != i || i.contains(sep.as_str()))
                    {
                        None
                    } else {
                        Some(self.d.string(&items.join(sep)))
                    }
                }
                other => Some(self.term(other)),
            })
        };
        let (a, b) = (side(lhs)?, side(rhs)?);
        Ok(match (a, b) {
            (Some(a), Some(b)) => format!("({a} = {b})"),
            _ => format!("(x{f} IS NOT NULL AND FALSE)"),
        })
    }

    /// `list contains "item"`.
    fn list_has(&self, f: FieldId, item: &str, ignore_case: bool) -> String {
        let d = self.d;
        let sep = &self.policy.fields[f].separator;
        if item.is_empty() || item.trim() != item || item.contains(sep.as_str()) {
            return format!("(x{f} IS NOT NULL AND FALSE)");
        }
        let sep = d.string(sep);
        let haystack = format!("{sep} || x{f} || {sep}");
        let needle = format!("{sep} || {} || {sep}", d.string(item));
        let (h, n) = if ignore_case {
            (format!("LOWER({haystack})"), format!("LOWER({needle})"))
        } else {
            (format!("({haystack})"), format!("({needle})"))
        };
        format!("({} > 0)", d.position(&h, &n))
    }
}

fn collect_deps(e: &Expr, out: &mut Vec<Node>) {
    match &e.kind {
        ExprKind::Criterion(c) => out.push(Node::Criterion(*c)),
        ExprKind::Cmp { lhs, rhs, .. } => {
            for t in [lhs, rhs] {
                if let Term::Score(s) = t {
                    out.push(Node::Score(*s));
                }
            }
        }
        ExprKind::In {
            lhs: Term::Score(s),
            ..
        } => out.push(Node::Score(*s)),
        ExprKind::And(items) | ExprKind::Or(items) | ExprKind::AtLeast { items, .. } => {
            for item in items {
                collect_deps(item, out);
            }
        }
        ExprKind::Not(inner) => collect_deps(inner, out),
        _ => {}
    }
}

fn collect_texts<'e>(e: &'e Expr, out: &mut Vec<&'e str>) {
    let mut value = |v: &'e Value| match v {
        Value::Str(s) => out.push(s),
        Value::List(items) => out.extend(items.iter().map(String::as_str)),
        _ => {}
    };
    match &e.kind {
        ExprKind::Cmp { lhs, rhs, .. } => {
            for t in [lhs, rhs] {
                if let Term::Const(v) = t {
                    value(v);
                }
            }
        }
        ExprKind::In { values, .. } => values.iter().for_each(value),
        ExprKind::Text { value: text, .. } => out.push(text),
        ExprKind::And(items) | ExprKind::Or(items) | ExprKind::AtLeast { items, .. } => {
            for item in items {
                collect_texts(item, out);
            }
        }
        ExprKind::Not(inner) => collect_texts(inner, out),
        _ => {}
    }
}

/// Text matched literally by every regex flavour the dialects use: ASCII
/// punctuation as a one-character bracket (`[;]`), which POSIX ERE also
/// documents, except the few characters brackets treat specially.
fn regex_escape(text: &str) -> String {
    let mut out = String::new();
    for c in text.chars() {
        match c {
            ']' | '\\' | '^' | '-' => {
                out.push('\\');
                out.push(c);
            }
            c if c.is_ascii_punctuation() => {
                out.push('[');
                out.push(c);
                out.push(']');
            }
            c => out.push(c),
        }
    }
    out
}
