//! The client keeps one idle connection: calls share it while the server keeps it open, a
//! server that closed it costs one silent retry, and an answer not read to its end (or one the
//! server ends the connection with) is never reused.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::io::Write;

use pebble::{Client, Error, Limits};
use serde_json::json;
use support::*;

fn info() -> Reply {
    sync(json!({"boot-id": "b1", "version": "v1.32.1"}))
}

#[test]
fn calls_share_one_connection() {
    let server = Server::start(|_| info());
    let client = server.client();
    for _ in 0..5 {
        client.system_info().unwrap();
    }
    assert_eq!(server.accepts(), 1);
    assert_eq!(server.requests().len(), 5);
    assert_eq!(server.last().header("connection"), None);
}

#[test]
fn chunked_answers_keep_the_connection() {
    let server = Server::start(|_| {
        Reply::Chunked(
            200,
            "application/json",
            serde_json::to_vec(&json!({"type": "sync", "status-code": 200, "status": "OK",
                "result": {"boot-id": "b1", "version": "v1"}}))
            .unwrap(),
        )
    });
    let client = server.client();
    client.system_info().unwrap();
    client.system_info().unwrap();
    assert_eq!(server.accepts(), 1);
}

#[test]
fn a_server_that_closed_the_idle_connection_costs_one_retry() {
    let server = Server::start(|_| Reply::ThenClose(Box::new(info())));
    let client = server.client();
    for _ in 0..3 {
        client.system_info().unwrap();
        // Let the server's close land before the next call, so that the kept connection is
        // dead when it is used.
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    assert_eq!(server.accepts(), 3);
    // Each request was processed once.
    assert_eq!(server.requests().len(), 3);
    // The same without waiting: the close may land during the next call.
    for _ in 0..20 {
        client.system_info().unwrap();
    }
    assert_eq!(server.requests().len(), 23);
}

#[test]
fn a_fresh_connection_that_fails_is_not_retried() {
    let server = Server::start(|_| Reply::Close);
    let client = server.client();
    assert!(matches!(
        client.system_info().unwrap_err(),
        Error::Connection(_)
    ));
    assert_eq!(server.accepts(), 1);
}

#[test]
fn answers_framed_by_eof_or_closing_are_not_reused() {
    let eof = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\r\n{\"type\":\"sync\",\"status-code\":200,\"status\":\"OK\",\"result\":{\"boot-id\":\"b\",\"version\":\"v\"}}".to_vec();
    let server = Server::start(move |_| Reply::Raw(eof.clone()));
    let client = server.client();
    client.system_info().unwrap();
    client.system_info().unwrap();
    assert_eq!(server.accepts(), 2);
    assert_eq!(server.requests().len(), 2);

    // `Connection: close` is obeyed even where the server would go on reading.
    let body = br#"{"type":"sync","status-code":200,"status":"OK","result":{"boot-id":"b","version":"v"}}"#;
    let mut close = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\nContent-Length: {}\r\n\r\n",
        body.len()
    )
    .into_bytes();
    close.extend_from_slice(body);
    let server = Server::start(move |_| Reply::RawKeep(close.clone()));
    let client = server.client();
    client.system_info().unwrap();
    client.system_info().unwrap();
    assert_eq!(server.accepts(), 2);

    // An HTTP/1.0 answer ends its connection.
    let mut old = format!(
        "HTTP/1.0 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        body.len()
    )
    .into_bytes();
    old.extend_from_slice(body);
    let server = Server::start(move |_| Reply::RawKeep(old.clone()));
    let client = server.client();
    client.system_info().unwrap();
    client.system_info().unwrap();
    assert_eq!(server.accepts(), 2);
}

#[test]
fn error_answers_keep_the_connection() {
    let server = Server::start(|r| match r.path.as_str() {
        "/v1/system-info" => info(),
        _ => not_found(),
    });
    let client = server.client();
    assert!(matches!(
        client.get_services(&[]).unwrap_err(),
        Error::Api(e) if e.status_code == 404
    ));
    client.system_info().unwrap();
    assert!(matches!(client.get_plan().unwrap_err(), Error::Api(_)));
    client.system_info().unwrap();
    assert_eq!(server.accepts(), 1);
}

#[test]
fn an_answer_not_read_to_its_end_is_not_reused() {
    let big = format!("[{}]", vec!["\"x\""; 2000].join(","));
    let server = Server::start(move |r| match r.path.as_str() {
        "/v1/system-info" => info(),
        _ => sync(serde_json::from_str(&big).unwrap()),
    });
    let client = server.client().with_limits(Limits {
        response: 1000,
        ..Limits::default()
    });
    assert!(matches!(
        client.get_services(&[]).unwrap_err(),
        Error::TooLarge { .. }
    ));
    // The rest of the big answer is still in the old connection: a new one is used.
    client.system_info().unwrap();
    assert_eq!(server.accepts(), 2);
}

const BOUNDARY: &str = "9051914041544843365972754266";

fn pull_answer(content: &[u8]) -> Reply {
    let ok = serde_json::to_vec(
        &json!({"type": "sync", "status-code": 200, "status": "OK", "result": [{"path": "/f"}]}),
    )
    .unwrap();
    let body = multipart(
        BOUNDARY,
        &[
            ("files", Some("/f"), "application/octet-stream", content),
            ("response", None, "application/json", &ok),
        ],
    );
    let mut out = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: multipart/form-data; boundary={BOUNDARY}\r\nContent-Length: {}\r\n\r\n",
        body.len()
    )
    .into_bytes();
    out.extend_from_slice(&body);
    Reply::RawKeep(out)
}

#[test]
fn pulls_keep_the_connection_unless_cut_short() {
    let content: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
    let server = {
        let content = content.clone();
        Server::start(move |r| match r.path.as_str() {
            "/v1/files" => pull_answer(&content),
            _ => info(),
        })
    };
    let client = server.client();
    assert_eq!(client.pull("/f").unwrap(), content);
    assert_eq!(client.pull("/f").unwrap(), content);
    client.system_info().unwrap();
    assert_eq!(server.accepts(), 1);

    // A writer that fails part-way leaves the answer unread: its connection is dropped.
    struct Full(usize);
    impl Write for Full {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            if self.0 > 10_000 {
                return Err(std::io::Error::other("disk full"));
            }
            self.0 += buf.len();
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    assert!(matches!(
        client.pull_to("/f", &mut Full(0)).unwrap_err(),
        Error::Local(_)
    ));
    client.system_info().unwrap();
    assert_eq!(server.accepts(), 2);
}

#[test]
fn a_clone_has_its_own_connection() {
    let server = Server::start(|_| info());
    let client = server.client();
    client.system_info().unwrap();
    let other: Client = client.clone();
    other.system_info().unwrap();
    client.system_info().unwrap();
    assert_eq!(server.accepts(), 2);
}
