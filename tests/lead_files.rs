//! No lead file makes the readers panic, and no record is lost: every
//! record of a mutated or random file becomes a row or a reject.

mod common;

use common::policy;
use proptest::prelude::*;
use qualify::compile::Program;

const CSV: &[u8] = include_bytes!("../examples/b2b-saas/leads.csv");
const JSONL: &[u8] = include_bytes!("../examples/product-led/leads.jsonl");

/// The lines of a file as an editor shows them: a line ends at `\n`,
/// `\r\n` or a lone `\r`.
fn lines(bytes: &[u8]) -> Vec<&[u8]> {
    let bytes = bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(bytes);
    let mut out = Vec::new();
    let mut start = 0;
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'\n' => {
                out.push(&bytes[start..i]);
                start = i + 1;
            }
            b'\r' => {
                out.push(&bytes[start..i]);
                if bytes.get(i + 1) == Some(&b'\n') {
                    i += 1;
                }
                start = i + 1;
            }
            _ => {}
        }
        i += 1;
    }
    if start < bytes.len() {
        out.push(&bytes[start..]);
    }
    out
}

/// Read `bytes` as a lead file; the loader may refuse the whole file (a
/// broken header), but must not panic, and must account for every record:
/// each line that is not blank lies in a row or in a reject (line ranges,
/// in order, without overlap).
fn read(policy_path: &str, name: &str, bytes: &[u8]) {
    let policy = policy(policy_path);
    let program = Program::compile(&policy);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(name);
    std::fs::write(&path, bytes).unwrap();
    if let Ok(loaded) = qualify::leads::load(&path, &policy, &program, None) {
        for reject in &loaded.rejects {
            assert!(reject.line >= 1);
            assert!(reject.last_line >= reject.line);
            assert!(!reject.message.is_empty());
        }
        let lines = lines(bytes);
        let records = loaded.rows.len() + loaded.rejects.len();
        assert!(records <= lines.len(), "more records than lines");
        if name.ends_with(".json") {
            return; // an array's records are numbered by element
        }
        let mut spans: Vec<(u64, u64)> = loaded
            .lines
            .iter()
            .zip(&loaded.last_lines)
            .map(|(a, b)| (*a, *b))
            .chain(loaded.rejects.iter().map(|r| (r.line, r.last_line)))
            .collect();
        spans.sort();
        for pair in spans.windows(2) {
            assert!(pair[0].1 < pair[1].0, "records overlap: {spans:?}");
        }
        let mut spans = spans.iter().peekable();
        for (i, line) in lines.iter().enumerate() {
            let n = i as u64 + 1;
            while spans.next_if(|s| s.1 < n).is_some() {}
            if n < loaded.first_line || line.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            assert!(
                spans.peek().is_some_and(|s| s.0 <= n),
                "line {n} ({:?}) is in no row and no reject",
                String::from_utf8_lossy(line)
            );
        }
    }
}

fn mutate(seed: &[u8], ops: &[(usize, u8, u8)]) -> Vec<u8> {
    let mut bytes = seed.to_vec();
    for &(at, kind, byte) in ops {
        let at = at % (bytes.len() + 1);
        let byte = [b'"', b',', b'\n', b'\r', 0xff, b'{', b'}', b':', byte][byte as usize % 9];
        match kind % 3 {
            0 => bytes.insert(at, byte),
            1 if at < bytes.len() => {
                bytes.remove(at);
            }
            _ => bytes.truncate(at.max(1)),
        }
    }
    bytes
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    #[test]
    fn mutated_csv_never_panics(ops in proptest::collection::vec((any::<usize>(), any::<u8>(), any::<u8>()), 1..8)) {
        read("examples/b2b-saas/policy.qual", "leads.csv", &mutate(CSV, &ops));
    }

    #[test]
    fn mutated_json_lines_never_panic(ops in proptest::collection::vec((any::<usize>(), any::<u8>(), any::<u8>()), 1..8)) {
        read("examples/product-led/policy.qual", "leads.jsonl", &mutate(JSONL, &ops));
    }

    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
        read("examples/b2b-saas/policy.qual", "leads.csv", &bytes);
        read("examples/product-led/policy.qual", "leads.jsonl", &bytes);
        read("examples/product-led/policy.qual", "leads.json", &bytes);
    }
}

// ------------------------------------------------------ the CSV chunker

/// Hands out the input in reads of the given sizes, as a pipe might.
struct Reads<'a> {
    data: &'a [u8],
    sizes: Vec<usize>,
    next: usize,
}

impl std::io::Read for Reads<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let size = self.sizes[self.next % self.sizes.len()];
        self.next += 1;
        let n = self.data.len().min(buf.len()).min(size);
        buf[..n].copy_from_slice(&self.data[..n]);
        self.data = &self.data[n..];
        Ok(n)
    }
}

/// One cell of a generated line, as written in the file.
fn cell() -> impl Strategy<Value = String> {
    let text = "[a-z0-9 ]{0,5}";
    let line_end = prop_oneof![Just("\n"), Just("\r\n"), Just("\r")];
    prop_oneof![
        4 => text.prop_map(|t| t.to_string()),
        // A quote inside a cell: a plain character (`Wayne 5" Wide`).
        2 => (text, text).prop_map(|(a, b)| format!("{a}\"{b}")),
        // A quoted cell with commas, escaped quotes, line breaks, and
        // perhaps text after the closing quote.
        2 => (text, line_end, text, prop_oneof![Just(""), Just("x"), Just("\"")])
            .prop_map(|(a, end, b, after)| format!("\"{a},\"\"{end}{b}\"{after}")),
        // A quote that starts a cell and is never closed on this line.
        1 => text.prop_map(|t| format!("\"{t}")),
    ]
}

/// A generated CSV file: header `a,b,c`, lines of 1 to 4 cells (so some
/// have the wrong number), blank lines, every kind of line end.
fn csv_file() -> impl Strategy<Value = String> {
    let line = (
        proptest::collection::vec(cell(), 1..5),
        prop_oneof![Just("\n"), Just("\r\n"), Just("\r")],
        0..10u8,
    );
    (proptest::collection::vec(line, 0..30), any::<bool>()).prop_map(|(lines, last_end)| {
        let mut text = String::from("a,b,c\n");
        let count = lines.len();
        for (i, (cells, end, blank)) in lines.into_iter().enumerate() {
            if blank == 0 {
                text.push_str(end);
            }
            text.push_str(&cells.join(","));
            if i + 1 < count || last_end {
                text.push_str(end);
            }
        }
        text
    })
}

#[derive(Debug)]
enum Outcome {
    Row {
        values: Vec<Vec<u8>>,
        lines: (u64, u64),
    },
    Rejected {
        lines: (u64, u64),
        unterminated: bool,
    },
}

/// Cut `text` into chunks and records as `qualify run` does; a record
/// without exactly 3 cells is rejected, as the binding would.
fn chunked(text: &[u8], sizes: Vec<usize>, target: usize) -> Vec<Outcome> {
    use qualify::leads::chunks::{Framing, Splitter};
    let framing = Framing::Csv {
        delimiter: Some(b','),
    };
    let mut splitter = Splitter::new(
        Reads {
            data: text,
            sizes,
            next: 0,
        },
        framing,
    );
    let header = splitter.first_record(true).unwrap().unwrap();
    assert_eq!(qualify::leads::csv_cells(&header, b','), [b"a", b"b", b"c"]);
    let mut out = Vec::new();
    while let Some(chunk) = splitter.next_chunk(target).unwrap() {
        qualify::leads::for_each_csv_record(&chunk, b',', |lines, record| {
            out.push(match record {
                Ok(record) if record.cells.len() == 3 => Outcome::Row {
                    values: (0..3)
                        .map(|i| record.cells.unescape(i).unwrap().into_owned())
                        .collect(),
                    lines: record.span(lines),
                },
                Ok(record) => Outcome::Rejected {
                    lines: record.span(lines),
                    unterminated: false,
                },
                Err(reject) => Outcome::Rejected {
                    lines: (reject.line, reject.last_line),
                    unterminated: reject.message.contains("ends inside a quoted field"),
                },
            })
        });
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    /// Stray quotes and `\n`, `\r\n`, `\r` line ends, read in odd pieces and
    /// cut into small chunks: the records are the ones the `csv` crate
    /// reads (rows out + rows rejected = records in, cell for cell), and
    /// every line that is not blank is in a row or in a reject's lines.
    #[test]
    fn the_chunker_reads_what_the_csv_crate_reads_and_accounts_for_every_line(
        text in csv_file(),
        sizes in proptest::collection::vec(1..40usize, 1..4),
        target in 1..64usize,
    ) {
        let ours = chunked(text.as_bytes(), sizes, target);
        let mut reader = csv::ReaderBuilder::new().flexible(true).from_reader(text.as_bytes());
        let theirs: Vec<csv::ByteRecord> = reader.byte_records().map(|r| r.unwrap()).collect();
        prop_assert_eq!(ours.len(), theirs.len(), "records: {:?}", ours);
        // A lone `\r` inside a quoted cell is read as `\n`.
        let lone_cr = |v: &[u8]| -> Vec<u8> {
            v.iter().enumerate().map(|(i, &b)| if b == b'\r' && v.get(i + 1) != Some(&b'\n') { b'\n' } else { b }).collect()
        };
        for (ours, theirs) in ours.iter().zip(&theirs) {
            match ours {
                Outcome::Row { values, .. } => {
                    let theirs: Vec<Vec<u8>> = theirs.iter().map(lone_cr).collect();
                    prop_assert_eq!(values, &theirs);
                }
                Outcome::Rejected { unterminated: false, .. } => prop_assert_ne!(theirs.len(), 3),
                Outcome::Rejected { unterminated: true, .. } => {}
            }
        }
        let spans: Vec<(u64, u64)> = ours.iter().map(|o| match o {
            Outcome::Row { lines, .. } | Outcome::Rejected { lines, .. } => *lines,
        }).collect();
        for pair in spans.windows(2) {
            prop_assert!(pair[0].1 < pair[1].0, "records overlap or go back: {:?}", spans);
        }
        let mut next = spans.iter().peekable();
        for (i, line) in lines(text.as_bytes()).iter().enumerate().skip(1) {
            let n = i as u64 + 1;
            while next.next_if(|s| s.1 < n).is_some() {}
            if line.is_empty() {
                continue;
            }
            prop_assert!(next.peek().is_some_and(|s| s.0 <= n), "line {} {:?} is lost: {:?}", n, String::from_utf8_lossy(line), spans);
        }
    }
}
