//! Diagnostics for people and for tools: miette (graphical on a terminal,
//! plain text otherwise), JSON, GitHub workflow annotations and SARIF 2.1.0.

use std::fmt;

use miette::{GraphicalReportHandler, GraphicalTheme, LabeledSpan, NamedSource};
use serde_json::json;

use crate::diagnostic::{Code, Diagnostic, Severity};
use crate::line_index::LineIndex;

/// A diagnostic with the text it points into, ready for miette.
struct Report<'a> {
    diag: &'a Diagnostic,
    source: NamedSource<String>,
    related: Vec<RelatedReport>,
}

#[derive(Debug)]
struct RelatedReport {
    message: String,
    source: Option<NamedSource<String>>,
    span: (usize, usize),
}

impl fmt::Debug for Report<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.diag.message)
    }
}
impl fmt::Display for Report<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.diag.message)
    }
}
impl std::error::Error for Report<'_> {}

impl fmt::Display for RelatedReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.message)
    }
}
impl std::error::Error for RelatedReport {}
impl miette::Diagnostic for RelatedReport {
    fn severity(&self) -> Option<miette::Severity> {
        Some(miette::Severity::Advice)
    }
    fn source_code(&self) -> Option<&dyn miette::SourceCode> {
        self.source.as_ref().map(|s| s as &dyn miette::SourceCode)
    }
    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        self.source.as_ref()?;
        Some(Box::new(std::iter::once(LabeledSpan::new(
            Some(self.message.clone()),
            self.span.0,
            self.span.1,
        ))))
    }
}

impl miette::Diagnostic for Report<'_> {
    fn code<'b>(&'b self) -> Option<Box<dyn fmt::Display + 'b>> {
        Some(Box::new(self.diag.code.as_str()))
    }
    fn severity(&self) -> Option<miette::Severity> {
        Some(match self.diag.severity {
            Severity::Error => miette::Severity::Error,
            Severity::Warning => miette::Severity::Warning,
            Severity::Note => miette::Severity::Advice,
        })
    }
    fn help<'b>(&'b self) -> Option<Box<dyn fmt::Display + 'b>> {
        let d = self.diag;
        match (&d.help, &d.witness) {
            (Some(help), Some(lead)) => {
                Some(Box::new(format!("{help}\n{}: {lead}", d.witness_intro())))
            }
            (None, Some(lead)) => Some(Box::new(format!("{}: {lead}", d.witness_intro()))),
            (Some(help), None) => Some(Box::new(help)),
            (None, None) => None,
        }
    }
    fn source_code(&self) -> Option<&dyn miette::SourceCode> {
        Some(&self.source)
    }
    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        let span = self.diag.span;
        Some(Box::new(std::iter::once(
            LabeledSpan::new_primary_with_span(
                self.diag.label.clone(),
                (span.start as usize, span.len()),
            ),
        )))
    }
    fn related<'b>(&'b self) -> Option<Box<dyn Iterator<Item = &'b dyn miette::Diagnostic> + 'b>> {
        if self.related.is_empty() {
            return None;
        }
        Some(Box::new(
            self.related.iter().map(|r| r as &dyn miette::Diagnostic),
        ))
    }
}

/// Render diagnostics for a person. `read` gives the text of a file.
pub fn human(
    diags: &[Diagnostic],
    read: &dyn Fn(&std::path::Path) -> Option<String>,
    color: bool,
) -> String {
    let theme = if color {
        GraphicalTheme::unicode()
    } else {
        GraphicalTheme::unicode_nocolor()
    };
    let handler = GraphicalReportHandler::new_themed(theme).with_width(100);
    let mut out = String::new();
    for diag in diags {
        let text = read(&diag.file).unwrap_or_default();
        let related = diag
            .related
            .iter()
            .map(|r| {
                let source = if r.file == diag.file {
                    Some(NamedSource::new(r.file.display().to_string(), text.clone()))
                } else {
                    read(&r.file).map(|t| NamedSource::new(r.file.display().to_string(), t))
                };
                RelatedReport {
                    message: r.message.clone(),
                    source,
                    span: (r.span.start as usize, r.span.len()),
                }
            })
            .collect();
        let report = Report {
            diag,
            source: NamedSource::new(diag.file.display().to_string(), text),
            related,
        };
        let _ = handler.render_report(&mut out, &report);
    }
    out
}

struct Located {
    line: usize,
    col: usize,
    end_line: usize,
    end_col: usize,
}

fn locate(diag: &Diagnostic, read: &dyn Fn(&std::path::Path) -> Option<String>) -> Located {
    let text = read(&diag.file).unwrap_or_default();
    let index = LineIndex::new(&text);
    let (line, col) = index.line_col(&text, diag.span.start as usize);
    let (end_line, end_col) = index.line_col(&text, diag.span.end as usize);
    Located {
        line,
        col,
        end_line,
        end_col,
    }
}

pub fn json(diags: &[Diagnostic], read: &dyn Fn(&std::path::Path) -> Option<String>) -> String {
    let items: Vec<serde_json::Value> = diags
        .iter()
        .map(|d| {
            let at = locate(d, read);
            json!({
                "file": d.file.display().to_string(),
                "code": d.code.as_str(),
                "severity": d.severity,
                "message": d.message,
                "line": at.line,
                "column": at.col,
                "end_line": at.end_line,
                "end_column": at.end_col,
                "label": d.label,
                "help": d.help,
                "witness": d.witness.as_ref().and_then(|w| serde_json::from_str::<serde_json::Value>(w).ok()),
                "witness_as_of": d.witness_as_of,
                "related": d.related.iter().map(|r| json!({
                    "file": r.file.display().to_string(),
                    "message": r.message,
                    "start": r.span.start,
                    "end": r.span.end,
                })).collect::<Vec<_>>(),
            })
        })
        .collect();
    serde_json::to_string_pretty(&items).unwrap()
}

fn github_escape(s: &str, property: bool) -> String {
    let mut out = s
        .replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A");
    if property {
        out = out.replace(':', "%3A").replace(',', "%2C");
    }
    out
}

/// GitHub Actions workflow commands: one annotation per diagnostic.
pub fn github(diags: &[Diagnostic], read: &dyn Fn(&std::path::Path) -> Option<String>) -> String {
    let mut out = String::new();
    for d in diags {
        let at = locate(d, read);
        let level = match d.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Note => "notice",
        };
        let mut message = d.message.clone();
        if let Some(help) = &d.help {
            message.push_str(&format!("\nhelp: {help}"));
        }
        if let Some(lead) = &d.witness {
            message.push_str(&format!("\n{}: {lead}", d.witness_intro()));
        }
        out.push_str(&format!(
            "::{level} file={},line={},col={},endLine={},endColumn={},title={}::{}\n",
            github_escape(&d.file.display().to_string(), true),
            at.line,
            at.col,
            at.end_line,
            at.end_col,
            github_escape(&format!("{} {}", d.code.as_str(), d.code.summary()), true),
            github_escape(&message, false)
        ));
    }
    out
}

/// SARIF 2.1.0, as GitHub code scanning reads it.
pub fn sarif(diags: &[Diagnostic], read: &dyn Fn(&std::path::Path) -> Option<String>) -> String {
    let rules: Vec<serde_json::Value> = Code::ALL
        .iter()
        .map(|c| {
            json!({
                "id": c.as_str(),
                "shortDescription": { "text": c.summary() },
                "helpUri": format!("https://github.com/qualify-lang/qualify/blob/main/docs/diagnostics.md#{}", c.as_str().to_lowercase()),
                "defaultConfiguration": { "level": c.severity().as_str() },
            })
        })
        .collect();
    let results: Vec<serde_json::Value> = diags
        .iter()
        .map(|d| {
            let text = read(&d.file).unwrap_or_default();
            let index = LineIndex::new(&text);
            let (line, col) = index.utf16(&text, d.span.start as usize);
            let (end_line, end_col) = index.utf16(&text, d.span.end as usize);
            let mut message = d.message.clone();
            if let Some(help) = &d.help {
                message.push_str(&format!(" (help: {help})"));
            }
            if let Some(lead) = &d.witness {
                message.push_str(&format!(" ({}: {lead})", d.witness_intro()));
            }
            json!({
                "ruleId": d.code.as_str(),
                "ruleIndex": Code::ALL.iter().position(|c| *c == d.code).unwrap(),
                "level": d.severity.as_str(),
                "message": { "text": message },
                "locations": [{
                    "physicalLocation": {
                        "artifactLocation": { "uri": uri_path(&d.file) },
                        "region": {
                            "startLine": line + 1,
                            "startColumn": col + 1,
                            "endLine": end_line + 1,
                            "endColumn": end_col + 1,
                        }
                    }
                }],
            })
        })
        .collect();
    let doc = json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": { "driver": {
                "name": "qualify",
                "version": env!("CARGO_PKG_VERSION"),
                "informationUri": "https://github.com/qualify-lang/qualify",
                "rules": rules,
            }},
            "columnKind": "utf16CodeUnits",
            "results": results,
        }]
    });
    serde_json::to_string_pretty(&doc).unwrap()
}

fn uri_path(path: &std::path::Path) -> String {
    path.to_string_lossy()
        .replace('\\', "/")
        .replace(' ', "%20")
}
