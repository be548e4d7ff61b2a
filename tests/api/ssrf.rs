//! SSRF: with private targets not allowed, no spelling of a private address gets a webhook
//! saved, none stored some other way is ever contacted, and a name that rebinds to a private
//! address after it was checked is refused when the delivery resolves it.

use std::{
    collections::HashMap,
    net::IpAddr,
    sync::{
        Arc, Mutex,
        atomic::{AtomicUsize, Ordering},
    },
};

use kaanha_gateway::infra::targets::Lookup;
use serde_json::json;
use tokio::net::TcpListener;

use crate::helpers::{AppOptions, TestApp, expect_json, expect_problem, spawn_app_with};

/// DNS the test controls. Unknown names do not resolve: nothing leaves the machine.
#[derive(Clone, Default)]
struct TestDns(Arc<Mutex<HashMap<String, Vec<IpAddr>>>>);

impl TestDns {
    fn set(&self, name: &str, ip: &str) {
        self.0
            .lock()
            .unwrap()
            .insert(name.to_owned(), vec![ip.parse().unwrap()]);
    }

    fn lookup(&self) -> Lookup {
        let names = self.0.clone();
        Arc::new(move |name, _port| {
            let found = names.lock().unwrap().get(&name).cloned();
            Box::pin(async move {
                found.ok_or_else(|| std::io::Error::new(std::io::ErrorKind::NotFound, name))
            })
        })
    }
}

/// A loopback port that counts the connections it is offered (it should get none).
async fn tripwire() -> (u16, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let hits = Arc::new(AtomicUsize::new(0));
    let counted = hits.clone();
    tokio::spawn(async move {
        while listener.accept().await.is_ok() {
            counted.fetch_add(1, Ordering::SeqCst);
        }
    });
    (port, hits)
}

/// Every way of writing a private, loopback, link-local or reserved target, with what the
/// refusal must say.
fn private_targets(port: u16) -> Vec<(String, &'static str)> {
    let private = "a private or reserved address";
    let mut targets: Vec<(String, &'static str)> = [
        "127.0.0.1",
        "127.1",
        "2130706433",
        "0x7f000001",
        "0177.0.0.1",
        "[::1]",
        "[::ffff:127.0.0.1]",
        "[::]",
        "0.0.0.0",
        "10.0.0.8",
        "172.16.5.4",
        "192.168.0.10",
        "100.64.0.1",
        "169.254.169.254",
        "[fe80::1]",
        "[fd00::1]",
        "[64:ff9b::a9fe:a9fe]",
    ]
    .iter()
    .map(|host| (format!("https://{host}:{port}/hook"), private))
    .collect();
    targets.extend([
        (
            format!("https://localhost:{port}/hook"),
            "this machine|resolves to 127.0.0.1",
        ),
        (
            format!("https://internal.test:{port}/hook"),
            "resolves to 10.1.2.3",
        ),
        (
            format!("https://good.example@127.0.0.1:{port}/"),
            "user name|private or reserved",
        ),
        (format!("http://93.184.216.34:{port}/"), "https"),
        ("ftp://93.184.216.34/hook".to_owned(), "https"),
        ("file:///etc/passwd".to_owned(), "https"),
        ("gopher://127.0.0.1:70/".to_owned(), "https"),
    ]);
    targets
}

/// A gateway that allows no private target, resolving names with `dns`, and a key for it.
async fn strict_gateway(dns: &TestDns) -> (TestApp, String) {
    let app = spawn_app_with(AppOptions {
        allow_private_targets: false,
        retry_schedule: "none",
        lookup: Some(dns.lookup()),
        ..AppOptions::default()
    })
    .await;
    let key = app.api_key("org_a", &["webhooks", "events:publish"]).await;
    (app, key)
}

fn says(message: &str, expected: &str) -> bool {
    expected.split('|').any(|part| message.contains(part))
}

#[tokio::test]
async fn no_spelling_of_a_private_target_is_saved_or_ever_contacted() {
    let dns = TestDns::default();
    dns.set("localhost", "127.0.0.1");
    dns.set("internal.test", "10.1.2.3");
    let (app, key) = strict_gateway(&dns).await;
    let (port, hits) = tripwire().await;
    let targets = private_targets(port);

    // At create: 422 naming the url, with a reason a person understands.
    for (url, expected) in &targets {
        let body = json!({"name": "sneaky", "url": url, "events": ["contact.updated"]});
        let problem = expect_problem(
            app.post("/api/webhooks", &key, &body).send().await.unwrap(),
            422,
        )
        .await;
        let error = &problem["errors"][0];
        assert_eq!(error["field"], "url", "{url}: {problem}");
        let message = error["message"].as_str().unwrap();
        assert!(says(message, expected), "{url}: {message}");
    }

    // At delivery: the same URLs stored behind the API's back are refused, never connected to.
    let db = app.db().await;
    let mut stored = Vec::new();
    for (url, _) in &targets {
        let id =
            crate::stored_rows::webhook_row(&db, "org_a", url, &["contact.updated"], "api").await;
        stored.push((url, id));
    }
    app.publish(&key, &json!({"event": "contact.updated", "data": {}}))
        .await;
    for (url, id) in &stored {
        let logs = app.wait_for_logs(&key, id, "event=contact.updated").await;
        let error = logs[0]["error"].as_str().unwrap_or("");
        assert_eq!(logs[0]["status"], "failed", "{url}");
        assert!(error.starts_with("refused:"), "{url}: {error}");
    }
    assert_eq!(
        hits.load(Ordering::SeqCst),
        0,
        "a private target was contacted"
    );
    eprintln!(
        "{} private targets refused at create and at delivery",
        targets.len()
    );
}

#[tokio::test]
async fn a_name_rebound_to_a_private_address_after_its_check_is_refused_at_delivery() {
    let dns = TestDns::default();
    let (app, key) = strict_gateway(&dns).await;
    let (port, hits) = tripwire().await;
    // Public when the webhook is saved (disabled, so no test event goes out before the switch).
    dns.set("hooks.customer.example", "93.184.216.34");
    let created = expect_json(
        app.post(
            "/api/webhooks",
            &key,
            &json!({
                "name": "rebinding",
                "url": format!("https://hooks.customer.example:{port}/hook"),
                "events": ["contact.updated"],
                "status": "disabled",
            }),
        )
        .send()
        .await
        .unwrap(),
        201,
    )
    .await;
    let id = created["id"].as_str().unwrap();
    // ... then the name answers with loopback.
    dns.set("hooks.customer.example", "127.0.0.1");
    app.update_webhook(&key, id, &json!({"status": "active"}))
        .await;
    app.publish(&key, &json!({"event": "contact.updated", "data": {}}))
        .await;
    let logs = app.wait_for_logs(&key, id, "event=contact.updated").await;
    let error = logs[0]["error"].as_str().unwrap_or("");
    assert!(
        error.contains("`hooks.customer.example` resolves to 127.0.0.1"),
        "{error}"
    );
    assert_eq!(
        hits.load(Ordering::SeqCst),
        0,
        "the rebound name was contacted"
    );
}
