//! The compiled `hello` binary, run as Juju runs it, against stub hook tools: the exact argv it
//! sends, its exit codes, and its state file.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use charm_testing::StubTools;
use std::path::Path;
use std::process::{Command, Output};

fn run(stubs: &StubTools, charm_dir: &Path, hook: &str, extra: &[(&str, &str)]) -> Output {
    let path = format!(
        "{}:{}",
        stubs.bin().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_hello"));
    cmd.env_clear()
        .env("PATH", path)
        .env("JUJU_DISPATCH_PATH", hook)
        .env("JUJU_UNIT_NAME", "hello/0")
        .env("JUJU_MODEL_NAME", "test")
        .env("JUJU_VERSION", "3.6.14")
        .env("JUJU_CHARM_DIR", charm_dir)
        .current_dir(charm_dir);
    for (k, v) in extra {
        cmd.env(k, v);
    }
    cmd.output().unwrap()
}

fn words(call: &[&str]) -> Vec<String> {
    call.iter().map(|s| s.to_string()).collect()
}

fn setup() -> (StubTools, std::path::PathBuf) {
    let stubs = StubTools::new().unwrap();
    let charm_dir = stubs.root().join("charm");
    std::fs::create_dir_all(&charm_dir).unwrap();
    stubs
        .answer("config-get", r#"{"greeting": "hi", "port": 8080}"#)
        .unwrap();
    stubs.answer("is-leader", "true").unwrap();
    stubs.answer("opened-ports", "[]").unwrap();
    stubs
        .answer_for("relation-ids", "greeting", r#"["greeting:3"]"#)
        .unwrap();
    stubs.answer_for("relation-ids", "listen", "[]").unwrap();
    (stubs, charm_dir)
}

#[test]
fn config_changed_sends_exactly_this() {
    let (stubs, charm_dir) = setup();
    let out = run(&stubs, &charm_dir, "hooks/config-changed", &[]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        stubs.calls(),
        vec![
            words(&["config-get", "--format=json"]),
            words(&["opened-ports", "--format=json"]),
            words(&["open-port", "--", "8080/tcp"]),
            words(&["is-leader", "--format=json"]),
            words(&["relation-ids", "--format=json", "--", "greeting"]),
            words(&["relation-ids", "--format=json", "--", "listen"]),
            words(&[
                "status-set",
                "--application=False",
                "active",
                "--",
                "nobody to listen to"
            ]),
            words(&["relation-set", "-r", "greeting:3", "--app", "--file", "-"]),
        ]
    );
    assert_eq!(stubs.stdin().trim(), r#"{"greeting":"hi"}"#);
    let state = std::fs::read_to_string(charm_dir.join(".charm-state.json")).unwrap();
    assert!(state.contains(r#""hooks":1"#), "{state}");

    // Another hook with nothing changed: no status-set and no open-port. (The greeting is sent
    // again: without reading the bag the charm cannot know it is unchanged, and one write costs
    // the same as one read; Juju drops writes that change nothing.)
    stubs.clear_calls();
    stubs.answer("opened-ports", r#"["8080/tcp"]"#).unwrap();
    let out = run(&stubs, &charm_dir, "hooks/update-status", &[]);
    assert!(out.status.success());
    let tools: Vec<String> = stubs.calls().into_iter().map(|c| c[0].clone()).collect();
    assert!(!tools.contains(&"status-set".to_string()), "{tools:?}");
    assert!(!tools.contains(&"open-port".to_string()), "{tools:?}");
}

#[test]
fn a_failing_hook_tool_fails_the_hook_and_keeps_the_old_state() {
    let (stubs, charm_dir) = setup();
    assert!(
        run(&stubs, &charm_dir, "hooks/install", &[])
            .status
            .success()
    );
    let before = std::fs::read(charm_dir.join(".charm-state.json")).unwrap();
    stubs
        .fail("relation-set", 1, "ERROR connection reset\n")
        .unwrap();
    stubs
        .answer("config-get", r#"{"greeting": "changed", "port": 8080}"#)
        .unwrap();
    let out = run(&stubs, &charm_dir, "hooks/config-changed", &[]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("connection reset"), "{stderr}");
    assert_eq!(
        std::fs::read(charm_dir.join(".charm-state.json")).unwrap(),
        before
    );
    // The failure was also logged to Juju.
    let logged = stubs
        .calls()
        .iter()
        .any(|c| c[0] == "juju-log" && c[2] == "ERROR" && c[4].contains("config-changed failed"));
    assert!(logged, "{:?}", stubs.calls());
}

#[test]
fn actions_use_the_action_tools() {
    let (stubs, charm_dir) = setup();
    stubs.answer("action-get", r#"{"name": "Ada"}"#).unwrap();
    let out = run(
        &stubs,
        &charm_dir,
        "actions/greet",
        &[("JUJU_ACTION_NAME", "greet"), ("JUJU_ACTION_UUID", "7")],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let calls = stubs.calls();
    assert!(calls.contains(&words(&["action-get", "--format=json"])));
    assert!(calls.contains(&words(&["action-log", "--", "greeting Ada"])));
    assert!(calls.contains(&words(&["action-set", "--", "message=hi, Ada!"])));
}

#[test]
fn bad_context_is_a_clear_error() {
    let (stubs, charm_dir) = setup();
    let out = run(&stubs, &charm_dir, "hooks/db-relation-changed", &[]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("JUJU_RELATION_ID"), "{stderr}");
    assert!(
        stubs.calls().is_empty(),
        "no hook tool before the context is valid"
    );
    // An unknown hook is not an error.
    let out = run(&stubs, &charm_dir, "hooks/leader-deposed", &[]);
    assert!(out.status.success());
}

#[test]
fn a_corrupt_state_file_fails_the_hook_without_touching_the_file() {
    let (stubs, charm_dir) = setup();
    std::fs::write(charm_dir.join(".charm-state.json"), "{oops").unwrap();
    // config-changed changes state (a hook counter), so a charm that ignored the error would save.
    let out = run(&stubs, &charm_dir, "hooks/config-changed", &[]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    let file = charm_dir.join(".charm-state.json");
    // The message names the file and how to get out of it, on stderr and in the Juju log.
    assert!(stderr.contains("corrupt"), "{stderr}");
    assert!(stderr.contains(&file.display().to_string()), "{stderr}");
    assert!(stderr.contains("move it aside"), "{stderr}");
    let logged = stubs
        .calls()
        .into_iter()
        .any(|c| c[0] == "juju-log" && c.iter().any(|w| w.contains("move it aside")));
    assert!(logged, "{:?}", stubs.calls());
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "{oops");
    // Every retry fails the same way until an operator moves the file aside.
    let out = run(&stubs, &charm_dir, "hooks/config-changed", &[]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "{oops");
    std::fs::rename(&file, charm_dir.join("state.broken")).unwrap();
    let out = run(&stubs, &charm_dir, "hooks/config-changed", &[]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        std::fs::read_to_string(&file)
            .unwrap()
            .contains(r#""version":1"#)
    );
}
