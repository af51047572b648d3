//! What `import` reads: only regular `.qual` files of a bounded size, named
//! relative to the importing file, from any working directory; and what it
//! never does: block on a FIFO or a device, read without end, or show the
//! content of a file that is not a policy (in any output format).

use std::io::Read;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use qualify::db::normalize;

/// Run `qualify` in `dir` with a deadline (a hang fails the test instead of
/// the suite). Its stdin is a pipe that stays open and empty, as a CI
/// runner's may be.
fn qualify_in(dir: &Path, args: &[&str]) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_qualify"))
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run qualify");
    let _keep_stdin_open = child.stdin.take();
    let mut out = child.stdout.take().unwrap();
    let mut err = child.stderr.take().unwrap();
    let out_thread = std::thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = out.read_to_end(&mut buf);
        buf
    });
    let err_thread = std::thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = err.read_to_end(&mut buf);
        buf
    });
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if started.elapsed() > Duration::from_secs(30) {
            let _ = child.kill();
            panic!("qualify {args:?} was still running after 30 s");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    Output {
        status,
        stdout: out_thread.join().unwrap(),
        stderr: err_thread.join().unwrap(),
    }
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// Each diagnostic of `qualify check --format json`, as (file, code, message).
fn diagnostics(dir: &Path, files: &[&str]) -> Vec<(String, String, String)> {
    let mut args = vec!["check", "--format", "json"];
    args.extend(files);
    let out = qualify_in(dir, &args);
    let json: serde_json::Value =
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", text(&out)));
    json.as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["file"].as_str().unwrap().to_string(),
                d["code"].as_str().unwrap().to_string(),
                d["message"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn write(dir: &Path, name: &str, content: impl AsRef<[u8]>) {
    let path = dir.join(name);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, content).unwrap();
}

const BODY: &str = "field budget: money optional\nstages MQL < SQL\n";

#[test]
fn paths_normalize_without_losing_leading_parent_folders() {
    let n = |p: &str| normalize(Path::new(p)).display().to_string();
    assert_eq!(n("a/b/../c"), "a/c");
    assert_eq!(n("../../shared/s.qual"), "../../shared/s.qual");
    assert_eq!(n("deep/../../../x.qual"), "../../x.qual");
    assert_eq!(n("./a/./b.qual"), "a/b.qual");
    assert_eq!(n("/../etc/x.qual"), "/etc/x.qual");
    assert_eq!(n("a/.."), ".");
}

#[test]
fn imports_are_relative_to_the_importing_file_from_any_working_directory() {
    let dir = tempfile::tempdir().unwrap();
    let root = std::fs::canonicalize(dir.path()).unwrap();
    write(&root, "shared/schema.qual", BODY);
    write(
        &root,
        "shared/bant.qual",
        "import \"schema.qual\"\ncriterion funded: budget >= $10000\n",
    );
    write(
        &root,
        "pol/deep/d.qual",
        "import \"../../shared/bant.qual\"\nrule hot: funded => SQL\n",
    );
    #[cfg(unix)]
    std::os::unix::fs::symlink(root.join("pol/deep"), root.join("link")).unwrap();
    let absolute = root.join("pol/deep/d.qual").display().to_string();
    let mut cases = vec![
        (root.join("pol/deep"), "d.qual".to_string()),
        (root.clone(), "pol/deep/d.qual".to_string()),
        (root.join("shared"), "../pol/deep/./d.qual".to_string()),
        (root.join("pol"), "deep/../deep/d.qual".to_string()),
        (std::path::PathBuf::from("/"), absolute),
    ];
    // Through a link to the folder, `..` means what the file system says.
    if cfg!(unix) {
        cases.push((root.clone(), "link/d.qual".to_string()));
    }
    for (cwd, file) in cases {
        let out = qualify_in(&cwd, &["check", &file]);
        assert_eq!(
            out.status.code(),
            Some(0),
            "check {file} in {}: {}",
            cwd.display(),
            text(&out)
        );
    }
}

#[cfg(unix)]
#[test]
fn imports_that_are_not_regular_files_are_refused_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let root = std::fs::canonicalize(dir.path()).unwrap();
    let status = Command::new("mkfifo")
        .arg(root.join("pipe.qual"))
        .status()
        .unwrap();
    assert!(status.success());
    std::os::unix::fs::symlink("/dev/zero", root.join("zero.qual")).unwrap();
    std::os::unix::fs::symlink("/dev/stdin", root.join("stdin.qual")).unwrap();
    std::fs::create_dir(root.join("folder.qual")).unwrap();
    let cases = ["pipe", "zero", "stdin", "folder"];
    for name in cases {
        write(
            &root,
            &format!("{name}_importer.qual"),
            format!("import \"{name}.qual\"\n{BODY}"),
        );
    }
    let files: Vec<String> = cases.iter().map(|n| format!("{n}_importer.qual")).collect();
    let files: Vec<&str> = files.iter().map(String::as_str).collect();
    let started = Instant::now();
    let found = diagnostics(&root, &files);
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "took {:?}",
        started.elapsed()
    );
    for name in cases {
        let d = found
            .iter()
            .find(|d| d.0 == format!("{name}_importer.qual"))
            .unwrap_or_else(|| panic!("no diagnostic for {name}: {found:?}"));
        assert_eq!(d.1, "Q0003", "{d:?}");
        assert!(d.2.contains("not a regular file"), "{d:?}");
    }
}

#[test]
fn absolute_paths_and_files_that_are_not_policies_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let root = std::fs::canonicalize(dir.path()).unwrap();
    write(&root, "abs.qual", format!("import \"/dev/zero\"\n{BODY}"));
    write(&root, "etc.qual", format!("import \"/etc/passwd\"\n{BODY}"));
    write(&root, "txt.qual", format!("import \"notes.txt\"\n{BODY}"));
    write(&root, "notes.txt", "field other: bool\n");
    let found = diagnostics(&root, &["abs.qual", "etc.qual", "txt.qual"]);
    let message = |file: &str| {
        let d = found.iter().find(|d| d.0 == file).unwrap();
        assert_eq!(d.1, "Q0003", "{d:?}");
        d.2.clone()
    };
    assert!(message("abs.qual").contains("must be relative"));
    assert!(message("etc.qual").contains("must be relative"));
    assert!(message("txt.qual").contains("must name a `.qual` file"));
}

#[test]
fn a_policy_file_larger_than_the_limit_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let root = std::fs::canonicalize(dir.path()).unwrap();
    let limit = qualify::db::MAX_POLICY_BYTES as usize;
    let mut big = String::from(BODY);
    while big.len() <= limit {
        big.push_str("# a comment line that makes the file large, and nothing else\n");
    }
    write(&root, "big.qual", &big);
    write(
        &root,
        "p.qual",
        "import \"big.qual\"\nrule hot: budget known => SQL\n",
    );
    let found = diagnostics(&root, &["p.qual"]);
    assert!(
        found
            .iter()
            .any(|d| d.1 == "Q0003" && d.2.contains("larger than 4 MiB")),
        "{found:?}"
    );
    // One byte under the limit is read.
    big.truncate(limit);
    write(&root, "big.qual", &big);
    let found = diagnostics(&root, &["p.qual"]);
    assert!(found.iter().all(|d| d.1 != "Q0003"), "{found:?}");
}

/// A file that is not a policy (a password file, binary data, another
/// encoding) may be named by a hostile policy, or through a link; whatever
/// the format, its content never reaches the output.
#[test]
fn the_content_of_a_file_that_is_not_a_policy_is_never_shown() {
    const SECRET: &str = "sk-live-SECRET-4242";
    let dir = tempfile::tempdir().unwrap();
    let root = std::fs::canonicalize(dir.path()).unwrap();
    let passwd = format!(
        "root:x:0:0:root:/root:/bin/bash\nAPI_TOKEN={SECRET}\ndaemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\n"
    );
    write(&root, "secrets/passwd", &passwd);
    write(&root, "copy.qual", &passwd);
    write(
        &root,
        "env.qual",
        format!("HOME=/root\0API_TOKEN={SECRET}\0"),
    );
    write(
        &root,
        "binary.qual",
        format!("field x: bool\n\0\0{SECRET}\0\n"),
    );
    let mut latin1 = b"# caf".to_vec();
    latin1.push(0xe9);
    latin1.extend_from_slice(format!("\nAPI_TOKEN={SECRET}\n").as_bytes());
    write(&root, "latin1.qual", latin1);
    #[cfg(unix)]
    std::os::unix::fs::symlink(root.join("secrets/passwd"), root.join("link.qual")).unwrap();
    let absolute = root.join("secrets/passwd").display().to_string();
    let targets = [
        "secrets/passwd",
        absolute.as_str(),
        "copy.qual",
        "env.qual",
        "binary.qual",
        "latin1.qual",
        "link.qual",
        "secrets/../copy.qual",
    ];
    let mut files = Vec::new();
    for (i, target) in targets.iter().enumerate() {
        if *target == "link.qual" && !cfg!(unix) {
            continue;
        }
        let name = format!("p{i}.qual");
        write(
            &root,
            &name,
            format!("import \"{target}\"\n{BODY}rule hot: budget known => SQL\n"),
        );
        files.push(name);
    }
    // An importer of an importer: the error is reported once, at the top.
    write(
        &root,
        "top.qual",
        "import \"p2.qual\"\nrule warm: budget known => MQL\n",
    );
    files.push("top.qual".into());
    let files: Vec<&str> = files.iter().map(String::as_str).collect();
    for format in ["human", "json", "github", "sarif"] {
        let mut args = vec!["check", "--format", format];
        args.extend(&files);
        let out = qualify_in(&root, &args);
        assert_eq!(out.status.code(), Some(1), "{format}: {}", text(&out));
        let all = text(&out);
        for leak in [SECRET, "API_TOKEN", "root:x:0", "/bin/bash", "HOME=/root"] {
            assert!(!all.contains(leak), "{format} shows `{leak}`:\n{all}");
        }
    }
    let found = diagnostics(&root, &files);
    for file in &files[..files.len() - 1] {
        let d = found
            .iter()
            .find(|d| d.0 == *file)
            .unwrap_or_else(|| panic!("nothing for {file}: {found:?}"));
        assert_eq!(d.1, "Q0003", "{d:?}");
    }
    let top = found.iter().find(|d| d.0 == "top.qual").unwrap();
    assert_eq!(top.1, "Q0004", "{top:?}");
}

/// A qualify.toml is read as policies are (a regular file, bounded), and a
/// broken one is reported by line and column, not quoted: it may be a link
/// to anything.
#[test]
fn a_broken_qualify_toml_is_reported_without_its_content() {
    const SECRET: &str = "sk-live-SECRET-4242";
    let dir = tempfile::tempdir().unwrap();
    let root = std::fs::canonicalize(dir.path()).unwrap();
    write(
        &root,
        "p.qual",
        format!("{BODY}rule hot: budget known => SQL\n"),
    );
    for content in [
        format!("# settings\nAPI_TOKEN={SECRET}\n"),
        format!("[sample]\nfile = \"leads.csv\"\ntoken = \"{SECRET}\"\n"),
        format!("HOME=/root\0API_TOKEN={SECRET}\0"),
    ] {
        write(&root, "qualify.toml", &content);
        let out = qualify_in(&root, &["check", "p.qual"]);
        let all = text(&out);
        assert_ne!(out.status.code(), Some(0), "{all}");
        assert!(all.contains("qualify.toml"), "{all}");
        assert!(all.contains("Q0401"), "{all}");
        assert!(!all.contains(SECRET), "{all}");
    }
    #[cfg(unix)]
    {
        std::fs::remove_file(root.join("qualify.toml")).unwrap();
        std::os::unix::fs::symlink("/dev/zero", root.join("qualify.toml")).unwrap();
        let out = qualify_in(&root, &["check", "p.qual"]);
        // `/dev/zero` is not a file: no qualify.toml at all.
        assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    }
}
