//! Custom notices: recording, repeat rules, filters, the long poll Juju relies on, the events
//! the embedder receives, and change-update notices.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::time::Duration;

use common::*;
use pebble_server::Event;
use serde_json::json;

fn notify(p: &Pebble, body: serde_json::Value) -> (u16, serde_json::Value) {
    p.post("/v1/notices", &body)
}

#[test]
fn custom_notices_repeat_by_pebbles_rules_and_become_events() {
    let p = start("notices");
    let (status, body) = notify(
        &p,
        json!({"action": "add", "type": "custom", "key": "example.com/db/backup-done", "data": {"path": "/b/1"}, "repeat-after": "1h"}),
    );
    assert_eq!(status, 200, "{body}");
    let id = body["result"]["id"].as_str().unwrap().to_string();
    let (_, again) = notify(
        &p,
        json!({"action": "add", "type": "custom", "key": "example.com/db/backup-done", "data": {"path": "/b/2"}, "repeat-after": "1h"}),
    );
    assert_eq!(again["result"]["id"], id.as_str(), "same key, same notice");
    let (_, body) = p.get(&format!("/v1/notices/{id}"));
    let n = &body["result"];
    assert_eq!(n["type"], "custom");
    assert_eq!(n["occurrences"], 2);
    assert_eq!(n["last-data"], json!({"path": "/b/2"}));
    assert_eq!(n["repeat-after"], "1h0m0s");
    assert_eq!(n["expire-after"], "168h0m0s");
    assert!(n["user-id"].is_u64(), "the requester's uid: {n}");
    // Within repeat-after the second occurrence did not repeat.
    assert_eq!(n["last-repeated"], n["first-occurred"]);
    assert_ne!(n["last-occurred"], n["first-occurred"]);
    // Juju hears about the first occurrence only (the second did not repeat).
    let heard: Vec<Event> = p
        .events()
        .into_iter()
        .filter(|e| matches!(e, Event::CustomNotice { .. }))
        .collect();
    assert_eq!(
        heard,
        [Event::CustomNotice {
            id: id.clone(),
            notice_type: "custom".into(),
            key: "example.com/db/backup-done".into(),
            occurrences: 1
        }]
    );
    // Without repeat-after every occurrence repeats.
    notify(
        &p,
        json!({"action": "add", "type": "custom", "key": "example.com/db/backup-done"}),
    );
    let (_, body) = p.get(&format!("/v1/notices/{id}"));
    assert_ne!(
        body["result"]["last-repeated"],
        body["result"]["first-occurred"]
    );
    assert!(
        body["result"].get("last-data").is_none(),
        "absent data clears it"
    );
    let (status, body) = p.get("/v1/notices/999");
    assert_eq!(
        (status, body["result"]["message"].as_str()),
        (404, Some("cannot find notice with ID \"999\""))
    );
}

#[test]
fn bad_notices_are_refused() {
    let p = start("badnotices");
    let long_key = format!("example.com/{}", "a".repeat(250));
    let big: serde_json::Map<String, serde_json::Value> = (0..100)
        .map(|i| (format!("k{i}"), json!("x".repeat(40))))
        .collect();
    let cases = [
        (
            json!({"action": "remove", "type": "custom", "key": "example.com/a"}),
            "invalid action \"remove\"",
        ),
        (
            json!({"action": "add", "type": "warning", "key": "example.com/a"}),
            "invalid type \"warning\" (can only add \"custom\" notices)",
        ),
        (
            json!({"action": "add", "type": "custom", "key": "Example/a"}),
            "invalid key \"Example/a\" (must be in \"example.com/path\" format)",
        ),
        (
            json!({"action": "add", "type": "custom", "key": long_key}),
            "key must be 256 bytes or less",
        ),
        (
            json!({"action": "add", "type": "custom", "key": "example.com/a", "repeat-after": "soon"}),
            "invalid repeat-after: time: invalid duration \"soon\"",
        ),
        (
            json!({"action": "add", "type": "custom", "key": "example.com/a", "data": big}),
            "total size of data must be 4096 bytes or less",
        ),
    ];
    for (body, message) in cases {
        let (status, resp) = notify(&p, body);
        assert_eq!(
            (status, resp["result"]["message"].as_str()),
            (400, Some(message))
        );
    }
    let (status, resp) = notify(
        &p,
        json!({"action": "add", "type": "custom", "key": "example.com/a", "data": {"n": 1}}),
    );
    assert_eq!(status, 400);
    assert!(
        resp["result"]["message"]
            .as_str()
            .unwrap()
            .starts_with("cannot decode notice data: ")
    );
    assert_eq!(p.get("/v1/notices?types=custom").1["result"], json!([]));
}

#[test]
fn queries_filter_and_the_long_poll_waits_for_news() {
    let p = start("noticequery");
    notify(
        &p,
        json!({"action": "add", "type": "custom", "key": "example.com/one"}),
    );
    let (_, body) = p.get("/v1/notices?users=all&types=custom");
    let first = &body["result"][0];
    let after = first["last-repeated"].as_str().unwrap().to_string();
    // Strictly after: the same notice is not returned again.
    let (_, body) = p.get(&format!("/v1/notices?users=all&types=custom&after={after}"));
    assert_eq!(body["result"], json!([]));
    // Unknown types alone give nothing; keys filter.
    assert_eq!(p.get("/v1/notices?types=bogus").1["result"], json!([]));
    assert_eq!(
        p.get("/v1/notices?keys=example.com/none").1["result"],
        json!([])
    );
    // Juju's long poll: returns as soon as a new notice is recorded.
    let socket = p.socket.clone();
    let poller = std::thread::spawn(move || {
        json(
            &socket,
            "GET",
            &format!("/v1/notices?users=all&types=custom&after={after}&timeout=20s"),
            None,
        )
    });
    std::thread::sleep(Duration::from_millis(50));
    notify(
        &p,
        json!({"action": "add", "type": "custom", "key": "example.com/two"}),
    );
    let (status, body) = poller.join().unwrap();
    assert_eq!(status, 200);
    assert_eq!(body["result"][0]["key"], "example.com/two");
    assert_eq!(body["result"].as_array().unwrap().len(), 1);
    // A long poll with nothing new returns [] at its deadline.
    let (_, body) = p.get("/v1/notices?types=custom&keys=example.com/never&timeout=100ms");
    assert_eq!(body["result"], json!([]));
    for (query, message) in [
        (
            "users=all&user-id=0",
            "cannot use both \"users\" and \"user-id\" parameters",
        ),
        ("users=some", "invalid \"users\" filter: must be \"all\""),
        (
            "after=yesterday",
            "invalid \"after\" timestamp: cannot parse \"yesterday\"",
        ),
        (
            "timeout=soon",
            "invalid timeout: time: invalid duration \"soon\"",
        ),
    ] {
        let (status, body) = p.get(&format!("/v1/notices?{query}"));
        assert_eq!(
            (status, body["result"]["message"].as_str()),
            (400, Some(message)),
            "{query}"
        );
    }
}

#[test]
fn changes_record_change_update_notices() {
    let p = start("changeupdate");
    let change = p.services("replan", &[]);
    let id = change["id"].as_str().unwrap();
    let (_, body) = p.get(&format!("/v1/notices?types=change-update&keys={id}"));
    let n = &body["result"][0];
    assert_eq!(n["user-id"], serde_json::Value::Null, "public");
    assert_eq!(n["last-data"]["kind"], "replan");
}

#[test]
fn the_events_file_gets_one_json_line_per_event() {
    let dir = temp_dir("eventsfile");
    let file = dir.join("events.jsonl");
    let p = start_with("eventsfile", |c| c.events_file(&file));
    notify(
        &p,
        json!({"action": "add", "type": "custom", "key": "example.com/file"}),
    );
    let text = std::fs::read_to_string(&file).unwrap();
    let events: Vec<Event> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert!(
        matches!(&events[0], Event::Started { boot_id } if boot_id == p.server.as_ref().unwrap().boot_id())
    );
    assert!(matches!(&events[1], Event::CustomNotice { key, .. } if key == "example.com/file"));
    assert!(
        text.lines()
            .nth(1)
            .unwrap()
            .starts_with(r#"{"event":"custom-notice","id":"#)
    );
    drop(p);
    let _ = std::fs::remove_dir_all(&dir);
}
