//! Lead files: CSV, JSON Lines and JSON arrays, read in parallel chunks
//! (`chunks`, `pipeline`), bound to the policy's fields by column name once
//! per file, and converted cell by cell into rows (`convert`).
//!
//! Nothing here decides anything about a lead; that is `eval`'s job. What
//! this layer guarantees is that every input record is accounted for: it
//! becomes a row, or a `Reject` with its line number and the reason.

pub mod chunks;
pub mod convert;
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
            Format::Csv { .. } => Framing::Csv,
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
        let mut text = format!("{unit} {}", self.line);
        if let Some(column) = &self.column {
            text.push_str(&format!(", column \"{column}\""));
        }
        text.push_str(": ");
        text.push_str(&self.message);
        text
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
    let mut splitter = Splitter::new(reader, Framing::Csv);
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
    /// column the program reads; JSON objects are looked up by key per
    /// record, and an absent key is a missing value.
    pub fn binding(
        &mut self,
        policy: &Policy,
        program: &Program,
    ) -> Result<Result<Binding, Vec<MissingColumn>>, String> {
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
    pub rejects: Vec<Reject>,
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
    let binding = input.binding(policy, program)?.map_err(|missing| {
        let list: Vec<String> = missing.iter().map(|m| m.to_string()).collect();
        format!("{}: {}", input.name, list.join("; "))
    })?;
    let mut loaded = Loaded {
        binding,
        rows: Vec::new(),
        lines: Vec::new(),
        rejects: Vec::new(),
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
        let (rows, lines, rejects) = (&mut loaded.rows, &mut loaded.lines, &mut loaded.rejects);
        match input.format {
            Format::Csv { delimiter } => {
                for_each_csv_record(&chunk, delimiter, |line_of, start, record| {
                    if rows.len() >= limit {
                        return;
                    }
                    let result = record.and_then(|r| {
                        binding
                            .read_csv(program, r, &mut row)
                            .map_err(|mut reject| {
                                reject.line = line_of.at(start);
                                reject
                            })
                    });
                    match result {
                        Ok(()) => {
                            rows.push(row.clone());
                            lines.push(line_of.at(start));
                        }
                        Err(reject) => rejects.push(reject),
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

/// The delimiter a header line uses most, outside quotes.
fn sniff_delimiter(header: &[u8]) -> u8 {
    let mut counts = [0usize; 3];
    let mut in_quotes = false;
    for &b in header {
        match b {
            b'"' => in_quotes = !in_quotes,
            b',' if !in_quotes => counts[0] += 1,
            b';' if !in_quotes => counts[1] += 1,
            b'\t' if !in_quotes => counts[2] += 1,
            _ => {}
        }
    }
    let best = (0..3).max_by_key(|&i| (counts[i], i == 0)).unwrap_or(0);
    [b',', b';', b'\t'][best]
}

/// Split one CSV record into raw cells (still quoted) with simd-csv.
pub fn csv_cells(record: &[u8], delimiter: u8) -> Vec<Vec<u8>> {
    let mut reader = simd_csv::ZeroCopyReaderBuilder::new()
        .delimiter(delimiter)
        .has_headers(false)
        .flexible(true)
        .from_reader(record);
    match reader.read_byte_record() {
        Ok(Some(rec)) => (0..rec.len())
            .map(|i| rec.unescape(i).map(|c| c.into_owned()).unwrap_or_default())
            .collect(),
        _ => Vec::new(),
    }
}

/// How the policy's fields map to a file's columns, decided once per file.
pub struct Binding {
    /// The file's columns, in order (CSV header; for JSON the first
    /// record's keys).
    pub columns: Vec<String>,
    /// A reader per field the program needs, with its column index.
    pub readers: Vec<(usize, FieldReader)>,
    /// Key fields and their column indexes, for output.
    pub keys: Vec<(FieldId, usize)>,
    pub fields: usize,
}

/// A column the schema needs that the header lacks.
#[derive(Clone, Debug, PartialEq)]
pub struct MissingColumn {
    pub field: String,
    pub column: String,
    pub closest: Option<String>,
}

impl std::fmt::Display for MissingColumn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "no column \"{}\" (for field `{}`)",
            self.column, self.field
        )?;
        if let Some(closest) = &self.closest {
            write!(f, "; the closest column is \"{closest}\"")?;
        }
        Ok(())
    }
}

impl Binding {
    /// Bind by exact column name, else by name ignoring case and
    /// surrounding spaces. Every field the program reads must be found.
    pub fn new(
        policy: &Policy,
        program: &Program,
        columns: Vec<String>,
    ) -> Result<Binding, Vec<MissingColumn>> {
        let mut readers = Vec::new();
        let mut missing = Vec::new();
        let mut keys = Vec::new();
        for (f, field) in policy.fields.iter().enumerate() {
            if !program.reads[f] {
                continue;
            }
            let found = columns.iter().position(|c| *c == field.column).or_else(|| {
                columns
                    .iter()
                    .position(|c| c.trim().eq_ignore_ascii_case(field.column.trim()))
            });
            match found {
                Some(col) => {
                    readers.push((col, FieldReader::new(policy, program, f)));
                    if field.key {
                        keys.push((f, col));
                    }
                }
                None => missing.push(MissingColumn {
                    field: field.name.clone(),
                    column: field.column.clone(),
                    closest: crate::diagnostic::did_you_mean(
                        &field.column,
                        columns.iter().map(String::as_str),
                    )
                    .map(str::to_string),
                }),
            }
        }
        if !missing.is_empty() {
            return Err(missing);
        }
        Ok(Binding {
            columns,
            readers,
            keys,
            fields: policy.fields.len(),
        })
    }

    /// Fill `row` from a CSV record's raw cells. A reject's `line` is left
    /// 0 for the caller, which counts lines only when one is needed.
    pub fn read_csv(
        &self,
        program: &Program,
        cells: &simd_csv::ZeroCopyByteRecord<'_>,
        row: &mut Row,
    ) -> Result<(), Reject> {
        let line = 0;
        row.clear();
        if cells.len() != self.columns.len() {
            return Err(Reject {
                line,
                column: None,
                value: None,
                message: format!(
                    "expected {} fields, as in the header, but found {}",
                    self.columns.len(),
                    cells.len()
                ),
                raw: cells.as_slice().to_vec(),
            });
        }
        for (col, reader) in &self.readers {
            let cell = cells.unescape(*col).unwrap_or_default();
            if let Err(message) = reader.read_text(&cell, row, program) {
                return Err(Reject {
                    line,
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

/// Each CSV record of a chunk with its starting offset (for `Lines::at`);
/// blank lines are not records. A chunk that ends inside quotes yields one
/// reject.
pub fn for_each_csv_record(
    chunk: &Chunk,
    delimiter: u8,
    mut f: impl FnMut(&mut Lines<'_>, usize, Result<&simd_csv::ZeroCopyByteRecord<'_>, Reject>),
) {
    let data = &chunk.data[..];
    let mut lines = Lines {
        data,
        counted: 0,
        line: chunk.first_line,
    };
    if chunk.unterminated {
        // Close the quote, so that a rejects file holding this record is
        // still a CSV file whose other records read normally.
        let mut raw = chunks::trim_line_end(data).to_vec();
        raw.push(b'"');
        let count = memchr::memchr_iter(b'\n', &raw).count() as u64;
        f(
            &mut lines,
            0,
            Err(Reject {
                line: chunk.first_line,
                column: None,
                value: None,
                message: format!(
                    "the file ends inside a quoted field: a quote (\") opened in this record is never closed, so the last {} line(s) are one unfinished record",
                    count + 1
                ),
                raw,
            }),
        );
        return;
    }
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
            Ok(Some(record)) => f(&mut lines, start, Ok(&record)),
            Ok(None) => break,
            Err(e) => {
                let line = lines.at(start);
                f(
                    &mut lines,
                    start,
                    Err(Reject {
                        line,
                        column: None,
                        value: None,
                        message: format!("cannot read this CSV record: {e}"),
                        raw: Vec::new(),
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
        let parsed = serde_json::from_slice::<serde_json::Value>(text)
            .map_err(|e| Reject {
                line: this,
                column: None,
                value: None,
                message: format!("not valid JSON (at column {}): {e}", e.column()),
                raw: text.to_vec(),
            })
            .and_then(|value| match value {
                serde_json::Value::Object(map) => Ok(map),
                other => Err(Reject {
                    line: this,
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
