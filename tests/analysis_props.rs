//! The analysis against brute force: random small policies whose fields have
//! small finite domains (yes/no, a three-value enum, an integer compared only
//! with constants 0–5, a date tested against dates and `within` windows a few
//! days around the evaluation date), so that enumerating every lead decides contradiction,
//! shadowing, toothless disqualifiers, ceilings that do nothing and gaps.
//! The analysis must say exactly the same.

use std::collections::BTreeSet;
use std::path::Path;

use proptest::prelude::*;
use qualify::analysis::Subject;
use qualify::check::{Policy, Value};
use qualify::db::{self, Database};
use qualify::diagnostic::Code;
use qualify::eval::{Truth, reference};

#[derive(Clone, Debug)]
enum Kind {
    Bool,
    Enum,
    Int,
    Date,
}

#[derive(Clone, Debug)]
struct FieldSpec {
    kind: Kind,
    /// 0: required, 1: optional, 2: with a default.
    presence: u8,
}

fn field_decl(i: usize, f: &FieldSpec) -> String {
    let ty = match f.kind {
        Kind::Bool => "bool",
        Kind::Enum => "enum { a, b, c }",
        Kind::Int => "integer",
        Kind::Date => "date",
    };
    let presence = match (f.presence, &f.kind) {
        (0, _) => String::new(),
        (1, _) => " optional".into(),
        (_, Kind::Bool) => " default false".into(),
        (_, Kind::Enum) => " default a".into(),
        (_, Kind::Int) => " default 0".into(),
        (_, Kind::Date) => " default 2026-06-02".into(),
    };
    format!("field f{i}: {ty}{presence}\n")
}

/// Every value a field can take; `None` is missing. Integers are compared
/// with constants 0–5 and score lines saturate at ±2, so -3..=6 stands for
/// every integer.
fn domain(f: &FieldSpec) -> Vec<Option<Value>> {
    let mut values: Vec<Option<Value>> = match f.kind {
        Kind::Bool => vec![Some(Value::Bool(true)), Some(Value::Bool(false))],
        Kind::Enum => (0..3).map(|i| Some(Value::Enum(i))).collect(),
        Kind::Int => (-3..=6).map(|n| Some(Value::Num(n as f64))).collect(),
        // Dates are tested against 2026-05-29 to 2026-06-03 and windows of
        // at most 3 days around 2026-06-01: five days either side stand
        // for every date.
        Kind::Date => {
            let as_of = qualify::check::date_from_ymd(AS_OF).unwrap();
            (-5..=5).map(|n| Some(Value::Date(as_of + n))).collect()
        }
    };
    if f.presence == 1 {
        values.push(None);
    }
    values
}

/// The evaluation date of every case.
const AS_OF: &str = "2026-06-01";
/// Dates a date field is compared with, around `AS_OF`.
const DATES: [&str; 6] = [
    "2026-05-29",
    "2026-05-30",
    "2026-05-31",
    "2026-06-01",
    "2026-06-02",
    "2026-06-03",
];

fn atom(fields: &[FieldSpec], has_score: bool) -> BoxedStrategy<String> {
    let n = fields.len();
    let fields = fields.to_vec();
    (0..n, 0u8..6, 0u8..6, any::<bool>())
        .prop_map(move |(i, choice, k, flag)| {
            let f = &fields[i];
            if has_score && choice == 5 && flag {
                return format!("points >= {}", k * 3);
            }
            let name = format!("f{i}");
            match (&f.kind, choice % 5) {
                (_, 0) if f.presence == 1 => {
                    format!("{name} {}", if flag { "known" } else { "unknown" })
                }
                (Kind::Bool, 1) => format!("not {name}"),
                (Kind::Bool, _) => name,
                (Kind::Enum, 1) => format!("{name} != {}", ["a", "b", "c"][k as usize % 3]),
                (Kind::Enum, 2) => format!("{name} in {{ a, {} }}", ["b", "c"][k as usize % 2]),
                (Kind::Enum, _) => format!("{name} = {}", ["a", "b", "c"][k as usize % 3]),
                (Kind::Int, 1) => format!("{name} between {} and {}", k.min(3), k.min(3) + 2),
                (Kind::Int, 2) => format!("{name} = {k}"),
                (Kind::Int, 3) => format!("{name} < {k}"),
                (Kind::Int, _) => format!("{name} > {k}"),
                (Kind::Date, 0) => format!("{name} within the last {} days", k % 4),
                (Kind::Date, 1) => format!("{name} within the next {} days", k % 4),
                (Kind::Date, 2) => format!("{name} within {} days", k % 4),
                (Kind::Date, 3) => format!("{name} < {}", DATES[k as usize]),
                (Kind::Date, _) => format!("{name} >= {}", DATES[k as usize]),
            }
        })
        .boxed()
}

fn condition(fields: &[FieldSpec], has_score: bool) -> BoxedStrategy<String> {
    atom(fields, has_score)
        .prop_recursive(3, 12, 3, |inner| {
            prop_oneof![
                (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("({a} and {b})")),
                (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("({a} or {b})")),
                inner.clone().prop_map(|a| format!("not ({a})")),
                (inner.clone(), inner.clone(), inner.clone(), 1u8..=3)
                    .prop_map(|(a, b, c, n)| format!("at least {n} of ({a}, {b}, {c})")),
            ]
        })
        .boxed()
}

#[derive(Debug, Clone)]
struct Case {
    fields: Vec<FieldSpec>,
    text: String,
}

fn case() -> impl Strategy<Value = Case> {
    let field = (
        prop_oneof![
            Just(Kind::Bool),
            Just(Kind::Enum),
            Just(Kind::Int),
            Just(Kind::Date)
        ],
        0u8..3,
    )
        .prop_map(|(kind, presence)| FieldSpec { kind, presence });
    (
        prop::collection::vec(field, 1..=3),
        any::<bool>(),
        // 0: no `otherwise`; else `otherwise s0` or `otherwise s1`.
        0u8..3,
    )
        .prop_flat_map(|(fields, has_score, otherwise)| {
            let cond = condition(&fields, has_score);
            // A quarter of the rules are ceilings (`=> at most …`).
            let rules = prop::collection::vec((cond, 0usize..3, 0u8..4), 1..=5);
            // A score's lines may not test the score itself.
            let lines = prop::collection::vec((condition(&fields, false), -3i32..=6), 1..=3);
            let int_field = fields.iter().position(|f| matches!(f.kind, Kind::Int));
            // Sometimes a `require` on s1 or s2.
            let requirement = prop::option::weighted(0.4, (condition(&fields, false), 1usize..3));
            (
                (Just(fields), requirement),
                rules,
                lines,
                Just(has_score),
                Just(otherwise),
                Just(int_field),
                1u8..8,
            )
                .prop_map(
                    |(
                        (fields, requirement),
                        rules,
                        lines,
                        has_score,
                        otherwise,
                        int_field,
                        cap,
                    )| {
                        let mut text = String::new();
                        for (i, f) in fields.iter().enumerate() {
                            text.push_str(&field_decl(i, f));
                        }
                        text.push_str("stages s0 < s1 < s2\n");
                        if otherwise > 0 {
                            text.push_str(&format!("otherwise s{}\n", otherwise - 1));
                        }
                        if has_score {
                            text.push_str("score points {\n");
                            for (cond, points) in &lines {
                                text.push_str(&format!("  {:+} when {cond}\n", points));
                            }
                            if let Some(i) = int_field {
                                text.push_str(&format!("  +2 per f{i} cap 4\n"));
                            }
                            text.push_str(&format!("  cap {}\n}}\n", cap * 2));
                        }
                        for (i, (cond, stage, kind)) in rules.iter().enumerate() {
                            let at_most = if *kind == 0 { "at most " } else { "" };
                            text.push_str(&format!("rule r{i}: {cond} => {at_most}s{stage}\n"));
                        }
                        if let Some((cond, stage)) = &requirement {
                            text.push_str(&format!("require s{stage}: {cond}\n"));
                        }
                        Case { fields, text }
                    },
                )
        })
}

/// What enumerating every lead says.
struct Truths {
    /// Per lead, per rule: true?
    rules: Vec<Vec<bool>>,
    /// Per lead: the deciding rule.
    decided: Vec<Option<usize>>,
    /// Per lead: the stage.
    stages: Vec<Option<usize>>,
}

fn brute_force(policy: &Policy, fields: &[FieldSpec], as_of: i32) -> Truths {
    let domains: Vec<Vec<Option<Value>>> = fields.iter().map(domain).collect();
    let mut index = vec![0usize; domains.len()];
    let exprs: Vec<_> = policy.rules.iter().map(|r| &r.expr).collect();
    let mut truths = Truths {
        rules: Vec::new(),
        decided: Vec::new(),
        stages: Vec::new(),
    };
    loop {
        let lead: Vec<Option<Value>> = index
            .iter()
            .zip(&domains)
            .map(|(&i, d)| d[i].clone())
            .collect();
        let row: Vec<bool> = reference::truths_of(policy, &lead, as_of, &exprs)
            .into_iter()
            .map(|t| t == Truth::True)
            .collect();
        truths.rules.push(row);
        let outcome = reference::evaluate(policy, &lead, as_of);
        truths.decided.push(outcome.rule);
        truths.stages.push(outcome.stage);
        let mut carried = true;
        for (i, d) in index.iter_mut().zip(&domains) {
            *i += 1;
            if *i < d.len() {
                carried = false;
                break;
            }
            *i = 0;
        }
        if carried {
            return truths;
        }
    }
}

fn agree(case: &Case) -> Result<(), TestCaseError> {
    let as_of = qualify::check::date_from_ymd(AS_OF).unwrap();
    let mut db = Database::default();
    db.set_as_of(as_of);
    let file = db.set_file(Path::new("generated.qual"), case.text.clone());
    let checked = db::checked(&db, file);
    prop_assert!(
        !checked.has_errors(),
        "generated policy has errors: {:?}\n{}",
        checked.diagnostics,
        case.text
    );
    let policy = &checked.policy;
    let findings = db::analysis(&db, file);
    let truths = brute_force(policy, &case.fields, as_of);
    let n = policy.rules.len();
    let ctx = || {
        format!(
            "\n{}\n{:#?}",
            case.text,
            findings
                .iter()
                .map(|f| &f.diagnostic.message)
                .collect::<Vec<_>>()
        )
    };

    prop_assert!(
        !findings
            .iter()
            .any(|f| f.diagnostic.code == Code::Undecided),
        "undecided on a finite policy{}",
        ctx()
    );

    // Contradiction: no lead makes the rule true.
    let never: BTreeSet<usize> = (0..n)
        .filter(|&r| !truths.rules.iter().any(|row| row[r]))
        .collect();
    let reported_never: BTreeSet<usize> = findings
        .iter()
        .filter_map(|f| match f.subject {
            Subject::Contradiction { rule } => rule,
            _ => None,
        })
        .collect();
    prop_assert_eq!(&reported_never, &never, "contradictions{}", ctx());

    let ceiling = |r: usize| policy.rules[r].ceiling;
    // Shadowed: an ordinary rule that can be true but never decides.
    let shadowed: BTreeSet<usize> = (0..n)
        .filter(|&r| !ceiling(r) && !never.contains(&r) && !truths.decided.contains(&Some(r)))
        .collect();
    let reported_shadowed: BTreeSet<usize> = findings
        .iter()
        .filter_map(|f| match &f.subject {
            Subject::Shadowed { rule, by } => {
                // Those named really do take every lead of the rule.
                for row in &truths.rules {
                    if row[*rule] {
                        assert!(
                            by.iter().any(|&h| row[h]),
                            "{by:?} do not cover rule {rule}"
                        );
                    }
                }
                Some(*rule)
            }
            _ => None,
        })
        .collect();
    prop_assert_eq!(&reported_shadowed, &shadowed, "shadowed{}", ctx());

    // Ceilings: one true for every lead; one that can be true (and is not
    // true for every lead) but never decides.
    let every_lead: BTreeSet<usize> = (0..n)
        .filter(|&r| ceiling(r) && truths.rules.iter().all(|row| row[r]))
        .collect();
    let never_lowers: BTreeSet<usize> = (0..n)
        .filter(|&r| {
            ceiling(r)
                && !never.contains(&r)
                && !every_lead.contains(&r)
                && !truths.decided.contains(&Some(r))
        })
        .collect();
    let reported = |every: bool| -> BTreeSet<usize> {
        findings
            .iter()
            .filter_map(|f| match f.subject {
                Subject::Ceiling { rule, every_lead } if every_lead == every => Some(rule),
                _ => None,
            })
            .collect()
    };
    prop_assert_eq!(
        &reported(true),
        &every_lead,
        "ceilings matching every lead{}",
        ctx()
    );
    prop_assert_eq!(
        &reported(false),
        &never_lowers,
        "ceilings that never lower{}",
        ctx()
    );

    // Toothless: an ordinary rule at or below `otherwise` that decides some
    // lead, while a higher rule that is not an exception to it (one that
    // matches only its leads) takes a lead it matches above its stage,
    // with no ceiling at or below its stage holding that lead.
    let toothless: BTreeSet<usize> = match policy.otherwise {
        None => BTreeSet::new(),
        Some(o) => (0..n)
            .filter(|&r| {
                let rule = &policy.rules[r];
                let held = |row: &Vec<bool>| {
                    (0..n).any(|c| ceiling(c) && policy.rules[c].stage <= rule.stage && row[c])
                };
                !rule.ceiling
                    && rule.stage <= o
                    && truths.decided.contains(&Some(r))
                    && (0..n).any(|h| {
                        !ceiling(h)
                            && policy.rules[h].stage > rule.stage
                            && truths.rules.iter().any(|row| row[h] && !row[r])
                            && truths
                                .rules
                                .iter()
                                .any(|row| row[r] && row[h] && !held(row))
                    })
            })
            .collect(),
    };
    let mut reported_toothless = BTreeSet::new();
    for f in findings {
        if let Subject::Toothless { rule, by } = f.subject {
            let lead = f.witness.as_ref().expect("a toothless rule has a witness");
            let outcome = reference::evaluate(policy, lead, as_of);
            let matches = reference::truth_of(policy, lead, as_of, &policy.rules[rule].expr);
            prop_assert!(
                matches == Truth::True
                    && outcome.rule == Some(by)
                    && outcome.stage.is_some_and(|s| s > policy.rules[rule].stage),
                "witness of toothless r{} does not slip through{}",
                rule,
                ctx()
            );
            reported_toothless.insert(rule);
        }
    }
    prop_assert_eq!(&reported_toothless, &toothless, "toothless{}", ctx());

    // Requirements: a lead at the required stage or above that fails it,
    // reported at the rule that lifted it (`None`: `otherwise`).
    for (q, requirement) in policy.requirements.iter().enumerate() {
        let mut expected: BTreeSet<Option<usize>> = BTreeSet::new();
        let domains: Vec<Vec<Option<Value>>> = case.fields.iter().map(domain).collect();
        let mut index = vec![0usize; domains.len()];
        loop {
            let lead: Vec<Option<Value>> = index
                .iter()
                .zip(&domains)
                .map(|(&i, d)| d[i].clone())
                .collect();
            let outcome = reference::evaluate(policy, &lead, as_of);
            if outcome.stage.is_some_and(|s| s >= requirement.stage)
                && reference::truth_of(policy, &lead, as_of, &requirement.expr) != Truth::True
            {
                expected.insert(outcome.lowered_from.map_or(outcome.rule, |r| r.rule));
            }
            let mut carried = true;
            for (i, d) in index.iter_mut().zip(&domains) {
                *i += 1;
                if *i < d.len() {
                    carried = false;
                    break;
                }
                *i = 0;
            }
            if carried {
                break;
            }
        }
        let mut reported: BTreeSet<Option<usize>> = BTreeSet::new();
        for f in findings {
            if let Subject::Inversion {
                rule,
                requirement: rq,
            } = f.subject
            {
                if rq != q {
                    continue;
                }
                let lead = f.witness.as_ref().expect("an inversion has a witness");
                let outcome = reference::evaluate(policy, lead, as_of);
                let reached = outcome.lowered_from.map_or(outcome.rule, |r| r.rule);
                prop_assert!(
                    reached == rule
                        && outcome.stage.is_some_and(|s| s >= requirement.stage)
                        && reference::truth_of(policy, lead, as_of, &requirement.expr)
                            != Truth::True,
                    "witness of the inversion by {:?} does not show it{}",
                    rule,
                    ctx()
                );
                reported.insert(rule);
            }
        }
        prop_assert_eq!(&reported, &expected, "requirement inversions{}", ctx());
    }

    // Gap: no otherwise and a lead no ordinary rule matches.
    let gap = policy.otherwise.is_none()
        && truths
            .rules
            .iter()
            .any(|row| !(0..n).any(|r| row[r] && !ceiling(r)));
    let reported_gap = findings.iter().any(|f| f.subject == Subject::Gap);
    prop_assert_eq!(reported_gap, gap, "gap{}", ctx());
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1000, failure_persistence: None, ..ProptestConfig::default() })]
    #[test]
    fn analysis_agrees_with_brute_force(case in case()) {
        agree(&case)?;
    }
}
