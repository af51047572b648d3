//! Data-driven tests of the editor features at the `qualify::ide` boundary,
//! in rust-analyzer's style: each case is a policy with a `$0` cursor and
//! the rendered answer in an `expect![[…]]` block.
//!
//! Run them with `cargo nextest run --test ide`. Update the expectations
//! after a deliberate change with `UPDATE_EXPECT=1 cargo test --test ide`,
//! then read the diff: nextest runs each test in a process of its own, and
//! processes rewriting the same file at once lose or garble updates (and
//! an empty expectation is written `expect![[""]]`, not `expect![[]]`).
//!
//! Fixture syntax (see `fixture.rs`): `$0` marks the cursor, two `$0`s a
//! selection; a fixture starting with `//- /path/file.qual` holds several
//! files (imports are relative to each file's folder). The money amount
//! `$0` reads as a marker: fixtures use other amounts.

mod actions;
mod complete;
mod fixture;
mod hover;
mod navigate;
