//! A real HTTP receiver on a free loopback port: records every request's raw bytes and
//! headers, and answers as the test says — which it may change mid-test.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use poem::{
    Body, EndpointExt, Request, Response, Route, Server, http::StatusCode, listener::TcpAcceptor,
};
use tokio::sync::Notify;

#[derive(Debug, Clone)]
pub struct Received {
    pub method: String,
    pub path: String,
    /// The query string as sent, without `?` (empty when none).
    pub query: String,
    pub body: Vec<u8>,
    pub headers: HashMap<String, String>,
    pub at: Instant,
}

impl Received {
    pub fn header(&self, name: &str) -> &str {
        self.headers.get(name).map(String::as_str).unwrap_or("")
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).expect("deliveries are JSON")
    }

    pub fn event(&self) -> &str {
        self.header("x-kaanha-event")
    }
}

/// How the receiver answers.
#[derive(Debug, Clone)]
pub struct Answer {
    pub status: u16,
    pub delay: Duration,
    pub headers: Vec<(&'static str, String)>,
    pub body: String,
}

impl Answer {
    pub fn status(status: u16) -> Self {
        Self {
            status,
            delay: Duration::ZERO,
            headers: Vec::new(),
            body: "ok".into(),
        }
    }

    /// This status with this body.
    pub fn body(status: u16, body: &str) -> Self {
        Self {
            body: body.into(),
            ..Self::status(status)
        }
    }
}

#[derive(Default)]
struct State {
    received: Mutex<Vec<Received>>,
    answer: Mutex<Option<Answer>>,
    arrived: Notify,
}

pub struct Receiver {
    pub url: String,
    state: Arc<State>,
}

impl Receiver {
    pub async fn start() -> Self {
        let state = Arc::new(State::default());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let shared = state.clone();
        let app = Route::new().at(
            "/*path",
            poem::endpoint::make(move |req: Request| {
                let state = shared.clone();
                async move { answer(state, req).await }
            })
            .map_to_response(),
        );
        let acceptor = TcpAcceptor::from_tokio(listener).unwrap();
        tokio::spawn(Server::new_with_acceptor(acceptor).run(app));
        Self { url, state }
    }

    /// The URL for webhooks, with a path that shows up in requests.
    pub fn hook(&self, path: &str) -> String {
        format!("{}/{}", self.url, path.trim_start_matches('/'))
    }

    pub fn answer_with(&self, answer: Answer) {
        *self.state.answer.lock().unwrap() = Some(answer);
    }

    pub fn received(&self) -> Vec<Received> {
        self.state.received.lock().unwrap().clone()
    }

    /// Waits until `count` requests matching `filter` have arrived. It waits for progress, not
    /// for a clock: it panics only when `stall` passes with no new matching request, so a
    /// loaded machine that delivers slowly but steadily still passes.
    pub async fn wait_for(
        &self,
        count: usize,
        stall: Duration,
        filter: impl Fn(&Received) -> bool,
    ) -> Vec<Received> {
        let mut deadline = Instant::now() + stall;
        let mut seen = 0;
        loop {
            let arrived = self.state.arrived.notified();
            let matching: Vec<Received> =
                self.received().into_iter().filter(|r| filter(r)).collect();
            if matching.len() >= count {
                return matching;
            }
            if matching.len() > seen {
                seen = matching.len();
                deadline = Instant::now() + stall;
            }
            let left = deadline.saturating_duration_since(Instant::now());
            assert!(
                !left.is_zero(),
                "only {} of {count} requests arrived, and none more for {stall:?}",
                matching.len()
            );
            let _ = tokio::time::timeout(left, arrived).await;
        }
    }

    /// Waits for `count` deliveries of this event type.
    pub async fn wait_for_event(
        &self,
        event: &str,
        count: usize,
        within: Duration,
    ) -> Vec<Received> {
        self.wait_for(count, within, |r| r.event() == event).await
    }
}

async fn answer(state: Arc<State>, req: Request) -> Response {
    let method = req.method().to_string();
    let path = req.uri().path().to_owned();
    let query = req.uri().query().unwrap_or_default().to_owned();
    let headers = req
        .headers()
        .iter()
        .map(|(k, v)| (k.as_str().to_owned(), v.to_str().unwrap_or("").to_owned()))
        .collect();
    let at = Instant::now();
    let body = req.into_body().into_vec().await.unwrap_or_default();
    state.received.lock().unwrap().push(Received {
        method,
        path,
        query,
        body,
        headers,
        at,
    });
    state.arrived.notify_waiters();
    let answer = state
        .answer
        .lock()
        .unwrap()
        .clone()
        .unwrap_or_else(|| Answer::status(200));
    if !answer.delay.is_zero() {
        tokio::time::sleep(answer.delay).await;
    }
    let mut response = Response::builder()
        .status(StatusCode::from_u16(answer.status).unwrap())
        .body(Body::from_string(answer.body.clone()));
    for (name, value) in answer.headers {
        response.headers_mut().insert(name, value.parse().unwrap());
    }
    response
}
