//! Hover: what the name under the cursor is, in the policy's own words.

use expect_test::{Expect, expect};

use crate::fixture::Fixture;

#[track_caller]
fn check(fixture: &str, expect: Expect) {
    let f = Fixture::parse(fixture);
    let actual = match qualify::ide::hover::hover(&f.db, f.file, f.offset(), None) {
        None => "(no hover)\n".to_string(),
        Some((span, markdown)) => {
            let at = qualify::ide::FileSpan {
                path: f.file.path(&f.db).clone(),
                span,
            };
            format!("{}\n---\n{markdown}\n", f.show_span(&at))
        }
    };
    expect.assert_eq(&actual);
}

#[test]
fn field_used_in_a_rule() {
    check(
        r#"
        field budget: money optional from "Budget" missing "N/A", "TBD"
        field demo requested: bool from "Demo Requested" default false
        stages unqualified < MQL < SQL
        otherwise unqualified
        rule ready to buy: bud$0get known and demo requested => SQL because "Budget and a demo request"
        "#,
        expect![[r#"
            5:20 "budget"
            ---
            **field** `budget`: money, optional

            Read from column `Budget`. Missing on an empty cell or "N/A", "TBD": tests on it are then unknown, and a rule needs `known`/`unknown` to say what happens.
        "#]],
    );
}

#[test]
fn bool_field_with_its_own_spellings_at_its_declaration() {
    check(
        r#"
        field author$0ity: bool from "Decision Maker" true "Yes" false "No" default false
        stages unqualified < SQL
        otherwise unqualified
        rule decision maker: authority => SQL
        "#,
        expect![[r#"
            1:7 "authority"
            ---
            **field** `authority`: bool

            Read from column `Decision Maker`. Yes for "Yes"; no for "No". When missing (an empty cell) it reads as `false`.
        "#]],
    );
}

#[test]
fn enum_field_in_a_criterion() {
    check(
        r#"
        field industry: enum { saas, fintech, "real estate", other } optional from "Industry" missing "Select"
        stages unqualified < MQL
        otherwise unqualified
        criterion target market: indus$0try in { saas, fintech }
        rule fit: target market => MQL
        "#,
        expect![[r#"
            4:26 "industry"
            ---
            **field** `industry`: enum { saas, fintech, "real estate", other }, optional

            Read from column `Industry`. Missing on an empty cell or "Select": tests on it are then unknown, and a rule needs `known`/`unknown` to say what happens.
        "#]],
    );
}

#[test]
fn required_key_field_in_a_test_lead() {
    check(
        r#"
        field lead id: string key from "Lead ID"
        field demo requested: bool default false
        stages unqualified < MQL
        otherwise unqualified
        rule demo: demo requested => MQL
        test "a demo request is an MQL" {
          lead { lead$0 id: "L-1", demo requested: true }
          expect MQL
        }
        "#,
        expect![[r#"
            7:10 "lead id"
            ---
            **field** `lead id`: string, key

            Read from column `Lead ID`. Required: a row with an empty cell is rejected with its line and column.
        "#]],
    );
}

#[test]
fn list_field_with_a_separator() {
    check(
        r#"
        field tags: list optional from "Tags" separator ","
        stages unqualified < MQL
        otherwise unqualified
        rule partner: ta$0gs contains "partner" => MQL
        "#,
        expect![[r#"
            4:15 "tags"
            ---
            **field** `tags`: list, optional

            Read from column `Tags`. Items separated by ",". Missing on an empty cell: tests on it are then unknown, and a rule needs `known`/`unknown` to say what happens.
        "#]],
    );
}

#[test]
fn criterion_used_in_a_rule() {
    check(
        r#"
        field company size: integer optional from "Employees"
        field industry: enum { saas, fintech, retail } optional
        stages unqualified < MQL < SQL
        otherwise unqualified
        criterion icp fit: company size between 50 and 5000 and industry in { saas, fintech }
        rule fit: icp$0 fit => MQL
        "#,
        expect![[r#"
            6:11 "icp fit"
            ---
            **criterion** `icp fit`

            ```qualify
            company size between 50 and 5000 and industry in { saas, fintech }
            ```
        "#]],
    );
}

#[test]
fn score_in_a_threshold() {
    check(
        r#"
        field demo requested: bool default false
        field whitepaper downloads: integer default 0
        field careers page visited: bool default false
        stages unqualified < MQL
        otherwise unqualified
        score engagement {
          +20 when demo requested
          +5 per whitepaper downloads cap 15
          -2 when careers page visited
          cap 100
        }
        rule engaged: engage$0ment >= 25 => MQL
        "#,
        expect![[r#"
            12:15 "engagement"
            ---
            **score** `engagement`: from -17 to 35

            ```qualify
            +20 when demo requested
            +5 per whitepaper downloads cap 15
            -2 when careers page visited
            cap 100
            ```
        "#]],
    );
}

#[test]
fn score_in_an_expect_line() {
    check(
        r#"
        field email opens: integer default 0
        stages unqualified < MQL
        otherwise unqualified
        score engagement {
          +1 per email opens cap 10
        }
        rule engaged: engagement >= 5 => MQL
        test "five opens" {
          lead { email opens: 5 }
          expect score engage$0ment = 5
        }
        "#,
        expect![[r#"
            10:16 "engagement"
            ---
            **score** `engagement`: from -10 to 10

            ```qualify
            +1 per email opens cap 10
            ```
        "#]],
    );
}

#[test]
fn stage_concluded_by_a_rule() {
    check(
        r#"
        field budget: money optional
        field demo requested: bool default false
        stages unqualified < MQL < SQL
        otherwise unqualified
        require SQL: budget known
        rule demo: demo requested => MQL
        rule ready: budget known and demo requested => S$0QL
        "#,
        expect![[r#"
            7:48 "SQL"
            ---
            **stage** `SQL`: 3 of 3 (unqualified < MQL < SQL)

            1 rule concludes it. 1 `require` line applies to it.
        "#]],
    );
}

#[test]
fn stage_of_otherwise() {
    check(
        r#"
        field demo requested: bool default false
        stages unqualified < MQL < SQL
        otherwise unqua$0lified
        rule demo: demo requested => MQL
        "#,
        expect![[r#"
            3:11 "unqualified"
            ---
            **stage** `unqualified`: 1 of 3 (unqualified < MQL < SQL)

            0 rules conclude it; it is the `otherwise` stage.
        "#]],
    );
}

#[test]
fn labelled_rule_at_its_label() {
    check(
        r#"
        field budget: money optional
        field demo requested: bool default false
        stages unqualified < MQL < SQL
        otherwise unqualified
        rule demo: demo requested => MQL
        rule ready to$0 buy: budget known and demo requested => SQL because "Budget and a demo request"
        "#,
        expect![[r#"
            6:6 "ready to buy"
            ---
            **rule** `ready to buy` ⇒ `SQL`

            Precedence: tried 1st of 2 (higher stages first, then in policy order); the first rule that matches decides, unless a ceiling (`=> at most …`) lowers the stage.

            Because: Budget and a demo request
        "#]],
    );
}

#[test]
fn labelled_rule_anywhere_on_its_line() {
    check(
        r#"
        field budget: money optional
        field demo requested: bool default false
        stages unqualified < MQL < SQL
        otherwise unqualified
        rule demo: demo requested and budget known =$0> MQL because "Asked for a demo"
        "#,
        expect![[r#"
            5:1 "rule demo: demo requested and budget known => MQL because \"Asked for a demo\""
            ---
            **rule** `demo` ⇒ `MQL`

            Precedence: tried 1st of 1 (higher stages first, then in policy order); the first rule that matches decides, unless a ceiling (`=> at most …`) lowers the stage.

            Because: Asked for a demo
        "#]],
    );
}

#[test]
fn ceiling_rule() {
    check(
        r#"
        field email: string optional
        field demo requested: bool default false
        stages unqualified < MQL < SQL
        otherwise unqualified
        rule demo: demo requested => MQL
        rule compe$0titor: email ends with "@rival.com" ignoring case => at most unqualified because "We don't sell to competitors"
        "#,
        expect![[r#"
            6:6 "competitor"
            ---
            **rule** `competitor` ⇒ at most `unqualified`

            A ceiling: a lead it matches ends at `unqualified` or lower, whatever the other rules say. When several ceilings match, the lowest wins.

            Because: We don't sell to competitors
        "#]],
    );
}

#[test]
fn rule_named_in_a_test() {
    check(
        r#"
        field demo requested: bool default false
        stages unqualified < MQL
        otherwise unqualified
        rule demo: demo requested => MQL
        test "a demo request is an MQL" {
          lead { demo requested: true }
          expect rule de$0mo
        }
        "#,
        expect![[r#"
            7:15 "demo"
            ---
            **rule** `demo` ⇒ `MQL`

            Precedence: tried 1st of 1 (higher stages first, then in policy order); the first rule that matches decides, unless a ceiling (`=> at most …`) lowers the stage.
        "#]],
    );
}

#[test]
fn field_declared_in_an_imported_file() {
    check(
        r#"
        //- /shared/schema.qual
        field budget: money optional from "Budget" missing "N/A"
        field demo requested: bool default false
        stages unqualified < MQL < SQL
        //- /inbound.qual
        import "shared/schema.qual"
        otherwise unqualified
        rule ready: budget known and demo req$0uested => SQL
        "#,
        expect![[r#"
            3:30 "demo requested"
            ---
            **field** `demo requested`: bool

            Read from column `demo requested`. Yes for "true", "yes", "1"; no for "false", "no", "0". When missing (an empty cell) it reads as `false`.
        "#]],
    );
}

#[test]
fn nothing_in_a_comment() {
    check(
        r#"
        # Marketing hands a lead to sales when it asks for a de$0mo.
        field demo requested: bool default false
        stages unqualified < SQL
        otherwise unqualified
        rule demo: demo requested => SQL
        "#,
        expect![[r#"
            (no hover)
        "#]],
    );
}
