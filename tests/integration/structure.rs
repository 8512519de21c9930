//! The shape of the code: the `use` graph between the library's modules has no
//! cycles. This reads `src/` as text, the same graph that
//! `cargo modules dependencies --lib --no-fns --no-traits --no-types --no-externs
//! --no-sysroot --no-owns | tools/module-cycles` checks (docs/DEVELOPING.md), so
//! that CI needs no rust-analyzer build.
//!
//! A module uses another when a `use` declaration or a path in its code
//! (`crate::a::b`, `super::x`, `self::x`, or `child::x` for a child it declares)
//! names that module or an item in it. A parent declaring `mod child;` is
//! ownership, not use.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use regex::Regex;

use crate::support::repo;

/// Module path (`launcher::detect`, "" for the crate root) → its source text.
fn modules(src: &Path) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    walk(src, src, &mut out);
    out
}

fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<String, String>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .expect("read src")
        .map(|e| e.expect("entry").path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            walk(root, &path, out);
            continue;
        }
        if path.extension().and_then(|e| e.to_str()) != Some("rs") {
            continue;
        }
        let rel = path.strip_prefix(root).expect("under src");
        let mut parts: Vec<String> = rel
            .with_extension("")
            .iter()
            .map(|p| p.to_string_lossy().into_owned())
            .collect();
        if matches!(parts.last().map(String::as_str), Some("mod" | "lib")) {
            parts.pop();
        }
        if parts == ["main"] {
            continue; // the binary, not the library
        }
        let text = std::fs::read_to_string(&path).expect("read");
        out.insert(parts.join("::"), strip(&text));
    }
}

/// The code without comments and string literals: what is left is paths and
/// punctuation.
fn strip(text: &str) -> String {
    let comments = Regex::new(r"(?s)/\*.*?\*/|//[^\n]*").expect("re");
    let strings =
        Regex::new(r##"(?s)r#+".*?"#+|r"[^"]*"|"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)'"##).expect("re");
    let no_strings = strings.replace_all(text, "\"\"");
    without_test_modules(&comments.replace_all(&no_strings, ""))
}

/// The code without `#[cfg(test)] mod name { … }` blocks: as with
/// `cargo modules dependencies --lib` (no `--cfg-test`), tests are not part of
/// the library's graph.
fn without_test_modules(code: &str) -> String {
    let start =
        Regex::new(r"#\[cfg\(test\)\]\s*(?:pub(?:\([^)]*\))?\s+)?mod\s+\w+\s*\{").expect("re");
    let mut out = String::new();
    let mut rest = code;
    while let Some(m) = start.find(rest) {
        out.push_str(&rest[..m.start()]);
        let mut depth = 1;
        let mut end = rest.len();
        for (i, c) in rest[m.end()..].char_indices() {
            match c {
                '{' => depth += 1,
                '}' => {
                    depth -= 1;
                    if depth == 0 {
                        end = m.end() + i + 1;
                        break;
                    }
                }
                _ => {}
            }
        }
        rest = &rest[end..];
    }
    out.push_str(rest);
    out
}

/// `use` trees expanded to plain paths: `use a::{b, c::{d, e}};` → a::b, a::c::d, a::c::e.
fn expand(tree: &str) -> Vec<String> {
    let renames = Regex::new(r"\s+as\s+\w+").expect("re");
    let tree: String = renames.replace_all(tree, "").split_whitespace().collect();
    let mut out = Vec::new();
    expand_into("", &tree, &mut out);
    out
}

fn expand_into(prefix: &str, tree: &str, out: &mut Vec<String>) {
    // Split at top-level commas.
    let mut depth = 0;
    let mut start = 0;
    let mut items = Vec::new();
    for (i, c) in tree.char_indices() {
        match c {
            '{' => depth += 1,
            '}' => depth -= 1,
            ',' if depth == 0 => {
                items.push(&tree[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    items.push(&tree[start..]);
    for item in items.into_iter().filter(|i| !i.is_empty()) {
        if let Some(open) = item.find('{') {
            let head = item[..open].trim_end_matches("::");
            let inner = &item[open + 1..item.rfind('}').unwrap_or(item.len())];
            expand_into(&join(prefix, head), inner, out);
        } else {
            out.push(join(prefix, item));
        }
    }
}

fn join(prefix: &str, rest: &str) -> String {
    match (prefix.is_empty(), rest.is_empty()) {
        (true, _) => rest.to_string(),
        (_, true) => prefix.to_string(),
        _ => format!("{prefix}::{rest}"),
    }
}

/// The module that `path`, written in module `from`, names (the deepest
/// existing module along it), if it is one of ours.
fn resolve(from: &str, path: &str, crate_: &Crate, children: &BTreeSet<String>) -> Option<String> {
    let known = &crate_.known;
    let mut segs: Vec<&str> = path.split("::").filter(|s| !s.is_empty()).collect();
    let mut base: Vec<String> = if from.is_empty() {
        vec![]
    } else {
        from.split("::").map(str::to_string).collect()
    };
    match segs.first().copied() {
        Some("crate") => {
            base.clear();
            segs.remove(0);
        }
        Some("super") => {
            while segs.first() == Some(&"super") {
                base.pop();
                segs.remove(0);
            }
        }
        Some("self") => {
            segs.remove(0);
        }
        Some(first) if children.contains(first) => {}
        _ => return None,
    }
    let mut cur = base.join("::");
    if !known.contains(&cur) {
        return None;
    }
    // Walk down: a child module, or an item the module re-exports from
    // another (`pub use errors::Error` in mod.rs names errors.rs's Error).
    for (hops, seg) in segs.iter().enumerate() {
        let child = join(&cur, seg);
        if known.contains(&child) {
            cur = child;
        } else if let Some(to) = crate_.reexports.get(&(cur.clone(), seg.to_string())) {
            if hops > 16 || to == &cur {
                break;
            }
            cur = to.clone();
        } else {
            break;
        }
    }
    Some(cur)
}

/// The modules and what each one re-exports.
struct Crate {
    known: BTreeSet<String>,
    /// (module, name) → the module that defines what `pub use` makes visible there.
    reexports: BTreeMap<(String, String), String>,
}

fn children_of(name: &str, known: &BTreeSet<String>) -> BTreeSet<String> {
    let prefix = if name.is_empty() {
        String::new()
    } else {
        format!("{name}::")
    };
    known
        .iter()
        .filter_map(|k| k.strip_prefix(&prefix).map(str::to_string))
        .filter(|k| !k.is_empty() && !k.contains("::"))
        .collect()
}

fn uses_graph(src: &Path) -> BTreeMap<String, BTreeSet<String>> {
    let mods = modules(src);
    let mut crate_ = Crate {
        known: mods.keys().cloned().collect(),
        reexports: BTreeMap::new(),
    };
    let use_decl = Regex::new(r"(?s)\buse\s+([^;]+);").expect("re");
    let pub_use = Regex::new(r"(?s)\bpub(?:\([^)]*\))?\s+use\s+([^;]+);").expect("re");
    let inline = Regex::new(r"\b(?:crate|super|self)(?:::\w+)+|\b\w+(?:::\w+)+").expect("re");
    // `#[macro_export]` puts a macro at the crate root; it belongs to the
    // module that defines it.
    let exported = Regex::new(r"#\[macro_export\]\s*macro_rules!\s*(\w+)").expect("re");
    for (name, text) in &mods {
        for c in exported.captures_iter(text) {
            crate_
                .reexports
                .insert((String::new(), c[1].to_string()), name.clone());
        }
    }
    // Re-exports first (twice, so that a re-export of a re-export resolves).
    for _ in 0..2 {
        for (name, text) in &mods {
            let children = children_of(name, &crate_.known);
            for c in pub_use.captures_iter(text) {
                for path in expand(&c[1]) {
                    let Some(last) = path.rsplit("::").next() else {
                        continue;
                    };
                    if last == "*" || last == "self" {
                        continue;
                    }
                    if let Some(to) = resolve(name, &path, &crate_, &children) {
                        if &to != name {
                            crate_
                                .reexports
                                .insert((name.clone(), last.to_string()), to);
                        }
                    }
                }
            }
        }
    }
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (name, text) in &mods {
        let children = children_of(name, &crate_.known);
        let mut paths: Vec<String> = use_decl
            .captures_iter(text)
            .flat_map(|c| expand(&c[1]))
            .collect();
        let without_uses = use_decl.replace_all(text, "");
        paths.extend(
            inline
                .find_iter(&without_uses)
                .map(|m| m.as_str().to_string()),
        );
        let edges = graph.entry(name.clone()).or_default();
        for path in paths {
            if let Some(to) = resolve(name, &path, &crate_, &children) {
                if &to != name {
                    edges.insert(to);
                }
            }
        }
    }
    graph
}

/// The cycles of `graph`: each strongly connected component with two or more modules.
fn cycles(graph: &BTreeMap<String, BTreeSet<String>>) -> Vec<Vec<String>> {
    // Kosaraju: order by finish time, then walk the reversed graph.
    fn visit(
        n: &str,
        g: &BTreeMap<String, BTreeSet<String>>,
        seen: &mut BTreeSet<String>,
        order: &mut Vec<String>,
    ) {
        if !seen.insert(n.to_string()) {
            return;
        }
        for m in g.get(n).into_iter().flatten() {
            visit(m, g, seen, order);
        }
        order.push(n.to_string());
    }
    let mut seen = BTreeSet::new();
    let mut order = Vec::new();
    for n in graph.keys() {
        visit(n, graph, &mut seen, &mut order);
    }
    let mut reversed: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (from, tos) in graph {
        for to in tos {
            reversed.entry(to.clone()).or_default().insert(from.clone());
        }
    }
    let mut assigned = BTreeSet::new();
    let mut out = Vec::new();
    for n in order.iter().rev() {
        let mut scc = Vec::new();
        visit(n, &reversed, &mut assigned, &mut scc);
        if scc.len() > 1 {
            scc.sort();
            out.push(scc);
        }
    }
    out
}

/// Cycles that are being taken apart by work in progress, by the first module
/// of the cycle. The test fails once one of them is gone, so this list only
/// shrinks (empty since `sync`'s children import its leaves, not its mod.rs).
const BEING_SPLIT: &[&str] = &[];

#[test]
fn the_library_module_graph_has_no_cycles() {
    let graph = uses_graph(&repo().join("src"));
    assert!(graph.len() > 30, "too few modules read: {:?}", graph.keys());
    let (known, found): (Vec<_>, Vec<_>) = cycles(&graph)
        .into_iter()
        .partition(|scc| BEING_SPLIT.iter().any(|m| scc.iter().any(|s| s == m)));
    if let Some(gone) = BEING_SPLIT
        .iter()
        .find(|m| !known.iter().any(|scc| scc.iter().any(|s| s == *m)))
    {
        panic!("{gone} is in no cycle any more: take it out of BEING_SPLIT");
    }
    let show = |scc: &Vec<String>| {
        scc.iter()
            .map(|m| {
                let to: Vec<&str> = graph[m]
                    .iter()
                    .filter(|t| scc.contains(t))
                    .map(String::as_str)
                    .collect();
                format!("  {m} -> {}", to.join(", "))
            })
            .collect::<Vec<_>>()
            .join("\n")
    };
    assert!(
        found.is_empty(),
        "import cycles between modules (move the shared words into a leaf module):\n{}",
        found.iter().map(show).collect::<Vec<_>>().join("\n\n")
    );
}

#[test]
fn the_cycle_check_sees_a_cycle() {
    let dir = tempfile::tempdir().expect("tempdir");
    let src = dir.path();
    std::fs::create_dir_all(src.join("a")).expect("mkdir");
    std::fs::write(
        src.join("lib.rs"),
        "pub mod a;\npub mod b;\npub mod c;\npub mod d;\n",
    )
    .expect("write");
    std::fs::write(
        src.join("a/mod.rs"),
        "//! use crate::b;\npub mod leaf;\npub use leaf::X;\n",
    )
    .expect("write");
    std::fs::write(
        src.join("a/leaf.rs"),
        "pub struct X;\npub fn f() { crate::b::g(); let _ = \"crate::a\"; }\n",
    )
    .expect("write");
    std::fs::write(
        src.join("b.rs"),
        "use crate::{a::{self, leaf}};\npub fn g() {}\n\
         #[cfg(test)]\nmod tests {\n    use super::*;\n    fn t() { if true { crate::c::h(); } }\n}\n",
    )
    .expect("write");
    std::fs::write(
        src.join("c.rs"),
        "pub fn h() { crate::a::leaf::f(); }\n#[macro_export]\nmacro_rules! c_say { () => {} }\n",
    )
    .expect("write");
    std::fs::write(src.join("d.rs"), "pub fn h() { crate::c_say!(); }\n").expect("write");
    let graph = uses_graph(src);
    assert_eq!(graph["a"], BTreeSet::from(["a::leaf".to_string()]));
    assert_eq!(graph["a::leaf"], BTreeSet::from(["b".to_string()]));
    assert_eq!(
        graph["b"],
        BTreeSet::from(["a".to_string(), "a::leaf".to_string()])
    );
    // b's test module (which would use c) is not part of the graph.
    assert_eq!(graph["c"], BTreeSet::from(["a::leaf".to_string()]));
    // An exported macro belongs to the module that defines it, not the root.
    assert_eq!(graph["d"], BTreeSet::from(["c".to_string()]));
    assert_eq!(
        cycles(&graph),
        [vec![
            "a".to_string(),
            "a::leaf".to_string(),
            "b".to_string()
        ]]
    );
}
