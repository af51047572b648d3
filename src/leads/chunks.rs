//! Cutting a lead file into chunks of whole records, so that workers can
//! parse them in parallel and the output can be put back in input order.
//!
//! Quotes follow the `csv` crate (and DuckDB, and pandas): a quote starts a
//! quoted field only as the first byte of a field; inside one, `""` is a
//! quote and a lone `"` ends it. A quote anywhere else — `Wayne 5" Wide`, or
//! text after a closing quote — is a plain character. A record ends at a
//! newline outside a quoted field. The splitter stops only at quotes and
//! newlines (`memchr2`), so the scan stays fast; records that hold a quote
//! which is a plain character are flagged (`Chunk::irregular`), because the
//! SIMD cell splitter the workers use would read it as the start of a quoted
//! section.
//!
//! Line ends may be `\n`, `\r\n` or a lone `\r` (old Mac and Excel exports),
//! even mixed in one file: a lone `\r` is turned into `\n` as the input is
//! read, so everything after this point knows only `\n` and `\r\n`, and line
//! numbers count what an editor shows.

use std::io::{self, Read};

/// Records longer than this are refused: in practice it is a quote that is
/// never closed, and reading on would hold the rest of the file in memory.
pub const MAX_RECORD: usize = 64 << 20;

#[derive(Debug)]
pub struct Chunk {
    /// Position in the input, from 0.
    pub seq: u64,
    pub data: Vec<u8>,
    /// 1-based line number of the first byte of `data`.
    pub first_line: u64,
    /// The input ended inside a quoted field that started in this chunk.
    pub unterminated: bool,
    /// Some record holds a quote that does not open, close or escape a
    /// quoted field (see the module documentation).
    pub irregular: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Framing {
    /// Records end at newlines outside quoted fields. The delimiter decides
    /// where a field starts (and so whether a quote opens one); `None` while
    /// it is not known yet (sniffing the header): `,`, `;` and tab all count.
    Csv { delimiter: Option<u8> },
    /// Records end at every newline (JSON Lines).
    Lines,
}

pub struct Splitter<R> {
    input: R,
    framing: Framing,
    buf: Vec<u8>,
    eof: bool,
    /// `buf[..converted]` has had its lone `\r`s turned into `\n`.
    converted: usize,
    /// Line number of `buf[0]`.
    line: u64,
    seq: u64,
    started: bool,
    /// Bytes consumed so far (for progress).
    pub consumed: u64,
}

#[derive(Debug)]
pub enum SplitError {
    Io(io::Error),
    /// A record longer than `MAX_RECORD`, starting at this line.
    RecordTooLong {
        line: u64,
    },
}

impl From<io::Error> for SplitError {
    fn from(e: io::Error) -> Self {
        SplitError::Io(e)
    }
}

impl std::fmt::Display for SplitError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SplitError::Io(e) => write!(f, "{e}"),
            SplitError::RecordTooLong { line } => write!(
                f,
                "line {line}: a record longer than {} MiB — most likely a quote (\") that starts a field on this line is never closed",
                MAX_RECORD >> 20
            ),
        }
    }
}

/// Where a scan of CSV text ended: after its last record end, whether the
/// text is inside a quoted field, whether the unfinished record has a plain
/// quote, and how many newlines the whole text has.
#[derive(Clone, Copy, Debug)]
pub struct Tail {
    pub in_quotes: bool,
    pub irregular: bool,
    pub newlines: u64,
}

/// Scan CSV text that starts at a record start. `on_end(end, newlines,
/// irregular)` is called at each record end: `end` is just past its `\n`,
/// `newlines` counts the newlines of `text[..end]`, `irregular` says whether
/// that record has a quote that is a plain character. It returns false to
/// stop the scan (the returned `Tail` then describes the stop point).
pub fn scan_csv(
    text: &[u8],
    delimiter: Option<u8>,
    mut on_end: impl FnMut(usize, u64, bool) -> bool,
) -> Tail {
    let separates = |b: u8| match delimiter {
        Some(d) => b == d,
        None => matches!(b, b',' | b';' | b'\t'),
    };
    let mut in_quotes = false;
    let mut irregular = false;
    let mut newlines = 0u64;
    let mut record_start = 0usize;
    // Position of the quote that last closed a quoted field: a quote right
    // after it is the second half of an escaped `""`.
    let mut closed_at = usize::MAX;
    let mut pos = 0;
    while let Some(i) = memchr::memchr2(b'"', b'\n', &text[pos..]) {
        let at = pos + i;
        pos = at + 1;
        if text[at] == b'\n' {
            newlines += 1;
            if !in_quotes {
                if !on_end(at + 1, newlines, irregular) {
                    return Tail {
                        in_quotes,
                        irregular: false,
                        newlines,
                    };
                }
                irregular = false;
                record_start = at + 1;
            }
        } else if in_quotes {
            in_quotes = false;
            closed_at = at;
            // What follows a closing quote must end the field (or escape a
            // quote); anything else is kept as text by the `csv` crate.
            match text.get(at + 1) {
                None | Some(b'"' | b'\n' | b'\r') => {}
                Some(&b) if separates(b) => {}
                Some(_) => irregular = true,
            }
        } else if at == record_start || separates(text[at - 1]) || closed_at.wrapping_add(1) == at {
            in_quotes = true;
        } else {
            irregular = true;
        }
    }
    Tail {
        in_quotes,
        irregular,
        newlines,
    }
}

/// Each record of CSV text that starts at a record start and ends with
/// whole records (a chunk's data): its byte range, terminator included, and
/// whether it has a quote that is a plain character. A last record without
/// a newline is included.
pub fn csv_records(text: &[u8], delimiter: u8, mut f: impl FnMut(std::ops::Range<usize>, bool)) {
    let mut start = 0;
    let tail = scan_csv(text, Some(delimiter), |end, _, irregular| {
        f(start..end, irregular);
        start = end;
        true
    });
    if start < text.len() {
        f(start..text.len(), tail.irregular);
    }
}

/// A record end found in the buffer: just past its newline, the newlines
/// before it, and whether any record up to it has a plain quote.
#[derive(Clone, Copy, Debug)]
struct Found {
    end: usize,
    newlines: u64,
    irregular: bool,
}

impl<R: Read> Splitter<R> {
    pub fn new(input: R, framing: Framing) -> Splitter<R> {
        Splitter {
            input,
            framing,
            buf: Vec::new(),
            eof: false,
            converted: 0,
            line: 1,
            seq: 0,
            started: false,
            consumed: 0,
        }
    }

    /// The line the next record starts on (after the header: the first
    /// line of data).
    pub fn line(&self) -> u64 {
        self.line
    }

    /// The same input, framed differently from here on (after sniffing).
    pub fn with_framing(mut self, framing: Framing) -> Splitter<R> {
        self.framing = framing;
        self
    }

    /// The input that has not been cut into records yet (what was read
    /// ahead, then the rest).
    pub fn into_unread(self) -> Box<dyn Read + Send>
    where
        R: Send + 'static,
    {
        Box::new(std::io::Cursor::new(self.buf).chain(self.input))
    }

    /// Read until `buf` holds at least `want` bytes or the input ends.
    fn fill(&mut self, want: usize) -> io::Result<()> {
        // The first fill reads at least 3 bytes, to know whether a BOM
        // starts the input.
        while !self.eof && (self.buf.len() < want || (!self.started && self.buf.len() < 3)) {
            let len = self.buf.len();
            let grow = want.saturating_sub(len).max(64 << 10);
            self.buf.resize(len + grow, 0);
            match self.input.read(&mut self.buf[len..]) {
                Ok(0) => {
                    self.buf.truncate(len);
                    self.eof = true;
                }
                Ok(n) => self.buf.truncate(len + n),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => self.buf.truncate(len),
                Err(e) => {
                    self.buf.truncate(len);
                    return Err(e);
                }
            }
        }
        if !self.started {
            self.started = true;
            if self.buf.starts_with(b"\xef\xbb\xbf") {
                self.buf.drain(..3);
                self.consumed += 3;
            }
        }
        self.convert_lone_cr();
        Ok(())
    }

    /// Turn each lone `\r` read so far into `\n`. A `\r` that is the last
    /// byte read waits until the next byte (or the end) is known.
    fn convert_lone_cr(&mut self) {
        let len = self.buf.len();
        let mut from = self.converted;
        while let Some(i) = memchr::memchr(b'\r', &self.buf[from..len]) {
            let at = from + i;
            if at + 1 < len {
                if self.buf[at + 1] != b'\n' {
                    self.buf[at] = b'\n';
                }
            } else if self.eof {
                self.buf[at] = b'\n';
            } else {
                self.converted = at;
                return;
            }
            from = at + 1;
        }
        self.converted = len;
    }

    /// Scan `buf` for record ends: the first one, or the last one.
    fn record_end(&self, first_only: bool) -> Option<Found> {
        match self.framing {
            Framing::Csv { delimiter } => {
                let mut found = None;
                let mut irregular = false;
                scan_csv(&self.buf, delimiter, |end, newlines, irr| {
                    irregular |= irr;
                    found = Some(Found {
                        end,
                        newlines,
                        irregular,
                    });
                    !first_only
                });
                found
            }
            Framing::Lines => {
                let at = if first_only {
                    memchr::memchr(b'\n', &self.buf)?
                } else {
                    memchr::memrchr(b'\n', &self.buf)?
                };
                Some(Found {
                    end: at + 1,
                    newlines: memchr::memchr_iter(b'\n', &self.buf[..=at]).count() as u64,
                    irregular: false,
                })
            }
        }
    }

    /// Everything left in `buf` at the end of the input: the whole of it,
    /// and whether it ends inside a quoted field.
    fn rest(&self) -> (Found, bool) {
        match self.framing {
            Framing::Csv { delimiter } => {
                let mut irregular = false;
                let tail = scan_csv(&self.buf, delimiter, |_, _, irr| {
                    irregular |= irr;
                    true
                });
                let found = Found {
                    end: self.buf.len(),
                    newlines: tail.newlines,
                    irregular: irregular || tail.irregular,
                };
                (found, tail.in_quotes)
            }
            Framing::Lines => (
                Found {
                    end: self.buf.len(),
                    newlines: memchr::memchr_iter(b'\n', &self.buf).count() as u64,
                    irregular: false,
                },
                false,
            ),
        }
    }

    fn take(&mut self, found: Found, unterminated: bool) -> Chunk {
        let rest = self.buf.split_off(found.end);
        let data = std::mem::replace(&mut self.buf, rest);
        let chunk = Chunk {
            seq: self.seq,
            data,
            first_line: self.line,
            unterminated,
            irregular: found.irregular,
        };
        self.line += found.newlines;
        self.consumed += found.end as u64;
        self.converted = self.converted.saturating_sub(found.end);
        chunk
    }

    /// The first record (the CSV header, or the first JSON line) without
    /// consuming it from the chunks that follow when `consume` is false.
    pub fn first_record(&mut self, consume: bool) -> Result<Option<Vec<u8>>, SplitError> {
        let mut want = 64 << 10;
        loop {
            self.fill(want)?;
            let found = match self.record_end(true) {
                Some(found) => Some(found),
                None if self.eof => {
                    if self.buf.is_empty() {
                        return Ok(None);
                    }
                    // A header without a line end still ends its line: what
                    // follows (nothing) starts on the next one.
                    let (mut found, _) = self.rest();
                    found.newlines += 1;
                    Some(found)
                }
                None => None,
            };
            if let Some(found) = found {
                let record = trim_line_end(&self.buf[..found.end]).to_vec();
                if consume {
                    self.take(found, false);
                }
                return Ok(Some(record));
            }
            if want > MAX_RECORD {
                return Err(SplitError::RecordTooLong { line: self.line });
            }
            want *= 2;
        }
    }

    /// The next chunk of about `target` bytes of whole records.
    pub fn next_chunk(&mut self, target: usize) -> Result<Option<Chunk>, SplitError> {
        let chunk = self.cut(target)?;
        if chunk.is_some() {
            self.seq += 1;
        }
        Ok(chunk)
    }

    fn cut(&mut self, target: usize) -> Result<Option<Chunk>, SplitError> {
        let mut want = target;
        loop {
            self.fill(want)?;
            if self.buf.is_empty() {
                return Ok(None);
            }
            if self.eof {
                // Everything left: complete records, perhaps a last line
                // without a newline, perhaps an unclosed quote.
                let (all, unterminated) = self.rest();
                if unterminated {
                    // Ship the complete records first; the open record
                    // becomes a chunk of its own.
                    if let Some(found) = self.record_end(false) {
                        return Ok(Some(self.take(found, false)));
                    }
                }
                return Ok(Some(self.take(all, unterminated)));
            }
            if let Some(found) = self.record_end(false) {
                return Ok(Some(self.take(found, false)));
            }
            if want > MAX_RECORD {
                return Err(SplitError::RecordTooLong { line: self.line });
            }
            want *= 2;
        }
    }
}

pub fn trim_line_end(line: &[u8]) -> &[u8] {
    let line = line.strip_suffix(b"\n").unwrap_or(line);
    line.strip_suffix(b"\r").unwrap_or(line)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Hands out a few bytes per read, as a pipe might.
    struct Trickle<'a>(&'a [u8]);
    impl Read for Trickle<'_> {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            let n = self.0.len().min(buf.len()).min(3);
            buf[..n].copy_from_slice(&self.0[..n]);
            self.0 = &self.0[n..];
            Ok(n)
        }
    }

    fn chunks(input: &str, target: usize) -> Vec<(u64, String, bool)> {
        let mut splitter = Splitter::new(
            Trickle(input.as_bytes()),
            Framing::Csv {
                delimiter: Some(b','),
            },
        );
        let mut out = Vec::new();
        while let Some(c) = splitter.next_chunk(target).unwrap() {
            out.push((
                c.first_line,
                String::from_utf8(c.data).unwrap(),
                c.unterminated,
            ));
        }
        out
    }

    #[test]
    fn cuts_only_between_records() {
        let input = "a,\"x\ny\",1\nb,2\nc,\"\"\"q\"\"\",3\n";
        let got = chunks(input, 4);
        let joined: String = got.iter().map(|c| c.1.as_str()).collect();
        assert_eq!(joined, input);
        for (_, data, _) in &got {
            assert!(data.ends_with('\n'));
            assert_eq!(data.matches('"').count() % 2, 0, "{data:?}");
        }
        assert!(got.len() > 1);
        let mut line = 1;
        for (first_line, data, _) in &got {
            assert_eq!(*first_line, line, "{data:?}");
            line += data.matches('\n').count() as u64;
        }
    }

    #[test]
    fn last_line_without_newline_and_unclosed_quote() {
        let got = chunks("a,1\nb,\"open\nc,3", 1 << 20);
        assert_eq!(got.len(), 2);
        assert_eq!(got[0], (1, "a,1\n".into(), false));
        assert_eq!(got[1], (2, "b,\"open\nc,3".into(), true));
    }

    #[test]
    fn header_and_bom() {
        let mut splitter = Splitter::new(
            &b"\xef\xbb\xbfId,Name\r\n1,x\r\n"[..],
            Framing::Csv { delimiter: None },
        );
        assert_eq!(
            splitter.first_record(true).unwrap().unwrap(),
            b"Id,Name".to_vec()
        );
        let chunk = splitter.next_chunk(100).unwrap().unwrap();
        assert_eq!(chunk.data, b"1,x\r\n");
        assert_eq!(chunk.first_line, 2);
    }

    /// Each record of every chunk: (first line, text, irregular).
    fn records(input: &str, target: usize) -> Vec<(u64, String, bool)> {
        let mut splitter = Splitter::new(
            Trickle(input.as_bytes()),
            Framing::Csv {
                delimiter: Some(b','),
            },
        );
        let mut out = Vec::new();
        while let Some(c) = splitter.next_chunk(target).unwrap() {
            let mut line = c.first_line;
            let mut any = false;
            csv_records(&c.data, b',', |range, irregular| {
                let text = &c.data[range];
                out.push((line, String::from_utf8(text.to_vec()).unwrap(), irregular));
                line += text.iter().filter(|b| **b == b'\n').count() as u64;
                any |= irregular;
            });
            assert_eq!(c.irregular, any, "{:?}", String::from_utf8_lossy(&c.data));
        }
        out
    }

    #[test]
    fn a_quote_inside_a_field_is_a_plain_character() {
        let input = "a,Wayne 5\" Enterprises,1\nb,\"x\"y,2\nc,\"q\"\"\",3\nd,\"\",4\n";
        let got = records(input, 1);
        assert_eq!(
            got,
            [
                (1, "a,Wayne 5\" Enterprises,1\n".into(), true),
                (2, "b,\"x\"y,2\n".into(), true),
                (3, "c,\"q\"\"\",3\n".into(), false),
                (4, "d,\"\",4\n".into(), false)
            ]
        );
    }

    #[test]
    fn a_quote_opens_a_field_only_after_the_delimiter() {
        let scan = |text: &str, delimiter| {
            let mut ends = Vec::new();
            let tail = scan_csv(text.as_bytes(), delimiter, |end, _, irregular| {
                ends.push((end, irregular));
                true
            });
            (ends, tail.in_quotes)
        };
        // With `;` as the delimiter, `,"` does not start a field.
        assert_eq!(
            scan("a;b,\"c\nd\n", Some(b';')),
            (vec![(7, true), (9, false)], false)
        );
        assert_eq!(scan("a;\"b,c\nd\"\n", Some(b';')).0, vec![(10, false)]);
        // Sniffing: any of the three may be the delimiter.
        assert_eq!(scan("a,\"b\nc\"\n", None).0, vec![(8, false)]);
        assert_eq!(scan("a,\"open\nb\n", Some(b',')), (vec![], true));
    }

    #[test]
    fn lone_carriage_returns_end_lines() {
        let got = records("a,1\rb,\"x\ry\"\rc,2\r\nd,3\r", 1);
        assert_eq!(
            got,
            [
                (1, "a,1\n".into(), false),
                (2, "b,\"x\ny\"\n".into(), false),
                (4, "c,2\r\n".into(), false),
                (5, "d,3\n".into(), false)
            ]
        );
        // A `\r` at the end of a read waits for the next byte.
        let got = chunks("a\r\nb\r\r\nc", 1);
        let joined: String = got.iter().map(|c| c.1.as_str()).collect();
        assert_eq!(joined, "a\r\nb\n\r\nc");
        assert_eq!(got.last().unwrap().0, 4);
    }
}
