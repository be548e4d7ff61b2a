use std::time::{Duration, SystemTime, UNIX_EPOCH};

use kaanha_gateway::{
    config::{Config, Role},
    startup::Application,
};
use reqwest::{Client, RequestBuilder, Response, StatusCode};
use serde_json::{Value, json};
use tokio::sync::oneshot;

use crate::database::TestDatabase;

pub const JWT_SECRET: &str = "test-jwt-secret-that-is-long-enough";
/// What the gateway signs forwarded actions' tokens with (its own secret, not `JWT_SECRET`).
pub const UPSTREAM_JWT_SECRET: &str = "test-upstream-secret-that-is-long-enough";

/// A gateway serving on a free loopback port, on its own SQLite file.
pub struct TestApp {
    pub address: String,
    pub client: Client,
    pub database_url: String,
    /// The database this gateway made (dropped with it); `None` for one started beside another.
    database: Option<TestDatabase>,
    _stop: oneshot::Sender<()>,
}

/// How a test wants its gateway set up.
pub struct AppOptions {
    pub allow_private_targets: bool,
    pub max_body_bytes: Option<usize>,
    /// Millisecond schedules keep retry tests fast.
    pub retry_schedule: &'static str,
    pub delivery_timeout: Duration,
    pub webhook_concurrency: usize,
    pub poll_interval: Duration,
    pub upstream_url: Option<String>,
    pub role: Role,
    /// Any other setting, changed last.
    pub tweak: fn(&mut Config),
    /// How host names resolve (the system's resolver when `None`).
    pub lookup: Option<kaanha_gateway::infra::targets::Lookup>,
}

impl Default for AppOptions {
    fn default() -> Self {
        Self {
            allow_private_targets: true,
            max_body_bytes: None,
            retry_schedule: "100ms,200ms,300ms",
            delivery_timeout: Duration::from_secs(2),
            webhook_concurrency: 16,
            poll_interval: Duration::from_secs(1),
            upstream_url: None,
            role: Role::All,
            tweak: |_| {},
            lookup: None,
        }
    }
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(AppOptions::default()).await
}

pub async fn spawn_app_with(options: AppOptions) -> TestApp {
    let database = TestDatabase::new().await;
    let url = database.url.clone();
    start_on(Some(database), url, options).await
}

/// A gateway on an existing database (`database_url`), e.g. one restored from a backup.
pub async fn spawn_app_on(database_url: String, options: AppOptions) -> TestApp {
    start_on(None, database_url, options).await
}

/// Starts a gateway on the database at `database_url` (new, or left by an earlier gateway);
/// it owns `database` if given.
async fn start_on(
    database: Option<TestDatabase>,
    database_url: String,
    options: AppOptions,
) -> TestApp {
    let mut config = Config::for_database(&database_url);
    config.bind = "127.0.0.1:0".parse().unwrap();
    config.security.jwt_secret = Some(JWT_SECRET.to_owned());
    config.security.upstream_jwt_secret = Some(UPSTREAM_JWT_SECRET.to_owned());
    // Tests that are about the rate set their own; the others make webhooks by the dozen.
    config.limits.manual_sends_per_minute = 100_000;
    // Failures are slowed down on purpose; the suite makes hundreds of them.
    config.security.auth_failure_delay = Duration::from_millis(5);
    config.allow_private_targets = options.allow_private_targets;
    if let Some(limit) = options.max_body_bytes {
        config.max_body_bytes = limit;
    }
    config.retry_schedule = options.retry_schedule.parse().unwrap();
    config.delivery_timeout = options.delivery_timeout;
    config.webhook_concurrency = options.webhook_concurrency;
    config.poll_interval = options.poll_interval;
    config.upstream_url = options.upstream_url.map(|u| u.parse().unwrap());
    config.role = options.role;
    (options.tweak)(&mut config);
    let lookup = options
        .lookup
        .unwrap_or_else(kaanha_gateway::infra::targets::system_lookup);
    let app = Application::build_with_lookup(config, lookup)
        .await
        .expect("the gateway builds");
    let address = format!("http://{}", app.local_addr().unwrap());
    let (stop, stopped) = oneshot::channel::<()>();
    tokio::spawn(app.run_until(async {
        let _ = stopped.await;
    }));
    TestApp {
        address,
        client: http_client(),
        database_url,
        database,
        _stop: stop,
    }
}

/// A plain HTTP client for tests. reqwest is built without a bundled TLS provider (the gateway
/// installs ring when it builds its own client); install it here too.
pub fn http_client() -> Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    Client::new()
}

/// Seconds since the epoch, for JWT claims.
pub fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// A service JWT as the platform's back end would mint it.
pub fn service_token(org: &str, scope: &str) -> String {
    sign_claims(&json!({"sub": "platform", "org": org, "scope": scope, "exp": unix_now() + 300}))
}

pub fn sign_claims(claims: &Value) -> String {
    jsonwebtoken::encode(
        &jsonwebtoken::Header::default(),
        claims,
        &jsonwebtoken::EncodingKey::from_secret(JWT_SECRET.as_bytes()),
    )
    .unwrap()
}

impl TestApp {
    /// Stops this gateway and starts a new one on the same database, as a restart would.
    pub async fn restart(self, options: AppOptions) -> TestApp {
        drop(self._stop);
        tokio::time::sleep(Duration::from_millis(100)).await;
        start_on(self.database, self.database_url, options).await
    }

    /// A second gateway on this one's database, running beside it (as instances scale out).
    pub async fn beside(&self, options: AppOptions) -> TestApp {
        start_on(None, self.database_url.clone(), options).await
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.address, path)
    }

    pub fn get(&self, path: &str, token: &str) -> RequestBuilder {
        self.client.get(self.url(path)).bearer_auth(token)
    }

    pub fn post(&self, path: &str, token: &str, body: &Value) -> RequestBuilder {
        self.client
            .post(self.url(path))
            .bearer_auth(token)
            .json(body)
    }

    pub fn patch(&self, path: &str, token: &str, body: &Value) -> RequestBuilder {
        self.client
            .patch(self.url(path))
            .bearer_auth(token)
            .json(body)
    }

    pub fn delete(&self, path: &str, token: &str) -> RequestBuilder {
        self.client.delete(self.url(path)).bearer_auth(token)
    }

    /// Creates an API key through the API (as the platform would) and returns it.
    /// `GET /metrics`, as text.
    pub async fn metrics(&self) -> String {
        let response = self.client.get(self.url("/metrics")).send().await.unwrap();
        assert_eq!(response.status(), 200);
        response.text().await.unwrap()
    }

    /// The value of one sample in `/metrics`, named with its labels (`name{label="v"}`).
    pub async fn counter(&self, sample: &str) -> u64 {
        let metrics = self.metrics().await;
        let prefix = format!("{sample} ");
        metrics
            .lines()
            .find_map(|line| line.strip_prefix(prefix.as_str()))
            .unwrap_or_else(|| panic!("no {sample} in {metrics}"))
            .parse()
            .unwrap()
    }

    pub async fn api_key(&self, org: &str, scopes: &[&str]) -> String {
        let jwt = service_token(org, "api-keys webhooks integrations events:publish");
        let body = json!({"name": "test key", "scopes": scopes});
        let created = expect_json(
            self.post("/api/api-keys", &jwt, &body)
                .send()
                .await
                .unwrap(),
            201,
        )
        .await;
        created["key"].as_str().unwrap().to_owned()
    }

    /// A second connection to the gateway's database, for what the API cannot do (yet).
    pub async fn db(&self) -> sea_orm::DatabaseConnection {
        sea_orm::Database::connect(&self.database_url)
            .await
            .unwrap()
    }

    /// Creates a webhook for `url` with these events (and secret) and returns its JSON.
    pub async fn webhook_to(
        &self,
        token: &str,
        url: &str,
        events: &[&str],
        secret: Option<&str>,
    ) -> Value {
        let mut body = json!({"name": "receiver", "url": url, "events": events});
        if let Some(secret) = secret {
            body["secret"] = json!(secret);
        }
        expect_json(
            self.post("/api/webhooks", token, &body)
                .send()
                .await
                .unwrap(),
            201,
        )
        .await
    }

    /// Creates a webhook from this body, expecting 201; returns it.
    pub async fn create_webhook(&self, token: &str, body: &Value) -> Value {
        expect_json(
            self.post("/api/webhooks", token, body)
                .send()
                .await
                .unwrap(),
            201,
        )
        .await
    }

    /// Publishes events in one batch, expecting 202.
    pub async fn publish_batch(&self, token: &str, events: Vec<Value>) {
        let body = json!({"events": events});
        let response = self
            .post("/api/events/batch", token, &body)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 202, "batch publish");
    }

    /// PATCHes a webhook, expecting 200; returns the webhook.
    pub async fn update_webhook(&self, token: &str, id: &str, changes: &Value) -> Value {
        let path = format!("/api/webhooks/{id}");
        expect_json(self.patch(&path, token, changes).send().await.unwrap(), 200).await
    }

    /// Publishes one event and returns the answer's JSON.
    pub async fn publish(&self, token: &str, event: &Value) -> Value {
        let response = self.post("/api/events", token, event).send().await.unwrap();
        let status = response.status().as_u16();
        assert!(status == 202 || status == 200, "publish answered {status}");
        response.json().await.unwrap()
    }

    /// The webhook's log, newest first.
    pub async fn logs(&self, token: &str, webhook_id: &str, query: &str) -> Vec<Value> {
        let path = format!("/api/webhooks/{webhook_id}/logs?limit=100&{query}");
        let page = expect_json(self.get(&path, token).send().await.unwrap(), 200).await;
        page["data"].as_array().unwrap().clone()
    }

    /// The webhook's log once it has a row matching `query` (outcomes are recorded just after
    /// the receiver answers, so tests wait for them).
    pub async fn wait_for_logs(&self, token: &str, webhook_id: &str, query: &str) -> Vec<Value> {
        for _ in 0..100 {
            let rows = self.logs(token, webhook_id, query).await;
            if !rows.is_empty() {
                return rows;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("no log row matching `{query}` for {webhook_id} within 5 s");
    }

    /// Waits until `path` answers 404 (a 410 removes a subscription just after the receiver
    /// answers), then checks it is a proper problem.
    pub async fn wait_until_gone(&self, path: &str, token: &str) {
        for _ in 0..100 {
            if self.get(path, token).send().await.unwrap().status() == 404 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        expect_problem(self.get(path, token).send().await.unwrap(), 404).await;
    }

    /// Creates a webhook on a loopback URL and returns its JSON.
    pub async fn webhook(&self, token: &str, name: &str) -> Value {
        let body = json!({
            "name": name,
            "url": "http://127.0.0.1:9/hook",
            "events": ["message.received"],
        });
        expect_json(
            self.post("/api/webhooks", token, &body)
                .send()
                .await
                .unwrap(),
            201,
        )
        .await
    }
}

/// Asserts the status and returns the JSON body.
pub async fn expect_json(response: Response, status: u16) -> Value {
    let actual = response.status();
    let text = response.text().await.unwrap();
    assert_eq!(
        actual,
        StatusCode::from_u16(status).unwrap(),
        "body: {text}"
    );
    serde_json::from_str(&text).unwrap_or_else(|_| panic!("not JSON: {text}"))
}

/// Asserts an `application/problem+json` error with this status, and returns it.
pub async fn expect_problem(response: Response, status: u16) -> Value {
    let content_type = response
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    let problem = expect_json(response, status).await;
    assert!(
        content_type.starts_with("application/problem+json"),
        "content type {content_type}: {problem}"
    );
    assert_eq!(problem["status"], status, "{problem}");
    assert!(
        problem["title"].is_string() && problem["detail"].is_string(),
        "{problem}"
    );
    problem
}

/// The fields a 422 names.
pub fn invalid_fields(problem: &Value) -> Vec<String> {
    problem["errors"]
        .as_array()
        .map(|errors| {
            errors
                .iter()
                .map(|e| e["field"].as_str().unwrap().to_owned())
                .collect()
        })
        .unwrap_or_default()
}

/// The domain's store over `db`, for tests that call the domain directly: no quotas, secrets
/// stored plain.
pub fn store_over(db: sea_orm::DatabaseConnection) -> kaanha_gateway::domain::store::Store {
    kaanha_gateway::domain::store::Store {
        db,
        wake: Default::default(),
        secrets: Default::default(),
        quotas: kaanha_gateway::domain::store::Quotas {
            webhooks: u64::MAX,
            api_keys: u64::MAX,
        },
    }
}
