//! The two charms through the local Juju model: the real `dispatch` binaries, the real hook-tool
//! protocol, and the `fake-microcluster` binary as the cluster CLI, one state file per model.
//!
//! Every consumer unit is its own node: `MICROCLUSTER_NODE_NAME=node-{n}` and
//! `FAKE_MICROCLUSTER_STATE={model}/cluster.json` come from the deploy environment. The node
//! charm logs one DEBUG line per CLI call (`cluster CLI: ...`), which is how these tests count the
//! calls each hook made; the total is checked against the fake's own record of calls.
//!
//! The `worker-cluster-probe` binary (a charm of this crate, metadata in `probe/`) plays a
//! misbehaving distributor or consumer: it publishes whatever its config says. The
//! `worker-cluster-legacy` binary (metadata in `legacy/`) plays the upstream Python peer of the
//! LIBPATCH in its config, for the old/new matrix at the end of this file.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use interface_tests_common::{
    assert_never_an_option, charm_dir, juju_local, run_story, temp_dir, workspace_root,
};
use juju_local::state::HookSpec;
use juju_local::timeline::Change;
use juju_local::timeline::HookRecord;
use juju_local::{DeployOptions, Model, ModelOptions};
use std::path::{Path, PathBuf};
use std::time::Duration;
use token_distributor_contract::{FakeCluster, load, save};

const NODE: &str = "microcluster-node";
const DIST: &str = "microcluster-token-distributor";
const PROBE: &str = "worker-cluster-probe";
/// The charm that plays an upstream Python peer of a given LIBPATCH (`src/legacy.rs`).
const LEGACY: &str = "worker-cluster-legacy";
/// `list` calls at most per hook while members are PENDING (config of every node app).
const ATTEMPTS: usize = 3;
/// Seconds between them.
const INTERVAL: f64 = 0.02;

/// One local model with the charms, the fake CLI on the charms' PATH and the fake's state file.
struct Lab {
    model: Model,
    charms: PathBuf,
    base: PathBuf,
}

impl Drop for Lab {
    /// A passing test leaves nothing behind; a failing one keeps the model for inspection.
    fn drop(&mut self) {
        if !std::thread::panicking() {
            let _ = std::fs::remove_dir_all(&self.base);
        }
    }
}

fn s(v: &str) -> String {
    v.to_string()
}

impl Lab {
    fn new(name: &str) -> Lab {
        let base = temp_dir(&format!("td-local-{name}"));
        let charms = base.join("charms");
        charm_dir(NODE, &charms);
        charm_dir(DIST, &charms);
        let probe = charms.join(PROBE);
        std::fs::create_dir_all(&probe).unwrap();
        let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("probe");
        for f in ["metadata.yaml", "config.yaml"] {
            std::fs::copy(src.join(f), probe.join(f)).unwrap();
        }
        std::fs::copy(
            env!("CARGO_BIN_EXE_worker-cluster-probe"),
            probe.join("dispatch"),
        )
        .unwrap();
        let legacy = charms.join(LEGACY);
        std::fs::create_dir_all(&legacy).unwrap();
        let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("legacy");
        for f in ["metadata.yaml", "config.yaml"] {
            std::fs::copy(src.join(f), legacy.join(f)).unwrap();
        }
        std::fs::copy(
            env!("CARGO_BIN_EXE_worker-cluster-legacy"),
            legacy.join("dispatch"),
        )
        .unwrap();
        let mut opts = ModelOptions::new(juju_local());
        // `cluster-command: fake-microcluster cluster` finds the double by name, as in the story.
        let fake_dir = Path::new(env!("CARGO_BIN_EXE_fake-microcluster"))
            .parent()
            .unwrap()
            .to_path_buf();
        opts.env.insert(
            s("PATH"),
            format!(
                "{}:{}",
                fake_dir.display(),
                std::env::var("PATH").unwrap_or_default()
            ),
        );
        opts.hook_timeout = Some(Duration::from_secs(20));
        let model = Model::init(base.join("model"), opts).unwrap();
        Lab {
            model,
            charms,
            base,
        }
    }

    fn state_file(&self) -> PathBuf {
        self.model.dir().join("cluster.json")
    }

    /// A consumer application whose unit `n` is node `<prefix>-<n>`.
    fn nodes(&self, app: &str, units: u32, node_prefix: &str) {
        self.model
            .deploy(
                &self.charms.join(NODE),
                DeployOptions {
                    app: Some(s(app)),
                    units: Some(units),
                    config: vec![
                        (s("cluster-command"), s("fake-microcluster cluster")),
                        (s("pending-wait-attempts"), ATTEMPTS.to_string()),
                        (s("pending-wait-interval"), INTERVAL.to_string()),
                    ],
                    env: vec![
                        (s("MICROCLUSTER_NODE_NAME"), format!("{node_prefix}-{{n}}")),
                        (s("FAKE_MICROCLUSTER_STATE"), s("{model}/cluster.json")),
                    ],
                    ..Default::default()
                },
            )
            .unwrap();
    }

    fn distributor(&self, units: u32) {
        self.model
            .deploy(
                &self.charms.join(DIST),
                DeployOptions {
                    app: Some(s("distributor")),
                    units: Some(units),
                    ..Default::default()
                },
            )
            .unwrap();
    }

    fn probe(&self, app: &str, units: u32, unit_data: serde_json::Value) {
        self.model
            .deploy(
                &self.charms.join(PROBE),
                DeployOptions {
                    app: Some(s(app)),
                    units: Some(units),
                    config: vec![(s("unit-data"), unit_data.to_string())],
                    ..Default::default()
                },
            )
            .unwrap();
    }

    /// An application behaving as the upstream Python library of `libpatch`: a distributor
    /// when related on `microcluster-cluster`, a consumer (unit `n` is node `<prefix>-<n>`) on
    /// `cluster`.
    fn legacy(&self, app: &str, units: u32, libpatch: u8, node_prefix: &str) {
        self.model
            .deploy(
                &self.charms.join(LEGACY),
                DeployOptions {
                    app: Some(s(app)),
                    units: Some(units),
                    config: vec![(s("libpatch"), libpatch.to_string())],
                    env: vec![
                        (s("MICROCLUSTER_NODE_NAME"), format!("{node_prefix}-{{n}}")),
                        (s("FAKE_MICROCLUSTER_STATE"), s("{model}/cluster.json")),
                    ],
                    ..DeployOptions::default()
                },
            )
            .unwrap();
    }

    /// Runs hooks until the model settles; every hook must succeed.
    fn settle(&self) {
        let report = self.model.settle(800).unwrap();
        assert!(report.errors.is_empty(), "{:?}", report.errors);
    }

    fn fake(&self) -> FakeCluster {
        load(&self.state_file()).unwrap()
    }

    /// Changes the fake cluster between hooks (fault injection).
    fn edit_fake(&self, f: impl FnOnce(&mut FakeCluster)) {
        let mut cluster = self.fake();
        f(&mut cluster);
        save(&self.state_file(), &cluster).unwrap();
    }

    fn status(&self, unit: &str) -> (String, String) {
        let st = self.model.state().unwrap();
        let u = st.unit(unit).unwrap_or_else(|| panic!("no unit {unit}"));
        (u.status.status.clone(), u.status.message.clone())
    }

    fn bag(&self, relation: u64, owner: &str) -> std::collections::BTreeMap<String, String> {
        self.model
            .state()
            .unwrap()
            .bag(relation, owner)
            .unwrap_or_default()
    }

    fn timeline(&self) -> Vec<HookRecord> {
        self.model.timeline().unwrap()
    }

    /// `relation-changed` on `unit` as if `remote` had written (a hook the agent would run).
    fn changed(&self, unit: &str, endpoint: &str, relation: u64, remote: &str) -> HookRecord {
        let spec = HookSpec {
            relation: Some(relation),
            remote_unit: Some(s(remote)),
            ..HookSpec::simple(&format!("{endpoint}-relation-changed"))
        };
        let record = self.model.run_hook(unit, spec).unwrap();
        assert_eq!(record.outcome, "ok", "{record:?}");
        record
    }

    fn update_status(&self, unit: &str) -> HookRecord {
        let record = self
            .model
            .run_hook(unit, HookSpec::simple("update-status"))
            .unwrap();
        assert_eq!(record.outcome, "ok", "{record:?}");
        record
    }

    /// Fails if a token the fake minted (or one of `extra`) appears in a log line, a status, a
    /// library event, a hook's output or a hook tool's arguments; and if the DEBUG lines do not
    /// account for every CLI call.
    fn assert_no_token_leaks(&self, extra: &[&str]) {
        self.assert_no_token_leaks_in(extra, "");
    }

    /// [`Lab::assert_no_token_leaks`] for the units whose name starts with `units` (`""`: all);
    /// with a filter, the CLI calls are not counted (upstream peers log none, and publish their
    /// tokens through `relation-set` arguments as Python does).
    fn assert_no_token_leaks_in(&self, extra: &[&str], units: &str) {
        let records: Vec<HookRecord> = self
            .timeline()
            .into_iter()
            .filter(|r| r.unit.starts_with(units))
            .collect();
        let mut secrets: Vec<String> = if self.state_file().exists() {
            self.fake().minted
        } else {
            Vec::new()
        };
        secrets.extend(extra.iter().map(|t| t.to_string()));
        let check = |what: &str, text: &str, r: &HookRecord| {
            for t in &secrets {
                assert!(
                    !text.contains(t.as_str()),
                    "a token in {what} of {} {}: {text}",
                    r.unit,
                    r.hook.name
                );
            }
        };
        for r in &records {
            // Every level, DEBUG included: the CLI lines show a token as `<token>`.
            for (level, line) in &r.juju_log {
                check(&format!("a juju-log line at {level}"), line, r);
            }
            for c in &r.changes {
                if let Change::Status { status, .. } = c {
                    check("a status", &status.message, r);
                }
            }
            for e in &r.events {
                check("an event", &e.fields.to_string(), r);
            }
            for line in r.stdout.iter().chain(&r.stderr) {
                check("the output", line, r);
            }
            if let Some(e) = &r.error {
                check("the error", e, r);
            }
            for t in &r.tools {
                check(
                    &format!("the arguments of {}", t.tool),
                    &t.args.join(" "),
                    r,
                );
            }
        }
        let st = self.model.state().unwrap();
        for app in st.applications.values() {
            for u in app.units.values().filter(|u| u.name.starts_with(units)) {
                for t in &secrets {
                    assert!(!u.status.message.contains(t.as_str()), "{}", u.name);
                }
            }
        }
        // One DEBUG line per CLI call: the lines add up to what the fake recorded.
        if units.is_empty() && self.state_file().exists() {
            let lines: usize = records.iter().map(|r| cli_lines(r).len()).sum();
            assert_eq!(lines, self.fake().calls.len(), "DEBUG lines vs CLI calls");
        }
    }
}

/// The DEBUG lines of the CLI calls a hook made.
fn cli_lines(r: &HookRecord) -> Vec<&str> {
    r.juju_log
        .iter()
        .filter(|(level, line)| level == "DEBUG" && line.starts_with("cluster CLI: "))
        .map(|(_, line)| line.as_str())
        .collect()
}

/// How many `<sub>` calls a hook made.
fn cli_count(r: &HookRecord, sub: &str) -> usize {
    let needle = format!(" cluster {sub}");
    cli_lines(r).iter().filter(|l| l.contains(&needle)).count()
}

fn names(cluster: &FakeCluster) -> Vec<String> {
    cluster.names()
}

/// `(node, subcommand, exit)` of every CLI call, in order.
fn calls(cluster: &FakeCluster) -> Vec<(String, String, i32)> {
    cluster
        .calls
        .iter()
        .map(|c| (c.node.clone(), c.subcommand.clone(), c.code))
        .collect()
}

fn active(message: &str) -> (String, String) {
    (s("active"), s(message))
}

/// Units of `app` with a library event `name`, in timeline order.
fn emitted(records: &[HookRecord], name: &str) -> Vec<(String, serde_json::Value)> {
    records
        .iter()
        .flat_map(|r| {
            r.events
                .iter()
                .filter(move |e| e.event == name)
                .map(move |e| (r.unit.clone(), e.fields.clone()))
        })
        .collect()
}

/// A distributor and `nodes` nodes, related and settled.
fn formed(name: &str, nodes: u32) -> (Lab, u64) {
    let lab = Lab::new(name);
    lab.distributor(1);
    lab.nodes("microovn", nodes, "node");
    let rel = lab.model.relate("microovn:cluster", "distributor").unwrap();
    lab.settle();
    (lab, rel)
}

#[test]
fn three_nodes_form_one_cluster_then_a_removed_one_leaves_it() {
    let (lab, rel) = formed("three", 3);
    let cluster = lab.fake();
    assert_eq!(names(&cluster), ["node-0", "node-1", "node-2"]);
    assert!(cluster.tokens.is_empty(), "every token was used");
    let kinds = calls(&cluster);
    let of = |sub: &str| -> Vec<(String, i32)> {
        kinds
            .iter()
            .filter(|(_, k, _)| k == sub)
            .map(|(n, _, c)| (n.clone(), *c))
            .collect()
    };
    assert_eq!(of("bootstrap"), [(s("node-0"), 0)]);
    assert_eq!(of("add"), [(s("node-0"), 0), (s("node-0"), 0)]);
    let mut joins = of("join");
    joins.sort();
    assert_eq!(joins, [(s("node-1"), 0), (s("node-2"), 0)]);
    assert_eq!(lab.status("microovn/0"), active("Cluster bootstrapped"));
    assert_eq!(lab.status("microovn/1"), active("Joined cluster"));
    assert_eq!(lab.status("microovn/2"), active("Joined cluster"));
    assert_eq!(
        lab.status("distributor/0"),
        active("mirroring 3 nodes, 2 tokens")
    );
    // What crossed the relation.
    let mirror = lab.bag(rel, "distributor/0");
    assert_eq!(mirror["mirror"], "up");
    assert_eq!(mirror["mirror-node-0"], "empty");
    assert!(cluster.minted.contains(&mirror["mirror-node-1"]));
    assert!(cluster.minted.contains(&mirror["mirror-node-2"]));
    assert_eq!(lab.bag(rel, "distributor")["bootstrap-app"], "microovn");
    let communicator = lab.bag(rel, "microovn/0");
    assert_eq!(communicator["hostname"], "node-0");
    assert_eq!(communicator["mirror"], "up");
    assert_eq!(communicator["mirror-node-2"], mirror["mirror-node-2"]);
    let follower = lab.bag(rel, "microovn/2");
    assert_eq!(follower.get("hostname").map(String::as_str), Some("node-2"));
    assert!(!follower.contains_key("mirror"));
    // The library events, on the units that emitted them.
    let records = lab.timeline();
    assert_eq!(
        emitted(&records, "token_distributor.cluster_bootstrapped"),
        [(s("microovn/0"), serde_json::json!({}))]
    );
    let mut joined = emitted(&records, "token_distributor.cluster_joined");
    joined.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(
        joined,
        [
            (s("microovn/0"), serde_json::json!({"bootstrapper": true})),
            (s("microovn/1"), serde_json::json!({"bootstrapper": false})),
            (s("microovn/2"), serde_json::json!({"bootstrapper": false})),
        ]
    );
    let minted: Vec<(String, serde_json::Value)> =
        emitted(&records, "token_distributor.token_generated");
    assert_eq!(
        minted,
        [
            (s("microovn/0"), serde_json::json!({"node": "node-1"})),
            (s("microovn/0"), serde_json::json!({"node": "node-2"})),
        ]
    );
    // The distributor runs no CLI; no hook waited beyond the bound.
    for r in &records {
        if r.unit.starts_with("distributor/") {
            assert!(cli_lines(r).is_empty(), "{r:?}");
        }
        assert!(cli_count(r, "list") <= ATTEMPTS, "{}", r.hook.describe());
    }
    // The cluster as a node sees it, through the action.
    let out = lab
        .model
        .run_action("microovn/2", "cluster-members", &[])
        .unwrap();
    assert_eq!(out.status, "completed", "{out:?}");
    assert_eq!(out.results["members"], "node-0,node-1,node-2");
    assert_eq!(out.results["communicator"], "node-0");
    assert_eq!(out.results["count"], "3");

    // A unit is removed: its `remove` hook takes its node out of the cluster.
    let calls_before = lab.fake().calls.len();
    lab.model.remove_unit("microovn/2").unwrap();
    lab.settle();
    let cluster = lab.fake();
    assert_eq!(names(&cluster), ["node-0", "node-1"]);
    // Exactly one CLI call since: the departing node's `remove` of itself.
    assert_eq!(
        calls(&cluster)[calls_before..],
        [(s("node-2"), s("remove"), 0)]
    );
    let records = lab.timeline();
    let remove = records
        .iter()
        .rfind(|r| r.unit == "microovn/2" && r.hook.name == "remove")
        .unwrap();
    assert_eq!(cli_lines(remove).len(), 1);
    assert!(
        cli_lines(remove)[0]
            .starts_with("cluster CLI: fake-microcluster cluster remove node-2 -> exit 0"),
        "{:?}",
        cli_lines(remove)
    );
    let st = lab.model.state().unwrap();
    let units: Vec<&str> = st.applications["microovn"]
        .units
        .values()
        .map(|u| u.name.as_str())
        .collect();
    assert_eq!(units, ["microovn/0", "microovn/1"]);
    assert_eq!(lab.status("microovn/0"), active("Cluster bootstrapped"));
    assert_eq!(lab.status("microovn/1"), active("Joined cluster"));
    // As in Python, the mirror keeps what it once saw.
    assert!(lab.bag(rel, "distributor/0").contains_key("mirror-node-2"));
    let out = lab
        .model
        .run_action("microovn/1", "cluster-members", &[])
        .unwrap();
    assert_eq!(out.results["members"], "node-0,node-1");
    lab.assert_no_token_leaks(&[]);
}

#[test]
fn the_distributor_leader_changes_in_the_middle_of_the_formation() {
    let lab = Lab::new("leader-change");
    lab.distributor(3);
    lab.nodes("microovn", 3, "node");
    let rel = lab.model.relate("microovn", "distributor").unwrap();
    // One hook at a time until the cluster is bootstrapped but not complete.
    let mut steps = 0;
    loop {
        let settled = lab.model.settle(1).is_ok();
        assert!(!settled, "the formation ended before the leader change");
        steps += 1;
        assert!(steps < 400, "the cluster never got a first member");
        if lab.state_file().exists() && !lab.fake().members.is_empty() {
            break;
        }
    }
    let before = lab.fake();
    assert_eq!(names(&before), ["node-0"], "mid-formation");
    lab.model.set_leader("distributor/1").unwrap();
    lab.settle();
    let cluster = lab.fake();
    assert_eq!(names(&cluster), ["node-0", "node-1", "node-2"]);
    assert_eq!(cluster.count("bootstrap"), 1);
    assert_eq!(lab.status("microovn/1"), active("Joined cluster"));
    assert_eq!(lab.status("microovn/2"), active("Joined cluster"));
    // The new leader mirrors everything; the old one stood down; the third never mirrored.
    let new = lab.bag(rel, "distributor/1");
    assert_eq!(new["mirror"], "up");
    assert!(cluster.minted.contains(&new["mirror-node-1"]));
    assert!(cluster.minted.contains(&new["mirror-node-2"]));
    assert_eq!(lab.bag(rel, "distributor/0")["mirror"], "down");
    assert_ne!(
        lab.bag(rel, "distributor/2")
            .get("mirror")
            .map(String::as_str),
        Some("up")
    );
    assert_eq!(
        lab.status("distributor/1"),
        active("mirroring 3 nodes, 2 tokens")
    );
    assert_eq!(lab.status("distributor/0"), active("standby mirror"));
    assert_eq!(lab.status("distributor/2"), active("standby mirror"));
    lab.assert_no_token_leaks(&[]);
}

#[test]
fn two_consumer_apps_on_one_distributor_form_one_cluster() {
    let lab = Lab::new("two-apps");
    lab.distributor(1);
    lab.nodes("microovn", 2, "ovn");
    lab.nodes("agents", 2, "agent");
    let a = lab.model.relate("microovn", "distributor").unwrap();
    let b = lab.model.relate("agents", "distributor").unwrap();
    lab.settle();
    let cluster = lab.fake();
    assert_eq!(names(&cluster), ["agent-0", "agent-1", "ovn-0", "ovn-1"]);
    // One cluster: only the app named in bootstrap-app bootstrapped.
    assert_eq!(lab.bag(a, "distributor")["bootstrap-app"], "microovn");
    assert_eq!(lab.bag(b, "distributor")["bootstrap-app"], "microovn");
    let bootstraps: Vec<(String, String, i32)> = calls(&cluster)
        .into_iter()
        .filter(|(_, sub, _)| sub == "bootstrap")
        .collect();
    assert_eq!(bootstraps, [(s("ovn-0"), s("bootstrap"), 0)]);
    assert_eq!(lab.status("microovn/0"), active("Cluster bootstrapped"));
    for u in ["microovn/1", "agents/0", "agents/1"] {
        assert_eq!(lab.status(u), active("Joined cluster"), "{u}");
    }
    // Both relations carry the same merged mirror.
    assert_eq!(lab.bag(a, "distributor/0"), lab.bag(b, "distributor/0"));
    assert_eq!(
        lab.status("distributor/0"),
        active("mirroring 4 nodes, 3 tokens")
    );
    lab.assert_no_token_leaks(&[]);
}

#[test]
fn a_join_that_fails_once_succeeds_when_the_next_hook_retries_it() {
    let lab = Lab::new("join-fails");
    lab.distributor(1);
    lab.nodes("microovn", 3, "node");
    save(&lab.state_file(), &{
        let mut c = FakeCluster::default();
        c.fail.insert(s("join"), 1);
        c
    })
    .unwrap();
    let rel = lab.model.relate("microovn", "distributor").unwrap();
    lab.settle();
    let records = lab.timeline();
    let failed = records
        .iter()
        .position(|r| {
            cli_lines(r)
                .iter()
                .any(|l| l.contains(" join <token> -> exit 1"))
        })
        .expect("a join failed");
    let unit = records[failed].unit.clone();
    let node = format!("node-{}", unit.rsplit_once('/').unwrap().1);
    // The failed attempt: Blocked "Joining cluster failed", its join step deferred.
    assert!(
        records[failed].changes.iter().any(|c| matches!(c,
            Change::Status { entity, status } if *entity == unit
                && status.status == "blocked" && status.message == "Joining cluster failed")),
        "{:?}",
        records[failed].changes
    );
    // Settled: did the unit get another hook? Juju's update-status would come; send it.
    if lab.status(&unit) != active("Joined cluster") {
        lab.update_status(&unit);
    }
    let records = lab.timeline();
    let retry = records[failed + 1..]
        .iter()
        .find(|r| r.unit == unit)
        .expect("a next hook on the unit");
    assert_eq!(cli_count(retry, "join"), 1, "the deferred join re-ran");
    assert!(
        cli_lines(retry)
            .iter()
            .any(|l| l.contains(" join <token> -> exit 0")),
        "{:?}",
        cli_lines(retry)
    );
    assert!(
        retry
            .events
            .iter()
            .any(|e| e.event == "token_distributor.cluster_joined")
    );
    // PreJoin is not emitted again for the retry: the step was deferred, not the whole join.
    let pre_joins = emitted(&records, "token_distributor.cluster_pre_join")
        .into_iter()
        .filter(|(u, _)| *u == unit)
        .count();
    assert_eq!(pre_joins, 1);
    lab.settle();
    assert_eq!(lab.status(&unit), active("Joined cluster"));
    let cluster = lab.fake();
    assert_eq!(names(&cluster), ["node-0", "node-1", "node-2"]);
    let joins: Vec<i32> = calls(&cluster)
        .into_iter()
        .filter(|(n, sub, _)| *n == node && sub == "join")
        .map(|(_, _, code)| code)
        .collect();
    assert_eq!(joins, [1, 0]);
    assert!(
        lab.bag(rel, "distributor/0")
            .contains_key(&format!("mirror-{node}"))
    );
    lab.assert_no_token_leaks(&[]);
}

#[test]
fn garbage_from_the_cli_blocks_naming_it_then_the_retry_recovers() {
    let (lab, rel) = formed("garbage", 2);
    lab.edit_fake(|c| {
        c.garbage
            .insert(s("list"), s("Error: dqlite is not ready\n"));
    });
    let record = lab.changed("microovn/0", "cluster", rel, "distributor/0");
    let (status, message) = lab.status("microovn/0");
    assert_eq!(status, "blocked");
    assert!(
        message.starts_with("cluster list: `list` printed unexpected output: not JSON"),
        "{message}"
    );
    assert_eq!(cli_count(&record, "list"), 1);
    // The mirror flag is untouched.
    assert_eq!(lab.bag(rel, "microovn/0")["mirror"], "up");
    // The next hook re-runs the deferred work, and the CLI answers properly again.
    let record = lab.update_status("microovn/0");
    assert_eq!(cli_count(&record, "list"), 1);
    assert_eq!(lab.status("microovn/0"), active("Cluster bootstrapped"));
    lab.assert_no_token_leaks(&[]);
}

#[test]
fn a_node_stuck_pending_makes_every_hook_wait_within_the_bound() {
    let lab = Lab::new("pending");
    lab.distributor(1);
    lab.nodes("microovn", 3, "node");
    save(&lab.state_file(), &FakeCluster::new(1_000_000)).unwrap();
    lab.model.relate("microovn", "distributor").unwrap();
    lab.settle();
    // node-0 bootstrapped and minted tokens; the nodes that joined stay PENDING, and every
    // member waits for them (bounded), hook after hook.
    let cluster = lab.fake();
    assert_eq!(cluster.member("node-0").unwrap().role, "voter");
    assert!(cluster.members.len() >= 2, "{:?}", cluster.members);
    let waiting = (s("waiting"), s("Waiting on pending nodes"));
    for n in 0..3 {
        let unit = format!("microovn/{n}");
        match cluster.member(&format!("node-{n}")) {
            Some(m) => {
                assert!(n == 0 || m.role == "PENDING", "{m:?}");
                assert_eq!(lab.status(&unit), waiting, "{unit}");
            }
            None => assert_eq!(
                lab.status(&unit),
                (s("maintenance"), s("Token not in mirror")),
                "{unit}"
            ),
        }
    }
    // Every hook is bounded: at most ATTEMPTS `list` calls, and the bound was reached.
    let records = lab.timeline();
    let most = records.iter().map(|r| cli_count(r, "list")).max().unwrap();
    assert_eq!(most, ATTEMPTS);
    for r in &records {
        assert!(cli_count(r, "list") <= ATTEMPTS, "{}", r.hook.describe());
        assert!(
            r.wall_ms < 5_000.0,
            "{} took {} ms",
            r.hook.describe(),
            r.wall_ms
        );
    }
    // The member finishes joining: the next hooks re-run the deferred work and the formation
    // completes.
    lab.edit_fake(|c| {
        c.pending_lists = 0;
        for m in &mut c.members {
            m.pending_lists = 0;
        }
    });
    for n in 0..3 {
        lab.update_status(&format!("microovn/{n}"));
    }
    lab.settle();
    assert_eq!(names(&lab.fake()), ["node-0", "node-1", "node-2"]);
    assert_eq!(lab.status("microovn/0"), active("Cluster bootstrapped"));
    assert_eq!(lab.status("microovn/1"), active("Joined cluster"));
    assert_eq!(lab.status("microovn/2"), active("Joined cluster"));
    lab.assert_no_token_leaks(&[]);
}

#[test]
fn a_distributor_sending_garbage_is_named_and_nothing_runs() {
    let lab = Lab::new("bad-distributor");
    lab.nodes("microovn", 2, "node");
    lab.probe(
        "rogue",
        1,
        serde_json::json!({"mirror": "yes", "mirror-node-0": "empty", "mirror-node-1": "T-ROGUE-1"}),
    );
    let rel = lab
        .model
        .relate("microovn", "rogue:microcluster-cluster")
        .unwrap();
    lab.settle();
    // A `mirror` other than up/down: not a mirror, and named (relation, unit, key, value).
    for u in ["microovn/0", "microovn/1"] {
        let (status, message) = lab.status(u);
        assert_eq!(status, "blocked", "{u}");
        for part in [&format!("cluster:{rel}"), "rogue/0", "mirror", "yes"] {
            assert!(message.contains(part), "{u}: {message} lacks {part}");
        }
    }
    // Tokens for unknown hosts: the leader does not bootstrap while any token exists (the
    // Python rule), and no unit joins with a token that is not for its own name.
    lab.model
        .config(
            "rogue",
            &[(
                s("unit-data"),
                serde_json::json!({"mirror": "up", "mirror-node-0": "empty", "mirror-node-1": "", "mirror-ghost": "T-GHOST-1"})
                    .to_string(),
            )],
            &[],
        )
        .unwrap();
    lab.settle();
    assert!(lab.bag(rel, "rogue/0").contains_key("mirror-ghost"));
    for u in ["microovn/0", "microovn/1"] {
        assert_eq!(
            lab.status(u),
            (s("maintenance"), s("Token not in mirror")),
            "{u}"
        );
    }
    assert!(
        !lab.state_file().exists(),
        "no CLI call at all: {:?}",
        lab.state_file()
    );
    let records = lab.timeline();
    assert!(records.iter().all(|r| cli_lines(r).is_empty()));
    lab.assert_no_token_leaks(&["T-ROGUE-1", "T-GHOST-1"]);
}

/// Issue 10: a distributor that mirrors option-shaped data. A token for a node that starts with
/// `-` never reaches `join`, and a node name that does never reaches `add`: the node is Blocked
/// naming the relation and the key, and neither the cluster CLI (its recorded argv) nor any
/// hook tool (the local model's) ever gets the value as an option.
#[test]
fn option_shaped_tokens_and_node_names_never_reach_the_cluster_cli() {
    let lab = Lab::new("option-values");
    lab.nodes("microovn", 2, "node");
    let token = "--output=/tmp/stolen";
    lab.probe(
        "rogue",
        1,
        serde_json::json!({"mirror": "up", "mirror-node-1": token}),
    );
    let rel = lab
        .model
        .relate("microovn", "rogue:microcluster-cluster")
        .unwrap();
    lab.settle();
    let (status, message) = lab.status("microovn/1");
    assert_eq!(status, "blocked", "{message}");
    assert_eq!(
        message,
        format!(
            "relation cluster:{rel}: key mirror-node-1: the join token for node-1 is unusable: it starts with '-'"
        )
    );
    assert!(!message.contains(token));
    let records = lab.timeline();
    for unit in ["microovn/0", "microovn/1"] {
        assert_never_an_option(&records, unit, token);
    }
    assert!(
        !lab.state_file().exists()
            || lab
                .fake()
                .calls
                .iter()
                .all(|c| c.args.iter().all(|a| !a.contains(token))),
        "the token reached the CLI"
    );

    // Placeholders only: the leader bootstraps, becomes the communicator and mints a token for
    // node-1, but not for a node named `-o`.
    lab.model
        .config(
            "rogue",
            &[(
                s("unit-data"),
                serde_json::json!({"mirror": "up", "mirror-node-1": "empty", "mirror--o": "empty"})
                    .to_string(),
            )],
            &[],
        )
        .unwrap();
    lab.settle();
    let cluster = lab.fake();
    assert_eq!(names(&cluster), ["node-0"]);
    let adds: Vec<&Vec<String>> = cluster
        .calls
        .iter()
        .filter(|c| c.subcommand == "add")
        .map(|c| &c.args)
        .collect();
    assert!(!adds.is_empty());
    assert!(
        adds.iter().all(|a| *a == &["cluster", "add", "node-1"]),
        "{adds:?}"
    );
    let (status, message) = lab.status("microovn/0");
    assert_eq!(status, "blocked", "{message}");
    assert!(
        message.starts_with(&format!(
            "relation cluster:{rel}: key \"mirror--o\": `add` not run: \"-o\" is not a valid node name"
        )),
        "{message}"
    );
    let records = lab.timeline();
    assert_never_an_option(&records, "microovn/0", "-o\"");
    lab.assert_no_token_leaks(&[]);
}

#[test]
fn consumers_sending_garbage_are_named_and_their_data_used_only_as_the_rules_say() {
    let (lab, rel) = formed("bad-consumers", 2);
    let calls_before = lab.fake().calls.len();
    // Two communicators at once, each with a different token for the same node, and a token for
    // a host no unit has.
    lab.probe(
        "rogue",
        2,
        serde_json::json!({"mirror": "up", "mirror-node-7": "T-FROM-{n}", "mirror-ghost": "T-GHOST-{n}"}),
    );
    let rogue = lab.model.relate("rogue:cluster", "distributor").unwrap();
    lab.settle();
    let mirror = lab.bag(rel, "distributor/0");
    assert_eq!(mirror["mirror-node-7"], "T-FROM-0", "the lowest unit wins");
    assert_eq!(mirror["mirror-ghost"], "T-GHOST-0");
    assert_eq!(lab.bag(rogue, "distributor/0"), mirror, "one merged mirror");
    // The real nodes neither mint for nor join with those: no CLI call but `list`.
    let since: Vec<(String, String, i32)> = calls(&lab.fake())[calls_before..].to_vec();
    assert!(since.iter().all(|(_, sub, _)| sub == "list"), "{since:?}");
    for (u, message) in [
        ("microovn/0", "Cluster bootstrapped"),
        ("microovn/1", "Joined cluster"),
    ] {
        assert_eq!(lab.status(u), active(message), "{u}");
    }
    // A `mirror` other than up/down: named in the distributor's status, its tokens not copied.
    lab.model
        .config(
            "rogue",
            &[(
                s("unit-data"),
                serde_json::json!({"mirror": "UP", "mirror-node-8": "T-EIGHT"}).to_string(),
            )],
            &[],
        )
        .unwrap();
    lab.settle();
    let (status, message) = lab.status("distributor/0");
    assert_eq!(status, "blocked");
    for part in ["rogue/0", "mirror", "UP"] {
        assert!(message.contains(part), "{message} lacks {part}");
    }
    assert!(!lab.bag(rel, "distributor/0").contains_key("mirror-node-8"));
    assert_eq!(lab.bag(rel, "distributor/0")["mirror"], "up");
    lab.assert_no_token_leaks(&["T-FROM-0", "T-FROM-1", "T-GHOST-0", "T-GHOST-1", "T-EIGHT"]);
}

#[test]
fn the_demo_story_passes_with_the_debug_binaries() {
    assert!(
        workspace_root()
            .join("demo/token_distributor.yaml")
            .is_file(),
        "the story is missing"
    );
    let result = run_story("token_distributor");
    assert!(result.passed, "{:?}", result.failure());
    assert!(result.hooks_run > 40, "{}", result.hooks_run);
    // The story's cluster: three nodes formed it, one left.
    let cluster = load(&result.model_dir.join("cluster.json")).unwrap();
    assert_eq!(names(&cluster), ["node-0", "node-1"]);
    assert_eq!(cluster.count("bootstrap"), 1);
    assert_eq!(cluster.count("join"), 2);
    assert_eq!(cluster.count("remove"), 1);
    // CLI calls per charm and hook, from the DEBUG lines (`--nocapture` prints the table): the
    // distributor never runs the CLI; a node hook runs at most 4 (`join` then the 3 `list` calls
    // that see the new member through PENDING, the fake's default; or `bootstrap`, `list` and
    // two `add`).
    let model = Model::open(&result.model_dir, ModelOptions::new(juju_local())).unwrap();
    let records = model.timeline().unwrap();
    let lines: usize = records.iter().map(|r| cli_lines(r).len()).sum();
    assert_eq!(lines, cluster.calls.len(), "one DEBUG line per CLI call");
    let mut per: std::collections::BTreeMap<(String, String), Vec<usize>> = Default::default();
    for r in &records {
        let charm = if r.unit.starts_with("distributor/") {
            DIST
        } else {
            NODE
        };
        let hook = match r.hook.name.split_once("-relation-") {
            Some((_, kind)) => format!("*-relation-{kind}"),
            None => r.hook.name.clone(),
        };
        let n = cli_lines(r).len();
        if charm == DIST {
            assert_eq!(n, 0, "{}", r.hook.describe());
        }
        assert!(n <= 4, "{} ran {n} CLI calls", r.hook.describe());
        per.entry((s(charm), hook)).or_default().push(n);
    }
    println!(
        "{:<32} {:<26} {:>5} {:>6} {:>4} {:>6}",
        "charm", "hook", "runs", "median", "max", "total"
    );
    for ((charm, hook), mut counts) in per {
        counts.sort_unstable();
        println!(
            "{charm:<32} {hook:<26} {:>5} {:>6} {:>4} {:>6}",
            counts.len(),
            counts[counts.len() / 2],
            counts.iter().max().unwrap_or(&0),
            counts.iter().sum::<usize>()
        );
    }
    if let Some(base) = result.model_dir.parent() {
        let _ = std::fs::remove_dir_all(base);
    }
}

// ----- the old/new matrix: our charms against peers of every upstream LIBPATCH -----

#[test]
fn our_nodes_form_one_cluster_with_a_distributor_of_every_libpatch() {
    for patch in 2..=8u8 {
        let lab = Lab::new(&format!("old-dist-{patch}"));
        lab.legacy("distributor", 2, patch, "unused");
        lab.nodes("microovn", 3, "node");
        // Installed and elected before the relation exists, as in a real deployment.
        lab.settle();
        let rel = lab.model.relate("microovn", "distributor").unwrap();
        lab.settle();
        let cluster = lab.fake();
        assert_eq!(
            names(&cluster),
            ["node-0", "node-1", "node-2"],
            "LIBPATCH {patch}"
        );
        assert_eq!(cluster.count("bootstrap"), 1, "LIBPATCH {patch}");
        assert_eq!(lab.status("microovn/0"), active("Cluster bootstrapped"));
        for u in ["microovn/1", "microovn/2"] {
            assert_eq!(
                lab.status(u),
                active("Joined cluster"),
                "LIBPATCH {patch} {u}"
            );
        }
        let leader = lab.bag(rel, "distributor/0");
        assert_eq!(leader["mirror"], "up", "LIBPATCH {patch}");
        assert!(cluster.minted.contains(&leader["mirror-node-1"]));
        // The relation was made after the election: LIBPATCH 7 names no bootstrap-app on it
        // (LIBPATCH 7/8 consumers would never bootstrap; ours falls back to the LIBPATCH 2
        // rule), LIBPATCH 8 names it from relation-changed on, ≤6 never.
        let app = lab.bag(rel, "distributor");
        if patch == 8 {
            assert_eq!(app["bootstrap-app"], "microovn");
        } else {
            assert!(
                !app.contains_key("bootstrap-app"),
                "LIBPATCH {patch}: {app:?}"
            );
        }
        lab.assert_no_token_leaks(&[]);
    }
}

#[test]
fn a_libpatch7_distributor_names_the_bootstrap_app_at_its_next_election() {
    let lab = Lab::new("old-dist-7-election");
    lab.legacy("distributor", 2, 7, "unused");
    lab.nodes("microovn", 2, "node");
    lab.settle();
    let rel = lab.model.relate("microovn", "distributor").unwrap();
    lab.settle();
    assert!(!lab.bag(rel, "distributor").contains_key("bootstrap-app"));
    lab.model.set_leader("distributor/1").unwrap();
    lab.settle();
    assert_eq!(lab.bag(rel, "distributor")["bootstrap-app"], "microovn");
    // The new leader mirrors; the deposed one keeps its stale `up` (Juju runs leader-elected on
    // the new leader only), which our nodes corroborate across.
    assert_eq!(lab.bag(rel, "distributor/1")["mirror"], "up");
    let cluster = lab.fake();
    assert_eq!(names(&cluster), ["node-0", "node-1"]);
    assert_eq!(cluster.count("bootstrap"), 1);
}

#[test]
fn our_distributor_serves_consumers_of_every_libpatch() {
    // Every distinct consumer: 2 (created), 3 (joined; 4 and 5 changed only the provider), 6
    // (defers while no mirror is up), 7 and 8 (wait for bootstrap-app).
    for patch in [2u8, 3, 6, 7, 8] {
        let lab = Lab::new(&format!("old-node-{patch}"));
        lab.distributor(2);
        lab.legacy("microovn", 3, patch, "node");
        let rel = lab.model.relate("microovn", "distributor").unwrap();
        lab.settle();
        let cluster = lab.fake();
        assert_eq!(
            names(&cluster),
            ["node-0", "node-1", "node-2"],
            "LIBPATCH {patch}"
        );
        let bootstraps: Vec<(String, String, i32)> = calls(&cluster)
            .into_iter()
            .filter(|(_, sub, _)| sub == "bootstrap")
            .collect();
        assert_eq!(
            bootstraps,
            [(s("node-0"), s("bootstrap"), 0)],
            "LIBPATCH {patch}"
        );
        assert_eq!(lab.bag(rel, "distributor")["bootstrap-app"], "microovn");
        let mirror = lab.bag(rel, "distributor/0");
        assert_eq!(mirror["mirror"], "up");
        for n in ["node-1", "node-2"] {
            assert!(
                cluster.minted.contains(&mirror[&format!("mirror-{n}")]),
                "{n}"
            );
        }
        // The communicator (node-0) is the one consumer unit with its mirror up.
        assert_eq!(lab.bag(rel, "microovn/0")["mirror"], "up");
        assert_eq!(
            lab.status("distributor/0"),
            active("mirroring 3 nodes, 2 tokens")
        );
        lab.assert_no_token_leaks_in(&[], "distributor/");
    }
}

#[test]
fn two_libpatch8_consumer_apps_share_one_cluster_and_bootstrap_app_survives_a_leader_change() {
    let lab = Lab::new("old-nodes-two-apps");
    lab.distributor(2);
    lab.legacy("microovn", 2, 8, "ovn");
    // Node names that sort after the bootstrapper's, so the communicator stays in microovn (see
    // the next test for what upstream does otherwise).
    lab.legacy("agents", 2, 8, "zagent");
    let a = lab.model.relate("microovn", "distributor").unwrap();
    let b = lab.model.relate("agents", "distributor").unwrap();
    lab.settle();
    let cluster = lab.fake();
    assert_eq!(names(&cluster), ["ovn-0", "ovn-1", "zagent-0", "zagent-1"]);
    let bootstraps: Vec<(String, String, i32)> = calls(&cluster)
        .into_iter()
        .filter(|(_, sub, _)| sub == "bootstrap")
        .collect();
    assert_eq!(bootstraps, [(s("ovn-0"), s("bootstrap"), 0)]);
    for rel in [a, b] {
        assert_eq!(lab.bag(rel, "distributor")["bootstrap-app"], "microovn");
    }
    // A leader change: the app bag is application data, the name stays; the new leader
    // publishes the same merged mirror on both relations.
    lab.model.set_leader("distributor/1").unwrap();
    lab.settle();
    for rel in [a, b] {
        assert_eq!(lab.bag(rel, "distributor")["bootstrap-app"], "microovn");
        assert_eq!(lab.bag(rel, "distributor/1")["mirror"], "up");
        // The deposed leader lowers its mirror at its next relation-changed; upstream consumers
        // write nothing more once formed, so it may still be up, then with the same entries.
        let mirror = |unit: &str| -> Vec<(String, String)> {
            lab.bag(rel, unit)
                .into_iter()
                .filter(|(k, _)| k.starts_with("mirror"))
                .collect()
        };
        if lab.bag(rel, "distributor/0")["mirror"] == "up" {
            assert_eq!(mirror("distributor/0"), mirror("distributor/1"));
        }
    }
    assert_eq!(lab.bag(a, "distributor/1"), lab.bag(b, "distributor/1"));
    assert_eq!(lab.fake().count("bootstrap"), 1);
    lab.assert_no_token_leaks_in(&[], "distributor/");
}

#[test]
fn upstream_libpatch8_consumers_fail_a_hook_when_the_communicator_moves_to_the_other_app() {
    // The communicator is the lowest voter name: once agent-0 joins, ovn-0 is no longer it and
    // runs "safe mirror down", which indexes its own bag by every placeholder of the merged
    // mirror: `mirror-agent-1` was never minted by ovn-0, so Python raises KeyError (still in
    // LIBPATCH 8). Our nodes skip such keys (tests/patches.rs pins it).
    let lab = Lab::new("old-nodes-keyerror");
    lab.distributor(1);
    lab.legacy("microovn", 2, 8, "ovn");
    lab.legacy("agents", 2, 8, "agent");
    lab.model.relate("microovn", "distributor").unwrap();
    lab.model.relate("agents", "distributor").unwrap();
    let report = lab.model.settle(800).unwrap();
    assert!(
        report
            .errors
            .iter()
            .any(|(unit, _)| unit.starts_with("microovn/")),
        "{:?}",
        report.errors
    );
    let failed: Vec<HookRecord> = lab
        .timeline()
        .into_iter()
        .filter(|r| r.outcome != "ok")
        .collect();
    assert!(!failed.is_empty());
    for r in &failed {
        assert!(r.unit.starts_with("microovn/"), "{}", r.unit);
        let logged: Vec<&str> = r.juju_log.iter().map(|(_, l)| l.as_str()).collect();
        assert!(
            logged
                .iter()
                .any(|l| l.contains("KeyError: 'mirror-agent-")),
            "{logged:?}"
        );
    }
}

#[test]
fn the_two_apps_demo_story_passes_with_the_debug_binaries() {
    let result = run_story("token_distributor_apps");
    assert!(result.passed, "{:?}", result.failure());
    // One cluster of five nodes from three apps; one bootstrap, four joins.
    let cluster = load(&result.model_dir.join("cluster.json")).unwrap();
    assert_eq!(
        names(&cluster),
        ["agent-0", "agent-1", "late-0", "ovn-0", "ovn-1"]
    );
    assert_eq!(cluster.count("bootstrap"), 1);
    assert_eq!(
        calls(&cluster)
            .into_iter()
            .filter(|(_, sub, code)| sub == "join" && *code == 0)
            .count(),
        4
    );
    // The communicator role moved from microovn to agents once agent-0 was an online voter: who
    // minted the token of each node that joined.
    let mut minted_by: Vec<(String, String)> = cluster
        .calls
        .iter()
        .filter(|c| c.subcommand == "add" && c.code == 0)
        .map(|c| (c.node.clone(), c.args.last().cloned().unwrap_or_default()))
        .collect();
    minted_by.sort();
    assert_eq!(
        minted_by,
        [
            (s("agent-0"), s("agent-1")),
            (s("agent-0"), s("late-0")),
            (s("ovn-0"), s("agent-0")),
            (s("ovn-0"), s("ovn-1")),
        ]
    );
    if let Some(base) = result.model_dir.parent() {
        let _ = std::fs::remove_dir_all(base);
    }
}

#[test]
fn upstream_libpatch8_consumers_never_bootstrap_without_bootstrap_app_where_ours_do() {
    // The compatibility table of the spec: a LIBPATCH 7/8 consumer waits for `bootstrap-app`,
    // which a LIBPATCH 6 distributor never writes, nor a LIBPATCH 7 one on a relation made after
    // its election. Ours falls back to the LIBPATCH 2 rule there
    // (`our_nodes_form_one_cluster_with_a_distributor_of_every_libpatch`).
    for patch in [6u8, 7] {
        let lab = Lab::new(&format!("old-both-{patch}"));
        lab.legacy("distributor", 1, patch, "unused");
        lab.legacy("microovn", 2, 8, "node");
        lab.settle();
        let rel = lab
            .model
            .relate("microovn:cluster", "distributor:microcluster-cluster")
            .unwrap();
        lab.settle();
        // The distributor mirrors both nodes, yet nobody bootstraps.
        let mirror = lab.bag(rel, "distributor/0");
        assert_eq!(mirror["mirror"], "up", "LIBPATCH {patch}");
        assert_eq!(mirror["mirror-node-0"], "empty");
        assert_eq!(mirror["mirror-node-1"], "empty");
        assert!(lab.bag(rel, "distributor").is_empty(), "LIBPATCH {patch}");
        assert!(
            !lab.state_file().exists() || lab.fake().count("bootstrap") == 0,
            "LIBPATCH {patch}"
        );
    }
}
