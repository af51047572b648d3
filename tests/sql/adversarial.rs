//! Issue 15, items 1 and 2: no policy text, name, file name or command-line
//! name can leave its literal, identifier or comment, in any target.
//!
//! An adversarial corpus (line breaks, `--`, `;`, quotes, backslashes, `$$`,
//! Jinja delimiters, NUL and every other control character) is put into
//! policy values, column names, `--table`, `--view`, `--keep` and the policy's
//! file name; `qualify compile` (the binary) writes each query, and:
//!
//! - DuckDB parses it as exactly one statement (a SELECT, or one CREATE with
//!   `--view`), runs it, and a canary table survives;
//! - PostgreSQL (`psql -f`, as the README runs it) sends exactly one
//!   statement, the server parses the query as one (a cursor refuses more),
//!   the canary survives and only the view is created;
//! - both give every lead the native (`qualify run`) outcome;
//! - the dbt model, rendered by jinja2 with `ref`/`source`/`config` stubs
//!   (and recording stubs for dbt's other functions), calls `config` and
//!   `ref` once each and nothing else, and renders to exactly the SQL target's
//!   query;
//! - a name holding a control character (or, in a dbt model, a Jinja
//!   delimiter) is refused, and nothing is written.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use super::{Case, Outcome, ROW, duckdb_python, native, outcomes, required};
use qualify::sql::Dialect;

/// Texts that end or open something in SQL, psql, Jinja or Spark.
fn corpus() -> Vec<String> {
    let mut texts: Vec<String> = [
        "\n",
        "x\nDROP TABLE canary; --",
        "--",
        "-- x",
        ";",
        "'",
        "''",
        "\"",
        "\\",
        "\\'",
        "`",
        "$$",
        "$q$",
        "{{",
        "{%",
        "{#",
        "}}",
        "%}",
        "#}",
        "{{ 7 * 7 }}",
        "{% endraw %}{{ log('injected', info=True) }}{% raw %}",
        "{%- endraw -%}{{ run_query('DROP TABLE canary') }}",
        "{# not a comment",
        "/*",
        "*/",
        "${env:HOME}",
        "'); DROP TABLE canary; --",
        "\"; DROP TABLE canary; --",
        "\\'; DROP TABLE canary; --",
        "E'\\x41",
        "U&\"\\0041\"",
        ":name :'name'",
        "\u{2028}",
        "\u{85}",
        "é ü",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    for c in (0u8..0x20).chain([0x7f]) {
        texts.push(format!("a{}b", c as char));
    }
    texts
}

fn has_control(text: &str) -> bool {
    text.chars().any(char::is_control)
}

/// A policy string literal for any text the language can write (not CR).
fn lit(text: &str) -> String {
    let mut out = String::from("\"");
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A policy with `s` in every kind of value: literals compared every way,
/// a yes spelling, an enum value, a missing spelling, a list separator.
fn values_policy(s: &str) -> String {
    let l = lit(s);
    format!(
        "field lead id: string key from \"Lead ID\"
field note: string optional from \"Note\"
field flag: bool optional from \"Flag\" true \"yes\", {l} false \"no\"
field kind: enum {{ {l}, plain }} optional from \"Kind\" missing {missing}
field tags: list optional from \"Tags\" separator {l}
stages cold < warm < hot
otherwise cold
score points {{
  +5 when note = {l}
  +1 when tags contains \"a\"
}}
rule exact: note = {l} => hot
rule near: note contains {l} or note starts with {l} or note ends with {l} ignoring case or kind = {l} => warm
rule listed: tags contains \"b\" and flag => warm
rule listed again: note in {{ {l}, \"z\" }} => warm
",
        missing = lit(&format!("{s}?"))
    )
}

fn values_rows(s: &str) -> (Vec<String>, Vec<Vec<String>>) {
    let columns = ["Lead ID", "Note", "Flag", "Kind", "Tags"]
        .map(String::from)
        .to_vec();
    let rows = vec![
        vec!["1".into(), s.into(), s.into(), s.into(), format!("a{s}b")],
        vec![
            "2".into(),
            format!("x{s}y"),
            "no".into(),
            "PLAIN".into(),
            "a".into(),
        ],
        vec![
            "3".into(),
            "other".into(),
            "maybe".into(),
            String::new(),
            String::new(),
        ],
        vec![
            "4".into(),
            String::new(),
            String::new(),
            format!("{s}?"),
            String::new(),
        ],
        vec![
            "5".into(),
            format!("{}Z", s.to_uppercase()),
            "YES".into(),
            "plain".into(),
            format!("b{s}{s} a"),
        ],
    ];
    (columns, rows)
}

/// A policy whose column names hold `s`.
fn names_policy(s: &str) -> String {
    format!(
        "field lead id: string key from {}
field note: string optional from {}
field flag: bool optional from {}
stages cold < hot
otherwise cold
rule exact: note = {} and flag => hot
",
        lit(&format!("ID {s}")),
        lit(s),
        lit(&format!("Flag{s}")),
        lit(s)
    )
}

fn names_rows(s: &str) -> (Vec<String>, Vec<Vec<String>>) {
    let columns = vec![
        format!("ID {s}"),
        s.to_string(),
        format!("Flag{s}"),
        format!("keep{s}"),
    ];
    let rows = vec![
        vec!["1".into(), s.into(), "yes".into(), "k1".into()],
        vec!["2".into(), "other".into(), "yes".into(), s.into()],
        vec!["3".into(), s.into(), "bad".into(), String::new()],
    ];
    (columns, rows)
}

/// A file name for a policy: the text itself where a file name can hold it.
fn file_name(i: usize, s: &str) -> String {
    if s.contains('/') || s.contains('\0') {
        format!("{i}.qual")
    } else {
        format!("{i}{s}.qual")
    }
}

fn compile_cli<S: AsRef<OsStr>>(args: &[S]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_qualify"))
        .arg("compile")
        .args(args)
        .env("NO_COLOR", "1")
        .output()
        .expect("run qualify")
}

/// `write_csv` with every cell quoted: a header cell holding `;` or a tab
/// must not look like a delimiter to the native reader.
fn write_quoted_csv(path: &Path, columns: &[String], records: &[Vec<String>]) {
    let mut w = csv::WriterBuilder::new()
        .quote_style(csv::QuoteStyle::Always)
        .from_path(path)
        .unwrap();
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

/// One compiled output to run.
struct Run {
    label: String,
    case: usize,
    dialect: Dialect,
    /// The CLI's output.
    sql: PathBuf,
    table: String,
    columns: Vec<String>,
    rows: Vec<Vec<String>>,
    view: Option<String>,
    /// A dbt model, with the SQL target's output for the same query.
    dbt: Option<PathBuf>,
}

struct Corpus {
    dir: PathBuf,
    cases: Vec<Case>,
    runs: Vec<Run>,
    refusals: usize,
}

impl Corpus {
    /// Write a policy under its adversarial file name (for the CLI) and a
    /// plain one (for the native side), and its lead file.
    fn case(
        &mut self,
        i: usize,
        s: &str,
        text: &str,
        columns: &[String],
        rows: &[Vec<String>],
    ) -> (PathBuf, usize) {
        let dir = self.dir.join(format!("case-{}", self.cases.len()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(file_name(i, s));
        std::fs::write(&path, text).unwrap();
        let plain = dir.join("plain.qual");
        std::fs::write(&plain, text).unwrap();
        let policy = super::common::policy(plain.to_str().unwrap());
        let csv = dir.join("leads.csv");
        write_quoted_csv(&csv, columns, rows);
        let mut all = vec![ROW.to_string()];
        all.extend(columns.iter().cloned());
        self.cases.push(Case {
            name: format!("{s:?} in {}", path.display()),
            policy,
            as_of: 0,
            csv,
            columns: all,
            now: false,
        });
        (path, self.cases.len() - 1)
    }

    /// Compile with the CLI; `Err(stderr)` when refused (then nothing may
    /// have been written).
    fn compile(&self, policy: &Path, dialect: Dialect, extra: &[&OsStr]) -> Result<String, String> {
        let mut args: Vec<&OsStr> = vec![
            policy.as_os_str(),
            OsStr::new("--dialect"),
            OsStr::new(dialect.key()),
            OsStr::new("--as-of"),
            OsStr::new("2026-06-01"),
        ];
        args.extend_from_slice(extra);
        let out = compile_cli(&args);
        match out.status.code() {
            Some(0) => Ok(String::from_utf8(out.stdout).expect("the output is UTF-8")),
            Some(1) => {
                assert!(out.stdout.is_empty(), "a refused query wrote something");
                Err(String::from_utf8_lossy(&out.stderr).into_owned())
            }
            _ => panic!(
                "qualify compile {args:?}: {:?}\n{}",
                out.status,
                String::from_utf8_lossy(&out.stderr)
            ),
        }
    }

    fn write(&self, name: &str, text: &str) -> PathBuf {
        let path = self.dir.join(name);
        std::fs::write(&path, text).unwrap();
        path
    }
}

fn os(s: &str) -> &OsStr {
    OsStr::new(s)
}

#[test]
fn adversarial_text_never_leaves_its_literal_identifier_or_comment() {
    let tmp = tempfile::tempdir().unwrap();
    let mut c = Corpus {
        dir: tmp.path().to_path_buf(),
        cases: Vec::new(),
        runs: Vec::new(),
        refusals: 0,
    };
    let corpus = corpus();
    let keep = ["--keep", ROW];
    for (i, s) in corpus.iter().enumerate() {
        if s.contains('\r') {
            continue; // A policy cannot write CR (names below can).
        }
        // Values.
        let (columns, rows) = values_rows(s);
        let (path, case) = c.case(i, s, &values_policy(s), &columns, &rows);
        for dialect in [Dialect::DuckDb, Dialect::Postgres] {
            let args: Vec<&OsStr> = keep.iter().map(|a| os(a)).collect();
            match c.compile(&path, dialect, &args) {
                Ok(sql) => {
                    let sql_path = c.write(&format!("values-{i}-{}.sql", dialect.key()), &sql);
                    let dbt = (dialect == Dialect::DuckDb).then(|| {
                        let mut dbt_args = args.clone();
                        dbt_args.extend([os("--target"), os("dbt")]);
                        let model = c.compile(&path, dialect, &dbt_args).expect("the dbt model");
                        c.write(&format!("values-{i}.dbt.sql"), &model)
                    });
                    c.runs.push(Run {
                        label: format!("value {s:?}, {dialect}"),
                        case,
                        dialect,
                        sql: sql_path,
                        table: "leads".into(),
                        columns: columns.clone(),
                        rows: rows.clone(),
                        view: None,
                        dbt,
                    });
                }
                Err(err) => {
                    assert!(
                        dialect == Dialect::Postgres && s.contains('\0'),
                        "value {s:?} refused by {dialect}: {err}"
                    );
                    assert!(err.contains("NUL"), "{err}");
                    c.refusals += 1;
                }
            }
        }

        // Names: columns, --keep, --table, --view, the file name.
        let (columns, rows) = names_rows(s);
        let (path, case) = c.case(i, s, &names_policy(s), &columns, &rows);
        // A command line cannot hold NUL (the policy's column names do).
        let arg = s.replace('\0', "");
        let keep_name = format!("keep{arg}");
        let table = format!("t{arg}");
        let view = format!("v{arg}");
        for dialect in [Dialect::DuckDb, Dialect::Postgres] {
            for with_view in [false, true] {
                let mut args: Vec<&OsStr> = vec![
                    os("--keep"),
                    os(ROW),
                    os("--keep"),
                    os(&keep_name),
                    os("--table"),
                    os(&table),
                ];
                if with_view {
                    args.extend([os("--view"), os(&view)]);
                }
                match c.compile(&path, dialect, &args) {
                    Ok(sql) => {
                        assert!(!has_control(s), "{s:?} in a name was accepted");
                        let sql_path = c.write(
                            &format!("names-{i}-{}-{with_view}.sql", dialect.key()),
                            &sql,
                        );
                        c.runs.push(Run {
                            label: format!("names with {s:?}, {dialect}, view: {with_view}"),
                            case,
                            dialect,
                            sql: sql_path,
                            table: table.clone(),
                            columns: columns.clone(),
                            rows: rows.clone(),
                            view: with_view.then(|| view.clone()),
                            dbt: None,
                        });
                    }
                    Err(err) => {
                        assert!(has_control(s), "names with {s:?} refused: {err}");
                        assert!(err.contains("control character"), "{err}");
                        c.refusals += 1;
                    }
                }
            }
        }
        // The dbt model reads `ref('leads')`: the names hold `s`.
        if !has_control(s) {
            let dbt_args = [
                os("--keep"),
                os(ROW),
                os("--keep"),
                os(&keep_name),
                os("--target"),
                os("dbt"),
            ];
            let jinja = ["{{", "{%", "{#"].iter().any(|d| s.contains(d));
            match c.compile(&path, Dialect::DuckDb, &dbt_args) {
                Ok(model) => {
                    assert!(!jinja, "{s:?} in a dbt model's names was accepted");
                    let plain_args = [os("--keep"), os(ROW), os("--keep"), os(&keep_name)];
                    let sql = c.compile(&path, Dialect::DuckDb, &plain_args).unwrap();
                    let sql_path = c.write(&format!("names-{i}-ref.sql"), &sql);
                    let model_path = c.write(&format!("names-{i}.dbt.sql"), &model);
                    c.runs.push(Run {
                        label: format!("dbt names with {s:?}"),
                        case,
                        dialect: Dialect::DuckDb,
                        sql: sql_path,
                        table: "leads".into(),
                        columns: columns.clone(),
                        rows: rows.clone(),
                        view: None,
                        dbt: Some(model_path),
                    });
                }
                Err(err) => {
                    assert!(jinja, "dbt names with {s:?} refused: {err}");
                    assert!(err.contains("would be read by Jinja"), "{err}");
                    c.refusals += 1;
                }
            }
        }
    }
    assert!(c.refusals > 60, "only {} refusals", c.refusals);
    assert!(c.runs.len() > 150, "only {} runs", c.runs.len());
    run_duckdb(&c);
    run_postgres(&c);
}

/// CR (which no policy can write) and every other control character in
/// `--keep`, `--table` and `--view` are refused; in the file name they are
/// escaped in the header comment.
#[test]
fn control_characters_in_command_line_names_are_refused_and_file_names_escaped() {
    let tmp = tempfile::tempdir().unwrap();
    let text = names_policy("Note");
    for c in (1u8..0x20).chain([0x7f]) {
        let name = format!("a{}b", c as char);
        let dir = tmp.path().join(format!("{c}"));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(format!("p{name}.qual"));
        std::fs::write(&path, &text).unwrap();
        for (option, target) in [
            ("--keep", "sql"),
            ("--table", "sql"),
            ("--view", "sql"),
            ("--keep", "dbt"),
        ] {
            for dialect in Dialect::ALL {
                let out = compile_cli(&[
                    path.as_os_str(),
                    os("--dialect"),
                    os(dialect.key()),
                    os("--target"),
                    os(target),
                    os(option),
                    os(&name),
                ]);
                assert_eq!(out.status.code(), Some(1), "{option} {name:?} {dialect}");
                assert!(out.stdout.is_empty());
                let err = String::from_utf8_lossy(&out.stderr);
                assert!(err.contains("control character"), "{err}");
            }
        }
        for (dialect, target) in [(Dialect::DuckDb, "sql"), (Dialect::BigQuery, "dbt")] {
            let out = compile_cli(&[
                path.as_os_str(),
                os("--dialect"),
                os(dialect.key()),
                os("--target"),
                os(target),
            ]);
            assert!(out.status.success());
            let sql = String::from_utf8(out.stdout).unwrap();
            let header = format!(
                "from p{}b.qual for",
                dialect.comment(&format!("a{}", c as char))
            );
            assert!(sql.contains(&header), "{header:?} in\n{sql}");
            for line in sql.lines().take(4) {
                assert!(line.starts_with("-- ") || line.starts_with("{"), "{line:?}");
                assert!(!line.chars().any(|c| c.is_control()), "{line:?}");
            }
        }
    }
}

// ---------------------------------------------------------------- DuckDB

const DUCKDB_ADVERSARIAL: &str = r#"
import duckdb, json, sys
runs = json.load(open(sys.argv[1]))
try:
    import jinja2
except ImportError:
    jinja2 = None

def q(name):
    return '"' + name.replace('"', '""') + '"'

def render(model):
    calls = []
    def stub(fn, result):
        def call(*args, **kwargs):
            calls.append([fn, list(args), kwargs])
            return result
        return call
    env = jinja2.Environment(undefined=jinja2.StrictUndefined)
    names = {n: stub(n, '') for n in ["log", "run_query", "env_var", "var", "print", "return", "statement", "adapter", "exceptions", "modules", "execute", "target", "this", "is_incremental"]}
    names["ref"] = stub("ref", q("leads"))
    names["source"] = stub("source", q("leads"))
    names["config"] = stub("config", "")
    return env.from_string(model).render(**names), calls

results = []
for run in runs:
    con = duckdb.connect()
    con.execute("CREATE TABLE canary (x INTEGER)")
    con.execute("INSERT INTO canary VALUES (1)")
    cols = [q("qualify_test_row")] + [q(c) for c in run["columns"]]
    con.execute("CREATE TABLE %s (%s)" % (q(run["table"]), ", ".join(c + " VARCHAR" for c in cols)))
    con.executemany("INSERT INTO %s VALUES (%s)" % (q(run["table"]), ", ".join("?" for _ in cols)),
                    [[str(i + 1)] + row for i, row in enumerate(run["rows"])])
    result = {}
    text = open(run["sql"], encoding="utf-8").read()
    if run["dbt"] is not None:
        if jinja2 is None:
            result["no_jinja"] = True
        else:
            result["rendered"], result["calls"] = render(open(run["dbt"], encoding="utf-8").read())
            text = result["rendered"]
    statements = con.extract_statements(text)
    result["statements"] = [str(s.type) for s in statements]
    cur = con.execute(text)
    if run["view"] is not None:
        cur = con.execute("SELECT * FROM " + q(run["view"]))
    names = [d[0] for d in cur.description]
    result["rows"] = [dict(zip(names, row)) for row in cur.fetchall()]
    result["canary"] = con.execute("SELECT count(*) FROM canary").fetchone()[0]
    result["relations"] = sorted(r[0] for r in con.execute(
        "SELECT table_name FROM information_schema.tables").fetchall())
    results.append(result)
json.dump(results, open(sys.argv[2], "w"), default=str)
"#;

fn run_duckdb(c: &Corpus) {
    let Some(python) = duckdb_python() else {
        assert!(
            !required(),
            "DuckDB (Python package) is required but missing"
        );
        eprintln!("skipping DuckDB: no Python with the duckdb package");
        return;
    };
    let runs: Vec<&Run> = c
        .runs
        .iter()
        .filter(|r| r.dialect == Dialect::DuckDb)
        .collect();
    let manifest: Vec<serde_json::Value> = runs
        .iter()
        .map(|r| {
            serde_json::json!({
                "sql": r.sql, "table": r.table, "columns": r.columns, "rows": r.rows,
                "view": r.view, "dbt": r.dbt,
            })
        })
        .collect();
    let manifest_path = c.write(
        "duckdb-adversarial.json",
        &serde_json::to_string(&manifest).unwrap(),
    );
    let runner = c.write("duckdb_adversarial.py", DUCKDB_ADVERSARIAL);
    let results_path = c.dir.join("duckdb-adversarial-results.json");
    let out = Command::new(python)
        .arg(&runner)
        .arg(&manifest_path)
        .arg(&results_path)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "DuckDB failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let results: Vec<serde_json::Value> =
        serde_json::from_str(&std::fs::read_to_string(&results_path).unwrap()).unwrap();
    let mut rendered = 0;
    for (run, result) in runs.iter().zip(&results) {
        let label = &run.label;
        let want = if run.view.is_some() {
            "StatementType.CREATE"
        } else {
            "StatementType.SELECT"
        };
        assert_eq!(result["statements"], serde_json::json!([want]), "{label}");
        assert_eq!(result["canary"], 1, "{label}: the canary");
        let mut relations = vec!["canary".to_string(), run.table.clone()];
        relations.extend(run.view.clone());
        relations.sort();
        assert_eq!(result["relations"], serde_json::json!(relations), "{label}");
        if run.dbt.is_some() {
            if result.get("no_jinja").is_some() {
                assert!(!required(), "jinja2 (PyPI) is required but missing");
                eprintln!("skipping dbt rendering: no jinja2");
            } else {
                let calls = &result["calls"];
                assert_eq!(
                    calls,
                    &serde_json::json!([["config", [], {"materialized": "view"}], ["ref", ["leads"], {}]]),
                    "{label}: Jinja calls"
                );
                // Rendering changes nothing: the model is the SQL target's
                // query (from `"leads"`), bar the trailing semicolon.
                let sql = std::fs::read_to_string(&run.sql).unwrap();
                let model = result["rendered"].as_str().unwrap();
                assert_eq!(
                    model.trim(),
                    sql.trim().strip_suffix(';').unwrap(),
                    "{label}: rendered model"
                );
                rendered += 1;
            }
        }
        let rows: Vec<serde_json::Map<String, serde_json::Value>> = result["rows"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r.as_object().unwrap().clone())
            .collect();
        compare(run, &c.cases[run.case], rows);
    }
    if required() {
        assert!(rendered > 40, "only {rendered} dbt models rendered");
    }
}

fn compare(run: &Run, case: &Case, rows: Vec<serde_json::Map<String, serde_json::Value>>) {
    let got = outcomes(case, rows);
    let want: Vec<Outcome> = native(case);
    assert_eq!(
        got,
        want,
        "{}: {}",
        run.label,
        std::fs::read_to_string(&run.sql).unwrap()
    );
    assert!(
        want.iter()
            .any(|o| matches!(o, Outcome::Decided { stage: Some(s), .. } if s != "cold")),
        "{}: nothing but cold",
        run.label
    );
}

// ---------------------------------------------------------------- PostgreSQL

/// A text as a PostgreSQL expression that does not use the escaping under
/// test: its UTF-8 bytes in hex.
fn pg_text(text: &str) -> String {
    let hex: String = text.bytes().map(|b| format!("{b:02x}")).collect();
    format!("convert_from(decode('{hex}', 'hex'), 'UTF8')")
}

fn run_postgres(c: &Corpus) {
    let Ok(conninfo) = std::env::var("QUALIFY_PG") else {
        assert!(
            !required(),
            "PostgreSQL is required but QUALIFY_PG is not set"
        );
        eprintln!("skipping PostgreSQL: QUALIFY_PG is not set (see .ci/postgres.sh)");
        return;
    };
    let schema = format!("qualify_adversarial_{}", std::process::id());
    for (n, run) in c
        .runs
        .iter()
        .filter(|r| r.dialect == Dialect::Postgres)
        .enumerate()
    {
        let label = &run.label;
        let mut cols = vec![ROW.to_string()];
        cols.extend(run.columns.iter().cloned());
        let create = format!(
            "format('CREATE TABLE %I ({})', {}, {})",
            vec!["%I text"; cols.len()].join(", "),
            pg_text(&run.table),
            cols.iter()
                .map(|c| pg_text(c))
                .collect::<Vec<_>>()
                .join(", ")
        );
        let mut setup = format!(
            "\\pset format csv\nDROP SCHEMA IF EXISTS {schema} CASCADE;\nCREATE SCHEMA {schema};\nSET search_path TO {schema};\n\
             CREATE TABLE canary (x int);\nINSERT INTO canary VALUES (1);\nSELECT {create} \\gexec\n"
        );
        for (i, row) in run.rows.iter().enumerate() {
            let mut values = vec![pg_text(&(i + 1).to_string())];
            values.extend(row.iter().map(|v| pg_text(v)));
            setup.push_str(&format!(
                "SELECT format('INSERT INTO %I VALUES ({})', {}, {}) \\gexec\n",
                vec!["%L"; values.len()].join(", "),
                pg_text(&run.table),
                values.join(", ")
            ));
        }
        let rows_path = c.dir.join(format!("pg-rows-{n}.csv"));
        let mut check = format!(
            "\\o\n\\timing off\nSELECT 'canary', count(*) FROM canary;\n\
             SELECT 'relations', string_agg(relname, '|' ORDER BY relname) FROM pg_class WHERE relnamespace = '{schema}'::regnamespace AND relkind IN ('r', 'v');\n"
        );
        match &run.view {
            Some(view) => check.push_str(&format!(
                "\\o '{}'\nSELECT format('SELECT * FROM %I', {}) \\gexec\n\\o\n",
                rows_path.display(),
                pg_text(view)
            )),
            None => {
                // The server parses the text as one query: a cursor cannot
                // be opened on more.
                check.push_str(&format!(
                    "\\set q `cat '{}'`\nSELECT set_config('qualify.q', :'q', false) \\g /dev/null\n\
                     DO $body$ DECLARE r record; n int := 0; BEGIN FOR r IN EXECUTE current_setting('qualify.q') LOOP n := n + 1; END LOOP; RAISE NOTICE 'cursor rows %', n; END $body$;\n",
                    run.sql.display()
                ));
            }
        }
        check.push_str(&format!("DROP SCHEMA {schema} CASCADE;\n"));
        let setup_path = c.write(&format!("pg-setup-{n}.sql"), &setup);
        let check_path = c.write(&format!("pg-check-{n}.sql"), &check);
        let out = Command::new("psql")
            .args(["-X", "-q", "-v", "ON_ERROR_STOP=1", "-d"])
            .arg(&conninfo)
            .arg("-f")
            .arg(&setup_path)
            .args(["-c", "\\timing on"])
            .arg("-c")
            .arg(format!("\\o '{}'", rows_path.display()))
            .arg("-f")
            .arg(&run.sql)
            .arg("-f")
            .arg(&check_path)
            .output()
            .expect("run psql");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{label}: psql failed:\n{stderr}");
        let stdout = String::from_utf8_lossy(&out.stdout);
        let statements = stdout.lines().filter(|l| l.starts_with("Time: ")).count();
        assert_eq!(statements, 1, "{label}: statements sent\n{stdout}");
        assert!(stdout.contains("canary,1"), "{label}: the canary\n{stdout}");
        let mut relations = vec!["canary".to_string(), run.table.clone()];
        relations.extend(run.view.clone());
        relations.sort();
        let relations_line: String = stdout
            .lines()
            .filter(|l| l.starts_with("relations,"))
            .collect::<Vec<_>>()
            .join("\n");
        let mut record = csv::ReaderBuilder::new()
            .has_headers(false)
            .from_reader(relations_line.as_bytes())
            .into_records();
        let got = record.next().expect("relations").unwrap();
        assert_eq!(
            got.get(1).unwrap(),
            relations.join("|"),
            "{label}: relations"
        );
        if run.view.is_none() {
            assert!(stderr.contains("cursor rows"), "{label}: {stderr}");
        }
        compare(
            run,
            &c.cases[run.case],
            pg_csv_rows(&rows_path, &c.cases[run.case]),
        );
    }
}

/// `\pset format csv` output (with its header) as JSON rows: NULL and empty
/// text both read as null (no result column is ever empty text), scores as
/// numbers.
fn pg_csv_rows(path: &Path, case: &Case) -> Vec<serde_json::Map<String, serde_json::Value>> {
    let mut reader = csv::Reader::from_path(path).unwrap();
    let headers: Vec<String> = reader.headers().unwrap().iter().map(String::from).collect();
    let scores: Vec<&str> = case.policy.scores.iter().map(|s| s.name.as_str()).collect();
    reader
        .records()
        .map(|r| {
            let r = r.unwrap();
            headers
                .iter()
                .zip(r.iter())
                .map(|(h, v)| {
                    let value = if v.is_empty() {
                        serde_json::Value::Null
                    } else if scores.contains(&h.as_str()) {
                        serde_json::json!(v.parse::<f64>().unwrap())
                    } else {
                        serde_json::Value::String(v.to_string())
                    };
                    (h.clone(), value)
                })
                .collect()
        })
        .collect()
}
