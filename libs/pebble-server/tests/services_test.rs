//! Services as real processes: start/stop/restart/replan/autostart, exit actions with backoff,
//! SIGTERM then SIGKILL, environment and working dir, signals, and the API's errors.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::*;
use serde_json::json;

fn lines(path: &std::path::Path) -> usize {
    std::fs::read_to_string(path)
        .map(|s| s.lines().count())
        .unwrap_or(0)
}

#[test]
fn replan_starts_enabled_services_and_stop_stops_them() {
    let p = start("replan");
    p.add_layer(
        "base",
        "services:\n  web:\n    override: replace\n    command: sleep 30\n    startup: enabled\n  idle:\n    override: replace\n    command: sleep 30\n",
    );
    let change = p.services("replan", &[]);
    assert_eq!(change["status"], "Done", "{change}");
    assert_eq!(change["kind"], "replan");
    assert_eq!(change["summary"], "Replan service \"web\"");
    let (_, body) = p.get("/v1/services");
    let list = body["result"].as_array().unwrap();
    assert_eq!(list[0]["name"], "idle");
    assert_eq!(list[0]["startup"], "disabled");
    assert_eq!(list[0]["current"], "inactive");
    assert!(
        list[0].get("current-since").is_none(),
        "never started: {body}"
    );
    assert_eq!(list[1]["current"], "active");
    assert!(list[1]["current-since"].as_str().unwrap().ends_with('Z'));
    // Unknown names are skipped, not errors.
    assert_eq!(
        p.get("/v1/services?names=web,nope").1["result"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    // Starting it again is a no-op that says so.
    let again = p.services("start", &["web"]);
    assert_eq!(again["status"], "Done");
    assert!(
        again["tasks"][0]["log"][0]
            .as_str()
            .unwrap()
            .ends_with("INFO Service \"web\" already started.")
    );
    // Nothing changed: the next replan has nothing to stop and only re-starts (no-op) web.
    let stop = p.services("stop", &["web"]);
    assert_eq!(stop["status"], "Done", "{stop}");
    assert_eq!(p.current("web"), "inactive");
    let never = p.services("stop", &["idle"]);
    assert!(
        never["tasks"][0]["log"][0]
            .as_str()
            .unwrap()
            .ends_with("Service \"idle\" has never been started.")
    );
    // Changes can be listed by service.
    let (_, body) = p.get("/v1/changes?select=all&for=idle");
    assert_eq!(body["result"].as_array().unwrap().len(), 1);
}

#[test]
fn replan_with_nothing_to_do_is_a_done_change() {
    let p = start("noop");
    let (status, body) = p.post("/v1/services", &json!({"action": "replan", "services": []}));
    assert_eq!(status, 202);
    let change = p.wait_change(body["change"].as_str().unwrap());
    assert_eq!(change["summary"], "Replan - no services");
    assert_eq!(change["status"], "Done");
    assert_eq!(change["ready"], true);
    assert!(change.get("tasks").is_none());
}

#[test]
fn service_actions_refuse_bad_requests_with_pebbles_messages() {
    let p = start("svcerrors");
    p.add_layer(
        "base",
        "services:\n  web:\n    override: replace\n    command: sleep 30\n",
    );
    let cases = [
        (
            json!({"action": "start", "services": []}),
            "must specify services for start action",
            None,
        ),
        (
            json!({"action": "replan", "services": ["web"]}),
            "replan accepts no service names",
            None,
        ),
        (
            json!({"action": "start", "services": ["nope"]}),
            "cannot start services: service \"nope\" does not exist",
            None,
        ),
        (
            json!({"action": "autostart", "services": []}),
            "no default services",
            Some("no-default-services"),
        ),
        (
            json!({"action": "explode", "services": []}),
            "invalid action \"explode\"",
            None,
        ),
    ];
    for (body, message, kind) in cases {
        let (status, resp) = p.post("/v1/services", &body);
        assert_eq!(status, 400, "{resp}");
        assert_eq!(resp["result"]["message"], message);
        assert_eq!(resp["result"]["kind"].as_str(), kind);
    }
}

#[test]
fn a_quick_exit_fails_the_start_and_on_failure_restarts_with_backoff() {
    let p = start("backoff");
    let runs = p.dir.join("runs");
    p.add_layer(
        "base",
        &format!(
            "services:\n  flaky:\n    override: replace\n    command: sh -c 'echo run >> {}; echo boom; exit 3'\n    backoff-delay: 20ms\n    backoff-limit: 100ms\n",
            runs.display()
        ),
    );
    let change = p.services("start", &["flaky"]);
    assert_eq!(change["status"], "Error", "{change}");
    assert_eq!(
        change["err"],
        "cannot perform the following tasks:\n- Start service \"flaky\" (service start attempt: exited quickly with code 3, will restart)"
    );
    let log = change["tasks"][0]["log"].as_array().unwrap();
    assert!(
        log.iter().any(|l| l
            .as_str()
            .unwrap()
            .contains("Most recent service output:\n    boom")),
        "{change}"
    );
    // It keeps being restarted (on-failure defaults to restart).
    eventually("three runs", || lines(&runs) >= 3);
    assert!(matches!(p.current("flaky").as_str(), "backoff" | "active"));
    // Stopping a service in backoff stops it for good.
    p.services("stop", &["flaky"]);
    assert_eq!(p.current("flaky"), "inactive");
    let settled = lines(&runs);
    // A start after the stop runs it once more: it is not still being restarted behind our back.
    let change = p.services("start", &["flaky"]);
    assert_eq!(change["status"], "Error");
    assert!(lines(&runs) > settled);
    p.services("stop", &["flaky"]);
}

#[test]
fn ignore_leaves_exited_services_alone() {
    let p = start("ignore");
    p.add_layer(
        "base",
        "services:\n  fails:\n    override: replace\n    command: sh -c 'sleep 0.5; exit 1'\n    on-failure: ignore\n  ok:\n    override: replace\n    command: sh -c 'sleep 0.5; exit 0'\n    on-success: ignore\n",
    );
    p.services("start", &["fails", "ok"]);
    eventually("fails in error", || p.current("fails") == "error");
    eventually("ok inactive", || p.current("ok") == "inactive");
    // Stopping an exited service says so.
    let stop = p.services("stop", &["fails"]);
    assert!(
        stop["tasks"][0]["log"][0]
            .as_str()
            .unwrap()
            .ends_with("Service \"fails\" had already exited.")
    );
    assert_eq!(p.current("fails"), "inactive");
}

#[test]
fn on_success_shutdown_stops_the_daemon() {
    let mut p = start("shutdown");
    p.add_layer(
        "base",
        "services:\n  once:\n    override: replace\n    command: sh -c 'sleep 0.5'\n    on-success: shutdown\n  other:\n    override: replace\n    command: sleep 30\n",
    );
    p.services("start", &["other", "once"]);
    let server = p.server.take().unwrap();
    eventually("shutdown", || server.is_finished());
    let shutdown = server.wait();
    assert_eq!(
        shutdown.reason,
        "service \"once\" on-success action is \"shutdown\""
    );
    assert!(!shutdown.failure);
    assert!(!p.socket.exists());
    assert!(
        p.events()
            .iter()
            .any(|e| matches!(e, pebble_server::Event::Shutdown { failure: false, .. }))
    );
}

#[test]
fn stop_sends_sigterm_then_sigkill_to_the_whole_group() {
    let p = start("kill");
    let pids = p.dir.join("pids");
    p.add_layer(
        "base",
        &format!(
            "services:\n  stubborn:\n    override: replace\n    command: sh -c 'trap \"\" TERM; sleep 30 & echo $$ $! > {}; wait; wait'\n    kill-delay: 200ms\n",
            pids.display()
        ),
    );
    p.services("start", &["stubborn"]);
    eventually("pids written", || {
        std::fs::read_to_string(&pids).is_ok_and(|s| s.ends_with('\n'))
    });
    let text = std::fs::read_to_string(&pids).unwrap();
    let ids: Vec<u32> = text
        .split_whitespace()
        .map(|x| x.parse().unwrap())
        .collect();
    assert!(ids.iter().all(|id| alive(*id)));
    let stop = p.services("stop", &["stubborn"]);
    assert_eq!(stop["status"], "Done", "{stop}");
    assert_eq!(p.current("stubborn"), "inactive");
    // The shell ignored SIGTERM; SIGKILL got it, and its child in the same group.
    eventually("the group is gone", || ids.iter().all(|id| !alive(*id)));
}

#[test]
fn services_get_their_environment_working_dir_and_signals() {
    let p = start("env");
    std::fs::create_dir_all(p.host("/srv/app")).unwrap();
    let out = p.dir.join("out");
    p.add_layer(
        "base",
        &format!(
            "services:\n  app:\n    override: replace\n    command: sh -c 'echo \"$GREETING $(pwd)\" > {out}; trap \"echo hup >> {out}\" HUP; while true; do sleep 0.05; done'\n    working-dir: /srv/app\n    environment:\n      GREETING: hello\n",
            out = out.display()
        ),
    );
    p.services("start", &["app"]);
    let expected = format!(
        "hello {}\n",
        p.root.canonicalize().unwrap().join("srv/app").display()
    );
    eventually("output", || {
        std::fs::read_to_string(&out).is_ok_and(|s| s == expected)
    });
    let (status, body) = p.post(
        "/v1/signals",
        &json!({"signal": "SIGHUP", "services": ["app"]}),
    );
    assert_eq!((status, &body["result"]), (200, &json!(true)));
    eventually("hup handled", || {
        std::fs::read_to_string(&out).is_ok_and(|s| s.ends_with("hup\n"))
    });
    let (status, body) = p.post(
        "/v1/signals",
        &json!({"signal": "SIGFOO", "services": ["app", "nope"]}),
    );
    assert_eq!(status, 500);
    assert_eq!(
        body["result"]["message"],
        "cannot send signal to \"app\": invalid signal name \"SIGFOO\"; cannot send signal to \"nope\": service is not running"
    );
    let (status, body) = p.post("/v1/signals", &json!({"signal": "SIGHUP", "services": []}));
    assert_eq!(
        (status, body["result"]["message"].as_str()),
        (400, Some("must specify one or more services"))
    );
    // Restart: a new process.
    std::fs::remove_file(&out).unwrap();
    let restart = p.services("restart", &["app"]);
    assert_eq!(restart["status"], "Done", "{restart}");
    assert_eq!(restart["tasks"].as_array().unwrap().len(), 2);
    eventually("restarted", || {
        std::fs::read_to_string(&out).is_ok_and(|s| s == expected)
    });
}

#[test]
fn replan_restarts_services_whose_config_changed() {
    let p = start("replanchange");
    let out = p.dir.join("out");
    let layer = |word: &str| {
        format!(
            "services:\n  app:\n    override: replace\n    command: sh -c 'echo {word} >> {}; sleep 30'\n    startup: enabled\n",
            out.display()
        )
    };
    p.add_layer("base", &layer("one"));
    p.services("replan", &[]);
    eventually("first run", || lines(&out) == 1);
    p.add_layer("base", &layer("two"));
    let change = p.services("replan", &[]);
    assert_eq!(change["status"], "Done", "{change}");
    let kinds: Vec<&str> = change["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["stop", "start"]);
    eventually("second run", || {
        std::fs::read_to_string(&out).is_ok_and(|s| s == "one\ntwo\n")
    });
}

#[test]
fn autostart_at_boot_when_asked() {
    let dir = temp_dir("autostart-layers");
    std::fs::write(
        dir.join("001-base.yaml"),
        "services:\n  web:\n    override: replace\n    command: sleep 30\n    startup: enabled\n",
    )
    .unwrap();
    let p = start_with("autostart", |mut c| {
        c.autostart = true;
        c.layers_dir(&dir)
    });
    eventually("web active", || p.current("web") == "active");
    let (_, body) = p.get("/v1/changes?select=all");
    assert_eq!(body["result"][0]["kind"], "autostart");
    let _ = std::fs::remove_dir_all(&dir);
}
