//! Slow and numerous clients: half-sent requests are closed once their time is up, never hold
//! up anyone else's request, and past the connection limit a newcomer is told so at once.

use std::time::{Duration, Instant};

use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpStream,
};

use crate::helpers::{AppOptions, TestApp, spawn_app_with};

/// The answer's status line and the rest, read until the server closes or `within` passes.
async fn answer_within(stream: &mut TcpStream, within: Duration) -> String {
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(within, async {
        let mut buf = [0u8; 4096];
        while let Ok(n) = stream.read(&mut buf).await {
            if n == 0 {
                break;
            }
            answer.extend_from_slice(&buf[..n]);
            if answer.windows(4).any(|w| w == b"\r\n\r\n") {
                break;
            }
        }
    })
    .await;
    String::from_utf8_lossy(&answer).into_owned()
}

/// Sends a POST's head and the first bytes of a 1,000-byte body; the rest never comes unless
/// the caller trickles it.
async fn post_started(app: &TestApp, path: &str, key: &str, extra: &str) -> TcpStream {
    let address = app.address.trim_start_matches("http://");
    let mut stream = TcpStream::connect(address).await.unwrap();
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: gateway\r\nAuthorization: Bearer {key}\r\n{extra}\
         Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n{{\"event\":"
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    stream
}

/// Opens a connection and sends a request's first header lines, never the blank line ending
/// them.
async fn half_request(app: &TestApp) -> TcpStream {
    let address = app.address.trim_start_matches("http://");
    let mut stream = TcpStream::connect(address).await.unwrap();
    stream
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: gateway\r\nX-Slow: ")
        .await
        .unwrap();
    stream
}

/// Whether the server has closed the connection (reads to its end within `within`).
async fn closed_within(stream: &mut TcpStream, within: Duration) -> bool {
    let mut rest = Vec::new();
    matches!(
        tokio::time::timeout(within, stream.read_to_end(&mut rest)).await,
        Ok(Ok(_)) | Ok(Err(_))
    )
}

#[tokio::test]
async fn thousands_of_half_sent_requests_do_not_delay_others_and_are_closed_after_their_timeout() {
    let app = spawn_app_with(AppOptions {
        tweak: |config| {
            config.limits.header_read_timeout = Duration::from_secs(2);
            config.limits.max_connections = 4000;
            // All from this machine's one address: this test is about the gateway's own limit.
            config.limits.max_connections_per_client = 4000;
        },
        ..AppOptions::default()
    })
    .await;
    let opened = Instant::now();
    let mut slow = Vec::new();
    for _ in 0..2000 {
        slow.push(half_request(&app).await);
    }
    for _ in 0..5 {
        let asked = Instant::now();
        let response = app.client.get(app.url("/healthz")).send().await.unwrap();
        assert_eq!(response.status(), 200);
        assert!(
            asked.elapsed() < Duration::from_millis(500),
            "answered in {:?} beside 2,000 half-sent requests",
            asked.elapsed()
        );
    }
    // Past the header timeout every slow connection has been closed by the server.
    tokio::time::sleep((opened + Duration::from_secs(3)).saturating_duration_since(Instant::now()))
        .await;
    for (index, stream) in slow.iter_mut().enumerate() {
        assert!(
            closed_within(stream, Duration::from_secs(2)).await,
            "half-sent connection {index} is still open"
        );
    }
}

#[tokio::test]
async fn a_body_that_stops_arriving_is_closed_after_the_idle_timeout() {
    let app = spawn_app_with(AppOptions {
        tweak: |config| config.limits.idle_timeout = Duration::from_secs(1),
        ..AppOptions::default()
    })
    .await;
    let key = app.api_key("org_a", &["events:publish"]).await;
    let address = app.address.trim_start_matches("http://");
    let mut stream = TcpStream::connect(address).await.unwrap();
    let head = format!(
        "POST /api/events HTTP/1.1\r\nHost: gateway\r\nAuthorization: Bearer {key}\r\n\
         Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{{\"event\":"
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    let started = Instant::now();
    assert!(closed_within(&mut stream, Duration::from_secs(5)).await);
    assert!(started.elapsed() >= Duration::from_millis(900));
}

#[tokio::test]
async fn past_the_connection_limit_a_new_connection_gets_503_at_once() {
    let app = spawn_app_with(AppOptions {
        tweak: |config| config.limits.max_connections = 20,
        ..AppOptions::default()
    })
    .await;
    let mut slow = Vec::new();
    for _ in 0..20 {
        slow.push(half_request(&app).await);
    }
    // Let the server take them all before the next one.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let asked = Instant::now();
    let response = app.client.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(response.status(), 503);
    assert_eq!(response.headers()["retry-after"], "1");
    assert!(asked.elapsed() < Duration::from_secs(1));
    drop(slow);
    // Room again once they are gone.
    let mut answered = false;
    for _ in 0..50 {
        let response = app.client.get(app.url("/healthz")).send().await.unwrap();
        if response.status() == 200 {
            answered = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(answered, "closing the slow connections makes room");
}

/// The idle timer restarts at every byte: a body trickled a byte at a time used to hold its
/// connection for as long as the client liked.
#[tokio::test]
async fn a_body_trickled_in_is_cut_off_at_the_body_read_deadline() {
    let app = spawn_app_with(AppOptions {
        tweak: |config| config.limits.body_read_timeout = Duration::from_secs(1),
        ..AppOptions::default()
    })
    .await;
    let key = app.api_key("org_a", &["events:publish"]).await;
    let mut stream = post_started(&app, "/api/events", &key, "").await;
    let started = Instant::now();
    let mut answer = String::new();
    for _ in 0..50 {
        if stream.write_all(b" ").await.is_err() {
            break;
        }
        answer = answer_within(&mut stream, Duration::from_millis(200)).await;
        if !answer.is_empty() {
            break;
        }
    }
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
}

/// The body was read before the scope was checked: any valid key could hold connections with
/// bodies it was not even allowed to send.
#[tokio::test]
async fn a_key_without_the_routes_scope_is_refused_before_its_body_arrives() {
    let app = spawn_app_with(AppOptions::default()).await;
    let key = app.api_key("org_a", &["webhooks"]).await;
    let mut stream = post_started(&app, "/api/events", &key, "").await;
    let answer = answer_within(&mut stream, Duration::from_secs(5)).await;
    assert!(answer.starts_with("HTTP/1.1 403"), "{answer}");
}

#[tokio::test]
async fn one_client_holds_at_most_its_share_of_connections_and_requests() {
    let app = spawn_app_with(AppOptions {
        tweak: |config| {
            config.limits.max_connections_per_client = 3;
            config.limits.body_read_timeout = Duration::from_secs(30);
        },
        ..AppOptions::default()
    })
    .await;
    // Straight from one address: its fourth connection is refused at once.
    let mut held = Vec::new();
    for _ in 0..3 {
        held.push(half_request(&app).await);
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    let response = app.client.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(response.status(), 429);
    drop(held);

    // Behind a trusted proxy, counted by the address it forwards.
    let app = spawn_app_with(AppOptions {
        tweak: |config| {
            config.limits.max_connections_per_client = 2;
            config.security.trusted_proxies = vec!["127.0.0.0/8".parse().unwrap()];
        },
        ..AppOptions::default()
    })
    .await;
    let key_b = app.api_key("org_a", &["events:publish"]).await;
    let from = |ip: &str| format!("X-Forwarded-For: {ip}\r\n");
    let mut trickling = Vec::new();
    for _ in 0..2 {
        trickling.push(post_started(&app, "/api/events", &key_b, &from("198.51.100.7")).await);
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    let mut third = post_started(&app, "/api/events", &key_b, &from("198.51.100.7")).await;
    let answer = answer_within(&mut third, Duration::from_secs(5)).await;
    assert!(answer.starts_with("HTTP/1.1 429"), "{answer}");
    let other = app
        .client
        .get(app.url("/healthz"))
        .header("x-forwarded-for", "198.51.100.8")
        .send()
        .await
        .unwrap();
    assert_eq!(other.status(), 200, "another client is served");
    drop(trickling);
}
