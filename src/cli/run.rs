use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use super::load_policy;
use crate::check::policy::{Policy, is_whole, today, write_number};
use crate::compile::Program;
use crate::eval::{Decision, Machine, Row};
use crate::leads::{
    self, Binding, Format as InputFormat, Reject,
    chunks::{self, Chunk},
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

fn parse_on_error(text: &str) -> Result<OnError, String> {
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
}

/// Everything a worker needs to turn records into output rows.
struct Job<'a> {
    /// Names of the result columns (see `result_names`).
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

pub fn run(args: Args) -> Result<ExitCode, String> {
    let started = Instant::now();
    let as_of = args.as_of.unwrap_or_else(today);
    let Some(policy) = load_policy(&args.policy)? else {
        return Ok(ExitCode::from(1));
    };
    let program = Program::compile(&policy);
    let input_format = args.input_format.map(|f| match f {
        InputFormatArg::Csv => InputFormat::Csv { delimiter: b',' },
        InputFormatArg::Jsonl => InputFormat::JsonLines,
        InputFormatArg::Json => InputFormat::JsonArray,
    });
    let mut input = leads::open(&args.leads, input_format)?;
    let binding = match input.binding(&policy, &program)? {
        Ok(binding) => binding,
        Err(missing) => {
            eprintln!(
                "error: {}: the lead file lacks {} column(s) the policy needs:",
                input.name,
                missing.len()
            );
            for m in &missing {
                eprintln!("  - {m}");
            }
            eprintln!(
                "help: rename the column in the file, or change the field's `from \"…\"` in {}",
                args.policy.display()
            );
            return Ok(ExitCode::from(1));
        }
    };
    let output_format =
        args.format
            .unwrap_or_else(|| match args.output.extension().and_then(|e| e.to_str()) {
                Some("jsonl" | "ndjson" | "json") => OutputFormat::Jsonl,
                _ => OutputFormat::Csv,
            });
    let to_stdout = args.output.as_os_str() == "-";
    let mut out: Box<dyn Write> = if to_stdout {
        Box::new(std::io::BufWriter::with_capacity(
            1 << 20,
            std::io::stdout().lock(),
        ))
    } else {
        Box::new(std::io::BufWriter::with_capacity(
            1 << 20,
            std::fs::File::create(&args.output)
                .map_err(|e| format!("{}: {e}", args.output.display()))?,
        ))
    };
    let job = Job {
        result_names: result_names(&policy, &binding, args.keep_columns),
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
    if output_format == OutputFormat::Csv {
        out.write_all(&job.csv_header())
            .map_err(|e| e.to_string())?;
    }
    let mut rejects_out = match &args.on_error {
        OnError::Reject(path) => {
            let mut file = std::io::BufWriter::new(
                std::fs::File::create(path).map_err(|e| format!("{}: {e}", path.display()))?,
            );
            if let InputFormat::Csv { delimiter } = input.format {
                let mut header = csv::WriterBuilder::new()
                    .delimiter(delimiter)
                    .from_writer(Vec::new());
                let mut names = binding.columns.clone();
                names.extend(["qualify_line".to_string(), "qualify_error".to_string()]);
                header.write_record(&names).map_err(|e| e.to_string())?;
                file.write_all(&header.into_inner().map_err(|e| e.to_string())?)
                    .map_err(|e| e.to_string())?;
            }
            Some(file)
        }
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
    let mut stages = vec![0u64; policy.stages.len() + 1];
    let (mut rejected, mut shown) = (0u64, 0usize);
    let mut failure: Option<String> = None;
    let mut io_error: Option<String> = None;
    let array_error = input.array_error.clone();
    let pb = progress.clone();
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
            for (total, n) in stages.iter_mut().zip(&result.stages) {
                *total += n;
            }
            if let Err(e) = out.write_all(&result.output) {
                io_error = Some(format!("{}: {e}", args.output.display()));
                return false;
            }
            for reject in &result.rejects {
                rejected += 1;
                let text = reject.describe(unit);
                match &args.on_error {
                    OnError::Fail => {
                        failure = Some(text);
                        return false;
                    }
                    OnError::Skip | OnError::Reject(_) => {
                        if shown < 10 && !args.quiet {
                            match &pb {
                                Some(pb) => pb.suspend(|| eprintln!("warning: {text}")),
                                None => eprintln!("warning: {text}"),
                            }
                            shown += 1;
                        }
                    }
                }
                if let Some(file) = &mut rejects_out {
                    if let Err(e) = write_reject(file, reject, job.format) {
                        io_error = Some(e);
                        return false;
                    }
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
    out.flush()
        .map_err(|e| format!("{}: {e}", args.output.display()))?;
    drop(out);
    if let Some(file) = &mut rejects_out {
        file.flush().map_err(|e| e.to_string())?;
    }
    if let Err(e) = split {
        return Err(format!("{}: {e}", input.name));
    }
    if let Some(e) = io_error {
        return Err(e);
    }
    if let Some(text) = failure {
        if !to_stdout {
            let _ = std::fs::remove_file(&args.output);
        }
        eprintln!("error: {}: {text}", input.name);
        eprintln!(
            "help: fix the row, or run with `--on-error reject=rejects.csv` to set bad rows aside and go on"
        );
        return Ok(ExitCode::from(1));
    }
    if let Some(error) = array_error.and_then(|slot| slot.lock().unwrap().take()) {
        eprintln!("error: {}: {error}", input.name);
        return Ok(ExitCode::from(1));
    }
    if !args.quiet {
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
        let rejects = match &args.on_error {
            OnError::Reject(path) => format!(
                "{} rejected (written to {})",
                thousands(rejected),
                path.display()
            ),
            OnError::Skip => format!("{} rejected (skipped)", thousands(rejected)),
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
        let mut names: Vec<String> = if self.keep_columns {
            self.binding.columns.clone()
        } else {
            self.binding
                .keys
                .iter()
                .map(|(_, col)| self.binding.columns[*col].clone())
                .collect()
        };
        names.extend(self.result_names.iter().cloned());
        let mut w = csv::Writer::from_writer(Vec::new());
        let _ = w.write_record(&names);
        w.into_inner().unwrap_or_default()
    }

    fn process(&self, chunk: &Chunk, row: &mut Row, machine: &mut Machine) -> ChunkResult {
        let mut result = ChunkResult {
            output: Vec::with_capacity(chunk.data.len() / 4),
            rejects: Vec::new(),
            stages: vec![0; self.policy.stages.len() + 1],
        };
        match self.format {
            InputFormat::Csv { delimiter } => {
                let mut w = csv::WriterBuilder::new().from_writer(Vec::new());
                let mut number = String::new();
                leads::for_each_csv_record(chunk, delimiter, |lines, start, record| {
                    let record = match record {
                        Ok(r) => r,
                        Err(reject) => return result.rejects.push(reject),
                    };
                    if let Err(mut reject) = self.binding.read_csv(self.program, record, row) {
                        reject.line = lines.at(start);
                        return result.rejects.push(reject);
                    }
                    let decision = machine.run(self.program, row);
                    self.count(&mut result, decision);
                    match self.output {
                        // Comma-separated in and out: cells are already valid
                        // CSV, quotes and all, so they are copied as they are.
                        OutputFormat::Csv if delimiter == b',' => {
                            let out = &mut result.output;
                            if self.keep_columns {
                                out.extend_from_slice(chunks::trim_line_end(record.as_slice()));
                                out.push(b',');
                            } else {
                                for (_, c) in &self.binding.keys {
                                    out.extend_from_slice(record.get(*c).unwrap_or_default());
                                    out.push(b',');
                                }
                            }
                            self.push_csv_results(out, decision, machine, &mut number);
                        }
                        OutputFormat::Csv => {
                            let cells: Vec<usize> = if self.keep_columns {
                                (0..record.len()).collect()
                            } else {
                                self.binding.keys.iter().map(|(_, c)| *c).collect()
                            };
                            for c in cells {
                                let _ = w.write_field(record.unescape(c).unwrap_or_default());
                            }
                            self.write_csv_results(&mut w, decision, machine);
                        }
                        OutputFormat::Jsonl => {
                            let mut map = serde_json::Map::new();
                            let cells: Vec<usize> = if self.keep_columns {
                                (0..record.len()).collect()
                            } else {
                                self.binding.keys.iter().map(|(_, c)| *c).collect()
                            };
                            for c in cells {
                                let cell = record.unescape(c).unwrap_or_default();
                                map.insert(
                                    self.binding.columns[c].clone(),
                                    String::from_utf8_lossy(&cell).into_owned().into(),
                                );
                            }
                            self.write_json_results(&mut result.output, map, decision, machine);
                        }
                    }
                });
                if self.output == OutputFormat::Csv && delimiter != b',' {
                    result.output = w.into_inner().unwrap_or_default();
                }
            }
            InputFormat::JsonLines | InputFormat::JsonArray => {
                let mut w = csv::WriterBuilder::new().from_writer(Vec::new());
                leads::for_each_json_line(chunk, |line, raw, object| {
                    let object = match object {
                        Ok(o) => o,
                        Err(reject) => return result.rejects.push(reject),
                    };
                    if let Err(reject) =
                        self.binding
                            .read_json(self.program, &object, line, raw, row)
                    {
                        return result.rejects.push(reject);
                    }
                    let decision = machine.run(self.program, row);
                    self.count(&mut result, decision);
                    let kept: Vec<(String, serde_json::Value)> = if self.keep_columns {
                        object.into_iter().collect()
                    } else {
                        self.binding
                            .keys
                            .iter()
                            .map(|(_, c)| {
                                let name = &self.binding.columns[*c];
                                (
                                    name.clone(),
                                    leads::json_get(&object, name).cloned().unwrap_or_default(),
                                )
                            })
                            .collect()
                    };
                    match self.output {
                        OutputFormat::Csv => {
                            for (_, value) in &kept {
                                let text = match value {
                                    serde_json::Value::String(s) => s.clone(),
                                    serde_json::Value::Null => String::new(),
                                    other => other.to_string(),
                                };
                                let _ = w.write_field(text);
                            }
                            self.write_csv_results(&mut w, decision, machine);
                        }
                        OutputFormat::Jsonl => {
                            let map = kept.into_iter().collect();
                            self.write_json_results(&mut result.output, map, decision, machine);
                        }
                    }
                });
                if self.output == OutputFormat::Csv {
                    result.output = w.into_inner().unwrap_or_default();
                }
            }
        }
        result
    }

    fn count(&self, result: &mut ChunkResult, decision: Decision) {
        let i = decision.stage.unwrap_or(self.policy.stages.len());
        result.stages[i] += 1;
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

/// Names of the result columns: stage, each score, rule — prefixed with
/// `qualify_` where an input column kept in the output has that name.
fn result_names(policy: &Policy, binding: &Binding, keep_columns: bool) -> Vec<String> {
    let mut names = vec!["stage".to_string()];
    names.extend(policy.scores.iter().map(|s| s.name.clone()));
    names.push("rule".to_string());
    if keep_columns {
        for name in &mut names {
            if binding.columns.contains(name) {
                *name = format!("qualify_{name}");
            }
        }
    }
    names
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

fn write_reject(out: &mut impl Write, reject: &Reject, format: InputFormat) -> Result<(), String> {
    let line = match format {
        InputFormat::Csv { delimiter } => {
            let mut w = csv::WriterBuilder::new()
                .delimiter(delimiter)
                .from_writer(Vec::new());
            let _ = w.write_field(reject.line.to_string());
            let _ = w.write_field(reject.to_string());
            let _ = w.write_record(None::<&[u8]>);
            let extra = w.into_inner().unwrap_or_default();
            let mut line = reject.raw.clone();
            line.push(delimiter);
            line.extend_from_slice(&extra);
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
    out.write_all(&line).map_err(|e| e.to_string())
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
