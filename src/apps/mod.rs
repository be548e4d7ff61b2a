//! Ready-made platform apps, generated from the discovery document: what
//! `GET /api/integrations/describe` serves is written as the app's `catalog.json`, beside a
//! small hand-written runtime (in `integrations/<platform>/`) that builds the platform's app
//! from it. A platform team can publish on the day they deploy, and a change to the catalog
//! reaches the apps by regenerating them (a test fails while they differ).

pub mod describe;
mod make;

use std::path::Path;

use describe::Routes;
use serde_json::Value;

use crate::{config::RetrySchedule, domain::platform::Platform};

/// The URL built into an app when none is given: each connection can set its own.
pub const DEFAULT_BASE_URL: &str = "https://gateway.example.com";

/// One file of a generated app.
pub struct GeneratedFile {
    /// Relative to the app's directory.
    pub path: String,
    /// Bytes, as a Make app's icon is a PNG.
    pub contents: Vec<u8>,
}

/// `contact` → `Contact`, for labels made from keys.
fn title_case(key: &str) -> String {
    let mut chars = key.chars();
    chars
        .next()
        .map(|first| first.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

/// JSON as the apps hold it: two-space indents, a final newline.
fn pretty(value: &Value) -> String {
    serde_json::to_string_pretty(value).expect("JSON values serialize") + "\n"
}

/// The app's fixed files — the runtime that reads `catalog.json`, its package and its tests —
/// kept where the app lives and built into the binary, so an export anywhere is complete.
const ZAPIER_FILES: &[(&str, &str)] = &[
    (
        "index.js",
        include_str!("../../integrations/zapier/index.js"),
    ),
    (
        "package.json",
        include_str!("../../integrations/zapier/package.json"),
    ),
    (
        "test/lifecycle.test.js",
        include_str!("../../integrations/zapier/test/lifecycle.test.js"),
    ),
];

/// The n8n package's fixed files, kept and built in the same way: TypeScript sources and icons
/// that `npm run build` (n8n's own `n8n-node build`) compiles into `dist/`, which n8n loads.
const N8N_FILES: &[(&str, &str)] = &[
    (
        "package.json",
        include_str!("../../integrations/n8n/package.json"),
    ),
    (
        "tsconfig.json",
        include_str!("../../integrations/n8n/tsconfig.json"),
    ),
    (
        "eslint.config.mjs",
        include_str!("../../integrations/n8n/eslint.config.mjs"),
    ),
    (
        "credentials/KaanhaApi.credentials.ts",
        include_str!("../../integrations/n8n/credentials/KaanhaApi.credentials.ts"),
    ),
    (
        "nodes/shared.ts",
        include_str!("../../integrations/n8n/nodes/shared.ts"),
    ),
    (
        "nodes/KaanhaTrigger/KaanhaTrigger.node.ts",
        include_str!("../../integrations/n8n/nodes/KaanhaTrigger/KaanhaTrigger.node.ts"),
    ),
    (
        "nodes/KaanhaTrigger/kaanha.svg",
        include_str!("../../integrations/n8n/nodes/KaanhaTrigger/kaanha.svg"),
    ),
    (
        "nodes/KaanhaTrigger/kaanha.dark.svg",
        include_str!("../../integrations/n8n/nodes/KaanhaTrigger/kaanha.dark.svg"),
    ),
    (
        "nodes/Kaanha/Kaanha.node.ts",
        include_str!("../../integrations/n8n/nodes/Kaanha/Kaanha.node.ts"),
    ),
    (
        "nodes/Kaanha/kaanha.svg",
        include_str!("../../integrations/n8n/nodes/Kaanha/kaanha.svg"),
    ),
    (
        "nodes/Kaanha/kaanha.dark.svg",
        include_str!("../../integrations/n8n/nodes/Kaanha/kaanha.dark.svg"),
    ),
    (
        "test/nodes.test.js",
        include_str!("../../integrations/n8n/test/nodes.test.js"),
    ),
];

/// The discovery document an app is generated from, for a gateway at `base_url`. Actions are
/// included whether or not this gateway forwards them: the app is published once for all.
pub fn describe(base_url: &str, retry_schedule: &RetrySchedule, routes: &Routes) -> Value {
    let document = describe::document(&describe::Gateway {
        base_url,
        retry_schedule,
        actions_available: true,
        routes,
    });
    poem_openapi::types::ToJSON::to_json(&document).unwrap_or_default()
}

/// Every file of one platform's app.
pub fn generate(platform: Platform, describe: &Value) -> Vec<GeneratedFile> {
    match platform {
        Platform::Zapier => runtime_and_catalog(ZAPIER_FILES, describe),
        Platform::Make => make::files(describe),
        Platform::N8n => runtime_and_catalog(N8N_FILES, describe),
    }
}

/// A runtime's files as they are, and the discovery document as its `catalog.json`.
fn runtime_and_catalog(runtime: &[(&str, &str)], describe: &Value) -> Vec<GeneratedFile> {
    let mut files: Vec<GeneratedFile> = runtime
        .iter()
        .map(|(path, contents)| GeneratedFile {
            path: (*path).to_owned(),
            contents: contents.as_bytes().to_vec(),
        })
        .collect();
    files.push(GeneratedFile {
        path: "catalog.json".to_owned(),
        contents: pretty(describe).into_bytes(),
    });
    files
}

/// Writes the files under `dir`, replacing those it owns and leaving any others alone. A Make
/// project's deployments (its `origins`) are the user's, so exporting over it keeps them.
pub fn write(dir: &Path, files: &[GeneratedFile]) -> std::io::Result<()> {
    for file in files {
        let path = dir.join(&file.path);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        let contents = match std::fs::read(&path) {
            Ok(earlier) if file.path == make::MANIFEST => {
                make::keep_origins(&earlier, &file.contents)
            }
            _ => file.contents.clone(),
        };
        std::fs::write(path, contents)?;
    }
    Ok(())
}
