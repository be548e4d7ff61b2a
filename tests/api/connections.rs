//! Slow and numerous clients: half-sent requests are closed once their time is up, never hold
//! up anyone else's request, and past the connection limit a newcomer is told so at once.

use std::time::{Duration, Instant};

use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpStream,
};

use crate::helpers::{AppOptions, TestApp, spawn_app_with};

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
