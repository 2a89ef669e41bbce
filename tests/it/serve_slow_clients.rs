//! Slow and greedy clients at the door, as real TCP clients: a request head
//! or body trickling in a byte a second gets 408 once its time is up, and
//! one address holding many connections gets 429 for the ones over its cap
//! while everyone else is served.

use std::time::{Duration, Instant};

use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::support::TestApp;

const HEAD: &str = "POST /api/v1/intakes HTTP/1.1\r\nHost: gate\r\nContent-Type: application/json\r\nContent-Length: 200\r\n\r\n";

/// Connect to the app and send `head` at once.
async fn connect(app: &TestApp, head: &str) -> TcpStream {
    let mut stream = TcpStream::connect(app.base.trim_start_matches("http://"))
        .await
        .unwrap();
    stream.write_all(head.as_bytes()).await.unwrap();
    stream
}

/// Send `bytes` one a second while reading; what the server answered
/// before it closed the connection, and when.
async fn trickle(mut stream: TcpStream, bytes: &[u8]) -> (String, Duration) {
    let started = Instant::now();
    let mut answer = Vec::new();
    let mut buffer = [0u8; 4096];
    for byte in bytes.iter().cycle() {
        tokio::select! {
            read = stream.read(&mut buffer) => match read {
                Ok(0) | Err(_) => break,
                Ok(n) => answer.extend_from_slice(&buffer[..n]),
            },
            () = tokio::time::sleep(Duration::from_secs(1)) => {
                if stream.write_all(&[*byte]).await.is_err() {
                    break;
                }
            }
        }
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "the server kept a trickling client for 20 s"
        );
    }
    (
        String::from_utf8_lossy(&answer).into_owned(),
        started.elapsed(),
    )
}

#[tokio::test]
async fn a_body_trickling_in_gets_408_when_its_time_is_up() {
    let app = TestApp::spawn(|c| c.limits.body_timeout_seconds = 2).await;
    let stream = connect(&app, HEAD).await;
    let (answer, took) = trickle(stream, b"{\"message\": \"slow ").await;
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("\"error\":\"request_timeout\""), "{answer}");
    assert!(answer.contains("limits.body_timeout_seconds"), "{answer}");
    assert!(took < Duration::from_secs(6), "answered after {took:?}");
    assert_eq!(app.intake_count().await, 0);
    app.stop().await;
}

#[tokio::test]
async fn a_request_head_trickling_in_gets_408_when_its_time_is_up() {
    let app = TestApp::spawn(|c| c.limits.header_timeout_seconds = 2).await;
    let stream = connect(&app, "POST /api/v1/intakes HTTP/1.1\r\n").await;
    let (answer, took) = trickle(stream, b"X-Slow: aaaaaaaaaaaaaaaaaaaa").await;
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(took < Duration::from_secs(6), "answered after {took:?}");
    app.stop().await;
}

#[tokio::test]
async fn one_address_holding_connections_gets_429_beyond_its_cap_and_others_are_served() {
    let app = TestApp::spawn(|c| c.limits.connections_per_ip = 4).await;
    // Fifty slow requests from 127.0.0.1: four are held, the rest refused.
    let mut held = Vec::new();
    let mut refused = 0;
    for _ in 0..50 {
        let mut stream = connect(&app, HEAD).await;
        let mut answer = [0u8; 512];
        match tokio::time::timeout(Duration::from_millis(300), stream.read(&mut answer)).await {
            Ok(Ok(n)) if n > 0 => {
                let answer = String::from_utf8_lossy(&answer[..n]);
                assert!(answer.starts_with("HTTP/1.1 429"), "{answer}");
                assert!(answer.contains("too_many_connections"), "{answer}");
                refused += 1;
            }
            Ok(_) => panic!("a connection closed without an answer"),
            Err(_) => held.push(stream),
        }
    }
    assert_eq!((held.len(), refused), (4, 46));

    // Another address is served at once.
    let elsewhere = reqwest::Client::builder()
        .local_address(Some("127.0.0.2".parse().unwrap()))
        .build()
        .unwrap();
    let started = Instant::now();
    let created = elsewhere
        .post(app.url("/api/v1/intakes"))
        .json(&json!({"message": "Stripe paid, Kajabi never unlocked"}))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    assert!(started.elapsed() < Duration::from_secs(2));

    // A held connection closes: its slot is free again.
    held.pop();
    crate::support::eventually(Duration::from_secs(5), "a free slot", || async {
        let client = reqwest::Client::new();
        client
            .get(app.url("/healthz"))
            .send()
            .await
            .is_ok_and(|r| r.status() == 200)
    })
    .await;
    app.stop().await;
}
