//! Exec against the test server: the request, the websocket protocol (connection order, binary
//! data, `end` in both directions, signals on control), exit codes, a killed process, a timeout,
//! and websocket failures.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use pebble::Error;
use serde_json::{Value, json};
use support::*;
use tungstenite::Message;

/// How the simulated command behaves.
#[derive(Clone, Default)]
struct Fake {
    stdout: Vec<u8>,
    stderr: Vec<u8>,
    exit_code: i64,
    /// Read stdin to its `end` and echo it to stdout.
    echo_stdin: bool,
    /// Produce no output until a signal comes; then exit with 128 + 9.
    until_signal: bool,
    /// The change fails with this error (exit code -1).
    change_err: Option<&'static str>,
    /// The task's websockets are gone (404).
    no_websockets: bool,
}

/// What the server saw.
#[derive(Default)]
struct Seen {
    websockets: Vec<String>,
    stdin: Vec<u8>,
    stdin_ended: bool,
    signals: Vec<String>,
    killed: bool,
}

struct ExecServer {
    server: Server,
    seen: Arc<(Mutex<Seen>, Condvar)>,
}

fn binary_frames(ws: &mut ServerWs, data: &[u8]) {
    // Two frames when there is enough, to show output is joined.
    let mid = data.len() / 2;
    for part in [&data[..mid], &data[mid..]] {
        if !part.is_empty() {
            ws.send(Message::binary(part.to_vec())).unwrap();
        }
    }
}

fn end(ws: &mut ServerWs) {
    ws.send(Message::text(r#"{"command":"end"}"#)).unwrap();
}

fn exec_server(fake: Fake) -> ExecServer {
    let seen: Arc<(Mutex<Seen>, Condvar)> = Arc::default();
    let server = {
        let seen = seen.clone();
        Server::start(move |r| {
            let fake = fake.clone();
            let seen = seen.clone();
            match (r.method.as_str(), r.path.as_str()) {
                ("POST", "/v1/exec") => accepted(
                    "11",
                    Some(
                        json!({"task-id": "T1", "environment": {"PATH": "/bin"}, "working-dir": "/"}),
                    ),
                ),
                ("GET", "/v1/changes/11/wait") => {
                    let killed = seen.0.lock().unwrap().killed;
                    let body = match fake.change_err {
                        Some(err) => change("11", "Error", Some(err), Some(-1)),
                        None => change(
                            "11",
                            "Done",
                            None,
                            Some(if killed { 128 + 9 } else { fake.exit_code }),
                        ),
                    };
                    sync(body)
                }
                ("GET", path) if path.starts_with("/v1/tasks/T1/websocket/") => {
                    if fake.no_websockets {
                        return error(404, None, "cannot find stdio websocket for task \"T1\"");
                    }
                    let id = path.rsplit('/').next().unwrap().to_string();
                    seen.0.lock().unwrap().websockets.push(id.clone());
                    Reply::WebSocket(Box::new(move |ws| run_ws(&id, ws, &fake, &seen)))
                }
                _ => not_found(),
            }
        })
    };
    ExecServer { server, seen }
}

fn run_ws(id: &str, mut ws: ServerWs, fake: &Fake, seen: &(Mutex<Seen>, Condvar)) {
    let (lock, wake) = seen;
    match id {
        "control" => loop {
            match ws.read() {
                Ok(Message::Text(text)) => {
                    let v: Value = serde_json::from_str(text.as_str()).unwrap();
                    if v["command"] == "signal" {
                        let mut s = lock.lock().unwrap();
                        s.signals
                            .push(v["signal"]["name"].as_str().unwrap().to_string());
                        s.killed = v["signal"]["name"] == "SIGKILL";
                        wake.notify_all();
                    }
                }
                Ok(_) => {}
                Err(_) => return,
            }
        },
        "stdio" => {
            let mut stdin = Vec::new();
            if fake.echo_stdin || !fake.until_signal {
                // Read stdin until `end` (the client sends it even with no stdin).
                loop {
                    match ws.read() {
                        Ok(Message::Binary(b)) => stdin.extend_from_slice(&b),
                        Ok(Message::Text(t)) if t.as_str() == r#"{"command":"end"}"# => {
                            let mut s = lock.lock().unwrap();
                            s.stdin_ended = true;
                            break;
                        }
                        Ok(_) => {}
                        Err(_) => break,
                    }
                }
                lock.lock().unwrap().stdin = stdin.clone();
            }
            if fake.until_signal {
                let mut s = lock.lock().unwrap();
                while !s.killed {
                    s = wake.wait(s).unwrap();
                }
            }
            binary_frames(&mut ws, &fake.stdout);
            if fake.echo_stdin {
                binary_frames(&mut ws, &stdin);
            }
            // Unknown text commands are ignored by clients.
            ws.send(Message::text(r#"{"command":"dance"}"#)).unwrap();
            end(&mut ws);
            let _ = ws.close(None);
            let _ = ws.flush();
        }
        "stderr" => {
            binary_frames(&mut ws, &fake.stderr);
            end(&mut ws);
            let _ = ws.close(None);
            let _ = ws.flush();
        }
        _ => {}
    }
}

#[test]
fn exec_sends_the_request_and_captures_output() {
    let es = exec_server(Fake {
        stdout: b"hello\n".to_vec(),
        stderr: b"warning: careful\n".to_vec(),
        ..Fake::default()
    });
    let client = es.server.client();
    let output = client
        .exec(["/bin/app", "--flag", "a b"])
        .env("MODE", "test")
        .working_dir("/srv")
        .user("web")
        .group_id(1000)
        .service_context("web")
        .timeout(Duration::from_millis(2500))
        .output()
        .unwrap();
    assert_eq!(output.stdout, b"hello\n");
    assert_eq!(output.stderr_text(), "warning: careful\n");
    let exec = &es.server.requests()[0];
    assert_eq!(exec.line(), "POST /v1/exec");
    assert_eq!(
        exec.json(),
        json!({"command": ["/bin/app", "--flag", "a b"], "service-context": "web",
               "environment": {"MODE": "test"}, "working-dir": "/srv", "timeout": "2.5s",
               "user-id": null, "user": "web", "group-id": 1000, "group": null,
               "terminal": false, "interactive": false, "width": null, "height": null,
               "split-stderr": true})
    );
    let seen = es.seen.0.lock().unwrap();
    assert_eq!(seen.websockets, ["control", "stdio", "stderr"]);
    assert!(
        seen.stdin_ended && seen.stdin.is_empty(),
        "empty stdin is ended at once"
    );
    let lines = es.server.lines();
    assert_eq!(
        lines,
        [
            "POST /v1/exec",
            "GET /v1/tasks/T1/websocket/control",
            "GET /v1/tasks/T1/websocket/stdio",
            "GET /v1/tasks/T1/websocket/stderr",
            "GET /v1/changes/11/wait?timeout=9s",
        ]
    );
    let upgrade = &es.server.requests()[2];
    assert_eq!(upgrade.header("upgrade"), Some("websocket"));
}

#[test]
fn the_default_timeout_is_sent() {
    let es = exec_server(Fake::default());
    es.server.client().exec(["true"]).output().unwrap();
    assert_eq!(es.server.requests()[0].json()["timeout"], json!("10s"));
}

#[test]
fn stdin_is_streamed_while_output_is_read() {
    let es = exec_server(Fake {
        echo_stdin: true,
        ..Fake::default()
    });
    // More than the socket buffers, in many frames.
    let input: Vec<u8> = (0..600_000u32).map(|i| (i % 253) as u8).collect();
    let output = es
        .server
        .client()
        .exec(["cat"])
        .stdin(&input[..])
        .output()
        .unwrap();
    assert_eq!(output.stdout.len(), input.len());
    assert!(output.stdout == input);
    let seen = es.seen.0.lock().unwrap();
    assert!(seen.stdin_ended);
}

#[test]
fn a_non_zero_exit_is_an_exec_error_with_the_output() {
    let es = exec_server(Fake {
        stdout: b"partial".to_vec(),
        stderr: b"no such thing".to_vec(),
        exit_code: 3,
        ..Fake::default()
    });
    let Error::Exec(e) = es.server.client().exec(["false"]).output().unwrap_err() else {
        panic!()
    };
    assert_eq!(e.exit_code, 3);
    assert_eq!(e.command, ["false"]);
    assert_eq!(
        (e.stdout.as_slice(), e.stderr.as_slice()),
        (&b"partial"[..], &b"no such thing"[..])
    );
    assert!(
        !format!("{e:?}").contains("no such thing"),
        "Debug hides output"
    );
}

#[test]
fn combined_stderr_uses_no_stderr_websocket() {
    let es = exec_server(Fake {
        stdout: b"out and err".to_vec(),
        ..Fake::default()
    });
    let output = es
        .server
        .client()
        .exec(["sh", "-c", "x"])
        .combine_stderr(true)
        .output()
        .unwrap();
    assert_eq!(output.stdout, b"out and err");
    assert!(output.stderr.is_empty());
    assert_eq!(es.server.requests()[0].json()["split-stderr"], json!(false));
    assert_eq!(es.seen.0.lock().unwrap().websockets, ["control", "stdio"]);
}

#[test]
fn output_can_be_streamed() {
    let es = exec_server(Fake {
        stdout: b"line 1\nline 2\n".to_vec(),
        stderr: b"err\n".to_vec(),
        exit_code: 1,
        ..Fake::default()
    });
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let result = es.server.client().exec(["tail"]).stream(&mut out, &mut err);
    assert!(matches!(result, Err(Error::Exec(ref e)) if e.exit_code == 1 && e.stdout.is_empty()));
    assert_eq!(out, b"line 1\nline 2\n");
    assert_eq!(err, b"err\n");
}

#[test]
fn a_killed_process_exits_128_plus_the_signal() {
    let es = exec_server(Fake {
        until_signal: true,
        ..Fake::default()
    });
    let client = es.server.client();
    let process = client.exec(["sleep", "1000"]).spawn().unwrap();
    assert_eq!(process.change_id(), "11");
    let signaller = process.signaller();
    let killer = std::thread::spawn(move || signaller.send("SIGKILL"));
    let Error::Exec(e) = process.wait_output().unwrap_err() else {
        panic!()
    };
    killer.join().unwrap().unwrap();
    assert_eq!(e.exit_code, 137);
    assert_eq!(es.seen.0.lock().unwrap().signals, ["SIGKILL"]);
}

#[test]
fn a_timed_out_command_is_a_change_error() {
    let err = "cannot perform the following tasks:\n- Execute command \"sleep\" (timed out after 1s: context deadline exceeded)";
    let es = exec_server(Fake {
        change_err: Some(err),
        ..Fake::default()
    });
    let Error::Change(e) = es
        .server
        .client()
        .exec(["sleep", "10"])
        .timeout(Duration::from_secs(1))
        .output()
        .unwrap_err()
    else {
        panic!()
    };
    assert_eq!(e.err, err);
    assert_eq!(e.change.exit_code(), Some(-1));
}

#[test]
fn missing_websockets() {
    // The change failed: its error explains more than the socket.
    let es = exec_server(Fake {
        no_websockets: true,
        change_err: Some(
            "cannot perform the following tasks:\n- Execute command \"x\" (cannot start)",
        ),
        ..Fake::default()
    });
    let err = es.server.client().exec(["x"]).output().unwrap_err();
    assert!(
        matches!(err, Error::Change(ref e) if e.err.contains("cannot start")),
        "{err:?}"
    );
    // Otherwise the websocket's own error.
    let es = exec_server(Fake {
        no_websockets: true,
        ..Fake::default()
    });
    let err = es.server.client().exec(["x"]).output().unwrap_err();
    assert!(
        matches!(&err, Error::Api(e) if e.status_code == 404 && e.message == "cannot find stdio websocket for task \"T1\""),
        "{err:?}"
    );
}

#[test]
fn exec_request_errors_are_api_errors() {
    let server = Server::start(|_| error(400, None, "cannot find executable \"nope\""));
    let err = server.client().exec(["nope"]).output().unwrap_err();
    assert_eq!(err.status_code(), Some(400));
    assert_eq!(err.to_string(), "cannot find executable \"nope\"");
}

#[test]
fn captured_output_is_bounded() {
    let es = exec_server(Fake {
        stdout: vec![b'x'; 10_000],
        ..Fake::default()
    });
    let client = es.server.client().with_limits(pebble::Limits {
        exec_output: 1000,
        ..pebble::Limits::default()
    });
    let err = client.exec(["yes"]).output().unwrap_err();
    assert!(
        matches!(err, Error::TooLarge { limit: 1000, .. }),
        "{err:?}"
    );
}

#[test]
fn a_server_that_drops_the_output_socket_is_a_connection_error() {
    let server = Server::start(|r| match r.path.as_str() {
        "/v1/exec" => accepted("11", Some(json!({"task-id": "T1"}))),
        p if p.ends_with("/stdio") => Reply::WebSocket(Box::new(|ws| {
            // Drop the connection without `end` or a close frame.
            drop(ws);
        })),
        p if p.contains("/websocket/") => Reply::WebSocket(Box::new(|mut ws| {
            let _ = ws.read();
        })),
        _ => sync(change("11", "Done", None, Some(0))),
    });
    let err = server.client().exec(["x"]).output().unwrap_err();
    assert!(err.is_connection(), "{err:?}");
}
