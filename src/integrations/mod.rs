//! Ready-made platform apps, generated from the discovery document: what
//! `GET /api/integrations/describe` serves is written as the app's `catalog.json`, beside a
//! small hand-written runtime (in `integrations/<platform>/`) that builds the platform's app
//! from it. A platform team can publish on the day they deploy, and a change to the catalog
//! reaches the apps by regenerating them (a test fails while they differ).

mod make;

use std::path::Path;

use serde_json::Value;

use crate::config::Config;

/// The URL built into an app when none is given: each connection can set its own.
pub const DEFAULT_BASE_URL: &str = "https://gateway.example.com";

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Platform {
    /// A Zapier CLI app (zapier-platform-core 19): REST-hook triggers and create actions.
    Zapier,
    /// A Make custom app: instant triggers on dedicated webhooks, and action modules.
    Make,
    /// An n8n community node package (n8n 1.x): credentials, a trigger node, an action node.
    N8n,
}

impl Platform {
    pub const ALL: [Platform; 3] = [Platform::Zapier, Platform::Make, Platform::N8n];

    /// Its directory under `integrations/`.
    pub fn dir_name(self) -> &'static str {
        match self {
            Self::Zapier => "zapier",
            Self::Make => "make",
            Self::N8n => "n8n",
        }
    }
}

/// One file of a generated app.
pub struct GeneratedFile {
    /// Relative to the app's directory.
    pub path: String,
    pub contents: String,
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

/// The n8n package's fixed files, kept and built in the same way.
const N8N_FILES: &[(&str, &str)] = &[
    (
        "package.json",
        include_str!("../../integrations/n8n/package.json"),
    ),
    ("index.js", include_str!("../../integrations/n8n/index.js")),
    (
        "credentials/KaanhaApi.credentials.js",
        include_str!("../../integrations/n8n/credentials/KaanhaApi.credentials.js"),
    ),
    (
        "nodes/shared.js",
        include_str!("../../integrations/n8n/nodes/shared.js"),
    ),
    (
        "nodes/KaanhaTrigger/KaanhaTrigger.node.js",
        include_str!("../../integrations/n8n/nodes/KaanhaTrigger/KaanhaTrigger.node.js"),
    ),
    (
        "nodes/Kaanha/Kaanha.node.js",
        include_str!("../../integrations/n8n/nodes/Kaanha/Kaanha.node.js"),
    ),
    (
        "test/nodes.test.js",
        include_str!("../../integrations/n8n/test/nodes.test.js"),
    ),
];

/// The discovery document an app is generated from, for a gateway at `base_url`. Actions are
/// included whether or not this gateway forwards them: the app is published once for all.
pub fn describe(config: &Config, base_url: &str) -> Value {
    let document = crate::api::describe::document(config, true, base_url);
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
            contents: (*contents).to_owned(),
        })
        .collect();
    files.push(GeneratedFile {
        path: "catalog.json".to_owned(),
        contents: pretty(describe),
    });
    files
}

/// Writes the files under `dir`, replacing those it owns and leaving any others alone.
pub fn write(dir: &Path, files: &[GeneratedFile]) -> std::io::Result<()> {
    for file in files {
        let path = dir.join(&file.path);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(path, &file.contents)?;
    }
    Ok(())
}
