//! Cutting a lead file into chunks of whole records, so that workers can
//! parse them in parallel and the output can be put back in input order.
//!
//! A CSV record ends at a newline that is outside quotes: since an escaped
//! quote is written twice, a newline is a record end exactly when an even
//! number of quotes precede it in the record. The splitter tracks that
//! parity with `memchr2` (fast: it stops only at quotes and newlines), and
//! counts newlines so every record knows its line number.

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
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Framing {
    /// Records end at newlines outside double quotes.
    Csv,
    /// Records end at every newline (JSON Lines).
    Lines,
}

pub struct Splitter<R> {
    input: R,
    framing: Framing,
    buf: Vec<u8>,
    eof: bool,
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
                "line {line}: a record longer than {} MiB — most likely a quote (\") opened on this line is never closed",
                MAX_RECORD >> 20
            ),
        }
    }
}

impl<R: Read> Splitter<R> {
    pub fn new(input: R, framing: Framing) -> Splitter<R> {
        Splitter {
            input,
            framing,
            buf: Vec::new(),
            eof: false,
            line: 1,
            seq: 0,
            started: false,
            consumed: 0,
        }
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
        while !self.eof && self.buf.len() < want {
            let len = self.buf.len();
            let grow = (want - len).max(64 << 10);
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
        Ok(())
    }

    /// Scan `buf` for record ends. Returns the end (exclusive) of the first
    /// record, or of the last complete record, with the number of newlines
    /// before it; `None` when `buf` holds no complete record.
    fn record_end(&self, first_only: bool) -> Option<(usize, u64)> {
        let mut in_quotes = false;
        let mut newlines = 0u64;
        let mut found = None;
        let mut pos = 0;
        while pos < self.buf.len() {
            let hit = match self.framing {
                Framing::Csv => memchr::memchr2(b'"', b'\n', &self.buf[pos..]),
                Framing::Lines => memchr::memchr(b'\n', &self.buf[pos..]),
            };
            let Some(i) = hit else { break };
            let at = pos + i;
            if self.buf[at] == b'"' {
                in_quotes = !in_quotes;
            } else {
                newlines += 1;
                if !in_quotes {
                    found = Some((at + 1, newlines));
                    if first_only {
                        break;
                    }
                }
            }
            pos = at + 1;
        }
        found
    }

    /// Whether the remaining input ends inside quotes.
    fn ends_in_quotes(&self) -> bool {
        self.framing == Framing::Csv && memchr::memchr_iter(b'"', &self.buf).count() % 2 == 1
    }

    fn take(&mut self, end: usize, newlines: u64, unterminated: bool) -> Chunk {
        let rest = self.buf.split_off(end);
        let data = std::mem::replace(&mut self.buf, rest);
        let chunk = Chunk {
            seq: self.seq,
            data,
            first_line: self.line,
            unterminated,
        };
        self.line += newlines;
        self.consumed += end as u64;
        chunk
    }

    /// The first record (the CSV header, or the first JSON line) without
    /// consuming it from the chunks that follow when `consume` is false.
    pub fn first_record(&mut self, consume: bool) -> Result<Option<Vec<u8>>, SplitError> {
        let mut want = 64 << 10;
        loop {
            self.fill(want)?;
            let end = match self.record_end(true) {
                Some((end, newlines)) => Some((end, newlines)),
                None if self.eof => {
                    if self.buf.is_empty() {
                        return Ok(None);
                    }
                    let newlines = memchr::memchr_iter(b'\n', &self.buf).count() as u64;
                    Some((self.buf.len(), newlines))
                }
                None => None,
            };
            if let Some((end, newlines)) = end {
                let record = trim_line_end(&self.buf[..end]).to_vec();
                if consume {
                    self.take(end, newlines, false);
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
                let end = self.buf.len();
                let newlines = memchr::memchr_iter(b'\n', &self.buf).count() as u64;
                let unterminated = self.ends_in_quotes();
                if unterminated {
                    // Ship the complete records first; the open record
                    // becomes a chunk of its own.
                    if let Some((end, newlines)) = self.record_end(false) {
                        return Ok(Some(self.take(end, newlines, false)));
                    }
                }
                return Ok(Some(self.take(end, newlines, unterminated)));
            }
            if let Some((end, newlines)) = self.record_end(false) {
                return Ok(Some(self.take(end, newlines, false)));
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
        let mut splitter = Splitter::new(Trickle(input.as_bytes()), Framing::Csv);
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
        let mut splitter = Splitter::new(&b"\xef\xbb\xbfId,Name\r\n1,x\r\n"[..], Framing::Csv);
        assert_eq!(
            splitter.first_record(true).unwrap().unwrap(),
            b"Id,Name".to_vec()
        );
        let chunk = splitter.next_chunk(100).unwrap().unwrap();
        assert_eq!(chunk.data, b"1,x\r\n");
        assert_eq!(chunk.first_line, 2);
    }
}
