//! Quick fixes: each action's title, whether an editor may apply it
//! without asking, the code of the diagnostic it fixes, and the file as it
//! reads once applied.

use expect_test::{Expect, expect};

use crate::fixture::Fixture;

#[track_caller]
fn check(fixture: &str, expect: Expect) {
    let f = Fixture::parse(fixture);
    let actions = qualify::ide::actions::actions(&f.db, f.file, f.range, &[]);
    let mut actual = String::new();
    if actions.is_empty() {
        actual.push_str("(no actions)\n");
    }
    for action in actions {
        let code = action.diagnostic.as_ref().map_or("-", |d| d.code.as_str());
        let preferred = if action.preferred { ", preferred" } else { "" };
        actual.push_str(&format!("## {} ({code}{preferred})\n", action.title));
        actual.push_str(&f.apply(&action.edits));
    }
    expect.assert_eq(&actual);
}

#[test]
fn misspelt_field_name() {
    check(
        r#"
        field budget: money optional
        field demo requested: bool default false
        stages MQL < SQL
        rule hot: bud$0jet known and demo requested => SQL
        "#,
        expect![[r#"
            ## Change to `budget` (Q0101, preferred)
            field budget: money optional
            field demo requested: bool default false
            stages MQL < SQL
            rule hot: budget known and demo requested => SQL
        "#]],
    );
}

#[test]
fn misspelt_multi_word_field_name() {
    check(
        r#"
        field budget: money optional
        field demo requested: bool default false
        stages unqualified < MQL < SQL
        otherwise unqualified
        rule hot: budget known and demo reqeusted$0 => SQL
        "#,
        expect![[r#"
            ## Change to `demo requested` (Q0101, preferred)
            field budget: money optional
            field demo requested: bool default false
            stages unqualified < MQL < SQL
            otherwise unqualified
            rule hot: budget known and demo requested => SQL
        "#]],
    );
}

#[test]
fn obsolete_overrides_clause() {
    check(
        r#"
        field budget: money optional
        field demo requested: bool default false
        stages unqualified < MQL < SQL
        otherwise unqualified
        rule demo: demo requested => MQL
        rule budget confirmed: budget known and demo requested => SQL because "Budget and a demo" over$0rides demo
        "#,
        expect![[r###"
            ## Delete the `overrides` clause (Q0203, preferred)
            field budget: money optional
            field demo requested: bool default false
            stages unqualified < MQL < SQL
            otherwise unqualified
            rule demo: demo requested => MQL
            rule budget confirmed: budget known and demo requested => SQL because "Budget and a demo"
        "###]],
    );
}

#[test]
fn misspelt_stage() {
    check(
        r#"
        field demo requested: bool default false
        stages unqualified < MQL < SQL
        otherwise unqualified
        rule demo: demo requested => MQ$0
        "#,
        expect![[r#"
            ## Change to `MQL` (Q0102, preferred)
            field demo requested: bool default false
            stages unqualified < MQL < SQL
            otherwise unqualified
            rule demo: demo requested => MQL
        "#]],
    );
}

#[test]
fn misspelt_ceiling() {
    check(
        r#"
        field email: string optional
        field demo requested: bool default false
        stages unqualified < MQL < SQL
        otherwise unqualified
        rule demo: demo requested => MQL
        rule competitor: email ends with "@rival.com" => at mots unqua$0lified
        "#,
        expect![[r###"
            ## Change to `at most unqualified` (Q0102, preferred)
            field email: string optional
            field demo requested: bool default false
            stages unqualified < MQL < SQL
            otherwise unqualified
            rule demo: demo requested => MQL
            rule competitor: email ends with "@rival.com" => at most unqualified
        "###]],
    );
}

#[test]
fn misspelt_keyword_at_the_start_of_a_line() {
    check(
        r#"
        field demo requested: bool default false
        stages unqualified < MQL
        otherwise unqualified
        rlue$0 demo: demo requested => MQL
        "#,
        expect![[r#"
            ## Change to `rule` (Q0001, preferred)
            field demo requested: bool default false
            stages unqualified < MQL
            otherwise unqualified
            rule demo: demo requested => MQL
        "#]],
    );
}

#[test]
fn misspelt_enum_value() {
    check(
        r#"
        field industry: enum { saas, fintech, healthcare, other } optional
        stages unqualified < MQL
        otherwise unqualified
        rule fit: industry in { saas, fintek$0 } => MQL
        "#,
        expect![[r#"
            ## Change to `fintech` (Q0103, preferred)
            field industry: enum { saas, fintech, healthcare, other } optional
            stages unqualified < MQL
            otherwise unqualified
            rule fit: industry in { saas, fintech } => MQL
        "#]],
    );
}

#[test]
fn misspelt_test_entry() {
    check(
        r#"
        field demo requested: bool default false
        stages unqualified < MQL
        otherwise unqualified
        rule demo: demo requested => MQL
        test "a demo request is an MQL" {
          lead { demo requested: true }
          expcet$0 MQL
        }
        "#,
        expect![[r###"
            ## Change to `expect` (Q0001, preferred)
            field demo requested: bool default false
            stages unqualified < MQL
            otherwise unqualified
            rule demo: demo requested => MQL
            test "a demo request is an MQL" {
              lead { demo requested: true }
              expect MQL
            }
        "###]],
    );
}

#[test]
fn toothless_disqualifier_becomes_a_ceiling() {
    check(
        r#"
        field email domain: string default ""
        field demo requested: bool default false
        stages unqualified < MQL < SQL
        otherwise unqualified
        rule demo: demo requested => MQL
        rule competitor: email domain = "rival.com" => $0unqualified because "We don't sell to competitors"
        "#,
        expect![[r###"
            ## Make it a ceiling: `=> at most unqualified` (Q0313, preferred)
            field email domain: string default ""
            field demo requested: bool default false
            stages unqualified < MQL < SQL
            otherwise unqualified
            rule demo: demo requested => MQL
            rule competitor: email domain = "rival.com" => at most unqualified because "We don't sell to competitors"
            ## Turn the example lead into a test (Q0313)
            field email domain: string default ""
            field demo requested: bool default false
            stages unqualified < MQL < SQL
            otherwise unqualified
            rule demo: demo requested => MQL
            rule competitor: email domain = "rival.com" => unqualified because "We don't sell to competitors"

            test "Q0313: rule `competitor` does not hold leads back: `otherwise` is already unq…" {
              as of 2026-06-01
              lead { email domain: "rival.com", demo requested: true }
              expect MQL
              expect rule demo
            }
        "###]],
    );
}

#[test]
fn only_the_fixes_the_selection_touches() {
    check(
        r#"
        field budget: money optional
        field demo requested: bool default false
        stages unqualified < MQL < SQL
        otherwise unqualified
        rule ready: $0budjet known$0 and demo requestd => SQL
        "#,
        expect![[r#"
            ## Change to `budget` (Q0101, preferred)
            field budget: money optional
            field demo requested: bool default false
            stages unqualified < MQL < SQL
            otherwise unqualified
            rule ready: budget known and demo requestd => SQL
        "#]],
    );
}

#[test]
fn nothing_to_fix() {
    check(
        r#"
        field demo requested: bool default false
        stages unqualified < MQL
        otherwise unqualified
        rule demo: demo req$0uested => MQL
        "#,
        expect![[r#"
            (no actions)
        "#]],
    );
}

#[test]
fn undirected_within_offers_both_directions() {
    check(
        r#"
        field last activity: date optional
        stages unqualified < MQL
        otherwise unqualified
        rule active: last activity within 3$00 days => MQL
        "#,
        expect![[r#"
            ## Change to `within the last 30 days` (Q0204)
            field last activity: date optional
            stages unqualified < MQL
            otherwise unqualified
            rule active: last activity within the last 30 days => MQL
            ## Change to `within the next 30 days` (Q0204)
            field last activity: date optional
            stages unqualified < MQL
            otherwise unqualified
            rule active: last activity within the next 30 days => MQL
        "#]],
    );
}

#[test]
fn thousands_separators() {
    check(
        r#"
        field budget: money optional
        stages unqualified < SQL
        otherwise unqualified
        rule big: budget >= $10,0$000 => SQL
        "#,
        expect![[r#"
            ## Change to `$10_000` (Q0001, preferred)
            field budget: money optional
            stages unqualified < SQL
            otherwise unqualified
            rule big: budget >= $10_000 => SQL
        "#]],
    );
}

#[test]
fn crm_type_name() {
    check(
        r#"
        field budget: curr$0ency optional
        stages unqualified < SQL
        otherwise unqualified
        rule big: budget known => SQL
        "#,
        expect![[r#"
            ## Change to `money` (Q0001, preferred)
            field budget: money optional
            stages unqualified < SQL
            otherwise unqualified
            rule big: budget known => SQL
        "#]],
    );
}
