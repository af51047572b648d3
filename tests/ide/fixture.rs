//! Fixtures: policy text with a `$0` cursor (or a `$0…$0` selection), in
//! one file or in several behind `//- /path/file.qual` headers, loaded into a
//! fresh database; and the renderings the `check` helpers compare.

use std::path::{Path, PathBuf};

use qualify::config::SampleChoice;
use qualify::db::{Database, SourceFile};
use qualify::ide::{FileEdit, FileSpan};
use qualify::line_index::LineIndex;
use qualify::syntax::Span;

/// The folder fixture files live in; it does not exist on disk, so nothing
/// is ever read from there (and no `qualify.toml` is found above it).
pub const ROOT: &str = "/qualify-ide-fixture";

/// The file of a single-file fixture.
pub const DEFAULT_FILE: &str = "/policy.qual";

/// The date `within N days` is judged against, so analyses do not depend
/// on the day the tests run.
pub const AS_OF: &str = "2026-06-01";

pub struct Fixture {
    pub db: Database,
    /// Every file, in the order written.
    pub files: Vec<SourceFile>,
    /// The file holding the cursor.
    pub file: SourceFile,
    /// The cursor (empty) or the selection between two `$0`s.
    pub range: Span,
}

impl Fixture {
    pub fn parse(fixture: &str) -> Fixture {
        let fixture = trim_indent(fixture);
        let mut sources: Vec<(String, String)> = Vec::new();
        if fixture.starts_with("//- ") {
            for line in fixture.split_inclusive('\n') {
                match line.strip_prefix("//- ") {
                    Some(path) => sources.push((path.trim().to_string(), String::new())),
                    None => sources.last_mut().unwrap().1.push_str(line),
                }
            }
        } else {
            sources.push((DEFAULT_FILE.to_string(), fixture));
        }

        let mut db = Database::default();
        db.set_as_of(qualify::check::date_from_ymd(AS_OF).unwrap());
        db.set_sample_choice(SampleChoice {
            use_config: false,
            ..SampleChoice::default()
        });
        let mut files = Vec::new();
        let mut cursor = None;
        for (path, text) in sources {
            let (text, range) = take_markers(&text);
            let file = db.set_file(&full_path(&path), text);
            if let Some(range) = range {
                assert!(cursor.is_none(), "more than one file has a `$0` cursor");
                cursor = Some((file, range));
            }
            files.push(file);
        }
        let (file, range) = cursor.expect("the fixture has no `$0` cursor");
        Fixture {
            db,
            files,
            file,
            range,
        }
    }

    pub fn offset(&self) -> usize {
        self.range.start as usize
    }

    pub fn text(&self, file: SourceFile) -> &str {
        file.text(&self.db)
    }

    /// The file at `path` (absolute, as the ide answers it).
    fn text_at(&self, path: &Path) -> &str {
        self.files
            .iter()
            .find(|f| qualify::ide::same_file(f.path(&self.db), path))
            .map_or("", |f| f.text(&self.db))
    }

    /// `"budget" 3:7`, with the file's path when it is not the cursor's.
    pub fn show_span(&self, at: &FileSpan) -> String {
        let text = self.text_at(&at.path);
        let (line, col) = LineIndex::new(text).line_col(text, at.span.start as usize);
        let covered = text.get(at.span.range()).unwrap_or("<out of range>");
        let path = if qualify::ide::same_file(&at.path, self.file.path(&self.db)) {
            String::new()
        } else {
            format!("{} ", short(&at.path))
        };
        format!("{path}{line}:{col} {covered:?}")
    }

    /// Every file `edits` change, as it reads after them: the whole text
    /// under a `//- /path` header when the fixture has several files.
    pub fn apply(&self, edits: &[FileEdit]) -> String {
        let mut out = String::new();
        for &file in &self.files {
            let path = file.path(&self.db);
            let mine: Vec<&FileEdit> = edits
                .iter()
                .filter(|e| qualify::ide::same_file(&e.path, path))
                .collect();
            if mine.is_empty() {
                continue;
            }
            let mut text = self.text(file).to_string();
            let mut mine = mine;
            mine.sort_by_key(|e| std::cmp::Reverse((e.span.start, e.span.end)));
            for e in mine {
                text.replace_range(e.span.range(), &e.text);
            }
            if self.files.len() > 1 {
                out.push_str(&format!("//- {}\n", short(path)));
            }
            out.push_str(&text);
        }
        let stray: Vec<&FileEdit> = edits
            .iter()
            .filter(|e| {
                !self
                    .files
                    .iter()
                    .any(|f| qualify::ide::same_file(f.path(&self.db), &e.path))
            })
            .collect();
        for e in stray {
            out.push_str(&format!("!! edit outside the fixture: {e:?}\n"));
        }
        out
    }
}

fn full_path(path: &str) -> PathBuf {
    PathBuf::from(format!("{ROOT}{path}"))
}

/// A fixture path as written in the fixture.
pub fn short(path: &Path) -> String {
    let shown = path.display().to_string();
    shown
        .strip_prefix(ROOT)
        .map_or(shown.clone(), str::to_string)
}

/// The text without its `$0` markers, and the cursor (one marker) or the
/// selection (two).
fn take_markers(text: &str) -> (String, Option<Span>) {
    let marks: Vec<usize> = text.match_indices("$0").map(|(i, _)| i).collect();
    let clean = text.replace("$0", "");
    let range = match marks.as_slice() {
        [] => None,
        [at] => Some(Span::new(*at, *at)),
        [start, end] => Some(Span::new(*start, *end - 2)),
        _ => panic!("more than two `$0` markers in one file"),
    };
    (clean, range)
}

/// Drop the first line when it is empty and the indentation every line
/// shares, so fixtures can be indented with the test code.
pub fn trim_indent(text: &str) -> String {
    let text = text.strip_prefix('\n').unwrap_or(text);
    let indent = text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| l.len() - l.trim_start().len())
        .min()
        .unwrap_or(0);
    text.split_inclusive('\n')
        .map(|l| {
            if l.trim().is_empty() {
                l.trim_start_matches([' ', '\t'])
            } else {
                &l[indent..]
            }
        })
        .collect()
}
