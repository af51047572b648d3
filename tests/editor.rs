//! A real editor as the client: Neovim, headless, starts `qualify lsp` on an
//! example with a deliberate error. Needs `nvim` (Debian's 0.7 is enough);
//! `.ci/run` installs it and sets QUALIFY_REQUIRE_NVIM so a missing editor
//! fails there instead of skipping.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

#[test]
fn neovim_shows_the_diagnostic_and_a_hover() {
    let has_nvim = Command::new("nvim")
        .arg("--version")
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !has_nvim {
        assert!(
            std::env::var_os("QUALIFY_REQUIRE_NVIM").is_none(),
            "nvim is required here but not installed"
        );
        eprintln!("skipped: nvim is not installed (apt-get install neovim)");
        return;
    }
    let root = env!("CARGO_MANIFEST_DIR");
    let dir = tempfile::tempdir().unwrap();
    let policy = std::fs::read_to_string(format!("{root}/examples/b2b-saas/policy.qual"))
        .unwrap()
        .replace(
            "rule ready to buy: budget known",
            "rule ready to buy: budjet known",
        );
    let error_line = policy.lines().position(|l| l.contains("budjet")).unwrap() + 1;
    let path = dir.path().join("policy.qual");
    std::fs::write(&path, policy).unwrap();
    let mut child = Command::new("nvim")
        .args(["--headless", "--clean", "-S"])
        .arg(format!("{root}/tests/nvim/e2e.lua"))
        .current_dir(dir.path())
        .env("QUALIFY_BIN", env!("CARGO_BIN_EXE_qualify"))
        .env("QUALIFY_NVIM_PLUGIN", format!("{root}/editors/nvim"))
        .env("QUALIFY_POLICY", &path)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start nvim");
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if started.elapsed() > Duration::from_secs(90) {
            child.kill().unwrap();
            panic!("nvim did not finish");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let output = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        status.success(),
        "nvim failed\nstdout:\n{stdout}\nstderr:\n{stderr}"
    );
    assert!(
        stdout.contains(&format!(
            "diagnostic Q0101 line {error_line}: unknown name `budjet`"
        )),
        "{stdout}"
    );
    assert!(
        stdout.contains("hover: **field** `company`: string, optional"),
        "{stdout}"
    );
    assert!(stdout.contains("cleared after the fix"), "{stdout}");
}
