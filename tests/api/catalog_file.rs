//! `KAANHA_CATALOG`: event types and actions added from a file, without a rebuild. The gateway
//! runs as its own process here: the catalog is fixed for the life of a process, and the other
//! tests share this one.

use std::{
    process::{Child, Command, Stdio},
    time::Duration,
};

use serde_json::{Value, json};

use crate::{
    crash::{BIN, free_port, wait_ready},
    database::TestDatabase,
    helpers::http_client,
    receiver::Receiver,
    signing::WAIT,
};

const EXAMPLE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/catalog.json");

struct Gateway {
    child: Child,
}

impl Drop for Gateway {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn gateway(database: &TestDatabase, catalog: &str, port: u16) -> Gateway {
    let child = Command::new(BIN)
        .env("KAANHA_DATABASE_URL", &database.url)
        .env("KAANHA_BIND", format!("127.0.0.1:{port}"))
        .env("KAANHA_ALLOW_PRIVATE_TARGETS", "true")
        .env("KAANHA_CATALOG", catalog)
        .env("KAANHA_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("the gateway starts");
    Gateway { child }
}

fn api_key(database: &TestDatabase, catalog: &str) -> String {
    let created = Command::new(BIN)
        .args(["api-key", "create", "--org", "org_cat", "--name", "catalog"])
        .args(["--scopes", "webhooks,integrations,events:publish"])
        .env("KAANHA_DATABASE_URL", &database.url)
        .env("KAANHA_CATALOG", catalog)
        .output()
        .unwrap();
    assert!(created.status.success(), "{created:?}");
    String::from_utf8(created.stdout).unwrap().trim().to_owned()
}

#[tokio::test]
async fn a_custom_event_type_is_published_delivered_and_listed_by_describe() {
    let database = TestDatabase::new().await;
    let key = api_key(&database, EXAMPLE);
    let port = free_port();
    let _gateway = gateway(&database, EXAMPLE, port);
    let base = format!("http://127.0.0.1:{port}");
    let client = http_client();
    wait_ready(&client, &base).await;
    let call = |method: reqwest::Method, path: &str| {
        client
            .request(method, format!("{base}{path}"))
            .bearer_auth(&key)
    };

    // Discovery lists it with its sample, beside the built-in ones; the action too.
    let describe: Value = call(reqwest::Method::GET, "/api/integrations/describe")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let trigger = describe["triggers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["event"] == "order.shipped")
        .expect("the custom type is a trigger");
    assert_eq!(trigger["label"], "Order Shipped");
    assert_eq!(trigger["group"], "Orders");
    assert_eq!(trigger["sample"]["data"]["orderId"], "ord_7Hc2");
    // Its filter is an input field, with the file's choices.
    let carrier = &trigger["inputFields"][0];
    assert_eq!(carrier["key"], "carrier", "{trigger}");
    assert_eq!(carrier["choices"][1]["value"], "Delhivery", "{carrier}");
    assert!(
        describe["triggers"]
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t["event"] == "message.received")
    );
    assert!(
        describe["actions"]
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a["key"] == "add_order_note"),
        "the custom action is listed"
    );

    // A webhook subscribes to it, a publish delivers it.
    let receiver = Receiver::start().await;
    let body =
        json!({"name": "fulfilment", "url": receiver.hook("orders"), "events": ["order.shipped"]});
    let created = call(reqwest::Method::POST, "/api/webhooks")
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    let event = json!({"event": "order.shipped", "id": "ship_1", "data": {"orderId": "ord_9", "carrier": "DHL"}});
    let published = call(reqwest::Method::POST, "/api/events")
        .json(&event)
        .send()
        .await
        .unwrap();
    assert_eq!(published.status(), 202);
    let arrived = receiver.wait_for_event("order.shipped", 1, WAIT).await;
    assert_eq!(arrived[0].json()["data"]["carrier"], "DHL");

    // Its samples route answers with the real event now.
    let samples: Value = call(
        reqwest::Method::GET,
        "/api/integrations/triggers/order.shipped/samples",
    )
    .send()
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    assert_eq!(samples[0]["id"], "ship_1", "{samples}");

    // A subscription narrowed by the file's filter gets only the events that pass it; a value
    // outside its choices is refused naming the filter.
    let post = |path: &'static str, body: Value| async move {
        let response = call(reqwest::Method::POST, path).json(&body).send().await;
        let response = response.unwrap();
        let status = response.status().as_u16();
        (status, response.json::<Value>().await.unwrap())
    };
    let hooks = "/api/integrations/zapier/hooks";
    let zap = json!({"target_url": receiver.hook("zap"), "event": "order.shipped", "filters": {"carrier": "Delhivery"}});
    assert_eq!(post(hooks, zap).await.0, 201);
    let wrong = json!({"target_url": receiver.hook("zap2"), "event": "order.shipped", "filters": {"carrier": "Pigeon"}});
    let (status, problem) = post(hooks, wrong).await;
    assert_eq!(status, 422);
    assert_eq!(
        problem["errors"][0]["field"], "filters.carrier",
        "{problem}"
    );
    for (id, carrier) in [("ship_2", "BlueDart"), ("ship_3", "Delhivery")] {
        let event = json!({"event": "order.shipped", "id": id, "data": {"orderId": id, "carrier": carrier}});
        assert_eq!(post("/api/events", event).await.0, 202);
    }
    // Four in all: the webhook without filters gets all three, the subscription only one (a
    // moment more lets a wrongly delivered one arrive too).
    receiver.wait_for_event("order.shipped", 4, WAIT).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let to_zap: Vec<String> = receiver
        .received()
        .iter()
        .filter(|r| r.path == "/zap")
        .map(|r| r.json()["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(to_zap, ["ship_3"]);
}

#[tokio::test]
async fn a_bad_catalog_stops_the_start_naming_the_entry() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("catalog.json");
    let bad = json!({"eventTypes": [{
        "type": "Order Shipped", "group": "Orders", "label": "Order Shipped",
        "description": "d", "sample": {},
    }]});
    std::fs::write(&path, bad.to_string()).unwrap();
    let database = TestDatabase::new().await;
    let port = free_port();
    let mut started = Command::new(BIN)
        .env("KAANHA_DATABASE_URL", &database.url)
        .env("KAANHA_BIND", format!("127.0.0.1:{port}"))
        .env("KAANHA_CATALOG", &path)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut waited = Duration::ZERO;
    let status = loop {
        if let Some(status) = started.try_wait().unwrap() {
            break status;
        }
        assert!(
            waited < Duration::from_secs(20),
            "the gateway started anyway"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
        waited += Duration::from_millis(50);
    };
    assert!(!status.success());
    let mut stderr = String::new();
    std::io::Read::read_to_string(&mut started.stderr.take().unwrap(), &mut stderr).unwrap();
    assert!(
        stderr.contains("eventTypes[0] (Order Shipped)") && stderr.contains("lowercase"),
        "{stderr}"
    );
}
