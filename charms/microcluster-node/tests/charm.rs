//! Harness tests of the microcluster-node charm: config, statuses, arguments.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use charm::{Event, Status, StatusKind};
use charm_testing::{Harness, Relation, State};
use microcluster_node::{CONFIG, METADATA, Options, charm_with};
use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;
use token_distributor::{CommandOutput, CommandRunner, PendingWait};

/// A scripted CLI: one voter `n0` after bootstrap, tokens `T-<node>`.
#[derive(Default)]
struct Script {
    calls: RefCell<Vec<Vec<String>>>,
    members: RefCell<Vec<String>>,
}

struct Runner(Rc<Script>);

impl CommandRunner for Runner {
    fn run(&self, argv: &[String]) -> std::io::Result<CommandOutput> {
        self.0.calls.borrow_mut().push(argv.to_vec());
        let sub = argv
            .iter()
            .position(|a| ["bootstrap", "add", "join", "list", "remove"].contains(&a.as_str()));
        let sub = sub.map(|i| argv[i].as_str()).unwrap_or("");
        Ok(match sub {
            "bootstrap" => {
                self.0.members.borrow_mut().push("n0".into());
                CommandOutput::ok("")
            }
            "join" => {
                self.0.members.borrow_mut().push("n1".into());
                CommandOutput::ok("")
            }
            "add" => CommandOutput::ok(format!("T-{}\n", argv.last().unwrap())),
            "list" => {
                let rows: Vec<String> = self
                    .0
                    .members
                    .borrow()
                    .iter()
                    .map(|n| format!(r#"{{"name": "{n}", "address": "10.1.0.1:6443", "role": "voter", "status": "ONLINE"}}"#))
                    .collect();
                CommandOutput::ok(format!("[{}]", rows.join(", ")))
            }
            _ => CommandOutput::ok(""),
        })
    }
}

fn node(name: &'static str, unit: u32) -> (Harness, Rc<Script>) {
    let script = Rc::new(Script::default());
    let options = Options {
        runner: Some(Rc::new(Runner(script.clone()))),
        hostname: Some(Rc::new(move || Ok(name.to_string()))),
        wait: Some(PendingWait {
            attempts: 2,
            interval: Duration::ZERO,
        }),
    };
    let harness = Harness::new(charm_with(options), METADATA)
        .config_yaml(CONFIG)
        .unit(unit);
    (harness, script)
}

fn distributor(pairs: &[(&str, &str)]) -> Relation {
    Relation::new("cluster", 2, "microcluster-token-distributor")
        .remote_unit(0, pairs.iter().copied())
}

#[test]
fn without_a_command_it_is_blocked() {
    let (harness, _) = node("n0", 0);
    let out = harness.run(Event::Install, State::default().leader(true));
    assert!(out.ok());
    assert_eq!(
        out.state.unit_status,
        Some(Status::blocked("set cluster-command"))
    );
    let out = harness.run(
        Event::ConfigChanged,
        State::default().config("cluster-command", "   "),
    );
    assert_eq!(
        out.state.unit_status,
        Some(Status::blocked("set cluster-command"))
    );
}

#[test]
fn with_a_command_and_no_relation_it_waits_for_the_distributor() {
    let (harness, _) = node("n0", 0);
    let out = harness.run(
        Event::ConfigChanged,
        State::default().config("cluster-command", "microovn cluster"),
    );
    assert_eq!(
        out.state.unit_status,
        Some(Status::maintenance("Waiting for token distrbutor relation"))
    );
}

#[test]
fn the_leader_bootstraps_with_the_configured_command_and_arguments() {
    let (harness, script) = node("n0", 0);
    let rel = distributor(&[
        ("mirror", "up"),
        ("mirror-n0", "empty"),
        ("mirror-n1", "empty"),
    ]);
    let state = State::default()
        .leader(true)
        .config("cluster-command", "microovn  cluster")
        .config("bootstrap-args", "--config  ovn.x=1")
        .relation(rel);
    let out = harness.run(state.rel(2).unwrap().changed(Some(0)), state.clone());
    assert!(out.ok(), "{:?}", out.error());
    let calls = script.calls.borrow().clone();
    assert_eq!(
        calls[0],
        ["microovn", "cluster", "bootstrap", "--config", "ovn.x=1"]
    );
    assert_eq!(calls[1], ["microovn", "cluster", "list", "-f", "json"]);
    assert_eq!(calls[2], ["microovn", "cluster", "add", "n1"]);
    assert_eq!(
        out.state.unit_status,
        Some(Status::active("Cluster bootstrapped"))
    );
    let mine = &out.state.rel(2).unwrap().local_unit_data;
    assert_eq!(mine["hostname"], "n0");
    assert_eq!(mine["mirror"], "up");
    assert_eq!(mine["mirror-n1"], "T-n1");
}

#[test]
fn a_unit_joins_with_the_configured_arguments() {
    let (harness, script) = node("n1", 1);
    script.members.borrow_mut().push("n0".into());
    let rel = distributor(&[("mirror", "up"), ("mirror-n1", "T-n1")]);
    let state = State::default()
        .config("cluster-command", "microovn cluster")
        .config("join-args", "--wait")
        .relation(rel);
    let out = harness.run(state.rel(2).unwrap().changed(Some(0)), state.clone());
    assert!(out.ok());
    assert_eq!(
        script.calls.borrow()[0],
        ["microovn", "cluster", "join", "T-n1", "--wait"]
    );
    assert_eq!(
        out.state.unit_status,
        Some(Status::active("Joined cluster"))
    );
    // The token is a credential: never in a log line at INFO or above.
    assert!(
        !out.logs
            .iter()
            .any(|(l, line)| *l >= charm::LogLevel::Info && line.contains("T-n1"))
    );
}

#[test]
fn setting_the_command_later_resumes_the_work() {
    let (harness, script) = node("n0", 0);
    let rel = distributor(&[("mirror", "up")]);
    let out = harness.run(
        rel.changed(Some(0)),
        State::default().leader(true).relation(rel),
    );
    assert!(out.ok());
    assert_eq!(
        out.state.unit_status,
        Some(Status::blocked("set cluster-command"))
    );
    assert!(script.calls.borrow().is_empty());
    assert_eq!(out.state.deferred.len(), 1);
    let state = out.state.config("cluster-command", "microovn cluster");
    let out = harness.run(Event::ConfigChanged, state);
    assert!(out.ok());
    assert_eq!(
        out.state.unit_status,
        Some(Status::active("Cluster bootstrapped"))
    );
    assert!(out.state.deferred.is_empty());
}

#[test]
fn a_config_of_the_wrong_type_is_a_status_not_a_crash() {
    let (harness, _) = node("n0", 0);
    let out = harness.run(
        Event::ConfigChanged,
        State::default().config("cluster-command", 5),
    );
    assert!(out.ok());
    let status = out.state.unit_status.unwrap();
    assert_eq!(status.kind, StatusKind::Blocked);
    assert!(status.message.contains("cluster-command"), "{status}");
}

#[test]
fn removing_a_member_unit_leaves_the_cluster() {
    let (harness, script) = node("n1", 1);
    let state = State::default()
        .config("cluster-command", "microovn cluster")
        .stored(
            "token_distributor.consumer:cluster",
            serde_json::json!({"in_cluster": true}),
        );
    let out = harness.run(Event::Remove, state);
    assert!(out.ok());
    assert_eq!(
        script.calls.borrow()[0],
        ["microovn", "cluster", "remove", "n1"]
    );
}

#[test]
fn the_pending_wait_comes_from_config_and_is_checked() {
    // No test override: the wait comes from config.
    let script = Rc::new(Script::default());
    script.members.borrow_mut().push("n0".into());
    let options = Options {
        runner: Some(Rc::new(Runner(script.clone()))),
        hostname: Some(Rc::new(|| Ok("n0".to_string()))),
        wait: None,
    };
    let harness = Harness::new(charm_with(options), METADATA).config_yaml(CONFIG);
    let rel = distributor(&[("mirror", "up")]).local_unit_data([("hostname", "n0")]);
    let base = State::default()
        .config("cluster-command", "mc")
        .relation(rel.clone())
        .stored(
            "token_distributor.consumer:cluster",
            serde_json::json!({"in_cluster": true, "bootstrapper": true}),
        );
    let out = harness.run(
        rel.changed(Some(0)),
        base.clone()
            .config("pending-wait-attempts", 2)
            .config("pending-wait-interval", 0.0),
    );
    assert!(out.ok());
    assert_eq!(
        out.state.unit_status,
        Some(Status::active("Cluster bootstrapped"))
    );
    for (key, value, needle) in [
        (
            "pending-wait-attempts",
            serde_json::json!(0),
            "pending-wait-attempts",
        ),
        (
            "pending-wait-attempts",
            serde_json::json!(100000),
            "pending-wait-attempts",
        ),
        (
            "pending-wait-interval",
            serde_json::json!(-1.0),
            "pending-wait-interval",
        ),
    ] {
        let out = harness.run(rel.changed(Some(0)), base.clone().config(key, value));
        assert!(out.ok());
        let status = out.state.unit_status.unwrap();
        assert_eq!(status.kind, StatusKind::Blocked);
        assert!(status.message.contains(needle), "{status}");
        assert_eq!(out.state.deferred.len(), 1, "retried once config is fixed");
    }
}

#[test]
fn the_cluster_members_action_lists_what_the_cli_prints() {
    let (harness, script) = node("n0", 0);
    script
        .members
        .borrow_mut()
        .extend(["n2".to_string(), "n0".to_string()]);
    let state = State::default().config("cluster-command", "microovn cluster");
    let out = harness.run_action("cluster-members", serde_json::json!({}), state);
    assert!(out.ok(), "{:?}", out.error());
    assert_eq!(out.action.failed, None);
    let r = &out.action.results;
    assert_eq!(r["members"], "n0,n2");
    assert_eq!(r["count"], "2");
    assert_eq!(r["roles"], "n0=voter,n2=voter");
    assert_eq!(r["communicator"], "n0");
    assert_eq!(
        script.calls.borrow().clone(),
        [["microovn", "cluster", "list", "-f", "json"]]
    );
    // One DEBUG line for the one CLI call.
    let cli_lines: Vec<&(charm::LogLevel, String)> = out
        .logs
        .iter()
        .filter(|(_, l)| l.starts_with("cluster CLI: "))
        .collect();
    assert_eq!(cli_lines.len(), 1, "{:?}", out.logs);
    assert_eq!(cli_lines[0].0, charm::LogLevel::Debug);
    assert!(
        cli_lines[0]
            .1
            .starts_with("cluster CLI: microovn cluster list -f json -> exit 0 ("),
        "{:?}",
        cli_lines[0]
    );
}

#[test]
fn the_cluster_members_action_fails_with_the_problem() {
    let (harness, script) = node("n0", 0);
    let out = harness.run_action("cluster-members", serde_json::json!({}), State::default());
    assert_eq!(out.action.failed.as_deref(), Some("set cluster-command"));
    assert!(script.calls.borrow().is_empty());
    // The CLI prints garbage.
    let garbage = |_: &[String]| -> std::io::Result<CommandOutput> {
        Ok(CommandOutput::ok("Error: not ready"))
    };
    let options = Options {
        runner: Some(Rc::new(garbage)),
        ..Options::default()
    };
    let harness = Harness::new(charm_with(options), METADATA).config_yaml(CONFIG);
    let out = harness.run_action(
        "cluster-members",
        serde_json::json!({}),
        State::default().config("cluster-command", "microovn cluster"),
    );
    let failed = out.action.failed.unwrap_or_default();
    assert!(
        failed.starts_with("cluster list: `list` printed unexpected output: not JSON"),
        "{failed}"
    );
    assert!(out.action.results.is_empty());
    // An action's problem is reported to its caller, not as the unit's status.
    assert_eq!(
        out.state.unit_status,
        Some(Status::maintenance("Waiting for token distrbutor relation"))
    );
}
