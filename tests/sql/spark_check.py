#!/usr/bin/env python3
"""Run the Spark SQL golden file (tests/snapshots/sql__constructs_spark.snap)
on tests/sql/constructs.csv in Spark local mode and compare it with the
native `qualify run` result.

Not part of CI (pyspark is ~300 MB and needs Java); run by hand after
changing src/sql or the Spark golden file:

    python3 -m venv target/spark-check/venv && target/spark-check/venv/bin/pip install pyspark
    cargo build && target/spark-check/venv/bin/python tests/sql/spark_check.py
    target/spark-check/venv/bin/python tests/sql/spark_check.py --csv tests/sql/edge.csv

Last run (pyspark 4.3.0, Java 17): all 12 rows of constructs.csv (ceilings
included) and all 11 of edge.csv (line separators after numbers, 1e400, a
newline inside a date) match, with ANSI mode default, on and off.

Usage: python tests/sql/spark_check.py [--csv FILE] [ansi ...]
  ansi: default | true | false   (default: all three)
  --csv: another lead file with the same columns (default tests/sql/constructs.csv)
  --conf KEY=VALUE: an extra Spark SQL setting (repeatable), e.g.
         --conf spark.sql.parser.escapedStringLiterals=true
"""
import csv
import io
import os
import subprocess
import sys

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
SNAP = os.path.join(ROOT, "tests/snapshots/sql__constructs_spark.snap")
CSV = os.path.join(ROOT, "tests/sql/constructs.csv")
QUAL = os.path.join(ROOT, "tests/sql/constructs.qual")
QUALIFY = os.path.join(ROOT, "target/debug/qualify")


def snapshot_sql():
    text = open(SNAP, encoding="utf-8").read()
    # header: '---' / metadata / '---' / body
    parts = text.split("\n---\n", 1)
    body = parts[1] if text.startswith("---\n") else text
    return body.strip()


def native():
    rej = "/tmp/spark-check-rej.csv"
    out = subprocess.run(
        [QUALIFY, "run", QUAL, CSV, "--on-error", "reject=" + rej],
        capture_output=True, text=True, check=True,
    ).stdout
    accepted = {r["Lead ID"]: r for r in csv.DictReader(io.StringIO(out))}
    rejected = {r["Lead ID"]: r["qualify_error"] for r in csv.DictReader(open(rej, encoding="utf-8"))}
    return accepted, rejected


def fmt(x):
    if x is None:
        return ""
    if isinstance(x, float):
        return str(int(x)) if x == int(x) else repr(x)
    return str(x)


def run(spark, sql, ansi):
    if ansi != "default":
        spark.conf.set("spark.sql.ansi.enabled", ansi)
    else:
        spark.conf.unset("spark.sql.ansi.enabled")
    print(f"\n=== spark.sql.ansi.enabled = {ansi} (effective: {spark.conf.get('spark.sql.ansi.enabled')}) ===")
    try:
        rows = spark.sql(sql).collect()
    except Exception as e:  # report and go on with the next setting
        print("QUERY FAILED:", type(e).__name__, str(e)[:3000])
        return False
    accepted, rejected = native()
    ok = True
    for r in rows:
        d = r.asDict()
        lid = d["Lead ID"]
        got = (fmt(d["stage"]), fmt(d["fit"]), fmt(d["intent"]), fmt(d["rule"]))
        print(f"  {lid}: stage={got[0]!r} fit={got[1]!r} intent={got[2]!r} rule={got[3]!r} error={d['qualify_error']!r}")
        if lid in accepted:
            n = accepted[lid]
            want = (n["stage"], n["fit"], n["intent"], n["rule"])
            if d["qualify_error"] is not None or got != want:
                ok = False
                print(f"    MISMATCH: native {want}")
        elif lid in rejected:
            if d["qualify_error"] is None or d["stage"] is not None:
                ok = False
                print(f"    MISMATCH: native rejected: {rejected[lid]}")
        else:
            ok = False
            print("    MISMATCH: not in native output")
    if len(rows) != len(accepted) + len(rejected):
        ok = False
        print(f"    MISMATCH: {len(rows)} rows vs native {len(accepted) + len(rejected)}")
    print("  RESULT:", f"all {len(rows)} rows match" if ok else "DIFFERENCES")
    return ok


def main():
    global CSV
    args = sys.argv[1:]
    confs = []
    while args[:1] in (["--csv"], ["--conf"]):
        if args[0] == "--csv":
            CSV = os.path.abspath(args[1])
        else:
            confs.append(args[1].split("=", 1))
        args = args[2:]
    settings = args or ["default", "true", "false"]
    import pyspark
    from pyspark.sql import SparkSession, functions as F

    spark = (
        SparkSession.builder.master("local[1]")
        .appName("qualify-spark-check")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", "1")
        .config("spark.sql.warehouse.dir", os.path.join(os.path.dirname(os.path.abspath(__file__)), "spark-warehouse"))
        .getOrCreate()
    )
    spark.sparkContext.setLogLevel("ERROR")
    for k, v in confs:
        spark.conf.set(k, v)
        print("set", k, "=", v)
    print("pyspark", pyspark.__version__, "Spark", spark.version,
          "default spark.sql.ansi.enabled =", spark.conf.get("spark.sql.ansi.enabled"))

    df = (
        spark.read.option("header", True)
        .option("inferSchema", False)
        # RFC 4180 quoting, as the native reader: a doubled quote escapes,
        # a backslash is an ordinary character
        .option("quote", '"').option("escape", '"')
        # keep the cells exactly as written (spaces included); an empty cell
        # becomes NULL, which the query treats like ''
        .option("multiLine", True)
        .option("ignoreLeadingWhiteSpace", False)
        .option("ignoreTrailingWhiteSpace", False)
        .csv(CSV)
        .withColumn("Email", F.lit("someone@example.com"))
    )
    assert all(t == "string" for _, t in df.dtypes), df.dtypes
    for r in df.collect():
        print("  input:", r.asDict())
    sql = snapshot_sql()
    assert "FROM `crm`.`Leads 2026`" in sql
    # Spark's session catalog refuses `Leads 2026` as a table name
    # ([INVALID_SCHEMA_OR_RELATION_NAME]: only letters, digits and _), so
    # register a temp view and point the snapshot's FROM at it (the only
    # change made to the SQL).
    df.createOrReplaceTempView("leads_2026")
    sql = sql.replace("FROM `crm`.`Leads 2026`", "FROM leads_2026")

    results = {s: run(spark, sql, s) for s in settings}
    print("\nSUMMARY:", results)
    spark.stop()
    sys.exit(0 if all(results.values()) else 1)


if __name__ == "__main__":
    main()
