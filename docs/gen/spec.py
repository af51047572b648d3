# Each entry: code, kebab, meaning (markdown), files {name: text} (policy.qual is checked),
# fix (markdown, may contain ```qual blocks), fixed {name: text} verified to lose the code.
ENTRIES = []
# Codes no longer reported keep a section that says so, so old links still
# work. Codes are never reused.
RETIRED_ENTRIES = []
def RETIRED(code, kebab, text):
    RETIRED_ENTRIES.append(dict(code=code, kebab=kebab, text=text))
def E(code, kebab, meaning, files, fix, fixed=None, extra=None, run='policy.qual'):
    ENTRIES.append(dict(code=code, kebab=kebab, meaning=meaning, files=files, fix=fix, fixed=fixed, extra=extra, run=run))

E("Q0001", "syntax",
"""The text does not follow the grammar: a misspelt keyword, a missing `=>`, an unclosed
bracket or string, a line in a `score` or `test` block that is not a point line or a test
entry. The checker reports every such line and goes on with the next one, so one mistake
does not hide the others. A misspelt keyword at the start of a line comes with a
did-you-mean, and so do two habits from CRMs: a number with thousands separators
(`$10,000`, written `$10_000`) and a CRM's name for a field type (`currency` for `money`,
`checkbox` for `bool`, `picklist` for `enum { … }`).""",
{"policy.qual": """field budget: money optional
field demo requested: bool default false
stages MQL < SQL
budget known and demo requested SQL
"""},
"""Write the rule as `condition => Stage`:

```qual
budget known and demo requested => SQL
```

Without the `=>`, the stage is read as part of the name before it (`demo requested SQL`,
since a name runs to the end of its line), which is why the error points at the end of the
line.

A frequent cause of a puzzling Q0001 is a [reserved word](language.md#names) inside a name:
`rule fit and engaged: …` reads as the condition `rule fit and engaged`, and the `:` is then
unexpected. Rename it (`rule engaged fit: …`).""",
{"policy.qual": """field budget: money optional
field demo requested: bool default false
stages MQL < SQL
otherwise MQL
budget known and demo requested => SQL
"""},
extra=[("A misspelt keyword", {"policy.qual": """feild budget: money optional
stages MQL < SQL
"""}), ("Thousands separators", {"policy.qual": """field budget: money optional
stages MQL < SQL
rule big budget: budget >= $10,000 => SQL
"""}), ("A CRM type name", {"policy.qual": """field budget: currency optional
stages MQL < SQL
"""})])

E("Q0002", "too-deep",
"""Brackets — `(`, `{` and `[` together — are nested more than 64 levels deep. No
hand-written policy comes near this; it guards the parser against generated or damaged
files. Nothing else in the file is checked.""",
{"policy.qual": "field demo requested: bool default false\nstages MQL < SQL\n" + "(" * 65 + "demo requested" + ")" * 65 + " => SQL\n"},
"""Remove the extra brackets, and split deep conditions into named criteria:

```qual
criterion hot: demo requested
hot => SQL
```""",
{"policy.qual": "field demo requested: bool default false\nstages MQL < SQL\notherwise MQL\ncriterion hot: demo requested\nhot => SQL\n"})

E("Q0003", "import-not-found",
"""An `import` names a file that cannot be read: it does not exist, or the path is wrong.
Import paths are relative to the folder of the file that contains the `import`, not to the
folder you run `qualify` from. Only a relative path to a regular `.qual` file of at most 4 MiB
of UTF-8 text is read; an absolute path, a FIFO or device, a larger file, or a file that is not
a policy is refused, and its content is never quoted (it may be a secret).""",
{"policy.qual": """import "schema.qual"
stages MQL < SQL
"""},
"""Correct the path, relative to the importing file, e.g. when the schema lives in
`shared/` next to the policy:

```qual
import "shared/schema.qual"
```""",
{"policy.qual": """import "shared/schema.qual"
stages MQL < SQL
""", "shared/schema.qual": "field budget: money optional\n"})

E("Q0004", "import-has-errors",
"""An imported file has errors of its own. They are counted against the importing policy at
its `import` line — once per imported file, quoting the first — so `qualify check` of the
policy fails. The errors are shown where they are when you check the imported file itself.
Warnings in an imported file are not repeated here.""",
{"schema.qual": """field budget: money optional
field company size: integr optional
""", "policy.qual": """import "schema.qual"
stages MQL < SQL
budget known => SQL
"""},
"""Check the imported file and fix its errors there:

```text
qualify check schema.qual
```

```qual
field company size: integer optional
```""",
{"schema.qual": """field budget: money optional
field company size: integer optional
""", "policy.qual": """import "schema.qual"
stages MQL < SQL
otherwise MQL
budget known => SQL
"""})

E("Q0101", "unknown-name",
"""A condition uses a name that is not a field, a criterion or a score — usually a typo, or a
field that lives in a file you did not import. The help suggests the closest name when there
is one. An unquoted text value is read as a name too: text needs quotes (`country = "DE"`);
only enum values are written bare.""",
{"policy.qual": """field budget: money optional
field demo requested: bool default false
stages MQL < SQL
budget known and demo requestd => SQL
"""},
"""Use the declared name (names are case-sensitive), or declare the field:

```qual
budget known and demo requested => SQL
```""",
{"policy.qual": """field budget: money optional
field demo requested: bool default false
stages MQL < SQL
otherwise MQL
budget known and demo requested => SQL
"""},
extra=[("An unquoted text value", {"policy.qual": """field country: string optional
stages MQL < SQL
country known and country = DE => MQL
"""})])

E("Q0102", "unknown-stage",
"""A rule, `otherwise` or `expect` names a stage that the `stages` line does not declare.
Stage names are case-sensitive. In a test, a stage name runs to the end of its line, so
`expect SQL expect rule hot` on one line asks for a stage called `SQL expect rule hot`: put
each entry on its own line.""",
{"policy.qual": """field demo requested: bool default false
stages unqualified < MQL < SQL
demo requested => sql
"""},
"""Use a declared stage, or add the stage to the `stages` line:

```qual
demo requested => SQL
```""",
{"policy.qual": """field demo requested: bool default false
stages unqualified < MQL < SQL
otherwise unqualified
demo requested => SQL
"""})

E("Q0103", "unknown-enum-value",
"""A condition, a `default` or a test lead uses a value that is not one of the enum field's
values. Enum values are matched ignoring case, so this is a real typo or a value the
field does not list.""",
{"policy.qual": """field industry: enum { saas, fintech, retail } optional
stages MQL < SQL
industry known and industry in { saas, fintek } => MQL
"""},
"""Use one of the field's values, or add the value to the enum:

```qual
industry known and industry in { saas, fintech } => MQL
```""",
{"policy.qual": """field industry: enum { saas, fintech, retail } optional
stages MQL < SQL
otherwise MQL
industry known and industry in { saas, fintech } => MQL
"""})

E("Q0104", "duplicate-definition",
"""Two definitions share a name. Fields, criteria and scores share one set of names, across
imported files too; rule names must differ from each other; a policy has one `stages`
line; an enum lists each value once (ignoring case).""",
{"policy.qual": """field budget: money optional
field demo requested: bool default false
stages MQL < SQL
criterion demo requested: budget known
demo requested => SQL
"""},
"""Rename one of them:

```qual
criterion has budget: budget known
```""",
{"policy.qual": """field budget: money optional
field demo requested: bool default false
stages MQL < SQL
otherwise MQL
criterion has budget: budget known
demo requested or has budget => SQL
"""},
extra=[("Two rules with one name", {"policy.qual": """field demo requested: bool default false
field budget: money optional
stages MQL < SQL
rule hot: demo requested => MQL
rule hot: budget known => SQL
"""}), ("Two `stages` lines", {"policy.qual": """stages MQL < SQL
stages cold < warm
"""}), ("An enum value listed twice", {"policy.qual": """field industry: enum { saas, fintech, SaaS } optional
"""})])

E("Q0105", "cyclic-criterion",
"""Criteria are defined in terms of each other — directly (`criterion hot: hot or …`) or
through others — so none of them has a meaning. The message lists the cycle.""",
{"policy.qual": """field demo requested: bool default false
field budget: money optional
stages MQL < SQL
criterion hot: warm and demo requested
criterion warm: hot or budget known
hot => SQL
"""},
"""Define one of them directly in terms of fields:

```qual
criterion hot: warm and demo requested
criterion warm: budget known
```""",
{"policy.qual": """field demo requested: bool default false
field budget: money optional
stages MQL < SQL
otherwise MQL
criterion hot: warm and demo requested
criterion warm: budget known
hot => SQL
"""})

E("Q0106", "cyclic-score",
"""A score depends on itself: a point line's `when` uses the score, or uses a criterion or
another score that does. A score cannot be computed from its own value.""",
{"policy.qual": """field demo requested: bool default false
stages MQL < SQL
score engagement {
  +20 when demo requested
  +10 when engagement >= 20
}
engagement >= 30 => MQL
"""},
"""Base each line on fields and criteria, or split the score in two:

```qual
score engagement {
  +20 when demo requested
}

score priority {
  +10 when engagement >= 20
}
```""",
{"policy.qual": """field demo requested: bool default false
stages MQL < SQL
otherwise MQL
score engagement {
  +20 when demo requested
}
score priority {
  +10 when engagement >= 20
}
priority >= 10 => MQL
"""})

E("Q0107", "type-mismatch",
"""Two values that cannot be compared: a number with text, a date with a number, an enum
with a number. Also reported for a criterion compared like a value (`hot = true`), a text
test without quoted text (`title contains vp`), a `default` of the wrong type, and a
`between` whose bounds are the wrong way round.""",
{"policy.qual": """field company size: integer optional
stages MQL < SQL
company size known and company size = "large" => MQL
"""},
"""Compare with a value of the field's type:

```qual
company size known and company size >= 1000 => MQL
```""",
{"policy.qual": """field company size: integer optional
stages MQL < SQL
otherwise MQL
company size known and company size >= 1000 => MQL
"""},
extra=[("Bounds the wrong way round", {"policy.qual": """field company size: integer optional
stages MQL < SQL
company size known and company size between 500 and 50 => MQL
"""}), ("A default of the wrong type", {"policy.qual": """field region: enum { emea, amer } default apac
"""})])

E("Q0108", "at-least-too-large",
"""`at least N of (…)` with N larger than the number of listed conditions can never hold;
with N = 0 it always holds. Either way it is a mistake, usually after removing an item
from the list.""",
{"policy.qual": """field budget: money optional
field demo requested: bool default false
stages MQL < SQL
at least 3 of (budget known, demo requested) => SQL
"""},
"""Use a number from 1 to the number of items, or add the missing item:

```qual
at least 2 of (budget known, demo requested) => SQL
```""",
{"policy.qual": """field budget: money optional
field demo requested: bool default false
stages MQL < SQL
otherwise MQL
at least 2 of (budget known, demo requested) => SQL
"""})

E("Q0109", "not-a-condition",
"""A value is used where a yes/no condition is needed: a number, text, date, enum or list
field on its own, a score on its own, or a literal. Only `bool` fields, criteria, `true` and
`false` stand alone.""",
{"policy.qual": """field company size: integer optional
stages MQL < SQL
company size => MQL
"""},
"""Say what about the value matters:

```qual
company size known and company size > 100 => MQL
```""",
{"policy.qual": """field company size: integer optional
stages MQL < SQL
otherwise MQL
company size known and company size > 100 => MQL
"""},
extra=[("A score on its own", {"policy.qual": """field demo requested: bool default false
stages MQL < SQL
score fit {
  +10 when demo requested
}
fit => MQL
"""})])

E("Q0110", "operator-not-for-type",
"""An operator that does not apply to the value's type: `<`, `>`, `<=`, `>=` on anything but
numbers, money, scores and dates; `in { … }` on a `bool` or `list` field; `contains`,
`starts with`, `ends with` on anything but text (and `contains` on lists); `within … days` on
anything but a date; `per` with a field that is not a number.""",
{"policy.qual": """field industry: enum { saas, fintech, retail } optional
stages MQL < SQL
industry known and industry > saas => MQL
"""},
"""Use an operator the type has; enum values have no order, so list the ones you mean:

```qual
industry known and industry in { fintech, retail } => MQL
```""",
{"policy.qual": """field industry: enum { saas, fintech, retail } optional
stages MQL < SQL
otherwise MQL
industry known and industry in { fintech, retail } => MQL
"""},
extra=[("`within` on a number", {"policy.qual": """field company size: integer optional
stages MQL < SQL
company size known and company size within the last 30 days => MQL
"""}), ("`per` a text field", {"policy.qual": """field title: string optional
stages MQL < SQL
score fit {
  +5 per title
}
fit > 0 => MQL
"""})])

E("Q0111", "unknown-test-field",
"""A test lead sets a field that the policy does not declare — a typo, or a field of a file
the test file does not import.""",
{"policy.qual": """field budget: money optional
stages MQL < SQL
otherwise MQL
budget known => SQL
test "a budget means sales" {
  lead { budjet: 5000 }
  expect SQL
}
"""},
"""Use the declared field name:

```qual
  lead { budget: 5000 }
```""",
{"policy.qual": """field budget: money optional
stages MQL < SQL
otherwise MQL
budget known => SQL
test "a budget means sales" {
  lead { budget: 5000 }
  expect SQL
}
"""})

E("Q0112", "test-value-type",
"""A test lead gives a field a value of the wrong type: text for a number, a number for a
`bool`, a decimal for an `integer`, a number for a date, and so on. The label says what
the field takes.""",
{"policy.qual": """field company size: integer optional
stages MQL < SQL
otherwise MQL
company size known and company size > 500 => SQL
test "big companies go to sales" {
  lead { company size: "large" }
  expect SQL
}
"""},
"""Write the value as the field's type: `true`/`false`, `800`, `$5_000`, `"text"`,
`2026-06-01`, an enum value, `["a", "b"]`:

```qual
  lead { company size: 800 }
```""",
{"policy.qual": """field company size: integer optional
stages MQL < SQL
otherwise MQL
company size known and company size > 500 => SQL
test "big companies go to sales" {
  lead { company size: 800 }
  expect SQL
}
"""})

E("Q0113", "no-stages",
"""The policy has rules but no `stages` line, so the stages the rules conclude mean nothing.
Reported once, at the first rule. (When the stages live in a shared file, check that the
file is imported.)""",
{"policy.qual": """field demo requested: bool default false
demo requested => SQL
"""},
"""Declare the stages, lowest first:

```qual
stages unqualified < MQL < SQL
```""",
{"policy.qual": """field demo requested: bool default false
stages unqualified < MQL < SQL
otherwise unqualified
demo requested => SQL
"""})

E("Q0114", "duplicate-stage",
"""The `stages` line lists a stage twice, so its rank is ambiguous.""",
{"policy.qual": """field demo requested: bool default false
stages MQL < SQL < MQL
demo requested => SQL
"""},
"""List each stage once, lowest first:

```qual
stages MQL < SQL
```""",
{"policy.qual": """field demo requested: bool default false
stages MQL < SQL
otherwise MQL
demo requested => SQL
"""})

E("Q0115", "option-not-for-type",
"""A field option that does not fit the field's type: `true`/`false` spellings on a field
that is not `bool`, or `separator` on a field that is not a `list`.""",
{"policy.qual": """field region: string optional from "Region" separator ","
stages MQL < SQL
region known => MQL
"""},
"""Remove the option, or change the type when the column really holds a list:

```qual
field region: list optional from "Region" separator ","
```""",
{"policy.qual": """field region: list optional from "Region" separator ","
stages MQL < SQL
otherwise MQL
region known => MQL
"""},
extra=[("Yes/no spellings on a text field", {"policy.qual": """field region: string optional from "Region" true "Yes"
"""})])

E("Q0116", "unknown-score",
"""A test's `expect score NAME = N` names a score the policy does not define.""",
{"policy.qual": """field demo requested: bool default false
stages MQL < SQL
score engagement {
  +20 when demo requested
}
engagement >= 20 => MQL
test "a demo counts 20" {
  lead { demo requested: true }
  expect score engagment = 20
}
"""},
"""Use the score's name:

```qual
  expect score engagement = 20
```""",
{"policy.qual": """field demo requested: bool default false
stages MQL < SQL
otherwise MQL
score engagement {
  +20 when demo requested
}
engagement >= 20 => MQL
test "a demo counts 20" {
  lead { demo requested: true }
  expect score engagement = 20
}
"""})

E("Q0117", "unknown-rule",
"""A test's `expect rule NAME` names no rule. Only rules written with `rule NAME:` have
names; a rule without one is called by its line (`line 12`) in results, and a test cannot
expect it.""",
{"policy.qual": """field demo requested: bool default false
stages MQL < SQL
otherwise MQL
rule demo: demo requested => SQL
test "a demo request goes to sales" {
  lead { demo requested: true }
  expect SQL
  expect rule dmeo
}
"""},
"""Use the rule's name, or name the rule you mean:

```qual
  expect rule demo
```""",
{"policy.qual": """field demo requested: bool default false
stages MQL < SQL
otherwise MQL
rule demo: demo requested => SQL
test "a demo request goes to sales" {
  lead { demo requested: true }
  expect SQL
  expect rule demo
}
"""})
E("Q0118", "duplicate-column",
"""Two fields read the same column of the lead data. A field without `from "…"` reads the
column named like the field, so this also happens when `from` repeats another field's
name.""",
{"policy.qual": """field budget: money optional from "Budget"
field budget usd: money optional from "Budget"
stages MQL < SQL
budget known or budget usd known => SQL
"""},
"""Point each field at its own column:

```qual
field budget: money optional from "Budget"
field budget usd: money optional from "Budget (USD)"
```""",
{"policy.qual": """field budget: money optional from "Budget"
field budget usd: money optional from "Budget (USD)"
stages MQL < SQL
otherwise MQL
budget known or budget usd known => SQL
"""})

E("Q0119", "known-on-non-field",
"""`known` or `unknown` is applied to a criterion, a score or a literal. Those always have a
value; only a field's value can be missing.""",
{"policy.qual": """field demo requested: bool default false
stages MQL < SQL
score fit {
  +10 when demo requested
}
fit known and fit >= 10 => MQL
"""},
"""Drop the test, or ask about the field the criterion or score is built on:

```qual
fit >= 10 => MQL
```""",
{"policy.qual": """field demo requested: bool default false
stages MQL < SQL
otherwise MQL
score fit {
  +10 when demo requested
}
fit >= 10 => MQL
"""})

E("Q0120", "multiple-otherwise",
"""The policy (with its imports) says `otherwise` more than once, so the stage of leads that
no rule matches is ambiguous.""",
{"policy.qual": """field demo requested: bool default false
stages unqualified < MQL < SQL
otherwise unqualified
otherwise MQL
demo requested => SQL
"""},
"""Keep one `otherwise` line:

```qual
otherwise unqualified
```""",
{"policy.qual": """field demo requested: bool default false
stages unqualified < MQL < SQL
otherwise unqualified
demo requested => SQL
"""})

E("Q0121", "empty-test",
"""A test has no `lead { … }` or no `expect` line, so it cannot check anything. (Not
reported when the test block also has a syntax error; fix that first.)""",
{"policy.qual": """field budget: money optional
stages MQL < SQL
budget known => SQL
test "a budget means sales" {
  lead { budget: 5000 }
}
"""},
"""Say what the lead should get:

```qual
test "a budget means sales" {
  lead { budget: 5000 }
  expect SQL
}
```""",
{"policy.qual": """field budget: money optional
stages MQL < SQL
otherwise MQL
budget known => SQL
test "a budget means sales" {
  lead { budget: 5000 }
  expect SQL
}
"""})

E("Q0122", "invalid-literal",
"""A literal that is written correctly but is not a valid value — a date that is not on the
calendar, such as 2026-02-30.""",
{"policy.qual": """field last activity: date optional
stages MQL < SQL
last activity known and last activity > 2026-02-30 => MQL
"""},
"""Use a real date, as YYYY-MM-DD:

```qual
last activity known and last activity > 2026-02-28 => MQL
```""",
{"policy.qual": """field last activity: date optional
stages MQL < SQL
otherwise MQL
last activity known and last activity > 2026-02-28 => MQL
"""})

E("Q0201", "unchecked-optional",
"""A rule (or a score line's `when`) negates over an `optional` field without a `default`
and does not say what happens when the field is missing: it tests it under `not`, with `!=`
or with `not in`. A test on a missing value is unknown, `not` keeps it unknown, and a rule
applies only when its condition is true — so "anything but retail" does not include "no
industry", and leads without the field never reach the stage through this rule. For a ceiling
(`=> at most STAGE`) it is the other way round: leads without the field are never held back.
A positive test (`industry = saas`) is not reported: that a missing value never matches it is
what authors expect. See [Missing values](language.md#missing-values).""",
{"policy.qual": """field industry: enum { saas, fintech, retail } optional
field demo requested: bool default false
stages unqualified < MQL < SQL
otherwise unqualified
demo requested and industry != retail => MQL
"""},
"""Say what a missing value means — let such leads through:

```qual
demo requested and (industry unknown or industry != retail) => MQL
```

or keep them out, explicitly:

```qual
demo requested and industry known and industry != retail => MQL
```

or give the field a `default`, when one value is a fair stand-in for "not given".""",
{"policy.qual": """field industry: enum { saas, fintech, retail } optional
field demo requested: bool default false
stages unqualified < MQL < SQL
otherwise unqualified
demo requested and (industry unknown or industry != retail) => MQL
"""},
extra=[("A ceiling that never holds back leads without the field", {"policy.qual": """field country: enum { us, ca, uk, de, other } optional
field demo requested: bool default false
stages unqualified < MQL < SQL
otherwise unqualified
rule demo: demo requested => SQL
rule outside territory: country not in { us, ca, uk } => at most MQL
"""})])

E("Q0203", "obsolete-overrides",
"""A rule ends with an `overrides …` clause. It once marked an overlap between two rules as
reviewed, to silence the overlap warning ([Q0303](#q0303-conflicting-rules), retired). The
analysis no longer reports rules that can match the same lead — when several do, the highest
stage wins, which is how escalation is meant to work — so the clause changes nothing, neither
results nor findings. It is still read, so old policies keep working, and the editor's quick
fix deletes it.""",
{"policy.qual": """field budget: money optional
field demo requested: bool default false
stages unqualified < MQL < SQL
otherwise unqualified
rule demo: demo requested => MQL
rule budget confirmed: budget known and demo requested => SQL because "Budget and a demo" overrides demo
"""},
"""Delete the clause:

```qual
rule budget confirmed: budget known and demo requested => SQL because "Budget and a demo"
```

If the rule it named was meant to hold leads *back* (competitors, students), `overrides` never
did that; write that rule as a ceiling, `=> at most STAGE`
(see [Q0313](#q0313-toothless-disqualifier)).""",
{"policy.qual": """field budget: money optional
field demo requested: bool default false
stages unqualified < MQL < SQL
otherwise unqualified
rule demo: demo requested => MQL
rule budget confirmed: budget known and demo requested => SQL because "Budget and a demo"
"""})
E("Q0204", "undirected-within",
"""A recency test `within N days` without `the last` or `the next`. It is true for a date up
to N days *before* the evaluation date and for one up to N days *after* it, so
`last activity within 30 days` also accepts activity dated next month (a typo, a time-zone
slip, a planned meeting), and `timeline within 90 days` also accepts a close date that has
already passed. The form is still read, with that meaning; the warning asks you to say which
side you mean. The editor offers both rewrites as quick fixes.""",
{"policy.qual": """field last activity: date optional
field expected close: date optional
stages unqualified < MQL < SQL
otherwise unqualified
rule active: last activity within 30 days => MQL
rule closing: expected close within the next 90 days => SQL
"""},
"""Write `within the last N days` for a date in the past (on the evaluation date or at most N
days before it), `within the next N days` for a date ahead (on it or at most N days after):

```qual
rule active: last activity within the last 30 days => MQL
```

When both sides are really meant, say so with two tests:
`last activity within the last 30 days or last activity within the next 30 days`.""",
{"policy.qual": """field last activity: date optional
field expected close: date optional
stages unqualified < MQL < SQL
otherwise unqualified
rule active: last activity within the last 30 days => MQL
rule closing: expected close within the next 90 days => SQL
"""})
E("Q0202", "unused-definition",
"""A criterion is defined but no rule, criterion or score uses it — often left
over after a rule changed, or misspelt where it was meant to be used. Files without rules
of their own (shared definition files) are not checked for this: their criteria are for the
files that import them.""",
{"policy.qual": """field company size: integer optional
field demo requested: bool default false
stages MQL < SQL
otherwise MQL
criterion big company: company size known and company size > 1000
demo requested => SQL
"""},
"""Use it, or remove it:

```qual
demo requested and big company => SQL
```""",
{"policy.qual": """field company size: integer optional
field demo requested: bool default false
stages MQL < SQL
otherwise MQL
criterion big company: company size known and company size > 1000
demo requested and big company => SQL
"""})

E("Q0301", "contradiction",
"""A rule or criterion asks for things that no lead can have at once, so it never applies:
leads you meant to qualify through it silently fall to another rule or to `otherwise`. The
warning names the smallest set of clauses that clash. The usual cause is `and` where `or`
(or `in { … }`) was meant, a range written the wrong way, or two criteria that exclude each
other. A rule that uses a criterion which can never hold is reported too, and so is an
`at least N of (…)` whose items cannot be true N at a time.""",
{"policy.qual": """field industry: enum { saas, fintech, retail } optional
field demo requested: bool default false
stages unqualified < MQL < SQL
otherwise unqualified
rule target industry demo: demo requested and industry known and industry = saas and industry = fintech => SQL
"""},
"""A lead has one industry. When either industry will do, say so with `in`:

```qual
rule target industry demo: demo requested and industry known and industry in { saas, fintech } => SQL
```

When the clash comes from criteria (as below), check which of them the rule really needs.""",
{"policy.qual": """field industry: enum { saas, fintech, retail } optional
field demo requested: bool default false
stages unqualified < MQL < SQL
otherwise unqualified
rule target industry demo: demo requested and industry known and industry in { saas, fintech } => SQL
"""},
extra=[("Two criteria that exclude each other", {"policy.qual": """field company size: integer optional
field demo requested: bool default false
stages unqualified < MQL < SQL
otherwise unqualified
criterion small business: company size known and company size < 200
criterion enterprise: company size known and company size >= 1000
rule enterprise demo: enterprise and demo requested and small business => SQL
"""})])

E("Q0302", "shadowed-rule",
"""A rule can match leads, but never decides any of them: every lead it matches is already
decided by rules that take precedence — a rule for a higher stage (which always wins,
wherever it is written), an earlier rule for the same stage, or a ceiling that lowers the
lead below it. The rule's stage and its `because` reason never appear in results. The warning
names the rules that take its leads. The typical case is a rule meant to hold leads *back*
(students, competitors) written for a lower stage, all of whose leads a higher rule takes;
when a higher rule takes only some of them, it is
[Q0313](#q0313-toothless-disqualifier).""",
{"policy.qual": """field persona: enum { buyer, student, competitor } default buyer
field demo requested: bool default false
stages unqualified < MQL < SQL
otherwise unqualified
rule demo: demo requested => MQL
rule student demo: demo requested and persona = student => unqualified because "Students are not buyers"
"""},
"""When the rule is meant to hold its leads back, make it a ceiling, which lowers whatever
stage the other rules give:

```qual
rule student demo: demo requested and persona = student => at most unqualified because "Students are not buyers"
```

Within one stage, put the narrower rule first, or remove it when the broader rule says
all it needs.""",
{"policy.qual": """field persona: enum { buyer, student, competitor } default buyer
field demo requested: bool default false
stages unqualified < MQL < SQL
otherwise unqualified
rule demo: demo requested => MQL
rule student demo: demo requested and persona = student => at most unqualified because "Students are not buyers"
"""},
extra=[("An earlier rule for the same stage", {"policy.qual": """field budget: money optional
field demo requested: bool default false
stages unqualified < MQL < SQL
otherwise unqualified
rule demo: demo requested => SQL because "Asked for a demo"
rule demo with budget: demo requested and budget known => SQL because "Budget confirmed and asked for a demo"
"""})])
RETIRED("Q0303", "conflicting-rules",
"""*Retired: no longer reported, and the code is not reused.* It warned that two rules for
different stages can match the same lead, and asked the author to review each such overlap
once, marking reviewed ones with `overrides`. Almost every overlap is intended — a confirmed
budget *should* beat a demo request — so the warning was mostly noise. The one overlap that
hurt, a rule meant to keep competitors or students out losing to any higher rule, is now
written as a ceiling (`=> at most STAGE`) and checked by
[Q0313](#q0313-toothless-disqualifier) and [Q0314](#q0314-ineffective-ceiling). Why the
analysis does not report overlaps is in
[Policy analysis](analysis.md#why-overlapping-rules-are-not-reported). A leftover `overrides`
clause gets [Q0203](#q0203-obsolete-overrides).""")
E("Q0304", "unreachable-threshold",
"""A score condition that no lead can meet, given the score's point lines and caps: the
most a lead can collect is below the threshold. The warning gives the range the score can
take. It usually happens when a point line was removed or lowered, or a `cap` added, and the
thresholds were not updated — the part of the policy that relies on the score quietly stops
qualifying anyone.""",
{"policy.qual": """field demo requested: bool default false
field webinar attended: bool default false
field pricing page visited: bool default false
stages unqualified < MQL < SQL
otherwise unqualified
score engagement {
  +30 when demo requested
  +20 when webinar attended
  +10 when pricing page visited
  cap 50
}
rule engaged: demo requested or engagement >= 80 => MQL
"""},
"""Set the threshold within the score's range, or give the score point lines (or a higher
`cap`) that can reach it:

```qual
rule engaged: demo requested or engagement >= 40 => MQL
```

When the score condition is the rule's only clause, the rule itself can never hold and is
also reported as [Q0301](#q0301-contradiction).""",
{"policy.qual": """field demo requested: bool default false
field webinar attended: bool default false
field pricing page visited: bool default false
stages unqualified < MQL < SQL
otherwise unqualified
score engagement {
  +30 when demo requested
  +20 when webinar attended
  +10 when pricing page visited
  cap 50
}
rule engaged: demo requested or engagement >= 40 => MQL
"""})

E("Q0305", "trivial-threshold",
"""A score condition that every lead meets, so it filters nothing: the least a lead can
score already meets the threshold. A lead with no points at all passes. Usually `>= 0`
was written for "has some points", or the threshold was set before negative point lines
were removed. The warning gives the range the score can take.""",
{"policy.qual": """field industry: enum { saas, fintech, retail } optional
field company size: integer optional
stages unqualified < MQL < SQL
otherwise unqualified
score fit {
  +20 when industry in { saas, fintech }
  +10 when company size known and company size >= 200
}
rule some fit: fit >= 0 => MQL
"""},
"""Raise the threshold to the points that should count, or drop the clause if it is not meant
to filter:

```qual
rule some fit: fit >= 20 => MQL
```""",
{"policy.qual": """field industry: enum { saas, fintech, retail } optional
field company size: integer optional
stages unqualified < MQL < SQL
otherwise unqualified
score fit {
  +20 when industry in { saas, fintech }
  +10 when company size known and company size >= 200
}
rule some fit: fit >= 20 => MQL
"""})

E("Q0306", "redundant-clause",
"""One clause of a rule's or criterion's `and` list is implied by the others, so it
changes nothing: every lead that meets the rest meets it too. The warning names the clauses
that already imply it. A redundant clause is harmless to the results but misleads the reader,
and it often means the criteria drifted apart — the clause was meant to be stricter than it
is, or a criterion was tightened and the rule still repeats its old bound. `FIELD known`
clauses are never reported: they say how missing values are handled (see
[Q0201](#q0201-unchecked-optional)).""",
{"policy.qual": """field company size: integer optional
field demo requested: bool default false
stages unqualified < MQL < SQL
otherwise unqualified
criterion enterprise: company size known and company size >= 1000
rule enterprise demo: enterprise and demo requested and company size >= 200 => SQL
"""},
"""Remove the clause, or tighten it if it was meant to filter more:

```qual
rule enterprise demo: enterprise and demo requested => SQL
```""",
{"policy.qual": """field company size: integer optional
field demo requested: bool default false
stages unqualified < MQL < SQL
otherwise unqualified
criterion enterprise: company size known and company size >= 1000
rule enterprise demo: enterprise and demo requested => SQL
"""})

E("Q0307", "no-stage-gap",
"""The policy has no `otherwise`, and some leads match no rule, so they get **no stage**:
they drop out of every report and hand-off. The warning shows such a lead. Often the gap is
a boundary between two rules (`< 50` … `between 50 and 999` … `> 1000` misses exactly 1000),
or a combination nobody thought of.""",
{"policy.qual": """field company size: integer default 0
stages unqualified < MQL < SQL
rule small: company size < 50 => unqualified
rule mid market: company size between 50 and 999 => MQL
rule enterprise: company size > 1000 => SQL
"""},
"""Close the gap between the rules:

```qual
rule enterprise: company size >= 1000 => SQL
```

or give leads that match no rule a stage:

```qual
otherwise unqualified
```""",
{"policy.qual": """field company size: integer default 0
stages unqualified < MQL < SQL
rule small: company size < 50 => unqualified
rule mid market: company size between 50 and 999 => MQL
rule enterprise: company size >= 1000 => SQL
"""})

E("Q0308", "stage-inversion",
"""`require STAGE: CONDITION` states what every lead at that stage **or higher** must meet —
for example that no lead reaches SQL without a known budget. This warning reports a rule
that puts leads at that stage, or a higher one, although they fail the condition, with such
a lead as an example. When the rule's stage is higher than the required one, it is a **stage
inversion**: leads skip a stage's entry criteria by qualifying straight for the stage above.
Either way, sales gets leads that do not meet the agreed definition.""",
{"policy.qual": """field budget: money optional
field demo requested: bool default false
field decision maker: bool default false
stages unqualified < MQL < SQL
otherwise unqualified
require SQL: budget known
rule budget confirmed: budget known and budget >= $10_000 => SQL
rule exec demo: demo requested and decision maker => SQL
"""},
"""Add the requirement to the rule:

```qual
rule exec demo: demo requested and decision maker and budget known => SQL
```

or, if the rule is right and the requirement too strict, change the requirement.""",
{"policy.qual": """field budget: money optional
field demo requested: bool default false
field decision maker: bool default false
stages unqualified < MQL < SQL
otherwise unqualified
require SQL: budget known
rule budget confirmed: budget known and budget >= $10_000 => SQL
rule exec demo: demo requested and decision maker and budget known => SQL
"""},
extra=[("A stage inversion", {"policy.qual": """field company size: integer default 0
field demo requested: bool default false
field budget: money optional
stages unqualified < MQL < SQL
otherwise unqualified
require MQL: company size >= 50
rule mid market demo: company size >= 50 and demo requested => MQL
rule budget confirmed: budget known => SQL
"""})])

E("Q0309", "undecided",
"""Not a problem in itself: the analysis behind Q0301–Q0308, Q0313 and Q0314 could not settle a question
about the policy — whether a rule can hold, whether it ever decides a lead, whether a
ceiling ever lowers one, whether a rule respects a `require` — and says so rather than
guess. The analysis is exact for
numbers, money, dates, enums, yes/no values, `known`/`unknown` and text equality; text tests
(`contains`, `starts with`, `ends with`), comparisons between two fields and `per` lines can
leave it undecided. A note never fails a check, even with `--deny-warnings`.""",
{"policy.qual": """field title: string default ""
stages unqualified < MQL < SQL
otherwise unqualified
rule senior: title starts with "VP" and title starts with "Director" => MQL
"""},
"""Read the question yourself. Here no title starts with both, so the rule never applies;
`or` was meant:

```qual
rule senior: title starts with "VP" or title starts with "Director" => MQL
```

When the answer is fine as it is (below: every title that starts with `VP` and contains
`Sales` starts with `VP`, so `vp sales` never decides), act on it — here, put `vp sales`
first or remove it — or leave the note.""",
{"policy.qual": """field title: string default ""
stages unqualified < MQL < SQL
otherwise unqualified
rule senior: title starts with "VP" or title starts with "Director" => MQL
"""},
extra=[("A rule on text that may never decide", {"policy.qual": """field title: string default ""
stages unqualified < MQL < SQL
otherwise unqualified
rule vp: title starts with "VP" => SQL
rule vp sales: title starts with "VP" and title contains "Sales" => SQL
"""})])

SAMPLE_TOML = """[sample]
file = "leads.csv"
"""
SAMPLE_LEADS = "Lead ID,Budget,Employees,Demo\n" + "".join(
    f"L{i},{'' if i % 5 in (1, 2, 3) else 5000 * (i % 9)},{50 * i},{'yes' if i % 2 == 0 else 'no'}\n"
    for i in range(1, 201))

E("Q0310", "rarely-passes",
"""With a sample lead file (`--sample FILE`, or `[sample] file` in a `qualify.toml` beside the
policy or in a folder above it), `qualify check` runs the policy over the sample and warns
about a rule or criterion that fewer than 1% of the sample's leads pass (`min_pass_rate`
changes the share). This is **over-qualification**: criteria so strict that good leads never
reach sales. The warning names the most restrictive clause — the one whose removal would let
in the most additional leads — and how many.""",
{"qualify.toml": SAMPLE_TOML, "leads.csv": SAMPLE_LEADS, "policy.qual": """field lead id: string key from "Lead ID"
field company size: integer from "Employees" default 0
field demo requested: bool from "Demo" default false
stages unqualified < SQL
otherwise unqualified
rule enterprise: company size >= 9960 and demo requested => SQL
rule curious: demo requested => SQL
"""},
"""Check the clause the warning names against what sales really wants. Here no lead of the
sample has 9,960 employees or more; the team meant 950:

```qual
rule enterprise: company size >= 950 and demo requested => SQL
```""",
{"qualify.toml": SAMPLE_TOML, "leads.csv": SAMPLE_LEADS, "policy.qual": """field lead id: string key from "Lead ID"
field company size: integer from "Employees" default 0
field demo requested: bool from "Demo" default false
stages unqualified < SQL
otherwise unqualified
rule enterprise: company size >= 950 and demo requested => SQL
rule curious: demo requested => SQL
"""})

E("Q0311", "stage-never-reached",
"""With a sample lead file, a stage that no lead of the sample reaches: its rules are too
strict for the leads the team actually gets (then Q0310 names them too), no rule concludes it,
or the sample is not the one meant.""",
{"qualify.toml": SAMPLE_TOML, "leads.csv": SAMPLE_LEADS, "policy.qual": """field lead id: string key from "Lead ID"
field company size: integer from "Employees" default 0
field demo requested: bool from "Demo" default false
stages unqualified < MQL < SQL
otherwise unqualified
rule curious: demo requested => MQL
"""},
"""Add the rule the stage is missing (or loosen its rules; `qualify explain POLICY leads.csv
--row N` shows what a lead lacks):

```qual
rule enterprise demo: company size >= 5000 and demo requested => SQL
```""",
{"qualify.toml": SAMPLE_TOML, "leads.csv": SAMPLE_LEADS, "policy.qual": """field lead id: string key from "Lead ID"
field company size: integer from "Employees" default 0
field demo requested: bool from "Demo" default false
stages unqualified < MQL < SQL
otherwise unqualified
rule enterprise demo: company size >= 5000 and demo requested => SQL
rule curious: demo requested => MQL
"""})

E("Q0312", "often-missing",
"""With a sample lead file, a rule that needs a field — it can never hold for a lead without
it — that more than 30% of the sample's leads lack (`max_missing` changes the share). Missing
values make a condition unknown, and a rule applies only when its condition is true, so the
rule silently excludes all those leads.""",
{"qualify.toml": SAMPLE_TOML, "leads.csv": SAMPLE_LEADS, "policy.qual": """field lead id: string key from "Lead ID"
field budget: money optional from "Budget"
field demo requested: bool from "Demo" default false
stages unqualified < SQL
otherwise unqualified
rule budget demo: budget known and budget >= $5_000 and demo requested => SQL
"""},
"""Say what a missing budget should mean. If a demo request alone is enough when the budget
is not known:

```qual
rule budget demo: (budget unknown or budget >= $5_000) and demo requested => SQL
```""",
{"qualify.toml": SAMPLE_TOML, "leads.csv": SAMPLE_LEADS, "policy.qual": """field lead id: string key from "Lead ID"
field budget: money optional from "Budget"
field demo requested: bool from "Demo" default false
stages unqualified < SQL
otherwise unqualified
rule budget demo: (budget unknown or budget >= $5_000) and demo requested => SQL
"""})

E("Q0313", "toothless-disqualifier",
"""An ordinary rule concludes a stage at or below `otherwise` — so it raises no lead — while a
rule for a higher stage can match some of the same leads. Such a rule is almost always meant
as a **disqualifier**: competitors, students, job seekers, existing customers. But when
several rules match a lead, the highest stage wins, so it holds nothing back: a competitor who
asks for a demo still becomes an MQL through the demo rule. The warning shows such a lead
(`for example: {…}`) and names the rule that takes it higher.""",
{"policy.qual": """field email domain: string default ""
field demo requested: bool default false
stages unqualified < MQL < SQL
otherwise unqualified
rule demo: demo requested => MQL
rule competitor: email domain = "rival.com" => unqualified because "We don't sell to competitors"
"""},
"""Make it a **ceiling** with `at most` (the editor's quick fix inserts it). A ceiling lowers
the stage the other rules give to its own stage, whatever they say, and is then the rule that
decided:

```qual
rule competitor: email domain = "rival.com" => at most unqualified because "We don't sell to competitors"
```

If the rule is only meant to give the reason for leads that no other rule takes, narrow the
higher rules instead (`demo requested and email domain != "rival.com"`).""",
{"policy.qual": """field email domain: string default ""
field demo requested: bool default false
stages unqualified < MQL < SQL
otherwise unqualified
rule demo: demo requested => MQL
rule competitor: email domain = "rival.com" => at most unqualified because "We don't sell to competitors"
"""})

E("Q0314", "ineffective-ceiling",
"""A ceiling (`=> at most STAGE`) that does nothing useful. Either **no lead it matches would
get above its stage anyway** — no rule that can match those leads concludes a higher stage,
`otherwise` is not higher, or a lower ceiling already holds them — so it never lowers a stage
and never decides; or it **matches every lead**, so no lead ever gets above its stage and
every rule for a higher stage is dead. The first usually means the ceiling's stage is one too
high (`at most MQL` where `at most unqualified` was meant), the second a condition that is
always true.""",
{"policy.qual": """field email domain: string default ""
field demo requested: bool default false
stages unqualified < MQL < SQL
otherwise unqualified
rule demo: demo requested => MQL
rule competitor: email domain = "rival.com" => at most MQL because "We don't sell to competitors"
"""},
"""Give the ceiling the stage its leads should end at — no rule here goes above MQL, so
`at most MQL` holds nobody back:

```qual
rule competitor: email domain = "rival.com" => at most unqualified because "We don't sell to competitors"
```

or remove it. A ceiling that matches every lead needs a narrower condition.""",
{"policy.qual": """field email domain: string default ""
field demo requested: bool default false
stages unqualified < MQL < SQL
otherwise unqualified
rule demo: demo requested => MQL
rule competitor: email domain = "rival.com" => at most unqualified because "We don't sell to competitors"
"""},
extra=[("A ceiling that matches every lead (every rule above it never decides, Q0302)", {"policy.qual": """field budget: money optional
field demo requested: bool default false
stages unqualified < MQL < SQL
otherwise unqualified
rule demo: demo requested => SQL
rule hold: budget unknown or budget known => at most MQL
"""})])

SIMPLE_POLICY = """field lead id: string key from "Lead ID"
field company size: integer from "Employees" default 0
field demo requested: bool from "Demo" default false
stages unqualified < SQL
otherwise unqualified
rule curious: demo requested => SQL
"""

E("Q0401", "config-unreadable",
"""The `qualify.toml` found beside the policy or in a folder above it cannot be used: it is
not TOML, it has a key Qualify does not know, a share that is not between 0% and 100%, or it
cannot be read. The message gives the line and column but never quotes the file (it may be a
link to anything). The editor shows the same error on the policy's first line, and reports it
again as soon as the file changes on disk.""",
{"qualify.toml": """[sample]
file = "leads.csv"
min_pass_rate = "150%"
""", "leads.csv": SAMPLE_LEADS, "policy.qual": SIMPLE_POLICY},
"""Correct the setting the message names (here a share above 100%), or check without the file
(`--no-config`):

```toml
[sample]
file = "leads.csv"
min_pass_rate = "1%"
```""",
{"qualify.toml": SAMPLE_TOML, "leads.csv": SAMPLE_LEADS, "policy.qual": SIMPLE_POLICY})

E("Q0402", "sample-unreadable",
"""The sample lead file (`--sample FILE`, or `[sample] file` in a `qualify.toml`) cannot be
read: it does not exist, it lacks a column the policy needs, or it is not a lead file. The
strictness findings (Q0310–Q0312) need it, so none are reported until it is fixed.""",
{"qualify.toml": """[sample]
file = "leads-2026.csv"
""", "leads.csv": SAMPLE_LEADS, "policy.qual": SIMPLE_POLICY},
"""Point `[sample] file` at the lead file (paths are relative to the `qualify.toml`):

```toml
[sample]
file = "leads.csv"
```""",
{"qualify.toml": SAMPLE_TOML, "leads.csv": SAMPLE_LEADS, "policy.qual": SIMPLE_POLICY})
