//! Go to definition, find references and rename. Places are rendered as
//! `line:col "the text there"`, with the file's path when it is not the
//! cursor's; a rename as the text of every file it changes.

use expect_test::{Expect, expect};

use crate::fixture::Fixture;
use qualify::ide::navigate;

#[track_caller]
fn check_definition(fixture: &str, expect: Expect) {
    let f = Fixture::parse(fixture);
    let actual = match navigate::definition(&f.db, f.file, f.offset()) {
        Some(at) => f.show_span(&at) + "\n",
        None => "(none)\n".into(),
    };
    expect.assert_eq(&actual);
}

/// Every use, the declaration marked; the answer without the declaration
/// must be the same list less that one place.
#[track_caller]
fn check_references(fixture: &str, expect: Expect) {
    let f = Fixture::parse(fixture);
    let all = navigate::references(&f.db, &f.files, f.file, f.offset(), true);
    let uses = navigate::references(&f.db, &f.files, f.file, f.offset(), false);
    let definition = navigate::definition(&f.db, f.file, f.offset());
    let mut actual = String::new();
    if all.is_empty() {
        actual.push_str("(none)\n");
    }
    for at in &all {
        actual.push_str(&f.show_span(at));
        if !uses.contains(at) {
            actual.push_str(" (declaration)");
            if definition.as_ref() != Some(at) {
                actual.push_str(" !! not where go to definition goes");
            }
        }
        actual.push('\n');
    }
    if let Some(stray) = uses.iter().find(|u| !all.contains(u)) {
        actual.push_str(&format!(
            "!! {} only without the declaration\n",
            f.show_span(stray)
        ));
    }
    expect.assert_eq(&actual);
}

#[track_caller]
fn check_rename(fixture: &str, new_name: &str, expect: Expect) {
    let f = Fixture::parse(fixture);
    let actual = match navigate::rename(&f.db, &f.files, f.file, f.offset(), new_name) {
        Ok(edits) if edits.is_empty() => "(no edits)\n".into(),
        Ok(edits) => f.apply(&edits),
        Err(why) => format!("refused: {why}\n"),
    };
    expect.assert_eq(&actual);
}

// ------------------------------------------------------------ definition

#[test]
fn definition_of_a_field_used_in_a_rule() {
    check_definition(
        r#"
        field budget: money optional from "Budget"
        field demo requested: bool default false
        stages unqualified < MQL < SQL
        otherwise unqualified
        rule ready to buy: budget known and demo req$0uested => SQL
        "#,
        expect![[r#"
            2:7 "demo requested"
        "#]],
    );
}

#[test]
fn definition_of_a_criterion_used_in_a_score() {
    check_definition(
        r#"
        field seniority: enum { c_level, vp, director, manager } optional
        stages unqualified < MQL
        otherwise unqualified
        score fit {
          +20 when decision$0 maker
        }
        criterion decision maker: seniority in { c_level, vp, director }
        rule fit: fit >= 20 => MQL
        "#,
        expect![[r#"
            7:11 "decision maker"
        "#]],
    );
}

#[test]
fn definition_of_a_score_in_a_test() {
    check_definition(
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
          expect score $0engagement = 5
        }
        "#,
        expect![[r#"
            4:7 "engagement"
        "#]],
    );
}

#[test]
fn definition_of_a_stage_in_a_ceiling() {
    check_definition(
        r#"
        field email: string optional
        stages unqualified < MQL < SQL
        otherwise unqualified
        rule competitor: email ends with "@rival.com" => at most unqualified$0
        "#,
        expect![[r#"
            2:8 "unqualified"
        "#]],
    );
}

#[test]
fn definition_of_a_rule_a_test_expects() {
    check_definition(
        r#"
        field demo requested: bool default false
        stages unqualified < MQL
        otherwise unqualified
        rule demo: demo requested => MQL
        test "a demo request is an MQL" {
          lead { demo requested: true }
          expect rule d$0emo
        }
        "#,
        expect![[r#"
            4:6 "demo"
        "#]],
    );
}

#[test]
fn definition_in_an_imported_file() {
    check_definition(
        r#"
        //- /shared/schema.qual
        field budget: money optional from "Budget"
        field demo requested: bool default false
        stages unqualified < MQL < SQL
        //- /inbound.qual
        import "shared/schema.qual"
        otherwise unqualified
        rule ready: bud$0get known and demo requested => SQL
        "#,
        expect![[r#"
            /shared/schema.qual 1:7 "budget"
        "#]],
    );
}

#[test]
fn no_definition_for_a_keyword() {
    check_definition(
        r#"
        field budget: money optional
        stages unqualified < SQL
        otherwise unqualified
        rule ready: budget kno$0wn => SQL
        "#,
        expect![[r#"
            (none)
        "#]],
    );
}

// ------------------------------------------------------------ references

#[test]
fn references_to_a_field_everywhere_it_is_written() {
    check_references(
        r#"
        field demo requested: bool from "Demo Requested" default false
        field budget: money optional
        stages unqualified < MQL < SQL
        otherwise unqualified
        criterion serious: budget known and demo requested
        score engagement {
          +20 when demo requested
        }
        rule ready: serious => SQL
        rule demo: demo requ$0ested => MQL
        test "a demo request is an MQL" {
          lead { demo requested: true }
          expect MQL
        }
        "#,
        expect![[r#"
            1:7 "demo requested" (declaration)
            5:37 "demo requested"
            7:12 "demo requested"
            10:12 "demo requested"
            12:10 "demo requested"
        "#]],
    );
}

#[test]
fn references_to_a_stage() {
    check_references(
        r#"
        field demo requested: bool default false
        field budget: money optional
        stages unqualified < MQL < SQL
        otherwise unqualified
        require SQL: budget known
        rule ready: budget known and demo requested => SQ$0L
        rule demo: demo requested => MQL
        test "budget and demo" {
          lead { budget: $5_000, demo requested: true }
          expect SQL
        }
        "#,
        expect![[r#"
            3:28 "SQL" (declaration)
            5:9 "SQL"
            6:48 "SQL"
            10:10 "SQL"
        "#]],
    );
}

#[test]
fn references_to_a_criterion_from_its_declaration() {
    check_references(
        r#"
        field company size: integer optional
        stages unqualified < MQL
        otherwise unqualified
        criterion big$0 company: company size >= 500
        criterion enterprise: big company and company size >= 5000
        score fit {
          +30 when big company
        }
        rule big: big company => MQL
        "#,
        expect![[r#"
            4:11 "big company" (declaration)
            5:23 "big company"
            7:12 "big company"
            9:11 "big company"
        "#]],
    );
}

#[test]
fn references_to_a_score_used_in_a_score() {
    check_references(
        r#"
        field email opens: integer default 0
        stages unqualified < MQL
        otherwise unqualified
        score engagement {
          +1 per email opens cap 10
        }
        score priority {
          +10 when engagement >= 5
        }
        rule engaged: engage$0ment >= 5 => MQL
        test "opens" {
          lead { email opens: 5 }
          expect score engagement = 5
        }
        "#,
        expect![[r#"
            4:7 "engagement" (declaration)
            8:12 "engagement"
            10:15 "engagement"
            13:16 "engagement"
        "#]],
    );
}

#[test]
fn references_to_a_rule_label() {
    check_references(
        r#"
        field demo requested: bool default false
        stages unqualified < MQL
        otherwise unqualified
        rule de$0mo: demo requested => MQL
        test "a demo request" {
          lead { demo requested: true }
          expect rule demo
        }
        test "another demo request" {
          lead { demo requested: true }
          expect MQL
          expect rule demo
        }
        "#,
        expect![[r#"
            4:6 "demo" (declaration)
            7:15 "demo"
            12:15 "demo"
        "#]],
    );
}

#[test]
fn references_across_policies_that_share_a_schema() {
    check_references(
        r#"
        //- /shared/schema.qual
        field budget: money optional from "Budget"
        field demo requested: bool default false
        stages unqualified < MQL < SQL
        //- /inbound.qual
        import "shared/schema.qual"
        otherwise unqualified
        rule ready: bud$0get known and demo requested => SQL
        //- /outbound.qual
        import "shared/schema.qual"
        otherwise unqualified
        rule qualified: budget >= $10_000 => SQL
        "#,
        expect![[r#"
            3:13 "budget"
            /outbound.qual 3:17 "budget"
            /shared/schema.qual 1:7 "budget" (declaration)
        "#]],
    );
}

// ------------------------------------------------------------ rename

#[test]
fn rename_a_field_that_names_its_column() {
    check_rename(
        r#"
        field budget: money optional from "Budget"
        stages unqualified < SQL
        otherwise unqualified
        rule ready: budget known and bud$0get >= $10_000 => SQL
        test "a budget" {
          lead { budget: $20_000 }
          expect SQL
        }
        "#,
        "approved budget",
        expect![[r#"
            field approved budget: money optional from "Budget"
            stages unqualified < SQL
            otherwise unqualified
            rule ready: approved budget known and approved budget >= $10_000 => SQL
            test "a budget" {
              lead { approved budget: $20_000 }
              expect SQL
            }
        "#]],
    );
}

#[test]
fn rename_a_field_without_from_keeps_its_column() {
    check_rename(
        r#"
        field demo$0 requested: bool default false
        stages unqualified < MQL
        otherwise unqualified
        rule demo: demo requested => MQL
        "#,
        "asked for demo",
        expect![[r#"
            field asked for demo: bool from "demo requested" default false
            stages unqualified < MQL
            otherwise unqualified
            rule demo: asked for demo => MQL
        "#]],
    );
}

#[test]
fn rename_a_stage() {
    check_rename(
        r#"
        field demo requested: bool default false
        field email: string optional
        stages unqualified < MQL < SQL
        otherwise unqua$0lified
        rule demo: demo requested => MQL
        rule competitor: email ends with "@rival.com" => at most unqualified
        test "nothing asked" {
          lead { demo requested: false }
          expect unqualified
        }
        "#,
        "nurture",
        expect![[r#"
            field demo requested: bool default false
            field email: string optional
            stages nurture < MQL < SQL
            otherwise nurture
            rule demo: demo requested => MQL
            rule competitor: email ends with "@rival.com" => at most nurture
            test "nothing asked" {
              lead { demo requested: false }
              expect nurture
            }
        "#]],
    );
}

#[test]
fn rename_a_criterion() {
    check_rename(
        r#"
        field company size: integer optional
        stages unqualified < MQL
        otherwise unqualified
        criterion big company: company size >= 500
        score fit {
          +30 when big company
        }
        rule big: big compa$0ny => MQL
        "#,
        "enterprise",
        expect![[r#"
            field company size: integer optional
            stages unqualified < MQL
            otherwise unqualified
            criterion enterprise: company size >= 500
            score fit {
              +30 when enterprise
            }
            rule big: enterprise => MQL
        "#]],
    );
}

#[test]
fn rename_a_rule_label() {
    check_rename(
        r#"
        field demo requested: bool default false
        stages unqualified < MQL
        otherwise unqualified
        rule demo: demo requested => MQL
        test "a demo request" {
          lead { demo requested: true }
          expect rule de$0mo
        }
        "#,
        "demo request",
        expect![[r#"
            field demo requested: bool default false
            stages unqualified < MQL
            otherwise unqualified
            rule demo request: demo requested => MQL
            test "a demo request" {
              lead { demo requested: true }
              expect rule demo request
            }
        "#]],
    );
}

#[test]
fn rename_in_a_shared_schema_renames_in_every_policy() {
    check_rename(
        r#"
        //- /shared/schema.qual
        field budget: money optional from "Budget"
        stages unqualified < MQL < SQL
        //- /inbound.qual
        import "shared/schema.qual"
        otherwise unqualified
        rule ready: bud$0get known => SQL
        //- /outbound.qual
        import "shared/schema.qual"
        otherwise unqualified
        rule qualified: budget >= $10_000 => SQL
        "#,
        "approved budget",
        expect![[r#"
            //- /shared/schema.qual
            field approved budget: money optional from "Budget"
            stages unqualified < MQL < SQL
            //- /inbound.qual
            import "shared/schema.qual"
            otherwise unqualified
            rule ready: approved budget known => SQL
            //- /outbound.qual
            import "shared/schema.qual"
            otherwise unqualified
            rule qualified: approved budget >= $10_000 => SQL
        "#]],
    );
}

#[test]
fn rename_refuses_a_name_taken_by_a_criterion() {
    check_rename(
        r#"
        field company size: integer optional
        stages unqualified < MQL
        otherwise unqualified
        criterion big company: company size >= 500
        rule big: company si$0ze >= 1000 => MQL
        "#,
        "big company",
        expect![[r#"
            refused: `big company` is already the name of a criterion in /qualify-ide-fixture/policy.qual
        "#]],
    );
}

#[test]
fn rename_refuses_a_reserved_word() {
    check_rename(
        r#"
        field demo requested: bool default false
        stages unqualified < MQL
        otherwise unqualified
        rule demo: demo requested => M$0QL
        "#,
        "known lead",
        expect![[r#"
            refused: `known lead` is not a name: use words of letters, digits and `_`, separated by single spaces, without reserved words like `and` or `in`
        "#]],
    );
}

#[test]
fn references_from_a_test_lead() {
    check_references(
        r#"
        field budget: money optional from "Budget"
        field timeline: date optional
        field last activity: date optional
        field authority: bool default false
        stages unqualified < SQL
        otherwise unqualified
        criterion bant: at least 2 of (budget known, authority, timeline within the next 90 days)
        score size {
          +1 per budget cap 100
        }
        rule moving: timeline > last activity and budget >= $1_000 => SQL
        test "a budget" {
          lead { bud$0get: $20_000, authority: true }
          expect SQL
        }
        "#,
        expect![[r#"
            1:7 "budget" (declaration)
            7:32 "budget"
            9:10 "budget"
            11:43 "budget"
            13:10 "budget"
        "#]],
    );
}

#[test]
fn rename_a_field_written_with_extra_spaces_from_the_end_of_a_use() {
    check_rename(
        r#"
        field company size: integer optional from "Employees"
        stages unqualified < MQL
        otherwise unqualified
        score fit {
          +1 per company   size cap 30
        }
        rule big: company size$0 >= 500 and fit > 10 => MQL
        "#,
        "employees",
        expect![[r#"
            field employees: integer optional from "Employees"
            stages unqualified < MQL
            otherwise unqualified
            score fit {
              +1 per employees cap 30
            }
            rule big: employees >= 500 and fit > 10 => MQL
        "#]],
    );
}

#[test]
fn rename_a_stage_declared_in_a_shared_schema() {
    check_rename(
        r#"
        //- /shared/schema.qual
        field demo requested: bool default false
        stages unqualified < MQL < SQL
        //- /inbound.qual
        import "shared/schema.qual"
        otherwise unqualified
        require MQL: demo requested
        rule demo: demo requested => MQL$0
        //- /outbound.qual
        import "shared/schema.qual"
        otherwise unqualified
        rule demo: demo requested => MQL
        test "a demo" {
          lead { demo requested: true }
          expect MQL
        }
        "#,
        "marketing qualified",
        expect![[r#"
            //- /shared/schema.qual
            field demo requested: bool default false
            stages unqualified < marketing qualified < SQL
            //- /inbound.qual
            import "shared/schema.qual"
            otherwise unqualified
            require marketing qualified: demo requested
            rule demo: demo requested => marketing qualified
            //- /outbound.qual
            import "shared/schema.qual"
            otherwise unqualified
            rule demo: demo requested => marketing qualified
            test "a demo" {
              lead { demo requested: true }
              expect marketing qualified
            }
        "#]],
    );
}

#[test]
fn rename_to_the_same_name_changes_nothing() {
    check_rename(
        r#"
        field budget: money optional
        stages unqualified < SQL
        otherwise unqualified
        rule ready: budget$0 known => SQL
        "#,
        "budget",
        expect![[r#"
            (no edits)
        "#]],
    );
}
