//! Checks: the perform-check / recover-check changes Juju watches, the events the embedder gets,
//! check info, start/stop, health, and on-check-failure.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::*;
use pebble_server::Event;
use serde_json::{Value, json};

fn check(p: &Pebble, name: &str) -> Value {
    let (_, body) = p.get(&format!("/v1/checks?names={name}"));
    body["result"][0].clone()
}

fn has(p: &Pebble, f: impl Fn(&Event) -> bool) -> bool {
    p.events().iter().any(f)
}

#[test]
fn a_failing_check_fails_its_change_and_recovers() {
    let p = start("checkfail");
    p.add_layer(
        "base",
        "checks:\n  ready-file:\n    override: replace\n    level: ready\n    period: 50ms\n    threshold: 2\n    exec:\n      command: test -e ok\n",
    );
    // Checks run as soon as the layer is added, no replan needed.
    eventually("check-failed", || {
        has(
            &p,
            |e| matches!(e, Event::CheckFailed { check } if check == "ready-file"),
        )
    });
    let info = check(&p, "ready-file");
    assert_eq!(info["status"], "down", "{info}");
    assert!(info["failures"].as_u64().unwrap() >= 2);
    assert_eq!(info["level"], "ready");
    assert_eq!(info["threshold"], 2);
    let failed_change = info["prev-change-id"].as_str().unwrap().to_string();
    let (_, body) = p.get(&format!("/v1/changes/{failed_change}"));
    assert_eq!(body["result"]["kind"], "perform-check");
    assert_eq!(body["result"]["status"], "Error");
    assert_eq!(
        body["result"]["summary"],
        "Perform exec check \"ready-file\""
    );
    // What Juju reads: a change-update notice carrying the check name.
    let (_, body) = p.get(&format!(
        "/v1/notices?types=change-update&keys={failed_change}"
    ));
    assert_eq!(
        body["result"][0]["last-data"],
        json!({"check-name": "ready-file", "kind": "perform-check"})
    );
    let recover = info["change-id"].as_str().unwrap().to_string();
    assert_eq!(
        p.get(&format!("/v1/changes/{recover}")).1["result"]["kind"],
        "recover-check"
    );
    assert_eq!(p.get("/v1/health?level=ready").0, 502);
    assert_eq!(
        p.get("/v1/health?level=alive").0,
        200,
        "alive does not count ready checks"
    );
    // Fix it: recovered, the recover-check change is Done, a new perform-check runs.
    std::fs::write(p.host("/ok"), "").unwrap();
    eventually("check-recovered", || {
        has(
            &p,
            |e| matches!(e, Event::CheckRecovered { check } if check == "ready-file"),
        )
    });
    let recovered = p.wait_change(&recover);
    assert_eq!(recovered["status"], "Done");
    let info = check(&p, "ready-file");
    assert_eq!(info["status"], "up");
    assert!(
        info.get("failures").is_none(),
        "zero failures are omitted: {info}"
    );
    let (status, body) = p.get("/v1/health");
    assert_eq!((status, &body["result"]), (200, &json!({"healthy": true})));
}

#[test]
fn tcp_checks_and_start_stop() {
    let p = start("checktcp");
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    p.add_layer(
        "base",
        &format!("checks:\n  port:\n    override: replace\n    period: 50ms\n    startup: disabled\n    tcp:\n      port: {port}\n      host: 127.0.0.1\n"),
    );
    let info = check(&p, "port");
    assert_eq!(
        info,
        json!({"name": "port", "startup": "disabled", "status": "inactive", "successes": 0, "threshold": 3})
    );
    let (status, body) = p.post(
        "/v1/checks",
        &json!({"action": "start", "checks": ["port"]}),
    );
    assert_eq!(
        (status, &body["result"]),
        (200, &json!({"changed": ["port"]}))
    );
    eventually("successes", || {
        check(&p, "port")["successes"].as_u64().unwrap_or(0) >= 2
    });
    assert_eq!(check(&p, "port")["status"], "up");
    // Starting a running check changes nothing.
    assert_eq!(
        p.post(
            "/v1/checks",
            &json!({"action": "start", "checks": ["port"]})
        )
        .1["result"],
        json!({"changed": []})
    );
    let (_, body) = p.post("/v1/checks", &json!({"action": "stop", "checks": ["port"]}));
    assert_eq!(body["result"], json!({"changed": ["port"]}));
    let info = check(&p, "port");
    assert_eq!(info["status"], "inactive");
    assert!(
        info["successes"].as_u64().unwrap() >= 2,
        "stopped checks keep their counts"
    );
    assert!(info.get("change-id").is_none());
    // A refresh runs it now.
    let (status, body) = p.post("/v1/checks/refresh", &json!({"name": "port"}));
    assert_eq!(status, 200);
    assert_eq!(body["result"]["info"]["name"], "port");
    assert!(body["result"].get("error").is_none());
    drop(listener);
    let (_, body) = p.post("/v1/checks/refresh", &json!({"name": "port"}));
    assert!(
        body["result"]["error"]
            .as_str()
            .unwrap()
            .starts_with("dial tcp 127.0.0.1:")
    );
}

#[test]
fn check_requests_are_validated() {
    let p = start("checkerr");
    p.add_layer(
        "base",
        "checks:\n  a:\n    override: replace\n    startup: disabled\n    tcp:\n      port: 1\n",
    );
    for (body, message) in [
        (
            json!({"action": "start", "checks": []}),
            "must specify checks for start action",
        ),
        (
            json!({"action": "stop", "checks": ["b", "c", "a"]}),
            "cannot stop checks: cannot find checks in plan: b, c",
        ),
        (
            json!({"action": "pause", "checks": ["a"]}),
            "invalid action \"pause\"",
        ),
    ] {
        let (status, resp) = p.post("/v1/checks", &body);
        assert_eq!(
            (status, resp["result"]["message"].as_str()),
            (400, Some(message))
        );
    }
    let (status, body) = p.get("/v1/checks?level=sometimes");
    assert_eq!(
        (status, body["result"]["message"].as_str()),
        (400, Some("level must be \"alive\" or \"ready\""))
    );
    let (status, _) = p.get("/v1/health?level=sometimes");
    assert_eq!(status, 400);
    let (status, body) = p.post("/v1/checks/refresh", &json!({"name": "zzz"}));
    assert_eq!(
        (status, body["result"]["message"].as_str()),
        (404, Some("cannot find check with name \"zzz\""))
    );
    assert_eq!(p.get("/v1/checks?names=none").1["result"], json!([]));
}

#[test]
fn on_check_failure_restart_restarts_the_service() {
    let p = start("checkrestart");
    let runs = p.dir.join("runs");
    p.add_layer(
        "base",
        &format!(
            "services:\n  app:\n    override: replace\n    command: sh -c 'echo run >> {}; exec sleep 30'\n    backoff-delay: 10ms\n    on-check-failure:\n      broken: restart\n\
             checks:\n  broken:\n    override: replace\n    period: 50ms\n    threshold: 1\n    startup: disabled\n    exec:\n      command: 'false'\n",
            runs.display()
        ),
    );
    p.services("start", &["app"]);
    eventually("first run", || {
        std::fs::read_to_string(&runs).is_ok_and(|s| s.lines().count() == 1)
    });
    p.post(
        "/v1/checks",
        &json!({"action": "start", "checks": ["broken"]}),
    );
    eventually("restarted by the check", || {
        std::fs::read_to_string(&runs).is_ok_and(|s| s.lines().count() >= 2)
    });
    p.post(
        "/v1/checks",
        &json!({"action": "stop", "checks": ["broken"]}),
    );
    p.services("stop", &["app"]);
}
