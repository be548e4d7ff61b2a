//! The source keeps its floors: each top-level module imports only from the floors below it
//! (`docs/architecture.md`). Read from the `use crate::` lines and `crate::` paths of every
//! file under `src/`, so a new import against the layering fails here, naming the file.

use std::path::{Path, PathBuf};

/// Top to bottom. A module may import from its own floor's module or any floor below.
const FLOORS: &[&[&str]] = &[
    // The composition root builds everything; nothing imports it.
    &["main", "lib", "cli", "startup", "telemetry"],
    &["http"],
    &["apps"],
    &["delivery"],
    &["domain"],
    &["catalog"],
    &["infra"],
    &["config"],
];

/// The web framework stays in the HTTP layer, with one deliberate exception: the describe
/// document's types derive poem-openapi's `Object` because they are also the response schema
/// of `GET /api/integrations/describe`, so the document and its schema cannot drift apart.
/// (The generator, in the same floor, turns the document into JSON with the same derive.)
const FRAMEWORK_ALLOWED_BELOW_HTTP: &[&str] = &["apps/describe/", "apps/mod.rs"];

fn floor(module: &str) -> Option<usize> {
    FLOORS.iter().position(|floor| floor.contains(&module))
}

/// The top-level module a file belongs to: `src/domain/webhooks.rs` → `domain`.
fn module_of(relative: &Path) -> String {
    let first = relative.components().next().expect("a file under src/");
    let name = first.as_os_str().to_string_lossy();
    name.trim_end_matches(".rs").to_owned()
}

/// The top-level modules a source file names through `crate::`, with what it wrote. Comments
/// are skipped: a doc may point anywhere.
fn imports(source: &str) -> Vec<(String, String)> {
    let code: String = source
        .lines()
        .filter(|line| !line.trim_start().starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n");
    let mut found = Vec::new();
    let mut rest = code.as_str();
    while let Some(at) = rest.find("crate::") {
        let after = &rest[at + "crate::".len()..];
        // The path up to its end, taking a `{...}` group whole: `a::{b, c::{d, e}}`.
        let prefix_len = after
            .find(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':'))
            .unwrap_or(after.len());
        let end = match after[prefix_len..].strip_prefix('{') {
            Some(group) => prefix_len + 1 + closing_brace(group) + 1,
            None => prefix_len,
        };
        let item: String = after[..end.min(after.len())].split_whitespace().collect();
        for path in expand(&item) {
            found.push((first_segment(&path), format!("crate::{path}")));
        }
        rest = &after[end.min(after.len())..];
    }
    found
}

/// Every full path a use item names: `a::{b, c::{d, e}}` → `a::b`, `a::c::d`, `a::c::e`.
fn expand(item: &str) -> Vec<String> {
    match item.find('{') {
        None => vec![item.to_owned()],
        Some(open) => {
            let (head, group) = (&item[..open], &item[open + 1..]);
            let inner = &group[..closing_brace(group)];
            top_level_items(inner)
                .iter()
                .flat_map(|part| expand(part))
                .map(|tail| format!("{head}{tail}"))
                .collect()
        }
    }
}

fn first_segment(path: &str) -> String {
    path.trim()
        .split("::")
        .next()
        .unwrap_or_default()
        .to_owned()
}

fn closing_brace(group: &str) -> usize {
    let mut depth = 0;
    for (i, c) in group.char_indices() {
        match c {
            '{' => depth += 1,
            '}' if depth == 0 => return i,
            '}' => depth -= 1,
            _ => {}
        }
    }
    group.len()
}

fn top_level_items(group: &str) -> Vec<String> {
    let (mut items, mut current, mut depth) = (Vec::new(), String::new(), 0);
    for c in group.chars() {
        match c {
            '{' => depth += 1,
            '}' => depth -= 1,
            ',' if depth == 0 => {
                items.push(std::mem::take(&mut current));
                continue;
            }
            _ => {}
        }
        current.push(c);
    }
    items.push(current);
    items
        .into_iter()
        .map(|item| item.split_whitespace().collect::<String>())
        .filter(|item| !item.is_empty())
        .collect()
}

/// Every import in `source` (a file of `module`) that reaches up the floors.
fn violations(module: &str, source: &str) -> Vec<String> {
    let Some(own) = floor(module) else {
        return vec![format!("`{module}` is on no floor: add it to FLOORS")];
    };
    imports(source)
        .into_iter()
        .filter(|(target, _)| target != module)
        .filter_map(|(target, written)| match floor(&target) {
            Some(theirs) if theirs > own => None,
            // The root builds everything.
            Some(_) if own == 0 => None,
            Some(_) => Some(format!(
                "{written} (floor of `{target}` is not below `{module}`)"
            )),
            None => Some(format!("{written} (`{target}` is on no floor)")),
        })
        .collect()
}

fn source_files(dir: &Path, found: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            source_files(&path, found);
        } else if path.extension().is_some_and(|ext| ext == "rs") {
            found.push(path);
        }
    }
}

fn sources() -> Vec<(PathBuf, String)> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    source_files(&src, &mut files);
    files.sort();
    files
        .into_iter()
        .map(|path| {
            let text = std::fs::read_to_string(&path).unwrap();
            (path.strip_prefix(&src).unwrap().to_owned(), text)
        })
        .collect()
}

#[test]
fn no_module_imports_from_a_floor_above_its_own() {
    let mut broken = Vec::new();
    for (relative, text) in sources() {
        for why in violations(&module_of(&relative), &text) {
            broken.push(format!("src/{}: {why}", relative.display()));
        }
    }
    assert!(
        broken.is_empty(),
        "imports against the layering:\n{}",
        broken.join("\n")
    );
}

#[test]
fn the_web_framework_stays_in_the_http_layer_and_the_root() {
    let mut leaks = Vec::new();
    for (relative, text) in sources() {
        let module = module_of(&relative);
        let path = relative.to_string_lossy().replace('\\', "/");
        let high = floor(&module).is_some_and(|f| f <= 1);
        let excepted = FRAMEWORK_ALLOWED_BELOW_HTTP
            .iter()
            .any(|allowed| path.starts_with(allowed));
        if !high && !excepted && (text.contains("poem::") || text.contains("poem_openapi")) {
            leaks.push(format!("src/{path}"));
        }
    }
    assert!(
        leaks.is_empty(),
        "poem used below the HTTP layer in: {leaks:?}"
    );
}

/// The module a file defines, as a path: `src/domain/webhooks/mod.rs` → `domain::webhooks`.
fn module_path(relative: &Path) -> Vec<String> {
    let mut parts: Vec<String> = relative
        .components()
        .map(|c| {
            c.as_os_str()
                .to_string_lossy()
                .trim_end_matches(".rs")
                .to_owned()
        })
        .collect();
    if parts.last().is_some_and(|last| last == "mod") {
        parts.pop();
    }
    parts
}

/// The files each file imports (through `crate::` and `super::`), outside `#[cfg(test)]`.
fn file_imports(files: &[(PathBuf, String)]) -> Vec<Vec<usize>> {
    let paths: Vec<Vec<String>> = files.iter().map(|(p, _)| module_path(p)).collect();
    let file_of = |path: &[String]| {
        (1..=path.len())
            .rev()
            .find_map(|n| paths.iter().position(|p| p.as_slice() == &path[..n]))
    };
    files
        .iter()
        .enumerate()
        .map(|(i, (_, text))| {
            let code = text.split("#[cfg(test)]").next().unwrap_or_default();
            let mut targets: Vec<usize> = imports(code)
                .into_iter()
                .filter_map(|(_, written)| {
                    let segments: Vec<String> = written
                        .trim_start_matches("crate::")
                        .split("::")
                        .map(str::to_owned)
                        .collect();
                    file_of(&segments)
                })
                .chain(super_imports(code).into_iter().filter_map(|relative| {
                    let parent = &paths[i][..paths[i].len().saturating_sub(1)];
                    let mut path = parent.to_vec();
                    path.extend(relative.split("::").map(str::to_owned));
                    file_of(&path)
                }))
                .filter(|&target| target != i)
                .collect();
            targets.sort_unstable();
            targets.dedup();
            targets
        })
        .collect()
}

/// What `use super::...` lines name, relative to the parent module.
fn super_imports(code: &str) -> Vec<String> {
    let mut found = Vec::new();
    for statement in code.split(';') {
        let Some(at) = statement.find("use super::") else {
            continue;
        };
        let after = &statement[at + "use super::".len()..];
        let item: String = after.split_whitespace().collect();
        found.extend(expand(&item));
    }
    found
}

#[test]
fn no_source_files_import_each_other_in_a_circle() {
    let files = sources();
    let edges = file_imports(&files);
    // Depth-first search; a file met again while still open closes a circle.
    fn visit(
        at: usize,
        edges: &[Vec<usize>],
        state: &mut [u8],
        trail: &mut Vec<usize>,
    ) -> Option<Vec<usize>> {
        state[at] = 1;
        trail.push(at);
        for &next in &edges[at] {
            if state[next] == 1 {
                let start = trail.iter().position(|&f| f == next).unwrap_or(0);
                return Some(trail[start..].to_vec());
            }
            if state[next] == 0
                && let Some(circle) = visit(next, edges, state, trail)
            {
                return Some(circle);
            }
        }
        state[at] = 2;
        trail.pop();
        None
    }
    let mut state = vec![0u8; files.len()];
    for start in 0..files.len() {
        if state[start] == 0
            && let Some(circle) = visit(start, &edges, &mut state, &mut Vec::new())
        {
            let names: Vec<String> = circle
                .iter()
                .map(|&f| format!("src/{}", files[f].0.display()))
                .collect();
            panic!(
                "these files import each other in a circle: {}",
                names.join(" → ")
            );
        }
    }
}

#[test]
fn the_check_fails_on_an_import_against_the_floors() {
    let domain_reaching_up = "use crate::{\n    http::state::AppState,\n    infra::db,\n};";
    assert_eq!(
        violations("domain", domain_reaching_up),
        ["crate::http::state::AppState (floor of `http` is not below `domain`)"]
    );
    let nested =
        "use crate::domain::{org::OrgId, publish::Batch};\nuse crate::http::{state::AppState};";
    assert_eq!(violations("delivery", nested).len(), 1);
    let inline = "fn f() { crate::startup::Application::build; }";
    assert_eq!(violations("delivery", inline).len(), 1);
    let config_reaching_up = "use crate::delivery::Engine;";
    assert_eq!(violations("config", config_reaching_up).len(), 1);
    // Downwards, sideways within a module, and from the root: all allowed.
    assert!(
        violations(
            "http",
            "use crate::{domain::org::OrgId, http::error::ApiError};"
        )
        .is_empty()
    );
    assert!(violations("startup", "use crate::http::state::AppState;").is_empty());
    // A comment naming a floor above is not an import.
    assert!(
        violations(
            "infra",
            "//! Read by [`crate::http`].\nuse crate::config::Config;"
        )
        .is_empty()
    );
}
