" Highlighting for Qualify policies; the language server adds semantic
" tokens (fields, criteria, scores, stages) on top.
if exists('b:current_syntax') | finish | endif

syntax keyword qualifyDeclaration import field stages otherwise criterion require score rule test
syntax keyword qualifyKeyword and or not known unknown in between starts ends with within days day
" `contains` is an argument of :syntax, so it cannot be a keyword.
syntax match qualifyKeyword "\<contains\>"
syntax keyword qualifyKeyword ignoring case of as when per cap because lead expect no stage
" `at least N of (…)` and `=> at most STAGE` (a ceiling): `at`, `least` and
" `most` alone may be words of a name (`what matters most`).
syntax match qualifyKeyword "\<at\s\+\(least\|most\)\>"
" `overrides` no longer means anything (the checker warns, Q0203).
syntax keyword qualifyObsolete overrides
syntax keyword qualifyOption optional from missing key separator default enum list
syntax keyword qualifyType bool integer number money string date
syntax keyword qualifyBoolean true false
syntax match qualifyComment "#.*$" contains=@Spell
syntax region qualifyString start=+"+ skip=+\\\\\|\\"+ end=+"+ oneline
syntax match qualifyDate "\<\d\{4}-\d\{2}-\d\{2}\>"
syntax match qualifyNumber "[-+]\?\$\?\<\d[0-9_]*\(\.\d\+\)\?\>"
syntax match qualifyOperator "=>\|==\|!=\|<=\|>=\|[<>=]"

highlight default link qualifyDeclaration Statement
highlight default link qualifyKeyword Keyword
highlight default link qualifyOption StorageClass
highlight default link qualifyType Type
highlight default link qualifyBoolean Boolean
highlight default link qualifyComment Comment
highlight default link qualifyString String
highlight default link qualifyDate Constant
highlight default link qualifyNumber Number
highlight default link qualifyOperator Operator
highlight default link qualifyObsolete WarningMsg

let b:current_syntax = 'qualify'
