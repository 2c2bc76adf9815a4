//! The crate's layers, checked. Every top-level module sits in one layer and
//! may use only modules of its own layer or of layers below it, and the
//! modules never form a cycle, so a newcomer can read the crate bottom-up:
//!
//! 0. rules and plain facts: `domain`, `i18n`, `privacy`, `tokens`, `totp`, `rate_limit`
//! 1. small shared pieces: `error`, `csrf`, `receipt_keys`
//! 2. the database: `store`
//! 3. outside services: `stripe`, `stripe_payouts` (the payouts, for the reconciliation)
//! 4. what handlers reach: `state`
//! 5. services, one per concept: `lookup`, `orders`, `payments`, `receipts`, `staff`,
//!    `collections` (the accounting export), `reconciliation` (with Stripe's payouts),
//!    `permits` (permit requests: the form's quote, uploads, the review clock),
//!    `tariffs` (the catalogue of a day and a fee's quote), `catalogue` (the trámites
//!    catalogue's search and calculator), `licences` (alcohol
//!    licences: the lookup, the no-debt check, the requests of a licence's page)
//! 6. pages: `ui`
//!
//! The HTTP boundary (`server::http`) sits above all of them.

/// The layer of each top-level module of `app/src`; a new module must be
/// placed here (the test below fails until it is).
pub const LAYERS: &[(&str, u8)] = &[
    ("domain", 0),
    ("i18n", 0),
    ("privacy", 0),
    ("tokens", 0),
    ("totp", 0),
    ("rate_limit", 0),
    ("error", 1),
    ("csrf", 1),
    ("receipt_keys", 1),
    ("store", 2),
    ("stripe", 3),
    ("stripe_payouts", 3),
    ("state", 4),
    ("lookup", 5),
    ("orders", 5),
    ("payments", 5),
    ("receipts", 5),
    ("staff", 5),
    ("collections", 5),
    ("reconciliation", 5),
    ("permits", 5),
    ("tariffs", 5),
    ("catalogue", 5),
    ("licences", 5),
    ("ui", 6),
    ("layers", 6),
];

#[cfg(test)]
mod tests {
    use std::collections::{BTreeMap, BTreeSet};
    use std::path::{Path, PathBuf};

    use super::LAYERS;

    fn rust_files(path: &Path, out: &mut Vec<PathBuf>) {
        if path.is_dir() {
            for entry in std::fs::read_dir(path).unwrap() {
                rust_files(&entry.unwrap().path(), out);
            }
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path.to_path_buf());
        }
    }

    /// The source without comments and without `#[cfg(test)] mod … { … }`
    /// blocks (tests may reach anything).
    fn production_code(source: &str) -> String {
        let no_comments: String = source
            .lines()
            .map(|line| match line.find("//") {
                Some(at) => &line[..at],
                None => line,
            })
            .collect::<Vec<_>>()
            .join("\n");
        let mut out = String::new();
        let mut rest = no_comments.as_str();
        while let Some(at) = rest.find("#[cfg(test)]") {
            out.push_str(&rest[..at]);
            let after = &rest[at..];
            let Some(open) = after.find('{') else { break };
            let mut depth = 0usize;
            let mut end = after.len();
            for (i, c) in after[open..].char_indices() {
                match c {
                    '{' => depth += 1,
                    '}' => {
                        depth -= 1;
                        if depth == 0 {
                            end = open + i + 1;
                            break;
                        }
                    }
                    _ => {}
                }
            }
            rest = &after[end..];
        }
        out.push_str(rest);
        out
    }

    /// The top-level modules a piece of code names through `crate::`,
    /// including grouped imports (`use crate::{a, b::c}`).
    fn crate_refs(code: &str) -> BTreeSet<String> {
        let mut refs = BTreeSet::new();
        let ident = |s: &str| s.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect::<String>();
        for (at, _) in code.match_indices("crate::") {
            let after = &code[at + "crate::".len()..];
            if let Some(group) = after.strip_prefix('{') {
                let group = &group[..group.find('}').unwrap_or(group.len())];
                for item in group.split(',') {
                    let name = ident(item.trim());
                    if !name.is_empty() {
                        refs.insert(name);
                    }
                }
            } else {
                let name = ident(after);
                if !name.is_empty() {
                    refs.insert(name);
                }
            }
        }
        refs
    }

    fn module_graph() -> BTreeMap<String, BTreeSet<String>> {
        let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let mut graph = BTreeMap::new();
        for entry in std::fs::read_dir(&src).unwrap() {
            let path = entry.unwrap().path();
            let name = path.file_stem().unwrap().to_string_lossy().to_string();
            if name == "lib" || name == "main" {
                continue;
            }
            let mut files = Vec::new();
            rust_files(&path, &mut files);
            let mut deps = BTreeSet::new();
            for file in files {
                let code = production_code(&std::fs::read_to_string(&file).unwrap());
                deps.extend(crate_refs(&code).into_iter().filter(|d| *d != name));
            }
            graph.insert(name, deps);
        }
        graph
    }

    #[test]
    fn the_reader_sees_imports_the_way_rustc_does() {
        let code = production_code(
            "use crate::store::Store;\n// crate::ui in a comment\nuse crate::{domain::money, i18n};\n\
             #[cfg(test)]\nmod tests { use crate::ui::App; fn f() { if true { } } }\nfn g() { crate::tokens::x() }",
        );
        let refs: Vec<String> = crate_refs(&code).into_iter().collect();
        assert_eq!(refs, ["domain", "i18n", "store", "tokens"]);
    }

    #[test]
    fn every_module_is_placed_in_a_layer() {
        let placed: BTreeSet<&str> = LAYERS.iter().map(|(m, _)| *m).collect();
        for module in module_graph().keys() {
            assert!(placed.contains(module.as_str()), "module `{module}` has no layer in app::layers::LAYERS");
        }
    }

    #[test]
    fn modules_use_only_their_layer_and_the_ones_below() {
        let layer: BTreeMap<&str, u8> = LAYERS.iter().copied().collect();
        let graph = module_graph();
        assert!(graph.len() > 10, "the source tree was not read: {graph:?}");
        for (module, deps) in &graph {
            for dep in deps {
                let (Some(from), Some(to)) = (layer.get(module.as_str()), layer.get(dep.as_str())) else {
                    continue;
                };
                assert!(to <= from, "`{module}` (layer {from}) uses `{dep}` (layer {to}), a layer above it");
            }
        }
    }

    #[test]
    fn modules_never_form_a_cycle() {
        let graph = module_graph();
        // Kahn's algorithm: whatever cannot be peeled off lies on a cycle.
        let mut remaining = graph.clone();
        loop {
            let leaves: Vec<String> = remaining
                .iter()
                .filter(|(_, deps)| deps.iter().all(|d| !remaining.contains_key(d)))
                .map(|(m, _)| m.clone())
                .collect();
            if leaves.is_empty() {
                break;
            }
            for leaf in leaves {
                remaining.remove(&leaf);
            }
        }
        assert!(remaining.is_empty(), "these modules use each other in a cycle: {remaining:?}");
    }
}
