//! Semantic highlighting: keywords and literals from the grammar, names by
//! what the checker resolved them to (a field, a criterion, a score…).

use crate::check::names::Target;
use crate::db::{self, Db, SourceFile};
use crate::syntax::{self, Lexeme, Span};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TokenType {
    Keyword,
    Type,
    String,
    Number,
    Operator,
    Comment,
    EnumMember,
    /// A field.
    Property,
    /// A criterion.
    Function,
    /// A score.
    Variable,
    /// A stage.
    Class,
    /// A rule label.
    Method,
}

impl TokenType {
    pub const ALL: &'static [TokenType] = &[
        TokenType::Keyword,
        TokenType::Type,
        TokenType::String,
        TokenType::Number,
        TokenType::Operator,
        TokenType::Comment,
        TokenType::EnumMember,
        TokenType::Property,
        TokenType::Function,
        TokenType::Variable,
        TokenType::Class,
        TokenType::Method,
    ];
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Token {
    pub span: Span,
    pub ty: TokenType,
    /// The name's declaration rather than a use.
    pub declaration: bool,
}

pub fn tokens(db: &dyn Db, file: SourceFile) -> Vec<Token> {
    let mut out: Vec<Token> = syntax::lexemes(file.text(db))
        .into_iter()
        .map(|(span, lexeme)| Token {
            span,
            ty: match lexeme {
                Lexeme::Keyword => TokenType::Keyword,
                Lexeme::Type => TokenType::Type,
                Lexeme::String => TokenType::String,
                Lexeme::Number => TokenType::Number,
                Lexeme::Operator => TokenType::Operator,
                Lexeme::EnumValue => TokenType::EnumMember,
                Lexeme::Comment => TokenType::Comment,
            },
            declaration: false,
        })
        .collect();
    for r in db::names(db, file).refs.iter().filter(|r| r.file == 0) {
        out.push(Token {
            span: r.span,
            ty: match r.target {
                Target::Field(_) => TokenType::Property,
                Target::Criterion(_) => TokenType::Function,
                Target::Score(_) => TokenType::Variable,
                Target::Stage(_) => TokenType::Class,
                Target::Rule(_) => TokenType::Method,
            },
            declaration: r.is_definition,
        });
    }
    out.sort_by_key(|t| (t.span.start, std::cmp::Reverse(t.span.end)));
    let mut kept: Vec<Token> = Vec::with_capacity(out.len());
    for token in out {
        if kept
            .last()
            .is_none_or(|last| token.span.start >= last.span.end)
        {
            kept.push(token);
        }
    }
    kept
}
