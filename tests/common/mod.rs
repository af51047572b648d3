//! Helpers shared by the integration tests. Each test binary uses a part.

#![allow(dead_code)]

pub mod lsp_client;
pub mod policy_gen;
#[path = "../../benches/common/policy_text.rs"]
pub mod policy_text;

use std::path::Path;
use std::process::{Command, Output, Stdio};

use qualify::db::{self, Database, Db};

/// Run the `qualify` binary, colour off.
pub fn qualify(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_qualify"))
        .args(args)
        .env("NO_COLOR", "1")
        .output()
        .expect("run qualify")
}

/// Run the `qualify` binary with `input` on stdin.
pub fn qualify_stdin(args: &[&str], input: &[u8]) -> Output {
    use std::io::Write;
    let mut child = Command::new(env!("CARGO_BIN_EXE_qualify"))
        .args(args)
        .env("NO_COLOR", "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run qualify");
    child.stdin.take().unwrap().write_all(input).unwrap();
    child.wait_with_output().unwrap()
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// The checked policy of a file that must have no errors.
pub fn policy(path: &str) -> qualify::check::policy::Policy {
    let db = Database::default();
    let file = db.load(&db::normalize(Path::new(path))).unwrap();
    let checked = db::checked(&db, file);
    assert!(
        checked.diagnostics.iter().all(|d| !d.is_error()),
        "{path} has errors"
    );
    checked.policy.clone()
}
