//! The speed baseline of `qualify run`: benches/run/policy.qual written by
//! hand as a plain single-threaded Rust program over the `csv` crate.
//!
//!     baseline IN.csv OUT.csv AS_OF_YYYY-MM-DD
//!
//! Writes what `qualify run policy.qual IN.csv -o OUT.csv --as-of AS_OF`
//! writes: `Lead ID,stage,fit,engagement,rule`, one row per lead in input
//! order. Change it together with policy.qual and duckdb_policy.py.
//!
//! Missing values: an empty cell (and, for Budget, "N/A" / "TBD") is missing;
//! the yes/no and count columns read a missing cell as their `default`. The
//! policy never negates a test (no `not`, `!=`, `not in`), so a condition is
//! *true* under Qualify's three-valued logic exactly when it is true with
//! every test on a missing value taken as false; rules and point lines only
//! count when their condition is true, so plain `bool`s are exact here.
//! (duckdb_policy.py uses SQL's own three-valued NULL logic instead, and
//! run.sh checks that the two agree.)

use std::error::Error;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::process::ExitCode;

// Enum values, matched ignoring case.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Industry {
    Saas,
    Fintech,
    Healthcare,
    Retail,
    Manufacturing,
    Education,
    Other,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Seniority {
    CLevel,
    Vp,
    Director,
    Manager,
    Individual,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Need {
    Urgent,
    Planned,
    Exploring,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Source {
    Web,
    Referral,
    Event,
    Ads,
}

/// One lead, as the policy's fields see it; `None` is missing.
struct Lead {
    company_size: Option<i64>,
    industry: Option<Industry>,
    seniority: Option<Seniority>,
    budget: Option<f64>,
    authority: bool,
    need: Option<Need>,
    timeline: Option<i32>,
    demo_requested: bool,
    pricing_page_visits: i64,
    whitepaper_downloads: i64,
    email_opens: i64,
    trial_days: i64,
    careers_page_visited: bool,
    last_activity: Option<i32>,
    job_title_has_ops: bool, // `job title contains "ops" ignoring case`; false when missing
    source: Option<Source>,
}

struct Outcome {
    stage: &'static str,
    rule: &'static str,
    fit: f64,
    engagement: f64,
}

fn evaluate(l: &Lead, as_of: i32) -> Outcome {
    // `within the last N days` and `within the next N days`, ends included.
    let last = |d: Option<i32>, days: i32| d.is_some_and(|d| (as_of - days..=as_of).contains(&d));
    let next = |d: Option<i32>, days: i32| d.is_some_and(|d| (as_of..=as_of + days).contains(&d));

    // criterion icp fit: company size known and industry known and company size
    //   between 50 and 5000 and industry in { saas, fintech, healthcare }
    let icp_fit = matches!(l.company_size, Some(n) if (50..=5000).contains(&n))
        && matches!(
            l.industry,
            Some(Industry::Saas | Industry::Fintech | Industry::Healthcare)
        );
    // criterion decision maker: seniority in { c_level, vp, director } or authority
    let decision_maker = matches!(
        l.seniority,
        Some(Seniority::CLevel | Seniority::Vp | Seniority::Director)
    ) || l.authority;
    // criterion bant: at least 3 of (budget known, authority,
    //   need in { urgent, planned }, timeline within the next 90 days)
    let bant = [
        l.budget.is_some(),
        l.authority,
        matches!(l.need, Some(Need::Urgent | Need::Planned)),
        next(l.timeline, 90),
    ]
    .iter()
    .filter(|&&b| b)
    .count()
        >= 3;

    let when = |cond: bool, points: f64| if cond { points } else { 0.0 };
    let per = |points: f64, value: f64, cap: f64| (points * value).clamp(-cap, cap);

    let fit = (when(icp_fit, 30.0)
        + when(decision_maker, 20.0)
        + when(l.job_title_has_ops, 10.0)
        + per(0.5, l.company_size.map_or(0.0, |n| n as f64), 10.0)
        + when(
            matches!(l.industry, Some(Industry::Education | Industry::Other)),
            -20.0,
        ))
    .min(60.0);

    let engagement = (when(l.demo_requested, 20.0)
        + per(5.0, l.whitepaper_downloads as f64, 15.0)
        + per(3.0, l.pricing_page_visits as f64, 15.0)
        + per(0.5, l.email_opens as f64, 10.0)
        + when(l.careers_page_visited, -10.0)
        + when(last(l.last_activity, 30), 10.0))
    .min(100.0);

    // The ceiling first (it is below every stage a rule or `otherwise`
    // gives, so it always lowers), then the rules by precedence: highest
    // stage first, then file order.
    let (stage, rule) = if l.careers_page_visited && engagement < 10.0 {
        ("disqualified", "job seeker")
    } else if l.budget.is_some() && l.demo_requested {
        ("SQL", "ready to buy")
    } else if bant && icp_fit {
        ("SQL", "bant qualified")
    } else if l.budget.is_some_and(|b| b >= 150_000.0) && decision_maker {
        ("SQL", "big deal")
    } else if fit >= 30.0 && engagement >= 25.0 {
        ("MQL", "engaged fit")
    } else if engagement >= 50.0 {
        ("MQL", "hot engagement")
    } else if l.trial_days >= 14 && last(l.last_activity, 7) {
        ("MQL", "active trial")
    } else if l.source == Some(Source::Referral) && fit >= 20.0 {
        ("MQL", "warm referral")
    } else {
        ("unqualified", "")
    };
    Outcome {
        stage,
        rule,
        fit,
        engagement,
    }
}

// ---- reading cells -------------------------------------------------------

type Res<T> = Result<T, String>;

fn text(cell: &[u8]) -> Res<&str> {
    std::str::from_utf8(cell).map_err(|_| "not UTF-8".to_string())
}

fn integer(cell: &[u8]) -> Res<Option<i64>> {
    if cell.is_empty() {
        return Ok(None);
    }
    let s = text(cell)?;
    s.parse()
        .map(Some)
        .map_err(|_| format!("`{s}` is not an integer"))
}

/// `money`: may carry a `$` and thousands separators.
fn money(cell: &[u8], missing: &[&[u8]]) -> Res<Option<f64>> {
    if cell.is_empty() || missing.contains(&cell) {
        return Ok(None);
    }
    let s = text(cell)?;
    let cleaned: String;
    let s = if s.contains(['$', ',']) {
        cleaned = s.chars().filter(|&c| c != '$' && c != ',').collect();
        cleaned.as_str()
    } else {
        s
    };
    s.parse()
        .map(Some)
        .map_err(|_| format!("`{s}` is not an amount"))
}

fn yes_no(cell: &[u8], default: bool) -> Res<bool> {
    match cell {
        b"" => Ok(default),
        b"Yes" => Ok(true),
        b"No" => Ok(false),
        _ => Err(format!(
            "`{}` is neither Yes nor No",
            String::from_utf8_lossy(cell)
        )),
    }
}

/// Days since 1970-01-01 of a `YYYY-MM-DD` date.
fn date(cell: &[u8]) -> Res<Option<i32>> {
    if cell.is_empty() {
        return Ok(None);
    }
    parse_date(cell).map(Some).ok_or_else(|| {
        format!(
            "`{}` is not a YYYY-MM-DD date",
            String::from_utf8_lossy(cell)
        )
    })
}

fn parse_date(s: &[u8]) -> Option<i32> {
    if s.len() != 10 || s[4] != b'-' || s[7] != b'-' {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<i32> {
        s[r].iter().try_fold(0i32, |acc, &c| {
            c.is_ascii_digit().then(|| acc * 10 + (c - b'0') as i32)
        })
    };
    let (y, m, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let month_days = match m {
        2 if leap => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    };
    if !(1..=12).contains(&m) || d < 1 || d > month_days {
        return None;
    }
    // Howard Hinnant's days_from_civil.
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    Some(era * 146_097 + doe - 719_468)
}

fn enum_value<T: Copy>(cell: &[u8], values: &[(&str, T)]) -> Res<Option<T>> {
    if cell.is_empty() {
        return Ok(None);
    }
    values
        .iter()
        .find(|(name, _)| name.as_bytes().eq_ignore_ascii_case(cell))
        .map(|&(_, v)| Some(v))
        .ok_or_else(|| {
            format!(
                "`{}` is not one of the values",
                String::from_utf8_lossy(cell)
            )
        })
}

const INDUSTRIES: &[(&str, Industry)] = &[
    ("saas", Industry::Saas),
    ("fintech", Industry::Fintech),
    ("healthcare", Industry::Healthcare),
    ("retail", Industry::Retail),
    ("manufacturing", Industry::Manufacturing),
    ("education", Industry::Education),
    ("other", Industry::Other),
];
const SENIORITIES: &[(&str, Seniority)] = &[
    ("c_level", Seniority::CLevel),
    ("vp", Seniority::Vp),
    ("director", Seniority::Director),
    ("manager", Seniority::Manager),
    ("individual", Seniority::Individual),
];
const NEEDS: &[(&str, Need)] = &[
    ("urgent", Need::Urgent),
    ("planned", Need::Planned),
    ("exploring", Need::Exploring),
];
const SOURCES: &[(&str, Source)] = &[
    ("web", Source::Web),
    ("referral", Source::Referral),
    ("event", Source::Event),
    ("ads", Source::Ads),
];

/// Column positions, found by header name.
struct Columns {
    lead_id: usize,
    employees: usize,
    industry: usize,
    seniority: usize,
    budget: usize,
    decision_maker: usize,
    need: usize,
    expected_close: usize,
    demo_requested: usize,
    pricing_visits: usize,
    whitepapers: usize,
    email_opens: usize,
    trial_days: usize,
    careers_visit: usize,
    last_activity: usize,
    title: usize,
    source: usize,
}

impl Columns {
    fn find(header: &csv::ByteRecord) -> Res<Columns> {
        let col = |name: &str| {
            header
                .iter()
                .position(|h| h == name.as_bytes())
                .ok_or_else(|| format!("the lead file has no column `{name}`"))
        };
        Ok(Columns {
            lead_id: col("Lead ID")?,
            employees: col("Employees")?,
            industry: col("Industry")?,
            seniority: col("Seniority")?,
            budget: col("Budget")?,
            decision_maker: col("Decision Maker")?,
            need: col("Need")?,
            expected_close: col("Expected Close")?,
            demo_requested: col("Demo Requested")?,
            pricing_visits: col("Pricing Visits")?,
            whitepapers: col("Whitepapers")?,
            email_opens: col("Email Opens")?,
            trial_days: col("Trial Days")?,
            careers_visit: col("Careers Visit")?,
            last_activity: col("Last Activity")?,
            title: col("Title")?,
            source: col("Source")?,
        })
    }

    fn lead(&self, r: &csv::ByteRecord) -> Res<Lead> {
        let cell = |i: usize| r.get(i).unwrap_or(b"");
        let title = cell(self.title);
        Ok(Lead {
            company_size: integer(cell(self.employees))?,
            industry: enum_value(cell(self.industry), INDUSTRIES)?,
            seniority: enum_value(cell(self.seniority), SENIORITIES)?,
            budget: money(cell(self.budget), &[b"N/A", b"TBD"])?,
            authority: yes_no(cell(self.decision_maker), false)?,
            need: enum_value(cell(self.need), NEEDS)?,
            timeline: date(cell(self.expected_close))?,
            demo_requested: yes_no(cell(self.demo_requested), false)?,
            pricing_page_visits: integer(cell(self.pricing_visits))?.unwrap_or(0),
            whitepaper_downloads: integer(cell(self.whitepapers))?.unwrap_or(0),
            email_opens: integer(cell(self.email_opens))?.unwrap_or(0),
            trial_days: integer(cell(self.trial_days))?.unwrap_or(0),
            careers_page_visited: yes_no(cell(self.careers_visit), false)?,
            last_activity: date(cell(self.last_activity))?,
            job_title_has_ops: !title.is_empty() && text(title)?.to_lowercase().contains("ops"),
            source: enum_value(cell(self.source), SOURCES)?,
        })
    }
}

fn run(input: &str, output: &str, as_of: i32) -> Result<u64, Box<dyn Error>> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .from_path(input)?;
    let columns = Columns::find(reader.byte_headers()?)?;
    let mut writer = csv::WriterBuilder::new()
        .from_writer(BufWriter::with_capacity(1 << 16, File::create(output)?));
    writer.write_record(["Lead ID", "stage", "fit", "engagement", "rule"])?;

    let mut record = csv::ByteRecord::new();
    let (mut fit, mut engagement) = (Vec::new(), Vec::new());
    let mut rows = 0u64;
    while reader.read_byte_record(&mut record)? {
        rows += 1;
        let lead = columns.lead(&record).map_err(|e| {
            let line = record.position().map_or(0, |p| p.line());
            format!("{input}:{line}: {e}")
        })?;
        let out = evaluate(&lead, as_of);
        fit.clear();
        engagement.clear();
        // `{}` prints whole numbers without `.0`: 40, 12.5, -8.5.
        write!(fit, "{}", out.fit)?;
        write!(engagement, "{}", out.engagement)?;
        writer.write_record([
            record.get(columns.lead_id).unwrap_or(b""),
            out.stage.as_bytes(),
            &fit,
            &engagement,
            out.rule.as_bytes(),
        ])?;
    }
    writer.flush()?;
    Ok(rows)
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    if args.len() != 4 {
        eprintln!("usage: baseline IN.csv OUT.csv AS_OF_YYYY-MM-DD");
        return ExitCode::from(2);
    }
    let Some(as_of) = parse_date(args[3].as_bytes()) else {
        eprintln!("error: `{}` is not a YYYY-MM-DD date", args[3]);
        return ExitCode::from(2);
    };
    match run(&args[1], &args[2], as_of) {
        Ok(_) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
