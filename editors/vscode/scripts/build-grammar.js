#!/usr/bin/env node
// Generates syntaxes/qualify.tmLanguage.json from the regex building blocks
// below, so that the pieces shared by many rules (a word, a multi-word name,
// the reserved words) are written once and match grammar/qualify.pest.
//
//   node scripts/build-grammar.js          write the grammar
//   node scripts/build-grammar.js --check  fail if the committed file is stale
'use strict';

const fs = require('fs');
const path = require('path');

const OUT = path.join(__dirname, '..', 'syntaxes', 'qualify.tmLanguage.json');

// ------------------------------------------------------------------ words

// pest: ident_char = ALPHABETIC | ASCII_DIGIT | "_"
const IDENT_CHAR = '[\\p{Alpha}0-9_]';
const END_OF_WORD = `(?!${IDENT_CHAR})`;
// Words that can follow a name, so a name never contains them (pest: `reserved`).
const RESERVED = [
  'and', 'or', 'not', 'known', 'unknown', 'in', 'between', 'contains',
  'starts', 'ends', 'within', 'cap', 'because', 'true', 'false',
  'ignoring', 'when', 'per', 'overrides',
];
const NOT_RESERVED = `(?!(?:${RESERVED.join('|')})${END_OF_WORD})`;
// pest: word = @{ !reserved ~ (ALPHABETIC | "_") ~ ident_char* }
const WORD = `${NOT_RESERVED}[\\p{Alpha}_]${IDENT_CHAR}*`;
// pest: name = ${ word ~ (" "+ ~ word)* }
const NAME = `${WORD}(?: +${WORD})*`;
// A keyword: the word and nothing more of an identifier after it.
const kw = (words) => `(?<!${IDENT_CHAR})(?:${words})${END_OF_WORD}`;

// ------------------------------------------------------------------ literals

const DIGITS = '[0-9]+(?:_[0-9]+)*';

const repository = {
  comment: {
    name: 'comment.line.number-sign.qualify',
    match: '(#).*$',
    captures: { 1: { name: 'punctuation.definition.comment.qualify' } },
  },
  string: {
    name: 'string.quoted.double.qualify',
    begin: '"',
    beginCaptures: { 0: { name: 'punctuation.definition.string.begin.qualify' } },
    // Strings are one line: an unclosed quote ends at the end of the line.
    end: '(")|(?=$)',
    endCaptures: { 1: { name: 'punctuation.definition.string.end.qualify' } },
    patterns: [
      { name: 'constant.character.escape.qualify', match: '\\\\["\\\\nt]' },
      { name: 'invalid.illegal.escape.qualify', match: '\\\\.?' },
    ],
  },
  date: {
    name: 'constant.numeric.date.qualify',
    match: `(?<!${IDENT_CHAR}|-)[0-9]{4}-[0-9]{2}-[0-9]{2}${END_OF_WORD}`,
  },
  money: {
    name: 'constant.numeric.money.qualify',
    match: `(?<!${IDENT_CHAR})-?(\\$)${DIGITS}(?:\\.[0-9]+)?${END_OF_WORD}`,
    captures: { 1: { name: 'punctuation.definition.currency.qualify' } },
  },
  number: {
    name: 'constant.numeric.decimal.qualify',
    match: `(?<!${IDENT_CHAR}|[$.])-?${DIGITS}(?:\\.[0-9]+)?${END_OF_WORD}`,
  },
  boolean: {
    name: 'constant.language.boolean.qualify',
    match: kw('true|false'),
  },
  literal: {
    patterns: [
      { include: '#string' },
      { include: '#date' },
      { include: '#money' },
      { include: '#number' },
      { include: '#boolean' },
    ],
  },
  // A bare word where a value goes: an enum value.
  'enum-value': {
    name: 'variable.other.enummember.qualify',
    match: `(?<!${IDENT_CHAR})${WORD}`,
  },
  punctuation: {
    patterns: [
      { name: 'punctuation.separator.comma.qualify', match: ',' },
      { name: 'punctuation.separator.colon.qualify', match: ':' },
      { name: 'punctuation.section.parens.begin.qualify', match: '\\(' },
      { name: 'punctuation.section.parens.end.qualify', match: '\\)' },
    ],
  },

  // -------------------------------------------------------------- declarations

  import: {
    match: `^\\s*(${kw('import')})`,
    captures: { 1: { name: 'keyword.control.import.qualify' } },
  },

  field: {
    name: 'meta.field.qualify',
    begin: `^\\s*(${kw('field')})\\s*(${NAME})?\\s*(:)?`,
    beginCaptures: {
      1: { name: 'storage.type.field.qualify' },
      2: { name: 'entity.name.variable.field.qualify' },
      3: { name: 'punctuation.separator.colon.qualify' },
    },
    end: '$',
    patterns: [
      { include: '#comment' },
      {
        name: 'support.type.primitive.qualify',
        match: kw('bool|integer|number|money|string|date'),
      },
      { name: 'storage.type.list.qualify', match: kw('list') },
      {
        name: 'meta.enum.qualify',
        begin: `(${kw('enum')})\\s*(\\{)`,
        beginCaptures: {
          1: { name: 'storage.type.enum.qualify' },
          2: { name: 'punctuation.section.braces.begin.qualify' },
        },
        end: '\\}',
        endCaptures: { 0: { name: 'punctuation.section.braces.end.qualify' } },
        patterns: [
          { include: '#comment' },
          { include: '#string' },
          { include: '#enum-value' },
          { include: '#punctuation' },
        ],
      },
      { name: 'storage.type.enum.qualify', match: kw('enum') },
      {
        // `true "Yes", "Y"` / `false "No"`: the column's spellings.
        name: 'storage.modifier.qualify',
        match: `${kw('true|false')}(?=\\s*")`,
      },
      {
        name: 'storage.modifier.qualify',
        match: kw('optional|key|from|missing|separator'),
      },
      {
        match: `(${kw('default')})\\s*(${WORD})?`,
        captures: {
          1: { name: 'storage.modifier.default.qualify' },
          2: { patterns: [{ include: '#boolean' }, { include: '#enum-value' }] },
        },
      },
      { include: '#literal' },
      { include: '#punctuation' },
    ],
  },

  stages: {
    name: 'meta.stages.qualify',
    begin: `^\\s*(${kw('stages')})`,
    beginCaptures: { 1: { name: 'storage.type.stages.qualify' } },
    end: '$',
    patterns: [
      { include: '#comment' },
      { name: 'keyword.operator.comparison.qualify', match: '<' },
      { name: 'entity.name.type.stage.qualify', match: NAME },
    ],
  },

  otherwise: {
    match: `^\\s*(${kw('otherwise')})\\s*(${NAME})?`,
    captures: {
      1: { name: 'storage.type.otherwise.qualify' },
      2: { name: 'entity.name.type.stage.qualify' },
    },
  },

  criterion: {
    match: `^\\s*(${kw('criterion')})\\s*(${NAME})?\\s*(:)?`,
    captures: {
      1: { name: 'storage.type.criterion.qualify' },
      2: { name: 'entity.name.function.criterion.qualify' },
      3: { name: 'punctuation.separator.colon.qualify' },
    },
  },

  require: {
    match: `^\\s*(${kw('require')})\\s*(${NAME})?\\s*(:)?`,
    captures: {
      1: { name: 'storage.type.require.qualify' },
      2: { name: 'entity.name.type.stage.qualify' },
      3: { name: 'punctuation.separator.colon.qualify' },
    },
  },

  'rule-label': {
    match: `^\\s*(${kw('rule')})\\s*(${NAME})?\\s*(:)?`,
    captures: {
      1: { name: 'storage.type.rule.qualify' },
      2: { name: 'entity.name.function.rule.qualify' },
      3: { name: 'punctuation.separator.colon.qualify' },
    },
  },

  // `=> STAGE because "…"`, `=> at most STAGE because "…"` (a ceiling). A
  // leftover `overrides A, B` (no longer meaningful; the checker warns,
  // Q0203) is marked deprecated.
  conclusion: {
    patterns: [
      {
        match: `(=>)\\s*(?:(${kw('at')})\\s+(${kw('most')})\\s*)?(${NAME})?`,
        captures: {
          1: { name: 'keyword.operator.arrow.qualify' },
          2: { name: 'keyword.other.ceiling.qualify' },
          3: { name: 'keyword.other.ceiling.qualify' },
          4: { name: 'entity.name.type.stage.qualify' },
        },
      },
      { name: 'keyword.other.because.qualify', match: kw('because') },
      {
        name: 'meta.overrides.qualify',
        begin: kw('overrides'),
        beginCaptures: { 0: { name: 'invalid.deprecated.overrides.qualify' } },
        end: '(?=#)|$',
        patterns: [
          { include: '#punctuation' },
          { name: 'invalid.deprecated.overrides.qualify', match: NAME },
        ],
      },
    ],
  },

  score: {
    name: 'meta.score.qualify',
    begin: `^\\s*(${kw('score')})\\s*(${NAME})?\\s*(\\{)`,
    beginCaptures: {
      1: { name: 'storage.type.score.qualify' },
      2: { name: 'entity.name.function.score.qualify' },
      3: { name: 'punctuation.section.braces.begin.qualify' },
    },
    end: '\\}',
    endCaptures: { 0: { name: 'punctuation.section.braces.end.qualify' } },
    patterns: [
      { include: '#comment' },
      {
        name: 'constant.numeric.points.qualify',
        match: `(?<!${IDENT_CHAR})[+-]${DIGITS}(?:\\.[0-9]+)?${END_OF_WORD}`,
      },
      {
        match: `(${kw('per')})\\s*(${NAME})?`,
        captures: {
          1: { name: 'keyword.other.per.qualify' },
          2: { name: 'variable.other.field.qualify' },
        },
      },
      { name: 'keyword.other.cap.qualify', match: kw('cap') },
      { name: 'keyword.other.when.qualify', match: kw('when') },
      { include: '#condition' },
    ],
  },

  test: {
    name: 'meta.test.qualify',
    begin: `^\\s*(${kw('test')})(?=\\s*(?:"|$))`,
    beginCaptures: { 1: { name: 'storage.type.test.qualify' } },
    end: '\\}',
    endCaptures: { 0: { name: 'punctuation.section.braces.end.qualify' } },
    patterns: [
      { include: '#comment' },
      { include: '#string' },
      {
        name: 'meta.lead.qualify',
        begin: `(${kw('lead')})\\s*(\\{)`,
        beginCaptures: {
          1: { name: 'keyword.other.lead.qualify' },
          2: { name: 'punctuation.section.braces.begin.qualify' },
        },
        end: '\\}',
        endCaptures: { 0: { name: 'punctuation.section.braces.end.qualify' } },
        patterns: [
          { include: '#comment' },
          {
            match: `(${NAME})\\s*(:)`,
            captures: {
              1: { name: 'variable.other.field.qualify' },
              2: { name: 'punctuation.separator.colon.qualify' },
            },
          },
          {
            name: 'meta.list.qualify',
            begin: '\\[',
            beginCaptures: { 0: { name: 'punctuation.section.brackets.begin.qualify' } },
            end: '\\]',
            endCaptures: { 0: { name: 'punctuation.section.brackets.end.qualify' } },
            patterns: [{ include: '#string' }, { include: '#punctuation' }],
          },
          { include: '#literal' },
          { include: '#enum-value' },
          { include: '#punctuation' },
        ],
      },
      {
        match: `(${kw('as')})\\s+(${kw('of')})`,
        captures: {
          1: { name: 'keyword.other.as-of.qualify' },
          2: { name: 'keyword.other.as-of.qualify' },
        },
      },
      {
        match: `(${kw('expect')})\\s+(${kw('score')})\\s*(${NAME})?\\s*(=)?`,
        captures: {
          1: { name: 'keyword.other.expect.qualify' },
          2: { name: 'keyword.other.score.qualify' },
          3: { name: 'variable.other.score.qualify' },
          4: { name: 'keyword.operator.comparison.qualify' },
        },
      },
      {
        match: `(${kw('expect')})\\s+(${kw('rule')})\\s*(${NAME})?`,
        captures: {
          1: { name: 'keyword.other.expect.qualify' },
          2: { name: 'keyword.other.rule.qualify' },
          3: { name: 'variable.other.rule.qualify' },
        },
      },
      {
        match: `(${kw('expect')})\\s+(${kw('no')})\\s+(${kw('stage')})`,
        captures: {
          1: { name: 'keyword.other.expect.qualify' },
          2: { name: 'keyword.other.no-stage.qualify' },
          3: { name: 'keyword.other.no-stage.qualify' },
        },
      },
      {
        match: `(${kw('expect')})\\s*(${NAME})?`,
        captures: {
          1: { name: 'keyword.other.expect.qualify' },
          2: { name: 'entity.name.type.stage.qualify' },
        },
      },
      { name: 'punctuation.section.braces.begin.qualify', match: '\\{' },
      { include: '#literal' },
    ],
  },

  // -------------------------------------------------------------- conditions

  condition: {
    patterns: [
      { include: '#comment' },
      { include: '#conclusion' },
      {
        // `at least 3 of (`
        match: `(${kw('at')})\\s+(${kw('least')})\\s+([0-9]+${END_OF_WORD})?\\s*(${kw('of')})?`,
        captures: {
          1: { name: 'keyword.operator.word.at-least.qualify' },
          2: { name: 'keyword.operator.word.at-least.qualify' },
          3: { name: 'constant.numeric.decimal.qualify' },
          4: { name: 'keyword.operator.word.at-least.qualify' },
        },
      },
      {
        // `within the last 30 days`, `within the next 90 days`, `within 30 days`
        name: 'meta.duration.qualify',
        match: `(${kw('within')})(?:\\s+(${kw('the')}))?(?:\\s+(${kw('last|next')}))?\\s+([0-9]+${END_OF_WORD})?\\s*(${kw('days|day')})?`,
        captures: {
          1: { name: 'keyword.operator.word.within.qualify' },
          2: { name: 'keyword.operator.word.within.qualify' },
          3: { name: 'keyword.operator.word.within.qualify' },
          4: { name: 'constant.numeric.decimal.qualify' },
          5: { name: 'keyword.other.unit.days.qualify' },
        },
      },
      { name: 'keyword.operator.logical.qualify', match: kw('and|or|not') },
      {
        name: 'keyword.operator.word.qualify',
        match: `${kw('known|unknown|in|between|contains')}|${kw('starts|ends')}(?:\\s+${kw('with')})?`,
      },
      {
        name: 'keyword.other.ignoring-case.qualify',
        match: `${kw('ignoring')}(?:\\s+${kw('case')})?`,
      },
      {
        name: 'meta.set.qualify',
        begin: '\\{',
        beginCaptures: { 0: { name: 'punctuation.section.braces.begin.qualify' } },
        end: '\\}',
        endCaptures: { 0: { name: 'punctuation.section.braces.end.qualify' } },
        patterns: [
          { include: '#comment' },
          { include: '#literal' },
          { include: '#enum-value' },
          { include: '#punctuation' },
        ],
      },
      { name: 'keyword.operator.comparison.qualify', match: '==|!=|<=|>=|<|>|=' },
      { include: '#literal' },
      { include: '#punctuation' },
    ],
  },
};

const grammar = {
  $schema: 'https://raw.githubusercontent.com/martinring/tmlanguage/master/tmlanguage.json',
  name: 'Qualify',
  scopeName: 'source.qualify',
  fileTypes: ['qual'],
  comment: 'GENERATED by scripts/build-grammar.js from grammar/qualify.pest; edit that script, not this file.',
  patterns: [
    { include: '#comment' },
    { include: '#import' },
    { include: '#field' },
    { include: '#stages' },
    { include: '#otherwise' },
    { include: '#criterion' },
    { include: '#require' },
    { include: '#score' },
    { include: '#test' },
    { include: '#rule-label' },
    { include: '#condition' },
  ],
  repository,
};

const text = JSON.stringify(grammar, null, 2) + '\n';
if (process.argv.includes('--check')) {
  const current = fs.existsSync(OUT) ? fs.readFileSync(OUT, 'utf8') : '';
  if (current !== text) {
    console.error(`${path.relative(process.cwd(), OUT)} is out of date: run \`node scripts/build-grammar.js\``);
    process.exit(1);
  }
  console.log('grammar is up to date');
} else {
  fs.mkdirSync(path.dirname(OUT), { recursive: true });
  fs.writeFileSync(OUT, text);
  console.log(`wrote ${path.relative(process.cwd(), OUT)}`);
}
