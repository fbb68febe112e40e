//! The `pebble-server` binary: serves, writes events, stops its services on SIGTERM.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::process::{Command, Stdio};

use common::*;
use serde_json::json;

#[test]
fn the_daemon_serves_until_sigterm_and_stops_its_services() {
    let dir = temp_dir("binary");
    let socket = dir.join("c/pebble.socket");
    let events = dir.join("events.jsonl");
    let mut child = Command::new(env!("CARGO_BIN_EXE_pebble-server"))
        .args([
            "--socket",
            socket.to_str().unwrap(),
            "--root",
            dir.join("root").to_str().unwrap(),
        ])
        .args(["--events", events.to_str().unwrap()])
        .stdin(Stdio::null())
        .spawn()
        .unwrap();
    eventually("the socket answers", || {
        std::os::unix::net::UnixStream::connect(&socket).is_ok()
    });
    let pid_file = dir.join("pid");
    let layer = format!(
        "services:\n  app:\n    override: replace\n    command: sh -c 'echo $$ > {}; exec sleep 30'\n",
        pid_file.display()
    );
    let (status, _) = json(
        &socket,
        "POST",
        "/v1/layers",
        Some(&json!({"action": "add", "label": "base", "format": "yaml", "layer": layer})),
    );
    assert_eq!(status, 200);
    let (status, body) = json(
        &socket,
        "POST",
        "/v1/services",
        Some(&json!({"action": "start", "services": ["app"]})),
    );
    assert_eq!(status, 202);
    let change = body["change"].as_str().unwrap();
    let (_, body) = json(
        &socket,
        "GET",
        &format!("/v1/changes/{change}/wait?timeout=20s"),
        None,
    );
    assert_eq!(body["result"]["status"], "Done", "{body}");
    let app: u32 = std::fs::read_to_string(&pid_file)
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    assert!(alive(app));
    // The daemon blocks its termination signals to sigwait for them; its services must not
    // inherit that mask, or SIGTERM would never reach them.
    let status = std::fs::read_to_string(format!("/proc/{app}/status")).unwrap();
    let blocked = status.lines().find(|l| l.starts_with("SigBlk:")).unwrap();
    assert_eq!(
        u64::from_str_radix(blocked.split_whitespace().nth(1).unwrap(), 16).unwrap(),
        0,
        "{blocked}"
    );
    // SIGHUP is ignored; SIGTERM stops it.
    let kill = |sig: &str| {
        Command::new("kill")
            .args([sig, &child.id().to_string()])
            .status()
            .unwrap()
    };
    assert!(kill("-HUP").success());
    assert_eq!(json(&socket, "GET", "/v1/system-info", None).0, 200);
    assert!(kill("-TERM").success());
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(0));
    assert!(!socket.exists());
    assert!(!alive(app), "services are stopped with the daemon");
    let lines: Vec<serde_json::Value> = std::fs::read_to_string(&events)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.first().unwrap()["event"], "started");
    assert_eq!(lines.last().unwrap()["event"], "shutdown");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn bad_arguments_exit_2() {
    let out = Command::new(env!("CARGO_BIN_EXE_pebble-server"))
        .arg("--socket")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--socket needs a value"));
    let out = Command::new(env!("CARGO_BIN_EXE_pebble-server"))
        .args(["--root", "/tmp/x"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--socket is required"));
}
