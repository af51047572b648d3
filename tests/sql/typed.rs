//! Issue 15, item 13: typed warehouse columns. The lead files are loaded
//! with native types — in DuckDB by `read_csv_auto` (which makes Yes/No a
//! BOOLEAN, whole numbers BIGINT, decimals DOUBLE, dates DATE and TIMESTAMP),
//! in PostgreSQL as a table whose column types are sniffed the same way —
//! and the compiled query must give every lead what `qualify run` gives it on
//! the text file.

use std::path::Path;
use std::process::Command;

use super::{Case, ROW, assert_same, duckdb_python, example_csv, query, required, results};
use qualify::check::policy::date_from_ymd;
use qualify::sql::Dialect;

fn cases(dir: &Path) -> Vec<Case> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let files = [
        (
            "examples/b2b-saas/policy.qual",
            "examples/b2b-saas/leads.csv",
        ),
        (
            "examples/enterprise-meddpicc/policy.qual",
            "examples/enterprise-meddpicc/leads.csv",
        ),
        (
            "examples/x-education/policy.qual",
            "examples/x-education/leads.csv",
        ),
        (
            "examples/team-shared/inbound.qual",
            "examples/team-shared/leads.csv",
        ),
        (
            "examples/team-shared/outbound.qual",
            "examples/team-shared/leads.csv",
        ),
        ("tests/sql/typed.qual", "tests/sql/typed.csv"),
    ];
    files
        .iter()
        .enumerate()
        .map(|(i, (policy_path, leads))| {
            let policy = super::common::policy(root.join(policy_path).to_str().unwrap());
            let csv = dir.join(format!("typed-{i}.csv"));
            let columns = example_csv(&policy, &root.join(leads), &csv);
            let mut all = vec![ROW.to_string()];
            all.extend(columns);
            Case {
                name: format!("{policy_path} on typed columns"),
                policy,
                as_of: date_from_ymd("2026-06-01").unwrap(),
                csv,
                columns: all,
                now: false,
            }
        })
        .collect()
}

const DUCKDB_TYPED: &str = r#"
import duckdb, json, sys
cases = json.load(open(sys.argv[1]))
types = []
for case in cases:
    con = duckdb.connect()
    con.execute("CREATE TABLE leads AS SELECT * FROM read_csv_auto(?, header=true)", [case["csv"]])
    types.append(sorted(set(r[1] for r in con.execute("DESCRIBE leads").fetchall())))
    cur = con.execute(case["sql"])
    names = [d[0] for d in cur.description]
    with open(case["out"], "w") as out:
        for row in cur.fetchall():
            out.write(json.dumps(dict(zip(names, row)), default=str) + "\n")
json.dump(types, open(sys.argv[2], "w"))
"#;

#[test]
fn typed_columns_give_the_same_results_in_duckdb() {
    let Some(python) = duckdb_python() else {
        assert!(
            !required(),
            "DuckDB (Python package) is required but missing"
        );
        eprintln!("skipping DuckDB: no Python with the duckdb package");
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let cases = cases(dir);
    let manifest: Vec<serde_json::Value> = cases
        .iter()
        .enumerate()
        .map(|(i, case)| {
            serde_json::json!({
                "csv": case.csv,
                "sql": query(case, Dialect::DuckDb),
                "out": dir.join(format!("typed-duckdb-{i}.jsonl")),
            })
        })
        .collect();
    let manifest_path = dir.join("typed.json");
    std::fs::write(&manifest_path, serde_json::to_string(&manifest).unwrap()).unwrap();
    let runner = dir.join("typed.py");
    std::fs::write(&runner, DUCKDB_TYPED).unwrap();
    let types_path = dir.join("types.json");
    let out = Command::new(python)
        .arg(&runner)
        .arg(&manifest_path)
        .arg(&types_path)
        .output()
        .unwrap();
    let got = results("DuckDB", &out, dir, "typed-duckdb", &cases);
    let types: Vec<Vec<String>> =
        serde_json::from_str(&std::fs::read_to_string(&types_path).unwrap()).unwrap();
    let all: Vec<&String> = types.iter().flatten().collect();
    for ty in ["BOOLEAN", "BIGINT", "DOUBLE", "DATE", "TIMESTAMP"] {
        assert!(all.iter().any(|t| *t == ty), "no {ty} column in {types:?}");
    }
    assert_same("DuckDB (typed columns)", &cases, &got);
}

/// The PostgreSQL type a column would be given: the narrowest that every
/// non-empty cell reads as.
fn pg_type(cells: &[&str]) -> &'static str {
    let cells: Vec<&str> = cells
        .iter()
        .map(|c| c.trim())
        .filter(|c| !c.is_empty())
        .collect();
    let all = |test: &dyn Fn(&str) -> bool| !cells.is_empty() && cells.iter().all(|c| test(c));
    let date = |c: &str| c.len() == 10 && date_from_ymd(c).is_some();
    if all(&|c| ["yes", "no", "true", "false"].contains(&c.to_lowercase().as_str())) {
        "boolean"
    } else if all(&|c| c.parse::<i64>().is_ok()) {
        "bigint"
    } else if all(&|c| {
        c.chars()
            .all(|ch| ch.is_ascii_digit() || ".eE+-".contains(ch))
            && c.parse::<f64>().is_ok_and(f64::is_finite)
    }) {
        "double precision"
    } else if all(&date) {
        "date"
    } else if all(&|c| {
        c.len() == 19
            && date(&c[..10])
            && matches!(&c[10..11], " " | "T")
            && c[11..].chars().all(|ch| ch.is_ascii_digit() || ch == ':')
    }) {
        "timestamp"
    } else {
        "text"
    }
}

#[test]
fn typed_columns_give_the_same_results_in_postgres() {
    let Ok(conninfo) = std::env::var("QUALIFY_PG") else {
        assert!(
            !required(),
            "PostgreSQL is required but QUALIFY_PG is not set"
        );
        eprintln!("skipping PostgreSQL: QUALIFY_PG is not set (see .ci/postgres.sh)");
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let cases = cases(dir);
    let d = Dialect::Postgres;
    let schema = format!("qualify_typed_{}", std::process::id());
    let mut script = format!("CREATE SCHEMA {schema};\nSET search_path TO {schema};\n");
    let mut types = Vec::new();
    for (i, case) in cases.iter().enumerate() {
        let mut reader = csv::Reader::from_path(&case.csv).unwrap();
        let records: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
        let columns: Vec<String> = case
            .columns
            .iter()
            .enumerate()
            .map(|(c, name)| {
                let cells: Vec<&str> = records.iter().map(|r| r.get(c).unwrap_or("")).collect();
                let ty = pg_type(&cells);
                types.push(ty);
                let name = match name.as_str() {
                    "" => format!("unnamed {c}"),
                    name => name.to_string(),
                };
                format!("{} {ty}", d.ident(&name))
            })
            .collect();
        let out = dir.join(format!("typed-pg-{i}.jsonl"));
        script.push_str(&format!(
            "DROP TABLE IF EXISTS leads;\nCREATE TABLE leads ({});\n\\copy leads FROM '{}' WITH (FORMAT csv, HEADER true)\n\\o '{}'\nSELECT row_to_json(q) FROM (\n{}\n) q;\n\\o\n",
            columns.join(", "),
            case.csv.display(),
            out.display(),
            query(case, d)
        ));
    }
    script.push_str(&format!("DROP SCHEMA {schema} CASCADE;\n"));
    for ty in ["boolean", "bigint", "double precision", "date", "timestamp"] {
        assert!(types.contains(&ty), "no {ty} column in {types:?}");
    }
    let script_path = dir.join("typed.sql");
    std::fs::write(&script_path, script).unwrap();
    let out = Command::new("psql")
        .args(["-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-d"])
        .arg(&conninfo)
        .arg("-f")
        .arg(&script_path)
        .output()
        .expect("run psql");
    let got = results("PostgreSQL", &out, dir, "typed-pg", &cases);
    assert_same("PostgreSQL (typed columns)", &cases, &got);
}
