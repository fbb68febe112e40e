//! Rust consumer against Rust provider, through harnesses with bags shuttled between them
//! and one fake microcluster: the main flows of the interface.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use charm::Status;
use common::Sim;

const DIST: &str = "microcluster-token-distributor";

fn formed(nodes: u32) -> (Sim, u32) {
    let mut sim = Sim::new(2);
    sim.deploy_distributor(DIST, 1);
    sim.deploy_nodes("microovn", nodes);
    sim.settle();
    let id = sim.relate(DIST, "microovn");
    sim.settle();
    (sim, id)
}

#[test]
fn one_distributor_and_three_consumers_form_one_cluster() {
    let (sim, id) = formed(3);
    sim.assert_clean();
    let cluster = sim.cluster.borrow().clone();
    assert_eq!(cluster.names(), ["microovn-0", "microovn-1", "microovn-2"]);
    assert_eq!(cluster.count("bootstrap"), 1);
    assert!(cluster.tokens.is_empty(), "every token was used");
    assert_eq!(
        sim.status("microovn/0"),
        Status::active("Cluster bootstrapped")
    );
    assert_eq!(sim.status("microovn/1"), Status::active("Joined cluster"));
    assert_eq!(sim.status("microovn/2"), Status::active("Joined cluster"));
    assert_eq!(
        sim.status(&format!("{DIST}/0")),
        Status::active("mirroring 3 nodes, 2 tokens")
    );
    // What crossed the relation.
    let dist = sim.bag(&format!("{DIST}/0"), id);
    assert_eq!(dist["mirror"], "up");
    assert_eq!(dist["mirror-microovn-0"], "empty");
    assert!(dist["mirror-microovn-1"].len() > 40);
    assert_eq!(sim.app_bag(DIST, id)["bootstrap-app"], "microovn");
    let leader = sim.bag("microovn/0", id);
    assert_eq!(leader["hostname"], "microovn-0");
    assert_eq!(leader["mirror"], "up");
    assert_eq!(leader["mirror-microovn-1"], dist["mirror-microovn-1"]);
    let follower = sim.bag("microovn/1", id);
    assert_eq!(follower.keys().collect::<Vec<_>>(), ["hostname"]);
    // The events.
    assert_eq!(
        sim.events("token_distributor.cluster_bootstrapped").len(),
        1
    );
    let joined = sim.events("token_distributor.cluster_joined");
    assert_eq!(joined.len(), 3);
    assert!(joined.contains(&(
        "microovn/0".into(),
        serde_json::json!({"bootstrapper": true})
    )));
    assert!(joined.contains(&(
        "microovn/2".into(),
        serde_json::json!({"bootstrapper": false})
    )));
    let minted: Vec<String> = sim
        .events("token_distributor.token_generated")
        .into_iter()
        .map(|(u, d)| format!("{u} {}", d["node"].as_str().unwrap()))
        .collect();
    assert_eq!(minted, ["microovn/0 microovn-1", "microovn/0 microovn-2"]);
    println!("hooks run to form the cluster: {}", sim.hooks);
    // Hook-tool calls per (charm, hook), for the benchmark notes (`--nocapture` shows them).
    let mut per: std::collections::BTreeMap<(String, String), Vec<usize>> = Default::default();
    for (unit, hook, calls) in &sim.transcript {
        let charm = if unit.starts_with(DIST) {
            "distributor"
        } else {
            "node"
        };
        per.entry((charm.to_string(), hook.clone()))
            .or_default()
            .push(*calls);
    }
    for ((charm, hook), calls) in &per {
        println!(
            "{charm:12} {hook:40} runs {:2} hook-tool calls {:?}",
            calls.len(),
            calls
        );
    }
    let info = sim
        .logs
        .iter()
        .filter(|(_, l, _)| *l >= charm::LogLevel::Info)
        .count();
    println!("log lines at INFO or above (juju-log calls in production): {info}");
    let cluster = sim.cluster.borrow();
    for sub in ["bootstrap", "add", "join", "list", "remove"] {
        println!("CLI {sub}: {}", cluster.count(sub));
    }
}

#[test]
fn the_distributor_leader_changes() {
    let mut sim = Sim::new(2);
    sim.deploy_distributor(DIST, 2);
    sim.deploy_nodes("microovn", 2);
    let id = sim.relate(DIST, "microovn");
    sim.settle();
    sim.assert_clean();
    assert_eq!(sim.bag(&format!("{DIST}/1"), id).get("mirror"), None);
    sim.elect(&format!("{DIST}/1"));
    sim.settle();
    let new = sim.bag(&format!("{DIST}/1"), id);
    assert_eq!(new["mirror"], "up");
    assert_eq!(
        new["mirror-microovn-1"],
        sim.bag(&format!("{DIST}/0"), id)["mirror-microovn-1"]
    );
    // A new consumer unit: the old leader stands down, the new one mirrors its placeholder,
    // the communicator mints its token, it joins.
    let added = sim.add_unit("microovn");
    sim.settle();
    sim.assert_clean();
    assert_eq!(sim.bag(&format!("{DIST}/0"), id)["mirror"], "down");
    assert_eq!(sim.status(&added), Status::active("Joined cluster"));
    assert_eq!(
        sim.cluster.borrow().names(),
        ["microovn-0", "microovn-1", "microovn-2"]
    );
    assert_eq!(
        sim.status(&format!("{DIST}/0")),
        Status::active("standby mirror")
    );
    assert_eq!(
        sim.status(&format!("{DIST}/1")),
        Status::active("mirroring 3 nodes, 2 tokens")
    );
}

#[test]
fn a_consumer_unit_is_removed_and_another_added() {
    let (mut sim, id) = formed(3);
    sim.remove_unit("microovn/2");
    sim.settle();
    sim.assert_clean();
    let cluster = sim.cluster.borrow().clone();
    assert_eq!(cluster.names(), ["microovn-0", "microovn-1"]);
    assert!(
        cluster
            .calls
            .iter()
            .any(|c| c.node == "microovn-2" && c.subcommand == "remove" && c.code == 0)
    );
    // As in Python, the mirror keeps what it once saw.
    assert!(
        sim.bag(&format!("{DIST}/0"), id)
            .contains_key("mirror-microovn-2")
    );
    let added = sim.add_unit("microovn");
    sim.settle();
    sim.assert_clean();
    assert_eq!(added, "microovn/3");
    assert_eq!(sim.status(&added), Status::active("Joined cluster"));
    assert_eq!(
        sim.cluster.borrow().names(),
        ["microovn-0", "microovn-1", "microovn-3"]
    );
}

#[test]
fn two_consumer_apps_on_one_distributor_share_one_cluster() {
    let mut sim = Sim::new(2);
    sim.deploy_distributor(DIST, 1);
    sim.deploy_nodes("microovn", 2);
    sim.deploy_nodes("ovn-agents", 2);
    sim.settle();
    let a = sim.relate(DIST, "microovn");
    let b = sim.relate(DIST, "ovn-agents");
    sim.settle();
    sim.assert_clean();
    // Only the named app bootstraps (LIBPATCH 2 consumers would bootstrap one cluster each).
    assert_eq!(sim.app_bag(DIST, a)["bootstrap-app"], "microovn");
    assert_eq!(sim.app_bag(DIST, b)["bootstrap-app"], "microovn");
    let cluster = sim.cluster.borrow().clone();
    assert_eq!(cluster.count("bootstrap"), 1);
    assert_eq!(
        cluster.names(),
        ["microovn-0", "microovn-1", "ovn-agents-0", "ovn-agents-1"]
    );
    assert_eq!(sim.status("ovn-agents/0"), Status::active("Joined cluster"));
    // Both relations carry the same merged mirror.
    assert_eq!(
        sim.bag(&format!("{DIST}/0"), a),
        sim.bag(&format!("{DIST}/0"), b)
    );
    assert_eq!(
        sim.status(&format!("{DIST}/0")),
        Status::active("mirroring 4 nodes, 3 tokens")
    );
}

#[test]
fn a_join_that_fails_once_then_succeeds() {
    let mut sim = Sim::new(2);
    sim.cluster.borrow_mut().fail.insert("join".into(), 1);
    sim.deploy_distributor(DIST, 1);
    sim.deploy_nodes("microovn", 3);
    sim.relate(DIST, "microovn");
    sim.settle();
    sim.assert_clean();
    let cluster = sim.cluster.borrow().clone();
    let joins: Vec<i32> = cluster
        .calls
        .iter()
        .filter(|c| c.subcommand == "join")
        .map(|c| c.code)
        .collect();
    assert_eq!(joins.iter().filter(|c| **c == 1).count(), 1, "{joins:?}");
    assert_eq!(joins.iter().filter(|c| **c == 0).count(), 2, "{joins:?}");
    assert_eq!(cluster.names().len(), 3);
    for u in ["microovn/1", "microovn/2"] {
        assert_eq!(sim.status(u), Status::active("Joined cluster"));
        assert!(sim.unit(u).state.deferred.is_empty());
    }
    // The failed attempt was visible: PreJoin was emitted once per attempt sequence, Joined once.
    assert_eq!(sim.events("token_distributor.cluster_joined").len(), 3);
}

#[test]
fn the_fake_binary_serves_a_whole_flow() {
    let dir = interface_tests_common::temp_dir("token-distributor-binary-flow");
    let state = dir.join("cluster.json");
    let mut sim = Sim::new(2);
    sim.binary = Some((
        std::path::PathBuf::from(env!("CARGO_BIN_EXE_fake-microcluster")),
        state.clone(),
    ));
    sim.deploy_distributor(DIST, 1);
    sim.deploy_nodes("microovn", 3);
    sim.relate(DIST, "microovn");
    sim.settle();
    sim.assert_clean();
    let cluster = token_distributor_contract::load(&state).unwrap();
    assert_eq!(cluster.names(), ["microovn-0", "microovn-1", "microovn-2"]);
    assert_eq!(sim.status("microovn/2"), Status::active("Joined cluster"));
}
