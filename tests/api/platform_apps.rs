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
            let committed = std::fs::read_to_string(dir.join(&file.path)).unwrap_or_default();
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

    let base = read("base.imljson");
    assert_eq!(
        base["headers"]["Authorization"],
        "Bearer {{connection.apiKey}}"
    );
    assert!(base["response"]["error"]["message"].is_string());
    let check = read("connections/kaanha/api.imljson");
    let check_url = check["url"].as_str().unwrap();
    let check_path = &check_url[check_url.find("}}").unwrap() + 2..];
    assert!(spec_has_route(
        &spec,
        check["method"].as_str().unwrap(),
        check_path
    ));
    let parameters = read("connections/kaanha/parameters.imljson");
    let names: Vec<&str> = parameters
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["apiKey", "baseUrl"]);

    // Make's rule for component names: a letter, then 2 to 63 letters or digits.
    let make_name = |name: &str| {
        (3..=64).contains(&name.len())
            && name.starts_with(|c: char| c.is_ascii_alphabetic())
            && name.chars().all(|c| c.is_ascii_alphanumeric())
    };
    for kind in ["modules", "webhooks", "rpcs"] {
        for entry in std::fs::read_dir(dir.join(kind)).unwrap() {
            let name = entry.unwrap().file_name().into_string().unwrap();
            assert!(make_name(&name), "{kind}/{name} is not a name Make accepts");
        }
    }
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
        let attach = read(&format!("webhooks/{key}/attach.imljson"));
        assert_eq!(attach["method"], "POST", "{key}");
        assert_eq!(attach["url"], "/api/integrations/make/hooks", "{key}");
        assert_eq!(attach["body"]["targetUrl"], "{{webhook.url}}", "{key}");
        assert_eq!(attach["body"]["event"], trigger["event"], "{key}");
        assert_eq!(
            attach["response"]["data"]["externalHookId"], "{{body.id}}",
            "{key}"
        );
        let detach = read(&format!("webhooks/{key}/detach.imljson"));
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
        let module = read(&format!("modules/{key}/module.json"));
        assert_eq!(module["type"], "instant_trigger", "{key}");
        assert_eq!(module["webhook"], hook, "{key}");
        assert!(module["label"].as_str().unwrap().starts_with("Watch "));
        let interface = read(&format!("modules/{key}/interface.imljson"));
        assert!(
            interface
                .as_array()
                .unwrap()
                .iter()
                .any(|f| f["name"] == "id"),
            "{key}: the interface has the event id"
        );
        assert!(read(&format!("modules/{key}/samples.imljson")).is_object());
    }
    for action in describe["actions"].as_array().unwrap() {
        let key = camel(action["key"].as_str().unwrap());
        let call = read(&format!("modules/{key}/api.imljson"));
        let (method, url) = (
            call["method"].as_str().unwrap(),
            call["url"].as_str().unwrap(),
        );
        assert!(spec_has_route(&spec, method, url), "{key}: {method} {url}");
        routes += 1;
        let module = read(&format!("modules/{key}/module.json"));
        let search = action["kind"] == "search";
        assert_eq!(module["type"], if search { "search" } else { "action" });
        if search {
            assert_eq!(
                call["response"]["iterate"], "{{body}}",
                "one bundle per result"
            );
            assert!(module["label"].as_str().unwrap().starts_with("Search "));
        }
        assert!(
            !read(&format!("modules/{key}/expect.imljson"))
                .as_array()
                .unwrap()
                .is_empty()
        );
        assert!(
            !read(&format!("modules/{key}/interface.imljson"))
                .as_array()
                .unwrap()
                .is_empty()
        );
    }
    // Dropdowns: each RPC reads one of the gateway's lists; fields naming a list use it.
    for list in describe["lists"].as_array().unwrap() {
        let name = format!("list{}", pascal(list["key"].as_str().unwrap()));
        let call = read(&format!("rpcs/{name}/api.imljson"));
        assert!(
            spec_has_route(&spec, "GET", call["url"].as_str().unwrap()),
            "{name}"
        );
        routes += 1;
    }
    let update = read("modules/updateContact/expect.imljson");
    let contact_id = update
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "contactId")
        .unwrap();
    assert_eq!(contact_id["options"], "rpc://listContacts");
    let tags = read("modules/watchMessageReceived/interface.imljson");
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
    let call = read("modules/makeApiCall/api.imljson");
    assert!(spec_has_route(
        &spec,
        call["method"].as_str().unwrap(),
        call["url"].as_str().unwrap()
    ));
    assert_eq!(read("modules/makeApiCall/module.json")["type"], "universal");
    routes += 1;
    for group in read("groups.json").as_array().unwrap() {
        for module in group["modules"].as_array().unwrap() {
            let module = module.as_str().unwrap();
            assert!(
                dir.join("modules").join(module).is_dir(),
                "groups.json names {module}"
            );
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
