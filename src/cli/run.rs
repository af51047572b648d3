use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use super::load_policy;
use crate::check::policy::{
    Policy, is_whole, result_column_names, today, unique_name, write_number,
};
use crate::compile::Program;
use crate::eval::{Decision, Machine, Row};
use crate::leads::{
    self, Binding, ColumnProblem, Format as InputFormat, Reject,
    chunks::{self, Chunk},
    output::{self, OutputFile},
};

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum OutputFormat {
    Csv,
    Jsonl,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum InputFormatArg {
    Csv,
    Jsonl,
    Json,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum OnError {
    Fail,
    Skip,
    Reject(PathBuf),
}

pub(crate) fn parse_on_error(text: &str) -> Result<OnError, String> {
    match text {
        "fail" => Ok(OnError::Fail),
        "skip" => Ok(OnError::Skip),
        _ => match text.strip_prefix("reject=") {
            Some(path) if !path.is_empty() => Ok(OnError::Reject(path.into())),
            _ => Err("expected `fail`, `skip` or `reject=FILE`".into()),
        },
    }
}

#[derive(clap::Args)]
pub struct Args {
    /// The policy (.qual) to run.
    policy: PathBuf,
    /// Lead file: CSV, JSON Lines (.jsonl) or a JSON array (.json); `-` for stdin.
    leads: PathBuf,
    /// Where to write results (`-` for stdout, the default).
    #[arg(short, long, value_name = "FILE", default_value = "-")]
    output: PathBuf,
    /// Output format (default: from the output file's extension, else csv).
    #[arg(long, value_enum)]
    format: Option<OutputFormat>,
    /// Input format (default: from the extension, else from the first bytes).
    #[arg(long, value_enum)]
    input_format: Option<InputFormatArg>,
    /// Copy every input column to the output before the results.
    #[arg(long)]
    keep_columns: bool,
    /// Evaluation date for `within N days` (default: today).
    #[arg(long, value_name = "YYYY-MM-DD", value_parser = super::parse_date_arg)]
    as_of: Option<i32>,
    /// What to do with a row that does not fit the schema: stop (`fail`, the
    /// default), leave it out and count it (`skip`), or write it to a file
    /// with the reason (`reject=FILE`).
    #[arg(long, value_name = "fail|skip|reject=FILE", default_value = "fail", value_parser = parse_on_error)]
    on_error: OnError,
    /// Worker threads (default: one per core).
    #[arg(long)]
    threads: Option<usize>,
    /// No progress bar and no summary.
    #[arg(short, long)]
    quiet: bool,
}

/// What a worker hands back for one chunk, in input order.
struct ChunkResult {
    output: Vec<u8>,
    rejects: Vec<Reject>,
    /// Leads per stage; the last entry counts leads with no stage.
    stages: Vec<u64>,
    /// Leads in `output`.
    rows: u64,
    /// At the first reject: the output bytes and leads before it (with
    /// `--on-error fail`, nothing after it is written).
    cut: Option<(usize, u64)>,
    /// The first JSON key (with its line) that `--keep-columns` does not
    /// keep, because the first record did not have it.
    unkept: Option<(u64, String)>,
}

/// Everything a worker needs to turn records into output rows.
struct Job<'a> {
    /// Names of the input columns written before the results (all of them
    /// with `--keep-columns`, else the key columns), as written.
    input_names: Vec<String>,
    /// With `--keep-columns` and JSON input: the keys kept (the first
    /// record's, and the columns the policy reads).
    kept_keys: Vec<String>,
    /// Names of the result columns (see `result_column_names`).
    result_names: Vec<String>,
    /// Rule names as they appear in results.
    rule_names: Vec<String>,
    /// Stage and rule names as CSV cells (quoted where needed).
    stage_cells: Vec<Vec<u8>>,
    rule_cells: Vec<Vec<u8>>,
    policy: &'a Policy,
    program: &'a Program,
    binding: &'a Binding,
    format: InputFormat,
    output: OutputFormat,
    keep_columns: bool,
}

/// Where the results go.
enum Sink {
    Stdout,
    File(OutputFile),
}

impl Sink {
    fn write(&mut self, bytes: &[u8], leads: u64) -> std::io::Result<()> {
        match self {
            Sink::Stdout => output::write_stdout(bytes, leads),
            Sink::File(file) => file.write_all(bytes),
        }
    }
}

/// Refuse to write over the lead file, or to write results and rejects to
/// one file: either would destroy data (the input is truncated before it is
/// read; the rejects overwrite the results).
fn check_paths(args: &Args) -> Result<(), String> {
    let input = if args.leads.as_os_str() == "-" {
        output::std_stream_path(false)
    } else {
        Some(args.leads.clone())
    };
    let to_stdout = args.output.as_os_str() == "-";
    let reject = match &args.on_error {
        OnError::Reject(path) => Some(path),
        _ => None,
    };
    if let Some(input) = &input {
        if !to_stdout && output::same_file(&args.output, input) {
            return Err(format!(
                "-o {} is the lead file itself: the results would replace the leads; write them to another file",
                args.output.display()
            ));
        }
        if let Some(reject) = reject {
            if output::same_file(reject, input) {
                return Err(format!(
                    "--on-error reject={} is the lead file itself: the rejected rows would replace the leads; write them to another file",
                    reject.display()
                ));
            }
        }
        if to_stdout {
            if let Some(stdout) = output::std_stream_path(true) {
                if output::same_file(&stdout, input) {
                    return Err(format!(
                        "standard output goes to the lead file {} itself (`> {}` has already emptied it, `>>` would read its own results); write the results to another file",
                        args.leads.display(),
                        args.leads.display()
                    ));
                }
            }
        }
    }
    if let Some(reject) = reject {
        if reject.as_os_str() == "-" {
            return Err(
                "--on-error reject=- : rejected rows go to a file; results go to standard output"
                    .into(),
            );
        }
        if !to_stdout && output::same_file(&args.output, reject) {
            return Err(format!(
                "-o {} and --on-error reject={} are the same file: the rejected rows would overwrite the results; give them different files",
                args.output.display(),
                reject.display()
            ));
        }
    }
    Ok(())
}

pub fn run(args: Args) -> Result<ExitCode, String> {
    // Before any thread starts, so that every thread leaves the signals to
    // the one that cleans up.
    output::catch_signals();
    let started = Instant::now();
    let as_of = args.as_of.unwrap_or_else(today);
    let Some(policy) = load_policy(&args.policy)? else {
        return Ok(ExitCode::from(1));
    };
    let program = Program::compile(&policy);
    check_paths(&args)?;
    let input_format = args.input_format.map(|f| match f {
        InputFormatArg::Csv => InputFormat::Csv { delimiter: b',' },
        InputFormatArg::Jsonl => InputFormat::JsonLines,
        InputFormatArg::Json => InputFormat::JsonArray,
    });
    let mut input = leads::open(&args.leads, input_format)?;
    let binding = match input.binding(&policy, &program)? {
        Ok(binding) => binding,
        Err(problems) => {
            let missing = problems
                .iter()
                .filter(|p| matches!(p, ColumnProblem::Missing { .. }))
                .count();
            if missing == problems.len() {
                eprintln!(
                    "error: {}: the lead file lacks {} column(s) the policy needs:",
                    input.name, missing
                );
            } else {
                eprintln!(
                    "error: {}: {} column(s) the policy needs cannot be read:",
                    input.name,
                    problems.len()
                );
            }
            for p in &problems {
                eprintln!("  - {p}");
            }
            if missing > 0 {
                eprintln!(
                    "help: rename the column in the file, or change the field's `from \"…\"` in {}",
                    args.policy.display()
                );
            }
            if missing < problems.len() {
                eprintln!("help: rename one of the two columns in the file");
            }
            return Ok(ExitCode::from(1));
        }
    };
    let output_format =
        args.format
            .unwrap_or_else(|| match args.output.extension().and_then(|e| e.to_str()) {
                Some("jsonl" | "ndjson" | "json") => OutputFormat::Jsonl,
                _ => OutputFormat::Csv,
            });

    // The input columns written before the results, under names that are
    // unique (JSON keys must be).
    let mut kept_keys = Vec::new();
    let input_names: Vec<String> = if args.keep_columns {
        match input.format {
            InputFormat::Csv { .. } => {
                let mut names = binding.columns.clone();
                for d in &binding.duplicates {
                    // The new name may itself be a column of the file
                    // (`Notes (column 5)`): mark it until it is unique, or
                    // one of the two cells would be lost.
                    let mut name = format!("{} (column {})", d.name, d.second + 1);
                    while names.contains(&name) {
                        name.push('\'');
                    }
                    names[d.second] = name;
                }
                names
            }
            InputFormat::JsonLines | InputFormat::JsonArray => {
                kept_keys = input.columns()?;
                for column in &binding.columns {
                    if leads::json_get_name(&kept_keys, column).is_none() {
                        kept_keys.push(column.clone());
                    }
                }
                kept_keys.clone()
            }
        }
    } else {
        binding
            .keys
            .iter()
            .map(|(_, col)| binding.columns[*col].clone())
            .collect()
    };
    if !args.quiet {
        for d in &binding.duplicates {
            let mut text = format!(
                "warning: {}: the header has \"{}\" twice, as columns {} and {}",
                input.name,
                d.name,
                d.first + 1,
                d.second + 1
            );
            if args.keep_columns {
                text.push_str(&format!(
                    "; the output calls the second \"{}\"",
                    input_names[d.second]
                ));
            }
            eprintln!("{text}");
        }
    }

    let to_stdout = args.output.as_os_str() == "-";
    let mut out = if to_stdout {
        output::writing_to_stdout();
        Sink::Stdout
    } else {
        Sink::File(OutputFile::create(&args.output)?)
    };
    let job = Job {
        result_names: result_column_names(&policy, &input_names),
        input_names,
        kept_keys,
        rule_names: policy.rules.iter().map(|r| r.display_name()).collect(),
        stage_cells: policy.stages.iter().map(|s| csv_cell(&s.name)).collect(),
        rule_cells: policy
            .rules
            .iter()
            .map(|r| csv_cell(&r.display_name()))
            .collect(),
        policy: &policy,
        program: &program,
        binding: &binding,
        format: input.format,
        output: output_format,
        keep_columns: args.keep_columns,
    };
    let shown_output = if to_stdout {
        "standard output".to_string()
    } else {
        args.output.display().to_string()
    };
    if output_format == OutputFormat::Csv {
        out.write(&job.csv_header(), 0)
            .map_err(|e| format!("{shown_output}: {e}"))?;
    }
    let mut rejects_out = match &args.on_error {
        OnError::Reject(path) => Some(create_rejects(path, input.format, &binding.columns)?),
        _ => None,
    };

    let progress = progress_bar(input.size, args.quiet);
    let threads = args.threads.unwrap_or_else(|| {
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(2)
    });
    let unit = if input.format == InputFormat::JsonArray {
        "element"
    } else {
        "line"
    };
    let fail = args.on_error == OnError::Fail;
    let mut stages = vec![0u64; policy.stages.len() + 1];
    let (mut rejected, mut rejected_lines, mut shown) = (0u64, 0u64, 0usize);
    // With `--on-error fail`: the first bad row, and the leads after it
    // (read and checked, but not written).
    let mut first_bad: Option<Reject> = None;
    let (mut written, mut after) = (0u64, 0u64);
    let mut unkept: Option<(u64, String)> = None;
    let mut io_error: Option<String> = None;
    let array_error = input.array_error.clone();
    let pb = progress.clone();
    let say = |text: &str| match &pb {
        Some(pb) => pb.suspend(|| eprintln!("{text}")),
        None => eprintln!("{text}"),
    };
    let split = leads::pipeline::run(
        input.splitter,
        threads,
        || {
            let mut row = Row::new(policy.fields.len());
            let mut machine = Machine::new(&program, as_of);
            let job = &job;
            move |chunk: &Chunk| job.process(chunk, &mut row, &mut machine)
        },
        |result: ChunkResult| {
            if unkept.is_none() {
                unkept = result.unkept.clone();
            }
            if first_bad.is_none() {
                let (bytes, leads) = match result.cut {
                    Some((len, leads)) if fail => (&result.output[..len], leads),
                    _ => (&result.output[..], result.rows),
                };
                if let Err(e) = out.write(bytes, leads) {
                    io_error = Some(if e.kind() == std::io::ErrorKind::BrokenPipe {
                        String::new()
                    } else {
                        format!("{shown_output}: {e}")
                    });
                    return false;
                }
                written += leads;
                after += result.rows - leads;
                for (total, n) in stages.iter_mut().zip(&result.stages) {
                    *total += n;
                }
            } else {
                after += result.rows;
            }
            for reject in result.rejects {
                rejected += 1;
                rejected_lines += reject.lines();
                let text = reject.describe(unit);
                if shown < 10 && (fail || !args.quiet) {
                    if fail {
                        say(&format!("error: {}: {text}", input.name));
                    } else {
                        say(&format!("warning: {text}"));
                    }
                    shown += 1;
                }
                if let Some(file) = &mut rejects_out {
                    if let Err(e) = write_reject(file, &reject, job.format, binding.columns.len()) {
                        io_error = Some(format!("{}: {e}", file.shown().display()));
                        return false;
                    }
                }
                if fail && first_bad.is_none() {
                    first_bad = Some(reject);
                }
            }
            true
        },
        move |bytes| {
            if let Some(pb) = &progress {
                pb.set_position(bytes);
            }
        },
    );
    if let Some(pb) = &pb {
        pb.finish_and_clear();
    }
    if let Err(e) = split {
        return Err(format!("{}: {e}", input.name));
    }
    if let Some(e) = io_error {
        if e.is_empty() {
            // Standard output was closed (`qualify run … | head`): end
            // quietly, as SIGPIPE would, with nothing left behind.
            return Ok(ExitCode::from(141));
        }
        return Err(e);
    }
    let left = |out: &Sink, rejects_out: &Option<OutputFile>| -> String {
        let mut files: Vec<String> = Vec::new();
        if let Sink::File(file) = out {
            files.push(file.left_as());
        }
        if let Some(file) = rejects_out {
            files.push(file.left_as());
        }
        files.join(" or ")
    };
    let array_error = array_error.and_then(|slot| slot.lock().unwrap().take());
    if let Some(first) = &first_bad {
        if shown < rejected as usize {
            eprintln!(
                "… and {} more bad row(s) not shown",
                thousands(rejected - shown as u64)
            );
        }
        let mut bad = plural(rejected, "bad row");
        if rejected_lines > rejected {
            bad.push_str(&format!(" ({} lines)", thousands(rejected_lines)));
        }
        let outcome = match &out {
            Sink::Stdout => format!(
                "the results on standard output stop before {unit} {}: {} before it {} written; {} and {} from there on were not",
                first.line,
                plural(written, "lead"),
                if written == 1 { "was" } else { "were" },
                plural(after, "lead"),
                plural(rejected, "bad row"),
            ),
            Sink::File(_) => format!("nothing was written to {}", left(&out, &rejects_out)),
        };
        eprintln!(
            "error: {}: {bad}; with `--on-error fail` {outcome}",
            input.name
        );
        eprintln!(
            "help: fix the row(s), or run with `--on-error reject=rejects.csv` to set bad rows aside and go on"
        );
        return Ok(ExitCode::from(1));
    }
    if let Some(error) = array_error {
        let outcome = match &out {
            Sink::Stdout => format!(
                "the results on standard output stop there, after {}",
                plural(written, "lead")
            ),
            Sink::File(_) => format!("nothing was written to {}", left(&out, &rejects_out)),
        };
        eprintln!("error: {}: {error}; {outcome}", input.name);
        return Ok(ExitCode::from(1));
    }
    {
        let mut files: Vec<&mut OutputFile> = Vec::new();
        if let Sink::File(file) = &mut out {
            files.push(file);
        }
        if let Some(file) = &mut rejects_out {
            files.push(file);
        }
        output::commit(&mut files)?;
    }
    if !args.quiet {
        if let Some((line, key)) = &unkept {
            eprintln!(
                "warning: {}: {unit} {line} has a key \"{key}\" that the first record lacks; --keep-columns keeps the first record's keys only",
                input.name
            );
        }
        if binding.keys.is_empty() && !args.keep_columns {
            eprintln!(
                "note: no field is marked `key`, so the results carry no lead ID; they are in input order (mark the ID field `key`, or use --keep-columns)"
            );
        }
        let leads: u64 = stages.iter().sum();
        let mut parts: Vec<String> = policy
            .stages
            .iter()
            .zip(&stages)
            .map(|(s, n)| format!("{} {}", s.name, thousands(*n)))
            .collect();
        if stages[policy.stages.len()] > 0 {
            parts.push(format!(
                "no stage {}",
                thousands(stages[policy.stages.len()])
            ));
        }
        let lines = if rejected_lines > rejected {
            format!("{} lines; ", thousands(rejected_lines))
        } else {
            String::new()
        };
        let rejects = match &args.on_error {
            OnError::Reject(path) => format!(
                "{} rejected ({lines}written to {})",
                thousands(rejected),
                path.display()
            ),
            OnError::Skip => format!("{} rejected ({lines}skipped)", thousands(rejected)),
            OnError::Fail => "0 rejected".to_string(),
        };
        if shown < rejected as usize {
            eprintln!(
                "… and {} more bad row(s) not shown",
                thousands(rejected - shown as u64)
            );
        }
        eprintln!(
            "{} lead{}: {}; {rejects}; {:.2} s",
            thousands(leads),
            if leads == 1 { "" } else { "s" },
            parts.join(" · "),
            started.elapsed().as_secs_f64()
        );
    }
    Ok(ExitCode::SUCCESS)
}

impl Job<'_> {
    fn csv_header(&self) -> Vec<u8> {
        let mut w = csv::Writer::from_writer(Vec::new());
        let names = self.input_names.iter().chain(&self.result_names);
        let _ = w.write_record(names);
        w.into_inner().unwrap_or_default()
    }

    fn process(&self, chunk: &Chunk, row: &mut Row, machine: &mut Machine) -> ChunkResult {
        let mut result = ChunkResult {
            output: Vec::with_capacity(chunk.data.len() / 4),
            rejects: Vec::new(),
            stages: vec![0; self.policy.stages.len() + 1],
            rows: 0,
            cut: None,
            unkept: None,
        };
        match self.format {
            InputFormat::Csv { delimiter } => {
                let mut w = csv::WriterBuilder::new().from_writer(Vec::new());
                let direct = !(self.output == OutputFormat::Csv && delimiter != b',');
                let mut number = String::new();
                leads::for_each_csv_record(chunk, delimiter, |lines, record| {
                    let reject = match record {
                        Err(reject) => Some(reject),
                        Ok(record) => match self.binding.read_csv(self.program, &record, row) {
                            Err(mut reject) => {
                                (reject.line, reject.last_line) = record.span(lines);
                                Some(reject)
                            }
                            Ok(()) => {
                                let decision = machine.run(self.program, row);
                                self.count(&mut result, decision);
                                self.write_csv_row(
                                    &mut result.output,
                                    &mut w,
                                    record.cells,
                                    delimiter,
                                    decision,
                                    machine,
                                    &mut number,
                                );
                                None
                            }
                        },
                    };
                    if let Some(reject) = reject {
                        if result.cut.is_none() {
                            let len = if direct {
                                result.output.len()
                            } else {
                                let _ = w.flush();
                                w.get_ref().len()
                            };
                            result.cut = Some((len, result.rows));
                        }
                        result.rejects.push(reject);
                    }
                });
                if !direct {
                    result.output = w.into_inner().unwrap_or_default();
                }
            }
            InputFormat::JsonLines | InputFormat::JsonArray => {
                let mut w = csv::WriterBuilder::new().from_writer(Vec::new());
                leads::for_each_json_line(chunk, |line, raw, object| {
                    let reject = match object {
                        Err(reject) => Some(reject),
                        Ok(object) => {
                            match self
                                .binding
                                .read_json(self.program, &object, line, raw, row)
                            {
                                Err(reject) => Some(reject),
                                Ok(()) => {
                                    let decision = machine.run(self.program, row);
                                    self.count(&mut result, decision);
                                    if self.keep_columns && result.unkept.is_none() {
                                        result.unkept = self.unkept_key(&object).map(|k| (line, k));
                                    }
                                    self.write_json_row(
                                        &mut result.output,
                                        &mut w,
                                        object,
                                        decision,
                                        machine,
                                    );
                                    None
                                }
                            }
                        }
                    };
                    if let Some(reject) = reject {
                        if result.cut.is_none() {
                            let len = if self.output == OutputFormat::Csv {
                                let _ = w.flush();
                                w.get_ref().len()
                            } else {
                                result.output.len()
                            };
                            result.cut = Some((len, result.rows));
                        }
                        result.rejects.push(reject);
                    }
                });
                if self.output == OutputFormat::Csv {
                    result.output = w.into_inner().unwrap_or_default();
                }
            }
        }
        result
    }

    /// One output row for a CSV record.
    #[allow(clippy::too_many_arguments)]
    fn write_csv_row(
        &self,
        out: &mut Vec<u8>,
        w: &mut csv::Writer<Vec<u8>>,
        record: &simd_csv::ZeroCopyByteRecord<'_>,
        delimiter: u8,
        decision: Decision,
        machine: &Machine,
        number: &mut String,
    ) {
        match self.output {
            // Comma-separated in and out: cells are already valid CSV,
            // quotes and all, so they are copied as they are.
            OutputFormat::Csv if delimiter == b',' => {
                if self.keep_columns {
                    out.extend_from_slice(chunks::trim_line_end(record.as_slice()));
                    out.push(b',');
                } else {
                    for (_, c) in &self.binding.keys {
                        out.extend_from_slice(record.get(*c).unwrap_or_default());
                        out.push(b',');
                    }
                }
                self.push_csv_results(out, decision, machine, number);
            }
            OutputFormat::Csv => {
                if self.keep_columns {
                    for c in 0..record.len() {
                        let _ = w.write_field(record.unescape(c).unwrap_or_default());
                    }
                } else {
                    for (_, c) in &self.binding.keys {
                        let _ = w.write_field(record.unescape(*c).unwrap_or_default());
                    }
                }
                self.write_csv_results(w, decision, machine);
            }
            OutputFormat::Jsonl => {
                let mut map = serde_json::Map::new();
                let mut keep = |c: usize, name: &String| {
                    let cell = record.unescape(c).unwrap_or_default();
                    map.insert(
                        name.clone(),
                        String::from_utf8_lossy(&cell).into_owned().into(),
                    );
                };
                if self.keep_columns {
                    for (c, name) in self.input_names.iter().enumerate() {
                        keep(c, name);
                    }
                } else {
                    for ((_, c), name) in self.binding.keys.iter().zip(&self.input_names) {
                        keep(*c, name);
                    }
                }
                self.write_json_results(out, map, decision, machine);
            }
        }
    }

    /// One output row for a JSON record.
    fn write_json_row(
        &self,
        out: &mut Vec<u8>,
        w: &mut csv::Writer<Vec<u8>>,
        object: serde_json::Map<String, serde_json::Value>,
        decision: Decision,
        machine: &Machine,
    ) {
        let names: &[String] = if self.keep_columns {
            &self.kept_keys
        } else {
            &self.input_names
        };
        let kept = names
            .iter()
            .map(|name| (name, leads::json_get(&object, name)));
        match self.output {
            OutputFormat::Csv => {
                for (_, value) in kept {
                    let text = match value {
                        Some(serde_json::Value::String(s)) => s.clone(),
                        None | Some(serde_json::Value::Null) => String::new(),
                        Some(other) => other.to_string(),
                    };
                    let _ = w.write_field(text);
                }
                self.write_csv_results(w, decision, machine);
            }
            OutputFormat::Jsonl => {
                let map = kept
                    .map(|(name, value)| (name.clone(), value.cloned().unwrap_or_default()))
                    .collect();
                self.write_json_results(out, map, decision, machine);
            }
        }
    }

    /// A key of `object` that `--keep-columns` does not keep.
    fn unkept_key(&self, object: &serde_json::Map<String, serde_json::Value>) -> Option<String> {
        object
            .keys()
            .find(|k| leads::json_get_name(&self.kept_keys, k).is_none())
            .cloned()
    }

    fn count(&self, result: &mut ChunkResult, decision: Decision) {
        let i = decision.stage.unwrap_or(self.policy.stages.len());
        result.stages[i] += 1;
        result.rows += 1;
    }

    /// The result columns, written straight into the output: stage and
    /// rule names are escaped once, in `Job::new`.
    fn push_csv_results(&self, out: &mut Vec<u8>, d: Decision, m: &Machine, number: &mut String) {
        if let Some(s) = d.stage {
            out.extend_from_slice(&self.stage_cells[s]);
        }
        for score in &m.scores {
            number.clear();
            write_number(number, *score);
            out.push(b',');
            out.extend_from_slice(number.as_bytes());
        }
        out.push(b',');
        if let Some(r) = d.rule {
            out.extend_from_slice(&self.rule_cells[r]);
        }
        out.push(b'\n');
    }

    fn write_csv_results(&self, w: &mut csv::Writer<Vec<u8>>, d: Decision, m: &Machine) {
        let stage = d.stage.map_or("", |s| self.policy.stages[s].name.as_str());
        let _ = w.write_field(stage);
        let mut buf = String::new();
        for score in &m.scores {
            buf.clear();
            write_number(&mut buf, *score);
            let _ = w.write_field(&buf);
        }
        let rule = d.rule.map_or("", |r| self.rule_names[r].as_str());
        let _ = w.write_field(rule);
        let _ = w.write_record(None::<&[u8]>);
    }

    fn write_json_results(
        &self,
        out: &mut Vec<u8>,
        mut map: serde_json::Map<String, serde_json::Value>,
        d: Decision,
        m: &Machine,
    ) {
        let names = &self.result_names;
        let stage = d
            .stage
            .map(|s| self.policy.stages[s].name.clone().into())
            .unwrap_or(serde_json::Value::Null);
        map.insert(names[0].clone(), stage);
        for (i, score) in m.scores.iter().enumerate() {
            let value = serde_json::Number::from_f64(*score)
                .map(|n| {
                    if is_whole(*score) {
                        serde_json::Value::from(*score as i64)
                    } else {
                        serde_json::Value::Number(n)
                    }
                })
                .unwrap_or_default();
            map.insert(names[i + 1].clone(), value);
        }
        let rule = d
            .rule
            .map(|r| self.policy.rules[r].display_name().into())
            .unwrap_or(serde_json::Value::Null);
        map.insert(names[names.len() - 1].clone(), rule);
        let _ = serde_json::to_writer(&mut *out, &map);
        out.push(b'\n');
    }
}

/// `1 lead`, `2,000 leads`.
fn plural(n: u64, what: &str) -> String {
    format!("{} {what}{}", thousands(n), if n == 1 { "" } else { "s" })
}

/// One value as a CSV cell, quoted by the `csv` crate's rules.
fn csv_cell(text: &str) -> Vec<u8> {
    let mut w = csv::Writer::from_writer(Vec::new());
    let _ = w.write_field(text);
    let _ = w.write_record(None::<&[u8]>);
    let mut cell = w.into_inner().unwrap_or_default();
    cell.pop();
    cell
}

/// A rejected record in the rejects file. CSV: the record as it was, then
/// `qualify_line` and `qualify_error`, with exactly as many cells as the
/// header has: a record with too few cells gets empty ones; with too many,
/// the last column holds the rest of the record as one cell (its text as it
/// was). A record whose quotes the `csv` crate reads differently from their
/// look (a quote inside a field, an unclosed quote) is written re-quoted.
pub(crate) fn write_reject(
    out: &mut impl Write,
    reject: &Reject,
    format: InputFormat,
    columns: usize,
) -> std::io::Result<()> {
    let line = match format {
        InputFormat::Csv { delimiter } => {
            let columns = columns.max(1);
            let split = leads::split_record(&reject.raw, delimiter);
            let cells = split.values.len();
            let mut line = Vec::with_capacity(reject.raw.len() + 64);
            if !split.irregular && cells <= columns {
                line.extend_from_slice(&reject.raw);
            } else {
                let whole = if cells > columns { columns - 1 } else { cells };
                for (i, value) in split.values[..whole].iter().enumerate() {
                    if i > 0 {
                        line.push(delimiter);
                    }
                    leads::write_cell(&mut line, value, delimiter);
                }
                if cells > columns {
                    if whole > 0 {
                        line.push(delimiter);
                    }
                    let rest = &reject.raw[split.starts[columns - 1]..];
                    leads::write_cell(&mut line, rest, delimiter);
                }
            }
            for _ in cells..columns {
                line.push(delimiter);
            }
            line.push(delimiter);
            line.extend_from_slice(reject.line.to_string().as_bytes());
            line.push(delimiter);
            leads::write_cell(&mut line, reject.to_string().as_bytes(), delimiter);
            line.push(b'\n');
            line
        }
        InputFormat::JsonLines | InputFormat::JsonArray => {
            let record =
                serde_json::from_slice::<serde_json::Value>(&reject.raw).unwrap_or_else(|_| {
                    serde_json::Value::String(String::from_utf8_lossy(&reject.raw).into_owned())
                });
            let mut line = serde_json::to_vec(&serde_json::json!({
                "line": reject.line,
                "error": reject.describe(if format == InputFormat::JsonArray { "element" } else { "line" }),
                "record": record,
            }))
            .unwrap_or_default();
            line.push(b'\n');
            line
        }
    };
    out.write_all(&line)
}

fn progress_bar(size: Option<u64>, quiet: bool) -> Option<indicatif::ProgressBar> {
    if quiet || !std::io::stderr().is_terminal() {
        return None;
    }
    let pb = match size {
        Some(size) => indicatif::ProgressBar::new(size).with_style(
            indicatif::ProgressStyle::with_template(
                "{bar:40} {bytes}/{total_bytes} {bytes_per_sec} eta {eta}",
            )
            .ok()?,
        ),
        None => indicatif::ProgressBar::new_spinner(),
    };
    // Short runs finish before the bar would show.
    pb.set_draw_target(indicatif::ProgressDrawTarget::stderr_with_hz(4));
    Some(pb)
}

pub(crate) use crate::check::thousands;

/// A rejects file (written atomically, see `OutputFile`); for CSV input it
/// starts with the input's header plus `qualify_line` and `qualify_error`,
/// renamed if the input already has such columns.
pub(crate) fn create_rejects(
    path: &Path,
    format: InputFormat,
    columns: &[String],
) -> Result<OutputFile, String> {
    let mut file = OutputFile::create(path)?;
    if let InputFormat::Csv { delimiter } = format {
        let mut names = columns.to_vec();
        for extra in ["qualify_line", "qualify_error"] {
            names.push(unique_name(extra, &names));
        }
        let mut header = Vec::new();
        for (i, name) in names.iter().enumerate() {
            if i > 0 {
                header.push(delimiter);
            }
            leads::write_cell(&mut header, name.as_bytes(), delimiter);
        }
        header.push(b'\n');
        file.write_all(&header)
            .map_err(|e| format!("{}: {e}", path.display()))?;
    }
    Ok(file)
}
