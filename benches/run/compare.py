#!/usr/bin/env python3
"""Check that the outputs of the `qualify run` benchmark agree.

    python3 compare.py [--ordered NAME ...] NAME=OUT.csv NAME=OUT.csv ...

The first file is the reference. Every file must have the header
`Lead ID,stage,fit,engagement,rule` and the same set of leads; for each lead
the stage and rule must be equal and the scores equal as numbers (so `40`,
`40.0` and `4e1` agree). Row order is ignored for the verdict; files named
with --ordered are also checked to list the leads in the reference's order
(input order), which is reported as a warning only.

Exit status: 0 when all agree, 1 when some disagree, 2 on bad usage.
"""

import csv
import sys

HEADER = ["Lead ID", "stage", "fit", "engagement", "rule"]
SHOW = 5  # differences shown per file


def num(s: str):
    try:
        return float(s)
    except ValueError:
        return s  # compared as text, so it shows up as a difference


def read(path: str):
    with open(path, newline="", encoding="utf-8") as f:
        r = csv.reader(f)
        header = next(r, None)
        rows = {}
        order = []
        dups = 0
        for row in r:
            key = row[0] if row else ""
            if key in rows:
                dups += 1
            if len(row) == len(HEADER):
                rows[key] = (row[1], num(row[2]), num(row[3]), row[4])
            else:
                rows[key] = (f"<{len(row)} cells: {row}>",)
            order.append(key)
    return header, rows, order, dups


def main() -> int:
    args = sys.argv[1:]
    ordered = set()
    files = []
    while args:
        a = args.pop(0)
        if a == "--ordered":
            if not args:
                return usage()
            ordered.add(args.pop(0))
        elif "=" in a:
            name, path = a.split("=", 1)
            files.append((name, path))
        else:
            return usage()
    if len(files) < 2:
        return usage()

    ref_name, ref_path = files[0]
    ref_header, ref, ref_order, ref_dups = read(ref_path)
    ok = True
    if ref_header != HEADER:
        print(f"✗ {ref_name}: header {ref_header}, expected {HEADER}")
        ok = False
    if ref_dups:
        print(f"✗ {ref_name}: {ref_dups} duplicate lead ids")
        ok = False

    for name, path in files[1:]:
        header, rows, order, dups = read(path)
        problems = []
        if header != HEADER:
            problems.append(f"header {header}, expected {HEADER}")
        if dups:
            problems.append(f"{dups} duplicate lead ids")
        missing = [k for k in ref if k not in rows]
        extra = [k for k in rows if k not in ref]
        if missing:
            problems.append(f"{len(missing)} leads missing, e.g. {missing[:SHOW]}")
        if extra:
            problems.append(f"{len(extra)} leads not in {ref_name}, e.g. {extra[:SHOW]}")
        diffs = 0
        for key, want in ref.items():
            got = rows.get(key)
            if got is None or got == want:
                continue
            diffs += 1
            if diffs <= SHOW:
                problems.append(
                    f"{key}: {ref_name} says {fmt(want)}, {name} says {fmt(got)}"
                )
        if diffs:
            problems.append(f"{diffs} leads differ in all")
        if problems:
            ok = False
            print(f"✗ {name} ({path}) disagrees with {ref_name} ({ref_path}):")
            for p in problems:
                print(f"    {p}")
        else:
            print(f"✓ {name} agrees with {ref_name} ({len(rows)} leads)")
        if name in ordered and not missing and not extra and order != ref_order:
            first = next(i for i, (a, b) in enumerate(zip(order, ref_order)) if a != b)
            print(f"  ! {name}: leads are not in input order (first at row {first + 1}: "
                  f"{order[first]} where {ref_order[first]} was expected)")
    return 0 if ok else 1


def fmt(row) -> str:
    stage, fit, engagement, rule = (list(row) + ["", "", "", ""])[:4]
    return f"stage={stage} fit={fit} engagement={engagement} rule={rule!r}"


def usage() -> int:
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
