/work/main/benches/run/baseline/target/release/deps/qualify_bench_baseline-7d90aa0a1084ed13.d: src/main.rs

/work/main/benches/run/baseline/target/release/deps/qualify_bench_baseline-7d90aa0a1084ed13: src/main.rs

src/main.rs:
