//! Hostile receivers: a raw TCP server on loopback that misbehaves in every way a webhook
//! endpoint can. Each misbehaviour must end as the documented outcome with a clear log row,
//! without holding up a healthy webhook and without the gateway's memory following a huge or
//! endless answer.

use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::{TcpListener, TcpStream},
};

use crate::{
    helpers::{AppOptions, spawn_app_with},
    receiver::Receiver,
};

/// How a fault receiver answers, chosen by the request path.
const FAULTS: &[&str] = &[
    "status-500",
    "status-429-retry-after",
    "status-429",
    "status-410",
    "reset",
    "hang",
    "slow",
    "redirect-private",
    "huge-body",
    "endless-body",
    "not-http",
];

/// Starts the fault receiver; returns its base URL.
async fn start_fault_receiver() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                return;
            };
            tokio::spawn(misbehave(stream));
        }
    });
    base
}

/// Reads the request head and body (enough to know the path), then misbehaves as it says.
async fn misbehave(mut stream: TcpStream) {
    let mut request = Vec::new();
    let mut buf = [0u8; 8192];
    while !request.windows(4).any(|w| w == b"\r\n\r\n") {
        match stream.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => request.extend_from_slice(&buf[..n]),
        }
    }
    let head = String::from_utf8_lossy(&request).into_owned();
    let path = head.split_whitespace().nth(1).unwrap_or("/").to_owned();
    let fault = path.trim_start_matches('/');
    let plain = |status: &str, extra: &str| {
        format!("HTTP/1.1 {status}\r\n{extra}content-length: 2\r\nconnection: close\r\n\r\nno")
    };
    let _ = match fault {
        "status-500" => write(&mut stream, plain("500 Internal Server Error", "")).await,
        "status-429-retry-after" => {
            write(
                &mut stream,
                plain("429 Too Many Requests", "retry-after: 1\r\n"),
            )
            .await
        }
        "status-429" => write(&mut stream, plain("429 Too Many Requests", "")).await,
        "status-410" => write(&mut stream, plain("410 Gone", "")).await,
        "reset" => {
            // SO_LINGER 0: closing sends RST instead of FIN.
            let _ = stream.set_zero_linger();
            drop(stream);
            Ok(())
        }
        "hang" => {
            tokio::time::sleep(Duration::from_secs(60)).await;
            Ok(())
        }
        "slow" => {
            tokio::time::sleep(Duration::from_secs(6)).await;
            write(&mut stream, plain("200 OK", "")).await
        }
        "redirect-private" => {
            let location = "location: http://169.254.169.254/latest/meta-data/\r\n";
            write(&mut stream, plain("302 Found", location)).await
        }
        "huge-body" => huge_body(&mut stream).await,
        "endless-body" => endless_body(&mut stream).await,
        "not-http" => write(&mut stream, "SSH-2.0-OpenSSH_9.6\r\n\r\n".to_owned()).await,
        _ => write(&mut stream, plain("200 OK", "")).await,
    };
}

async fn write(stream: &mut TcpStream, text: String) -> std::io::Result<()> {
    stream.write_all(text.as_bytes()).await?;
    stream.shutdown().await
}

/// A 200 declaring 50 MB, sent 64 KiB at a time until the gateway stops reading.
async fn huge_body(stream: &mut TcpStream) -> std::io::Result<()> {
    const SIZE: usize = 50 * 1024 * 1024;
    let head = format!("HTTP/1.1 200 OK\r\ncontent-length: {SIZE}\r\n\r\n");
    stream.write_all(head.as_bytes()).await?;
    let chunk = vec![b'x'; 64 * 1024];
    for _ in 0..SIZE / chunk.len() {
        stream.write_all(&chunk).await?;
    }
    Ok(())
}

/// A 200 with a chunked body that never ends (until the gateway hangs up).
async fn endless_body(stream: &mut TcpStream) -> std::io::Result<()> {
    stream
        .write_all(b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n")
        .await?;
    let chunk = format!("4000\r\n{}\r\n", "y".repeat(0x4000));
    loop {
        stream.write_all(chunk.as_bytes()).await?;
    }
}

/// Resident memory of this process (the gateway runs in it), in MiB.
fn rss_mib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|kb| kb.parse::<u64>().ok())
        .map_or(0, |kb| kb / 1024)
}

#[tokio::test]
async fn every_misbehaving_receiver_ends_as_documented_without_touching_the_others() {
    let app = spawn_app_with(AppOptions {
        retry_schedule: "none",
        delivery_timeout: Duration::from_secs(5),
        ..AppOptions::default()
    })
    .await;
    let key = app.api_key("org_a", &["webhooks", "events:publish"]).await;
    let faults = start_fault_receiver().await;
    let healthy = Receiver::start().await;
    let rss_before = rss_mib();

    let mut hooks = Vec::new();
    for fault in FAULTS {
        let hook = app
            .webhook_to(
                &key,
                &format!("{faults}/{fault}"),
                &["contact.created"],
                None,
            )
            .await;
        hooks.push((*fault, hook["id"].as_str().unwrap().to_owned()));
    }
    app.webhook_to(&key, &healthy.hook("ok"), &["contact.created"], None)
        .await;

    let started = Instant::now();
    for n in 0..20 {
        app.publish(&key, &json!({"event": "contact.created", "data": {"n": n}}))
            .await;
    }
    healthy
        .wait_for_event("contact.created", 20, Duration::from_secs(5))
        .await;
    let healthy_took = started.elapsed();
    assert!(
        healthy_took < Duration::from_secs(3),
        "the healthy receiver waited {healthy_took:?} behind the hostile ones"
    );

    // One attempt per delivery (no retries): 20 events + the test event per webhook.
    let mut rows: Vec<(&str, Value)> = Vec::new();
    for (fault, id) in &hooks {
        let logs = wait_for_attempts(&app, &key, id, 21).await;
        rows.push((fault, logs[0].clone()));
    }
    for (fault, row) in &rows {
        let status = row["status"].as_str().unwrap();
        let code = row["responseCode"].as_u64();
        let error = row["error"].as_str().unwrap_or("");
        let expected: (&str, Option<u64>, &str) = match *fault {
            "status-500" => ("failed", Some(500), "receiver answered 500"),
            "status-429-retry-after" | "status-429" => ("failed", Some(429), "answered 429"),
            "status-410" => ("failed", Some(410), "answered 410"),
            "reset" => ("failed", None, "request failed"),
            "hang" | "slow" => ("failed", None, "timed out after 5s"),
            "redirect-private" => ("failed", Some(302), "redirect to http://169.254.169.254"),
            "huge-body" | "endless-body" => ("delivered", Some(200), ""),
            "not-http" => ("failed", None, "request failed"),
            other => panic!("no expectation for {other}"),
        };
        assert_eq!(status, expected.0, "{fault}: {row}");
        assert_eq!(code, expected.1, "{fault}: {row}");
        assert!(error.contains(expected.2), "{fault}: {row}");
        if fault.ends_with("body") {
            let excerpt = row["responseBody"].as_str().unwrap_or("");
            assert!(
                excerpt.len() <= 2048,
                "{fault}: an excerpt of {} bytes",
                excerpt.len()
            );
        }
    }
    let grown = rss_mib().saturating_sub(rss_before);
    assert!(
        grown < 100,
        "memory grew by {grown} MiB while receivers sent 20 × 50 MB and endless bodies"
    );
    eprintln!(
        "{} faults × 21 deliveries each ended as documented; healthy receiver took {healthy_took:?}; RSS +{grown} MiB",
        FAULTS.len()
    );
}

/// Waits until a webhook's log holds `count` attempts; returns them newest first.
async fn wait_for_attempts(
    app: &crate::helpers::TestApp,
    key: &str,
    webhook_id: &str,
    count: usize,
) -> Vec<Value> {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let logs = app.logs(key, webhook_id, "").await;
        if logs.len() >= count {
            return logs;
        }
        assert!(
            Instant::now() < deadline,
            "webhook {webhook_id}: only {} of {count} attempts logged",
            logs.len()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
