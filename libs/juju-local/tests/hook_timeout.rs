//! The hook timeout: a charm process running too long is killed with its process group, the hook
//! fails with a clear message, nothing buffered is committed, and the model stays usable.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;
use common::*;

use std::process::Command;
use std::time::{Duration, Instant};

use juju_local::parse_hook_timeout;
use juju_local::{Model, ModelOptions};

const SLOW_START: &str = "state-set started=yes\nopen-port 8080\nstatus-set maintenance slow\nsleep 30 &\necho $! > \"$JUJU_CHARM_DIR/bg.pid\"\nsleep 30\n";

fn gone(pid: &str) -> bool {
    let deadline = Instant::now() + Duration::from_secs(3);
    loop {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
        // Gone, or a zombie waiting for its new parent to reap it.
        if stat.is_empty() || stat.split_whitespace().nth(2) == Some("Z") {
            return true;
        }
        if Instant::now() > deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn parse_timeouts() {
    assert_eq!(parse_hook_timeout("0").unwrap(), None);
    assert_eq!(
        parse_hook_timeout("60").unwrap(),
        Some(Duration::from_secs(60))
    );
    assert_eq!(
        parse_hook_timeout(" 1.5 ").unwrap(),
        Some(Duration::from_millis(1500))
    );
    for bad in ["-1", "abc", "inf", "NaN", "", "1e30"] {
        let err = parse_hook_timeout(bad).unwrap_err().to_string();
        assert!(err.contains("invalid hook timeout"), "{bad}: {err}");
    }
    if std::env::var_os("JUJU_LOCAL_HOOK_TIMEOUT").is_none() {
        assert_eq!(
            ModelOptions::new(bin()).hook_timeout,
            Some(juju_local::DEFAULT_HOOK_TIMEOUT)
        );
    }
}

#[test]
fn slow_hook_is_killed_and_commits_nothing() {
    let base = tmp("timeout");
    let mut opts = ModelOptions::new(bin());
    opts.hook_timeout = Some(Duration::from_secs(1));
    let m = Model::init(base.join("model"), opts).unwrap();
    let c = charm(
        &base,
        "db",
        DB_META,
        None,
        Some("slow:\n  params: {}\n"),
        &[
            ("start", SLOW_START),
            ("slow", "action-set a=1\nsleep 30\n"),
        ],
    );
    deploy(&m, &c, "db", 1);
    let started = Instant::now();
    let report = m.settle(50).unwrap();
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(
        report.errors,
        vec![(
            "db/0".to_string(),
            "hook start on db/0 timed out after 1 s".to_string()
        )]
    );
    let rec = m
        .timeline()
        .unwrap()
        .into_iter()
        .find(|r| r.hook.name == "start")
        .unwrap();
    assert_eq!(rec.outcome, "failed");
    assert!(!rec.committed);
    assert_eq!(rec.exit_code, 128 + 9);
    assert_eq!(
        rec.error.as_deref(),
        Some("hook start on db/0 timed out after 1 s")
    );
    assert!(
        rec.wall_ms >= 1000.0 && rec.wall_ms < 5000.0,
        "{}",
        rec.wall_ms
    );
    // Buffered changes (charm state, ports) are discarded; status-set applied at once, as in Juju.
    let st = m.state().unwrap();
    let u = st.unit("db/0").unwrap();
    assert!(u.charm_state.is_empty(), "{:?}", u.charm_state);
    assert!(u.ports.is_empty());
    assert!(!u.agent.started);
    assert_eq!(u.status.message, "slow");
    // The whole process group died, including the background child.
    let pid = std::fs::read_to_string(unit_dir(&m, "db/0").join("bg.pid")).unwrap();
    assert!(gone(pid.trim()), "background process {pid} survived");

    // The model stays usable: fix the charm, retry, settle.
    on(
        &m,
        "db/0",
        "start",
        Some("state-set started=yes\nstatus-set active ok\n"),
    );
    m.resolve("db/0", true).unwrap();
    let report = m.settle(50).unwrap();
    assert!(report.errors.is_empty(), "{:?}", report.errors);
    let st = m.state().unwrap();
    let u = st.unit("db/0").unwrap();
    assert!(u.agent.started);
    assert_eq!(
        u.charm_state.get("started").map(String::as_str),
        Some("yes")
    );
    assert_eq!(u.status.status, "active");

    // An action is bounded too: it fails, the unit does not go into error.
    let out = m.run_action("db/0", "slow", &[]).unwrap();
    assert_eq!(out.status, "failed");
    assert_eq!(out.message, "action slow on db/0 timed out after 1 s");
    assert!(
        m.state()
            .unwrap()
            .unit("db/0")
            .unwrap()
            .agent
            .error
            .is_none()
    );
    let p = probe(&m, "db/0", "state-get started");
    assert_eq!(p.stdout.trim(), "yes");
}

#[test]
fn timeout_from_cli_flag_and_environment() {
    let base = tmp("timeout-cli");
    charm(
        &base,
        "db",
        DB_META,
        None,
        None,
        &[("install", "sleep 30\n")],
    );
    let dir = base.join("model");
    let run = |args: &[&str], env: Option<&str>| {
        let mut cmd = Command::new(bin());
        cmd.arg("--model").arg(&dir).args(args);
        cmd.env_remove("JUJU_LOCAL_HOOK_TIMEOUT");
        if let Some(v) = env {
            cmd.env("JUJU_LOCAL_HOOK_TIMEOUT", v);
        }
        let out = cmd.output().unwrap();
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    assert_eq!(run(&["init"], None).0, 0);
    let charm_dir = base.join("charm-db");
    assert_eq!(
        run(&["deploy", &charm_dir.to_string_lossy(), "db"], None).0,
        0
    );
    let (code, _, err) = run(&["--hook-timeout", "soon", "settle"], None);
    assert_eq!(code, 2);
    assert!(err.contains("invalid hook timeout \"soon\""), "{err}");
    let (code, _, err) = run(&["settle"], Some("-3"));
    assert_eq!(code, 2);
    assert!(err.contains("JUJU_LOCAL_HOOK_TIMEOUT"), "{err}");
    let (code, out, err) = run(&["--hook-timeout=0.5", "settle"], None);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("unit db/0 in error: hook install on db/0 timed out after 0.5 s"),
        "{out}"
    );
    let (code, _, _) = run(&["resolve", "db/0"], None);
    assert_eq!(code, 0);
    let (code, out, err) = run(&["settle"], Some("1"));
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("timed out after 1 s"), "{out}");
}
