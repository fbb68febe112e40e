//! Bad input at the level of whole flows: garbage from the CLI, a member stuck PENDING, and the
//! fake binary itself under concurrency and misuse.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use charm::{Status, StatusKind};
use common::Sim;
use std::process::Command;
use token_distributor_contract::{FakeCluster, NODE_ENV, STATE_ENV, load};

const DIST: &str = "microcluster-token-distributor";

fn formed() -> (Sim, u32) {
    let mut sim = Sim::new(2);
    sim.deploy_distributor(DIST, 1);
    sim.deploy_nodes("microovn", 3);
    let id = sim.relate(DIST, "microovn");
    sim.settle();
    sim.assert_clean();
    (sim, id)
}

#[test]
fn garbage_from_list_blocks_then_recovers() {
    for garbage in [
        "Error: dqlite is not ready",
        r#"[{"name": "microovn-0", "status": "ONLINE"}]"#,
        r#"[{"name": "microovn-0", "role": "leader", "status": "ONLINE"}]"#,
    ] {
        let (mut sim, id) = formed();
        sim.cluster
            .borrow_mut()
            .garbage
            .insert("list".into(), garbage.into());
        let event = sim
            .unit("microovn/0")
            .state
            .rel(id)
            .unwrap()
            .changed(Some(0));
        sim.run("microovn/0", event);
        let status = sim.status("microovn/0");
        assert_eq!(status.kind, StatusKind::Blocked, "{garbage}");
        assert!(status.message.starts_with("cluster list:"), "{status}");
        assert_eq!(sim.unit("microovn/0").state.deferred.len(), 1);
        // The garbage was one-off: the deferred event goes through at the next hook.
        sim.settle();
        sim.assert_clean();
        assert_eq!(
            sim.status("microovn/0"),
            Status::active("Cluster bootstrapped")
        );
    }
}

#[test]
fn a_member_stuck_pending_never_hangs_a_hook() {
    let mut sim = Sim::new(1_000_000);
    sim.deploy_distributor(DIST, 1);
    sim.deploy_nodes("microovn", 3);
    sim.relate(DIST, "microovn");
    sim.settle_with(3);
    sim.assert_clean();
    // Everyone joined, but the joined members stay PENDING: every unit waits, bounded.
    assert_eq!(sim.cluster.borrow().names().len(), 3);
    for u in ["microovn/0", "microovn/1", "microovn/2"] {
        assert_eq!(
            sim.status(u),
            Status::waiting("Waiting on pending nodes"),
            "{u}"
        );
        assert_eq!(sim.unit(u).state.deferred.len(), 1, "{u}");
    }
    // At most `attempts` list calls per hook.
    let lists = sim.cluster.borrow().count("list");
    assert!(lists <= sim.hooks * sim.wait.attempts as usize, "{lists}");
    // The members finish joining: the next round clears the waits.
    for m in &mut sim.cluster.borrow_mut().members {
        if m.role == "PENDING" {
            m.pending_lists = 0;
        }
    }
    sim.settle();
    for u in ["microovn/1", "microovn/2"] {
        assert_eq!(sim.status(u), Status::active("Joined cluster"), "{u}");
    }
}

fn binary() -> std::path::PathBuf {
    std::path::PathBuf::from(env!("CARGO_BIN_EXE_fake-microcluster"))
}

fn fake(state: &std::path::Path, node: &str, args: &[&str]) -> std::process::Output {
    Command::new(binary())
        .args(args)
        .env(STATE_ENV, state)
        .env(NODE_ENV, node)
        .output()
        .unwrap()
}

#[test]
fn concurrent_invocations_of_the_binary_lose_nothing() {
    let dir = interface_tests_common::temp_dir("token-distributor-concurrency");
    let state = dir.join("cluster.json");
    assert!(fake(&state, "n0", &["bootstrap"]).status.success());
    let handles: Vec<_> = (1..=12)
        .map(|i| {
            let state = state.clone();
            std::thread::spawn(move || fake(&state, "n0", &["add", &format!("n{i}")]))
        })
        .collect();
    let outputs: Vec<_> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    assert!(outputs.iter().all(|o| o.status.success()));
    let cluster: FakeCluster = load(&state).unwrap();
    assert_eq!(cluster.tokens.len(), 12, "no lost update");
    assert_eq!(cluster.calls.len(), 13);
    let mut printed: Vec<String> = outputs
        .iter()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .collect();
    printed.sort();
    printed.dedup();
    assert_eq!(printed.len(), 12, "tokens are unique");
    // The list output is the real microcluster shape and parses.
    let list = fake(&state, "n0", &["cluster", "list", "-f", "json"]);
    let members =
        token_distributor::Members::parse(&String::from_utf8_lossy(&list.stdout)).unwrap();
    assert_eq!(members.communicator(), Some("n0"));
    let raw: serde_json::Value = serde_json::from_slice(&list.stdout).unwrap();
    for key in ["name", "address", "role", "fingerprint", "status"] {
        assert!(raw[0].get(key).is_some(), "{key}");
    }
}

#[test]
fn the_binary_refuses_bad_setups_with_messages() {
    let out = Command::new(binary())
        .arg("list")
        .env_remove(STATE_ENV)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains(STATE_ENV));
    let dir = interface_tests_common::temp_dir("token-distributor-bad-state");
    let state = dir.join("cluster.json");
    std::fs::write(&state, "{not json").unwrap();
    let out = fake(&state, "n0", &["bootstrap"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not a fake cluster state"));
    let out = fake(&dir.join("fresh.json"), "-bad", &["bootstrap"]);
    assert_eq!(out.status.code(), Some(2));
    let out = fake(&dir.join("fresh.json"), "n0", &["dance"]);
    assert_eq!(out.status.code(), Some(2));
}
