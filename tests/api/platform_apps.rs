//! The generated Zapier, Make and n8n apps: what is committed is what the generator writes,
//! and the Make app calls only routes the gateway serves.

use serde_json::Value;

#[test]
fn the_committed_platform_apps_are_what_the_generator_writes_now() {
    use kaanha_gateway::{
        apps,
        domain::{named::Named, platform::Platform},
    };

    let describe = describe_for_apps(apps::DEFAULT_BASE_URL);
    for &platform in Platform::ALL {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("integrations")
            .join(platform.as_str());
        for file in apps::generate(platform, &describe) {
            let committed = std::fs::read(dir.join(&file.path)).unwrap_or_default();
            assert!(
                committed == file.contents,
                "integrations/{dir}/{path} is stale; regenerate with `cargo run -- integrations \
                 export --platform {dir} --out integrations/{dir}` and commit it",
                dir = platform.as_str(),
                path = file.path,
            );
        }
    }
}

/// The discovery document the apps are generated from, as `integrations export` builds it.
fn describe_for_apps(base_url: &str) -> Value {
    let config = kaanha_gateway::config::Config::for_database("sqlite::memory:");
    kaanha_gateway::apps::describe(
        base_url,
        &config.retry_schedule,
        kaanha_gateway::http::routes::describe::routes(),
    )
}

/// Whether `openapi/openapi.json` has a route for this method and path (`{{...}}` segments and
/// `{param}` segments match anything).
fn spec_has_route(spec: &Value, method: &str, path: &str) -> bool {
    let path = path.split('?').next().unwrap_or_default();
    let wanted: Vec<&str> = path.trim_matches('/').split('/').collect();
    spec["paths"]
        .as_object()
        .unwrap()
        .iter()
        .any(|(route, operations)| {
            let segments: Vec<&str> = route.trim_matches('/').split('/').collect();
            segments.len() == wanted.len()
                && segments
                    .iter()
                    .zip(&wanted)
                    .all(|(s, w)| s == w || s.starts_with('{') || w.starts_with("{{"))
                && operations.get(method.to_lowercase()).is_some()
        })
}

#[test]
fn the_make_app_attaches_detaches_and_calls_only_routes_the_gateway_serves() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("integrations/make");
    let read = |path: &str| -> Value {
        let text = std::fs::read_to_string(dir.join(path)).unwrap_or_else(|_| panic!("{path}"));
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"))
    };
    let spec: Value = serde_json::from_str(&kaanha_gateway::http::routes::spec_json()).unwrap();
    let describe = describe_for_apps("https://gateway.example.com");

    // The Make apps SDK project: every component's codes are files that exist and parse, and
    // every file of a component directory is one of them.
    let manifest = read("makecomapp.json");
    assert_eq!(manifest["fileVersion"], 1);
    assert_eq!(manifest["origins"], serde_json::json!([]));
    let components = &manifest["components"];
    let meta = |kind: &str, id: &str| -> Value {
        components[kind]
            .get(id)
            .unwrap_or_else(|| panic!("makecomapp.json has no {kind} {id}"))
            .clone()
    };
    let code = |kind: &str, id: &str, code: &str| -> Value {
        let path = meta(kind, id)["codeFiles"][code].clone();
        read(
            path.as_str()
                .unwrap_or_else(|| panic!("{kind} {id} has no {code}")),
        )
    };
    let mut referenced = std::collections::BTreeSet::new();
    for (kind, of_kind) in components.as_object().unwrap() {
        for (id, component) in of_kind.as_object().unwrap() {
            for path in component["codeFiles"].as_object().unwrap().values() {
                let path = path.as_str().unwrap();
                read(path);
                referenced.insert(path.to_owned());
            }
            // The apps SDK's rule for ids: a letter, then 3 to 47 letters or digits (within
            // Make's own `^[a-zA-Z][0-9a-zA-Z]{2,63}$`).
            assert!(
                (4..=48).contains(&id.len())
                    && id.starts_with(|c: char| c.is_ascii_alphabetic())
                    && id.chars().all(|c| c.is_ascii_alphanumeric()),
                "{kind} {id} is not a name Make accepts"
            );
            if let Some(connection) = component["connection"].as_str() {
                meta("connection", connection);
            }
        }
    }
    for kind in ["connections", "webhooks", "modules", "rpcs"] {
        for component in std::fs::read_dir(dir.join(kind)).unwrap() {
            for file in std::fs::read_dir(component.unwrap().path()).unwrap() {
                let path = file.unwrap().path();
                let relative = path
                    .strip_prefix(&dir)
                    .unwrap()
                    .to_str()
                    .unwrap()
                    .to_owned();
                assert!(
                    referenced.contains(&relative),
                    "{relative} is in no component"
                );
            }
        }
    }
    for general in ["base", "groups", "readme"] {
        let path = manifest["generalCodeFiles"][general].as_str().unwrap();
        assert!(dir.join(path).is_file(), "{path}");
    }
    let icon = std::fs::read(dir.join("general/icon.png")).unwrap();
    assert_eq!(&icon[..8], b"\x89PNG\r\n\x1a\n");
    assert_eq!(
        (&icon[16..20], &icon[20..24]),
        (&512u32.to_be_bytes()[..], &512u32.to_be_bytes()[..])
    );

    let base = read("general/base.imljson");
    assert_eq!(
        base["headers"]["Authorization"],
        "Bearer {{connection.apiKey}}"
    );
    assert!(base["response"]["error"]["message"].is_string());
    assert_eq!(meta("connection", "kaanha")["connectionType"], "basic");
    let check = code("connection", "kaanha", "communication");
    let check_url = check["url"].as_str().unwrap();
    let check_path = &check_url[check_url.find("}}").unwrap() + 2..];
    assert!(spec_has_route(
        &spec,
        check["method"].as_str().unwrap(),
        check_path
    ));
    let parameters = code("connection", "kaanha", "params");
    let names: Vec<&str> = parameters
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["apiKey", "baseUrl"]);

    let camel = |key: &str| {
        let mut out = String::new();
        for (i, part) in key.split('_').enumerate() {
            let mut chars = part.chars();
            if let Some(first) = chars.next() {
                match i {
                    0 => out.push(first),
                    _ => out.extend(first.to_uppercase()),
                }
                out.push_str(chars.as_str());
            }
        }
        out
    };
    let pascal = |key: &str| {
        let camel = camel(key);
        let mut chars = camel.chars();
        chars
            .next()
            .unwrap()
            .to_uppercase()
            .chain(chars)
            .collect::<String>()
    };

    let mut routes = 1;
    for trigger in describe["triggers"].as_array().unwrap() {
        let trigger_key = trigger["key"].as_str().unwrap();
        let hook = format!("{}Hook", camel(trigger_key));
        let key = hook.as_str();
        assert_eq!(meta("webhook", key)["webhookType"], "web");
        let attach = code("webhook", key, "attach");
        assert_eq!(attach["method"], "POST", "{key}");
        assert_eq!(attach["url"], "/api/integrations/make/hooks", "{key}");
        assert_eq!(attach["body"]["targetUrl"], "{{webhook.url}}", "{key}");
        assert_eq!(attach["body"]["event"], trigger["event"], "{key}");
        assert_eq!(
            attach["response"]["data"]["externalHookId"], "{{body.id}}",
            "{key}"
        );
        let detach = code("webhook", key, "detach");
        assert_eq!(detach["method"], "DELETE", "{key}");
        assert!(
            detach["url"]
                .as_str()
                .unwrap()
                .ends_with("/{{webhook.externalHookId}}"),
            "{key}"
        );
        for call in [&attach, &detach] {
            let (method, url) = (
                call["method"].as_str().unwrap(),
                call["url"].as_str().unwrap(),
            );
            assert!(spec_has_route(&spec, method, url), "{key}: {method} {url}");
            routes += 1;
        }
        let key = format!("watch{}", pascal(trigger_key));
        let module = meta("module", &key);
        assert_eq!(module["moduleType"], "instant_trigger", "{key}");
        assert_eq!(module["webhook"], hook, "{key}");
        assert!(module["label"].as_str().unwrap().starts_with("Watch "));
        let interface = code("module", &key, "interface");
        assert!(
            interface
                .as_array()
                .unwrap()
                .iter()
                .any(|f| f["name"] == "id"),
            "{key}: the interface has the event id"
        );
        assert!(code("module", &key, "samples").is_object());
    }
    for action in describe["actions"].as_array().unwrap() {
        let key = camel(action["key"].as_str().unwrap());
        let call = code("module", &key, "communication");
        let (method, url) = (
            call["method"].as_str().unwrap(),
            call["url"].as_str().unwrap(),
        );
        assert!(spec_has_route(&spec, method, url), "{key}: {method} {url}");
        routes += 1;
        let module = meta("module", &key);
        let search = action["kind"] == "search";
        assert_eq!(
            module["moduleType"],
            if search { "search" } else { "action" }
        );
        if search {
            assert_eq!(
                call["response"]["iterate"], "{{body}}",
                "one bundle per result"
            );
            assert!(module["label"].as_str().unwrap().starts_with("Search "));
        }
        assert!(
            !code("module", &key, "mappableParams")
                .as_array()
                .unwrap()
                .is_empty()
        );
        assert!(
            !code("module", &key, "interface")
                .as_array()
                .unwrap()
                .is_empty()
        );
    }
    // Dropdowns: each RPC reads one of the gateway's lists; fields naming a list use it.
    for list in describe["lists"].as_array().unwrap() {
        let name = format!("list{}", pascal(list["key"].as_str().unwrap()));
        let call = code("rpc", &name, "communication");
        assert!(
            spec_has_route(&spec, "GET", call["url"].as_str().unwrap()),
            "{name}"
        );
        routes += 1;
    }
    let update = code("module", "updateContact", "mappableParams");
    let contact_id = update
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "contactId")
        .unwrap();
    assert_eq!(contact_id["options"], "rpc://listContacts");
    let tags = code("module", "watchMessageReceived", "interface");
    let contact = tags
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["name"] == "data")
        .unwrap()["spec"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["name"] == "contact")
        .unwrap()
        .clone();
    let contact_tags = contact["spec"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["name"] == "tags")
        .unwrap();
    assert_eq!(
        contact_tags["type"], "array",
        "a list is an array, not text"
    );

    // The universal module, and the groups naming only modules that exist.
    let call = code("module", "makeApiCall", "communication");
    assert!(spec_has_route(
        &spec,
        call["method"].as_str().unwrap(),
        call["url"].as_str().unwrap()
    ));
    assert_eq!(meta("module", "makeApiCall")["moduleType"], "universal");
    routes += 1;
    for group in read("general/groups.json").as_array().unwrap() {
        for module in group["modules"].as_array().unwrap() {
            meta("module", module.as_str().unwrap());
        }
    }
    // A connection URL ending in `/` never makes `//api`.
    assert!(
        base["baseUrl"]
            .as_str()
            .unwrap()
            .starts_with("{{replace(connection.baseUrl;")
    );
    eprintln!("the Make app's {routes} calls all name routes of the spec");
}

/// Exporting the Make app again over a deployed project keeps where it was deployed: Make's
/// names of its connection and webhooks live only in `makecomapp.json`'s origins.
#[test]
fn exporting_the_make_app_again_keeps_its_deployments() {
    let out = std::env::temp_dir().join(format!("kaanha-make-export-{}", std::process::id()));
    let export = || {
        let exported = std::process::Command::new(env!("CARGO_BIN_EXE_kaanha-gateway"))
            .args(["integrations", "export", "--platform", "make", "--out"])
            .arg(&out)
            .env("KAANHA_DATABASE_URL", "sqlite::memory:")
            .output()
            .unwrap();
        assert!(exported.status.success(), "{exported:?}");
    };
    export();
    let manifest_path = out.join("makecomapp.json");
    let mut manifest: Value =
        serde_json::from_slice(&std::fs::read(&manifest_path).unwrap()).unwrap();
    let origin = serde_json::json!({
        "label": "Production", "baseUrl": "https://eu1.make.com/api", "appId": "kaanha-x1y2z3",
        "appVersion": 1, "apikeyFile": ".secrets/apikey",
        "idMapping": {"connection": [{"local": "kaanha", "remote": "kaanha-x1y2z3"}],
                      "webhook": [], "module": [], "rpc": [], "function": [], "endpoint": []}
    });
    manifest["origins"] = serde_json::json!([origin.clone()]);
    manifest["components"]["module"]["stale"] = serde_json::json!({"label": "gone"});
    std::fs::write(&manifest_path, manifest.to_string()).unwrap();

    export();
    let again: Value = serde_json::from_slice(&std::fs::read(&manifest_path).unwrap()).unwrap();
    assert_eq!(again["origins"], serde_json::json!([origin]));
    assert!(
        again["components"]["module"].get("stale").is_none(),
        "the components are the generator's"
    );
    std::fs::remove_dir_all(&out).unwrap();
}
