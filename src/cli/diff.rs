//! `qualify diff`: run two versions of a policy over the same leads and say
//! what the change does: the stage migration matrix (old stage × new stage),
//! with conversion rates when the outcome is known, the leads that moved and
//! the rule that decided them before and after, and the rules that now
//! decide more or fewer leads.
//!
//! Either version may come from git (`main:policy.qual`): the file, and the
//! files it imports, are read with `git show` into a temporary folder and
//! checked from there.
//!
//! The leads are streamed: each record is read by both policies (each with
//! its own binding, so the two may read different columns); only counts per
//! cell and per rule are kept, plus the first few moved leads per cell (or,
//! for `--format csv`, every moved lead written out as it comes, in input
//! order).

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};

use serde_json::{Value as Json, json};

use super::backtest::{has_column, parse_outcome, source_text, unknown_column};
use super::bad_rows::BadRows;
use super::load_policy;
use super::run::{OnError, parse_on_error};
use crate::check::policy::{Policy, date_to_string, thousands, today};
use crate::compile::Program;
use crate::eval::{Decision, Machine, Row};
use crate::leads::outcome::Outcome;
use crate::leads::{self, Binding, ColumnProblem, Format as InputFormat, Reject, output};

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum DiffFormat {
    Human,
    Markdown,
    Csv,
    Json,
}

#[derive(clap::Args)]
pub struct Args {
    /// The policy before the change: a file, or `REV:path` to read it from
    /// git (`main:policy.qual`; `REV:./path` is relative to the current
    /// folder). A file of that name on disk wins.
    #[arg(value_name = "OLD")]
    old: String,
    /// The policy after the change: a file, or `REV:path`.
    #[arg(value_name = "NEW")]
    new: String,
    /// Lead file: CSV, JSON Lines (.jsonl) or a JSON array (.json); `-` for
    /// stdin.
    leads: PathBuf,
    /// The outcome column, to show conversion rates per cell: `Converted` (a
    /// yes/no column) or `Status=Won` (converted when the cell is one of the
    /// comma-separated values). An empty cell is a missing outcome.
    #[arg(long, value_name = "COLUMN[=VALUE,…]")]
    outcome: Option<String>,
    /// Output format: a table (`human`), a pull-request comment
    /// (`markdown`), one row per moved lead (`csv`), or everything (`json`).
    #[arg(long, value_enum, default_value = "human")]
    format: DiffFormat,
    /// Evaluation date for `within N days` (default: today).
    #[arg(long, value_name = "YYYY-MM-DD", value_parser = super::parse_date_arg)]
    as_of: Option<i32>,
    /// What to do with a row that either policy cannot read (or whose
    /// outcome is not a yes/no value): stop (`fail`, the default), leave it
    /// out and count it (`skip`), or write it to a file with the reason
    /// (`reject=FILE`).
    #[arg(long, value_name = "fail|skip|reject=FILE", default_value = "fail", value_parser = parse_on_error)]
    on_error: OnError,
    /// Worker threads (default: one per core).
    #[arg(long)]
    threads: Option<usize>,
    /// Moved leads shown per cell of the matrix in the human and markdown
    /// reports (`--format csv` and `json` list every moved lead).
    #[arg(long, value_name = "N", default_value_t = 5)]
    show: usize,
}

/// The name of the row and column of leads a policy leaves without a stage.
const NO_STAGE: &str = "(no stage)";

/// Markdown cells longer than this are cut (a pull-request comment has a
/// size limit, and a lead value may be anything).
const MD_CELL: usize = 120;

pub fn run(args: Args) -> Result<ExitCode, String> {
    output::catch_signals();
    let listing = match args.format {
        DiffFormat::Human | DiffFormat::Markdown => Listing::Sample(args.show),
        DiffFormat::Csv => Listing::Csv,
        DiffFormat::Json => Listing::All,
    };
    let settings = Settings {
        leads: &args.leads,
        outcome: args.outcome.as_deref(),
        as_of: args.as_of.unwrap_or_else(today),
        on_error: &args.on_error,
        threads: args.threads,
        listing,
        new_from_git: true,
    };
    let report = match diff(&args.old, &args.new, &settings)? {
        Ended::Report(report) => report,
        Ended::Failed => return Ok(ExitCode::from(1)),
    };
    match args.format {
        DiffFormat::Json => outln!(
            "{}",
            serde_json::to_string_pretty(&report).unwrap_or_default()
        )?,
        DiffFormat::Human => out!("{}", human(&report, args.show))?,
        DiffFormat::Markdown => out!("{}", markdown(&report, args.show))?,
        DiffFormat::Csv => eprintln!("{}", summary_line(&report)),
    }
    Ok(ExitCode::SUCCESS)
}

/// The diff of `old` (a file or `REV:path`) and `new` (a file) over
/// `leads`, as `qualify diff --format json` prints it, with `--on-error
/// skip`: rows either policy cannot read are left out and counted
/// (`rejected`), and the first few are reported on standard error.
// Called by `qualify report --against`.
#[allow(dead_code)]
pub(crate) fn compare(
    old: &str,
    new: &Path,
    leads: &Path,
    outcome: Option<&str>,
    as_of: i32,
    threads: Option<usize>,
) -> Result<Json, String> {
    let new_text = new.to_string_lossy();
    let settings = Settings {
        leads,
        outcome,
        as_of,
        on_error: &OnError::Skip,
        threads,
        listing: Listing::All,
        new_from_git: false,
    };
    match diff(old, &new_text, &settings)? {
        Ended::Report(report) => Ok(report),
        Ended::Failed => Err(format!(
            "cannot compare {old} with {new_text} on {}: see the messages above",
            leads.display()
        )),
    }
}

/// Which moved leads are kept.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Listing {
    /// The first N of each cell (human and markdown reports).
    Sample(usize),
    /// Every one, in the report (`--format json`, `compare`).
    All,
    /// Every one, written to standard output as CSV as they come.
    Csv,
}

struct Settings<'a> {
    leads: &'a Path,
    outcome: Option<&'a str>,
    as_of: i32,
    on_error: &'a OnError,
    threads: Option<usize>,
    listing: Listing,
    /// Whether NEW may be `REV:path` (`compare` takes a file).
    new_from_git: bool,
}

enum Ended {
    Report(Json),
    /// Exit status 1; the reason is on standard error.
    Failed,
}

/// One version of the policy, checked and compiled.
struct Side {
    /// As given on the command line (`main:policy.qual`).
    label: String,
    policy: Policy,
    program: Program,
    /// The text of each file of the policy (for the conditions of rules
    /// without a name), read before a temporary copy from git is removed.
    texts: Vec<Option<String>>,
}

/// Leads (and their outcomes) counted together.
#[derive(Clone, Copy, Default)]
struct Tally {
    leads: u64,
    converted: u64,
    /// Leads whose outcome cell was empty.
    missing: u64,
}

impl Tally {
    fn add(&mut self, converted: Option<bool>) {
        self.leads += 1;
        match converted {
            Some(true) => self.converted += 1,
            Some(false) => {}
            None => self.missing += 1,
        }
    }

    fn merge(&mut self, other: &Tally) {
        self.leads += other.leads;
        self.converted += other.converted;
        self.missing += other.missing;
    }

    fn judged(&self) -> u64 {
        self.leads - self.missing
    }
}

/// A lead whose stage differs between the versions.
struct Moved {
    line: u64,
    /// The key field(s)' cells, as written.
    key: Vec<String>,
    old: Decision,
    new: Decision,
    converted: Option<bool>,
}

struct ChunkResult {
    /// Per (old stage, new stage); index `old * (S + 1) + new`, where `S`
    /// (one past the last stage) is "no stage".
    cells: Vec<Tally>,
    /// Per rule of each version; the last entry is "no rule: otherwise".
    old_rules: Vec<Tally>,
    new_rules: Vec<Tally>,
    /// Leads that kept their stage but are decided by another rule.
    rule_changed: u64,
    moved: Vec<Moved>,
    rejects: Vec<Reject>,
}

/// Everything the workers share.
struct Job<'a> {
    old: &'a Side,
    new: &'a Side,
    old_binding: &'a Binding,
    new_binding: &'a Binding,
    /// Key columns (indexes into `key_names`' binding's columns).
    key_columns: Vec<usize>,
    key_binding: &'a Binding,
    /// The outcome field of the old policy and how it is read.
    outcome: Option<(usize, &'a Outcome)>,
    /// For each old rule, the new rule it is (matched by name).
    old_to_new: &'a [Option<usize>],
    stages: usize,
    format: InputFormat,
}

fn diff(old: &str, new: &str, s: &Settings<'_>) -> Result<Ended, String> {
    let outcome = s.outcome.map(parse_outcome).transpose()?;
    // Both versions are checked, so that the errors of both are shown.
    let (old, new) = (load_side(old, true)?, load_side(new, s.new_from_git)?);
    let (Some(mut old), Some(new)) = (old, new) else {
        return Ok(Ended::Failed);
    };
    check_stages(&old, &new)?;
    let stages = old.policy.stages.len();

    // The outcome, read like a field of the old policy.
    let outcome_field = outcome.as_ref().map(|o| o.add_to(&mut old.policy));
    old.program = Program::compile(&old.policy);
    if let Some(f) = outcome_field {
        old.program.reads[f] = true;
    }

    let mut input = leads::open(s.leads, None)?;
    let (old_binding, new_binding) = match input.format {
        InputFormat::Csv { .. } => {
            let columns = input.columns()?;
            if let Some(o) = &outcome {
                if !has_column(&columns, &o.column) {
                    return Err(unknown_column(&input.name, &o.column, &columns));
                }
            }
            (
                Binding::new(&old.policy, &old.program, columns.clone()),
                Binding::new(&new.policy, &new.program, columns),
            )
        }
        InputFormat::JsonLines | InputFormat::JsonArray => {
            let keys = input.columns()?;
            if let Some(o) = &outcome {
                if !keys.is_empty() && !has_column(&keys, &o.column) {
                    return Err(unknown_column(&input.name, &o.column, &keys));
                }
            }
            (
                input.binding(&old.policy, &old.program)?,
                input.binding(&new.policy, &new.program)?,
            )
        }
    };
    let (old_binding, new_binding) = match (old_binding, new_binding) {
        (Ok(a), Ok(b)) => (a, b),
        (a, b) => {
            for (which, side, problems) in [("old", &old, a.err()), ("new", &new, b.err())] {
                let Some(problems) = problems else { continue };
                eprintln!(
                    "error: {}: {} column(s) the {which} policy ({}) needs cannot be read:",
                    input.name,
                    problems.len(),
                    side.label
                );
                for p in &problems {
                    eprintln!("  - {p}");
                }
                if problems
                    .iter()
                    .any(|p| matches!(p, ColumnProblem::Missing { .. }))
                {
                    eprintln!(
                        "help: rename the column in the file, or change the field's `from \"…\"` in {}",
                        side.label
                    );
                }
            }
            return Ok(Ended::Failed);
        }
    };

    let mut bad_rows = BadRows::new(
        s.on_error,
        s.leads,
        &input.name,
        input.format,
        &old_binding.columns,
        outcome.as_ref(),
    )?;
    let fail = bad_rows.fail();

    // The lead's key: the new policy's key fields, else the old one's.
    let key_binding = if new_binding.keys.is_empty() {
        &old_binding
    } else {
        &new_binding
    };
    let key_columns: Vec<usize> = key_binding.keys.iter().map(|(_, c)| *c).collect();
    let key_names: Vec<String> = key_columns
        .iter()
        .map(|c| key_binding.columns[*c].clone())
        .collect();

    let old_keys = rule_keys(&old);
    let new_keys = rule_keys(&new);
    let new_index: HashMap<&str, usize> = new_keys
        .iter()
        .enumerate()
        .map(|(i, k)| (k.as_str(), i))
        .collect();
    let old_to_new: Vec<Option<usize>> = old_keys
        .iter()
        .map(|k| new_index.get(k.as_str()).copied())
        .collect();

    let job = Job {
        old: &old,
        new: &new,
        old_binding: &old_binding,
        new_binding: &new_binding,
        key_columns,
        key_binding,
        outcome: outcome_field.zip(outcome.as_ref()),
        old_to_new: &old_to_new,
        stages,
        format: input.format,
    };
    let names = Names::new(&old, &new);

    // Every moved lead as CSV, written as it comes.
    let has_outcome = outcome.is_some();
    if s.listing == Listing::Csv {
        output::writing_to_stdout();
        let mut w = csv::Writer::from_writer(Vec::new());
        let mut header = vec!["line".to_string()];
        for name in &key_names {
            let mut name = name.clone();
            while header.contains(&name) || CSV_COLUMNS.contains(&name.as_str()) {
                name.insert_str(0, "key_");
            }
            header.push(name);
        }
        header.extend(CSV_COLUMNS.iter().map(|c| c.to_string()));
        if !has_outcome {
            header.pop();
        }
        let _ = w.write_record(&header);
        let bytes = w.into_inner().unwrap_or_default();
        output::write_stdout(&bytes, 0)
            .map_err(|e| format!("cannot write to standard output: {e}"))?;
    }

    let threads = s.threads.unwrap_or_else(|| {
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(2)
    });
    let unit = if input.format == InputFormat::JsonArray {
        "element"
    } else {
        "line"
    };
    let side = stages + 1;
    let mut cells = vec![Tally::default(); side * side];
    let mut old_rules = vec![Tally::default(); old.policy.rules.len() + 1];
    let mut new_rules = vec![Tally::default(); new.policy.rules.len() + 1];
    let mut rule_changed = 0u64;
    let mut kept: Vec<Moved> = Vec::new();
    let mut shown_per_cell = vec![0usize; side * side];
    let mut io_error: Option<String> = None;
    let array_error = input.array_error.clone();
    let name = input.name.clone();
    let split = leads::pipeline::run(
        input.splitter,
        threads,
        || {
            let mut old_row = Row::new(old.policy.fields.len());
            let mut new_row = Row::new(new.policy.fields.len());
            let mut old_machine = Machine::new(&old.program, s.as_of);
            let mut new_machine = Machine::new(&new.program, s.as_of);
            let job = &job;
            move |chunk: &leads::chunks::Chunk| {
                job.process(
                    chunk,
                    [&mut old_row, &mut new_row],
                    [&mut old_machine, &mut new_machine],
                )
            }
        },
        |result: ChunkResult| {
            for reject in &result.rejects {
                if let Err(e) = bad_rows.add(reject) {
                    io_error = Some(e);
                    return false;
                }
            }
            for (all, chunk) in cells.iter_mut().zip(&result.cells) {
                all.merge(chunk);
            }
            for (all, chunk) in old_rules.iter_mut().zip(&result.old_rules) {
                all.merge(chunk);
            }
            for (all, chunk) in new_rules.iter_mut().zip(&result.new_rules) {
                all.merge(chunk);
            }
            rule_changed += result.rule_changed;
            match s.listing {
                Listing::Sample(n) => {
                    for m in result.moved {
                        let cell = cell_index(&m, stages);
                        if shown_per_cell[cell] < n {
                            shown_per_cell[cell] += 1;
                            kept.push(m);
                        }
                    }
                }
                Listing::All => kept.extend(result.moved),
                Listing::Csv => {
                    // With `--on-error fail` the rows stop before the first
                    // bad one, as `qualify run`'s do.
                    let mut w = csv::Writer::from_writer(Vec::new());
                    let mut rows = 0;
                    for m in &result.moved {
                        if fail && bad_rows.first_line.is_some_and(|bad| m.line > bad) {
                            break;
                        }
                        let _ = w.write_record(names.csv_row(m, has_outcome));
                        rows += 1;
                    }
                    let bytes = w.into_inner().unwrap_or_default();
                    if rows > 0 {
                        if let Err(e) = output::write_stdout(&bytes, rows) {
                            io_error = Some(format!("cannot write to standard output: {e}"));
                            return false;
                        }
                    }
                }
            }
            true
        },
        |_| {},
    );
    if let Err(e) = split {
        return Err(format!("{name}: {e}"));
    }
    if let Some(e) = io_error {
        return Err(e);
    }
    let note = match (s.listing, bad_rows.first_line) {
        (Listing::Csv, Some(line)) => Some(format!(
            "note: the moved leads on standard output stop before {unit} {line}, the first bad row"
        )),
        _ => None,
    };
    if !bad_rows.finish("diff", note) {
        return Ok(Ended::Failed);
    }
    if let Some(error) = array_error.and_then(|slot| slot.lock().ok().and_then(|mut e| e.take())) {
        eprintln!("error: {name}: {error}");
        return Ok(Ended::Failed);
    }
    bad_rows.commit()?;

    let counts = Counts {
        cells,
        old_rules,
        new_rules,
        rule_changed,
        rejected: bad_rows.count,
    };
    Ok(Ended::Report(report(
        &old,
        &new,
        &names,
        &counts,
        &kept,
        &key_names,
        outcome.as_ref(),
        s,
        &input.name,
    )))
}

/// The CSV columns after `line` and the key.
const CSV_COLUMNS: [&str; 5] = [
    "old_stage",
    "old_rule",
    "new_stage",
    "new_rule",
    "converted",
];

fn cell_index(m: &Moved, stages: usize) -> usize {
    m.old.stage.unwrap_or(stages) * (stages + 1) + m.new.stage.unwrap_or(stages)
}

impl Job<'_> {
    fn process(
        &self,
        chunk: &leads::chunks::Chunk,
        rows: [&mut Row; 2],
        machines: [&mut Machine; 2],
    ) -> ChunkResult {
        let side = self.stages + 1;
        let mut result = ChunkResult {
            cells: vec![Tally::default(); side * side],
            old_rules: vec![Tally::default(); self.old.policy.rules.len() + 1],
            new_rules: vec![Tally::default(); self.new.policy.rules.len() + 1],
            rule_changed: 0,
            moved: Vec::new(),
            rejects: Vec::new(),
        };
        let [old_row, new_row] = rows;
        let [old_machine, new_machine] = machines;
        match self.format {
            InputFormat::Csv { delimiter } => {
                leads::for_each_csv_record(chunk, delimiter, |lines, record| {
                    let record = match record {
                        Err(reject) => return result.rejects.push(reject),
                        Ok(record) => record,
                    };
                    let read = self
                        .old_binding
                        .read_csv(&self.old.program, &record, old_row)
                        .and_then(|()| {
                            self.new_binding
                                .read_csv(&self.new.program, &record, new_row)
                        });
                    if let Err(mut reject) = read {
                        (reject.line, reject.last_line) = record.span(lines);
                        return result.rejects.push(reject);
                    }
                    let decided = self.judge(old_row, new_row, old_machine, new_machine);
                    if let Some((old, new, converted)) = self.count(&mut result, decided) {
                        let key = self
                            .key_columns
                            .iter()
                            .map(|c| {
                                let cell = record.cells.unescape(*c).unwrap_or_default();
                                String::from_utf8_lossy(&cell).into_owned()
                            })
                            .collect();
                        result.moved.push(Moved {
                            line: record.span(lines).0,
                            key,
                            old,
                            new,
                            converted,
                        });
                    }
                });
            }
            InputFormat::JsonLines | InputFormat::JsonArray => {
                leads::for_each_json_line(chunk, |line, raw, object| {
                    let object = match object {
                        Err(reject) => return result.rejects.push(reject),
                        Ok(object) => object,
                    };
                    let read = self
                        .old_binding
                        .read_json(&self.old.program, &object, line, raw, old_row)
                        .and_then(|()| {
                            self.new_binding.read_json(
                                &self.new.program,
                                &object,
                                line,
                                raw,
                                new_row,
                            )
                        });
                    if let Err(reject) = read {
                        return result.rejects.push(reject);
                    }
                    let decided = self.judge(old_row, new_row, old_machine, new_machine);
                    if let Some((old, new, converted)) = self.count(&mut result, decided) {
                        let key = self
                            .key_columns
                            .iter()
                            .map(|c| {
                                match leads::json_get(&object, &self.key_binding.columns[*c]) {
                                    None | Some(serde_json::Value::Null) => String::new(),
                                    Some(serde_json::Value::String(s)) => s.clone(),
                                    Some(other) => other.to_string(),
                                }
                            })
                            .collect();
                        result.moved.push(Moved {
                            line,
                            key,
                            old,
                            new,
                            converted,
                        });
                    }
                });
            }
        }
        result
    }

    /// Both decisions and the outcome of one lead.
    fn judge(
        &self,
        old_row: &Row,
        new_row: &Row,
        old_machine: &mut Machine,
        new_machine: &mut Machine,
    ) -> (Decision, Decision, Option<bool>) {
        let old = old_machine.run(&self.old.program, old_row);
        let new = new_machine.run(&self.new.program, new_row);
        let converted = self
            .outcome
            .and_then(|(field, spec)| spec.converted(old_row, field));
        (old, new, converted)
    }

    /// Count one lead; its decisions when it moved.
    fn count(
        &self,
        result: &mut ChunkResult,
        (old, new, converted): (Decision, Decision, Option<bool>),
    ) -> Option<(Decision, Decision, Option<bool>)> {
        let s = self.stages;
        let (o, n) = (old.stage.unwrap_or(s).min(s), new.stage.unwrap_or(s).min(s));
        result.cells[o * (s + 1) + n].add(converted);
        let old_rule = old.rule.unwrap_or(self.old.policy.rules.len());
        let new_rule = new.rule.unwrap_or(self.new.policy.rules.len());
        if let Some(t) = result.old_rules.get_mut(old_rule) {
            t.add(converted);
        }
        if let Some(t) = result.new_rules.get_mut(new_rule) {
            t.add(converted);
        }
        if o != n {
            return Some((old, new, converted));
        }
        let same_rule = match (old.rule, new.rule) {
            (None, None) => true,
            (Some(r), Some(q)) => self.old_to_new.get(r).copied().flatten() == Some(q),
            _ => false,
        };
        if !same_rule {
            result.rule_changed += 1;
        }
        None
    }
}

/// Stage and rule names of both versions, for output.
struct Names {
    stages: Vec<String>,
    old_rules: Vec<String>,
    new_rules: Vec<String>,
}

impl Names {
    fn new(old: &Side, new: &Side) -> Names {
        Names {
            stages: old.policy.stages.iter().map(|s| s.name.clone()).collect(),
            old_rules: old.policy.rules.iter().map(|r| r.display_name()).collect(),
            new_rules: new.policy.rules.iter().map(|r| r.display_name()).collect(),
        }
    }

    fn stage(&self, stage: Option<usize>) -> Option<&str> {
        stage.and_then(|s| self.stages.get(s)).map(String::as_str)
    }

    fn rule(rules: &[String], rule: Option<usize>) -> Option<&str> {
        rule.and_then(|r| rules.get(r)).map(String::as_str)
    }

    fn csv_row(&self, m: &Moved, outcome: bool) -> Vec<String> {
        let mut row = vec![m.line.to_string()];
        row.extend(m.key.iter().cloned());
        row.push(self.stage(m.old.stage).unwrap_or("").into());
        row.push(
            Names::rule(&self.old_rules, m.old.rule)
                .unwrap_or("")
                .into(),
        );
        row.push(self.stage(m.new.stage).unwrap_or("").into());
        row.push(
            Names::rule(&self.new_rules, m.new.rule)
                .unwrap_or("")
                .into(),
        );
        if outcome {
            row.push(
                match m.converted {
                    Some(true) => "yes",
                    Some(false) => "no",
                    None => "",
                }
                .into(),
            );
        }
        row
    }

    fn json(&self, m: &Moved, key_names: &[String]) -> Json {
        let key = if key_names.is_empty() {
            Json::Null
        } else {
            Json::Object(
                key_names
                    .iter()
                    .cloned()
                    .zip(m.key.iter().map(|k| Json::from(k.as_str())))
                    .collect(),
            )
        };
        json!({
            "line": m.line,
            "key": key,
            "old_stage": self.stage(m.old.stage),
            "old_rule": Names::rule(&self.old_rules, m.old.rule),
            "new_stage": self.stage(m.new.stage),
            "new_rule": Names::rule(&self.new_rules, m.new.rule),
            "converted": m.converted,
        })
    }
}

/// Read, check and compile one version; `None` when it has errors (they
/// are on standard error).
fn load_side(spec: &str, git_allowed: bool) -> Result<Option<Side>, String> {
    let source = if git_allowed {
        resolve_source(spec)?
    } else {
        Source {
            path: PathBuf::from(spec),
            from_git: None,
        }
    };
    let Some(policy) = load_policy(&source.path)? else {
        if source.from_git.is_some() {
            eprintln!("note: {} is `{spec}`, read from git", source.path.display());
        }
        return Ok(None);
    };
    let texts = policy
        .files
        .iter()
        .map(|p| std::fs::read_to_string(p).ok())
        .collect();
    // The temporary copy is removed here: everything is in memory.
    drop(source);
    Ok(Some(Side {
        label: spec.to_string(),
        program: Program::compile(&policy),
        policy,
        texts,
    }))
}

/// The two versions must rank the same stages, in the same order.
fn check_stages(old: &Side, new: &Side) -> Result<(), String> {
    let names =
        |s: &Side| -> Vec<String> { s.policy.stages.iter().map(|s| s.name.clone()).collect() };
    let (a, b) = (names(old), names(new));
    if a == b {
        return Ok(());
    }
    let shown = |v: &[String]| {
        if v.is_empty() {
            "no stages".to_string()
        } else {
            format!("`stages {}`", v.join(" < "))
        }
    };
    let only = |x: &[String], y: &[String]| -> Vec<String> {
        x.iter().filter(|s| !y.contains(s)).cloned().collect()
    };
    let (only_old, only_new) = (only(&a, &b), only(&b, &a));
    let mut text = format!(
        "the two policies rank different stages, so their leads cannot be compared stage by stage: {} has {}, {} has {}",
        old.label,
        shown(&a),
        new.label,
        shown(&b)
    );
    let mut parts = Vec::new();
    if !only_old.is_empty() {
        parts.push(format!("only in {}: {}", old.label, only_old.join(", ")));
    }
    if !only_new.is_empty() {
        parts.push(format!("only in {}: {}", new.label, only_new.join(", ")));
    }
    if parts.is_empty() {
        parts.push("the same stages in another order".into());
    }
    text.push_str(&format!(" ({})", parts.join("; ")));
    Err(text)
}

/// The identity of each rule across versions: its name, or for a rule
/// without one its condition (spaces normalised) and stage. A second rule
/// with the same identity gets `#2`.
fn rule_keys(side: &Side) -> Vec<String> {
    let mut seen: HashMap<String, usize> = HashMap::new();
    side.policy
        .rules
        .iter()
        .map(|r| {
            let base = match &r.label {
                Some(label) => format!("rule {label}"),
                None => format!(
                    "when {} => {}{}",
                    source_text(&side.policy, &side.texts, &r.expr),
                    if r.ceiling { "at most " } else { "" },
                    side.policy
                        .stages
                        .get(r.stage)
                        .map_or("?", |s| s.name.as_str())
                ),
            };
            let n = seen.entry(base.clone()).or_insert(0);
            *n += 1;
            if *n > 1 { format!("{base} #{n}") } else { base }
        })
        .collect()
}

// ------------------------------------------------------------- git sources

/// A policy file to load: as named, or a copy of a file of a git revision.
struct Source {
    path: PathBuf,
    /// The temporary folder holding the copy (removed when dropped).
    from_git: Option<TempDir>,
}

/// A folder removed with everything in it when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new() -> Result<TempDir, String> {
        let base = std::env::temp_dir();
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        for attempt in 0..100u32 {
            let dir = base.join(format!(
                "qualify-diff-{}-{nanos}-{attempt}",
                std::process::id()
            ));
            match std::fs::create_dir(&dir) {
                Ok(()) => return Ok(TempDir(dir)),
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
                Err(e) => {
                    return Err(format!(
                        "cannot create a temporary folder in {}: {e}",
                        base.display()
                    ));
                }
            }
        }
        Err(format!(
            "cannot create a temporary folder in {}",
            base.display()
        ))
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Run git in the current folder: its standard output, or its first line
/// of standard error.
fn git(args: &[&str]) -> Result<Vec<u8>, String> {
    let out = Command::new("git")
        .args(args)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("cannot run git: {e}"))?;
    if out.status.success() {
        return Ok(out.stdout);
    }
    let err = String::from_utf8_lossy(&out.stderr);
    let first = err
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .unwrap_or("git failed");
    Err(first.trim_start_matches("fatal: ").to_string())
}

/// At most this many files are read from git for one policy (its
/// imports, and theirs).
const MAX_GIT_FILES: usize = 256;

/// A file on disk, or `REV:path`: the file of that revision (and the files
/// it imports, found in the same revision) copied to a temporary folder.
fn resolve_source(spec: &str) -> Result<Source, String> {
    let as_file = || Source {
        path: PathBuf::from(spec),
        from_git: None,
    };
    if Path::new(spec).exists() {
        return Ok(as_file());
    }
    let Some((rev, path)) = spec.split_once(':') else {
        return Ok(as_file());
    };
    if rev.is_empty() {
        return Ok(as_file());
    }
    if path.is_empty() {
        return Err(format!(
            "{spec}: no such file; to read a policy from git, name it after the colon: `{rev}:policy.qual`"
        ));
    }
    if rev.starts_with('-') {
        return Err(format!(
            "{spec}: no such file, and `{rev}` cannot be a git revision (it starts with `-`)"
        ));
    }
    let prefix = git(&["rev-parse", "--show-prefix"]).map_err(|e| {
        format!("{spec}: no such file, and it cannot be read as REV:path from git: {e}")
    })?;
    let prefix = String::from_utf8_lossy(&prefix).trim().to_string();
    if git(&[
        "rev-parse",
        "--verify",
        "--quiet",
        &format!("{rev}^{{tree}}"),
    ])
    .is_err()
    {
        return Err(format!(
            "{spec}: no such file, and git knows no revision `{rev}` (a branch, tag or commit)"
        ));
    }
    let relative_to_here = path == "." || path.starts_with("./") || path.starts_with("../");
    let joined = if relative_to_here {
        format!("{prefix}{path}")
    } else {
        path.to_string()
    };
    let Some(in_repo) = repo_path(&joined) else {
        return Err(format!("{spec}: `{path}` is outside the git repository"));
    };
    let temp = TempDir::new()?;
    let folder: String = rev
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
                c
            } else {
                '_'
            }
        })
        .take(60)
        .collect();
    let root = temp.0.join(folder.trim_start_matches('.'));
    let mut seen = HashSet::new();
    fetch_git_file(rev, &in_repo, spec, &root, None, &mut seen)?;
    Ok(Source {
        path: root.join(&in_repo),
        from_git: Some(temp),
    })
}

/// A path within the repository, `/`-separated, without `.` and `..`;
/// `None` when it leaves the repository.
fn repo_path(path: &str) -> Option<String> {
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            other => parts.push(other),
        }
    }
    (!parts.is_empty()).then(|| parts.join("/"))
}

/// Copy `rev:path` under `root`, then the files it imports.
fn fetch_git_file(
    rev: &str,
    path: &str,
    spec: &str,
    root: &Path,
    imported_as: Option<&str>,
    seen: &mut HashSet<String>,
) -> Result<(), String> {
    if !seen.insert(path.to_string()) {
        return Ok(());
    }
    if seen.len() > MAX_GIT_FILES {
        return Err(format!(
            "{spec}: the policy imports more than {MAX_GIT_FILES} files"
        ));
    }
    let object = format!("{rev}:{path}");
    let what = |problem: &str| match imported_as {
        None => format!("{spec}: {problem}"),
        Some(import) => format!("{spec} imports \"{import}\", but {problem}"),
    };
    match git(&["cat-file", "-t", &object]) {
        Ok(kind) if String::from_utf8_lossy(&kind).trim() == "blob" => {}
        Ok(kind) => {
            let kind = String::from_utf8_lossy(&kind);
            let kind = match kind.trim() {
                "tree" => "folder",
                other => other,
            };
            return Err(what(&format!(
                "`{path}` is a {kind} in revision `{rev}`, not a policy file"
            )));
        }
        Err(_) => {
            return Err(what(&format!(
                "there is no file `{path}` in revision `{rev}` (paths are from the repository's top folder; `{rev}:./{}` is from the current one)",
                path.rsplit('/').next().unwrap_or(path)
            )));
        }
    }
    let bytes = git(&["show", &object]).map_err(|e| what(&format!("git show {object}: {e}")))?;
    let file = root.join(path);
    if let Some(parent) = file.parent() {
        std::fs::create_dir_all(parent).map_err(|e| format!("{}: {e}", parent.display()))?;
    }
    std::fs::write(&file, &bytes).map_err(|e| format!("{}: {e}", file.display()))?;

    let text = String::from_utf8_lossy(&bytes);
    let parsed = crate::syntax::parse(&file, &text);
    let dir = path.rsplit_once('/').map_or("", |(d, _)| d);
    for item in &parsed.file.items {
        let crate::syntax::ItemKind::Import(target) = &item.kind else {
            continue;
        };
        let written = target.value.as_str();
        // Absolute paths and other files are refused by the checker, with
        // its own message.
        if written.starts_with('/')
            || Path::new(written).is_absolute()
            || !written.to_ascii_lowercase().ends_with(".qual")
        {
            continue;
        }
        let Some(imported) = repo_path(&format!("{dir}/{written}")) else {
            return Err(format!(
                "{spec} imports \"{written}\", which is outside the git repository"
            ));
        };
        fetch_git_file(rev, &imported, spec, root, Some(written), seen)?;
    }
    Ok(())
}

// ------------------------------------------------------------------ report

struct Counts {
    cells: Vec<Tally>,
    old_rules: Vec<Tally>,
    new_rules: Vec<Tally>,
    rule_changed: u64,
    rejected: u64,
}

fn rate(t: &Tally) -> Option<f64> {
    let judged = t.judged();
    (judged > 0).then(|| t.converted as f64 / judged as f64)
}

fn round(r: Option<f64>) -> Json {
    r.map_or(Json::Null, |r| json!((r * 10000.0).round() / 10000.0))
}

/// The whole diff as JSON; the human and markdown reports are rendered
/// from it.
#[allow(clippy::too_many_arguments)]
fn report(
    old: &Side,
    new: &Side,
    names: &Names,
    counts: &Counts,
    moved: &[Moved],
    key_names: &[String],
    outcome: Option<&Outcome>,
    s: &Settings<'_>,
    input: &str,
) -> Json {
    let stages = names.stages.len();
    let side = stages + 1;
    let cell = |o: usize, n: usize| &counts.cells[o * side + n];
    let no_stage_used = (0..side).any(|i| cell(stages, i).leads > 0 || cell(i, stages).leads > 0);
    let shown = if no_stage_used { side } else { stages };
    let mut stage_names: Vec<String> = names.stages.clone();
    if no_stage_used {
        stage_names.push(NO_STAGE.into());
    }
    let with_outcome = outcome.is_some();
    let cell_json = |t: &Tally| {
        if with_outcome {
            json!({"leads": t.leads, "converted": t.converted, "outcome_missing": t.missing, "rate": round(rate(t))})
        } else {
            json!({"leads": t.leads, "converted": null})
        }
    };
    let matrix: Vec<Json> = (0..shown)
        .map(|o| {
            Json::from(
                (0..shown)
                    .map(|n| cell_json(cell(o, n)))
                    .collect::<Vec<_>>(),
            )
        })
        .collect();

    let mut total = Tally::default();
    let (mut moved_n, mut up, mut down) = (0u64, 0u64, 0u64);
    let rank = |i: usize| if i == stages { -1i64 } else { i as i64 };
    for o in 0..side {
        for n in 0..side {
            let t = cell(o, n);
            total.merge(t);
            if o != n {
                moved_n += t.leads;
                if rank(n) > rank(o) {
                    up += t.leads;
                } else {
                    down += t.leads;
                }
            }
        }
    }
    let per_stage: Vec<Json> = (0..shown)
        .map(|i| {
            let mut before = Tally::default();
            let mut after = Tally::default();
            for j in 0..side {
                before.merge(cell(i, j));
                after.merge(cell(j, i));
            }
            let mut v = json!({
                "stage": stage_names[i],
                "old_leads": before.leads,
                "new_leads": after.leads,
            });
            if with_outcome {
                v["old_converted"] = before.converted.into();
                v["new_converted"] = after.converted.into();
                v["old_rate"] = round(rate(&before));
                v["new_rate"] = round(rate(&after));
            }
            v
        })
        .collect();

    // Rules, matched by name (or condition and stage).
    let old_keys = rule_keys(old);
    let new_keys = rule_keys(new);
    let old_index: HashMap<&str, usize> = old_keys
        .iter()
        .enumerate()
        .map(|(i, k)| (k.as_str(), i))
        .collect();
    let stage_of = |p: &Policy, r: usize| {
        p.rules
            .get(r)
            .and_then(|r| p.stages.get(r.stage))
            .map(|s| s.name.clone())
    };
    let mut rules = Vec::new();
    let mut matched = vec![false; old.policy.rules.len()];
    let entry = |o: Option<usize>, n: Option<usize>| -> Json {
        let ot = o.map(|i| counts.old_rules[i]);
        let nt = n.map(|i| counts.new_rules[i]);
        let change = match (ot, nt) {
            (None, _) => "added",
            (_, None) => "removed",
            (Some(a), Some(b)) if b.leads > a.leads => "more",
            (Some(a), Some(b)) if b.leads < a.leads => "fewer",
            _ => "same",
        };
        let name = match (o, n) {
            (_, Some(n)) => names.new_rules[n].clone(),
            (Some(o), None) => names.old_rules[o].clone(),
            (None, None) => String::new(),
        };
        let condition = |side: &Side, r: usize| {
            source_text(&side.policy, &side.texts, &side.policy.rules[r].expr)
        };
        let condition_changed = match (o, n) {
            (Some(o), Some(n)) => Json::from(condition(old, o) != condition(new, n)),
            _ => Json::Null,
        };
        let ceiling = n
            .map(|n| new.policy.rules[n].ceiling)
            .or(o.map(|o| old.policy.rules[o].ceiling))
            .unwrap_or(false);
        let (text, named) = match (o, n) {
            (_, Some(n)) => (condition(new, n), new.policy.rules[n].label.is_some()),
            (Some(o), None) => (condition(old, o), old.policy.rules[o].label.is_some()),
            (None, None) => (String::new(), false),
        };
        let mut v = json!({
            "name": name,
            "change": change,
            "old_leads": ot.map(|t| t.leads),
            "new_leads": nt.map(|t| t.leads),
            "old_stage": o.and_then(|o| stage_of(&old.policy, o)),
            "new_stage": n.and_then(|n| stage_of(&new.policy, n)),
            "ceiling": ceiling,
            "condition_changed": condition_changed,
            "condition": text,
            "named": named,
        });
        if with_outcome {
            v["old_converted"] = ot.map(|t| t.converted).into();
            v["new_converted"] = nt.map(|t| t.converted).into();
            v["old_rate"] = ot.map_or(Json::Null, |t| round(rate(&t)));
            v["new_rate"] = nt.map_or(Json::Null, |t| round(rate(&t)));
        }
        v
    };
    for (n, key) in new_keys.iter().enumerate() {
        let o = old_index.get(key.as_str()).copied();
        if let Some(o) = o {
            matched[o] = true;
        }
        rules.push(entry(o, Some(n)));
    }
    for (o, was) in matched.iter().enumerate() {
        if !was {
            rules.push(entry(Some(o), None));
        }
    }
    let old_none = counts.old_rules[old.policy.rules.len()];
    let new_none = counts.new_rules[new.policy.rules.len()];
    let mut otherwise = json!({
        "old_leads": old_none.leads,
        "new_leads": new_none.leads,
        "old_stage": old.policy.otherwise.and_then(|s| names.stages.get(s)),
        "new_stage": new.policy.otherwise.and_then(|s| names.stages.get(s)),
    });
    if with_outcome {
        otherwise["old_converted"] = old_none.converted.into();
        otherwise["new_converted"] = new_none.converted.into();
        otherwise["old_rate"] = round(rate(&old_none));
        otherwise["new_rate"] = round(rate(&new_none));
    }

    let moved_leads: Vec<Json> = moved.iter().map(|m| names.json(m, key_names)).collect();
    let listing = match s.listing {
        Listing::Sample(n) => json!({"all": false, "per_cell": n}),
        Listing::All => json!({"all": true}),
        Listing::Csv => json!({"all": false, "per_cell": 0}),
    };
    json!({
        "old": old.label,
        "new": new.label,
        "leads_file": input,
        "as_of": date_to_string(s.as_of),
        "outcome": outcome.map(|o| json!({
            "column": o.column,
            "converted_when": if o.is_yes_no() { Json::from("yes") } else { json!(o.values) },
        })),
        "total": total.leads,
        "moved": moved_n,
        "up": up,
        "down": down,
        "same_stage_other_rule": counts.rule_changed,
        "rejected": counts.rejected,
        "outcome_missing": if with_outcome { Json::from(total.missing) } else { Json::Null },
        "converted": if with_outcome { Json::from(total.converted) } else { Json::Null },
        "key": key_names,
        "stages": stage_names,
        "matrix": matrix,
        "per_stage": per_stage,
        "rules": rules,
        "otherwise": otherwise,
        "moved_leads": moved_leads,
        "moved_leads_listed": listing,
    })
}

// --------------------------------------------------------------- rendering

fn get_u(v: &Json, k: &str) -> u64 {
    v[k].as_u64().unwrap_or(0)
}

fn pct(r: Option<f64>) -> String {
    r.map_or("–".into(), |r| format!("{:.1}%", r * 100.0))
}

fn strs(v: &Json) -> Vec<String> {
    v.as_array()
        .into_iter()
        .flatten()
        .map(|s| s.as_str().unwrap_or("").to_string())
        .collect()
}

/// Text from a policy or lead file for a terminal: control characters
/// (a line break in a cell, an escape sequence) are shown escaped.
fn plain(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out
}

/// Text from a policy or lead file for a markdown table cell: every ASCII
/// punctuation character is backslash-escaped (so `|` cannot end the cell
/// and `*`, `_`, `<`, `[` … are shown as they are), line breaks and other
/// control characters become spaces, an `@` cannot mention anyone, and long
/// text is cut.
pub(crate) fn md(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 8);
    for (i, c) in text.chars().enumerate() {
        if i == MD_CELL {
            out.push('…');
            break;
        }
        if c.is_control() {
            out.push(' ');
        } else if c == '@' {
            // A zero-width space after `@` keeps `@team` from notifying.
            out.push_str("\\@\u{200B}");
        } else if c.is_ascii_punctuation() {
            out.push('\\');
            out.push(c);
        } else {
            out.push(c);
        }
    }
    out
}

/// A path for the markdown summary line (not a table cell): a code span,
/// readable as written, fenced with more backticks than the text holds in a
/// row so that nothing in it can end the span; line breaks become spaces.
pub(crate) fn md_code(text: &str) -> String {
    let text: String = text
        .chars()
        .take(MD_CELL)
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let longest = text.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    let fence = "`".repeat(longest + 1);
    // A space inside the fence keeps a leading or trailing backtick apart
    // from it; markdown strips one space on each side.
    format!("{fence} {text} {fence}")
}

/// What a moved lead is called: its line, and its key.
fn lead_label(m: &Json, unit: &str) -> (String, String) {
    let line = format!("{unit} {}", get_u(m, "line"));
    let key: Vec<String> = m["key"]
        .as_object()
        .into_iter()
        .flat_map(|o| o.values())
        .map(|v| v.as_str().unwrap_or("").to_string())
        .collect();
    (line, key.join(", "))
}

fn converted_word(v: &Json) -> &'static str {
    match v.as_bool() {
        Some(true) => "converted",
        Some(false) => "not converted",
        None => "",
    }
}

/// Each cell of the matrix that has moved leads: (old index, new index,
/// the cell).
fn moved_cells(r: &Json) -> Vec<(usize, usize, &Json)> {
    let mut out = Vec::new();
    for (o, row) in r["matrix"].as_array().into_iter().flatten().enumerate() {
        for (n, cell) in row.as_array().into_iter().flatten().enumerate() {
            if o != n && get_u(cell, "leads") > 0 {
                out.push((o, n, cell));
            }
        }
    }
    out
}

/// The listed moved leads of one cell.
fn leads_of_cell<'a>(r: &'a Json, stages: &[String], o: usize, n: usize) -> Vec<&'a Json> {
    let name = |v: &Json| v.as_str().unwrap_or(NO_STAGE).to_string();
    r["moved_leads"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|m| name(&m["old_stage"]) == stages[o] && name(&m["new_stage"]) == stages[n])
        .collect()
}

/// A rule as the reports name it: a rule without a name gets its condition
/// (cut), since its position-based name may be the same in both versions.
fn rule_title(rule: &Json) -> String {
    let name = rule["name"].as_str().unwrap_or("").to_string();
    if rule["named"] != false {
        return name;
    }
    let condition = rule["condition"].as_str().unwrap_or("");
    let mut cut: String = condition.chars().take(60).collect();
    if cut.len() < condition.len() {
        cut.push('…');
    }
    format!("{name}: {cut}")
}

fn change_text(rule: &Json) -> String {
    let (o, n) = (rule["old_leads"].as_u64(), rule["new_leads"].as_u64());
    let mut text = match rule["change"].as_str().unwrap_or("") {
        "more" | "fewer" => {
            let (o, n) = (o.unwrap_or(0) as i64, n.unwrap_or(0) as i64);
            format!("{} ({:+})", rule["change"].as_str().unwrap_or(""), n - o)
        }
        other => other.to_string(),
    };
    if rule["old_stage"].is_string()
        && rule["new_stage"].is_string()
        && rule["old_stage"] != rule["new_stage"]
    {
        text.push_str(&format!(
            "; now => {}",
            rule["new_stage"].as_str().unwrap_or("")
        ));
    }
    if rule["condition_changed"] == true {
        text.push_str("; condition changed");
    }
    text
}

fn headline(r: &Json) -> String {
    let mut text = format!(
        "{} leads, {} moved ({} up, {} down), {} kept their stage under another rule; {} rejected",
        thousands(get_u(r, "total")),
        thousands(get_u(r, "moved")),
        thousands(get_u(r, "up")),
        thousands(get_u(r, "down")),
        thousands(get_u(r, "same_stage_other_rule")),
        thousands(get_u(r, "rejected")),
    );
    if r["outcome"].is_object() {
        text.push_str(&format!(
            "; {} converted, {} with no outcome (not counted in rates)",
            thousands(get_u(r, "converted")),
            thousands(get_u(r, "outcome_missing"))
        ));
    }
    text
}

/// The last line of `--format csv`, on standard error.
fn summary_line(r: &Json) -> String {
    headline(r)
}

fn human(r: &Json, show: usize) -> String {
    use std::fmt::Write;
    let mut o = String::new();
    let stages = strs(&r["stages"]);
    let shown: Vec<String> = stages.iter().map(|s| plain(s)).collect();
    let with_outcome = r["outcome"].is_object();
    let _ = writeln!(
        o,
        "{} → {} on {}",
        plain(r["old"].as_str().unwrap_or("")),
        plain(r["new"].as_str().unwrap_or("")),
        plain(r["leads_file"].as_str().unwrap_or(""))
    );
    let _ = writeln!(o, "{}", headline(r));

    let _ = writeln!(
        o,
        "\nStage migration (rows: old stage, columns: new stage; cells: leads{})",
        if with_outcome {
            " and conversion rate"
        } else {
            ""
        }
    );
    let first = shown
        .iter()
        .map(|s| s.chars().count())
        .chain([9])
        .max()
        .unwrap_or(9);
    let cell_text = |c: &Json| {
        if with_outcome && get_u(c, "leads") > 0 {
            format!("{} ({})", get_u(c, "leads"), pct(c["rate"].as_f64()))
        } else {
            get_u(c, "leads").to_string()
        }
    };
    let mut width = shown.iter().map(|s| s.chars().count()).max().unwrap_or(1);
    for row in r["matrix"].as_array().into_iter().flatten() {
        for c in row.as_array().into_iter().flatten() {
            width = width.max(cell_text(c).chars().count());
        }
    }
    let _ = write!(o, "  {:<first$}", "old \\ new");
    for s in &shown {
        let _ = write!(o, "  {s:>width$}");
    }
    let _ = writeln!(o);
    for (i, row) in r["matrix"].as_array().into_iter().flatten().enumerate() {
        let _ = write!(o, "  {:<first$}", shown.get(i).map_or("", |s| s.as_str()));
        for c in row.as_array().into_iter().flatten() {
            let _ = write!(o, "  {:>width$}", cell_text(c));
        }
        let _ = writeln!(o);
    }

    let _ = writeln!(o, "\nStages");
    if with_outcome {
        let _ = writeln!(
            o,
            "  {:<first$}  {:>6} {:>6}  {:>8} {:>8}",
            "stage", "old", "new", "old rate", "new rate"
        );
    } else {
        let _ = writeln!(o, "  {:<first$}  {:>6} {:>6}", "stage", "old", "new");
    }
    for s in r["per_stage"].as_array().into_iter().flatten() {
        let name = plain(s["stage"].as_str().unwrap_or(""));
        let _ = write!(
            o,
            "  {name:<first$}  {:>6} {:>6}",
            get_u(s, "old_leads"),
            get_u(s, "new_leads")
        );
        if with_outcome {
            let _ = write!(
                o,
                "  {:>8} {:>8}",
                pct(s["old_rate"].as_f64()),
                pct(s["new_rate"].as_f64())
            );
        }
        let _ = writeln!(o);
    }

    let cells = moved_cells(r);
    if !cells.is_empty() {
        let _ = writeln!(
            o,
            "\nMoved leads (the first {show} of each cell; --format csv lists them all)"
        );
        for (i, j, cell) in cells {
            let n = get_u(cell, "leads");
            let _ = write!(o, "  {} → {}: {} lead(s)", shown[i], shown[j], thousands(n));
            if with_outcome {
                let _ = write!(
                    o,
                    ", {} converted ({})",
                    get_u(cell, "converted"),
                    pct(cell["rate"].as_f64())
                );
            }
            let _ = writeln!(o);
            let listed = leads_of_cell(r, &stages, i, j);
            for m in &listed {
                let (line, key) = lead_label(m, "line");
                let rule = |v: &Json| v.as_str().map_or("(otherwise)".to_string(), plain);
                let _ = write!(o, "    {line}");
                if !key.is_empty() {
                    let _ = write!(o, "  {}", plain(&key));
                }
                let _ = write!(
                    o,
                    "  rule {} → {}",
                    rule(&m["old_rule"]),
                    rule(&m["new_rule"])
                );
                let word = converted_word(&m["converted"]);
                if !word.is_empty() {
                    let _ = write!(o, "  ({word})");
                }
                let _ = writeln!(o);
            }
            if (listed.len() as u64) < n {
                let _ = writeln!(o, "    … and {} more", thousands(n - listed.len() as u64));
            }
        }
    }

    let _ = writeln!(o, "\nRules (leads each decided)");
    let rules: Vec<&Json> = r["rules"].as_array().into_iter().flatten().collect();
    let name_width = rules
        .iter()
        .map(|x| plain(&rule_title(x)).chars().count())
        .chain([20])
        .max()
        .unwrap_or(20);
    let count = |v: &Json| v.as_u64().map_or("–".to_string(), |n| n.to_string());
    let rates = |x: &Json| {
        if with_outcome {
            format!(
                "  {:>8} {:>8}",
                pct(x["old_rate"].as_f64()),
                pct(x["new_rate"].as_f64())
            )
        } else {
            String::new()
        }
    };
    let _ = writeln!(
        o,
        "  {:<name_width$}  {:>6} {:>6}{}  change",
        "rule",
        "old",
        "new",
        if with_outcome {
            format!("  {:>8} {:>8}", "old rate", "new rate")
        } else {
            String::new()
        }
    );
    for x in &rules {
        let _ = writeln!(
            o,
            "  {:<name_width$}  {:>6} {:>6}{}  {}",
            plain(&rule_title(x)),
            count(&x["old_leads"]),
            count(&x["new_leads"]),
            rates(x),
            plain(&change_text(x))
        );
    }
    let ow = &r["otherwise"];
    let _ = writeln!(
        o,
        "  {:<name_width$}  {:>6} {:>6}{}",
        "(no rule: otherwise)",
        get_u(ow, "old_leads"),
        get_u(ow, "new_leads"),
        rates(ow)
    );
    o
}

/// A compact report for a pull-request comment. Every text that comes from
/// a policy or a lead file goes through `md`.
fn markdown(r: &Json, show: usize) -> String {
    use std::fmt::Write;
    let mut o = String::new();
    let stages = strs(&r["stages"]);
    let shown: Vec<String> = stages.iter().map(|s| md(s)).collect();
    let with_outcome = r["outcome"].is_object();
    let _ = writeln!(o, "### Lead qualification policy diff\n");
    let _ = writeln!(
        o,
        "{} → {} on {}: **{}** leads, **{} moved** ({} up, {} down), {} kept their stage under another rule, {} rejected.",
        md_code(r["old"].as_str().unwrap_or("")),
        md_code(r["new"].as_str().unwrap_or("")),
        md_code(r["leads_file"].as_str().unwrap_or("")),
        thousands(get_u(r, "total")),
        thousands(get_u(r, "moved")),
        thousands(get_u(r, "up")),
        thousands(get_u(r, "down")),
        thousands(get_u(r, "same_stage_other_rule")),
        thousands(get_u(r, "rejected")),
    );
    if with_outcome {
        let _ = writeln!(
            o,
            "\nOutcome: {} converted; {} with no outcome (not counted in rates).",
            thousands(get_u(r, "converted")),
            thousands(get_u(r, "outcome_missing"))
        );
    }

    let _ = writeln!(o, "\n| old ＼ new | {} |", shown.join(" | "));
    let _ = writeln!(o, "|:--|{}", "--:|".repeat(shown.len()));
    for (i, row) in r["matrix"].as_array().into_iter().flatten().enumerate() {
        let _ = write!(o, "| **{}** |", shown.get(i).map_or("", |s| s.as_str()));
        for (j, c) in row.as_array().into_iter().flatten().enumerate() {
            let n = get_u(c, "leads");
            let mut text = thousands(n);
            if with_outcome && n > 0 {
                text.push_str(&format!(" ({})", pct(c["rate"].as_f64())));
            }
            if i != j && n > 0 {
                text = format!("**{text}**");
            }
            let _ = write!(o, " {text} |");
        }
        let _ = writeln!(o);
    }
    if with_outcome {
        let _ = writeln!(
            o,
            "\nRows: old stage; columns: new stage; cells: leads (conversion rate)."
        );
        let _ = writeln!(o, "\n| stage | old | new | old rate | new rate |");
        let _ = writeln!(o, "|:--|--:|--:|--:|--:|");
        for x in r["per_stage"].as_array().into_iter().flatten() {
            let _ = writeln!(
                o,
                "| {} | {} | {} | {} | {} |",
                md(x["stage"].as_str().unwrap_or("")),
                thousands(get_u(x, "old_leads")),
                thousands(get_u(x, "new_leads")),
                pct(x["old_rate"].as_f64()),
                pct(x["new_rate"].as_f64())
            );
        }
    } else {
        let _ = writeln!(o, "\nRows: old stage; columns: new stage.");
    }

    let cells = moved_cells(r);
    if !cells.is_empty() && show > 0 {
        let _ = writeln!(o, "\n#### Moved leads (first {show} per cell)\n");
        let _ = write!(o, "| move | lead | rule before | rule after |");
        let _ = writeln!(o, "{}", if with_outcome { " outcome |" } else { "" });
        let _ = writeln!(
            o,
            "|---|---|---|---|{}",
            if with_outcome { "---|" } else { "" }
        );
        for (i, j, cell) in cells {
            let n = get_u(cell, "leads");
            let listed = leads_of_cell(r, &stages, i, j);
            let rule = |v: &Json| v.as_str().map_or("*(otherwise)*".to_string(), md);
            for m in &listed {
                let (line, key) = lead_label(m, "line");
                let lead = if key.is_empty() {
                    line
                } else {
                    format!("{} · {line}", md(&key))
                };
                let _ = write!(
                    o,
                    "| {} → {} | {lead} | {} | {} |",
                    shown[i],
                    shown[j],
                    rule(&m["old_rule"]),
                    rule(&m["new_rule"])
                );
                if with_outcome {
                    let _ = write!(o, " {} |", converted_word(&m["converted"]));
                }
                let _ = writeln!(o);
            }
            if (listed.len() as u64) < n {
                let _ = write!(
                    o,
                    "| {} → {} | … {} more | | |",
                    shown[i],
                    shown[j],
                    thousands(n - listed.len() as u64)
                );
                let _ = writeln!(o, "{}", if with_outcome { " |" } else { "" });
            }
        }
    }

    let rules: Vec<&Json> = r["rules"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|x| x["change"] != "same" || x["condition_changed"] == true)
        .collect();
    let same = r["rules"]
        .as_array()
        .map_or(0, |a| a.len())
        .saturating_sub(rules.len());
    let _ = writeln!(o, "\n#### Rules\n");
    if rules.is_empty() {
        let _ = writeln!(o, "No rule decides more or fewer leads.");
    } else {
        let _ = writeln!(o, "| rule | old | new | change |");
        let _ = writeln!(o, "|---|--:|--:|---|");
        let count = |v: &Json| v.as_u64().map_or("–".to_string(), thousands);
        for x in &rules {
            let _ = writeln!(
                o,
                "| {} | {} | {} | {} |",
                md(&rule_title(x)),
                count(&x["old_leads"]),
                count(&x["new_leads"]),
                md(&change_text(x))
            );
        }
        if same > 0 {
            let _ = writeln!(o, "\n{same} other rule(s) decide as many leads as before.");
        }
    }
    o
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compare_gives_the_json_report() {
        let policy = "examples/salvirt/policy.qual";
        let report = compare(
            policy,
            Path::new(policy),
            Path::new("examples/salvirt/leads.csv"),
            Some("Status=Won"),
            crate::check::policy::date_from_ymd("2026-06-01").unwrap_or(0),
            Some(1),
        )
        .unwrap();
        assert_eq!(report["stages"], json!(["unqualified", "MQL", "SQL"]));
        assert_eq!(report["total"], 60);
        assert_eq!(report["moved"], 0);
        let matrix = report["matrix"].as_array().unwrap();
        assert_eq!(matrix.len(), 3);
        let on_diagonal: u64 = (0..3)
            .map(|i| report["matrix"][i][i]["leads"].as_u64().unwrap())
            .sum();
        assert_eq!(on_diagonal, 60);
        assert!(report["matrix"][0][0]["converted"].is_u64());
        for rule in report["rules"].as_array().unwrap() {
            assert_eq!(rule["change"], "same");
            assert_eq!(rule["old_leads"], rule["new_leads"]);
            assert!(rule["name"].is_string());
        }
        // Without an outcome, `converted` is null.
        let report = compare(
            policy,
            Path::new(policy),
            Path::new("examples/salvirt/leads.csv"),
            None,
            0,
            None,
        )
        .unwrap();
        assert!(report["matrix"][0][0]["converted"].is_null());
        assert!(
            compare(
                policy,
                Path::new("no-such.qual"),
                Path::new("x.csv"),
                None,
                0,
                None
            )
            .is_err()
        );
    }

    #[test]
    fn paths_are_code_spans_nothing_can_end() {
        assert_eq!(md_code("a/b.qual"), "` a/b.qual `");
        assert_eq!(md_code("x``y\nz"), "``` x``y z ```");
    }

    #[test]
    fn markdown_text_cannot_leave_its_cell() {
        assert_eq!(md("a|b"), "a\\|b");
        assert_eq!(md("x\ny"), "x y");
        assert_eq!(md("__b__"), "\\_\\_b\\_\\_");
        assert_eq!(md("@team"), "\\@\u{200B}team");
        assert!(md(&"x".repeat(500)).chars().count() <= MD_CELL + 1);
    }

    #[test]
    fn repository_paths() {
        assert_eq!(repo_path("a/./b/../c.qual").as_deref(), Some("a/c.qual"));
        assert_eq!(repo_path("sub/./x.qual").as_deref(), Some("sub/x.qual"));
        assert_eq!(repo_path("../x.qual"), None);
        assert_eq!(repo_path("."), None);
    }
}
