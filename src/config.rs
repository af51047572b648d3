//! `qualify.toml`: project settings found beside a policy or in a folder
//! above it, so the command line and the editor see the same sample.
//!
//! ```toml
//! [sample]
//! file = "data/leads.csv"   # relative to this file
//! min_pass_rate = "1%"      # or 0.01
//! max_missing = "30%"
//! ```

use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::analysis::sample::Thresholds;

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

/// The sample a policy is measured on: the one chosen, else its qualify.toml.
pub fn sample_for(choice: &SampleChoice, policy: &Path) -> Result<Option<Sample>, String> {
    let mut sample = match (&choice.file, choice.use_config) {
        (Some(file), _) => Some(Sample {
            file: file.clone(),
            thresholds: Default::default(),
            origin: PathBuf::from("--sample"),
        }),
        (None, false) => None,
        (None, true) => match find(policy) {
            Some(toml) => read(&toml)?,
            None => None,
        },
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

/// The nearest `qualify.toml` at or above the policy's folder.
pub fn find(policy: &Path) -> Option<PathBuf> {
    let absolute = std::fs::canonicalize(policy).ok()?;
    let found = absolute
        .ancestors()
        .skip(1)
        .map(|dir| dir.join(FILE_NAME))
        .find(|candidate| candidate.is_file())?;
    // Shown in messages: relative to where the command runs, when inside it.
    let here = std::env::current_dir()
        .ok()
        .and_then(|d| std::fs::canonicalize(d).ok());
    match here.and_then(|h| found.strip_prefix(h).ok().map(Path::to_path_buf)) {
        Some(relative) => Some(relative),
        None => Some(found),
    }
}

/// Read a `qualify.toml`; paths in it are relative to its folder.
pub fn read(path: &Path) -> Result<Option<Sample>, String> {
    // Read as policies are: a regular file of bounded size (a qualify.toml
    // may be a link to anything).
    let text = crate::db::read_policy_text(path).map_err(|e| format!("{}: {e}", path.display()))?;
    // Where and what, without the excerpt toml would quote: if the file is
    // not a qualify.toml at all, its lines are not shown.
    let file: File = toml::from_str(&text).map_err(|e| {
        let at = e.span().map_or(String::new(), |span| {
            let before = text.get(..span.start).unwrap_or(&text);
            let line = before.matches('\n').count() + 1;
            let column = before[before.rfind('\n').map_or(0, |i| i + 1)..]
                .chars()
                .count()
                + 1;
            format!("line {line}, column {column}: ")
        });
        format!("{}: {at}{}", path.display(), e.message().trim_end())
    })?;
    let Some(section) = file.sample else {
        return Ok(None);
    };
    let dir = path.parent().unwrap_or(Path::new("."));
    let mut thresholds = Thresholds::default();
    if let Some(rate) = &section.min_pass_rate {
        thresholds.min_pass_rate = rate
            .share()
            .map_err(|e| format!("{}: min_pass_rate: {e}", path.display()))?;
    }
    if let Some(rate) = &section.max_missing {
        thresholds.max_missing = rate
            .share()
            .map_err(|e| format!("{}: max_missing: {e}", path.display()))?;
    }
    Ok(Some(Sample {
        file: dir.join(section.file),
        thresholds,
        origin: path.to_path_buf(),
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
