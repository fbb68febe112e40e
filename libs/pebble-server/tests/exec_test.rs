//! Exec over websockets, step by step as spec section 6: exit codes, stdin, split and combined
//! stderr, timeouts that kill the process group, signals over `control`, and the errors.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::*;
use serde_json::{Value, json};
use tungstenite::Message;

/// An exec body as ops sends it: every key, `null` for unset ones.
fn body(command: &[&str]) -> Value {
    json!({
        "command": command, "service-context": null, "environment": {}, "working-dir": null,
        "timeout": null, "user-id": null, "user": null, "group-id": null, "group": null,
        "split-stderr": false
    })
}

#[test]
fn exit_codes_output_and_stdin() {
    let p = start("exec");
    let run = exec(
        &p,
        &body(&["sh", "-c", "echo out; echo err >&2; exit 7"]),
        None,
    );
    assert_eq!(run.exit_code, 7);
    assert_eq!(run.change["status"], "Done");
    assert_eq!(run.change["kind"], "exec");
    assert_eq!(run.change["summary"], "Execute command \"sh\"");
    // Combined stderr: both on stdio.
    assert_eq!(String::from_utf8_lossy(&run.stdout), "out\nerr\n");
    let run = exec(&p, &body(&["cat"]), Some(b"hello stdin"));
    assert_eq!(run.exit_code, 0);
    assert_eq!(run.stdout, b"hello stdin");
    // Split stderr: its own websocket.
    let mut b = body(&["sh", "-c", "echo out; echo err >&2"]);
    b["split-stderr"] = json!(true);
    let run = exec(&p, &b, None);
    assert_eq!(
        (run.stdout.as_slice(), run.stderr.as_slice()),
        (&b"out\n"[..], &b"err\n"[..])
    );
}

#[test]
fn environment_and_working_dir_are_applied_and_reported() {
    let p = start("execenv");
    std::fs::create_dir_all(p.host("/srv")).unwrap();
    let mut b = body(&["sh", "-c", "echo $FOO; pwd"]);
    b["environment"] = json!({"FOO": "bar"});
    b["working-dir"] = json!("/srv");
    let (status, resp) = p.post("/v1/exec", &b);
    assert_eq!(status, 202);
    assert_eq!(resp["result"]["working-dir"], "/srv");
    assert_eq!(resp["result"]["environment"]["FOO"], "bar");
    assert_eq!(
        resp["result"]["environment"]["LANG"].as_str().map(|_| true),
        Some(true)
    );
    let task = resp["result"]["task-id"].as_str().unwrap();
    let _control = connect_ws(&p.socket, task, "control");
    let mut stdio = connect_ws(&p.socket, task, "stdio");
    let out = String::from_utf8(read_until_end(&mut stdio)).unwrap();
    let srv = p.root.canonicalize().unwrap().join("srv");
    assert_eq!(out, format!("bar\n{}\n", srv.display()));
    let change = p.wait_change(resp["change"].as_str().unwrap());
    assert_eq!(change["tasks"][0]["data"]["exit-code"], 0);
}

#[test]
fn a_timeout_kills_the_process_group() {
    let p = start("exectimeout");
    let pids = p.dir.join("pids");
    let mut b = body(&[
        "sh",
        "-c",
        &format!("sleep 30 & echo $! > {}; wait", pids.display()),
    ]);
    b["timeout"] = json!("0.500s");
    let run = exec(&p, &b, None);
    assert_eq!(run.exit_code, -1);
    assert_eq!(run.change["status"], "Error");
    assert_eq!(
        run.change["err"],
        "cannot perform the following tasks:\n- Execute command \"sh\" (timed out after 500ms: context deadline exceeded)"
    );
    let grandchild: u32 = std::fs::read_to_string(&pids)
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    eventually("the grandchild is killed", || !alive(grandchild));
}

#[test]
fn signals_over_control_reach_the_process() {
    let p = start("execsignal");
    let (_, resp) = p.post("/v1/exec", &body(&["sleep", "30"]));
    let task = resp["result"]["task-id"].as_str().unwrap();
    let mut control = connect_ws(&p.socket, task, "control");
    let mut stdio = connect_ws(&p.socket, task, "stdio");
    control
        .send(Message::text(
            r#"{"command":"signal","signal":{"name":"SIGTERM"}}"#,
        ))
        .unwrap();
    assert!(read_until_end(&mut stdio).is_empty());
    let change = p.wait_change(resp["change"].as_str().unwrap());
    assert_eq!(change["tasks"][0]["data"]["exit-code"], 128 + 15);
}

#[test]
fn stdin_end_is_not_required_to_finish() {
    let p = start("execnostdin");
    let (_, resp) = p.post("/v1/exec", &body(&["echo", "done"]));
    let task = resp["result"]["task-id"].as_str().unwrap();
    let mut stdio = connect_ws(&p.socket, task, "stdio");
    assert_eq!(read_until_end(&mut stdio), b"done\n");
    let change = p.wait_change(resp["change"].as_str().unwrap());
    assert_eq!(change["tasks"][0]["data"]["exit-code"], 0);
}

#[test]
fn bad_exec_requests_get_pebbles_errors() {
    let p = start("execerr");
    let cases = [
        (body(&[]), 400, "must specify command"),
        (
            body(&["no-such-command-anywhere"]),
            400,
            "cannot find executable \"no-such-command-anywhere\"",
        ),
        (
            {
                let mut b = body(&["true"]);
                b["timeout"] = json!("soon");
                b
            },
            400,
            "invalid timeout: time: invalid duration \"soon\"",
        ),
        (
            {
                let mut b = body(&["true"]);
                b["service-context"] = json!("web");
                b
            },
            400,
            "context service \"web\" not found",
        ),
        (
            {
                let mut b = body(&["true"]);
                b["working-dir"] = json!("/missing");
                b
            },
            500,
            "cannot call exec: working directory \"/missing\" does not exist",
        ),
        (
            {
                let mut b = body(&["true"]);
                b["interactive"] = json!(true);
                b
            },
            500,
            "cannot use interactive mode without a terminal",
        ),
    ];
    for (b, status, message) in cases {
        let (s, resp) = p.post("/v1/exec", &b);
        assert_eq!(
            (s, resp["result"]["message"].as_str()),
            (status, Some(message)),
            "{b}"
        );
    }
}

#[test]
fn websocket_ids_are_checked() {
    let p = start("execws");
    let (_, resp) = p.post("/v1/exec", &body(&["cat"]));
    let task = resp["result"]["task-id"].as_str().unwrap().to_string();
    let upgrade = [
        ("Upgrade", "websocket"),
        ("Connection", "Upgrade"),
        ("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="),
        ("Sec-WebSocket-Version", "13"),
    ];
    let r = request(
        &p.socket,
        "GET",
        &format!("/v1/tasks/{task}/websocket/stderr"),
        &upgrade,
        b"",
    );
    assert_eq!(r.status, 404);
    assert!(r.text().contains(&format!(
        "cannot find stderr websocket for task \\\"{task}\\\""
    )));
    let mut stdio = connect_ws(&p.socket, &task, "stdio");
    let r = request(
        &p.socket,
        "GET",
        &format!("/v1/tasks/{task}/websocket/stdio"),
        &upgrade,
        b"",
    );
    assert_eq!(r.status, 500);
    assert!(r.text().contains("stdio websocket already connected"));
    let r = request(
        &p.socket,
        "GET",
        "/v1/tasks/999/websocket/stdio",
        &upgrade,
        b"",
    );
    assert_eq!(r.status, 404);
    stdio.send(Message::text(r#"{"command":"end"}"#)).unwrap();
    assert!(read_until_end(&mut stdio).is_empty());
    assert_eq!(
        p.wait_change(resp["change"].as_str().unwrap())["status"],
        "Done"
    );
}

#[test]
fn exec_runs_with_a_service_context() {
    let p = start("execctx");
    std::fs::create_dir_all(p.host("/app")).unwrap();
    p.add_layer("base", "services:\n  web:\n    override: replace\n    command: sleep 30\n    working-dir: /app\n    environment:\n      FROM: service\n");
    let mut b = body(&["sh", "-c", "echo $FROM; pwd"]);
    b["service-context"] = json!("web");
    let run = exec(&p, &b, None);
    let app = p.root.canonicalize().unwrap().join("app");
    assert_eq!(
        String::from_utf8(run.stdout).unwrap(),
        format!("service\n{}\n", app.display())
    );
}
