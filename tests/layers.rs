//! The layer table of docs/architecture.md, enforced. The doc is the source:
//! this test reads its tables, so the doc and the code change together. Every
//! `.rs` file under src/ belongs to one layer, and a layer names (`use
//! crate::x`, `crate::x::` inline, `super::…::x` reaching the crate root) only
//! the layers it may depend on, directly or through them; the front-end
//! crates appear only where the second table allows. All code is checked,
//! `#[cfg(test)]` modules included. Comments and strings are not code.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// The rows of the markdown table whose header line starts with `header`.
fn table(doc: &str, header: &str) -> Vec<Vec<String>> {
    let lines = doc.lines().skip_while(|l| !l.starts_with(header)).skip(2);
    let rows = lines.take_while(|l| l.starts_with('|'));
    rows.map(|l| {
        l.trim_matches('|')
            .split(" | ")
            .map(|c| c.trim().to_string())
            .collect()
    })
    .collect()
}

fn ticked(cell: &str) -> Vec<String> {
    cell.split('`')
        .skip(1)
        .step_by(2)
        .map(String::from)
        .collect()
}

fn under(file: &str, path: &str) -> bool {
    file == path || file.starts_with(&format!("{path}/"))
}

/// The source with comments, strings and char literals taken out (line breaks kept).
fn code(src: &str) -> String {
    let c: Vec<char> = src.chars().chain("\n\n\n".chars()).collect();
    let (mut out, mut i) = (String::new(), 0);
    let find = |from: usize, pat: &str| {
        let p: Vec<char> = pat.chars().collect();
        (from..c.len())
            .find(|&j| c[j..].starts_with(&p))
            .map_or(c.len(), |j| j + p.len())
    };
    while i < c.len() - 3 {
        let ident_before = i > 0 && (c[i - 1].is_alphanumeric() || c[i - 1] == '_');
        let hashes = c[i + 1..].iter().take_while(|&&h| h == '#').count();
        let end = match c[i] {
            '/' if c[i + 1] == '/' => find(i, "\n") - 1,
            '/' if c[i + 1] == '*' => find(i + 2, "*/"),
            'r' if c[i + 1 + hashes] == '"' && (!ident_before || c[i - 1] == 'b') => {
                find(i + 2 + hashes, &format!("\"{}", "#".repeat(hashes)))
            }
            '"' => (i + 1..c.len())
                .scan(false, |esc, j| {
                    Some((std::mem::replace(esc, !*esc && c[j] == '\\'), j))
                })
                .find(|&(esc, j)| !esc && c[j] == '"')
                .map_or(c.len(), |(_, j)| j + 1),
            '\'' if c[i + 1] == '\\' => find(i + 3, "'"),
            '\'' if c[i + 2] == '\'' => i + 3,
            ch => {
                out.push(ch);
                i += 1;
                continue;
            }
        };
        out.extend(c[i..end.min(c.len())].iter().filter(|&&x| x == '\n'));
        i = end;
    }
    out
}

/// Words, `::` and single punctuation, each with its line number.
fn tokens(code: &str) -> Vec<(String, usize)> {
    let (mut out, mut line, mut chars) = (Vec::new(), 1, code.chars().peekable());
    while let Some(ch) = chars.next() {
        let mut word = ch.to_string();
        let is_word = |c: &char| c.is_alphanumeric() || *c == '_';
        if is_word(&ch) {
            while let Some(c) = chars.next_if(is_word) {
                word.push(c);
            }
        } else if ch == ':' && chars.next_if_eq(&':').is_some() {
            word.push(':');
        }
        line += (ch == '\n') as usize;
        if !ch.is_whitespace() {
            out.push((word, line));
        }
    }
    out
}

/// The crate's top-level items named from token `at` on: `x` or `{x, y::z}`.
fn names(t: &[(String, usize)], at: usize) -> Vec<&(String, usize)> {
    if t.get(at).is_none_or(|(w, _)| w != "{") {
        return t.get(at).into_iter().collect();
    }
    let mut depth = 0;
    let mut out = Vec::new();
    for k in at..t.len() {
        depth += (t[k].0 == "{") as i32 - (t[k].0 == "}") as i32;
        if depth == 0 {
            break;
        } else if depth == 1 && matches!(t[k - 1].0.as_str(), "{" | ",") && t[k].0 != "self" {
            out.push(&t[k]);
        }
    }
    out
}

fn files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn layers_depend_only_on_the_layers_the_doc_allows() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let doc = std::fs::read_to_string(root.join("docs/architecture.md")).unwrap();
    let mut problems = Vec::new();
    // (name, paths, layers it may use): the rows in order, "everything
    // above" spelled out, dependencies of dependencies included.
    let mut layers: Vec<(String, Vec<String>, BTreeSet<String>)> = Vec::new();
    for row in table(&doc, "| layer | path |") {
        let mut allowed = BTreeSet::new();
        let deps = row[3]
            .split('(')
            .map(|s| s.split_once(')').map_or(s, |(_, r)| r))
            .collect::<String>();
        for dep in deps
            .split(',')
            .map(str::trim)
            .filter(|d| !["—", ""].contains(d))
        {
            if dep == "everything above" {
                allowed.extend(layers.iter().map(|l| l.0.clone()));
            } else if let Some(l) = layers.iter().find(|l| l.0 == dep) {
                allowed.extend(l.2.iter().cloned().chain([dep.to_string()]));
            } else {
                problems.push(format!(
                    "docs/architecture.md: {} may depend on `{dep}`, which is not above it",
                    row[0]
                ));
            }
        }
        layers.push((row[0].clone(), ticked(&row[1]), allowed));
    }
    let crates: Vec<(Vec<String>, Vec<String>)> = table(&doc, "| crate | only in |")
        .iter()
        .map(|r| (ticked(&r[0]), ticked(&r[1])))
        .collect();
    assert!(
        layers.len() > 10 && crates.len() > 2,
        "the tables in docs/architecture.md were not found"
    );
    let layer_of = |file: &str| layers.iter().find(|l| l.1.iter().any(|p| under(file, p)));

    let mut paths = Vec::new();
    files(&root.join("src"), &mut paths);
    paths.sort();
    for path in paths {
        let rel = path
            .strip_prefix(root)
            .unwrap()
            .to_str()
            .unwrap()
            .replace('\\', "/");
        let Some((layer, _, allowed)) = layer_of(&rel) else {
            problems.push(format!(
                "{rel}: in no layer of the table in docs/architecture.md"
            ));
            continue;
        };
        // Module depth: src/db.rs and src/eval/mod.rs are 1, src/eval/row.rs is 2.
        let parts: Vec<&str> = rel.trim_end_matches(".rs").split('/').skip(1).collect();
        let depth = parts.len() - ["mod", "lib", "main"].contains(parts.last().unwrap()) as usize;
        let t = tokens(&code(&std::fs::read_to_string(&path).unwrap()));
        let (mut braces, mut inline_mods) = (0, Vec::new());
        for i in 0..t.len() {
            let (word, line) = (t[i].0.as_str(), t[i].1);
            if word == "{" {
                braces += 1;
                if i >= 2 && t[i - 2].0 == "mod" {
                    inline_mods.push(braces);
                }
            } else if word == "}" {
                if inline_mods.last() == Some(&braces) {
                    inline_mods.pop();
                }
                braces -= 1;
            }
            for (names, only_in) in &crates {
                if names.iter().any(|n| n == word) && !only_in.iter().any(|p| under(&rel, p)) {
                    problems.push(format!(
                        "{rel}:{line}: {layer} uses the crate `{word}`, allowed only in {only_in:?}"
                    ));
                }
            }
            let starts_path =
                t.get(i + 1).is_some_and(|n| n.0 == "::") && (i == 0 || t[i - 1].0 != "::");
            let supers = t[i..]
                .chunks(2)
                .take_while(|p| p.len() == 2 && p[0].0 == "super" && p[1].0 == "::")
                .count();
            let from_root = match word {
                "crate" | "qualify" if starts_path => i + 2,
                "super" if starts_path && supers >= depth + inline_mods.len() => i + 2 * supers,
                _ => continue,
            };
            for (name, line) in names(&t, from_root) {
                let module = [format!("src/{name}.rs"), format!("src/{name}/mod.rs")];
                let target = module
                    .iter()
                    .find(|m| root.join(m).exists())
                    .and_then(|m| layer_of(m));
                match target {
                    Some(to) if to.0 == *layer || allowed.contains(&to.0) => {}
                    Some(to) => problems.push(format!(
                        "{rel}:{line}: {layer} → {} (`crate::{name}`) is not allowed",
                        to.0
                    )),
                    None => problems.push(format!("{rel}:{line}: `crate::{name}` is in no layer")),
                }
            }
        }
    }
    assert!(
        problems.is_empty(),
        "layers broken (docs/architecture.md is the source):\n{}",
        problems.join("\n")
    );
}
