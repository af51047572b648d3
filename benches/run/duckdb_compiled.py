#!/usr/bin/env python3
"""Run the query `qualify compile --dialect duckdb --table leads` wrote over a CSV.

    python3 duckdb_compiled.py QUERY.sql IN.csv OUT.csv [--threads 1|2]

The CSV becomes the table `leads` (a view over read_csv, every column text,
as a warehouse table of raw CRM exports would be); the results are written
as `Lead ID,stage,fit,engagement,rule` for compare.py. Uses the DuckDB of
target/bench-venv (see duckdb_policy.py).
"""

import argparse
import sys
import time

from duckdb_policy import ensure_duckdb, sql_str


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("query")
    ap.add_argument("input")
    ap.add_argument("output")
    ap.add_argument("--threads", type=int, default=1, choices=[1, 2])
    args = ap.parse_args()
    ensure_duckdb()
    import duckdb

    compiled = open(args.query, encoding="utf-8").read().strip().rstrip(";")
    t0 = time.perf_counter()
    con = duckdb.connect(":memory:", config={"threads": args.threads})
    con.execute(
        f"CREATE VIEW leads AS SELECT * FROM read_csv({sql_str(args.input)}, all_varchar = true, header = true)"
    )
    con.execute(
        f"""COPY (
  SELECT "Lead ID", stage, fit, engagement, rule FROM (
{compiled}
  )
) TO {sql_str(args.output)} (HEADER, DELIMITER ',', QUOTE '"')"""
    )
    con.close()
    print(f"duckdb {args.threads} thread(s): {time.perf_counter() - t0:.3f} s", file=sys.stderr)


if __name__ == "__main__":
    main()
