//! The compiled program must agree with the reference interpreter on the
//! stage, every score and the deciding rule, for any policy and lead.

mod common;

use common::policy_gen;
use proptest::prelude::*;
use qualify::compile::Program;
use qualify::eval::{evaluate, machine::run_lead};

proptest! {
    #![proptest_config(ProptestConfig { cases: 3000, ..ProptestConfig::default() })]

    #[test]
    fn compiled_program_agrees_with_reference(policy_seed in any::<u64>(), lead_seeds in proptest::collection::vec(any::<u64>(), 8)) {
        let policy = policy_gen::policy(policy_seed);
        let program = Program::compile(&policy);
        for seed in lead_seeds {
            let lead = policy_gen::lead(&policy, seed);
            let expected = evaluate(&policy, &lead, policy_gen::as_of());
            let actual = run_lead(&program, &lead, policy_gen::as_of());
            prop_assert_eq!(&actual, &expected, "policy seed {}, lead {:?}", policy_seed, lead);
        }
    }
}

/// The generator must produce policies where rules sometimes match, or the
/// property above would compare `otherwise` with `otherwise` and prove little.
#[test]
fn generated_policies_exercise_rules_and_scores() {
    let (mut decided, mut scored, mut total) = (0, 0, 0);
    for seed in 0..500u64 {
        let policy = policy_gen::policy(seed);
        for lead_seed in 0..4 {
            let lead = policy_gen::lead(&policy, lead_seed);
            let outcome = evaluate(&policy, &lead, policy_gen::as_of());
            total += 1;
            decided += outcome.rule.is_some() as usize;
            scored += outcome.scores.iter().any(|s| *s != 0.0) as usize;
        }
    }
    assert!(
        decided * 5 > total,
        "rules decided only {decided} of {total} leads"
    );
    assert!(
        scored * 5 > total,
        "scores non-zero for only {scored} of {total} leads"
    );
}
