//! The compiled SQL must give every lead the stage, scores and deciding rule
//! that the native evaluator (`qualify run`) gives it, in real engines:
//! DuckDB (Python package) and PostgreSQL (a server, `psql`). Rows that do
//! not fit the schema must be the same rows on both sides: rejected natively,
//! `qualify_error` in SQL.
//!
//! Engines: `QUALIFY_DUCKDB_PYTHON` (a Python with `duckdb`, and `jinja2` to
//! render the dbt models of `sql/adversarial.rs`; default
//! target/bench-venv/bin/python, then python3) and `QUALIFY_PG` (a libpq
//! connection string; `.ci/postgres.sh start` sets it). A missing engine skips
//! its half of each test, unless `QUALIFY_REQUIRE_SQL_ENGINES` is set (CI).

#[path = "sql/adversarial.rs"]
mod adversarial;
mod common;
#[path = "sql/typed.rs"]
mod typed;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::policy_gen::{self, Rng};
use qualify::check::policy::*;
use qualify::compile::Program;
use qualify::eval::Machine;
use qualify::sql::{self, AsOf, Dialect, Options, Source};

const ROW: &str = "qualify_test_row";

/// One lead's result, as both sides report it.
#[derive(Clone, Debug, PartialEq)]
enum Outcome {
    Decided {
        stage: Option<String>,
        rule: Option<String>,
        scores: Vec<f64>,
    },
    Rejected,
}

struct Case {
    name: String,
    policy: Policy,
    as_of: i32,
    /// A CSV whose first column is `qualify_test_row` (1, 2, …).
    csv: PathBuf,
    columns: Vec<String>,
    /// Compile with `AsOf::Now` (the engine's date; `as_of` is then today).
    now: bool,
}

// ---------------------------------------------------------------- native side

fn native(case: &Case) -> Vec<Outcome> {
    let program = Program::compile(&case.policy);
    let loaded = qualify::leads::load(&case.csv, &case.policy, &program, None)
        .unwrap_or_else(|e| panic!("{}: {e}", case.name));
    let mut machine = Machine::new(&program, case.as_of);
    let mut by_line: Vec<(u64, Outcome)> = Vec::new();
    for (row, &line) in loaded.rows.iter().zip(&loaded.lines) {
        let decision = machine.run(&program, row);
        by_line.push((
            line,
            Outcome::Decided {
                stage: decision.stage.map(|s| case.policy.stages[s].name.clone()),
                rule: decision.rule.map(|r| case.policy.rules[r].display_name()),
                scores: machine.scores.clone(),
            },
        ));
    }
    for reject in &loaded.rejects {
        by_line.push((reject.line, Outcome::Rejected));
    }
    by_line.sort_by_key(|(line, _)| *line);
    by_line.into_iter().map(|(_, o)| o).collect()
}

// ---------------------------------------------------------------- SQL side

fn query(case: &Case, dialect: Dialect) -> String {
    sql::compile(
        &case.policy,
        &Options {
            dialect,
            source: Source::Table("leads".into()),
            as_of: if case.now {
                AsOf::Now
            } else {
                AsOf::Date(case.as_of)
            },
            keep: vec![ROW.into()],
            jinja: false,
        },
    )
    .unwrap_or_else(|e| panic!("{}: {e}", case.name))
}

/// Rows of SQL output (JSON objects) → outcomes ordered by the test row.
fn outcomes(case: &Case, rows: Vec<serde_json::Map<String, serde_json::Value>>) -> Vec<Outcome> {
    let mut numbered: Vec<(u64, Outcome)> = rows
        .into_iter()
        .map(|row| {
            let n: u64 = row[ROW].as_str().unwrap().parse().unwrap();
            let outcome = if !row[sql::ERROR_COLUMN].is_null() {
                Outcome::Rejected
            } else {
                let text = |key: &str| row[key].as_str().map(str::to_string);
                Outcome::Decided {
                    stage: text("stage"),
                    rule: text("rule"),
                    scores: case
                        .policy
                        .scores
                        .iter()
                        .map(|s| {
                            row[&s.name]
                                .as_f64()
                                .unwrap_or_else(|| panic!("score {} is {:?}", s.name, row[&s.name]))
                        })
                        .collect(),
                }
            };
            (n, outcome)
        })
        .collect();
    numbered.sort_by_key(|(n, _)| *n);
    numbered.into_iter().map(|(_, o)| o).collect()
}

fn required() -> bool {
    std::env::var_os("QUALIFY_REQUIRE_SQL_ENGINES").is_some()
}

fn duckdb_python() -> Option<PathBuf> {
    let mut candidates: Vec<PathBuf> = Vec::new();
    if let Some(p) = std::env::var_os("QUALIFY_DUCKDB_PYTHON") {
        candidates.push(p.into());
    }
    candidates.push(Path::new(env!("CARGO_MANIFEST_DIR")).join("target/bench-venv/bin/python"));
    candidates.push("python3".into());
    candidates.into_iter().find(|py| {
        Command::new(py)
            .args(["-c", "import duckdb"])
            .output()
            .is_ok_and(|o| o.status.success())
    })
}

const DUCKDB_RUNNER: &str = r#"
import duckdb, json, sys
cases = json.load(open(sys.argv[1]))
for case in cases:
    con = duckdb.connect()
    con.execute("CREATE TABLE leads AS SELECT * FROM read_csv(?, all_varchar=true, header=true, delim=',', quote='\"', escape='\"')", [case["csv"]])
    cur = con.execute(case["sql"])
    names = [d[0] for d in cur.description]
    with open(case["out"], "w") as out:
        for row in cur.fetchall():
            out.write(json.dumps(dict(zip(names, row)), default=str) + "\n")
"#;

/// Run every case in one DuckDB process; `None` when DuckDB is not here.
fn run_duckdb(dir: &Path, cases: &[Case]) -> Option<Vec<Vec<Outcome>>> {
    let Some(python) = duckdb_python() else {
        assert!(
            !required(),
            "DuckDB (Python package) is required but missing"
        );
        eprintln!("skipping DuckDB: no Python with the duckdb package");
        return None;
    };
    let runner = dir.join("duckdb_runner.py");
    std::fs::write(&runner, DUCKDB_RUNNER).unwrap();
    let manifest: Vec<serde_json::Value> = cases
        .iter()
        .enumerate()
        .map(|(i, case)| {
            serde_json::json!({
                "csv": case.csv,
                "sql": query(case, Dialect::DuckDb),
                "out": dir.join(format!("duckdb-{i}.jsonl")),
            })
        })
        .collect();
    let manifest_path = dir.join("duckdb.json");
    std::fs::write(&manifest_path, serde_json::to_string(&manifest).unwrap()).unwrap();
    let out = Command::new(python)
        .arg(&runner)
        .arg(&manifest_path)
        .output()
        .unwrap();
    Some(results("DuckDB", &out, dir, "duckdb", cases))
}

/// The outcomes an engine wrote to `{prefix}-{i}.jsonl`, one file per case.
fn results(
    engine: &str,
    out: &std::process::Output,
    dir: &Path,
    prefix: &str,
    cases: &[Case],
) -> Vec<Vec<Outcome>> {
    assert!(
        out.status.success(),
        "{engine} failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    cases
        .iter()
        .enumerate()
        .map(|(i, case)| outcomes(case, read_rows(&dir.join(format!("{prefix}-{i}.jsonl")))))
        .collect()
}

/// Run every case in one `psql` session; `None` when no server is configured.
fn run_postgres(dir: &Path, cases: &[Case]) -> Option<Vec<Vec<Outcome>>> {
    let Ok(conninfo) = std::env::var("QUALIFY_PG") else {
        assert!(
            !required(),
            "PostgreSQL is required but QUALIFY_PG is not set"
        );
        eprintln!("skipping PostgreSQL: QUALIFY_PG is not set (see .ci/postgres.sh)");
        return None;
    };
    let d = Dialect::Postgres;
    // Tests run as parallel processes against one server: each gets a
    // schema of its own, or one's `DROP TABLE leads` races another's.
    let schema = format!("qualify_sql_{}", std::process::id());
    let mut script = format!(
        "DROP SCHEMA IF EXISTS {schema} CASCADE;\nCREATE SCHEMA {schema};\nSET search_path TO {schema};\n"
    );
    for (i, case) in cases.iter().enumerate() {
        // `\copy … HEADER` skips the header by position, so an unnamed
        // column (x-education has one) only needs some name here.
        let columns: Vec<String> = case
            .columns
            .iter()
            .enumerate()
            .map(|(i, c)| match c.as_str() {
                "" => format!("{} TEXT", d.ident(&format!("unnamed {i}"))),
                c => format!("{} TEXT", d.ident(c)),
            })
            .collect();
        let out = dir.join(format!("pg-{i}.jsonl"));
        script.push_str(&format!(
            "DROP TABLE IF EXISTS leads;\nCREATE TABLE leads ({});\n\\copy leads FROM '{}' WITH (FORMAT csv, HEADER true)\n\\o '{}'\nSELECT row_to_json(q) FROM (\n{}\n) q;\n\\o\n",
            columns.join(", "),
            case.csv.display(),
            out.display(),
            query(case, d)
        ));
    }
    script.push_str(&format!("DROP SCHEMA {schema} CASCADE;\n"));
    let script_path = dir.join("pg.sql");
    std::fs::write(&script_path, script).unwrap();
    let out = Command::new("psql")
        .args(["-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-d"])
        .arg(&conninfo)
        .arg("-f")
        .arg(&script_path)
        .output()
        .expect("run psql");
    Some(results("PostgreSQL", &out, dir, "pg", cases))
}

fn read_rows(path: &Path) -> Vec<serde_json::Map<String, serde_json::Value>> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// Native and SQL outcomes must be equal, lead by lead.
fn assert_same(engine: &str, cases: &[Case], results: &[Vec<Outcome>]) {
    let mut decided = 0;
    for (case, sql) in cases.iter().zip(results) {
        let native = native(case);
        assert_eq!(
            native.len(),
            sql.len(),
            "{engine}, {}: {} native rows, {} SQL rows",
            case.name,
            native.len(),
            sql.len()
        );
        for (i, (n, s)) in native.iter().zip(sql).enumerate() {
            assert_eq!(
                n,
                s,
                "{engine}, {}: lead {} (CSV {})\n{}",
                case.name,
                i + 1,
                case.csv.display(),
                query(case, Dialect::Postgres)
            );
            decided += matches!(n, Outcome::Decided { .. }) as usize;
        }
    }
    assert!(decided > 0, "{engine}: no lead was decided");
}

fn check_engines(cases: &[Case], dir: &Path) {
    if let Some(results) = run_duckdb(dir, cases) {
        assert_same("DuckDB", cases, &results);
    }
    if let Some(results) = run_postgres(dir, cases) {
        assert_same("PostgreSQL", cases, &results);
    }
}

// ---------------------------------------------------------------- lead files

/// Write `records` (cells by column) as CSV with the test row column first.
fn write_csv(path: &Path, columns: &[String], records: &[Vec<String>]) {
    let mut w = csv::Writer::from_path(path).unwrap();
    let mut header = vec![ROW.to_string()];
    header.extend(columns.iter().cloned());
    w.write_record(&header).unwrap();
    for (i, record) in records.iter().enumerate() {
        let mut row = vec![(i + 1).to_string()];
        row.extend(record.iter().cloned());
        w.write_record(&row).unwrap();
    }
    w.flush().unwrap();
}

/// An example's lead file as CSV with a row number (JSON Lines are written
/// as the cells a CSV export would have: arrays joined by the separator).
fn example_csv(policy: &Policy, leads: &Path, out: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(leads).unwrap();
    if leads.extension().is_some_and(|e| e == "csv") {
        let mut reader = csv::Reader::from_reader(text.as_bytes());
        let columns: Vec<String> = reader.headers().unwrap().iter().map(String::from).collect();
        let records: Vec<Vec<String>> = reader
            .records()
            .map(|r| r.unwrap().iter().map(String::from).collect())
            .collect();
        write_csv(out, &columns, &records);
        return columns;
    }
    let mut columns: Vec<String> = Vec::new();
    for field in &policy.fields {
        if !columns.contains(&field.column) {
            columns.push(field.column.clone());
        }
    }
    let records: Vec<Vec<String>> = text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|line| {
            let object: serde_json::Map<String, serde_json::Value> =
                serde_json::from_str(line).unwrap();
            columns
                .iter()
                .map(|c| {
                    let separator = policy
                        .fields
                        .iter()
                        .find(|f| &f.column == c)
                        .map_or(",".to_string(), |f| f.separator.clone());
                    cell(object.get(c), &separator)
                })
                .collect()
        })
        .collect();
    write_csv(out, &columns, &records);
    columns
}

fn cell(value: Option<&serde_json::Value>, separator: &str) -> String {
    use serde_json::Value as J;
    match value {
        None | Some(J::Null) => String::new(),
        Some(J::String(s)) => s.clone(),
        Some(J::Array(items)) => items
            .iter()
            .map(|i| cell(Some(i), separator))
            .collect::<Vec<_>>()
            .join(separator),
        Some(other) => other.to_string(),
    }
}

// ---------------------------------------------------------------- the tests

#[test]
fn example_policies_give_the_same_results_in_duckdb_and_postgres() {
    let dir = tempfile::tempdir().unwrap();
    let examples = [
        ("b2b-saas/policy.qual", "b2b-saas/leads.csv"),
        (
            "enterprise-meddpicc/policy.qual",
            "enterprise-meddpicc/leads.csv",
        ),
        ("product-led/policy.qual", "product-led/leads.jsonl"),
        ("team-shared/inbound.qual", "team-shared/leads.csv"),
        ("team-shared/outbound.qual", "team-shared/leads.csv"),
        ("x-education/policy.qual", "x-education/leads.csv"),
        (
            "../tests/sql/constructs.qual",
            "../tests/sql/constructs.csv",
        ),
        // Again, against the engine's current date.
        ("b2b-saas/policy.qual", "b2b-saas/leads.csv"),
        (
            "../tests/sql/constructs.qual",
            "../tests/sql/constructs.csv",
        ),
    ];
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
    let cases: Vec<Case> = examples
        .iter()
        .enumerate()
        .map(|(i, (policy_path, leads))| {
            let now = i >= examples.len() - 2;
            let as_of = if now {
                today()
            } else {
                date_from_ymd("2026-06-01").unwrap()
            };
            let policy = common::policy(root.join(policy_path).to_str().unwrap());
            let csv = dir.path().join(format!("example-{i}.csv"));
            let columns = example_csv(&policy, &root.join(leads), &csv);
            let mut all = vec![ROW.to_string()];
            all.extend(columns);
            Case {
                name: policy_path.to_string(),
                policy,
                as_of,
                csv,
                columns: all,
                now,
            }
        })
        .collect();
    check_engines(&cases, dir.path());
}

/// Cells for a generated value, in the spellings lead files use.
fn render(rng: &mut Rng, field: &Field, value: &Value) -> String {
    match value {
        Value::Bool(b) => {
            let spellings: &[&str] = if *b {
                &["true", "Yes", "y", "1", "TRUE"]
            } else {
                &["false", "No", "n", "0", "FALSE"]
            };
            rng.pick(spellings).to_string()
        }
        Value::Num(n) => match (&field.ty, rng.below(4)) {
            (FieldType::Money, 0) if *n >= 0.0 => format!("${}", thousands_money(*n)),
            (FieldType::Money, 1) if *n < 0.0 => format!("-${}", -n),
            (_, 2) => format!(" {n} "),
            _ => format!("{n}"),
        },
        Value::Str(s) => s.clone(),
        Value::Enum(i) => match &field.ty {
            FieldType::Enum(values) => {
                let v = &values[*i as usize];
                if rng.chance(30) {
                    v.to_uppercase()
                } else {
                    v.clone()
                }
            }
            _ => unreachable!(),
        },
        Value::Date(d) => {
            let iso = date_to_string(*d);
            if rng.chance(20) {
                format!("{iso}T09:30:00Z")
            } else {
                iso
            }
        }
        Value::List(items) => items.join(if rng.chance(50) { "; " } else { ";" }),
    }
}

fn thousands_money(n: f64) -> String {
    if is_whole(n) {
        thousands(n as u64)
    } else {
        format!("{n}")
    }
}

const GARBAGE: &[&str] = &[
    "??",
    "2026-02-30",
    "12abc",
    "maybe",
    "1,20",
    "--5",
    "Select",
];

/// A random policy (the evaluator's property-test generator) with a row id
/// key, placeholders, custom yes/no spellings and awkward column names, and
/// a lead file for it with missing, placeholder and malformed cells.
fn generated_case(seed: u64, dir: &Path) -> Case {
    let mut policy = policy_gen::policy(seed);
    let mut rng = Rng::new(seed.wrapping_mul(31) ^ 0xc5);
    for (i, field) in policy.fields.iter_mut().enumerate() {
        field.key = false;
        field.column = match i % 3 {
            0 => format!("F{i}"),
            1 => format!("Field {i} \"Mixed\" Case"),
            _ => format!("f{i}'s value"),
        };
        if rng.chance(40) {
            field.missing = vec!["Select".into(), "N/A".into()];
        }
        if field.ty == FieldType::Bool && rng.chance(30) {
            field.true_values = vec![
                "Yes".into(),
                "1".into(),
                "true".into(),
                "y".into(),
                "TRUE".into(),
            ];
            field.false_values = vec![
                "No".into(),
                "0".into(),
                "false".into(),
                "n".into(),
                "FALSE".into(),
            ];
        }
    }
    policy.fields.push(Field {
        name: "row id".into(),
        loc: Loc::default(),
        ty: FieldType::String,
        optional: false,
        key: true,
        column: "Row ID".into(),
        missing: vec![],
        true_values: vec![],
        false_values: vec![],
        separator: ",".into(),
        default: None,
    });
    let mut columns: Vec<String> = policy.fields.iter().map(|f| f.column.clone()).collect();
    let records: Vec<Vec<String>> = (0..40)
        .map(|r| {
            policy
                .fields
                .iter()
                .map(|field| {
                    if field.key {
                        return format!("R-{r}");
                    }
                    match rng.below(100) {
                        0..=14 => String::new(),
                        15..=19 if !field.missing.is_empty() => {
                            rng.pick(&["Select", "n/a", " N/A "]).to_string()
                        }
                        20..=22 => rng.pick(GARBAGE).to_string(),
                        _ => {
                            let value = policy_gen::value_of(&mut rng, &field.ty);
                            render(&mut rng, field, &value)
                        }
                    }
                })
                .collect()
        })
        .collect();
    let csv = dir.join(format!("generated-{seed}.csv"));
    write_csv(&csv, &columns, &records);
    columns.insert(0, ROW.to_string());
    Case {
        name: format!("generated policy, seed {seed}"),
        policy,
        as_of: policy_gen::as_of(),
        csv,
        columns,
        now: false,
    }
}

#[test]
fn generated_policies_give_the_same_results_in_duckdb_and_postgres() {
    let dir = tempfile::tempdir().unwrap();
    let cases: Vec<Case> = (0..60u64)
        .map(|i| generated_case(i * 7919 + 11, dir.path()))
        .collect();
    // The generator makes a quarter of the rules ceilings: some leads must
    // be decided by one, or the comparison says nothing about them.
    let by_ceiling: usize = cases.iter().map(decided_by_ceiling).sum();
    assert!(by_ceiling > 0, "no generated lead is decided by a ceiling");
    check_engines(&cases, dir.path());
}

/// How many of a case's leads a ceiling decides (natively).
fn decided_by_ceiling(case: &Case) -> usize {
    native(case)
        .iter()
        .filter(|o| match o {
            Outcome::Decided {
                rule: Some(name), ..
            } => case
                .policy
                .rules
                .iter()
                .any(|r| r.ceiling && r.display_name() == *name),
            _ => false,
        })
        .count()
}

/// A value with a quote, a backslash and a tab reaches the engine intact:
/// the policy's literal is escaped, never spliced.
#[test]
fn quotes_and_backslashes_in_policy_values_survive() {
    let dir = tempfile::tempdir().unwrap();
    let source = dir.path().join("policy.qual");
    std::fs::write(
        &source,
        r#"field lead id: string key from "Lead ID"
field company: string optional from "Company's \"name\""
field notes: string optional
stages cold < hot
otherwise cold
rule quoted: company = "O'Brien \\ \"Sons\"" => hot
rule tabbed: notes contains "a\tb" => hot
"#,
    )
    .unwrap();
    let policy = common::policy(source.to_str().unwrap());
    let columns = vec![
        "Lead ID".to_string(),
        "Company's \"name\"".to_string(),
        "notes".to_string(),
    ];
    let records = vec![
        vec!["1".into(), r#"O'Brien \ "Sons""#.into(), String::new()],
        vec!["2".into(), r#"O'Brien \\ "Sons""#.into(), "x a\tb y".into()],
        vec!["3".into(), "O'Brien".into(), "a\\tb".into()],
    ];
    let csv = dir.path().join("leads.csv");
    write_csv(&csv, &columns, &records);
    let mut all = vec![ROW.to_string()];
    all.extend(columns);
    let case = Case {
        name: "quotes".into(),
        policy,
        as_of: 0,
        csv,
        columns: all,
        now: false,
    };
    let expected = vec![Some("quoted"), Some("tabbed"), None];
    let rules: Vec<Option<&str>> = native(&case)
        .iter()
        .map(|o| match o {
            Outcome::Decided { rule, .. } => rule.as_deref().map(|r| match r {
                "quoted" => "quoted",
                "tabbed" => "tabbed",
                _ => "other",
            }),
            Outcome::Rejected => Some("rejected"),
        })
        .collect();
    assert_eq!(rules, expected);
    let cases = [case];
    check_engines(&cases, dir.path());
    for dialect in Dialect::ALL {
        let sql = query(&cases[0], dialect);
        assert!(
            sql.contains(&dialect.string(r#"O'Brien \ "Sons""#)),
            "{dialect}"
        );
    }
}

/// Ceilings (`=> at most STAGE`), hand-written: ceilings at three stages,
/// ceilings at and above the stage reached, leads with no stage (no
/// `otherwise`), missing values that leave a ceiling unknown, and a bad row.
/// The native outcomes are pinned first, so that the engines are compared on
/// leads that exercise each of these.
#[test]
fn ceilings_give_the_same_results_in_duckdb_and_postgres() {
    let dir = tempfile::tempdir().unwrap();
    let sql_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/sql");
    let policy = common::policy(sql_dir.join("ceilings.qual").to_str().unwrap());
    let csv = dir.path().join("ceilings.csv");
    let columns = example_csv(&policy, &sql_dir.join("ceilings.csv"), &csv);
    let mut all = vec![ROW.to_string()];
    all.extend(columns);
    let case = Case {
        name: "tests/sql/ceilings.qual".into(),
        policy,
        as_of: 0,
        csv,
        columns: all,
        now: false,
    };
    let expected = [
        "won by whale",         // K-01: only `anyone` holds, not below won
        "won by whale",         // K-02: `mid market` unknown (employees missing)
        "hot by mid market",    // K-03: lowered by one ceiling
        "warm by student",      // K-04: two hold: the lower decides
        "cold by rival",        // K-05: three hold: the lowest decides
        "cold by rival",        // K-06: two at one stage: the first written
        "cold by sanctioned",   // K-07: from hot
        "warm by mid",          // K-08: a ceiling at the stage reached does nothing
        "cold by rival",        // K-09: from warm, student and country missing
        "no stage",             // K-10: a ceiling holds but gives no stage
        "no stage",             // K-11: every value missing
        "hot by big",           // K-12: every ceiling unknown or not below hot
        "warm by small budget", // K-13: from hot
        "hot by big",           // K-14: `and not student`, student missing
        "cold by sanctioned",   // K-15: `or` with one side unknown, one true
        "rejected",             // K-16: a bad cell
        "cold by sanctioned",   // K-17: below student's warm
    ];
    let got: Vec<String> = native(&case)
        .into_iter()
        .map(|o| match o {
            Outcome::Decided {
                stage: Some(stage),
                rule: Some(rule),
                ..
            } => format!("{stage} by {rule}"),
            Outcome::Decided {
                stage: None,
                rule: None,
                ..
            } => "no stage".into(),
            Outcome::Decided { stage, rule, .. } => panic!("{stage:?} by {rule:?}"),
            Outcome::Rejected => "rejected".into(),
        })
        .collect();
    assert_eq!(got, expected);
    check_engines(&[case], dir.path());
}

/// Sanity of the harness itself: the tests above compare something.
#[test]
fn native_side_reads_generated_files() {
    let dir = tempfile::tempdir().unwrap();
    let case = generated_case(11, dir.path());
    let outcomes = native(&case);
    assert_eq!(outcomes.len(), 40);
    assert!(outcomes.contains(&Outcome::Rejected));
    assert!(
        outcomes
            .iter()
            .any(|o| matches!(o, Outcome::Decided { .. }))
    );
}

/// Golden files for every dialect, reviewed against each engine's SQL
/// reference (Snowflake, BigQuery and Spark cannot run here): every
/// construct, against the engine's current date.
#[test]
fn every_construct_in_every_dialect() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/sql/constructs.qual");
    let policy = common::policy(path.to_str().unwrap());
    for dialect in Dialect::ALL {
        let sql = sql::compile(
            &policy,
            &Options {
                dialect,
                source: Source::Table("crm.Leads 2026".into()),
                as_of: AsOf::Now,
                keep: vec!["Email".into()],
                jinja: false,
            },
        )
        .unwrap();
        insta::assert_snapshot!(format!("constructs_{}", dialect.key()), sql);
    }
}

/// What a dialect cannot express is refused, naming the construct and the
/// dialect, never compiled wrong.
#[test]
fn unsupported_constructs_are_refused_by_name() {
    let dir = tempfile::tempdir().unwrap();
    let source = dir.path().join("policy.qual");
    std::fs::write(
        &source,
        "field a: list optional separator \",\"\nfield b: list optional\nstages no < yes\na = b => yes\n",
    )
    .unwrap();
    let out = common::qualify(&["compile", source.to_str().unwrap(), "--dialect", "duckdb"]);
    assert_eq!(out.status.code(), Some(1));
    let err = common::stderr(&out);
    assert!(
        err.contains("comparing the lists `a` and `b` cannot be compiled to DuckDB SQL: their separators differ"),
        "{err}"
    );
    let mut policy = common::policy(source.to_str().unwrap());
    policy.rules.clear();
    policy.stages[0].name = "no\0stage".into();
    let over_leads = |dialect| Options {
        dialect,
        source: Source::Table("leads".into()),
        as_of: AsOf::Now,
        keep: vec![],
        jinja: false,
    };
    let refused = sql::compile(&policy, &over_leads(Dialect::Postgres)).unwrap_err();
    assert_eq!(
        refused.to_string(),
        "a stage name (\"no\\0stage\") cannot be compiled to PostgreSQL SQL: PostgreSQL text cannot contain the NUL character"
    );
    // DuckDB holds it.
    assert!(sql::compile(&policy, &over_leads(Dialect::DuckDb)).is_ok());
}

/// The command line: the header, a view, a dbt model, and the query the
/// README tells CI to diff is stable.
#[test]
fn compile_command_writes_views_and_dbt_models() {
    let policy = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/b2b-saas/policy.qual");
    let args = [
        "compile",
        policy,
        "--dialect",
        "postgres",
        "--table",
        "crm.leads",
        "--view",
        "analytics.qualified_leads",
        "--as-of",
        "2026-06-01",
    ];
    let view = common::qualify(&args);
    assert!(view.status.success(), "{}", common::stderr(&view));
    let text = common::stdout(&view);
    assert!(text.contains("CREATE OR REPLACE VIEW \"analytics\".\"qualified_leads\" AS\nWITH"));
    assert!(text.contains("FROM \"crm\".\"leads\""));
    assert!(text.trim_end().ends_with(';'));
    assert!(text.starts_with("-- Generated by `qualify compile` from policy.qual for PostgreSQL."));
    let again = common::qualify(&args);
    assert_eq!(
        common::stdout(&again),
        text,
        "compiling twice gives the same text"
    );

    let dbt = common::qualify(&[
        "compile",
        policy,
        "--target",
        "dbt",
        "--dialect",
        "snowflake",
        "--table",
        "crm.leads",
    ]);
    assert!(dbt.status.success(), "{}", common::stderr(&dbt));
    let model = common::stdout(&dbt);
    assert!(model.contains("{{ config(materialized='view') }}"));
    assert!(model.starts_with("{{ config(materialized='view') }}\n{% raw %}-- Generated by"));
    assert!(model.contains("FROM {% endraw %}{{ source('crm', 'leads') }}{% raw %}\n"));
    assert!(model.ends_with("\n{% endraw %}\n"));
    assert!(model.contains("DATEADD(day, -30, CURRENT_DATE)"));
    insta::assert_snapshot!("dbt_model_b2b_saas_snowflake", model);

    let bad = common::qualify(&[
        "compile",
        policy,
        "--target",
        "dbt",
        "--dialect",
        "spark",
        "--table",
        "a b",
    ]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(common::stderr(&bad).contains("for dbt, name a model"));
}

/// `run` and the SQL name the result columns alike when a kept or key
/// column already has the name `stage`, a score's name or `rule`.
#[test]
fn clashing_result_columns_are_renamed_alike_in_run_and_sql() {
    let dir = tempfile::tempdir().unwrap();
    let policy_path = dir.path().join("p.qual");
    std::fs::write(
        &policy_path,
        "field id: string key from \"stage\"\nfield demo: bool from \"Demo\"\n\
         score fit {\n  +10 when demo\n}\n\
         stages cold < hot\notherwise cold\nrule asked: demo => hot\n",
    )
    .unwrap();
    let leads = dir.path().join("l.csv");
    std::fs::write(&leads, "stage,Demo,rule,fit,qualify_error\nL1,yes,r,f,x\n").unwrap();
    let out = common::qualify(&[
        "run",
        policy_path.to_str().unwrap(),
        leads.to_str().unwrap(),
        "--keep-columns",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", common::stderr(&out));
    let header = common::stdout(&out).lines().next().unwrap().to_string();
    assert_eq!(
        header,
        "stage,Demo,rule,fit,qualify_error,qualify_stage,qualify_fit,qualify_rule"
    );
    let policy = common::policy(policy_path.to_str().unwrap());
    let columns = sql::result_columns(
        &policy,
        &Options {
            dialect: Dialect::DuckDb,
            source: Source::Table("leads".into()),
            as_of: AsOf::Now,
            keep: vec!["rule".into(), "fit".into(), "qualify_error".into()],
            jinja: false,
        },
    );
    assert_eq!(
        columns,
        [
            "stage",
            "rule",
            "fit",
            "qualify_error",
            "qualify_stage",
            "qualify_fit",
            "qualify_rule",
            "qualify_qualify_error"
        ]
    );
}
