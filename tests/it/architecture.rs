//! The architecture's rules, checked over the source: the command line lives in the binary,
//! the library never prints, only operations make commits, and no two modules depend on each
//! other (directly or around a longer cycle). See docs/ARCHITECTURE.md.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Every `.rs` file under `src/`, with its source (tests cut off: they may reach anywhere).
fn sources() -> Vec<(String, String)> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                walk(&p, out);
            } else if p.extension().is_some_and(|x| x == "rs") {
                out.push(p);
            }
        }
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    walk(&root, &mut files);
    files.sort();
    files
        .into_iter()
        .map(|p| {
            let rel = p
                .strip_prefix(&root)
                .unwrap()
                .to_string_lossy()
                .into_owned();
            let text = std::fs::read_to_string(&p).unwrap();
            let code = match text.find("#[cfg(test)]") {
                Some(i) => text[..i].to_owned(),
                None => text,
            };
            (rel, code)
        })
        .collect()
}

/// Lines that are code, not comments.
fn code_lines(src: &str) -> impl Iterator<Item = &str> {
    src.lines().map(str::trim).filter(|l| !l.starts_with("//"))
}

fn in_front_end(rel: &str) -> bool {
    rel.starts_with("cli/") || rel == "main.rs"
}

#[test]
fn the_command_line_is_part_of_the_binary_only() {
    for (rel, src) in sources() {
        if rel == "lib.rs" {
            assert!(
                !code_lines(&src).any(|l| l.contains("mod cli")),
                "lib.rs declares the command line"
            );
        }
        if !in_front_end(&rel) {
            assert!(
                !src.contains("crate::cli"),
                "{rel} reaches into the command line"
            );
        }
    }
}

#[test]
fn only_the_front_end_prints() {
    // The child-process plumbing is the one exception: it runs the command the user asked for.
    for (rel, src) in sources() {
        if in_front_end(&rel) || rel == "proxy/child.rs" {
            continue;
        }
        for l in code_lines(&src) {
            for mac in ["println!", "eprintln!", "print!(", "eprint!("] {
                assert!(!l.contains(mac), "{rel} prints: {l}");
            }
        }
    }
}

#[test]
fn commits_are_made_by_operations() {
    for (rel, src) in sources() {
        if rel.starts_with("ops/") || rel.starts_with("store/") {
            continue;
        }
        assert!(
            !src.contains(".transact("),
            "{rel} makes a commit outside src/ops"
        );
    }
}

/// The module a file defines, as a path (`["store", "txn"]`); the crate root is empty.
fn module_of(rel: &str) -> Vec<String> {
    let mut parts: Vec<String> = rel
        .trim_end_matches(".rs")
        .split('/')
        .map(str::to_owned)
        .collect();
    if matches!(parts.last().map(String::as_str), Some("mod" | "lib")) {
        parts.pop();
    }
    parts
}

/// The file-level dependency graph: `crate::`, `super::` and `self::` paths (with `use` groups
/// expanded), and a parent's paths into its own child modules. Re-exports are a module's facade
/// and do not count; a parent naming a child's item in its own code does.
fn graph() -> BTreeMap<Vec<String>, BTreeSet<Vec<String>>> {
    let files = sources();
    let modules: BTreeSet<Vec<String>> = files
        .iter()
        .filter(|(rel, _)| rel != "main.rs")
        .map(|(rel, _)| module_of(rel))
        .collect();
    let resolve = |path: &[String]| -> Vec<String> {
        (0..=path.len())
            .rev()
            .map(|i| path[..i].to_vec())
            .find(|p| modules.contains(p))
            .unwrap_or_default()
    };
    let mut edges: BTreeMap<Vec<String>, BTreeSet<Vec<String>>> = BTreeMap::new();
    for (rel, src) in &files {
        if rel == "main.rs" {
            continue;
        }
        let me = module_of(rel);
        let is_dir = rel.ends_with("mod.rs") || rel == "lib.rs";
        let parent: Vec<String> = me[..me.len().saturating_sub(1)].to_vec();
        let children: BTreeSet<String> = code_lines(src)
            .filter_map(|l| {
                let l = l
                    .trim_start_matches("pub ")
                    .trim_start_matches("pub(crate) ");
                l.strip_prefix("mod ")?.strip_suffix(';').map(str::to_owned)
            })
            .collect();
        for line in statements(src) {
            let line = line.as_str();
            // Module declarations and re-exports (`pub use child::X`) are a module's facade, not
            // its code depending on something.
            if line.starts_with("mod ")
                || line.contains(" mod ")
                || line.starts_with("pub use ")
                || line.starts_with("pub(crate) use ")
            {
                continue;
            }
            let bytes = line.as_bytes();
            let mut i = 0;
            while i < line.len() {
                let start = i;
                while i < line.len() && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_') {
                    i += 1;
                }
                if i == start {
                    i += 1;
                    continue;
                }
                let preceded = start >= 1 && bytes[start - 1] == b':';
                let head = &line[start..i];
                let mut segments = Vec::new();
                while line[i..].starts_with("::") {
                    let s = i + 2;
                    let mut e = s;
                    while e < line.len() && (bytes[e].is_ascii_alphanumeric() || bytes[e] == b'_') {
                        e += 1;
                    }
                    if e == s {
                        break;
                    }
                    segments.push(line[s..e].to_owned());
                    i = e;
                }
                if preceded || segments.is_empty() {
                    continue;
                }
                let base: Vec<String> = match head {
                    "crate" => Vec::new(),
                    "super" => parent.clone(),
                    "self" => me.clone(),
                    child if is_dir && children.contains(child) => {
                        let mut b = me.clone();
                        b.push(child.to_owned());
                        b
                    }
                    _ => continue,
                };
                let prefix = [base, segments].concat();
                // `path::{a, b::c}`: each item is a path of its own below `path`.
                let items = match line[i..].strip_prefix("::{") {
                    Some(rest) => group_items(rest),
                    None => vec![Vec::new()],
                };
                for item in items {
                    let target = resolve(&[prefix.clone(), item].concat());
                    if target != me {
                        edges.entry(me.clone()).or_default().insert(target);
                    }
                }
            }
        }
    }
    edges
}

/// Code lines, with each `use` statement joined onto one line (rustfmt splits long ones).
fn statements(src: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut open: Option<String> = None;
    for line in code_lines(src) {
        match open.as_mut() {
            Some(stmt) => {
                stmt.push(' ');
                stmt.push_str(line);
            }
            None if line.contains("use ") && !line.contains(';') => {
                open = Some(line.to_owned());
                continue;
            }
            None => {
                out.push(line.to_owned());
                continue;
            }
        }
        if line.contains(';') {
            out.extend(open.take());
        }
    }
    out.extend(open);
    out
}

/// The leading path of each item of a `{...}` group (the text after the `{`), nested groups
/// taken by their own leading path; `self` is the group's own path.
fn group_items(rest: &str) -> Vec<Vec<String>> {
    let mut items = Vec::new();
    let mut depth = 0;
    let mut current = String::new();
    for c in rest.chars() {
        match c {
            '{' => depth += 1,
            '}' if depth == 0 => break,
            '}' => depth -= 1,
            ',' if depth == 0 => {
                items.push(std::mem::take(&mut current));
                continue;
            }
            _ => {}
        }
        if depth == 0 {
            current.push(c);
        }
    }
    items.push(current);
    items
        .iter()
        .map(|item| {
            item.split("::")
                .map(|seg| seg.trim().split(' ').next().unwrap_or_default().to_owned())
                .take_while(|seg| {
                    !seg.is_empty()
                        && seg != "self"
                        && seg.chars().all(|c| c.is_alphanumeric() || c == '_')
                })
                .collect()
        })
        .collect()
}

/// Strongly connected components of more than one module (Tarjan's algorithm).
fn cycles(edges: &BTreeMap<Vec<String>, BTreeSet<Vec<String>>>) -> Vec<Vec<String>> {
    struct State<'g> {
        edges: &'g BTreeMap<Vec<String>, BTreeSet<Vec<String>>>,
        index: BTreeMap<&'g [String], usize>,
        low: BTreeMap<&'g [String], usize>,
        stack: Vec<&'g [String]>,
        found: Vec<Vec<String>>,
    }
    fn visit<'g>(s: &mut State<'g>, v: &'g [String]) {
        let n = s.index.len();
        s.index.insert(v, n);
        s.low.insert(v, n);
        s.stack.push(v);
        for w in s.edges.get(v).into_iter().flatten() {
            if !s.index.contains_key(w.as_slice()) {
                visit(s, w);
                let lw = s.low[w.as_slice()];
                let lv = s.low[v];
                s.low.insert(v, lv.min(lw));
            } else if s.stack.contains(&w.as_slice()) {
                let iw = s.index[w.as_slice()];
                let lv = s.low[v];
                s.low.insert(v, lv.min(iw));
            }
        }
        if s.low[v] == s.index[v] {
            let mut comp = Vec::new();
            while let Some(w) = s.stack.pop() {
                comp.push(if w.is_empty() {
                    "crate".to_owned()
                } else {
                    w.join("::")
                });
                if w == v {
                    break;
                }
            }
            if comp.len() > 1 {
                comp.sort();
                s.found.push(comp);
            }
        }
    }
    let mut s = State {
        edges,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        found: Vec::new(),
    };
    for v in edges.keys() {
        if !s.index.contains_key(v.as_slice()) {
            visit(&mut s, v);
        }
    }
    s.found
}

#[test]
fn no_modules_depend_on_each_other() {
    let edges = graph();
    // The checker sees real dependencies: the operations use the store.
    assert!(edges[&vec!["ops".to_owned(), "login".to_owned()]].contains(&vec!["store".to_owned()]));
    assert_eq!(cycles(&edges), Vec::<Vec<String>>::new(), "import cycles");
}

#[test]
fn the_cycle_check_finds_a_cycle() {
    let mut edges = graph();
    let (a, b) = (
        vec!["store".to_owned()],
        vec!["ops".to_owned(), "login".to_owned()],
    );
    edges.entry(a.clone()).or_default().insert(b.clone());
    assert!(
        cycles(&edges)
            .iter()
            .any(|c| c.contains(&"store".to_owned()))
    );
}

#[test]
fn no_top_level_modules_depend_on_each_other() {
    // The same graph with each file folded into its top-level module (`store::txn` -> `store`):
    // the layers of docs/ARCHITECTURE.md form no cycle either.
    let mut top: BTreeMap<Vec<String>, BTreeSet<Vec<String>>> = BTreeMap::new();
    for (from, tos) in graph() {
        let a: Vec<String> = from.into_iter().take(1).collect();
        for to in tos {
            let b: Vec<String> = to.into_iter().take(1).collect();
            if a != b && !a.is_empty() && !b.is_empty() {
                top.entry(a.clone()).or_default().insert(b);
            }
        }
    }
    assert_eq!(cycles(&top), Vec::<Vec<String>>::new(), "import cycles");
}
