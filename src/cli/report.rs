//! `qualify report`: the backtest (and, with `--against`, the diff of two
//! versions) as one self-contained HTML page for the people who own the
//! funnel: no script, no network, inline CSS and SVG charts drawn with
//! plotters.
//!
//! Every text that comes from a policy, a lead file or the command line
//! (stage, rule and column names, clauses, reasons, file names, outcome
//! values, diagnostics) goes through `esc`; the charts' texts are escaped
//! by plotters' SVG backend.

mod charts;

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use serde_json::Value as Json;

use super::backtest::{self, Computed, Counts, NOT, Request, UNKNOWN, WON, judged};
use super::run::{OnError, parse_on_error};
use crate::check::policy::{CmpOp, date_to_string, thousands, today, write_number};
use crate::db::{self, Database};
use crate::leads::output::{self, OutputFile};
use charts::{Bin, StageBar, SweepPoint};

#[derive(clap::Args)]
pub struct Args {
    /// The policy (.qual) to report on.
    policy: PathBuf,
    /// Lead file: CSV, JSON Lines (.jsonl) or a JSON array (.json); `-` for
    /// stdin (not with `--against`, which reads the leads twice).
    leads: PathBuf,
    /// The outcome column: `Converted` (a yes/no column: 1/0, yes/no,
    /// true/false) or `Status=Won` (converted when the cell is one of the
    /// comma-separated values). Without it the report shows counts only.
    #[arg(long, value_name = "COLUMN[=VALUE,…]")]
    outcome: Option<String>,
    /// An older version of the policy, to add the stage migration matrix
    /// (old stage × new stage) and the rules that changed: a file, or
    /// `REV:path` to read it from git.
    #[arg(long, value_name = "OLD")]
    against: Option<String>,
    /// The stage the policy aims converters at (default: the highest).
    #[arg(long, value_name = "STAGE")]
    target: Option<String>,
    /// Evaluation date for `within N days` (default: today).
    #[arg(long, value_name = "YYYY-MM-DD", value_parser = super::parse_date_arg)]
    as_of: Option<i32>,
    /// What to do with a row that does not fit the schema (or whose outcome
    /// is not a yes/no value): stop (`fail`, the default), leave it out and
    /// count it (`skip`), or write it to a file with the reason
    /// (`reject=FILE`).
    #[arg(long, value_name = "fail|skip|reject=FILE", default_value = "fail", value_parser = parse_on_error)]
    on_error: OnError,
    /// Worker threads (default: one per core).
    #[arg(long)]
    threads: Option<usize>,
    /// The HTML file to write (`-` for standard output). It is written
    /// whole or not at all.
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    output: PathBuf,
}

pub fn run(args: Args) -> Result<ExitCode, String> {
    output::catch_signals();
    check_paths(&args, &[])?;
    if args.against.is_some() && args.leads.as_os_str() == "-" {
        return Err(
            "--against reads the leads a second time: give a lead file, not `-` (standard input)"
                .into(),
        );
    }
    let as_of = args.as_of.unwrap_or_else(today);
    let Some(computed) = backtest::compute(&Request {
        policy: &args.policy,
        leads: &args.leads,
        outcome: args.outcome.as_deref(),
        target: args.target.as_deref(),
        as_of,
        on_error: &args.on_error,
        threads: args.threads,
        command: "report",
    })?
    else {
        return Ok(ExitCode::from(1));
    };
    // The policy's imports are known now.
    check_paths(&args, &computed.policy.files)?;
    let findings = findings(&args.policy, as_of)?;
    let migration = match &args.against {
        None => None,
        Some(old) => Some(super::diff::compare(
            old,
            &args.policy,
            &args.leads,
            args.outcome.as_deref(),
            as_of,
            args.threads,
        )?),
    };
    let page = Page {
        policy: &args.policy,
        leads: &args.leads,
        outcome: args.outcome.as_deref(),
        against: args.against.as_deref(),
        as_of,
        computed: &computed,
        findings: &findings,
        migration: migration.as_ref(),
        command: command_line(),
    };
    let html = page.render();
    if args.output.as_os_str() == "-" {
        super::write_stdout(&html)?;
    } else {
        let mut file = OutputFile::create(&args.output)?;
        file.write_all(html.as_bytes())
            .map_err(|e| format!("{}: {e}", args.output.display()))?;
        output::commit(&mut [&mut file])?;
    }
    let r = &computed.report;
    let leads = r["leads"].as_u64().unwrap_or(0);
    let what = if args.outcome.is_some() {
        format!(
            "{} leads, {} converted",
            thousands(leads),
            thousands(r["conversions"].as_u64().unwrap_or(0))
        )
    } else {
        format!("{} leads, no outcome", thousands(leads))
    };
    if args.output.as_os_str() != "-" {
        eprintln!("wrote {} ({what})", args.output.display());
    }
    Ok(ExitCode::SUCCESS)
}

/// Refuse an `-o` that is an input: the lead file, the policy (or a file it
/// imports), the older policy, or the rejects file.
fn check_paths(args: &Args, imports: &[PathBuf]) -> Result<(), String> {
    let out = &args.output;
    if out.as_os_str() == "-" {
        return Ok(());
    }
    let shown = out.display();
    if args.leads.as_os_str() != "-" && output::same_file(out, &args.leads) {
        return Err(format!(
            "-o {shown} is the lead file itself: the report would replace the leads; write it to another file"
        ));
    }
    for policy in std::iter::once(&args.policy).chain(imports) {
        if output::same_file(out, policy) {
            return Err(format!(
                "-o {shown} is the policy file {}: the report would replace it; write it to another file",
                policy.display()
            ));
        }
    }
    if let Some(old) = &args.against {
        if output::same_file(out, Path::new(old)) {
            return Err(format!(
                "-o {shown} is the policy given to --against: the report would replace it; write it to another file"
            ));
        }
    }
    if let OnError::Reject(reject) = &args.on_error {
        if output::same_file(out, reject) {
            return Err(format!(
                "-o {shown} and --on-error reject={} are the same file; give them different files",
                reject.display()
            ));
        }
    }
    Ok(())
}

/// One diagnostic of `qualify check`, as the report shows it.
struct Finding {
    severity: String,
    code: String,
    place: String,
    message: String,
    help: Option<String>,
}

/// What `qualify check` reports for the policy: its diagnostics and
/// analysis findings, and the pass rates of the sample its qualify.toml
/// names, if any.
fn findings(policy: &Path, as_of: i32) -> Result<Vec<Finding>, String> {
    let mut db = Database::default();
    db.set_as_of(as_of);
    let path = db::normalize(policy);
    let file = super::read_policy_file(&db, &path)?;
    let mut all: Vec<crate::diagnostic::Diagnostic> = db::diagnostics(&db, file).to_vec();
    if let Some(Ok((_, report))) = db::sample_report(&db, file) {
        all.extend(report.diagnostics.iter().cloned());
    }
    let read = super::read_file_for(&db);
    let rendered: Json =
        serde_json::from_str(&crate::render::json(&all, &read)).unwrap_or(Json::Null);
    let cwd = std::env::current_dir().ok();
    Ok(rendered
        .as_array()
        .into_iter()
        .flatten()
        .map(|d| {
            let file = d["file"].as_str().unwrap_or("");
            let file = cwd
                .as_ref()
                .and_then(|c| Path::new(file).strip_prefix(c).ok())
                .map_or_else(|| file.to_string(), |p| p.display().to_string());
            Finding {
                severity: d["severity"].as_str().unwrap_or("").to_string(),
                code: d["code"].as_str().unwrap_or("").to_string(),
                place: format!("{file}:{}", d["line"].as_u64().unwrap_or(0)),
                message: d["message"].as_str().unwrap_or("").to_string(),
                help: d["help"].as_str().map(str::to_string),
            }
        })
        .collect())
}

fn command_line() -> String {
    let args: Vec<String> = std::env::args_os()
        .skip(1)
        .map(|a| {
            let a = a.to_string_lossy().into_owned();
            if a.is_empty()
                || a.contains(|c: char| c.is_whitespace() || "\"'$`\\*?;&|<>()".contains(c))
            {
                format!("'{}'", a.replace('\'', "'\\''"))
            } else {
                a
            }
        })
        .collect();
    format!("qualify {}", args.join(" "))
}

/// HTML-escape a text for an element's content or a quoted attribute.
pub(crate) fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A diagnostic's text, escaped, with its `quoted` names as code.
fn code_spans(text: &str) -> String {
    let parts: Vec<&str> = text.split('`').collect();
    if parts.len().is_multiple_of(2) {
        // An unpaired backtick: leave the text as it is.
        return esc(text);
    }
    let mut out = String::new();
    for (i, part) in parts.iter().enumerate() {
        if i % 2 == 1 {
            let _ = write!(out, "<code>{}</code>", esc(part));
        } else {
            out.push_str(&esc(part));
        }
    }
    out
}

fn rate(n: u64, d: u64) -> Option<f64> {
    (d > 0).then(|| n as f64 / d as f64)
}

fn pct(r: Option<f64>) -> String {
    r.filter(|r| r.is_finite())
        .map_or("–".into(), |r| format!("{:.1}%", r * 100.0))
}

fn num(n: f64) -> String {
    let mut s = String::new();
    write_number(&mut s, n);
    s
}

fn u(v: &Json, k: &str) -> u64 {
    v[k].as_u64().unwrap_or(0)
}

fn s<'a>(v: &'a Json, k: &str) -> &'a str {
    v[k].as_str().unwrap_or("")
}

/// Everything the page shows.
struct Page<'a> {
    policy: &'a Path,
    leads: &'a Path,
    outcome: Option<&'a str>,
    against: Option<&'a str>,
    as_of: i32,
    computed: &'a Computed,
    findings: &'a [Finding],
    migration: Option<&'a Json>,
    command: String,
}

const STYLE: &str = r#"
:root { --ink:#0f172a; --muted:#475569; --line:#e2e8f0; --soft:#f8fafc; --accent:#2563eb; --won:#16a34a; --warn:#b45309; --err:#b91c1c; }
* { box-sizing: border-box; }
body { margin: 0; background: #f1f5f9; color: var(--ink); font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
main { max-width: 1080px; margin: 0 auto; padding: 28px 24px 48px; }
header h1 { font-size: 26px; margin: 0 0 4px; }
header p { margin: 0; color: var(--muted); }
code, .mono { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 13px; }
section { background: #fff; border: 1px solid var(--line); border-radius: 10px; padding: 18px 22px; margin: 18px 0; }
section h2 { font-size: 19px; margin: 0 0 6px; }
section h3 { font-size: 16px; margin: 18px 0 4px; }
section > p.lead, .explain { color: var(--muted); margin: 0 0 12px; }
.cards { display: grid; grid-template-columns: repeat(auto-fit, minmax(150px, 1fr)); gap: 12px; margin: 18px 0 0; }
.card { background: #fff; border: 1px solid var(--line); border-radius: 10px; padding: 12px 16px; }
.card .value { font-size: 24px; font-weight: 650; }
.card .label { color: var(--muted); font-size: 13px; }
ul.points { margin: 6px 0 0; padding-left: 20px; }
ul.points li { margin: 4px 0; }
.notice { border-left: 4px solid var(--warn); background: #fffbeb; padding: 10px 14px; border-radius: 6px; margin: 12px 0; }
.notice.info { border-color: var(--accent); background: #eff6ff; }
figure.chart { margin: 8px 0 4px; }
figure.chart svg { width: 100%; height: auto; display: block; }
figure.chart figcaption { color: var(--muted); font-size: 13px; }
.chart-error { color: var(--err); }
table { border-collapse: collapse; width: 100%; margin: 8px 0; font-size: 14px; }
th, td { text-align: left; padding: 6px 10px; border-bottom: 1px solid var(--line); vertical-align: top; }
th { background: var(--soft); font-weight: 600; color: var(--muted); font-size: 13px; }
td.n, th.n { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
tr.current td { background: #fef2f2; font-weight: 600; }
tr.idle td { color: #94a3b8; }
.tag { display: inline-block; padding: 0 7px; border-radius: 9px; font-size: 12px; background: var(--soft); border: 1px solid var(--line); color: var(--muted); white-space: nowrap; }
.tag.error { color: var(--err); border-color: #fecaca; background: #fef2f2; }
.tag.warning { color: var(--warn); border-color: #fde68a; background: #fffbeb; }
.tag.note { color: var(--accent); border-color: #bfdbfe; background: #eff6ff; }
.swatch { display: inline-block; width: 11px; height: 11px; border-radius: 2px; vertical-align: baseline; margin-right: 4px; }
details { margin: 6px 0; }
details summary { cursor: pointer; color: var(--accent); }
table.matrix td.n { min-width: 90px; }
table.matrix td.same { outline: 2px solid #cbd5e1; outline-offset: -2px; }
.sub { display: block; color: var(--muted); font-size: 12px; }
.legend { display: flex; flex-wrap: wrap; gap: 4px 20px; font-size: 13px; color: var(--muted); margin: 2px 0 6px 64px; }
.legend .box { display: inline-block; width: 12px; height: 12px; border-radius: 2px; vertical-align: -1px; margin-right: 6px; }
.legend .line { display: inline-block; width: 22px; height: 0; border-top: 3px solid; vertical-align: 4px; margin-right: 6px; }
.legend .dash { border-top-style: dashed; border-top-width: 2px; }
footer { color: var(--muted); font-size: 13px; margin-top: 24px; }
"#;

impl Page<'_> {
    fn report(&self) -> &Json {
        &self.computed.report
    }

    fn with_outcome(&self) -> bool {
        self.outcome.is_some()
    }

    /// Every lead by outcome.
    fn total(&self) -> Counts {
        let mut t = [0; 3];
        for k in &self.computed.stages {
            for i in 0..3 {
                t[i] += k[i];
            }
        }
        t
    }

    /// The conversion rate of all leads with an outcome (unrounded).
    fn base(&self) -> Option<f64> {
        let t = self.total();
        rate(t[WON], judged(&t)).filter(|_| self.with_outcome())
    }

    /// The stages, highest first, then "(no stage)" if it has leads: name,
    /// counts and the share of all conversions at this stage or higher
    /// (from the counts, not the rounded JSON, so that the table, the
    /// charts and the summary agree to the last digit).
    fn stage_rows(&self) -> Vec<(String, Counts, Option<f64>)> {
        let c = self.computed;
        let stages = &c.policy.stages;
        let won = self.total()[WON];
        let mut rows = Vec::new();
        let mut at_or_above = 0;
        for (i, st) in stages.iter().enumerate().rev() {
            let k = c.stages.get(i).copied().unwrap_or([0; 3]);
            at_or_above += k[WON];
            rows.push((st.name.clone(), k, rate(at_or_above, won)));
        }
        let none = c.stages.get(stages.len()).copied().unwrap_or([0; 3]);
        if none.iter().sum::<u64>() > 0 {
            rows.push(("(no stage)".into(), none, rate(won, won)));
        }
        rows
    }

    fn render(&self) -> String {
        let mut h = String::with_capacity(256 * 1024);
        let title = format!(
            "Qualification report: {}",
            self.policy.file_name().map_or_else(
                || self.policy.display().to_string(),
                |n| n.to_string_lossy().into_owned()
            )
        );
        let _ = write!(
            h,
            "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>{}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n<main>\n",
            esc(&title)
        );
        self.header(&mut h);
        self.summary(&mut h);
        self.funnel(&mut h);
        self.scores(&mut h);
        self.thresholds(&mut h);
        self.strictness(&mut h);
        self.rules(&mut h);
        if let Some(m) = self.migration {
            migration(&mut h, m, self.against.unwrap_or(""), self.with_outcome());
        }
        self.findings(&mut h);
        let _ = write!(
            h,
            "<footer>Made by <code>{}</code> with qualify {}, as of {}. Rates are over the leads with an outcome.</footer>\n</main>\n</body>\n</html>\n",
            esc(&self.command),
            env!("CARGO_PKG_VERSION"),
            date_to_string(self.as_of)
        );
        h
    }

    fn header(&self, h: &mut String) {
        let r = self.report();
        let _ = write!(
            h,
            "<header><h1>Lead qualification report</h1><p>Policy <code>{}</code> on <code>{}</code>, as of {}",
            esc(&self.policy.display().to_string()),
            esc(&self.leads.display().to_string()),
            date_to_string(self.as_of),
        );
        if self.with_outcome() {
            let o = &r["outcome"];
            let when = match &o["converted_when"] {
                Json::Array(values) => {
                    let v: Vec<String> = values
                        .iter()
                        .map(|v| format!("<code>{}</code>", esc(v.as_str().unwrap_or(""))))
                        .collect();
                    format!("is {}", v.join(" or "))
                }
                _ => "is yes (1, yes, true)".into(),
            };
            let _ = write!(
                h,
                "; a lead converted when column <code>{}</code> {when}",
                esc(s(o, "column"))
            );
        }
        h.push_str(".</p></header>\n");
    }

    /// The cards and the points a reader should take away.
    fn summary(&self, h: &mut String) {
        let r = self.report();
        let c = self.computed;
        let leads = u(r, "leads");
        h.push_str("<div class=\"cards\" id=\"summary\">");
        let mut card = |value: String, label: &str| {
            let _ = write!(
                h,
                "<div class=\"card\"><div class=\"value\">{}</div><div class=\"label\">{}</div></div>",
                esc(&value),
                esc(label)
            );
        };
        card(thousands(leads), "leads");
        if self.with_outcome() {
            card(thousands(u(r, "judged")), "with an outcome");
            card(thousands(u(r, "conversions")), "converted");
            card(pct(r["base_rate"].as_f64()), "conversion rate, all leads");
        }
        card(thousands(u(r, "rejected")), "bad rows left out");
        card(c.policy.rules.len().to_string(), "rules");
        h.push_str("</div>\n");

        if !self.with_outcome() {
            h.push_str("<div class=\"notice info\" id=\"no-outcome\"><strong>Conversion needs <code>--outcome</code>.</strong> This report shows how the policy sorts the leads: the funnel counts, the score distributions, the rules and the findings. Run it again with the column that says whether a lead converted (<code>--outcome Converted</code>, or <code>--outcome Status=Won</code> for a column of words) to see conversion rates per stage, rule and score band, the threshold sweeps and the converters the policy leaves behind.</div>\n");
            return;
        }
        // The target stage in one sentence, and what it leaves below.
        let target = s(&r["strictness"], "target");
        let mut points: Vec<String> = Vec::new();
        if let Some((_, k, recall)) = self.stage_rows().into_iter().find(|row| row.0 == target) {
            let total = judged(&self.total());
            let here = rate(k[WON], judged(&k));
            let lift = here
                .zip(self.base())
                .filter(|(_, b)| *b > 0.0)
                .map_or(String::new(), |(r, b)| {
                    format!(" ({:.1}× the rate of all leads)", r / b)
                });
            points.push(format!(
                "<strong>{}</strong> holds {} of the leads with an outcome ({}); {} of them converted{lift}. It holds {} of all conversions.",
                esc(target),
                thousands(judged(&k)),
                pct(rate(judged(&k), total)),
                pct(here),
                pct(recall),
            ));
        }
        let missed = u(&r["strictness"], "converted_below_target");
        if missed > 0 {
            points.push(format!(
                "{} converted lead(s) ended below <strong>{}</strong>: see <a href=\"#strictness\">what strictness costs</a>.",
                thousands(missed),
                esc(target)
            ));
        }
        let errors = self
            .findings
            .iter()
            .filter(|f| f.severity == "error")
            .count();
        let warnings = self
            .findings
            .iter()
            .filter(|f| f.severity == "warning")
            .count();
        if errors + warnings > 0 {
            points.push(format!(
                "<code>qualify check</code> has {warnings} warning(s) about the policy: see <a href=\"#findings\">findings</a>."
            ));
        }
        if !points.is_empty() {
            h.push_str("<section id=\"takeaways\"><h2>In short</h2><ul class=\"points\">");
            for p in points {
                let _ = write!(h, "<li>{p}</li>");
            }
            h.push_str("</ul>");
            for w in r["warnings"].as_array().into_iter().flatten() {
                let _ = write!(
                    h,
                    "<div class=\"notice\">{}</div>",
                    esc(w.as_str().unwrap_or(""))
                );
            }
            h.push_str("</section>\n");
        }
    }

    fn funnel(&self, h: &mut String) {
        let rows = self.stage_rows();
        let total: u64 = self.total().iter().sum();
        // Lowest first, for the chart ("(no stage)" under the lowest).
        let bars: Vec<StageBar> = rows
            .iter()
            .rev()
            .map(|(name, k, _)| StageBar {
                name: name.clone(),
                leads: k.iter().sum(),
                rate: rate(k[WON], judged(k)),
            })
            .collect();
        h.push_str("<section id=\"funnel\"><h2>Funnel</h2>");
        let _ = write!(
            h,
            "<p class=\"lead\">How the policy sorts the {} leads of the file, highest stage on top{}.</p>",
            thousands(total),
            if self.with_outcome() {
                ", and how many of each stage converted"
            } else {
                ""
            }
        );
        chart(h, "funnel", charts::funnel(&bars, self.base()));
        h.push_str("<table class=\"stages\"><thead><tr><th>stage</th><th class=\"n\">leads</th><th class=\"n\">share</th>");
        if self.with_outcome() {
            h.push_str("<th class=\"n\">converted</th><th class=\"n\">conversion rate</th><th class=\"n\">lift</th><th class=\"n\">conversions here or higher</th><th class=\"n\">no outcome</th>");
        }
        h.push_str("</tr></thead><tbody>");
        for (name, k, recall) in &rows {
            let leads: u64 = k.iter().sum();
            let _ = write!(
                h,
                "<tr><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td>",
                esc(name),
                thousands(leads),
                pct(rate(leads, total))
            );
            if self.with_outcome() {
                let here = rate(k[WON], judged(k));
                let lift = here
                    .zip(self.base())
                    .filter(|(_, b)| *b > 0.0)
                    .map_or("–".into(), |(r, b)| format!("{:.2}×", r / b));
                let _ = write!(
                    h,
                    "<td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{lift}</td><td class=\"n\">{}</td><td class=\"n\">{}</td>",
                    thousands(k[WON]),
                    pct(here),
                    pct(*recall),
                    thousands(k[UNKNOWN]),
                );
            }
            h.push_str("</tr>");
        }
        h.push_str("</tbody></table>");
        if self.with_outcome() {
            h.push_str("<p class=\"explain\"><em>Lift</em> is the stage's conversion rate over the rate of all leads with an outcome. <em>Conversions here or higher</em> is the share of all conversions that sales keeps by working this stage and the ones above it. Rates are over the leads with an outcome.</p>");
        }
        h.push_str("</section>\n");
    }

    fn scores(&self, h: &mut String) {
        let c = self.computed;
        if c.policy.scores.is_empty() {
            return;
        }
        let r = self.report();
        h.push_str("<section id=\"scores\"><h2>Score distribution</h2>");
        if self.with_outcome() {
            h.push_str(
                "<p class=\"lead\">How many leads got each score, split by outcome, and the conversion rate of each bar. A score that separates well has its converters on the right and a rate line that rises.</p>",
            );
        } else {
            h.push_str("<p class=\"lead\">How many leads got each score.</p>");
        }
        for (i, score) in c.policy.scores.iter().enumerate() {
            let hist = c.histograms.get(i).map_or(&[][..], |v| &v[..]);
            let bins = bins(hist);
            let _ = write!(h, "<h3>{}</h3>", esc(&score.name));
            if self.with_outcome() {
                let mut items = vec![
                    (Mark::Box, charts::NOT_COLOR, "not converted"),
                    (Mark::Box, charts::WON_COLOR, "converted"),
                ];
                if hist.iter().any(|(_, c)| c[UNKNOWN] > 0) {
                    items.push((Mark::Box, charts::UNKNOWN_COLOR, "no outcome"));
                }
                items.push((
                    Mark::Line,
                    charts::RATE_COLOR,
                    "conversion rate of the bar (right axis)",
                ));
                legend(h, &items);
            }
            chart(
                h,
                "score",
                charts::score_histogram(&score.name, &bins, self.with_outcome()),
            );
            if self.with_outcome() {
                let bands = &r["scores"][i]["bands"];
                h.push_str("<details><summary>Conversion rate by score band (deciles)</summary><table><thead><tr><th>score</th><th class=\"n\">leads</th><th class=\"n\">converted</th><th class=\"n\">rate</th></tr></thead><tbody>");
                for b in bands.as_array().into_iter().flatten() {
                    let (lo, hi) = (
                        b["min"].as_f64().unwrap_or(0.0),
                        b["max"].as_f64().unwrap_or(0.0),
                    );
                    let range = if lo == hi {
                        num(lo)
                    } else {
                        format!("{} to {}", num(lo), num(hi))
                    };
                    let _ = write!(
                        h,
                        "<tr><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td></tr>",
                        esc(&range),
                        thousands(u(b, "leads")),
                        thousands(u(b, "conversions")),
                        pct(b["rate"].as_f64())
                    );
                }
                h.push_str("</tbody></table></details>");
            }
        }
        h.push_str("</section>\n");
    }

    fn thresholds(&self, h: &mut String) {
        let c = self.computed;
        if c.thresholds.is_empty() {
            return;
        }
        let r = self.report();
        let base = self.base();
        h.push_str("<section id=\"thresholds\"><h2>Threshold sweeps</h2>");
        if self.with_outcome() {
            h.push_str(
                "<p class=\"lead\">For each score threshold in the policy: what would happen at another value. As the threshold rises, fewer leads pass; the conversion rate of those that pass should rise, while the share of all conversions they hold falls. The red dashed line is the threshold the policy uses now.</p>",
            );
        } else {
            h.push_str("<p class=\"lead\">For each score threshold in the policy: the share of leads that would pass at another value. With <code>--outcome</code> the charts also show the conversion rate and the share of conversions.</p>");
        }
        for (k, (score, op, current, place)) in c.thresholds.iter().enumerate() {
            let Some(sc) = c.policy.scores.get(*score) else {
                continue;
            };
            let test = format!("{} {} {}", sc.name, op.symbol(), num(*current));
            let hist = c.histograms.get(*score).map_or(&[][..], |v| &v[..]);
            let points = sweep_points(hist, *op, *current, self.with_outcome());
            let _ = write!(
                h,
                "<h3><code>{}</code> <span class=\"tag\">{}</span></h3>",
                esc(&test),
                esc(place)
            );
            if let Some(p) = points.iter().find(|p| p.threshold == *current) {
                let mut text = format!("Now {} of the leads pass", pct(Some(p.leads)));
                if self.with_outcome() {
                    let _ = write!(
                        text,
                        "; {} of them converted, and they hold {} of all conversions",
                        pct(p.rate),
                        pct(p.recall)
                    );
                }
                text.push('.');
                let _ = write!(h, "<p class=\"explain\">{}</p>", esc(&text));
            }
            let mut items = vec![(Mark::Line, charts::NOT_COLOR, "share of leads that pass")];
            if self.with_outcome() {
                items.push((
                    Mark::Line,
                    charts::RATE_COLOR,
                    "conversion rate of the leads that pass",
                ));
                items.push((
                    Mark::Line,
                    charts::RECALL_COLOR,
                    "share of all conversions they hold",
                ));
                items.push((
                    Mark::Dash,
                    charts::AXIS_COLOR,
                    "conversion rate of all leads",
                ));
            }
            items.push((Mark::Dash, charts::CURRENT_COLOR, "the threshold now"));
            legend(h, &items);
            chart(h, "sweep", charts::sweep(&test, &points, *current, base));
            if self.with_outcome() {
                // The sweep of `qualify backtest`, as a table.
                // The same test's place among its score's sweeps.
                let j = c.thresholds[..k].iter().filter(|t| t.0 == *score).count();
                let sweep = r["scores"][*score]["thresholds"].get(j);
                if let Some(t) = sweep {
                    h.push_str("<details><summary>The sweep as a table</summary><table><thead><tr><th>threshold</th><th class=\"n\">leads that pass</th><th class=\"n\">conversion rate</th><th class=\"n\">share of conversions</th></tr></thead><tbody>");
                    for p in t["sweep"].as_array().into_iter().flatten() {
                        let current = p["current"].as_bool() == Some(true);
                        let _ = write!(
                            h,
                            "<tr{}><td>{} {} {}{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td></tr>",
                            if current { " class=\"current\"" } else { "" },
                            esc(&sc.name),
                            esc(op.symbol()),
                            num(p["threshold"].as_f64().unwrap_or(0.0)),
                            if current { " (now)" } else { "" },
                            thousands(u(p, "leads")),
                            pct(p["rate"].as_f64()),
                            pct(p["recall"].as_f64()),
                        );
                    }
                    h.push_str("</tbody></table></details>");
                }
            }
        }
        h.push_str("</section>\n");
    }

    fn strictness(&self, h: &mut String) {
        if !self.with_outcome() {
            return;
        }
        let st = &self.report()["strictness"];
        let target = s(st, "target");
        h.push_str("<section id=\"strictness\"><h2>What strictness costs</h2>");
        let _ = write!(
            h,
            "<p class=\"lead\"><strong>{}</strong> converted lead(s) ended below <strong>{}</strong>, the stage the policy aims converters at. For each rule that leads to {}, the clause that held back the most of them, and what dropping it would let through (the rule's other clauses hold for those leads; a ceiling may still lower them).</p>",
            thousands(u(st, "converted_below_target")),
            esc(target),
            esc(target)
        );
        let rules = st["rules"].as_array().cloned().unwrap_or_default();
        if rules.is_empty() {
            let _ = write!(
                h,
                "<p class=\"explain\">No ordinary rule leads to {}.</p>",
                esc(target)
            );
        } else {
            h.push_str("<table><thead><tr><th>rule</th><th>blocking clause</th><th class=\"n\">converters it held back</th><th class=\"n\">without it, converters that pass</th><th class=\"n\">non-converters that pass</th></tr></thead><tbody>");
            for b in &rules {
                let _ = write!(
                    h,
                    "<tr><td>{}</td><td><code>{}</code><span class=\"sub\">1 of {} clause(s)</span></td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td></tr>",
                    esc(s(b, "rule")),
                    esc(s(b, "clause")),
                    u(b, "clauses"),
                    thousands(u(b, "blocked_converters")),
                    thousands(u(b, "would_reach_converters")),
                    thousands(u(b, "would_reach_non_converters")),
                );
            }
            h.push_str("</tbody></table>");
        }
        h.push_str("</section>\n");
    }

    fn rules(&self, h: &mut String) {
        let c = self.computed;
        let p = &c.policy;
        let total: u64 = c.rules.iter().flat_map(|k| k.iter()).sum();
        h.push_str("<section id=\"rules\"><h2>Rules</h2>");
        h.push_str("<p class=\"lead\">The leads each rule decided (when several rules match a lead, the highest stage wins; a ceiling lowers the stage and then decides).</p>");
        h.push_str("<table><thead><tr><th>rule</th><th>gives</th><th class=\"n\">leads decided</th><th class=\"n\">share</th>");
        if self.with_outcome() {
            h.push_str("<th class=\"n\">converted</th><th class=\"n\">conversion rate</th>");
        }
        h.push_str("<th>because</th></tr></thead><tbody>");
        let row = |h: &mut String, name: &str, gives: &str, k: Counts, reason: &str| {
            let leads: u64 = k.iter().sum();
            let _ = write!(
                h,
                "<tr{}><td>{}{}</td><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td>",
                if leads == 0 { " class=\"idle\"" } else { "" },
                esc(name),
                if leads == 0 {
                    " <span class=\"tag\">decides no lead</span>"
                } else {
                    ""
                },
                esc(gives),
                thousands(leads),
                pct(rate(leads, total)),
            );
            if self.with_outcome() {
                let _ = write!(
                    h,
                    "<td class=\"n\">{}</td><td class=\"n\">{}</td>",
                    thousands(k[WON]),
                    pct(rate(k[WON], judged(&k)))
                );
            }
            let _ = write!(h, "<td>{}</td></tr>", esc(reason));
        };
        for (i, rule) in p.rules.iter().enumerate() {
            let stage = p.stages.get(rule.stage).map_or("", |s| s.name.as_str());
            let gives = if rule.ceiling {
                format!("at most {stage}")
            } else {
                stage.to_string()
            };
            row(
                h,
                &rule.display_name(),
                &gives,
                c.rules.get(i).copied().unwrap_or([0; 3]),
                rule.reason.as_deref().unwrap_or(""),
            );
        }
        let none = c.rules.get(p.rules.len()).copied().unwrap_or([0; 3]);
        if none.iter().sum::<u64>() > 0 {
            let gives = p
                .otherwise
                .and_then(|s| p.stages.get(s))
                .map_or("(no stage)".to_string(), |s| s.name.clone());
            row(h, "(no rule matched: otherwise)", &gives, none, "");
        }
        h.push_str("</tbody></table></section>\n");
    }

    fn findings(&self, h: &mut String) {
        h.push_str("<section id=\"findings\"><h2>Findings</h2>");
        if self.findings.is_empty() {
            h.push_str("<p class=\"lead\"><code>qualify check</code> finds nothing to report in this policy.</p></section>\n");
            return;
        }
        h.push_str("<p class=\"lead\">What <code>qualify check</code> reports about the policy: problems in how it is written, and rules or thresholds that cannot do what they seem to.</p>");
        h.push_str("<table><thead><tr><th>level</th><th>code</th><th>where</th><th>finding</th></tr></thead><tbody>");
        for f in self.findings {
            let _ = write!(
                h,
                "<tr><td><span class=\"tag {}\">{}</span></td><td class=\"mono\">{}</td><td class=\"mono\">{}</td><td>{}",
                esc(&f.severity),
                esc(&f.severity),
                esc(&f.code),
                esc(&f.place),
                code_spans(&f.message)
            );
            if let Some(help) = &f.help {
                let _ = write!(h, "<span class=\"sub\">help: {}</span>", code_spans(help));
            }
            h.push_str("</td></tr>");
        }
        h.push_str("</tbody></table></section>\n");
    }
}

/// How a legend shows a series.
#[derive(Clone, Copy)]
enum Mark {
    Box,
    Line,
    Dash,
}

/// A chart's legend, in HTML above it (the charts have no legend of their
/// own: plotters without fonts cannot measure text to place one well).
fn legend(h: &mut String, items: &[(Mark, plotters::style::RGBColor, &str)]) {
    h.push_str("<div class=\"legend\">");
    for (mark, color, label) in items {
        let color = charts::css(*color);
        let mark = match mark {
            Mark::Box => format!("<span class=\"box\" style=\"background:{color}\"></span>"),
            Mark::Line => format!("<span class=\"line\" style=\"border-color:{color}\"></span>"),
            Mark::Dash => {
                format!("<span class=\"line dash\" style=\"border-color:{color}\"></span>")
            }
        };
        let _ = write!(h, "<span>{mark}{}</span>", esc(label));
    }
    h.push_str("</div>");
}

/// A chart in its figure, or why it is missing.
fn chart(h: &mut String, kind: &str, svg: Result<String, String>) {
    match svg {
        Ok(svg) => {
            let _ = write!(
                h,
                "<figure class=\"chart\" data-chart=\"{kind}\">{svg}</figure>"
            );
        }
        Err(e) => {
            let _ = write!(h, "<p class=\"chart-error\">{}</p>", esc(&e));
        }
    }
}

/// A width for about `parts` bins over `range`: 1, 2, 2.5 or 5 times a
/// power of ten, the nearest.
fn nice_width(range: f64, parts: f64) -> f64 {
    let raw = range / parts;
    if !raw.is_finite() || raw <= 0.0 {
        return 1.0;
    }
    let p = 10f64.powf(raw.log10().floor());
    let m = raw / p;
    // The nearest of 1, 2, 2.5, 5 and 10.
    let f = if m <= 1.5 {
        1.0
    } else if m <= 2.25 {
        2.0
    } else if m <= 3.5 {
        2.5
    } else if m <= 7.5 {
        5.0
    } else {
        10.0
    };
    f * p
}

/// The bars of a score histogram: one per whole number when the scores
/// are whole and span at most 60, else about 30 bins of a round width.
fn bins(hist: &[(f64, Counts)]) -> Vec<Bin> {
    let finite: Vec<&(f64, Counts)> = hist.iter().filter(|(v, _)| v.is_finite()).collect();
    let (Some(first), Some(last)) = (finite.first(), finite.last()) else {
        return Vec::new();
    };
    let (lo, hi) = (first.0, last.0);
    let whole = finite.iter().all(|(v, _)| v.fract() == 0.0);
    let (start, width) = if whole && hi - lo <= 60.0 {
        (lo - 0.5, 1.0)
    } else {
        let w = nice_width(hi - lo, 30.0);
        ((lo / w).floor() * w, w)
    };
    let n = (((hi - start) / width).floor() as usize + 1).min(200);
    let mut out: Vec<Bin> = (0..n)
        .map(|i| Bin {
            lo: start + i as f64 * width,
            hi: start + (i + 1) as f64 * width,
            counts: [0; 3],
        })
        .collect();
    for (v, c) in finite {
        let i = (((v - start) / width).floor().max(0.0) as usize).min(n - 1);
        for (total, add) in out[i].counts.iter_mut().zip(c) {
            *total += add;
        }
    }
    out
}

/// The points of a threshold's sweep chart: every distinct score (or 400
/// evenly spaced thresholds when there are more), and the current one.
/// Over the leads with an outcome when there is one, else over all.
fn sweep_points(
    hist: &[(f64, Counts)],
    op: CmpOp,
    current: f64,
    with_outcome: bool,
) -> Vec<SweepPoint> {
    let counted = |c: &Counts| {
        if with_outcome {
            judged(c)
        } else {
            c[NOT] + c[WON] + c[UNKNOWN]
        }
    };
    let values: Vec<(f64, u64, u64)> = hist
        .iter()
        .filter(|(v, c)| v.is_finite() && counted(c) > 0)
        .map(|(v, c)| (*v, counted(c), c[WON]))
        .collect();
    // Prefix sums: leads and conversions of the first i values.
    let mut leads_before = vec![0u64; values.len() + 1];
    let mut won_before = vec![0u64; values.len() + 1];
    for (i, (_, l, w)) in values.iter().enumerate() {
        leads_before[i + 1] = leads_before[i] + l;
        won_before[i + 1] = won_before[i] + w;
    }
    let (all, won) = (leads_before[values.len()], won_before[values.len()]);
    let mut candidates: Vec<f64> = if values.len() <= 400 {
        values.iter().map(|v| v.0).collect()
    } else {
        let (lo, hi) = (values[0].0, values[values.len() - 1].0);
        (0..=400)
            .map(|k| lo + (hi - lo) * k as f64 / 400.0)
            .collect()
    };
    if current.is_finite() {
        candidates.push(current);
    }
    candidates.sort_by(f64::total_cmp);
    candidates.dedup();
    candidates
        .into_iter()
        .map(|t| {
            let lt = values.partition_point(|v| v.0 < t);
            let le = values.partition_point(|v| v.0 <= t);
            let range = |a: usize, b: usize| {
                (
                    leads_before[b] - leads_before[a],
                    won_before[b] - won_before[a],
                )
            };
            let n = values.len();
            let (l, w) = match op {
                CmpOp::Ge => range(lt, n),
                CmpOp::Gt => range(le, n),
                CmpOp::Lt => range(0, lt),
                CmpOp::Le => range(0, le),
                CmpOp::Eq => range(lt, le),
                CmpOp::Ne => {
                    let (el, ew) = range(lt, le);
                    (all - el, won - ew)
                }
            };
            SweepPoint {
                threshold: t,
                leads: rate(l, all).unwrap_or(0.0),
                rate: rate(w, l),
                recall: rate(w, won),
            }
        })
        .collect()
}

/// The migration matrix of `qualify diff` (its JSON: `stages`, `matrix`
/// rows = old stage and columns = new stage, `moved`, `total`, `rules`).
fn migration(h: &mut String, d: &Json, against: &str, with_outcome: bool) {
    let stages: Vec<&str> = d["stages"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|v| v.as_str().unwrap_or(""))
        .collect();
    let total = u(d, "total");
    let moved = u(d, "moved");
    let _ = write!(
        h,
        "<section id=\"migration\"><h2>Migration from <code>{}</code></h2><p class=\"lead\">Each lead's stage under the older policy (rows) and under this one (columns). {} of {} leads ({}) change stage",
        esc(against),
        thousands(moved),
        thousands(total),
        pct(rate(moved, total)),
    );
    if d["up"].is_u64() || d["down"].is_u64() {
        let _ = write!(
            h,
            ": {} up, {} down",
            thousands(u(d, "up")),
            thousands(u(d, "down"))
        );
    }
    h.push('.');
    if with_outcome {
        h.push_str(" Under each count, the conversion rate of its leads.");
    }
    h.push_str("</p>");
    let max = d["matrix"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|row| row.as_array().into_iter().flatten())
        .map(|cell| u(cell, "leads"))
        .max()
        .unwrap_or(0)
        .max(1);
    h.push_str("<table class=\"matrix\"><thead><tr><th>old ↓ · new →</th>");
    for st in &stages {
        let _ = write!(h, "<th class=\"n\">{}</th>", esc(st));
    }
    h.push_str("<th class=\"n\">old total</th></tr></thead><tbody>");
    let rows = d["matrix"].as_array().cloned().unwrap_or_default();
    let mut column_totals = vec![0u64; stages.len()];
    for (o, row) in rows.iter().enumerate() {
        let _ = write!(
            h,
            "<tr><th>{}</th>",
            esc(stages.get(o).copied().unwrap_or("?"))
        );
        let mut row_total = 0;
        for (n, cell) in row.as_array().into_iter().flatten().enumerate() {
            let leads = u(cell, "leads");
            row_total += leads;
            if let Some(t) = column_totals.get_mut(n) {
                *t += leads;
            }
            // Moved cells in amber, the diagonal in blue, by count.
            let alpha = if leads == 0 {
                0.0
            } else {
                0.08 + 0.5 * (leads as f64 / max as f64)
            };
            let color = if o == n { "37,99,235" } else { "234,88,12" };
            let converted = cell["converted"].as_u64();
            let sub = match converted {
                Some(c) if leads > 0 => {
                    format!(
                        "<span class=\"sub\">{} converted</span>",
                        pct(rate(c, leads))
                    )
                }
                _ => String::new(),
            };
            let _ = write!(
                h,
                "<td class=\"n{}\" style=\"background:rgba({color},{alpha:.2})\">{}{sub}</td>",
                if o == n { " same" } else { "" },
                thousands(leads),
            );
        }
        let _ = write!(h, "<td class=\"n\">{}</td></tr>", thousands(row_total));
    }
    h.push_str("<tr><th>new total</th>");
    for t in &column_totals {
        let _ = write!(h, "<td class=\"n\">{}</td>", thousands(*t));
    }
    let _ = write!(h, "<td class=\"n\">{}</td></tr>", thousands(total));
    h.push_str("</tbody></table>");

    let changed: Vec<&Json> = d["rules"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|r| s(r, "change") != "same")
        .collect();
    if changed.is_empty() {
        h.push_str("<p class=\"explain\">Every rule decides as many leads as before.</p>");
    } else {
        h.push_str("<h3>Rules that decide more or fewer leads</h3><table><thead><tr><th>rule</th><th>change</th><th class=\"n\">leads before</th><th class=\"n\">leads now</th></tr></thead><tbody>");
        for r in changed {
            let count = |k: &str| r[k].as_u64().map_or("–".to_string(), thousands);
            let _ = write!(
                h,
                "<tr><td>{}</td><td><span class=\"tag\">{}</span></td><td class=\"n\">{}</td><td class=\"n\">{}</td></tr>",
                esc(s(r, "name")),
                esc(s(r, "change")),
                count("old_leads"),
                count("new_leads"),
            );
        }
        h.push_str("</tbody></table>");
    }
    h.push_str("</section>\n");
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn escapes_every_markup_character() {
        assert_eq!(
            esc(r#"<script>alert(1)</script>"><img src=x onerror='a'>&"#),
            "&lt;script&gt;alert(1)&lt;/script&gt;&quot;&gt;&lt;img src=x onerror=&#39;a&#39;&gt;&amp;"
        );
    }

    #[test]
    fn diagnostic_names_become_code() {
        assert_eq!(
            code_spans("rule `a<b>` and `c`"),
            "rule <code>a&lt;b&gt;</code> and <code>c</code>"
        );
        assert_eq!(code_spans("odd ` <x>"), "odd ` &lt;x&gt;");
    }

    #[test]
    fn migration_matrix_from_diff_json() {
        let d = json!({
            "stages": ["cold", "<script>alert(1)</script>"],
            "matrix": [
                [{"leads": 10, "converted": 1}, {"leads": 5, "converted": 4}],
                [{"leads": 2, "converted": null}, {"leads": 7, "converted": 6}],
            ],
            "moved": 7, "up": 5, "down": 2, "total": 24,
            "rules": [
                {"name": "\"><img src=x onerror=alert(1)>", "change": "more", "old_leads": 3, "new_leads": 9},
                {"name": "same one", "change": "same", "old_leads": 3, "new_leads": 3},
                {"name": "gone", "change": "removed", "old_leads": 4, "new_leads": null},
            ],
        });
        let mut h = String::new();
        migration(&mut h, &d, "old<b>.qual", true);
        assert!(h.contains("id=\"migration\""), "{h}");
        assert!(
            !h.contains("<script") && !h.contains("<img") && !h.contains("<b>"),
            "{h}"
        );
        assert!(h.contains("&lt;script&gt;"), "{h}");
        // 4 cells, old totals 15 and 9, new totals 12 and 12.
        assert!(h.contains(">15</td>") && h.contains(">9</td>"), "{h}");
        assert!(h.contains("80.0% converted"), "{h}");
        assert!(h.contains("7 of 24 leads"), "{h}");
        assert!(!h.contains("same one"), "{h}");
        assert!(h.contains("gone") && h.contains("–"), "{h}");
    }

    #[test]
    fn migration_survives_a_malformed_json() {
        let mut h = String::new();
        migration(&mut h, &json!({"matrix": [[1, "x"], null]}), "old", false);
        migration(&mut h, &json!(null), "old", false);
        assert!(h.contains("id=\"migration\""));
    }

    #[test]
    fn whole_scores_get_one_bin_each() {
        let mut hist: Vec<(f64, Counts)> =
            vec![(0.0, [1, 0, 0]), (3.0, [0, 2, 0]), (-2.0, [1, 1, 1])];
        hist.sort_by(|a, b| a.0.total_cmp(&b.0));
        let b = bins(&hist);
        assert_eq!(b.len(), 6);
        assert_eq!(b[0].counts, [1, 1, 1]);
        assert_eq!(b[5].counts, [0, 2, 0]);
        let wide: Vec<(f64, Counts)> = (0..1000).map(|v| (v as f64 * 0.37, [1, 0, 0])).collect();
        let b = bins(&wide);
        assert!(b.len() >= 15 && b.len() <= 45, "{}", b.len());
        assert_eq!(b.iter().map(|b| b.counts[0]).sum::<u64>(), 1000);
        assert!(bins(&[(f64::NAN, [1, 0, 0])]).is_empty());
    }

    #[test]
    fn sweep_points_count_the_leads_that_pass() {
        let hist = vec![(0.0, [3, 1, 0]), (10.0, [1, 1, 0]), (20.0, [0, 2, 5])];
        let p = sweep_points(&hist, CmpOp::Ge, 15.0, true);
        let at = |t: f64| p.iter().find(|p| p.threshold == t).unwrap();
        assert_eq!(p.len(), 4);
        assert_eq!(at(0.0).leads, 1.0);
        assert_eq!(at(10.0).rate, Some(0.75));
        assert_eq!(at(15.0).recall, Some(0.5));
        assert_eq!(at(15.0).leads, 0.25);
        let p = sweep_points(&hist, CmpOp::Lt, 10.0, false);
        let at = |t: f64| p.iter().find(|p| p.threshold == t).unwrap();
        assert_eq!(at(10.0).leads, 4.0 / 13.0);
    }
}
