//! The one diagnostic type every layer produces and every front end renders.
//!
//! Codes are stable: once published, a code keeps its meaning. The catalogue
//! in `docs/diagnostics.md` lists each with an example and the fix; a test
//! keeps the two in step.

use std::path::PathBuf;

use serde::Serialize;

use crate::span::Span;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
    /// Information that never fails a check (an analysis that could not
    /// decide).
    Note,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Note => "note",
        }
    }
}

macro_rules! codes {
    ($($variant:ident = $code:literal, $severity:ident, $summary:literal;)*) => {
        /// Every diagnostic code Qualify can emit.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
        pub enum Code { $($variant),* }

        impl Code {
            pub const ALL: &'static [Code] = &[$(Code::$variant),*];
            pub fn as_str(self) -> &'static str {
                match self { $(Code::$variant => $code),* }
            }
            pub fn severity(self) -> Severity {
                match self { $(Code::$variant => Severity::$severity),* }
            }
            /// One line saying what the code is about, for the catalogue and SARIF.
            pub fn summary(self) -> &'static str {
                match self { $(Code::$variant => $summary),* }
            }
        }
    };
}

codes! {
    Syntax = "Q0001", Error, "the text does not follow the grammar";
    TooDeep = "Q0002", Error, "parentheses or braces nested too deeply";
    ImportNotFound = "Q0003", Error, "an imported file cannot be read";
    ImportHasErrors = "Q0004", Error, "an imported file has errors of its own";
    UnknownName = "Q0101", Error, "a name that is not a field, criterion or score";
    UnknownStage = "Q0102", Error, "a stage that the `stages` line does not declare";
    UnknownEnumValue = "Q0103", Error, "a value that is not in the field's enum";
    DuplicateDefinition = "Q0104", Error, "two definitions with the same name";
    CyclicCriterion = "Q0105", Error, "criteria that are defined in terms of each other";
    CyclicScore = "Q0106", Error, "a score that depends on itself";
    TypeMismatch = "Q0107", Error, "a comparison between values of different types";
    AtLeastTooLarge = "Q0108", Error, "`at least N of` with N larger than its list, or zero";
    NotACondition = "Q0109", Error, "a value used where a yes/no condition is needed";
    OperatorNotForType = "Q0110", Error, "an operator that does not apply to the field's type";
    UnknownTestField = "Q0111", Error, "a test lead sets a field the schema lacks";
    TestValueType = "Q0112", Error, "a test lead value of the wrong type";
    NoStages = "Q0113", Error, "rules without a `stages` declaration";
    DuplicateStage = "Q0114", Error, "a stage listed twice";
    OptionNotForType = "Q0115", Error, "a field option that does not fit the field's type";
    UnknownScore = "Q0116", Error, "a test expects a score that is not defined";
    UnknownRule = "Q0117", Error, "a name that is not a named rule";
    DuplicateColumn = "Q0118", Error, "two fields read the same column";
    KnownOnNonField = "Q0119", Error, "`known`/`unknown` on something that is never missing";
    MultipleOtherwise = "Q0120", Error, "more than one `otherwise` line";
    EmptyTest = "Q0121", Error, "a test without a lead or without an expectation";
    InvalidLiteral = "Q0122", Error, "a literal that is not a valid value";
    UncheckedOptional = "Q0201", Warning, "a rule relies on an optional field without saying what happens when it is missing";
    UnusedDefinition = "Q0202", Warning, "a criterion that no rule, criterion or score uses";
    ObsoleteOverrides = "Q0203", Warning, "an `overrides` clause, which no longer has any effect";
    UndirectedWithin = "Q0204", Warning, "`within N days` without `the last` or `the next`, which counts dates on both sides of the evaluation date";
    ToothlessDisqualifier = "Q0313", Warning, "a rule that concludes a stage at or below `otherwise`, so higher rules take the leads it is meant to hold back";
    IneffectiveCeiling = "Q0314", Warning, "a ceiling that matches every lead, or never lowers a stage";
    Contradiction = "Q0301", Warning, "a rule or criterion that no lead can meet";
    ShadowedRule = "Q0302", Warning, "a rule that never decides: rules taking precedence decide every lead it matches";
    UnreachableThreshold = "Q0304", Warning, "a score condition no lead can meet";
    TrivialThreshold = "Q0305", Warning, "a score condition every lead meets";
    RedundantClause = "Q0306", Warning, "a clause implied by the rest of its rule or criterion";
    NoStageGap = "Q0307", Warning, "leads that no rule matches get no stage";
    StageInversion = "Q0308", Warning, "a rule lets leads into a stage without meeting what the policy requires for it";
    Undecided = "Q0309", Note, "the analysis could not decide a question about the policy";
    RarelyPasses = "Q0310", Warning, "a rule or criterion that few sample leads pass";
    StageNeverReached = "Q0311", Warning, "a stage that no sample lead reaches";
    OftenMissing = "Q0312", Warning, "a rule depends on a field that many sample leads lack";
    ConfigUnreadable = "Q0401", Error, "the project's `qualify.toml` cannot be read or has a mistake";
    SampleUnreadable = "Q0402", Error, "the sample lead file cannot be read";
}

impl Code {
    /// Found by `crate::analysis`: over every possible lead (the solver) or
    /// on the sample's leads; not by the parser or the checker. These take
    /// long to compute, so the editor shows the last ones, moved by an edit,
    /// until they are computed again. Every code is listed, so a new one is
    /// classified when it is added, never by its number.
    pub fn is_analysis_finding(self) -> bool {
        use Code::*;
        match self {
            // The solver, over every possible lead.
            Contradiction | ShadowedRule | UnreachableThreshold | TrivialThreshold => true,
            RedundantClause | NoStageGap | StageInversion | Undecided => true,
            ToothlessDisqualifier | IneffectiveCeiling => true,
            // The sample pass.
            RarelyPasses | StageNeverReached | OftenMissing => true,
            // Parsing and imports.
            Syntax | TooDeep | ImportNotFound | ImportHasErrors => false,
            // The checker.
            UnknownName | UnknownStage | UnknownEnumValue | DuplicateDefinition => false,
            CyclicCriterion | CyclicScore | TypeMismatch | AtLeastTooLarge => false,
            NotACondition | OperatorNotForType | UnknownTestField | TestValueType => false,
            NoStages | DuplicateStage | OptionNotForType | UnknownScore => false,
            UnknownRule | DuplicateColumn | KnownOnNonField | MultipleOtherwise => false,
            EmptyTest | InvalidLiteral => false,
            UncheckedOptional | UnusedDefinition | ObsoleteOverrides | UndirectedWithin => false,
            // The project's files.
            ConfigUnreadable | SampleUnreadable => false,
        }
    }
}

/// A secondary location: the other rule of a conflict, the earlier definition.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Related {
    pub file: PathBuf,
    pub span: Span,
    pub message: String,
}

/// A machine-applicable edit (a did-you-mean), used by the editor's quick fix.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Fix {
    pub span: Span,
    pub replacement: String,
    /// What the editor offers, when "Change to `…`" would not say it.
    pub title: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Diagnostic {
    pub code: Code,
    pub severity: Severity,
    pub file: PathBuf,
    pub span: Span,
    pub message: String,
    /// Short text under the caret.
    pub label: Option<String>,
    pub help: Option<String>,
    pub related: Vec<Related>,
    pub fix: Option<Fix>,
    /// Other fixes, when there is more than one way to mend it (then none
    /// is preferred): `within the next N days` besides `within the last`.
    /// Offered only with `fix` (see `fixes`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub other_fixes: Vec<Fix>,
    /// A lead that demonstrates the finding, as a JSON object keyed by
    /// field name (the form `qualify explain --lead` takes).
    pub witness: Option<String>,
    /// The date the witness was judged against (`within N days` depends
    /// on it), as `YYYY-MM-DD`.
    pub witness_as_of: Option<String>,
}

impl Diagnostic {
    pub fn new(
        code: Code,
        file: impl Into<PathBuf>,
        span: Span,
        message: impl Into<String>,
    ) -> Self {
        Diagnostic {
            code,
            severity: code.severity(),
            file: file.into(),
            span,
            message: message.into(),
            label: None,
            help: None,
            related: Vec::new(),
            fix: None,
            other_fixes: Vec::new(),
            witness: None,
            witness_as_of: None,
        }
    }
    pub fn witness(mut self, lead: impl Into<String>) -> Self {
        self.witness = Some(lead.into());
        self
    }
    /// The date a witness holds on: `explain … --as-of DATE` shows it.
    pub fn witness_as_of(mut self, date: impl Into<String>) -> Self {
        self.witness_as_of = Some(date.into());
        self
    }
    /// How a witness is introduced: `for example (as of 2026-06-01)`.
    pub fn witness_intro(&self) -> String {
        match &self.witness_as_of {
            Some(date) => format!("for example (as of {date})"),
            None => "for example".to_string(),
        }
    }
    pub fn label(mut self, label: impl Into<String>) -> Self {
        self.label = Some(label.into());
        self
    }
    pub fn help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }
    pub fn related(
        mut self,
        file: impl Into<PathBuf>,
        span: Span,
        message: impl Into<String>,
    ) -> Self {
        self.related.push(Related {
            file: file.into(),
            span,
            message: message.into(),
        });
        self
    }
    pub fn fix(mut self, span: Span, replacement: impl Into<String>) -> Self {
        self.fix = Some(Fix {
            span,
            replacement: replacement.into(),
            title: None,
        });
        self
    }
    /// A fix the editor offers under `title`.
    pub fn titled_fix(
        mut self,
        span: Span,
        replacement: impl Into<String>,
        title: impl Into<String>,
    ) -> Self {
        self.fix = Some(Fix {
            span,
            replacement: replacement.into(),
            title: Some(title.into()),
        });
        self
    }
    /// Another fix, offered besides the first one (see `other_fixes`).
    pub fn also_fix(
        mut self,
        span: Span,
        replacement: impl Into<String>,
        title: impl Into<String>,
    ) -> Self {
        self.other_fixes.push(Fix {
            span,
            replacement: replacement.into(),
            title: Some(title.into()),
        });
        self
    }
    /// Every fix: the first, then the others. The others count only with
    /// a first one, so clearing `fix` (spans gone stale) clears them all.
    pub fn fixes(&self) -> impl Iterator<Item = &Fix> {
        let others: &[Fix] = if self.fix.is_some() {
            &self.other_fixes
        } else {
            &[]
        };
        self.fix.iter().chain(others)
    }
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

/// The closest candidate to `wanted`, if it is close enough to be a likely
/// typo: a few edits away (transpositions count once), or very similar.
pub fn did_you_mean<'a>(
    wanted: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    let wanted_lower = wanted.to_lowercase();
    let max_edits = (wanted_lower.chars().count() / 3).max(1);
    let mut best: Option<(usize, f64, &str)> = None;
    for candidate in candidates {
        let lower = candidate.to_lowercase();
        let edits = strsim::damerau_levenshtein(&wanted_lower, &lower);
        let similarity = strsim::jaro_winkler(&wanted_lower, &lower);
        if edits > max_edits && similarity < 0.85 {
            continue;
        }
        let better = match best {
            None => true,
            Some((e, s, _)) => edits < e || (edits == e && similarity > s),
        };
        if better {
            best = Some((edits, similarity, candidate));
        }
    }
    best.map(|(_, _, c)| c)
}
