//! The envelope, routing, errors and the HTTP layer, with raw requests and exact bodies.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::*;
use serde_json::json;

#[test]
fn system_info_is_a_sync_envelope_with_a_stable_boot_id() {
    let p = start("sysinfo");
    let (status, body) = p.get("/v1/system-info");
    assert_eq!(status, 200);
    assert_eq!(body["type"], "sync");
    assert_eq!(body["status"], "OK");
    let boot = body["result"]["boot-id"].as_str().unwrap().to_string();
    assert_eq!(boot, p.server.as_ref().unwrap().boot_id());
    assert_eq!(body["result"]["version"], pebble_server::VERSION);
    assert_eq!(
        p.get("/v1/system-info").1["result"]["boot-id"],
        boot.as_str()
    );
    // A restarted server (same socket) has a new boot id: Juju's pebble-ready trigger.
    let socket = p.socket.clone();
    let root = p.root.clone();
    let mut p = p;
    drop(p.server.take());
    let again = pebble_server::Server::new(pebble_server::ServerConfig::new(&socket, &root))
        .unwrap()
        .spawn();
    let (_, body) = json(&socket, "GET", "/v1/system-info", None);
    assert_ne!(body["result"]["boot-id"], boot.as_str());
    assert_eq!(body["result"]["boot-id"], again.boot_id());
}

#[test]
fn unknown_paths_and_methods_get_pebbles_errors() {
    let p = start("routes");
    let r = request(&p.socket, "GET", "/v1/nope", &[], b"");
    assert_eq!(r.status, 404);
    assert_eq!(
        r.text(),
        r#"{"type":"error","status-code":404,"status":"Not Found","result":{"message":"invalid API endpoint requested"}}"#
    );
    // Warnings were removed from Pebble: not invented here.
    assert_eq!(p.get("/v1/warnings").0, 404);
    let (status, body) = json(&p.socket, "PUT", "/v1/services", None);
    assert_eq!(status, 405);
    assert_eq!(body["result"]["message"], r#"method "PUT" not allowed"#);
    let (status, body) = p.get("/v1/services/web");
    assert_eq!(
        (status, body["result"]["message"].as_str()),
        (400, Some("not implemented"))
    );
}

#[test]
fn unknown_changes_are_404_on_get_and_wait() {
    let p = start("nochange");
    let r = request(&p.socket, "GET", "/v1/changes/99", &[], b"");
    assert_eq!(
        r.text(),
        r#"{"type":"error","status-code":404,"status":"Not Found","result":{"message":"cannot find change with id \"99\""}}"#
    );
    let (status, body) = p.get("/v1/changes/99/wait?timeout=1s");
    assert_eq!(
        (status, body["result"]["message"].as_str()),
        (404, Some("cannot find change with id \"99\""))
    );
    let (status, body) = p.get("/v1/changes?select=some");
    assert_eq!(status, 400);
    assert_eq!(
        body["result"]["message"],
        "select should be one of: all,in-progress,ready"
    );
    // No changes yet: an empty list, never null.
    assert_eq!(p.get("/v1/changes?select=all").1["result"], json!([]));
}

#[test]
fn bad_bodies_and_bad_requests_are_400() {
    let p = start("badbody");
    let r = request(
        &p.socket,
        "POST",
        "/v1/services",
        &[("Content-Type", "application/json")],
        b"{nope",
    );
    assert_eq!(r.status, 400);
    let v: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
    assert!(
        v["result"]["message"]
            .as_str()
            .unwrap()
            .starts_with("cannot decode request body: ")
    );
    // Garbage instead of HTTP.
    let r = raw(&p.socket, b"NOT HTTP AT ALL\r\n\r\n");
    assert_eq!(r.status, 400);
    // A body over the limit is refused before it is read.
    let r = raw(
        &p.socket,
        format!(
            "POST /v1/layers HTTP/1.1\r\nContent-Length: {}\r\n\r\n",
            u64::MAX / 2
        )
        .as_bytes(),
    );
    assert_eq!(r.status, 413);
}

#[test]
fn chunked_bodies_and_keep_alive_work() {
    use std::io::{Read, Write};
    let p = start("chunked");
    let body = br#"{"action":"add","type":"custom","key":"example.com/chunked"}"#;
    let (a, b) = body.split_at(10);
    let mut req = b"POST /v1/notices HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\nContent-Type: application/json\r\n\r\n".to_vec();
    req.extend_from_slice(format!("{:x}\r\n", a.len()).as_bytes());
    req.extend_from_slice(a);
    req.extend_from_slice(format!("\r\n{:x}\r\n", b.len()).as_bytes());
    req.extend_from_slice(b);
    req.extend_from_slice(b"\r\n0\r\n\r\n");
    // Two requests on one connection: the first keeps it open.
    req.extend_from_slice(
        b"GET /v1/notices?types=custom HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
    );
    let mut s = std::os::unix::net::UnixStream::connect(&p.socket).unwrap();
    s.set_read_timeout(Some(DEADLINE)).unwrap();
    s.write_all(&req).unwrap();
    let mut buf = Vec::new();
    s.read_to_end(&mut buf).unwrap();
    let first = parse_response(&buf);
    assert_eq!(first.status, 200, "{}", first.text());
    let len: usize = first.header("Content-Length").unwrap().parse().unwrap();
    let second_start = buf.len() - first.body.len() + len;
    let second = parse_response(&buf[second_start..]);
    let v: serde_json::Value = serde_json::from_slice(&second.body).unwrap();
    assert_eq!(v["result"][0]["key"], "example.com/chunked");
}

#[test]
fn stopping_removes_the_socket_and_reports_why() {
    let mut p = start("stop");
    let server = p.server.take().unwrap();
    let shutdown = server.stop();
    assert_eq!(shutdown.reason, "stopped");
    assert!(!shutdown.failure);
    assert!(!p.socket.exists());
    let events = p.events();
    assert!(matches!(
        events.first(),
        Some(pebble_server::Event::Started { .. })
    ));
    assert!(matches!(
        events.last(),
        Some(pebble_server::Event::Shutdown { .. })
    ));
}

#[test]
fn a_live_socket_is_not_stolen() {
    let p = start("inuse");
    let again = pebble_server::Server::new(pebble_server::ServerConfig::new(&p.socket, &p.root));
    assert!(matches!(again, Err(pebble_server::Error::SocketInUse(_))));
    assert_eq!(p.get("/v1/system-info").0, 200);
}

#[test]
fn identities_are_stored_with_secrets_masked() {
    let p = start("identities");
    let (status, body) = p.post(
        "/v1/identities",
        &json!({"action": "add", "identities": {"bob": {"access": "read", "basic": {"password": "hash"}}}}),
    );
    assert_eq!(status, 200, "{body}");
    assert!(
        body.get("result").is_none(),
        "a nil result is omitted: {body}"
    );
    let (_, body) = p.get("/v1/identities");
    assert_eq!(
        body["result"],
        json!({"bob": {"access": "read", "basic": {"password": "*****"}}})
    );
    let (status, body) = p.post("/v1/identities", &json!({"action": "add", "identities": {"bob": {"access": "read", "local": {"user-id": 5}}}}));
    assert_eq!(
        (status, body["result"]["message"].as_str()),
        (400, Some("identity \"bob\" already exists"))
    );
    let (status, _) = p.post(
        "/v1/identities",
        &json!({"action": "remove", "identities": {"bob": null}}),
    );
    assert_eq!(status, 200);
    assert_eq!(p.get("/v1/identities").1["result"], json!({}));
}
