/work/main/benches/run/baseline/target/release/qualify-bench-baseline: /work/main/benches/run/baseline/src/main.rs
