//! The modules of `src/` point one way: no module reaches, through any chain of `crate::` paths, back to one
//! that reaches it. Every `crate::` path counts, in `use` lines, inline paths, doc links and test modules,
//! so a loop cannot hide in a function body. ARCHITECTURE.md says which way each layer points. And the HTTP
//! handlers stay short enough to read as parse, call, answer.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Where a module first names another: the evidence printed with a loop.
type Edges = BTreeMap<String, BTreeMap<String, String>>;

fn rust_files(dir: &Path, found: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, found);
        } else if path.extension().is_some_and(|e| e == "rs") {
            found.push(path);
        }
    }
}

fn identifier(text: &str) -> &str {
    let end = text
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .unwrap_or(text.len());
    &text[..end]
}

/// The top-level modules a `crate::` path names: `crate::storage::Store` names `storage`,
/// `crate::{domain::X, storage}` names both.
fn named_after_crate(rest: &str) -> Vec<String> {
    let Some(group) = rest.strip_prefix('{') else {
        return vec![identifier(rest).to_owned()];
    };
    let mut names = Vec::new();
    let mut depth = 0;
    let mut start = true;
    for (index, c) in group.char_indices() {
        match c {
            '{' => depth += 1,
            '}' if depth == 0 => break,
            '}' => depth -= 1,
            ',' if depth == 0 => start = true,
            c if start && !c.is_whitespace() => {
                names.push(identifier(&group[index..]).to_owned());
                start = false;
            }
            _ => {}
        }
    }
    names
}

fn module_graph() -> Edges {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let mut edges = Edges::new();
    for file in files {
        let relative = file.strip_prefix(&src).unwrap();
        let top = relative.components().next().unwrap().as_os_str().to_string_lossy();
        let top = top.trim_end_matches(".rs").to_owned();
        if top == "main" || top == "lib" {
            continue;
        }
        let text = std::fs::read_to_string(&file).unwrap();
        for (number, line) in text.lines().enumerate() {
            for (at, _) in line.match_indices("crate::") {
                for name in named_after_crate(&line[at + "crate::".len()..]) {
                    if !name.is_empty() && name != top {
                        edges
                            .entry(top.clone())
                            .or_default()
                            .entry(name)
                            .or_insert_with(|| format!("{}:{}", relative.display(), number + 1));
                    }
                }
            }
        }
    }
    edges
}

/// A path from `from` back to `to`, if there is one.
fn path_back(edges: &Edges, from: &str, to: &str, seen: &mut BTreeSet<String>) -> Option<Vec<String>> {
    for next in edges.get(from).map(|m| m.keys()).into_iter().flatten() {
        if next == to {
            return Some(vec![from.to_owned(), next.clone()]);
        }
        if seen.insert(next.clone())
            && let Some(mut rest) = path_back(edges, next, to, seen)
        {
            rest.insert(0, from.to_owned());
            return Some(rest);
        }
    }
    None
}

#[test]
fn no_module_reaches_back_to_one_that_reaches_it() {
    let edges = module_graph();
    assert!(edges.len() > 10, "the scan found the modules: {edges:?}");
    let mut loops = Vec::new();
    for module in edges.keys() {
        if let Some(cycle) = path_back(&edges, module, module, &mut BTreeSet::new()) {
            let evidence: Vec<String> = cycle
                .windows(2)
                .map(|pair| format!("{} → {} ({})", pair[0], pair[1], edges[&pair[0]][&pair[1]]))
                .collect();
            loops.push(evidence.join(", "));
        }
    }
    assert!(
        loops.is_empty(),
        "modules that reach back to themselves:\n{}",
        loops.join("\n")
    );
    // The graph itself, for `cargo test layers -- --nocapture`: each module and the ones it imports.
    for (module, imports) in &edges {
        let imports: Vec<&str> = imports.keys().map(String::as_str).collect();
        println!("{module} → {}", imports.join(", "));
    }
}

/// Handlers stay thin (ARCHITECTURE.md): no `async fn` under `src/http/` runs past 60 lines, its signature
/// and closing brace included.
#[test]
fn no_http_handler_is_over_60_lines() {
    let mut files = Vec::new();
    rust_files(&Path::new(env!("CARGO_MANIFEST_DIR")).join("src/http"), &mut files);
    let mut long = Vec::new();
    let mut seen = 0;
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        for (start, line) in lines.iter().enumerate() {
            let indent = &line[..line.len() - line.trim_start().len()];
            let signature = line
                .trim_start()
                .trim_start_matches("pub(crate) ")
                .trim_start_matches("pub(super) ");
            let signature = signature.trim_start_matches("pub ");
            if !signature.starts_with("async fn ") {
                continue;
            }
            seen += 1;
            let closing = format!("{indent}}}");
            let end = (start..lines.len())
                .find(|&i| lines[i] == closing)
                .unwrap_or(lines.len());
            if end - start + 1 > 60 {
                long.push(format!("{}:{} ({} lines)", file.display(), start + 1, end - start + 1));
            }
        }
    }
    assert!(seen > 40, "the scan found the handlers: {seen}");
    assert!(long.is_empty(), "handlers over 60 lines:\n{}", long.join("\n"));
}

#[test]
fn the_scan_reads_grouped_and_inline_paths() {
    assert_eq!(named_after_crate("storage::Store;"), ["storage"]);
    assert_eq!(
        named_after_crate("{domain::{A, B}, storage, http::console::X};"),
        ["domain", "storage", "http"]
    );
}
