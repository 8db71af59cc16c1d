//! The layers of `src/` import downward only (docs/ARCHITECTURE.md): core → model → domain
//! and render → effects → the entry points. A file may name (`crate::…`) only the modules
//! its layer may use, and no two top-level modules may import each other in a circle.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// The top-level modules each layer's files may name.
fn allowed(layer: &str) -> Option<&'static [&'static str]> {
    const BELOW_ENTRY: &[&str] = &["core", "model", "domain", "render", "effects"];
    Some(match layer {
        "core" => &["core"],
        "model" => &["core", "model"],
        "domain" => &["core", "model", "domain"],
        "render" => &["core", "model", "render"],
        "effects" => BELOW_ENTRY,
        // Entry points use everything below them, and each other without circles.
        "api" | "inbox" | "cli" | "worker" => {
            &["core", "model", "domain", "render", "effects", "api", "inbox", "cli", "worker"]
        }
        _ => return None,
    })
}

/// What the crate root re-exports, and the module each comes from.
const ROOT_EXPORTS: &[(&str, &str)] = &[("AppState", "effects"), ("Error", "core"), ("Result", "core")];

/// The first names after each `crate::` in `text` (both in `crate::a::b` and `crate::{a, b}`).
fn crate_paths(text: &str) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    let code: String = text.lines().map(|l| l.split("//").next().unwrap_or("")).collect::<Vec<_>>().join("\n");
    for (at, _) in code.match_indices("crate::") {
        if code[..at].ends_with(|c: char| c.is_alphanumeric() || c == '_' || c == ':') {
            continue;
        }
        let rest = &code[at + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            let mut depth = 0;
            let mut item_start = true;
            for (i, c) in group.char_indices() {
                match c {
                    '{' => depth += 1,
                    '}' if depth == 0 => break,
                    '}' => depth -= 1,
                    ',' if depth == 0 => item_start = true,
                    c if item_start && depth == 0 && (c.is_alphabetic() || c == '_') => {
                        let name: String =
                            group[i..].chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
                        names.insert(name);
                        item_start = false;
                    }
                    _ => {}
                }
            }
        } else {
            let name: String = rest.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
            names.insert(name);
        }
    }
    names
}

/// Upward imports and import circles in a tree of `(path under src/, text)`.
fn violations(files: &[(String, String)]) -> Vec<String> {
    let mut problems = Vec::new();
    let mut edges: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (path, text) in files {
        let top = path.split('/').next().unwrap_or_default().trim_end_matches(".rs").to_string();
        if top == "lib" || top == "main" {
            continue;
        }
        let Some(may_use) = allowed(&top) else {
            problems.push(format!("{path}: module {top} belongs to no layer"));
            continue;
        };
        for name in crate_paths(text) {
            let module = ROOT_EXPORTS.iter().find(|(n, _)| *n == name).map_or(name.as_str(), |(_, m)| m).to_string();
            if allowed(&module).is_none() {
                continue;
            }
            if !may_use.contains(&module.as_str()) {
                problems.push(format!("{path}: {top} may not use {module} (crate::{name})"));
            }
            if module != top {
                edges.entry(top.clone()).or_default().insert(module);
            }
        }
    }
    for (from, targets) in &edges {
        for to in targets {
            if from < to && edges.get(to).is_some_and(|back| reaches(&edges, back, from, &mut BTreeSet::new())) {
                problems.push(format!("{from} and {to} import each other (a circle)"));
            }
        }
    }
    problems
}

fn reaches(
    edges: &BTreeMap<String, BTreeSet<String>>,
    from: &BTreeSet<String>,
    goal: &str,
    seen: &mut BTreeSet<String>,
) -> bool {
    from.iter().any(|next| {
        next == goal
            || (seen.insert(next.clone()) && edges.get(next).is_some_and(|more| reaches(edges, more, goal, seen)))
    })
}

fn source_tree(root: &Path) -> Vec<(String, String)> {
    let mut files = Vec::new();
    let mut dirs = vec![root.to_path_buf()];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let relative = path.strip_prefix(root).unwrap().to_string_lossy().replace('\\', "/");
                files.push((relative, std::fs::read_to_string(&path).unwrap()));
            }
        }
    }
    files
}

#[test]
fn src_imports_downward_only() {
    let files = source_tree(&Path::new(env!("CARGO_MANIFEST_DIR")).join("src"));
    assert!(files.len() > 50, "read the source tree");
    let problems = violations(&files);
    assert!(problems.is_empty(), "layering violations:\n{}", problems.join("\n"));
}

#[test]
fn a_deliberate_upward_import_is_caught() {
    let tree = |files: &[(&str, &str)]| -> Vec<(String, String)> {
        files.iter().map(|(p, t)| (p.to_string(), t.to_string())).collect()
    };
    // A model file reaching up into the domain, and a domain file naming the effects'
    // state through the crate root.
    let upward = tree(&[
        ("model/statuses.rs", "use crate::core::error::Result;\nuse crate::{domain::posting, model::accounts};"),
        ("domain/favourites.rs", "pub async fn favourite(state: &crate::AppState) {}"),
        ("core/db.rs", "// crate::api is only a comment here"),
    ]);
    assert_eq!(
        violations(&upward),
        vec![
            "model/statuses.rs: model may not use domain (crate::domain)".to_string(),
            "domain/favourites.rs: domain may not use effects (crate::AppState)".to_string(),
        ]
    );
    // Entry points may use each other, but not in a circle.
    let circle = tree(&[("api/mod.rs", "use crate::cli::x;"), ("cli/mod.rs", "use crate::api::y;")]);
    assert_eq!(violations(&circle), vec!["api and cli import each other (a circle)".to_string()]);
    assert!(
        violations(&tree(&[("effects/feeds.rs", "use crate::{core::db, domain::events, model::statuses};")]))
            .is_empty()
    );
}
