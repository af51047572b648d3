//! Lead files: CSV, JSON Lines and JSON arrays, read in parallel chunks
//! (`chunks`, `pipeline`), bound to the policy's fields by column name once
//! per file, and converted cell by cell into rows (`convert`).
//!
//! Nothing here decides anything about a lead; that is `eval`'s job. What
//! this layer guarantees is that every input record is accounted for: it
//! becomes a row, or a `Reject` with its line number and the reason.

pub mod chunks;
pub mod convert;
pub mod outcome;
pub mod output;
pub mod pipeline;

use std::io::Read;
use std::path::Path;

use crate::check::policy::{FieldId, Policy};
use crate::compile::Program;
use crate::eval::row::Row;
use chunks::{Chunk, Framing, Splitter};
use convert::FieldReader;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Csv { delimiter: u8 },
    JsonLines,
    JsonArray,
}

impl Format {
    pub fn framing(self) -> Framing {
        match self {
            Format::Csv { delimiter } => Framing::Csv {
                delimiter: Some(delimiter),
            },
            Format::JsonLines | Format::JsonArray => Framing::Lines,
        }
    }
}

/// A record that could not become a row.
#[derive(Clone, Debug, PartialEq)]
pub struct Reject {
    /// 1-based line of the record's first byte (for a JSON array: the
    /// element's position, from 1).
    pub line: u64,
    /// The line of the record's last byte: a quoted field may hold line
    /// breaks, and a quote that is never closed takes every line after it.
    pub last_line: u64,
    /// The column (CSV header or JSON key) of the bad value, if one cell is
    /// to blame.
    pub column: Option<String>,
    pub value: Option<String>,
    pub message: String,
    /// The record as it was in the input, without its line end.
    pub raw: Vec<u8>,
}

impl Reject {
    /// `line 12, column "Budget": …`; `unit` names what `line` counts
    /// (`element` for a JSON array).
    pub fn describe(&self, unit: &str) -> String {
        let mut text = if self.last_line > self.line {
            format!("{unit}s {}–{}", self.line, self.last_line)
        } else {
            format!("{unit} {}", self.line)
        };
        if let Some(column) = &self.column {
            text.push_str(&format!(", column \"{column}\""));
        }
        text.push_str(": ");
        text.push_str(&self.message);
        text
    }

    /// How many lines of the input the record took: every lead on them is
    /// lost with it.
    pub fn lines(&self) -> u64 {
        self.last_line.saturating_sub(self.line) + 1
    }
}

impl std::fmt::Display for Reject {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.describe("line"))
    }
}

/// An open lead file (or stdin) with its format decided.
pub struct Input {
    pub name: String,
    pub format: Format,
    pub size: Option<u64>,
    pub splitter: Splitter<Box<dyn Read + Send>>,
    /// For a JSON array: where a syntax error in the array is reported
    /// once the elements before it have been read.
    pub array_error: Option<std::sync::Arc<std::sync::Mutex<Option<String>>>>,
}

/// Open a lead file, or stdin for `-`. The format comes from `format`, else
/// the extension, else the first bytes (`[` JSON array, `{` JSON Lines,
/// otherwise CSV with the delimiter the header uses most).
pub fn open(path: &Path, format: Option<Format>) -> Result<Input, String> {
    let name = path.display().to_string();
    let (reader, size): (Box<dyn Read + Send>, Option<u64>) = if name == "-" {
        (Box::new(std::io::stdin()), None)
    } else {
        let file = std::fs::File::open(path).map_err(|e| format!("{name}: {e}"))?;
        let size = file.metadata().ok().map(|m| m.len());
        (Box::new(file), size)
    };
    let by_extension = match path.extension().and_then(|e| e.to_str()) {
        Some("jsonl" | "ndjson") => Some(Format::JsonLines),
        Some("json") => Some(Format::JsonArray),
        Some("tsv") => Some(Format::Csv { delimiter: b'\t' }),
        _ => None,
    };
    // Sniffing needs the first record, read with CSV framing (which is also
    // right for JSON Lines: JSON text never holds a raw newline in quotes).
    let mut splitter = Splitter::new(reader, Framing::Csv { delimiter: None });
    let format = match format.or(by_extension) {
        Some(f) => f,
        None => {
            let first = splitter
                .first_record(false)
                .map_err(|e| format!("{name}: {e}"))?
                .unwrap_or_default();
            match first.iter().find(|b| !b.is_ascii_whitespace()) {
                Some(b'[') => Format::JsonArray,
                Some(b'{') => Format::JsonLines,
                _ => Format::Csv {
                    delimiter: sniff_delimiter(&first),
                },
            }
        }
    };
    let mut splitter = splitter.with_framing(format.framing());
    let mut array_error = None;
    if format == Format::JsonArray {
        let (lines, error) = json_array_as_lines(splitter.into_unread());
        splitter = Splitter::new(lines, Framing::Lines);
        array_error = Some(error);
    }
    Ok(Input {
        name,
        format,
        size,
        splitter,
        array_error,
    })
}

impl Input {
    /// Bind the policy's fields to this input. A CSV header must have every
    /// column the program reads, once; JSON objects are looked up by key per
    /// record, and an absent key is a missing value.
    pub fn binding(
        &mut self,
        policy: &Policy,
        program: &Program,
    ) -> Result<Result<Binding, Vec<ColumnProblem>>, String> {
        let columns = match self.format {
            Format::Csv { .. } => self.columns()?,
            Format::JsonLines | Format::JsonArray => {
                let mut columns: Vec<String> = Vec::new();
                for (f, field) in policy.fields.iter().enumerate() {
                    if program.reads[f] && !columns.contains(&field.column) {
                        columns.push(field.column.clone());
                    }
                }
                columns
            }
        };
        Ok(Binding::new(policy, program, columns))
    }

    /// The first record's column names: the CSV header (consumed), or the
    /// keys of the first JSON object (left for the rows).
    pub fn columns(&mut self) -> Result<Vec<String>, String> {
        match self.format {
            Format::Csv { delimiter } => {
                let header = self
                    .splitter
                    .first_record(true)
                    .map_err(|e| format!("{}: {e}", self.name))?
                    .ok_or_else(|| format!("{}: the file is empty: no header line", self.name))?;
                Ok(csv_cells(&header, delimiter)
                    .iter()
                    .map(|c| String::from_utf8_lossy(c).into_owned())
                    .collect())
            }
            Format::JsonLines | Format::JsonArray => {
                let Some(first) = self
                    .splitter
                    .first_record(false)
                    .map_err(|e| format!("{}: {e}", self.name))?
                else {
                    return Ok(Vec::new());
                };
                match serde_json::from_slice::<serde_json::Value>(&first) {
                    Ok(serde_json::Value::Object(map)) => Ok(map.keys().cloned().collect()),
                    // A bad first record is reported with its line like any other.
                    _ => Ok(Vec::new()),
                }
            }
        }
    }
}

/// Leads read into memory, with the records that could not be read.
pub struct Loaded {
    pub binding: Binding,
    pub rows: Vec<Row>,
    /// The line (or JSON array element) each row started on.
    pub lines: Vec<u64>,
    /// The line each row ended on (a quoted CSV field may hold line breaks).
    pub last_lines: Vec<u64>,
    pub rejects: Vec<Reject>,
    /// The first line after the CSV header (1 for JSON).
    pub first_line: u64,
}

/// Read a whole lead file into rows, on the calling thread (for samples,
/// explanations and benchmarks; `qualify run` streams instead). Stops after
/// `limit` rows when given.
pub fn load(
    path: &Path,
    policy: &Policy,
    program: &Program,
    limit: Option<usize>,
) -> Result<Loaded, String> {
    let mut input = open(path, None)?;
    let binding = input.binding(policy, program)?.map_err(|problems| {
        let list: Vec<String> = problems.iter().map(|m| m.to_string()).collect();
        format!("{}: {}", input.name, list.join("; "))
    })?;
    let mut loaded = Loaded {
        binding,
        rows: Vec::new(),
        lines: Vec::new(),
        last_lines: Vec::new(),
        rejects: Vec::new(),
        first_line: input.splitter.line(),
    };
    let limit = limit.unwrap_or(usize::MAX);
    let mut row = Row::new(policy.fields.len());
    while loaded.rows.len() < limit {
        let Some(chunk) = input
            .splitter
            .next_chunk(pipeline::CHUNK_BYTES)
            .map_err(|e| format!("{}: {e}", input.name))?
        else {
            break;
        };
        let binding = &loaded.binding;
        let (rows, lines, last_lines, rejects) = (
            &mut loaded.rows,
            &mut loaded.lines,
            &mut loaded.last_lines,
            &mut loaded.rejects,
        );
        match input.format {
            Format::Csv { delimiter } => {
                for_each_csv_record(&chunk, delimiter, |line_of, record| {
                    if rows.len() >= limit {
                        return;
                    }
                    let record = match record {
                        Ok(record) => record,
                        Err(reject) => return rejects.push(reject),
                    };
                    let (first, last) = record.span(line_of);
                    match binding.read_csv(program, &record, &mut row) {
                        Ok(()) => {
                            rows.push(row.clone());
                            lines.push(first);
                            last_lines.push(last);
                        }
                        Err(mut reject) => {
                            (reject.line, reject.last_line) = (first, last);
                            rejects.push(reject);
                        }
                    }
                });
            }
            Format::JsonLines | Format::JsonArray => {
                for_each_json_line(&chunk, |line, raw, object| {
                    if rows.len() >= limit {
                        return;
                    }
                    let result =
                        object.and_then(|o| binding.read_json(program, &o, line, raw, &mut row));
                    match result {
                        Ok(()) => {
                            rows.push(row.clone());
                            lines.push(line);
                            last_lines.push(line);
                        }
                        Err(reject) => rejects.push(reject),
                    }
                });
            }
        }
    }
    if let Some(error) = input
        .array_error
        .and_then(|slot| slot.lock().unwrap().take())
    {
        return Err(format!("{}: {error}", input.name));
    }
    Ok(loaded)
}

/// A JSON array, streamed element by element into JSON Lines by a thread,
/// so an array file is read like any other with flat memory. A syntax error
/// ends the stream and is left in the returned slot.
fn json_array_as_lines(
    input: Box<dyn Read + Send>,
) -> (
    Box<dyn Read + Send>,
    std::sync::Arc<std::sync::Mutex<Option<String>>>,
) {
    use serde::de::{Deserializer, Error, SeqAccess, Visitor};
    use std::io::Write;

    struct Elements<W>(W);
    impl<'de, W: Write> Visitor<'de> for Elements<W> {
        type Value = ();
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("a JSON array of lead objects")
        }
        fn visit_seq<A: SeqAccess<'de>>(mut self, mut seq: A) -> Result<(), A::Error> {
            while let Some(value) = seq.next_element::<serde_json::Value>()? {
                serde_json::to_writer(&mut self.0, &value).map_err(A::Error::custom)?;
                self.0.write_all(b"\n").map_err(A::Error::custom)?;
            }
            Ok(())
        }
    }

    let error = std::sync::Arc::new(std::sync::Mutex::new(None));
    let (reader, writer) = std::io::pipe().expect("creating a pipe");
    let slot = error.clone();
    std::thread::spawn(move || {
        let mut de = serde_json::Deserializer::from_reader(std::io::BufReader::new(input));
        let writer = std::io::BufWriter::new(writer);
        if let Err(e) = de.deserialize_seq(Elements(writer)) {
            // A closed pipe means the reader stopped early; not an error.
            if !e.to_string().contains("Broken pipe") {
                *slot.lock().unwrap() = Some(format!(
                    "the JSON array is invalid at line {}, column {}: {e}",
                    e.line(),
                    e.column()
                ));
            }
        }
    });
    (Box::new(reader), error)
}
/// The delimiter a header line uses most, outside quoted fields.
fn sniff_delimiter(header: &[u8]) -> u8 {
    let mut counts = [0usize; 3];
    let mut in_quotes = false;
    let mut field_start = true;
    let mut just_closed = false;
    for &b in header {
        if in_quotes {
            if b == b'"' {
                in_quotes = false;
                just_closed = true;
            }
            continue;
        }
        if b == b'"' && (field_start || just_closed) {
            in_quotes = true;
            (field_start, just_closed) = (false, false);
            continue;
        }
        just_closed = false;
        field_start = true;
        match b {
            b',' => counts[0] += 1,
            b';' => counts[1] += 1,
            b'\t' => counts[2] += 1,
            _ => field_start = false,
        }
    }
    let best = (0..3).max_by_key(|&i| (counts[i], i == 0)).unwrap_or(0);
    [b',', b';', b'\t'][best]
}

/// A CSV record's cells as the `csv` crate reads them (see `chunks`).
pub struct SplitRecord {
    /// Each cell's value, unquoted and unescaped.
    pub values: Vec<Vec<u8>>,
    /// Where each cell starts in the record (at its opening quote, if any).
    pub starts: Vec<usize>,
    /// A quote is a plain character somewhere, text follows a closing
    /// quote, or a quoted field is never closed.
    pub irregular: bool,
}

/// Split one CSV record (without its line end) into cells, byte by byte:
/// for headers, for records with plain quotes, and for rejects files — never
/// in the hot path, where simd-csv splits records that are regular.
pub fn split_record(record: &[u8], delimiter: u8) -> SplitRecord {
    #[derive(Clone, Copy)]
    enum State {
        Start,
        Unquoted,
        Quoted,
        AfterQuote,
    }
    let mut out = SplitRecord {
        values: Vec::new(),
        starts: vec![0],
        irregular: false,
    };
    let mut value = Vec::new();
    let mut state = State::Start;
    for (i, &b) in record.iter().enumerate() {
        state = match state {
            State::Start | State::Unquoted | State::AfterQuote if b == delimiter => {
                out.values.push(std::mem::take(&mut value));
                out.starts.push(i + 1);
                State::Start
            }
            State::Start if b == b'"' => State::Quoted,
            State::Quoted if b == b'"' => State::AfterQuote,
            State::Quoted => {
                value.push(b);
                State::Quoted
            }
            State::AfterQuote if b == b'"' => {
                value.push(b);
                State::Quoted
            }
            State::Start | State::Unquoted | State::AfterQuote => {
                if b == b'"' || matches!(state, State::AfterQuote) {
                    out.irregular = true;
                }
                value.push(b);
                State::Unquoted
            }
        };
    }
    if matches!(state, State::Quoted) {
        out.irregular = true;
    }
    out.values.push(value);
    out
}

/// Split one CSV record (the header) into cell values.
pub fn csv_cells(record: &[u8], delimiter: u8) -> Vec<Vec<u8>> {
    split_record(record, delimiter).values
}

/// Append `value` as a CSV cell: quoted, with its quotes doubled, when it
/// holds the delimiter, a quote or a line break.
pub fn write_cell(out: &mut Vec<u8>, value: &[u8], delimiter: u8) {
    if value
        .iter()
        .any(|&b| b == delimiter || matches!(b, b'"' | b'\n' | b'\r'))
    {
        out.push(b'"');
        for &b in value {
            if b == b'"' {
                out.push(b'"');
            }
            out.push(b);
        }
        out.push(b'"');
    } else {
        out.extend_from_slice(value);
    }
}

/// The records of a chunk, with each record that has a plain quote
/// rewritten with its cells quoted as the `csv` crate would write them, so
/// that simd-csv reads the same cells as the `csv` crate. Line breaks are
/// kept, so line numbers do not change.
fn regularize(data: &[u8], delimiter: u8) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len() + 256);
    chunks::csv_records(data, delimiter, |range, irregular| {
        let record = &data[range];
        if !irregular {
            return out.extend_from_slice(record);
        }
        let body = chunks::trim_line_end(record);
        for (i, value) in split_record(body, delimiter).values.iter().enumerate() {
            if i > 0 {
                out.push(delimiter);
            }
            write_cell(&mut out, value, delimiter);
        }
        out.extend_from_slice(&record[body.len()..]);
    });
    out
}

/// How the policy's fields map to a file's columns, decided once per file.
pub struct Binding {
    /// The file's columns, in order (CSV header; for JSON the columns the
    /// policy reads).
    pub columns: Vec<String>,
    /// A reader per field the program needs, with its column index.
    pub readers: Vec<(usize, FieldReader)>,
    /// Key fields and their column indexes, for output.
    pub keys: Vec<(FieldId, usize)>,
    pub fields: usize,
    /// Header names used more than once that no field reads.
    pub duplicates: Vec<Duplicate>,
}

/// A header name used twice: the name, and the two column indexes (from 0).
#[derive(Clone, Debug, PartialEq)]
pub struct Duplicate {
    pub name: String,
    pub first: usize,
    pub second: usize,
}

/// Why a field the program reads cannot be bound to a column.
#[derive(Clone, Debug, PartialEq)]
pub enum ColumnProblem {
    /// The header lacks the column.
    Missing {
        field: String,
        column: String,
        closest: Option<String>,
    },
    /// Two header cells name the column: which one to read is a guess.
    Ambiguous {
        field: String,
        column: String,
        /// The two columns' names as written and their indexes (from 0).
        first: (String, usize),
        second: (String, usize),
    },
}

impl std::fmt::Display for ColumnProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ColumnProblem::Missing {
                field,
                column,
                closest,
            } => {
                write!(f, "no column \"{column}\" (for field `{field}`)")?;
                if let Some(closest) = closest {
                    write!(f, "; the closest column is \"{closest}\"")?;
                }
                Ok(())
            }
            ColumnProblem::Ambiguous {
                field,
                column,
                first,
                second,
            } => {
                write!(
                    f,
                    "column \"{column}\" (for field `{field}`) is in the header twice: "
                )?;
                if first.0 == second.0 {
                    write!(f, "as columns {} and {}", first.1 + 1, second.1 + 1)?;
                } else {
                    write!(
                        f,
                        "as \"{}\" (column {}) and \"{}\" (column {})",
                        first.0,
                        first.1 + 1,
                        second.0,
                        second.1 + 1
                    )?;
                }
                f.write_str(", so which one to read would be a guess")
            }
        }
    }
}

impl Binding {
    /// Bind by exact column name, else by name ignoring case and
    /// surrounding spaces. Every field the program reads must be found, in
    /// exactly one column.
    pub fn new(
        policy: &Policy,
        program: &Program,
        columns: Vec<String>,
    ) -> Result<Binding, Vec<ColumnProblem>> {
        let mut readers = Vec::new();
        let mut problems = Vec::new();
        let mut keys = Vec::new();
        let mut read = vec![false; columns.len()];
        for (f, field) in policy.fields.iter().enumerate() {
            if !program.reads[f] {
                continue;
            }
            let mut found: Vec<usize> = (0..columns.len())
                .filter(|&c| columns[c] == field.column)
                .collect();
            if found.is_empty() {
                found = (0..columns.len())
                    .filter(|&c| columns[c].trim().eq_ignore_ascii_case(field.column.trim()))
                    .collect();
            }
            match found[..] {
                [col] => {
                    read[col] = true;
                    readers.push((col, FieldReader::new(policy, program, f)));
                    if field.key {
                        keys.push((f, col));
                    }
                }
                [] => problems.push(ColumnProblem::Missing {
                    field: field.name.clone(),
                    column: field.column.clone(),
                    closest: crate::diagnostic::did_you_mean(
                        &field.column,
                        columns.iter().map(String::as_str),
                    )
                    .map(str::to_string),
                }),
                [a, b, ..] => problems.push(ColumnProblem::Ambiguous {
                    field: field.name.clone(),
                    column: field.column.clone(),
                    first: (columns[a].clone(), a),
                    second: (columns[b].clone(), b),
                }),
            }
        }
        if !problems.is_empty() {
            return Err(problems);
        }
        let mut duplicates = Vec::new();
        let mut seen: rustc_hash::FxHashMap<&str, usize> = Default::default();
        for (c, name) in columns.iter().enumerate() {
            match seen.get(name.as_str()) {
                Some(&first) if !read[first] => duplicates.push(Duplicate {
                    name: name.clone(),
                    first,
                    second: c,
                }),
                Some(_) => {}
                None => {
                    seen.insert(name, c);
                }
            }
        }
        Ok(Binding {
            columns,
            readers,
            keys,
            fields: policy.fields.len(),
            duplicates,
        })
    }

    /// Fill `row` from a CSV record's cells. A reject's lines are left 0
    /// for the caller, which counts lines only when one is needed
    /// (`CsvRecord::span`).
    pub fn read_csv(
        &self,
        program: &Program,
        record: &CsvRecord<'_, '_>,
        row: &mut Row,
    ) -> Result<(), Reject> {
        let cells = record.cells;
        row.clear();
        if cells.len() != self.columns.len() {
            let mut message = format!(
                "expected {} fields, as in the header, but found {}",
                self.columns.len(),
                cells.len()
            );
            if memchr::memchr(b'\n', cells.as_slice()).is_some() {
                message.push_str(
                    " — the record runs over several lines: a quote (\") that starts a field is closed only on a later line",
                );
            }
            return Err(Reject {
                line: 0,
                last_line: 0,
                column: None,
                value: None,
                message,
                raw: cells.as_slice().to_vec(),
            });
        }
        for (col, reader) in &self.readers {
            let cell = cells.unescape(*col).unwrap_or_default();
            if let Err(message) = reader.read_text(&cell, row, program) {
                return Err(Reject {
                    line: 0,
                    last_line: 0,
                    column: Some(self.columns[*col].clone()),
                    value: Some(String::from_utf8_lossy(&cell).into_owned()),
                    message,
                    raw: cells.as_slice().to_vec(),
                });
            }
        }
        Ok(())
    }

    /// Fill `row` from a JSON object.
    pub fn read_json(
        &self,
        program: &Program,
        object: &serde_json::Map<String, serde_json::Value>,
        line: u64,
        raw: &[u8],
        row: &mut Row,
    ) -> Result<(), Reject> {
        row.clear();
        for (col, reader) in &self.readers {
            let name = &self.columns[*col];
            let value = json_get(object, name);
            let result = match value {
                Some(value) => reader.read_json(value, row, program),
                None => reader.read_missing(row, program),
            };
            if let Err(message) = result {
                return Err(Reject {
                    line,
                    last_line: line,
                    column: Some(name.clone()),
                    value: json_get(object, name).map(|v| v.to_string()),
                    message,
                    raw: raw.to_vec(),
                });
            }
        }
        Ok(())
    }
}

/// Line numbers within a chunk, counted on demand: most records never
/// need theirs, and counting only up to the records that do keeps it cheap.
pub struct Lines<'a> {
    data: &'a [u8],
    counted: usize,
    line: u64,
}

impl Lines<'_> {
    /// The line of byte `offset` of the chunk; offsets must not decrease
    /// between calls.
    pub fn at(&mut self, offset: usize) -> u64 {
        let offset = offset.clamp(self.counted, self.data.len());
        self.line += memchr::memchr_iter(b'\n', &self.data[self.counted..offset]).count() as u64;
        self.counted = offset;
        self.line
    }
}

/// One record of a CSV chunk: its cells, and where it starts.
pub struct CsvRecord<'r, 'c> {
    pub cells: &'r simd_csv::ZeroCopyByteRecord<'c>,
    start: usize,
}

impl CsvRecord<'_, '_> {
    /// The record's first and last line. Calls must follow the records'
    /// order (see `Lines::at`).
    pub fn span(&self, lines: &mut Lines<'_>) -> (u64, u64) {
        let first = lines.at(self.start);
        (first, lines.at(self.start + self.cells.as_slice().len()))
    }
}

/// Each CSV record of a chunk; blank lines are not records. A chunk that
/// ends inside a quoted field yields one reject for all its lines. Records
/// with a plain quote (`Chunk::irregular`) are re-quoted first, so that
/// they read as the `csv` crate reads them.
pub fn for_each_csv_record(
    chunk: &Chunk,
    delimiter: u8,
    mut f: impl FnMut(&mut Lines<'_>, Result<CsvRecord<'_, '_>, Reject>),
) {
    if chunk.unterminated {
        // Close the quote, so that a rejects file holding this record is
        // still a CSV file whose other records read normally.
        let mut raw = chunks::trim_line_end(&chunk.data).to_vec();
        raw.push(b'"');
        let newlines = memchr::memchr_iter(b'\n', &raw).count() as u64;
        let mut lines = Lines {
            data: &chunk.data,
            counted: 0,
            line: chunk.first_line,
        };
        f(
            &mut lines,
            Err(Reject {
                line: chunk.first_line,
                last_line: chunk.first_line + newlines,
                column: None,
                value: None,
                message: "the file ends inside a quoted field: a quote (\") that starts a field of this record is never closed, so the rest of the file is read as one unfinished record".into(),
                raw,
            }),
        );
        return;
    }
    let regular;
    let data: &[u8] = if chunk.irregular {
        regular = regularize(&chunk.data, delimiter);
        &regular
    } else {
        &chunk.data
    };
    let mut lines = Lines {
        data,
        counted: 0,
        line: chunk.first_line,
    };
    let mut reader = simd_csv::ZeroCopyReaderBuilder::new()
        .delimiter(delimiter)
        .has_headers(false)
        .flexible(true)
        .buffer_capacity(64 << 10)
        .from_reader(data);
    loop {
        let mut start = reader.position() as usize;
        while start < data.len() && matches!(data[start], b'\r' | b'\n') {
            start += 1;
        }
        match reader.read_byte_record() {
            Ok(Some(cells)) => f(
                &mut lines,
                Ok(CsvRecord {
                    cells: &cells,
                    start,
                }),
            ),
            Ok(None) => break,
            Err(e) => {
                // Not expected from a byte slice with a flexible reader; if
                // it happens, the rest of the chunk is one reject.
                let line = lines.at(start);
                let last_line = lines.at(data.len());
                f(
                    &mut lines,
                    Err(Reject {
                        line,
                        last_line,
                        column: None,
                        value: None,
                        message: format!("cannot read this CSV record: {e}"),
                        raw: chunks::trim_line_end(&data[start.min(data.len())..]).to_vec(),
                    }),
                );
                break;
            }
        }
    }
}

/// A record's value for a column: as with CSV headers, the exact key, else
/// the key ignoring case and surrounding spaces.
pub fn json_get<'a>(
    object: &'a serde_json::Map<String, serde_json::Value>,
    name: &str,
) -> Option<&'a serde_json::Value> {
    object.get(name).or_else(|| {
        object
            .iter()
            .find(|(k, _)| k.trim().eq_ignore_ascii_case(name.trim()))
            .map(|(_, v)| v)
    })
}
/// Which of `names` a key matches, as `json_get` matches them: exactly,
/// else ignoring case and surrounding spaces.
pub fn json_get_name(names: &[String], key: &str) -> Option<usize> {
    names.iter().position(|n| n == key).or_else(|| {
        names
            .iter()
            .position(|n| n.trim().eq_ignore_ascii_case(key.trim()))
    })
}

/// A JSON record whose top-level object names each column once. A key given
/// twice, or twice in different case (`demo`, `DEMO`: `json_get` matches
/// either), would leave the choice of value to the parser, so such a record
/// is refused, as a CSV header with a column twice is.
struct JsonRecord(serde_json::Value);

impl<'de> serde::Deserialize<'de> for JsonRecord {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl<'de> serde::de::Visitor<'de> for Visitor {
            type Value = JsonRecord;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a JSON value")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<JsonRecord, A::Error> {
                let mut object = serde_json::Map::new();
                while let Some((key, value)) = map.next_entry::<String, serde_json::Value>()? {
                    if let Some(earlier) = object
                        .keys()
                        .find(|k| k.trim().eq_ignore_ascii_case(key.trim()))
                    {
                        let message = if *earlier == key {
                            format!(
                                "the key \"{key}\" is in this record twice; which value to read would be a guess"
                            )
                        } else {
                            format!(
                                "the keys \"{earlier}\" and \"{key}\" name the same column; which value to read would be a guess"
                            )
                        };
                        return Err(serde::de::Error::custom(message));
                    }
                    object.insert(key, value);
                }
                Ok(JsonRecord(serde_json::Value::Object(object)))
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> Result<JsonRecord, A::Error> {
                while seq.next_element::<serde::de::IgnoredAny>()?.is_some() {}
                Ok(JsonRecord(serde_json::Value::Array(Vec::new())))
            }
            fn visit_str<E>(self, _: &str) -> Result<JsonRecord, E> {
                Ok(JsonRecord(serde_json::Value::String(String::new())))
            }
            fn visit_bool<E>(self, b: bool) -> Result<JsonRecord, E> {
                Ok(JsonRecord(serde_json::Value::Bool(b)))
            }
            fn visit_unit<E>(self) -> Result<JsonRecord, E> {
                Ok(JsonRecord(serde_json::Value::Null))
            }
            fn visit_i64<E>(self, n: i64) -> Result<JsonRecord, E> {
                Ok(JsonRecord(serde_json::Value::from(n)))
            }
            fn visit_u64<E>(self, n: u64) -> Result<JsonRecord, E> {
                Ok(JsonRecord(serde_json::Value::from(n)))
            }
            fn visit_f64<E>(self, n: f64) -> Result<JsonRecord, E> {
                Ok(JsonRecord(serde_json::Value::from(n)))
            }
        }
        deserializer.deserialize_any(Visitor)
    }
}

/// Each JSON Lines record of a chunk: its line, the parsed object or a
/// reject, and its raw text.
pub fn for_each_json_line(
    chunk: &Chunk,
    mut f: impl FnMut(u64, &[u8], Result<serde_json::Map<String, serde_json::Value>, Reject>),
) {
    for (this, raw) in (chunk.first_line..).zip(chunk.data.split(|b| *b == b'\n')) {
        let text = chunks::trim_line_end(raw);
        if text.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        let parsed = serde_json::from_slice::<JsonRecord>(text)
            .map_err(|e| Reject {
                line: this,
                last_line: this,
                column: None,
                value: None,
                message: if e.is_data() {
                    // A key given twice: `JsonRecord` says which.
                    format!("{e}")
                        .split(" at line ")
                        .next()
                        .unwrap_or_default()
                        .to_string()
                } else {
                    format!("not valid JSON (at column {}): {e}", e.column())
                },
                raw: text.to_vec(),
            })
            .and_then(|JsonRecord(value)| match value {
                serde_json::Value::Object(map) => Ok(map),
                other => Err(Reject {
                    line: this,
                    last_line: this,
                    column: None,
                    value: None,
                    message: format!(
                        "each line must be a JSON object, and this is {}",
                        match other {
                            serde_json::Value::Array(_) => "an array",
                            serde_json::Value::String(_) => "a string",
                            serde_json::Value::Number(_) => "a number",
                            _ => "a literal",
                        }
                    ),
                    raw: text.to_vec(),
                }),
            });
        f(this, text, parsed);
    }
}

/// One lead given as a JSON object keyed by field name or source column
/// (`qualify explain --lead`, the analysis's witness leads). A field left
/// out reads as missing.
pub fn row_from_json(policy: &Policy, program: &Program, json: &str) -> Result<Row, String> {
    let object: serde_json::Map<String, serde_json::Value> =
        serde_json::from_str(json).map_err(|e| format!("not a JSON object: {e}"))?;
    let mut row = Row::new(policy.fields.len());
    let mut unknown: Vec<&String> = object.keys().collect();
    for (f, field) in policy.fields.iter().enumerate() {
        let reader = FieldReader::new(policy, program, f);
        let value = object
            .get(&field.name)
            .or_else(|| object.get(&field.column));
        unknown.retain(|k| **k != field.name && **k != field.column);
        let result = match value {
            Some(v) => reader.read_json(v, &mut row, program),
            // Leaving out a required field is how one asks "what if we
            // did not know this": read it as missing.
            None => reader.read_missing(&mut row, program).or(Ok(())),
        };
        result.map_err(|e| format!("`{}`: {e}", field.name))?;
    }
    if let Some(key) = unknown.first() {
        let hint =
            crate::diagnostic::did_you_mean(key, policy.fields.iter().map(|f| f.name.as_str()))
                .map(|s| format!(" (did you mean `{s}`?)"))
                .unwrap_or_default();
        return Err(format!("no field or column named `{key}`{hint}"));
    }
    Ok(row)
}
