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
    let check_path = check_url.trim_start_matches("{{parameters.baseUrl}}");
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

    let mut routes = 1;
    for trigger in describe["triggers"].as_array().unwrap() {
        let key = trigger["key"].as_str().unwrap();
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
        let module = read(&format!("modules/{key}/module.json"));
        assert_eq!(module["typeFunction"], "instant", "{key}");
        assert_eq!(module["webhook"], key, "{key}");
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
        let key = action["key"].as_str().unwrap();
        let call = read(&format!("modules/{key}/api.imljson"));
        let (method, url) = (
            call["method"].as_str().unwrap(),
            call["url"].as_str().unwrap(),
        );
        assert!(spec_has_route(&spec, method, url), "{key}: {method} {url}");
        routes += 1;
        assert_eq!(
            read(&format!("modules/{key}/module.json"))["typeFunction"],
            "action"
        );
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
    eprintln!("the Make app's {routes} calls all name routes of the spec");
}
