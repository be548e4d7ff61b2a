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
        if let Some(group) = after.strip_prefix('{') {
            // `use crate::{a::b, c::{d, e}}`: every item at the group's top level.
            let end = closing_brace(group);
            for item in top_level_items(&group[..end]) {
                found.push((first_segment(&item), format!("crate::{item}")));
            }
            rest = &group[end..];
        } else {
            let path: String = after
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_' || *c == ':')
                .collect();
            found.push((first_segment(&path), format!("crate::{path}")));
            rest = after;
        }
    }
    found
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

#[test]
fn the_check_fails_on_an_import_against_the_floors() {
    let domain_reaching_up = "use crate::{\n    http::state::AppState,\n    infra::db,\n};";
    assert_eq!(
        violations("domain", domain_reaching_up),
        ["crate::http::state::AppState (floor of `http` is not below `domain`)"]
    );
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
