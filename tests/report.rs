//! `qualify report` through the binary: the HTML page it writes, rendered
//! by a real browser (headless Chromium) — every section there, every
//! chart drawn with data; hostile names from the policy, the lead file and
//! the command line escaped; inputs never overwritten.
//!
//! Chromium (`chromium`, or `$QUALIFY_CHROMIUM`) is needed for the browser
//! tests: without it they are skipped with a message, unless
//! `QUALIFY_REQUIRE_BROWSER=1` (set by `.ci/run`), which makes them fail.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::{qualify, stderr};

const POLICY: &str = "examples/x-education/policy.qual";
const LEADS: &str = "examples/x-education/leads.csv";

/// The browser to render with, or `None` (skip) when there is none and it
/// is not required.
fn chromium() -> Option<PathBuf> {
    let candidates: Vec<PathBuf> = std::env::var_os("QUALIFY_CHROMIUM")
        .map(PathBuf::from)
        .into_iter()
        .chain(
            ["chromium", "chromium-browser", "google-chrome"]
                .iter()
                .map(PathBuf::from),
        )
        .collect();
    for c in candidates {
        let ok = Command::new(&c)
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success());
        if ok {
            return Some(c);
        }
    }
    if std::env::var("QUALIFY_REQUIRE_BROWSER").as_deref() == Ok("1") {
        panic!(
            "QUALIFY_REQUIRE_BROWSER=1 but no chromium was found (apt-get install chromium, or set QUALIFY_CHROMIUM)"
        );
    }
    eprintln!("SKIPPED: chromium is not installed; the report is not rendered in a browser");
    None
}

/// The DOM of `page` after Chromium has loaded and laid it out.
fn dump_dom(browser: &Path, page: &Path, profile: &Path) -> String {
    let out = Command::new(browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--noerrdialogs",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg("--dump-dom")
        .arg(url(page))
        .output()
        .expect("run chromium");
    assert!(
        out.status.success(),
        "chromium --dump-dom failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn screenshot(browser: &Path, page: &Path, png: &Path, profile: &Path) {
    let out = Command::new(browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--hide-scrollbars",
            "--window-size=1280,2000",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg(format!("--screenshot={}", png.display()))
        .arg(url(page))
        .output()
        .expect("run chromium");
    assert!(
        out.status.success(),
        "chromium --screenshot failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn url(page: &Path) -> String {
    let abs = std::fs::canonicalize(page).unwrap();
    // Percent-encode what a file URL cannot hold as it is.
    let mut u = String::from("file://");
    for b in abs.to_string_lossy().bytes() {
        if b.is_ascii_alphanumeric() || b"/-_.~".contains(&b) {
            u.push(b as char);
        } else {
            u.push_str(&format!("%{b:02X}"));
        }
    }
    u
}

/// Run `qualify report … -o OUT` and return the page.
fn report(args: &[&str], out: &Path) -> String {
    let mut all = vec!["report"];
    all.extend_from_slice(args);
    all.extend_from_slice(&["-o", out.to_str().unwrap()]);
    let o = qualify(&all);
    assert!(o.status.success(), "{}", stderr(&o));
    std::fs::read_to_string(out).unwrap()
}

/// The parts of `html` between `open` and the next `close`.
fn blocks<'a>(html: &'a str, open: &str, close: &str) -> Vec<&'a str> {
    let mut out = Vec::new();
    let mut rest = html;
    while let Some(i) = rest.find(open) {
        let tail = &rest[i..];
        let end = tail.find(close).map_or(tail.len(), |j| j + close.len());
        out.push(&tail[..end]);
        rest = &tail[end..];
    }
    out
}

fn section<'a>(html: &'a str, id: &str) -> &'a str {
    let open = format!("<section id=\"{id}\"");
    blocks(html, &open, "</section>")
        .into_iter()
        .next()
        .unwrap_or_else(|| panic!("no section {id}"))
}

/// The charts of a page: (kind, svg).
fn charts(html: &str) -> Vec<(String, String)> {
    blocks(html, "<figure class=\"chart\"", "</figure>")
        .into_iter()
        .map(|f| {
            let kind = f
                .split("data-chart=\"")
                .nth(1)
                .and_then(|r| r.split('"').next())
                .unwrap_or("")
                .to_string();
            (kind, f.to_string())
        })
        .collect()
}

fn count(text: &str, tag: &str) -> usize {
    text.matches(&format!("<{tag}")).count()
}

/// An older version of the x-education policy: a lower `strong intent`
/// threshold, so leads move between the two.
fn older_policy(dir: &Path) -> PathBuf {
    let text = std::fs::read_to_string(POLICY).unwrap();
    let old = text.replace("intent >= 50 => hot", "intent >= 30 => hot");
    assert_ne!(old, text);
    let path = dir.join("old.qual");
    std::fs::write(&path, old).unwrap();
    path
}

#[test]
fn report_renders_in_a_browser_with_every_chart() {
    let Some(browser) = chromium() else { return };
    let dir = tempfile::tempdir().unwrap();
    let old = older_policy(dir.path());
    let page = dir.path().join("report.html");
    let html = report(
        &[
            POLICY,
            LEADS,
            "--outcome",
            "Converted",
            "--as-of",
            "2026-06-01",
            "--against",
            old.to_str().unwrap(),
        ],
        &page,
    );
    // Self-contained: nothing loaded, nothing run.
    for banned in [
        "<script", "<link", "<img", "<iframe", "http://", "https://", "@import", "url(",
    ] {
        let outside_svg_ns = html.replace("http://www.w3.org/2000/svg", "");
        assert!(
            !outside_svg_ns.contains(banned),
            "the page has {banned}: it must load nothing"
        );
    }

    let dom = dump_dom(&browser, &page, &dir.path().join("profile"));
    for id in [
        "summary",
        "takeaways",
        "funnel",
        "scores",
        "thresholds",
        "strictness",
        "rules",
        "migration",
        "findings",
    ] {
        assert!(
            dom.contains(&format!("id=\"{id}\"")),
            "no #{id} in the rendered page"
        );
    }
    // Every chart is there and has data.
    let charts = charts(&dom);
    let kinds: Vec<&str> = charts.iter().map(|(k, _)| k.as_str()).collect();
    // One funnel, one histogram for the one score, one sweep per threshold
    // on it (intent >= 50, >= 20, >= 25).
    assert_eq!(
        kinds,
        ["funnel", "score", "sweep", "sweep", "sweep"],
        "{kinds:?}"
    );
    for (kind, svg) in &charts {
        assert!(svg.contains("<svg"), "{kind} chart has no svg");
        assert!(count(svg, "text") > 5, "{kind} chart has no labels");
        match kind.as_str() {
            // Three stages: a lead bar and a rate bar each, besides the
            // background and the legend.
            "funnel" => assert!(count(svg, "rect") > 6, "{svg}"),
            "score" => {
                assert!(count(svg, "rect") >= 10, "{svg}");
                assert!(
                    count(svg, "polyline") >= 1,
                    "no conversion rate line: {svg}"
                );
            }
            "sweep" => {
                // Leads, rate, share of conversions, base rate, current.
                assert!(count(svg, "polyline") >= 3, "{svg}");
                assert!(
                    svg.contains("now: "),
                    "the current threshold is not marked: {svg}"
                );
            }
            _ => panic!("unknown chart {kind}"),
        }
    }
    // The funnel names the stages; the rules table every rule.
    let funnel = section(&dom, "funnel");
    for stage in ["hot", "warm", "cold"] {
        assert!(funnel.contains(&format!(">{stage}<")), "{stage} missing");
    }
    let rules = section(&dom, "rules");
    for rule in ["counsellor follow up", "strong intent", "engaged"] {
        assert!(rules.contains(rule), "{rule} missing from the rules table");
    }
    // The migration: rows = old stages, 3 × 3 cells, some leads moved.
    let migration = section(&dom, "migration");
    assert!(migration.contains("change stage"), "{migration}");
    let matrix = blocks(migration, "<table class=\"matrix\"", "</table>")[0];
    // The header, three old stages, the totals.
    assert_eq!(count(matrix, "tr"), 5, "{matrix}");
    assert!(section(&dom, "strictness").contains("converted lead(s) ended below"));

    // And it draws: a screenshot of the page.
    let png = dir.path().join("report.png");
    screenshot(&browser, &page, &png, &dir.path().join("profile2"));
    let bytes = std::fs::read(&png).unwrap();
    assert!(bytes.starts_with(b"\x89PNG"), "not a PNG");
    assert!(
        bytes.len() > 20_000,
        "a blank screenshot? {} bytes",
        bytes.len()
    );
}

/// A policy whose column, clause and reason are markup, a lead file whose
/// name is markup, and an outcome value that is markup.
#[test]
fn hostile_names_are_escaped() {
    let dir = tempfile::tempdir().unwrap();
    let policy = dir.path().join("policy.qual");
    std::fs::write(
        &policy,
        r#"field id: string key from "Lead ID"
field note: string optional from "<script>alert(1)</script>"
field points: integer optional from "'><img src=x onerror=alert(2)>"
stages cold < hot
otherwise cold

score heat {
  +10 per points cap 100
}

rule burn: note contains "<img src=x onerror=alert(3)>" and heat >= 30 => hot because "<script>alert(4)</script>"
"#,
    )
    .unwrap();
    let leads = dir.path().join("\"><img src=x onerror=alert(5)>.csv");
    let mut csv = String::from(
        "Lead ID,<script>alert(1)</script>,'><img src=x onerror=alert(2)>,\"Status\"\"><iframe>\"\n",
    );
    for i in 0..60 {
        let note = if i % 3 == 0 {
            "\"<img src=x onerror=alert(3)>\""
        } else {
            "</td></table><script>alert(7)</script>"
        };
        let status = if i % 2 == 0 {
            "\"<script>alert(8)</script>\""
        } else {
            "lost"
        };
        csv.push_str(&format!("L{i},{note},{},{status}\n", i % 9));
    }
    std::fs::write(&leads, csv).unwrap();
    let page = dir.path().join("page.html");
    let html = report(
        &[
            policy.to_str().unwrap(),
            leads.to_str().unwrap(),
            "--outcome",
            "Status\"><iframe>=<script>alert(8)</script>",
            "--as-of",
            "2026-06-01",
        ],
        &page,
    );
    for bad in ["<script", "<img", "<iframe", "</td></table>"] {
        assert!(!html.contains(bad), "unescaped {bad} in the page");
    }
    // The texts are there, escaped.
    assert!(
        html.contains("&lt;img src=x onerror=alert(3)&gt;"),
        "the clause"
    );
    assert!(
        html.contains("&lt;script&gt;alert(4)&lt;/script&gt;"),
        "the reason"
    );
    assert!(html.contains("onerror=alert(5)&gt;.csv"), "the file name");
    assert!(
        html.contains("&lt;script&gt;alert(8)&lt;/script&gt;"),
        "the outcome value"
    );
    // 30 converters, every one of them in the report.
    assert!(
        html.contains(">30</div><div class=\"label\">converted"),
        "conversions"
    );

    let Some(browser) = chromium() else { return };
    let dom = dump_dom(&browser, &page, &dir.path().join("profile"));
    for bad in ["<script", "<img", "<iframe"] {
        assert!(!dom.contains(bad), "the browser made an element of {bad}");
    }
    assert!(
        dom.contains("Status\"&gt;&lt;iframe&gt;"),
        "the outcome column"
    );
}

#[test]
fn without_an_outcome_the_report_shows_counts_and_says_why() {
    let dir = tempfile::tempdir().unwrap();
    let page = dir.path().join("counts.html");
    let html = report(&[POLICY, LEADS, "--as-of", "2026-06-01"], &page);
    assert!(html.contains("id=\"no-outcome\""));
    assert!(html.contains("Conversion needs <code>--outcome</code>"));
    assert!(!html.contains("id=\"strictness\""));
    let charts = charts(&html);
    assert!(
        charts
            .iter()
            .any(|(k, svg)| k == "funnel" && count(svg, "rect") >= 4)
    );
    assert!(
        charts
            .iter()
            .any(|(k, svg)| k == "score" && count(svg, "rect") >= 5)
    );
    assert!(
        charts
            .iter()
            .any(|(k, svg)| k == "sweep" && count(svg, "polyline") >= 1)
    );
    // The funnel counts every lead of the file (40).
    assert!(html.contains("sorts the 40 leads"), "{html}");
}

#[test]
fn an_output_that_is_an_input_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let policy = dir.path().join("policy.qual");
    let leads = dir.path().join("leads.csv");
    std::fs::copy(POLICY, &policy).unwrap();
    std::fs::copy(LEADS, &leads).unwrap();
    let before_policy = std::fs::read(&policy).unwrap();
    let before_leads = std::fs::read(&leads).unwrap();
    for (target, what) in [(&leads, "lead file"), (&policy, "policy file")] {
        let o = qualify(&[
            "report",
            policy.to_str().unwrap(),
            leads.to_str().unwrap(),
            "--outcome",
            "Converted",
            "-o",
            target.to_str().unwrap(),
        ]);
        assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
        assert!(stderr(&o).contains(what), "{}", stderr(&o));
    }
    assert_eq!(std::fs::read(&policy).unwrap(), before_policy);
    assert_eq!(std::fs::read(&leads).unwrap(), before_leads);
}

#[test]
fn a_failed_report_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let leads = dir.path().join("leads.csv");
    // An outcome cell that is not yes/no: a bad row, and `fail` is the default.
    let text = std::fs::read_to_string(LEADS)
        .unwrap()
        .replacen(",No,No,0,", ",No,No,maybe,", 1);
    std::fs::write(&leads, text).unwrap();
    let page = dir.path().join("report.html");
    std::fs::write(&page, "old contents").unwrap();
    let o = qualify(&[
        "report",
        POLICY,
        leads.to_str().unwrap(),
        "--outcome",
        "Converted",
        "-o",
        page.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(stderr(&o).contains("maybe"), "{}", stderr(&o));
    assert_eq!(std::fs::read_to_string(&page).unwrap(), "old contents");
    let leftovers: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().contains("qualify-"))
        .collect();
    assert!(leftovers.is_empty(), "temporary files left: {leftovers:?}");
}

#[test]
fn help_shows_an_example() {
    let o = qualify(&["report", "--help"]);
    assert!(o.status.success());
    let text = common::stdout(&o);
    assert!(
        text.contains("qualify report examples/x-education/policy.qual"),
        "{text}"
    );
    assert!(text.contains("--against"), "{text}");
}
