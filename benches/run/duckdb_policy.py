#!/usr/bin/env python3
"""benches/run/policy.qual as one DuckDB query: a speed reference for `qualify run`.

    python3 duckdb_policy.py IN.csv OUT.csv [--as-of 2026-06-01] [--threads 1|2]

Writes what `qualify run policy.qual IN.csv -o OUT.csv --as-of AS_OF` writes:
`Lead ID,stage,fit,engagement,rule`. Change it together with policy.qual and
baseline/src/main.rs.

DuckDB is installed into the venv target/bench-venv (created when missing);
the script re-runs itself with that venv's Python.

Missing values are SQL NULLs, so SQL's own three-valued logic is Qualify's:
`CASE WHEN cond` adds points / picks a rule only when cond is TRUE (not when it
is NULL); `at least 3 of (…)` counts the items that are TRUE. The file is read
all-varchar, so every cell is converted here exactly as the policy declares it
(empty = missing, "N/A"/"TBD" = missing budget, Yes/No, enums ignoring case).
"""

import argparse
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
VENV = os.path.join(ROOT, "target", "bench-venv")
VENV_PY = os.path.join(VENV, "bin", "python")


def ensure_duckdb() -> None:
    try:
        import duckdb  # noqa: F401
        return
    except ImportError:
        pass
    if os.path.abspath(sys.prefix) == os.path.abspath(VENV):
        sys.exit("duckdb is missing from " + VENV + ": pip install duckdb failed?")
    if not os.path.exists(VENV_PY):
        print(f"creating {VENV} and installing duckdb …", file=sys.stderr)
        subprocess.run([sys.executable, "-m", "venv", VENV], check=True)
    chk = subprocess.run([VENV_PY, "-c", "import duckdb"], capture_output=True)
    if chk.returncode != 0:
        subprocess.run([VENV_PY, "-m", "pip", "install", "--quiet", "duckdb"], check=True)
    os.execv(VENV_PY, [VENV_PY, os.path.abspath(__file__)] + sys.argv[1:])


def sql_str(s: str) -> str:
    return "'" + s.replace("'", "''") + "'"


def query(inp: str, out: str, as_of: str) -> str:
    d = f"DATE {sql_str(as_of)}"
    return f"""
COPY (
WITH raw AS (
  SELECT * FROM read_csv({sql_str(inp)}, header = true, all_varchar = true,
                         delim = ',', quote = '"', escape = '"', nullstr = '')
),
lead AS (  -- the `field` lines: one typed value per cell, NULL = missing
  SELECT
    "Lead ID"                                             AS lead_id,
    CAST("Employees" AS BIGINT)                           AS company_size,
    lower("Industry")                                     AS industry,
    lower("Seniority")                                    AS seniority,
    CASE WHEN "Budget" IN ('N/A', 'TBD') THEN NULL
         ELSE CAST(replace(replace("Budget", '$', ''), ',', '') AS DOUBLE) END AS budget,
    CASE "Decision Maker" WHEN 'Yes' THEN true WHEN 'No' THEN false END AS authority_raw,
    lower("Need")                                         AS need,
    CAST("Expected Close" AS DATE)                        AS timeline,
    CASE "Demo Requested" WHEN 'Yes' THEN true WHEN 'No' THEN false END AS demo_raw,
    coalesce(CAST("Pricing Visits" AS BIGINT), 0)         AS pricing_page_visits,
    coalesce(CAST("Whitepapers" AS BIGINT), 0)            AS whitepaper_downloads,
    coalesce(CAST("Email Opens" AS BIGINT), 0)            AS email_opens,
    coalesce(CAST("Trial Days" AS BIGINT), 0)             AS trial_days,
    CASE "Careers Visit" WHEN 'Yes' THEN true WHEN 'No' THEN false END AS careers_raw,
    CAST("Last Activity" AS DATE)                         AS last_activity,
    "Title"                                               AS job_title,
    lower("Source")                                       AS source,
    "Decision Maker" AS dm_cell, "Demo Requested" AS demo_cell, "Careers Visit" AS careers_cell
  FROM raw
),
typed AS (  -- `default false` for the yes/no fields; anything else in them is an error
  SELECT *,
    CASE WHEN dm_cell IS NULL THEN false WHEN authority_raw IS NULL
         THEN error('Decision Maker: ' || dm_cell) ELSE authority_raw END AS authority,
    CASE WHEN demo_cell IS NULL THEN false WHEN demo_raw IS NULL
         THEN error('Demo Requested: ' || demo_cell) ELSE demo_raw END AS demo_requested,
    CASE WHEN careers_cell IS NULL THEN false WHEN careers_raw IS NULL
         THEN error('Careers Visit: ' || careers_cell) ELSE careers_raw END AS careers_page_visited
  FROM lead
),
crit AS (  -- the criteria, with NULL as unknown
  SELECT *,
    (company_size IS NOT NULL AND industry IS NOT NULL
      AND company_size BETWEEN 50 AND 5000
      AND industry IN ('saas', 'fintech', 'healthcare'))                  AS icp_fit,
    (seniority IN ('c_level', 'vp', 'director') OR authority)             AS decision_maker,
    ((CASE WHEN budget IS NOT NULL THEN 1 ELSE 0 END)
      + (CASE WHEN authority THEN 1 ELSE 0 END)
      + (CASE WHEN need IN ('urgent', 'planned') THEN 1 ELSE 0 END)
      + (CASE WHEN abs(timeline - {d}) <= 90 THEN 1 ELSE 0 END)) >= 3    AS bant
  FROM typed
),
scored AS (  -- the scores, line by line in file order
  SELECT *,
    least(60.0::DOUBLE,
        (CASE WHEN icp_fit THEN 30.0 ELSE 0.0 END)
      + (CASE WHEN decision_maker THEN 20.0 ELSE 0.0 END)
      + (CASE WHEN contains(lower(job_title), 'ops') THEN 10.0 ELSE 0.0 END)
      + greatest(-10.0, least(10.0, 0.5 * coalesce(company_size, 0)::DOUBLE))
      + (CASE WHEN industry IN ('education', 'other') THEN -20.0 ELSE 0.0 END)
    )::DOUBLE AS fit,
    least(100.0::DOUBLE,
        (CASE WHEN demo_requested THEN 20.0 ELSE 0.0 END)
      + greatest(-15.0, least(15.0, 5.0 * whitepaper_downloads::DOUBLE))
      + greatest(-15.0, least(15.0, 3.0 * pricing_page_visits::DOUBLE))
      + greatest(-10.0, least(10.0, 0.5 * email_opens::DOUBLE))
      + (CASE WHEN careers_page_visited THEN -10.0 ELSE 0.0 END)
      + (CASE WHEN abs(last_activity - {d}) <= 30 THEN 10.0 ELSE 0.0 END)
    )::DOUBLE AS engagement
  FROM crit
),
decided AS (  -- the ceiling (below every stage), then the rules, highest stage first, then file order
  SELECT lead_id, fit, engagement,
    CASE
      WHEN careers_page_visited AND engagement < 10                       THEN 'job seeker'
      WHEN budget IS NOT NULL AND demo_requested                          THEN 'ready to buy'
      WHEN bant AND icp_fit                                               THEN 'bant qualified'
      WHEN budget IS NOT NULL AND budget >= 150000 AND decision_maker     THEN 'big deal'
      WHEN fit >= 30 AND engagement >= 25                                 THEN 'engaged fit'
      WHEN engagement >= 50                                               THEN 'hot engagement'
      WHEN trial_days >= 14 AND last_activity IS NOT NULL
           AND abs(last_activity - {d}) <= 7                              THEN 'active trial'
      WHEN source IS NOT NULL AND source = 'referral' AND fit >= 20       THEN 'warm referral'
    END AS rule
  FROM scored
)
SELECT
  lead_id AS "Lead ID",
  CASE
    WHEN rule IN ('ready to buy', 'bant qualified', 'big deal')                  THEN 'SQL'
    WHEN rule IN ('engaged fit', 'hot engagement', 'active trial', 'warm referral') THEN 'MQL'
    WHEN rule = 'job seeker'                                                     THEN 'disqualified'
    ELSE 'unqualified'
  END AS stage,
  -- whole numbers without a trailing .0: 40, 12.5, -8.5
  CASE WHEN fit = trunc(fit) THEN CAST(CAST(fit AS BIGINT) AS VARCHAR)
       ELSE CAST(fit AS VARCHAR) END AS fit,
  CASE WHEN engagement = trunc(engagement) THEN CAST(CAST(engagement AS BIGINT) AS VARCHAR)
       ELSE CAST(engagement AS VARCHAR) END AS engagement,
  rule  -- NULL (no rule) is written as an empty cell
FROM decided
) TO {sql_str(out)} (HEADER, DELIMITER ',', QUOTE '"')
"""


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("input")
    ap.add_argument("output")
    ap.add_argument("--as-of", default="2026-06-01")
    ap.add_argument("--threads", type=int, default=1, choices=[1, 2])
    ap.add_argument("--print-sql", action="store_true", help="print the query and exit")
    args = ap.parse_args()
    q = query(args.input, args.output, args.as_of)
    if args.print_sql:
        print(q)
        return
    ensure_duckdb()
    import duckdb

    t0 = time.perf_counter()
    con = duckdb.connect(":memory:", config={"threads": args.threads})
    con.execute(q)
    con.close()
    print(f"duckdb {args.threads} thread(s): {time.perf_counter() - t0:.3f} s", file=sys.stderr)


if __name__ == "__main__":
    main()
