//! The syntax tree of one `.qual` file, as written: names are not resolved
//! and types are not checked. Every node carries the byte span it came from.

use serde::Serialize;

pub use crate::span::Span;

/// A possibly multi-word name, normalised to single spaces: `demo requested`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
pub struct Name {
    pub text: String,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
pub struct StringLit {
    pub value: String,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Module {
    pub items: Vec<Item>,
    pub comments: Vec<Comment>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Comment {
    /// Text after the `#`, untrimmed.
    pub text: String,
    pub span: Span,
    /// True when code precedes the comment on its line.
    pub trailing: bool,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Item {
    pub kind: ItemKind,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub enum ItemKind {
    Import(StringLit),
    Field(FieldDecl),
    Stages(Vec<Name>),
    Otherwise(Name),
    Criterion(CriterionDecl),
    Require(RequireDecl),
    Score(ScoreDecl),
    Rule(RuleDecl),
    Test(TestDecl),
    /// A line that did not parse; the diagnostic is produced alongside.
    Error,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
pub enum ScalarType {
    Bool,
    Integer,
    Number,
    Money,
    String,
    Date,
}

impl ScalarType {
    pub fn keyword(self) -> &'static str {
        match self {
            ScalarType::Bool => "bool",
            ScalarType::Integer => "integer",
            ScalarType::Number => "number",
            ScalarType::Money => "money",
            ScalarType::String => "string",
            ScalarType::Date => "date",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub enum TypeExpr {
    Scalar(ScalarType),
    List,
    Enum(Vec<StringLit>),
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct FieldDecl {
    pub name: Name,
    pub ty: TypeExpr,
    pub ty_span: Span,
    pub optional: bool,
    pub key: bool,
    pub column: Option<StringLit>,
    pub missing: Vec<StringLit>,
    pub true_values: Vec<StringLit>,
    pub false_values: Vec<StringLit>,
    pub separator: Option<StringLit>,
    /// The value a missing cell reads as.
    pub default: Option<Literal>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CriterionDecl {
    pub name: Name,
    pub condition: Cond,
}

/// `require STAGE: CONDITION`: every lead at the stage or above meets it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RequireDecl {
    pub stage: Name,
    pub condition: Cond,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ScoreDecl {
    pub name: Name,
    pub entries: Vec<ScoreEntry>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[allow(clippy::large_enum_variant)] // few per file; boxing buys nothing
pub enum ScoreEntry {
    Points(PointLine),
    Cap { value: NumberLit, span: Span },
    Error { span: Span },
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PointLine {
    pub points: NumberLit,
    pub kind: PointKind,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub enum PointKind {
    When(Cond),
    Per {
        field: Name,
        cap: Option<NumberLit>,
        when: Option<Cond>,
    },
}

/// A number as written (the text is kept so the formatter reprints it).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct NumberLit {
    pub value: f64,
    pub text: String,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RuleDecl {
    pub label: Option<Name>,
    pub condition: Cond,
    pub stage: Name,
    /// `=> at most STAGE`: the span of `at most`.
    pub ceiling: Option<Span>,
    pub reason: Option<StringLit>,
    /// The span of a leftover `overrides …` clause (no longer meaningful).
    pub overrides: Option<Span>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TestDecl {
    pub name: StringLit,
    pub entries: Vec<TestEntry>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub enum TestEntry {
    Lead {
        values: Vec<LeadValue>,
        span: Span,
    },
    ExpectStage(Name),
    ExpectNoStage {
        span: Span,
    },
    ExpectScore {
        score: Name,
        value: NumberLit,
        span: Span,
    },
    ExpectRule(Name),
    /// The evaluation date for `within` tests.
    AsOf(Literal),
    Error {
        span: Span,
    },
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct LeadValue {
    pub field: Name,
    pub value: Literal,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub enum LiteralKind {
    Number(f64),
    Money(f64),
    String(String),
    Bool(bool),
    Date(String),
    /// A bare word: an enum value.
    Word(String),
    List(Vec<String>),
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Literal {
    pub kind: LiteralKind,
    pub text: String,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Cond {
    pub kind: CondKind,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub enum Operand {
    Literal(Literal),
    Name(Name),
}

impl Operand {
    pub fn span(&self) -> Span {
        match self {
            Operand::Literal(l) => l.span,
            Operand::Name(n) => n.span,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
pub enum CmpOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

impl CmpOp {
    pub fn symbol(self) -> &'static str {
        match self {
            CmpOp::Eq => "=",
            CmpOp::Ne => "!=",
            CmpOp::Lt => "<",
            CmpOp::Le => "<=",
            CmpOp::Gt => ">",
            CmpOp::Ge => ">=",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
pub enum TextOp {
    Contains,
    StartsWith,
    EndsWith,
}

impl TextOp {
    pub fn words(self) -> &'static str {
        match self {
            TextOp::Contains => "contains",
            TextOp::StartsWith => "starts with",
            TextOp::EndsWith => "ends with",
        }
    }
}

/// Which side of the evaluation date a `within` test looks at.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
pub enum Direction {
    /// `within N days`: before or after.
    Either,
    /// `within the last N days`: on or before.
    Last,
    /// `within the next N days`: on or after.
    Next,
}

impl Direction {
    /// The words between `within` and the number, with a trailing space:
    /// `"the last "`, or nothing for [`Direction::Either`].
    pub fn words(self) -> &'static str {
        match self {
            Direction::Either => "",
            Direction::Last => "the last ",
            Direction::Next => "the next ",
        }
    }

    /// `within the last 30 days` (`day` for one).
    pub fn phrase(self, days: u32) -> String {
        let unit = if days == 1 { "day" } else { "days" };
        format!("within {}{days} {unit}", self.words())
    }
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub enum CondKind {
    And(Vec<Cond>),
    Or(Vec<Cond>),
    Not(Box<Cond>),
    Paren(Box<Cond>),
    AtLeast {
        n: u32,
        n_span: Span,
        items: Vec<Cond>,
    },
    /// A bare operand: a bool field, a criterion, or `true`/`false`.
    Is(Operand),
    Known(Operand),
    Unknown(Operand),
    Compare {
        lhs: Operand,
        op: CmpOp,
        op_span: Span,
        rhs: Operand,
        ignore_case: bool,
    },
    In {
        lhs: Operand,
        negated: bool,
        values: Vec<Literal>,
        ignore_case: bool,
    },
    Between {
        lhs: Operand,
        low: Operand,
        high: Operand,
    },
    Text {
        lhs: Operand,
        op: TextOp,
        rhs: Operand,
        ignore_case: bool,
    },
    Within {
        lhs: Operand,
        days: u32,
        direction: Direction,
        /// `within … days`, from `within` to `days`.
        test_span: Span,
    },
}
