//! A client that knows only the describe document does everything, as each platform.

use serde_json::{Value, json};

use crate::discovery::{WAIT, describe};
use crate::{
    helpers::{AppOptions, expect_json, expect_problem, spawn_app_with},
    receiver::{Answer, Receiver},
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
    let doc = describe(&app, &key).await;
    let base = doc["platform"]["baseUrl"].as_str().unwrap().to_owned();
    let call = |method: &str, path: &str| {
        let url = format!("{base}{path}");
        let request = match method {
            "GET" => app.client.get(url),
            "POST" => app.client.post(url),
            "DELETE" => app.client.delete(url),
            other => panic!("describe named method {other}"),
        };
        request.header(
            doc["auth"]["header"].as_str().unwrap(),
            format!("{} {key}", doc["auth"]["scheme"].as_str().unwrap()),
        )
    };
    let test = &doc["auth"]["test"];
    let me = expect_json(
        call(
            test["method"].as_str().unwrap(),
            test["path"].as_str().unwrap(),
        )
        .send()
        .await
        .unwrap(),
        200,
    )
    .await;
    assert!(me[doc["auth"]["connectionLabel"].as_str().unwrap()].is_string());

    let trigger = &doc["triggers"][0];
    let subs = &doc["subscriptions"];
    for platform in subs["platforms"].as_array().unwrap() {
        let platform = platform.as_str().unwrap();
        let receiver = Receiver::start().await;
        let secret = format!("{platform}-secret-value");
        let subscribe_path = subs["subscribe"]["path"]
            .as_str()
            .unwrap()
            .replace("{platform}", platform);
        let body = json!({"targetUrl": receiver.hook(platform), "event": trigger["event"], "secret": secret});
        let created = expect_json(
            call(
                subs["subscribe"]["method"].as_str().unwrap(),
                &subscribe_path,
            )
            .json(&body)
            .send()
            .await
            .unwrap(),
            201,
        )
        .await;
        for field in subs["response"].as_array().unwrap() {
            assert!(
                created.get(field.as_str().unwrap()).is_some(),
                "{platform}: {field} missing from {created}"
            );
        }

        let event_id = format!("{platform}-evt");
        app.publish(
            &key,
            &json!({"event": trigger["event"], "id": event_id, "data": trigger["sample"]["data"]}),
        )
        .await;
        let got = receiver
            .wait_for_event(trigger["event"].as_str().unwrap(), 1, WAIT)
            .await
            .remove(0);
        let header = doc["delivery"]["signatureHeader"]
            .as_str()
            .unwrap()
            .to_ascii_lowercase();
        let mut mac =
            <hmac::Hmac<sha2::Sha256> as hmac::KeyInit>::new_from_slice(secret.as_bytes()).unwrap();
        hmac::Mac::update(&mut mac, &got.body);
        let expected = format!(
            "sha256={}",
            hex::encode(hmac::Mac::finalize(mac).into_bytes())
        );
        assert_eq!(got.header(&header), expected, "{platform}");
        let envelope = got.json();
        for field in doc["delivery"]["envelope"].as_array().unwrap() {
            assert!(envelope.get(field.as_str().unwrap()).is_some(), "{field}");
        }
        assert_eq!(
            envelope[doc["delivery"]["idempotencyKey"].as_str().unwrap()],
            event_id.as_str()
        );

        let samples = &trigger["samples"];
        let listed = expect_json(
            call(
                samples["method"].as_str().unwrap(),
                samples["path"].as_str().unwrap(),
            )
            .send()
            .await
            .unwrap(),
            200,
        )
        .await;
        assert_eq!(
            listed[0]["id"],
            event_id.as_str(),
            "{platform}: newest sample first"
        );

        let action = &doc["actions"][0];
        let input: serde_json::Map<String, Value> = action["inputFields"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["required"] == true)
            .map(|f| (f["key"].as_str().unwrap().to_owned(), value_for(f)))
            .collect();
        let ran = expect_json(
            call(
                action["method"].as_str().unwrap(),
                action["path"].as_str().unwrap(),
            )
            .json(&input)
            .send()
            .await
            .unwrap(),
            200,
        )
        .await;
        assert_eq!(ran["status"], "queued");

        let id = created["id"].as_str().unwrap();
        let unsubscribe = subs["unsubscribe"]["path"]
            .as_str()
            .unwrap()
            .replace("{platform}", platform)
            .replace("{id}", id);
        assert_eq!(
            call(
                subs["unsubscribe"]["method"].as_str().unwrap(),
                &unsubscribe
            )
            .send()
            .await
            .unwrap()
            .status(),
            204
        );
        let get = subs["get"]["path"]
            .as_str()
            .unwrap()
            .replace("{platform}", platform)
            .replace("{id}", id);
        expect_problem(
            call(subs["get"]["method"].as_str().unwrap(), &get)
                .send()
                .await
                .unwrap(),
            404,
        )
        .await;
    }
    assert_eq!(
        upstream.received().len(),
        3,
        "one action per platform reached the upstream"
    );
}
