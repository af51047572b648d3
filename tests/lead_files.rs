//! No lead file makes the readers panic, and no record is lost: every
//! record of a mutated or random file becomes a row or a reject.

mod common;

use common::policy;
use proptest::prelude::*;
use qualify::compile::Program;

const CSV: &[u8] = include_bytes!("../examples/b2b-saas/leads.csv");
const JSONL: &[u8] = include_bytes!("../examples/product-led/leads.jsonl");

/// Read `bytes` as a lead file; the loader may refuse the whole file (a
/// broken header), but must not panic, and must account for every record.
fn read(policy_path: &str, name: &str, bytes: &[u8]) {
    let policy = policy(policy_path);
    let program = Program::compile(&policy);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(name);
    std::fs::write(&path, bytes).unwrap();
    if let Ok(loaded) = qualify::leads::load(&path, &policy, &program, None) {
        for reject in &loaded.rejects {
            assert!(reject.line >= 1);
            assert!(!reject.message.is_empty());
        }
        let records = loaded.rows.len() + loaded.rejects.len();
        let newlines = bytes.iter().filter(|b| **b == b'\n').count();
        assert!(records <= newlines + 1, "more records than lines");
    }
}

fn mutate(seed: &[u8], ops: &[(usize, u8, u8)]) -> Vec<u8> {
    let mut bytes = seed.to_vec();
    for &(at, kind, byte) in ops {
        let at = at % (bytes.len() + 1);
        let byte = [b'"', b',', b'\n', b'\r', 0xff, b'{', b'}', b':', byte][byte as usize % 9];
        match kind % 3 {
            0 => bytes.insert(at, byte),
            1 if at < bytes.len() => {
                bytes.remove(at);
            }
            _ => bytes.truncate(at.max(1)),
        }
    }
    bytes
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    #[test]
    fn mutated_csv_never_panics(ops in proptest::collection::vec((any::<usize>(), any::<u8>(), any::<u8>()), 1..8)) {
        read("examples/b2b-saas/policy.qual", "leads.csv", &mutate(CSV, &ops));
    }

    #[test]
    fn mutated_json_lines_never_panic(ops in proptest::collection::vec((any::<usize>(), any::<u8>(), any::<u8>()), 1..8)) {
        read("examples/product-led/policy.qual", "leads.jsonl", &mutate(JSONL, &ops));
    }

    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
        read("examples/b2b-saas/policy.qual", "leads.csv", &bytes);
        read("examples/product-led/policy.qual", "leads.jsonl", &bytes);
        read("examples/product-led/policy.qual", "leads.json", &bytes);
    }
}
