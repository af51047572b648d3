//! Bad rows as `backtest`, `diff` and `report` handle them, one way for all
//! three: each is counted, the first ten are shown, `--on-error reject=FILE`
//! writes them (with their line and reason) to a file that appears only
//! when the command succeeds, and `--on-error fail` reports nothing.

use std::path::Path;

use super::run::{OnError, create_rejects, write_reject};
use crate::leads::outcome::Outcome;
use crate::leads::{Format as InputFormat, Reject, output};

/// Shown on standard error; the rest are counted.
const SHOWN: u64 = 10;

pub(super) struct BadRows {
    input: String,
    format: InputFormat,
    columns: usize,
    fail: bool,
    file: Option<output::OutputFile>,
    /// A yes/no outcome column: its unreadable cells get a hint.
    yes_no_outcome: Option<String>,
    pub count: u64,
    shown: u64,
    outcome_cells: u64,
    /// Where the first bad row starts.
    pub first_line: Option<u64>,
}

impl BadRows {
    /// For `input` (named `name`, read as `format` with `columns`), the
    /// rejects file created when `on_error` asks for one.
    pub fn new(
        on_error: &OnError,
        leads: &Path,
        name: &str,
        format: InputFormat,
        columns: &[String],
        outcome: Option<&Outcome>,
    ) -> Result<BadRows, String> {
        let file = match on_error {
            OnError::Reject(path) => {
                if leads.as_os_str() != "-" && output::same_file(path, leads) {
                    return Err(format!(
                        "--on-error reject={} is the lead file itself: the rejected rows would replace the leads; write them to another file",
                        path.display()
                    ));
                }
                Some(create_rejects(path, format, columns)?)
            }
            _ => None,
        };
        Ok(BadRows {
            input: name.to_string(),
            format,
            columns: columns.len(),
            fail: *on_error == OnError::Fail,
            file,
            yes_no_outcome: outcome.filter(|o| o.is_yes_no()).map(|o| o.column.clone()),
            count: 0,
            shown: 0,
            outcome_cells: 0,
            first_line: None,
        })
    }

    pub fn fail(&self) -> bool {
        self.fail
    }

    fn unit(&self) -> &'static str {
        if self.format == InputFormat::JsonArray {
            "element"
        } else {
            "line"
        }
    }

    /// Count, show and keep one bad row; `Err` when the rejects file cannot
    /// be written.
    pub fn add(&mut self, reject: &Reject) -> Result<(), String> {
        self.count += 1;
        self.first_line.get_or_insert(reject.line);
        if self.yes_no_outcome.is_some() && reject.column == self.yes_no_outcome {
            self.outcome_cells += 1;
        }
        if self.shown < SHOWN {
            let text = reject.describe(self.unit());
            if self.fail {
                eprintln!("error: {}: {text}", self.input);
            } else {
                eprintln!("warning: {text}");
            }
            self.shown += 1;
        }
        if let Some(file) = &mut self.file {
            write_reject(file, reject, self.format, self.columns)
                .map_err(|e| format!("{}: {e}", file.shown().display()))?;
        }
        Ok(())
    }

    /// After the last row: what was not shown, and whether the command may
    /// report (`false`: bad rows with `--on-error fail`, said on standard
    /// error, with `note` before the help when given). `what` names what is
    /// not reported ("backtest").
    pub fn finish(&self, what: &str, note: Option<String>) -> bool {
        if self.shown < self.count {
            eprintln!(
                "… and {} more bad row(s) not shown",
                self.count - self.shown
            );
        }
        if let Some(column) = &self.yes_no_outcome {
            if self.outcome_cells > 0 {
                eprintln!(
                    "help: {} outcome cell(s) in \"{column}\" are not yes/no; if the column holds words, say which mean converted: `--outcome {column}=Won`",
                    self.outcome_cells
                );
            }
        }
        if self.fail && self.count > 0 {
            eprintln!(
                "error: {}: {} bad row(s); with `--on-error fail`, `qualify {what}` reports nothing",
                self.input, self.count
            );
            if let Some(note) = note {
                eprintln!("{note}");
            }
            eprintln!(
                "help: fix the row(s), or run with `--on-error skip` (or `reject=rejects.csv`) to leave bad rows out and go on"
            );
            return false;
        }
        true
    }

    /// Let the rejects file appear: the command succeeded.
    pub fn commit(&mut self) -> Result<(), String> {
        match &mut self.file {
            Some(file) => output::commit(&mut [file]),
            None => Ok(()),
        }
    }
}
