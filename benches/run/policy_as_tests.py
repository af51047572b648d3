#!/usr/bin/env python3
"""Turn leads and their expected results into `test` blocks for `qualify test`.

    python3 policy_as_tests.py LEADS.csv RESULTS.csv TESTS.qual [--per-rule N]
    qualify test TESTS.qual

RESULTS.csv is an output of the benchmark (baseline, DuckDB or `qualify run`):
`Lead ID,stage,fit,engagement,rule`. Each lead becomes a test that imports
policy.qual, sets the lead's non-missing cells as field values and expects
the stage, the deciding rule and both scores. This checks the hand-written
versions against Qualify's own reference evaluator without `qualify run`
(it does not check CSV reading: that is what run.sh compares).

--per-rule N keeps at most N leads per deciding rule (default: all leads).
The field list below mirrors policy.qual; change them together.
"""

import argparse
import csv
import os
import random

POLICY = os.path.join(os.path.dirname(os.path.abspath(__file__)), "policy.qual")

# (field name, column, kind) as declared in policy.qual
FIELDS = [
    ("company", "Company", "text"),
    ("company size", "Employees", "plain"),
    ("industry", "Industry", "plain"),
    ("country", "Country", "text"),
    ("seniority", "Seniority", "plain"),
    ("budget", "Budget", "money"),
    ("authority", "Decision Maker", "bool"),
    ("need", "Need", "plain"),
    ("timeline", "Expected Close", "plain"),
    ("demo requested", "Demo Requested", "bool"),
    ("pricing page visits", "Pricing Visits", "plain"),
    ("whitepaper downloads", "Whitepapers", "plain"),
    ("email opens", "Email Opens", "plain"),
    ("trial days", "Trial Days", "plain"),
    ("careers page visited", "Careers Visit", "bool"),
    ("last activity", "Last Activity", "plain"),
    ("job title", "Title", "text"),
    ("source", "Source", "plain"),
]
MISSING = {"Budget": {"N/A", "TBD"}}


def quote(s: str) -> str:
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def literal(kind: str, cell: str) -> str:
    if kind == "text":
        return quote(cell)
    if kind == "money":
        return "$" + cell.replace("$", "").replace(",", "")
    if kind == "bool":
        return {"Yes": "true", "No": "false"}[cell]
    return cell  # integers, dates and enum values are written as they are


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("leads")
    ap.add_argument("results")
    ap.add_argument("tests")
    ap.add_argument("--per-rule", type=int, default=0)
    args = ap.parse_args()

    with open(args.results, newline="", encoding="utf-8") as f:
        results = {r["Lead ID"]: r for r in csv.DictReader(f)}
    with open(args.leads, newline="", encoding="utf-8") as f:
        leads = [r for r in csv.DictReader(f) if r["Lead ID"] in results]
    if args.per_rule:
        by_rule = {}
        for lead in leads:
            by_rule.setdefault(results[lead["Lead ID"]]["rule"], []).append(lead)
        rng = random.Random(1)
        leads = [l for ls in by_rule.values() for l in rng.sample(ls, min(len(ls), args.per_rule))]

    rel = os.path.relpath(POLICY, os.path.dirname(os.path.abspath(args.tests)))
    with open(args.tests, "w", encoding="utf-8") as out:
        out.write(f"import {quote(rel)}\n")
        for lead in leads:
            res = results[lead["Lead ID"]]
            out.write(f"\ntest {quote(lead['Lead ID'])} {{\n  as of 2026-06-01\n  lead {{\n")
            out.write(f"    lead id: {quote(lead['Lead ID'])}\n")
            for name, column, kind in FIELDS:
                cell = lead[column]
                if cell == "" or cell in MISSING.get(column, ()):
                    continue
                out.write(f"    {name}: {literal(kind, cell)}\n")
            out.write("  }\n")
            out.write(f"  expect {res['stage']}\n")
            if res["rule"]:
                out.write(f"  expect rule {res['rule']}\n")
            out.write(f"  expect score fit = {res['fit']}\n")
            out.write(f"  expect score engagement = {res['engagement']}\n}}\n")
    print(f"{len(leads)} tests written to {args.tests}")


if __name__ == "__main__":
    main()
