//! Completion: what is offered at the cursor, one line per item:
//! kind, label, what it inserts when that differs, the detail, and the
//! text it replaces when there is any.

use expect_test::{Expect, expect};

use crate::fixture::Fixture;

#[track_caller]
fn check(fixture: &str, expect: Expect) {
    let f = Fixture::parse(fixture);
    let text = f.text(f.file);
    let items = qualify::ide::complete::complete(&f.db, f.file, f.offset());
    let mut actual = String::new();
    if items.is_empty() {
        actual.push_str("(nothing)\n");
    }
    for item in items {
        let kind = format!("{:?}", item.kind).to_lowercase();
        let mut line = format!("{kind:<9} {}", item.label);
        if item.insert != item.label {
            line.push_str(&format!(" ⇒ {:?}", item.insert));
        }
        if let Some(detail) = &item.detail {
            line.push_str(&format!(" — {detail}"));
        }
        if !item.replace.is_empty() {
            line.push_str(&format!(" [replaces {:?}]", &text[item.replace.range()]));
        }
        if item.replace.end as usize != f.offset() {
            line.push_str(" !! does not end at the cursor");
        }
        actual.push_str(line.trim_end());
        actual.push('\n');
    }
    expect.assert_eq(&actual);
}

#[test]
fn stages_after_the_arrow() {
    check(
        r#"
        field demo requested: bool default false
        stages unqualified < MQL < SQL
        otherwise unqualified
        rule demo: demo requested => $0
        "#,
        expect![[r#"
            stage     SQL — stage
            stage     MQL — stage
            stage     unqualified — stage
            keyword   at most ⇒ "at most " — a ceiling: the leads it matches get this stage or lower
        "#]],
    );
}

#[test]
fn stages_after_at_most() {
    check(
        r#"
        field email: string optional
        stages unqualified < MQL < SQL
        otherwise unqualified
        rule competitor: email ends with "@rival.com" => at most $0
        "#,
        expect![[r#"
            stage     SQL — stage
            stage     MQL — stage
            stage     unqualified — stage
        "#]],
    );
}

#[test]
fn a_stage_being_typed() {
    check(
        r#"
        field demo requested: bool default false
        stages unqualified < MQL < SQL
        otherwise unqualified
        rule demo: demo requested => M$0
        "#,
        expect![[r#"
            stage     SQL — stage [replaces "M"]
            stage     MQL — stage [replaces "M"]
            stage     unqualified — stage [replaces "M"]
            keyword   at most ⇒ "at most " — a ceiling: the leads it matches get this stage or lower [replaces "M"]
        "#]],
    );
}

#[test]
fn because_after_the_stage() {
    check(
        r#"
        field demo requested: bool default false
        stages unqualified < MQL < SQL
        otherwise unqualified
        rule demo: demo requested => MQL $0
        "#,
        expect![[r#"
            keyword   because "…" ⇒ "because \"${1:reason}\"" — the reason given with the result
        "#]],
    );
}

#[test]
fn names_where_a_condition_starts() {
    check(
        r#"
        field budget: money optional
        field industry: enum { saas, fintech, retail } optional
        stages unqualified < MQL < SQL
        otherwise unqualified
        criterion target market: industry in { saas, fintech }
        score fit {
          +30 when target market
        }
        rule ready: $0
        "#,
        expect![[r#"
            field     budget — field: money
            field     industry — field: enum { saas, fintech, retail }
            criterion target market — criterion
            score     fit — score
            keyword   not ⇒ "not "
            snippet   at least N of (…) ⇒ "at least ${1:2} of (${2:condition}, ${3:condition})" — true when N of the conditions are
        "#]],
    );
}

#[test]
fn names_after_and() {
    check(
        r#"
        field budget: money optional
        field demo requested: bool default false
        stages unqualified < MQL < SQL
        otherwise unqualified
        rule ready: budget known and de$0
        "#,
        expect![[r#"
            field     budget — field: money [replaces "de"]
            field     demo requested — field: bool [replaces "de"]
            keyword   not ⇒ "not " [replaces "de"]
            snippet   at least N of (…) ⇒ "at least ${1:2} of (${2:condition}, ${3:condition})" — true when N of the conditions are [replaces "de"]
        "#]],
    );
}

#[test]
fn operators_after_an_enum_field() {
    check(
        r#"
        field industry: enum { saas, fintech, retail } optional
        stages unqualified < MQL
        otherwise unqualified
        rule fit: industry $0
        "#,
        expect![[r#"
            operator  in { … } ⇒ "in { $1 }" — one of these values
            operator  not in { … } ⇒ "not in { $1 }"
            operator  = ⇒ "= "
            operator  != ⇒ "!= "
            operator  known — the value is present
            operator  unknown — the value is missing
        "#]],
    );
}

#[test]
fn operators_after_a_money_field_with_a_default() {
    check(
        r#"
        field budget: money default $1
        stages unqualified < MQL
        otherwise unqualified
        rule fit: budget $0
        "#,
        expect![[r#"
            operator  >= ⇒ ">= "
            operator  > ⇒ "> "
            operator  <= ⇒ "<= "
            operator  < ⇒ "< "
            operator  = ⇒ "= "
            operator  != ⇒ "!= "
            operator  between … and … ⇒ "between ${1:low} and ${2:high}"
            operator  in { … } ⇒ "in { ${1:value} }"
        "#]],
    );
}

#[test]
fn operators_after_a_date_field() {
    check(
        r#"
        field last activity: date optional from "Last Activity"
        stages unqualified < MQL
        otherwise unqualified
        rule recent: last activity $0
        "#,
        expect![[r#"
            operator  within the last N days ⇒ "within the last ${1:30} days" — on the evaluation date or at most N days before it
            operator  within the next N days ⇒ "within the next ${1:90} days" — on the evaluation date or at most N days after it
            operator  >= ⇒ ">= "
            operator  > ⇒ "> "
            operator  <= ⇒ "<= "
            operator  < ⇒ "< "
            operator  = ⇒ "= "
            operator  != ⇒ "!= "
            operator  between … and … ⇒ "between ${1:low} and ${2:high}"
            operator  known — the value is present
            operator  unknown — the value is missing
        "#]],
    );
}

#[test]
fn operators_after_a_criterion() {
    check(
        r#"
        field demo requested: bool default false
        stages unqualified < MQL
        otherwise unqualified
        criterion asked: demo requested
        rule demo: asked $0
        "#,
        expect![[r#"
            operator  and ⇒ "and "
            operator  or ⇒ "or "
            operator  => ⇒ "=> " — conclude a stage
        "#]],
    );
}

#[test]
fn enum_values_inside_in_braces() {
    check(
        r#"
        field industry: enum { saas, fintech, "real estate", other } optional
        stages unqualified < MQL
        otherwise unqualified
        rule fit: industry in { saas, $0
        "#,
        expect![[r#"
            enumvalue saas
            enumvalue fintech
            enumvalue real estate ⇒ "\"real estate\""
            enumvalue other
        "#]],
    );
}

#[test]
fn enum_values_after_equals() {
    check(
        r#"
        field seniority: enum { c_level, vp, director, manager } optional
        stages unqualified < MQL
        otherwise unqualified
        rule decision maker: seniority = $0
        "#,
        expect![[r#"
            enumvalue c_level
            enumvalue vp
            enumvalue director
            enumvalue manager
        "#]],
    );
}

#[test]
fn a_multi_word_name_replaces_the_words_typed() {
    check(
        r#"
        field company size: integer optional
        field company name: string optional
        stages unqualified < MQL
        otherwise unqualified
        rule big: company si$0
        "#,
        expect![[r#"
            field     company size — field: integer [replaces "company si"]
            field     company name — field: string [replaces "si"]
            keyword   not ⇒ "not " [replaces "si"]
            snippet   at least N of (…) ⇒ "at least ${1:2} of (${2:condition}, ${3:condition})" — true when N of the conditions are [replaces "si"]
        "#]],
    );
}

#[test]
fn field_values_in_a_test_lead() {
    check(
        r#"
        field need: enum { urgent, planned, exploring } optional
        field authority: bool default false
        stages unqualified < SQL
        otherwise unqualified
        rule ready: authority and need = urgent => SQL
        test "an urgent decision maker" {
          lead { authority: true, need: $0 }
          expect SQL
        }
        "#,
        expect![[r#"
            enumvalue urgent
            enumvalue planned
            enumvalue exploring
        "#]],
    );
}

#[test]
fn field_names_in_a_test_lead() {
    check(
        r#"
        field need: enum { urgent, planned, exploring } optional
        field authority: bool default false
        stages unqualified < SQL
        otherwise unqualified
        rule ready: authority and need = urgent => SQL
        test "an urgent decision maker" {
          lead { authority: true, $0 }
        }
        "#,
        expect![[r#"
            field     need ⇒ "need: " — enum
            field     authority ⇒ "authority: " — bool
        "#]],
    );
}

#[test]
fn what_a_test_expects() {
    check(
        r#"
        field authority: bool default false
        stages unqualified < SQL
        otherwise unqualified
        rule ready: authority => SQL
        test "a decision maker" {
          lead { authority: true }
          expect $0
        }
        "#,
        expect![[r#"
            stage     SQL — stage
            stage     unqualified — stage
            keyword   no stage
            keyword   score ⇒ "score "
            keyword   rule ⇒ "rule "
        "#]],
    );
}

#[test]
fn rules_a_test_expects() {
    check(
        r#"
        field authority: bool default false
        field demo requested: bool default false
        stages unqualified < MQL < SQL
        otherwise unqualified
        rule ready: authority => SQL
        rule demo: demo requested => MQL
        demo requested and authority => SQL
        test "a decision maker" {
          lead { authority: true }
          expect rule $0
        }
        "#,
        expect![[r#"
            rule      ready — rule
            rule      demo — rule
        "#]],
    );
}

#[test]
fn a_line_of_a_score_block() {
    check(
        r#"
        field email opens: integer default 0
        stages unqualified < MQL
        otherwise unqualified
        score engagement {
          +1 per email opens cap 10
          $0
        }
        "#,
        expect![[r#"
            snippet   +N when … ⇒ "+${1:10} when ${2:condition}"
            snippet   +N per FIELD cap M ⇒ "+${1:1} per ${2:field} cap ${3:10}"
            keyword   cap ⇒ "cap ${1:100}" — bound on the total
        "#]],
    );
}

#[test]
fn number_fields_after_per() {
    check(
        r#"
        field email opens: integer default 0
        field budget: money optional
        field demo requested: bool default false
        field industry: enum { saas, fintech } optional
        stages unqualified < MQL
        otherwise unqualified
        criterion fit: industry = saas
        score engagement {
          +1 per $0
        }
        "#,
        expect![[r#"
            field     email opens — field: integer
            field     budget — field: money
        "#]],
    );
}

#[test]
fn types_in_a_field_declaration() {
    check(
        r#"
        field budget: $0
        "#,
        expect![[r#"
            type      bool
            type      integer
            type      number
            type      money
            type      string
            type      date
            type      list
            type      enum { … } ⇒ "enum { ${1:a}, ${2:b} }"
        "#]],
    );
}

#[test]
fn nothing_inside_a_reason() {
    check(
        r#"
        field demo requested: bool default false
        stages unqualified < MQL
        otherwise unqualified
        rule demo: demo requested => MQL because "Asked for a de$0
        "#,
        expect![[r#"
            (nothing)
        "#]],
    );
}

#[test]
fn after_the_field_of_a_per_line() {
    check(
        r#"
        field email opens: integer default 0
        stages unqualified < MQL
        otherwise unqualified
        score engagement {
          +1 per email opens $0
        }
        "#,
        expect![[r#"
            keyword   cap ⇒ "cap ${1:10}" — bound on what this line adds or takes off
            keyword   when ⇒ "when " — only when the condition is true
        "#]],
    );
}

#[test]
fn after_a_condition_in_a_score_line() {
    check(
        r#"
        field demo requested: bool default false
        stages unqualified < MQL
        otherwise unqualified
        score engagement {
          +20 when demo requested $0
        }
        "#,
        expect![[r#"
            operator  and ⇒ "and "
            operator  or ⇒ "or "
            operator  = true
            operator  = false
        "#]],
    );
}

#[test]
fn after_the_cap_of_a_per_line() {
    check(
        r#"
        field email opens: integer default 0
        field demo requested: bool default false
        stages unqualified < MQL
        otherwise unqualified
        score engagement {
          +1 per email opens cap 10 $0
        }
        "#,
        expect![[r#"
            keyword   when ⇒ "when " — only when the condition is true
        "#]],
    );
}

#[test]
fn a_longer_field_name_after_per() {
    check(
        r#"
        field email: string optional
        field email opens: integer default 0
        stages unqualified < MQL
        otherwise unqualified
        score engagement {
          +1 per email op$0
        }
        "#,
        expect![[r#"
            field     email opens — field: integer [replaces "email op"]
            keyword   cap ⇒ "cap ${1:10}" — bound on what this line adds or takes off [replaces "op"]
            keyword   when ⇒ "when " — only when the condition is true [replaces "op"]
        "#]],
    );
}

#[test]
fn enum_values_written_as_the_policy_writes_them() {
    check(
        r#"
        field industry: enum { saas, "real estate", other } optional
        stages unqualified < MQL
        otherwise unqualified
        rule fit: $0
        "#,
        expect![[r#"
            field     industry — field: enum { saas, "real estate", other }
            keyword   not ⇒ "not "
            snippet   at least N of (…) ⇒ "at least ${1:2} of (${2:condition}, ${3:condition})" — true when N of the conditions are
        "#]],
    );
}

#[test]
fn the_side_of_a_recency_test() {
    check(
        r#"
        field last activity: date optional
        stages unqualified < MQL
        rule active: last activity within $0
        "#,
        expect![[r#"
            keyword   the last N days ⇒ "the last ${1:30} days" — on the evaluation date or at most N days before it
            keyword   the next N days ⇒ "the next ${1:90} days" — on the evaluation date or at most N days after it
        "#]],
    );
}
