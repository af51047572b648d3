#!/usr/bin/env python3
"""Deterministic generator of a B2B lead export (CSV) for the `qualify run` benchmark.

    python3 gen_leads.py ROWS OUT.csv

The same ROWS always gives the same file (random.Random(42)). 20 columns,
about 160 bytes a row: 1,000,000 rows make a ~160 MB file.

What the data exercises (see policy.qual):
  * empty cells in optional columns (Employees, Industry, Seniority, Budget,
    Need, Expected Close, Last Activity, Title) and in defaulted yes/no columns;
  * the `missing` spellings "N/A" and "TBD" in Budget;
  * enum values in other letter cases ("SaaS", "FinTech", "RETAIL");
  * quoted titles and company names that contain a comma;
  * dates on both sides of the evaluation date 2026-06-01.
"""

import datetime
import math
import random
import sys

FIRST = [
    "Acme", "Globex", "Initech", "Umbrella", "Hooli", "Stark", "Wayne", "Soylent",
    "Tyrell", "Cyberdyne", "Wonka", "Gringotts", "Oscorp", "Vandelay", "Pied Piper",
    "Northwind", "Contoso", "Fabrikam", "Aperture", "Black Mesa", "Massive Dynamic",
    "Blue Sun", "Monarch", "Dunder Mifflin", "Sterling Cooper", "Prestige Worldwide",
    "Bluth", "Gekko", "Nakatomi", "Virtucon", "Zorg", "Buy n Large", "Ollivanders",
    "Spacely", "Cogswell", "Duff", "Krusty", "Planet Express", "Mom", "Ewing",
]
SECOND = [
    "Analytics", "Systems", "Labs", "Software", "Health", "Logistics", "Robotics",
    "Foods", "Capital", "Energy", "Media", "Cloud", "Security", "Learning", "Retail",
    "Manufacturing", "Payments", "Data", "Networks", "Biotech",
]
THIRD = ["Solutions", "Technologies", "International", "Holdings", "Partners",
         "Services", "Worldwide", "Enterprises", "Industries", "Consulting",
         "Technology Partners", "Digital Services", "Global Solutions"]
SUFFIX = ["Inc.", "LLC", "Ltd", "GmbH", "Group", "Corp.", "S.A.", "B.V.", "Pty Ltd", ""]
PREFIXES = ["", "", "Senior ", "Global ", "Regional ", "Interim ", "Acting ", "Deputy "]
REGIONS = ["", " EMEA", " North America", " APAC", " DACH", " LATAM", " Americas",
           " Europe", " Enterprise", " Mid-Market"]

INDUSTRIES = ["saas", "fintech", "healthcare", "retail", "manufacturing", "education", "other"]
INDUSTRY_W = [26, 14, 12, 12, 12, 10, 14]
INDUSTRY_CASE = {
    "saas": "SaaS", "fintech": "FinTech", "healthcare": "Healthcare", "retail": "RETAIL",
    "manufacturing": "Manufacturing", "education": "Education", "other": "Other",
}
COUNTRIES = ["US", "US", "US", "UK", "DE", "FR", "CA", "IN", "BR", "AU", "NL", "ES",
             "SE", "JP", "SG", "MX", "IT", "PL", "IE", "CH"]
SENIORITY = ["c_level", "vp", "director", "manager", "individual"]
SENIORITY_W = [8, 12, 20, 30, 30]
NEEDS = ["urgent", "planned", "exploring"]
NEEDS_W = [20, 35, 45]
SOURCES = ["web", "referral", "event", "ads"]
SOURCES_W = [45, 15, 15, 25]
TITLES = {
    "c_level": ["CEO", "CFO", "Chief Revenue Officer", "Chief Operating Officer",
                "CTO", "\"CEO, Co-Founder\"", "Directeur Général"],
    "vp": ["VP Sales", "VP Marketing", "\"VP, Revenue Operations\"", "VP Engineering",
           "VP of RevOps", "Vice President Finance"],
    "director": ["Director of Sales", "\"Director, Marketing Ops\"", "Director of IT",
                 "Head of RevOps", "Head of Growth", "Director of Procurement"],
    "manager": ["Marketing Manager", "Sales Ops Manager", "IT Manager", "Account Manager",
                "\"Manager, DevOps\"", "Procurement Manager", "Product Manager"],
    "individual": ["Software Engineer", "Marketing Specialist", "Data Analyst",
                   "Student", "Sales Development Rep", "DevOps Engineer", "Consultant",
                   "\"Analyst, Sales Operations\""],
}

AS_OF = datetime.date(2026, 6, 1)


def main() -> None:
    if len(sys.argv) != 3:
        sys.exit("usage: gen_leads.py ROWS OUT.csv")
    rows = int(sys.argv[1])
    out = sys.argv[2]
    rng = random.Random(42)
    r = rng.random
    choice = rng.choice
    choices = rng.choices

    # Precomputed pools keep the inner loop cheap.
    companies = []
    for a in FIRST:
        for b in SECOND:
            for c in THIRD:
                s = choice(SUFFIX)
                name = f"{a} {b} {c} {s}".strip()
                if s and r() < 0.15:
                    name = f"\"{a} {b} {c}, {s}\""
                companies.append(name)
    # Job titles with a region: "Head of Growth EMEA", "\"VP, Revenue Operations APAC\"".
    titles = {}
    for sen, ts in TITLES.items():
        titles[sen] = [(f'"{pre}{t[1:-1]}{reg}"' if t.startswith('"') else pre + t + reg)
                       for t in ts for reg in REGIONS for pre in PREFIXES]
    all_titles = [t for ts in titles.values() for t in ts]
    # Expected close: 2026-02-01 .. 2027-07-31; last activity: the year before AS_OF.
    close_dates = [(datetime.date(2026, 2, 1) + datetime.timedelta(days=i)).isoformat()
                   for i in range(546)]
    activity_dates = [(AS_OF - datetime.timedelta(days=i)).isoformat() for i in range(366)]

    ind_pool = choices(INDUSTRIES, INDUSTRY_W, k=4096)
    sen_pool = choices(SENIORITY, SENIORITY_W, k=4096)
    need_pool = choices(NEEDS, NEEDS_W, k=4096)
    src_pool = choices(SOURCES, SOURCES_W, k=4096)

    header = ("Lead ID,Company,Employees,Industry,Country,Seniority,Budget,Decision Maker,"
              "Need,Expected Close,Demo Requested,Pricing Visits,Whitepapers,Email Opens,"
              "Trial Days,Careers Visit,Last Activity,Converted,Title,Source\n")
    buf = []
    with open(out, "w", encoding="utf-8", newline="") as f:
        f.write(header)
        for i in range(1, rows + 1):
            # Company size: log-uniform 1 .. ~50,000, 6% unknown.
            x = r()
            employees = "" if x < 0.06 else str(int(10 ** (r() * 4.7)))
            x = r()
            if x < 0.03:
                industry = ""
            else:
                industry = ind_pool[int(r() * 4096)]
                if x > 0.90:
                    industry = INDUSTRY_CASE[industry]
            x = r()
            if x < 0.04:
                seniority = ""
                title = "" if x < 0.02 else choice(all_titles)
            else:
                seniority = sen_pool[int(r() * 4096)]
                title = choice(titles[seniority]) if x < 0.97 else ""
            x = r()
            if x < 0.25:
                budget = ""
            elif x < 0.28:
                budget = "N/A"
            elif x < 0.30:
                budget = "TBD"
            else:
                budget = str(int(5 + r() ** 2 * 245) * 1000)
            x = r()
            decision = "" if x < 0.02 else ("Yes" if x < 0.32 else "No")
            x = r()
            need = "" if x < 0.15 else need_pool[int(x * 4096) % 4096]
            x = r()
            close = "" if x < 0.25 else close_dates[int(r() * 546)]
            demo = "Yes" if r() < 0.15 else "No"
            x = r()
            pricing = str(int(-3.0 * _log1m(x))) if x > 0.4 else "0"
            x = r()
            papers = str(int(-1.5 * _log1m(x))) if x > 0.5 else "0"
            opens = str(int(r() * r() * 60))
            x = r()
            trial = str(int(1 + r() * 30)) if x < 0.35 else "0"
            x = r()
            careers = "" if x < 0.01 else ("Yes" if x < 0.09 else "No")
            x = r()
            activity = "" if x < 0.05 else activity_dates[int(r() * r() * 366)]
            converted = "1" if r() < 0.08 else "0"
            buf.append(
                f"L-{i:07d},{choice(companies)},{employees},{industry},{choice(COUNTRIES)},"
                f"{seniority},{budget},{decision},{need},{close},{demo},{pricing},{papers},"
                f"{opens},{trial},{careers},{activity},{converted},{title},"
                f"{src_pool[int(r() * 4096)]}\n"
            )
            if len(buf) >= 10000:
                f.write("".join(buf))
                buf.clear()
        f.write("".join(buf))


def _log1m(x: float) -> float:
    return math.log(1.0 - x)


if __name__ == "__main__":
    main()
