//! The app as a local project of Make's apps SDK: `makecomapp.json` names every component with
//! its metadata and the file of each of its codes, as the "Make Apps Editor" VS Code extension
//! clones, deploys and pulls it (and `deploy.mjs` here, through `@makehq/sdk`).
//!
//! Components reference each other by these local ids (a module's `webhook`, its `connection`).
//! Make names a new connection or webhook itself (`<app>`, `<app>2`, …); each deployment keeps
//! its own local → remote names in its origin's `idMapping`, so the files never hold Make's
//! names and deploying into a second app renames nothing here.

use serde_json::{Map, Value, json};

use super::super::{GeneratedFile, pretty};

/// The project's description, where the extension and `deploy.mjs` look for it.
pub const MANIFEST: &str = "makecomapp.json";

/// A freshly generated `makecomapp.json`, with the origins of the one it replaces: where the
/// project was deployed, and Make's names there, belong to the user and outlive an export.
pub fn keep_origins(earlier: &[u8], generated: &[u8]) -> Vec<u8> {
    let earlier: Option<Value> = serde_json::from_slice(earlier).ok();
    let origins = earlier.as_ref().map(|e| &e["origins"]);
    match (origins, serde_json::from_slice::<Value>(generated)) {
        (Some(Value::Array(origins)), Ok(mut manifest)) if !origins.is_empty() => {
            manifest["origins"] = Value::Array(origins.clone());
            pretty(&manifest).into_bytes()
        }
        _ => generated.to_vec(),
    }
}

/// The kinds of component a Make app holds, as `makecomapp.json` keys them.
#[derive(Clone, Copy)]
pub(super) enum Kind {
    Connection,
    Webhook,
    Module,
    Rpc,
}

impl Kind {
    fn key(self) -> &'static str {
        match self {
            Kind::Connection => "connection",
            Kind::Webhook => "webhook",
            Kind::Module => "module",
            Kind::Rpc => "rpc",
        }
    }

    fn dir(self) -> &'static str {
        match self {
            Kind::Connection => "connections",
            Kind::Webhook => "webhooks",
            Kind::Module => "modules",
            Kind::Rpc => "rpcs",
        }
    }
}

/// The project being built: its files and its `makecomapp.json`.
pub(super) struct Project {
    files: Vec<GeneratedFile>,
    general: Map<String, Value>,
    components: Map<String, Value>,
}

impl Project {
    pub(super) fn new() -> Self {
        let mut components = Map::new();
        // Every kind the SDK knows is present, even when empty: the extension reads them all.
        for kind in [
            "connection",
            "webhook",
            "module",
            "rpc",
            "function",
            "endpoint",
        ] {
            components.insert(kind.to_owned(), json!({}));
        }
        let general = ["base", "common", "readme", "groups"]
            .into_iter()
            .map(|code| (code.to_owned(), Value::Null))
            .collect();
        Self {
            files: Vec::new(),
            general,
            components,
        }
    }

    /// An app-wide code (`base`, `groups`, `readme`) at `path`.
    pub(super) fn general(&mut self, code: &str, path: &str, contents: String) {
        self.general.insert(code.to_owned(), json!(path));
        self.files.push(GeneratedFile {
            path: path.to_owned(),
            contents: contents.into_bytes(),
        });
    }

    /// A component with its metadata, and one `.imljson` file per code (`communication`,
    /// `params`, `mappableParams`, …) in its own directory.
    pub(super) fn component(
        &mut self,
        kind: Kind,
        id: &str,
        metadata: Value,
        codes: Vec<(&str, Value)>,
    ) {
        let mut code_files = Map::new();
        for (code, contents) in codes {
            let path = format!("{}/{id}/{}.imljson", kind.dir(), file_name(code));
            code_files.insert(code.to_owned(), json!(path));
            self.files.push(GeneratedFile {
                path,
                contents: pretty(&contents).into_bytes(),
            });
        }
        let mut metadata = metadata;
        metadata["codeFiles"] = Value::Object(code_files);
        self.components[kind.key()][id] = metadata;
    }

    /// Every file, `makecomapp.json` last. It has no origin: each deployment adds its own.
    pub(super) fn into_files(mut self) -> Vec<GeneratedFile> {
        let manifest = json!({
            "fileVersion": 1,
            "generalCodeFiles": self.general,
            "components": self.components,
            "origins": [],
        });
        self.files.push(GeneratedFile {
            path: MANIFEST.to_owned(),
            contents: pretty(&manifest).into_bytes(),
        });
        self.files
    }
}

/// A code's file name, as the extension names them when it clones an app.
fn file_name(code: &str) -> &str {
    match code {
        "staticParams" => "static-params",
        "mappableParams" => "mappable-params",
        "requiredScope" => "required-scope",
        other => other,
    }
}
