//! `qualify.toml`: project settings found beside a policy or in a folder
//! above it, so the command line and the editor see the same sample.
//!
//! ```toml
//! [sample]
//! file = "data/leads.csv"   # relative to this file
//! min_pass_rate = "1%"      # or 0.01
//! max_missing = "30%"
//! outcome = "Converted"     # or "Status=Won": conversion rates in hovers
//! ```

use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::analysis::sample::Thresholds;
use crate::files::ReadError;
use crate::leads::outcome::Outcome;

pub const FILE_NAME: &str = "qualify.toml";

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    sample: Option<SampleSection>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SampleSection {
    file: PathBuf,
    min_pass_rate: Option<Rate>,
    max_missing: Option<Rate>,
    /// The column saying whether a lead converted: `Converted` or
    /// `Status=Won`.
    outcome: Option<String>,
}

/// A share, written `0.01` or `"1%"`.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum Rate {
    Share(f64),
    Percent(String),
}

impl Rate {
    fn share(&self) -> Result<f64, String> {
        match self {
            Rate::Share(x) => parse_rate(&x.to_string()),
            Rate::Percent(text) => parse_rate(text),
        }
    }
}

/// `1%`, `0.5 %` or `0.01`.
pub fn parse_rate(text: &str) -> Result<f64, String> {
    let text = text.trim();
    let (number, scale) = match text.strip_suffix('%') {
        Some(n) => (n.trim(), 0.01),
        None => (text, 1.0),
    };
    let value: f64 = number
        .parse()
        .map_err(|_| format!("`{text}` is not a share like 1% or 0.01"))?;
    let share = value * scale;
    if (0.0..=1.0).contains(&share) {
        Ok(share)
    } else {
        Err(format!("`{text}` is not between 0% and 100%"))
    }
}

/// The sample settings in force for a policy.
#[derive(Clone, Debug, PartialEq)]
pub struct Sample {
    pub file: PathBuf,
    pub thresholds: Thresholds,
    /// The `qualify.toml` they came from.
    pub origin: PathBuf,
    /// Whether each sample lead converted, when the sample says.
    pub outcome: Option<Outcome>,
}

/// Which sample the strictness findings use: the command line's options or
/// the editor's settings, over the project's `qualify.toml`.
#[derive(Clone, Debug, PartialEq)]
pub struct SampleChoice {
    /// A sample given directly (`--sample`, the editor setting).
    pub file: Option<PathBuf>,
    /// Look for `qualify.toml` when no file is given.
    pub use_config: bool,
    pub min_pass_rate: Option<f64>,
    pub max_missing: Option<f64>,
}

impl Default for SampleChoice {
    fn default() -> Self {
        SampleChoice {
            file: None,
            use_config: true,
            min_pass_rate: None,
            max_missing: None,
        }
    }
}

/// Why the project settings could not be used.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum ConfigError {
    #[error("{}: {error}", path.display())]
    Read { path: PathBuf, error: ReadError },
    /// Where and what, without the excerpt toml would quote: if the file is
    /// not a qualify.toml at all, its lines are not shown.
    #[error("{}: {at}{message}", path.display())]
    Syntax {
        path: PathBuf,
        at: String,
        message: String,
    },
    #[error("{}: {key}: {message}", path.display())]
    Setting {
        path: PathBuf,
        key: &'static str,
        message: String,
    },
}

/// The sample a policy is measured on: the one chosen, else its
/// qualify.toml. `read` gives a file's text, `Ok(None)` when there is no
/// such file (the database reads it, so it knows to ask again when the file
/// appears).
pub fn sample_for(
    choice: &SampleChoice,
    policy: &Path,
    mut read: impl FnMut(&Path) -> Result<Option<String>, ReadError>,
) -> Result<Option<Sample>, ConfigError> {
    let mut sample = match (&choice.file, choice.use_config) {
        (Some(file), _) => Some(Sample {
            file: file.clone(),
            thresholds: Default::default(),
            origin: PathBuf::from("--sample"),
            outcome: None,
        }),
        (None, false) => None,
        (None, true) => {
            let mut found = None;
            for candidate in candidates(policy) {
                match read(&candidate) {
                    Ok(None) => continue,
                    Ok(Some(text)) => {
                        found = parse(&shown(&candidate), &text)?;
                        break;
                    }
                    Err(error) => {
                        return Err(ConfigError::Read {
                            path: shown(&candidate),
                            error,
                        });
                    }
                }
            }
            found
        }
    };
    if let Some(sample) = &mut sample {
        if let Some(rate) = choice.min_pass_rate {
            sample.thresholds.min_pass_rate = rate;
        }
        if let Some(rate) = choice.max_missing {
            sample.thresholds.max_missing = rate;
        }
    }
    Ok(sample)
}

/// Where a `qualify.toml` for the policy may be: at or above its folder,
/// nearest first.
pub fn candidates(policy: &Path) -> Vec<PathBuf> {
    let absolute = std::fs::canonicalize(policy).unwrap_or_else(|_| {
        std::env::current_dir()
            .map(|d| d.join(policy))
            .unwrap_or_else(|_| policy.to_path_buf())
    });
    absolute
        .ancestors()
        .skip(1)
        .map(|dir| dir.join(FILE_NAME))
        .collect()
}

/// A path as shown in messages: relative to where the command runs, when
/// inside it.
fn shown(path: &Path) -> PathBuf {
    let here = std::env::current_dir()
        .ok()
        .and_then(|d| std::fs::canonicalize(d).ok());
    match here.and_then(|h| path.strip_prefix(h).ok().map(Path::to_path_buf)) {
        Some(relative) => relative,
        None => path.to_path_buf(),
    }
}

/// A `qualify.toml`'s text, from `path`; paths in it are relative to its
/// folder.
pub fn parse(path: &Path, text: &str) -> Result<Option<Sample>, ConfigError> {
    let file: File = toml::from_str(text).map_err(|e| ConfigError::Syntax {
        path: path.to_path_buf(),
        at: e.span().map_or(String::new(), |span| {
            let before = text.get(..span.start).unwrap_or(text);
            let line = before.matches('\n').count() + 1;
            let column = before[before.rfind('\n').map_or(0, |i| i + 1)..]
                .chars()
                .count()
                + 1;
            format!("line {line}, column {column}: ")
        }),
        message: e.message().trim_end().to_string(),
    })?;
    let Some(section) = file.sample else {
        return Ok(None);
    };
    let dir = path.parent().unwrap_or(Path::new("."));
    let setting = |key: &'static str| {
        move |message: String| ConfigError::Setting {
            path: path.to_path_buf(),
            key,
            message,
        }
    };
    let mut thresholds = Thresholds::default();
    if let Some(rate) = &section.min_pass_rate {
        thresholds.min_pass_rate = rate.share().map_err(setting("min_pass_rate"))?;
    }
    if let Some(rate) = &section.max_missing {
        thresholds.max_missing = rate.share().map_err(setting("max_missing"))?;
    }
    let outcome = match &section.outcome {
        Some(text) => Some(Outcome::parse(text).map_err(setting("outcome"))?),
        None => None,
    };
    Ok(Some(Sample {
        file: dir.join(section.file),
        thresholds,
        origin: path.to_path_buf(),
        outcome,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_read_as_shares() {
        assert_eq!(parse_rate("1%"), Ok(0.01));
        assert_eq!(parse_rate(" 30 %"), Ok(0.3));
        assert_eq!(parse_rate("0.05"), Ok(0.05));
        assert!(parse_rate("150%").is_err());
        assert!(parse_rate("lots").is_err());
    }
}
