//! A client that knows only the describe document does everything, as each platform.

use serde_json::{Value, json};

use crate::{
    discovery::{WAIT, describe},
    helpers::{AppOptions, TestApp, expect_json, expect_problem, spawn_app_with},
    receiver::{Answer, Received, Receiver},
};

/// A value of the described type, as a generic client would make one up.
fn value_for(field: &Value) -> Value {
    match field["type"].as_str().unwrap() {
        "integer" => json!(7),
        "number" => json!(12.5),
        "boolean" => json!(true),
        "datetime" => json!("2026-03-24T10:30:00.000Z"),
        "array" => json!(["vip"]),
        "json" => json!({}),
        "enum" => field["choices"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["value"].clone())
            .find(|v| v != "")
            .unwrap(),
        _ => json!("clx1"),
    }
}

/// A no-code platform that knows the gateway only through its describe document: every route,
/// header and field it uses is read from there.
struct DescribeClient<'a> {
    app: &'a TestApp,
    doc: Value,
    key: String,
}

impl DescribeClient<'_> {
    /// A request to one of the document's routes (`{"method", "path"}`), its `{name}` segments
    /// filled in, carrying the credential as the document says.
    fn call(&self, route: &Value, params: &[(&str, &str)]) -> reqwest::RequestBuilder {
        let mut path = route["path"].as_str().unwrap().to_owned();
        for (name, value) in params {
            path = path.replace(&format!("{{{name}}}"), value);
        }
        let url = format!(
            "{}{path}",
            self.doc["platform"]["baseUrl"].as_str().unwrap()
        );
        let method: reqwest::Method = route["method"].as_str().unwrap().parse().unwrap();
        let auth = &self.doc["auth"];
        self.app.client.request(method, url).header(
            auth["header"].as_str().unwrap(),
            format!("{} {}", auth["scheme"].as_str().unwrap(), self.key),
        )
    }

    /// The connection test, and the label it shows for the connection.
    async fn test_connection(&self) {
        let me = expect_json(
            self.call(&self.doc["auth"]["test"], &[])
                .send()
                .await
                .unwrap(),
            200,
        )
        .await;
        let label = self.doc["auth"]["connectionLabel"].as_str().unwrap();
        assert!(me[label].is_string(), "{me}");
    }

    /// Subscribes the platform's hook URL to a trigger with a secret; checks the answer holds
    /// every field the document promises.
    async fn subscribe(&self, platform: &str, trigger: &Value, url: &str, secret: &str) -> Value {
        let subs = &self.doc["subscriptions"];
        let body = json!({"targetUrl": url, "event": trigger["event"], "secret": secret});
        let request = self
            .call(&subs["subscribe"], &[("platform", platform)])
            .json(&body);
        let created = expect_json(request.send().await.unwrap(), 201).await;
        for field in subs["response"].as_array().unwrap() {
            let field = field.as_str().unwrap();
            assert!(
                created.get(field).is_some(),
                "{platform}: {field} missing from {created}"
            );
        }
        created
    }

    /// A delivery signed with `secret` in the document's header, with the document's envelope,
    /// de-duplicable by its idempotency key.
    fn check_delivery(&self, got: &Received, secret: &str, event_id: &str) {
        let delivery = &self.doc["delivery"];
        let header = delivery["signatureHeader"]
            .as_str()
            .unwrap()
            .to_ascii_lowercase();
        let expected = kaanha_gateway::delivery::sign::kaanha_signature(secret, &got.body);
        assert_eq!(got.header(&header), expected);
        let envelope = got.json();
        for field in delivery["envelope"].as_array().unwrap() {
            assert!(envelope.get(field.as_str().unwrap()).is_some(), "{field}");
        }
        assert_eq!(
            envelope[delivery["idempotencyKey"].as_str().unwrap()],
            event_id
        );
    }

    /// The trigger's samples, newest first.
    async fn samples(&self, trigger: &Value) -> Value {
        expect_json(
            self.call(&trigger["samples"], &[]).send().await.unwrap(),
            200,
        )
        .await
    }

    /// Runs the first action with a made-up value for each required input.
    async fn run_first_action(&self) -> Value {
        let action = &self.doc["actions"][0];
        let input: serde_json::Map<String, Value> = action["inputFields"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["required"] == true)
            .map(|f| (f["key"].as_str().unwrap().to_owned(), value_for(f)))
            .collect();
        expect_json(
            self.call(action, &[]).json(&input).send().await.unwrap(),
            200,
        )
        .await
    }

    /// Unsubscribes (204), after which check-exists answers 404.
    async fn unsubscribe(&self, platform: &str, id: &str) {
        let subs = &self.doc["subscriptions"];
        let params = [("platform", platform), ("id", id)];
        let gone = self
            .call(&subs["unsubscribe"], &params)
            .send()
            .await
            .unwrap();
        assert_eq!(gone.status(), 204);
        expect_problem(self.call(&subs["get"], &params).send().await.unwrap(), 404).await;
    }
}

/// The issue's "done when": a client that knows only the describe document subscribes,
/// receives signed deliveries, lists samples, runs an action and unsubscribes — as each platform.
#[tokio::test]
async fn a_client_knowing_only_describe_does_everything_on_every_platform() {
    let upstream = Receiver::start().await;
    upstream.answer_with(Answer {
        body: r#"{"messageId": "wamid.1", "status": "queued"}"#.into(),
        ..Answer::status(200)
    });
    let app = spawn_app_with(AppOptions {
        upstream_url: Some(upstream.url.clone()),
        ..AppOptions::default()
    })
    .await;
    let key = app
        .api_key("org_a", &["integrations", "events:publish"])
        .await;
    let client = DescribeClient {
        doc: describe(&app, &key).await,
        app: &app,
        key,
    };
    client.test_connection().await;
    let trigger = &client.doc["triggers"][0];
    for platform in client.doc["subscriptions"]["platforms"].as_array().unwrap() {
        let platform = platform.as_str().unwrap();
        let receiver = Receiver::start().await;
        let secret = format!("{platform}-secret-value");
        let created = client
            .subscribe(platform, trigger, &receiver.hook(platform), &secret)
            .await;

        let event_id = format!("{platform}-evt");
        let event =
            json!({"event": trigger["event"], "id": event_id, "data": trigger["sample"]["data"]});
        app.publish(&client.key, &event).await;
        let got = receiver
            .wait_for_event(trigger["event"].as_str().unwrap(), 1, WAIT)
            .await
            .remove(0);
        client.check_delivery(&got, &secret, &event_id);
        assert_eq!(
            client.samples(trigger).await[0]["id"],
            event_id.as_str(),
            "{platform}: newest first"
        );
        assert_eq!(client.run_first_action().await["status"], "queued");
        client
            .unsubscribe(platform, created["id"].as_str().unwrap())
            .await;
    }
    assert_eq!(
        upstream.received().len(),
        3,
        "one action per platform reached the upstream"
    );
}
