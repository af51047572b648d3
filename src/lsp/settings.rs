//! The editor's settings (`initializationOptions`, or
//! `workspace/didChangeConfiguration`), under `qualify` or at the top:
//! `sample`, `noConfig`, `minPassRate`, `maxMissing`, `asOf`.

use std::path::{Path, PathBuf};

use tower_lsp_server::ls_types::MessageType;

use super::state::State;
use crate::config::SampleChoice;

/// What the settings ask of the database.
pub(super) struct Settings {
    pub choice: SampleChoice,
    /// `None` when the date given is not one: the date in use is kept.
    pub as_of: Option<i32>,
}

/// Read the editor's settings, key by key: a key of the wrong type is
/// reported and left out, never the reason to drop the others. A relative
/// sample path is taken from `root`.
pub(super) fn read(value: &serde_json::Value, root: Option<&Path>) -> (Settings, Vec<String>) {
    use serde_json::Value as J;
    let value = value.get("qualify").unwrap_or(value);
    let mut problems = Vec::new();
    let get = |key: &str| value.get(key).filter(|v| !v.is_null());
    let sample = match get("sample") {
        Some(J::String(s)) => Some(s.clone()),
        Some(other) => {
            problems.push(format!("`sample` should be a file path, not {other}"));
            None
        }
        None => None,
    };
    let no_config = match get("noConfig") {
        Some(J::Bool(b)) => *b,
        Some(other) => {
            problems.push(format!("`noConfig` should be true or false, not {other}"));
            false
        }
        None => false,
    };
    let mut rate_of = |key: &str| {
        let raw = get(key).cloned();
        let parsed = rate(&raw);
        if raw.is_some() && parsed.is_none() {
            problems.push(format!(
                "`{key}` should be a rate such as 0.05 or \"5%\", not {}",
                raw.unwrap_or_default()
            ));
        }
        parsed
    };
    let min_pass_rate = rate_of("minPassRate");
    let max_missing = rate_of("maxMissing");
    // No date (or an empty one) means today, so clearing the setting
    // takes effect.
    let as_of = match get("asOf") {
        Some(J::String(s)) if s.trim().is_empty() => Some(crate::check::policy::today()),
        None => Some(crate::check::policy::today()),
        Some(J::String(s)) => match crate::check::date_from_ymd(s.trim()) {
            Some(day) => Some(day),
            None => {
                problems.push(format!("`asOf` should be a date as YYYY-MM-DD, not {s:?}"));
                None
            }
        },
        Some(other) => {
            problems.push(format!(
                "`asOf` should be a date as YYYY-MM-DD, not {other}"
            ));
            None
        }
    };
    let choice = SampleChoice {
        file: sample.as_ref().filter(|s| !s.is_empty()).map(|s| {
            let p = PathBuf::from(s);
            match (root, p.is_absolute()) {
                (Some(root), false) => root.join(p),
                _ => p,
            }
        }),
        use_config: !no_config,
        min_pass_rate,
        max_missing,
    };
    (Settings { choice, as_of }, problems)
}

/// Apply the editor's settings to the database. Returns the problems, for
/// the caller to show (`report`).
pub(super) fn apply(state: &State, value: &serde_json::Value) -> Vec<String> {
    let root = state.roots.lock().unwrap().first().cloned();
    let (settings, problems) = read(value, root.as_deref());
    state.write(|db| {
        db.set_sample_choice(settings.choice);
        if let Some(day) = settings.as_of {
            db.set_as_of(day);
        }
    });
    problems
}

/// Show the settings that were left out, if any.
pub(super) async fn report(state: &State, problems: Vec<String>) {
    if !problems.is_empty() {
        state
            .client
            .show_message(
                MessageType::WARNING,
                format!("qualify: ignored settings: {}", problems.join("; ")),
            )
            .await;
    }
}

/// A rate setting (`minPassRate`, `maxMissing`): 0.05 or "5%".
fn rate(value: &Option<serde_json::Value>) -> Option<f64> {
    match value.as_ref()? {
        serde_json::Value::Number(n) => crate::config::parse_rate(&n.to_string()).ok(),
        serde_json::Value::String(s) => crate::config::parse_rate(s).ok(),
        _ => None,
    }
}
