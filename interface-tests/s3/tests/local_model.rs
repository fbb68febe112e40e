//! The s3 contract through the local Juju model: the real `s3-integrator` and `s3-consumer`
//! binaries (and a shell-script fake provider) talking through the real hook-tool protocol, with
//! Juju's hook ordering, commit semantics and secrets. Both speak s3 v1 on a new relation: the
//! credentials travel in a secret per relation (label `s3-credentials.<id>.extra.secret`).
//!
//! Build the binaries first: `cargo build --workspace --bins` (`make test` does).

// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use interface_tests_common::{binary, model, run_story, workspace_root};
use juju_local::state::HookSpec;
use juju_local::timeline::Change;
use juju_local::timeline::HookRecord;
use juju_local::{ActionOutcome, DeployOptions, Model};
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

const INTEGRATOR: &str = "s3-integrator";
const CONSUMER: &str = "s3-consumer";
const CHANGED: &str = "s3.credentials_changed";
const GONE: &str = "s3.credentials_gone";
const REQUESTED: &str = "s3.credentials_requested";
const LABEL: &str = "s3-integrator-credentials";
const ACCESS: &str = "AKIA-LOCAL-MODEL";
const SECRET: &str = "local-model-secret-key-1";

/// `ca_chain.pem` with two certificates, base64-encoded (the config option's form).
const CHAIN_B64: &str = "LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCk1JSUJvbmU9Ci0tLS0tRU5EIENFUlRJRklDQVRFLS0tLS0KLS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCk1JSUJ0d289Ci0tLS0tRU5EIENFUlRJRklDQVRFLS0tLS0K";

// ------------------------------------------------------------------------------------ helpers

/// A local model with the debug s3 charms unpacked next to it.
struct Local {
    m: Model,
    charms: PathBuf,
}

fn local(name: &str) -> Local {
    let m = model(name);
    let charms = m.dir().parent().unwrap().join("charms");
    charm_link(INTEGRATOR, &charms);
    charm_link(CONSUMER, &charms);
    Local { m, charms }
}

/// [`interface_tests_common::charm_dir`], with `dispatch` a symbolic link to the debug binary
/// instead of a copy. juju-local keeps links when it gives each unit its copy of the charm, so the
/// ~13 MiB debug binary is not copied once per charm and once per unit in every test (about 1 GiB
/// of writes for this file otherwise). The charms behave the same: each unit still has its own
/// charm directory (cwd, `JUJU_CHARM_DIR`, state file).
fn charm_link(name: &str, into: &Path) -> PathBuf {
    let src = workspace_root().join("charms").join(name);
    let dir = into.join(name);
    std::fs::create_dir_all(&dir).unwrap();
    for file in ["metadata.yaml", "config.yaml", "actions.yaml"] {
        std::fs::copy(src.join(file), dir.join(file)).unwrap();
    }
    std::os::unix::fs::symlink(binary(name), dir.join("dispatch")).unwrap();
    dir
}

fn kv(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

impl Local {
    fn deploy(&self, charm: &str, app: &str, units: u32, config: &[(&str, &str)]) {
        self.deploy_dir(&self.charms.join(charm), app, units, config, &[]);
    }

    fn deploy_dir(
        &self,
        dir: &Path,
        app: &str,
        units: u32,
        config: &[(&str, &str)],
        env: &[(&str, &str)],
    ) {
        self.m
            .deploy(
                dir,
                DeployOptions {
                    app: Some(app.into()),
                    units: Some(units),
                    config: kv(config),
                    env: kv(env),
                    ..Default::default()
                },
            )
            .unwrap();
    }

    /// Settles the model and insists that no hook failed.
    fn settle(&self) {
        let report = self.m.settle(500).unwrap();
        assert!(
            report.errors.is_empty(),
            "hooks failed: {:?}",
            report.errors
        );
    }

    fn config(&self, app: &str, set: &[(&str, &str)]) {
        self.m.config(app, &kv(set), &[]).unwrap();
        self.settle();
    }

    fn reset(&self, app: &str, keys: &[&str]) {
        let keys: Vec<String> = keys.iter().map(|k| k.to_string()).collect();
        self.m.config(app, &[], &keys).unwrap();
        self.settle();
    }

    fn action(&self, unit: &str, name: &str, params: &[(&str, &str)]) -> ActionOutcome {
        self.m.run_action(unit, name, &kv(params)).unwrap()
    }

    /// Runs `sync-s3-credentials` on `unit` and settles.
    fn sync(&self, unit: &str, access: &str, secret: &str) -> ActionOutcome {
        let out = self.action(
            unit,
            "sync-s3-credentials",
            &[("access-key", access), ("secret-key", secret)],
        );
        self.settle();
        out
    }

    /// (workload status, message) of a unit.
    fn status(&self, unit: &str) -> (String, String) {
        let st = self.m.state().unwrap();
        let u = st.unit(unit).unwrap_or_else(|| panic!("no unit {unit}"));
        (u.status.status.clone(), u.status.message.clone())
    }

    fn bag(&self, relation: u64, owner: &str) -> BTreeMap<String, String> {
        self.m
            .state()
            .unwrap()
            .bag(relation, owner)
            .unwrap_or_default()
    }

    /// How many dispatches the timeline holds: a mark for [`Local::since`].
    fn mark(&self) -> usize {
        self.m.timeline().unwrap().len()
    }

    /// The dispatches after `mark`.
    fn since(&self, mark: usize) -> Vec<HookRecord> {
        self.m.timeline().unwrap().split_off(mark)
    }

    /// The library events named `name` emitted after `mark`, as (unit, fields).
    fn events(&self, mark: usize, name: &str) -> Vec<(String, Value)> {
        self.since(mark)
            .into_iter()
            .flat_map(|r| {
                r.events
                    .into_iter()
                    .filter(|e| e.event == name)
                    .map(move |e| (r.unit.clone(), e.fields))
            })
            .collect()
    }

    /// The units that emitted `name` after `mark`, sorted (a unit appears once per event).
    fn emitters(&self, mark: usize, name: &str) -> Vec<String> {
        let mut units: Vec<String> = self.events(mark, name).into_iter().map(|e| e.0).collect();
        units.sort();
        units
    }

    /// Databag changes on `relation` after `mark`, as (bag, key).
    fn bag_changes(&self, mark: usize, relation: u64) -> Vec<(String, String)> {
        self.since(mark)
            .iter()
            .flat_map(|r| r.changes.iter())
            .filter_map(|c| match c {
                Change::Bag {
                    relation: r,
                    bag,
                    key,
                    ..
                } if *r == relation => Some((bag.clone(), key.clone())),
                _ => None,
            })
            .collect()
    }

    /// What the consumers get on `rel`: the provider's app bag, with the content of the relation's
    /// credentials secret (v1) in place of `secret-extra`.
    fn sent(&self, rel: u64) -> BTreeMap<String, String> {
        let mut bag = self.bag(rel, INTEGRATOR);
        if let Some(uri) = bag.remove("secret-extra") {
            let st = self.m.state().unwrap();
            let secret = st.find_secret(&uri).expect("secret-extra names a secret");
            bag.extend(secret.revisions[&secret.latest].decoded());
        }
        bag
    }

    /// The credentials secret of relation `rel` (owned by the integrator, v1).
    fn relation_secret(&self, rel: u64) -> Option<juju_local::state::Secret> {
        let label = format!("s3-credentials.{rel}.extra.secret");
        self.m
            .state()
            .unwrap()
            .secrets
            .into_values()
            .find(|s| s.label.as_deref() == Some(label.as_str()))
    }

    fn credentials_secret(&self) -> juju_local::state::Secret {
        self.m
            .state()
            .unwrap()
            .secrets
            .into_values()
            .find(|s| s.label.as_deref() == Some(LABEL))
            .expect("the credentials secret exists")
    }
}

/// An s3-integrator and one s3-consumer application, related and settled.
fn related(name: &str, integrators: u32, consumers: u32) -> (Local, u64) {
    let l = local(name);
    l.deploy(INTEGRATOR, INTEGRATOR, integrators, &[]);
    l.deploy(CONSUMER, CONSUMER, consumers, &[]);
    let rel = l.m.relate(INTEGRATOR, CONSUMER).unwrap();
    l.settle();
    (l, rel)
}

/// [`related`], with credentials synced on the integrator's leader.
fn served(name: &str, integrators: u32, consumers: u32) -> (Local, u64) {
    let (l, rel) = related(name, integrators, consumers);
    let out = l.sync("s3-integrator/0", ACCESS, SECRET);
    assert_eq!(out.status, "completed", "{out:?}");
    (l, rel)
}

fn units(app: &str, n: u32) -> Vec<String> {
    (0..n).map(|i| format!("{app}/{i}")).collect()
}

// -------------------------------------------------------------------------------- the story

#[test]
fn the_s3_demo_story_passes_with_the_debug_binaries() {
    let result = run_story("s3");
    assert!(result.passed, "{:?}", result.failure());
    // It tells the whole story, and checks itself along the way.
    let kinds: Vec<&str> = result.steps.iter().map(|s| s.kind.as_str()).collect();
    for kind in ["deploy", "relate", "action", "config", "remove-relation"] {
        assert!(kinds.contains(&kind), "no {kind} step: {kinds:?}");
    }
    assert!(
        kinds.iter().filter(|k| **k == "expect").count() >= 5,
        "{kinds:?}"
    );
    assert!(result.hooks_run > 30, "{}", result.hooks_run);
}

// ------------------------------------------------------------------------------ the contract

#[test]
fn the_consumer_leader_requests_its_bucket_and_waits_for_credentials() {
    let (l, rel) = related("s3-request", 2, 2);
    // Only the requirer's leader writes: v1 (secrets asked for, both version keys), no bucket
    // (none configured; the provider speaks v1, so no relation-<id> either).
    assert_eq!(
        l.bag(rel, CONSUMER),
        BTreeMap::from([
            ("lib-version".to_string(), "1.0".to_string()),
            (
                "requested-secrets".to_string(),
                r#"["access-key", "secret-key"]"#.to_string()
            ),
            ("version".to_string(), "1".to_string()),
        ])
    );
    assert_eq!(
        l.bag(rel, "s3-consumer/0")["requested-secrets"],
        r#"["access-key", "secret-key"]"#,
        "the leader's own unit bag has the copy Python followers read"
    );
    assert!(
        !l.bag(rel, "s3-consumer/1")
            .contains_key("requested-secrets")
    );
    // The provider's leader (only) heard the request; its bag holds its version keys only.
    let requested = l.events(0, REQUESTED);
    assert!(!requested.is_empty());
    for (unit, fields) in &requested {
        assert_eq!(unit, "s3-integrator/0");
        assert_eq!(fields["v1"], true);
        assert_eq!(fields["bucket"], "");
    }
    assert_eq!(
        l.bag(rel, INTEGRATOR),
        BTreeMap::from([
            ("lib-version".to_string(), "1.0".to_string()),
            ("version".to_string(), "1".to_string()),
        ])
    );
    for unit in units(CONSUMER, 2) {
        assert_eq!(
            l.status(&unit),
            (
                "waiting".into(),
                "waiting for S3 credentials from s3-integrator (missing access-key, secret-key)"
                    .into()
            )
        );
    }
    for unit in units(INTEGRATOR, 2) {
        assert_eq!(
            l.status(&unit),
            (
                "blocked".into(),
                "missing credentials: run the sync-s3-credentials action".into()
            )
        );
    }
    assert!(l.events(0, CHANGED).is_empty());
}

#[test]
fn syncing_credentials_reaches_every_consumer_unit_once() {
    let (l, rel) = related("s3-sync", 2, 2);
    let mark = l.mark();
    let out = l.sync("s3-integrator/0", ACCESS, SECRET);
    assert_eq!(out.status, "completed");
    assert_eq!(
        out.results["result"],
        "credentials stored; sent to 1 relation(s)"
    );
    // Not in plain data: in the relation's secret, granted to the consumer application.
    let bag = l.bag(rel, INTEGRATOR);
    assert!(!bag.contains_key("access-key") && !bag.contains_key("secret-key"));
    assert!(!bag.contains_key("bucket"), "none asked, none configured");
    let sent = l.sent(rel);
    assert_eq!(sent["access-key"], ACCESS);
    assert_eq!(sent["secret-key"], SECRET);
    let relation_secret = l.relation_secret(rel).expect("the relation secret");
    assert_eq!(bag["secret-extra"], relation_secret.uri());
    assert_eq!(relation_secret.owner.name, INTEGRATOR);
    assert!(
        relation_secret
            .grants
            .iter()
            .any(|g| g.app == CONSUMER && g.relation == Some(rel))
    );
    for unit in units(CONSUMER, 2) {
        assert_eq!(
            relation_secret.consumers[&unit].label.as_deref(),
            Some(format!("s3-credentials.{rel}.extra.secret").as_str()),
            "{unit} registered its own label"
        );
    }
    let secret = l.credentials_secret();
    assert_eq!(secret.owner.kind, "application");
    assert_eq!(secret.latest, 1);
    // One event per consumer unit, naming bucket and provider, never a credential.
    assert_eq!(l.emitters(mark, CHANGED), units(CONSUMER, 2));
    for (_, fields) in l.events(mark, CHANGED) {
        assert_eq!(fields["bucket"], "");
        assert_eq!(fields["app"], INTEGRATOR);
        assert_eq!(fields["endpoint"], Value::Null);
        assert!(!fields.to_string().contains(SECRET));
    }
    for unit in units(CONSUMER, 2) {
        assert_eq!(
            l.status(&unit),
            (
                "active".into(),
                "credentials for no bucket at the default endpoint".to_string()
            )
        );
    }
    assert_eq!(
        l.status("s3-integrator/0"),
        ("active".into(), "serving 1 relation".into())
    );
    // The other integrator unit learns of the credentials too (Juju sends secret-changed only to
    // consumers, never to the owner's units: the leader bumps a counter in the peer app bag).
    assert_eq!(
        l.status("s3-integrator/1"),
        ("active".into(), String::new())
    );
    // Any consumer unit shows what it got, the credentials redacted.
    let info = l.action("s3-consumer/1", "get-credentials-info", &[]);
    assert_eq!(info.status, "completed");
    assert!(info.results.get("bucket").is_none());
    assert_eq!(info.results["secret-key"], "<redacted>");
    assert_eq!(info.results["access-key"], "<redacted>");
    assert_eq!(info.results["provider"], INTEGRATOR);
}

#[test]
fn config_changes_reach_the_consumers_once_per_change() {
    let (l, rel) = served("s3-config", 1, 2);
    let mark = l.mark();
    l.config(
        INTEGRATOR,
        &[
            ("endpoint", "https://s3.example.com"),
            ("region", "eu-west-1"),
            ("path", "/backups"),
            ("s3-uri-style", "path"),
            ("storage-class", "GLACIER"),
            ("s3-api-version", "4"),
            ("tls-ca-chain", CHAIN_B64),
            ("attributes", "a=1, b=2"),
            ("experimental-delete-older-than-days", "7"),
        ],
    );
    let bag = l.bag(rel, INTEGRATOR);
    assert_eq!(bag["endpoint"], "https://s3.example.com");
    assert_eq!(bag["region"], "eu-west-1");
    assert_eq!(bag["path"], "/backups");
    assert_eq!(bag["s3-uri-style"], "path");
    assert_eq!(bag["storage-class"], "GLACIER");
    assert_eq!(bag["s3-api-version"], "4");
    assert_eq!(
        bag["tls-ca-chain"],
        r#"["-----BEGIN CERTIFICATE-----\nMIIBone=\n-----END CERTIFICATE-----", "-----BEGIN CERTIFICATE-----\nMIIBtwo=\n-----END CERTIFICATE-----"]"#
    );
    assert_eq!(bag["attributes"], r#"["a=1", "b=2"]"#);
    assert_eq!(bag["delete-older-than-days"], "7");
    // Nine options, one write, one event per consumer unit.
    assert_eq!(l.emitters(mark, CHANGED), units(CONSUMER, 2));
    for (_, fields) in l.events(mark, CHANGED) {
        assert_eq!(fields["endpoint"], "https://s3.example.com");
    }
    for unit in units(CONSUMER, 2) {
        assert_eq!(
            l.status(&unit).1,
            "credentials for no bucket path /backups at https://s3.example.com"
        );
    }
    let info = l.action("s3-consumer/0", "get-credentials-info", &[]);
    assert_eq!(info.results["region"], "eu-west-1");
    assert_eq!(info.results["delete-older-than-days"], "7");

    // Resetting an option removes its key, and tells the consumers once.
    let mark = l.mark();
    l.reset(INTEGRATOR, &["region", "attributes"]);
    let bag = l.bag(rel, INTEGRATOR);
    assert!(!bag.contains_key("region") && !bag.contains_key("attributes"));
    assert_eq!(bag["endpoint"], "https://s3.example.com");
    assert_eq!(l.emitters(mark, CHANGED), units(CONSUMER, 2));

    // Bad config blocks the integrator naming the option and sends nothing.
    let before = l.bag(rel, INTEGRATOR);
    let mark = l.mark();
    l.config(INTEGRATOR, &[("s3-uri-style", "diagonal")]);
    let (status, message) = l.status("s3-integrator/0");
    assert_eq!(status, "blocked");
    assert!(message.contains("s3-uri-style"), "{message}");
    assert_eq!(l.bag(rel, INTEGRATOR), before);
    assert!(l.events(mark, CHANGED).is_empty());
}

#[test]
fn rotation_emits_one_event_per_unit_and_prunes_the_old_revision() {
    let (l, rel) = served("s3-rotate", 1, 2);
    let mark = l.mark();
    let out = l.sync("s3-integrator/0", ACCESS, "rotated-secret-key-2");
    assert_eq!(
        out.results["result"],
        "credentials stored; sent to 1 relation(s)"
    );
    assert_eq!(l.sent(rel)["secret-key"], "rotated-secret-key-2");
    // A new revision of the relation secret: each consumer unit hears it (secret-changed), once.
    assert_eq!(l.emitters(mark, CHANGED), units(CONSUMER, 2));
    let changed_in: Vec<String> = l
        .since(mark)
        .into_iter()
        .filter(|r| r.unit.starts_with(CONSUMER) && !r.events.is_empty())
        .map(|r| r.hook.name)
        .collect();
    assert_eq!(changed_in, ["secret-changed", "secret-changed"]);
    // Nobody tracks revision 1 of either secret any more: Juju asks the leader to remove them,
    // and it does (the charm its own secret, the library the relation's).
    let secret = l.credentials_secret();
    let relation_secret = l.relation_secret(rel).unwrap();
    for s in [&secret, &relation_secret] {
        assert_eq!(s.latest, 2);
        assert_eq!(s.revisions.keys().copied().collect::<Vec<_>>(), [2]);
    }
    let removals: Vec<HookRecord> = l
        .since(mark)
        .into_iter()
        .filter(|r| r.hook.name == "secret-remove")
        .collect();
    assert_eq!(removals.len(), 2, "{removals:?}");
    for removal in &removals {
        assert_eq!(removal.unit, "s3-integrator/0");
        assert_eq!(removal.hook.secret_revision, Some(1));
        assert_eq!(removal.outcome, "ok");
    }

    // The same credentials again: no revision, no write, no event, no hook anywhere else.
    let mark = l.mark();
    let out = l.sync("s3-integrator/0", ACCESS, "rotated-secret-key-2");
    assert_eq!(
        out.results["result"],
        "credentials unchanged; sent to 1 relation(s)"
    );
    assert_eq!(l.credentials_secret().latest, 2);
    let after: Vec<String> = l.since(mark).into_iter().map(|r| r.hook.name).collect();
    assert_eq!(after, ["sync-s3-credentials"]);
}

#[test]
fn two_consumer_apps_get_their_own_buckets() {
    let l = local("s3-two-apps");
    l.deploy(INTEGRATOR, INTEGRATOR, 1, &[]);
    l.deploy(CONSUMER, "alpha", 2, &[("bucket", "alpha-data")]);
    l.deploy(CONSUMER, "beta", 1, &[]);
    let alpha = l.m.relate(INTEGRATOR, "alpha").unwrap();
    let beta = l.m.relate(INTEGRATOR, "beta").unwrap();
    l.settle();
    l.sync("s3-integrator/0", ACCESS, SECRET);
    assert_eq!(l.bag(alpha, "alpha")["bucket"], "alpha-data");
    assert_eq!(l.bag(alpha, INTEGRATOR)["bucket"], "alpha-data");
    assert!(
        !l.bag(beta, INTEGRATOR).contains_key("bucket"),
        "beta asked for none"
    );
    assert_eq!(
        l.status("alpha/1").1,
        "credentials for bucket alpha-data at the default endpoint"
    );
    assert_eq!(l.status("s3-integrator/0").1, "serving 2 relations");

    // beta changes its mind: only beta's relation changes, only beta's units hear of it.
    let mark = l.mark();
    l.config("beta", &[("bucket", "beta-new")]);
    assert_eq!(l.bag(beta, INTEGRATOR)["bucket"], "beta-new");
    assert_eq!(l.bag(alpha, INTEGRATOR)["bucket"], "alpha-data");
    assert_eq!(l.emitters(mark, CHANGED), ["beta/0"]);
    assert!(
        l.bag_changes(mark, alpha).is_empty(),
        "{:?}",
        l.bag_changes(mark, alpha)
    );

    // The operator imposes one bucket: everyone gets it, and says it is not what it asked for.
    let mark = l.mark();
    l.config(INTEGRATOR, &[("bucket", "shared")]);
    assert_eq!(l.bag(alpha, INTEGRATOR)["bucket"], "shared");
    assert_eq!(l.bag(beta, INTEGRATOR)["bucket"], "shared");
    assert_eq!(l.emitters(mark, CHANGED), ["alpha/0", "alpha/1", "beta/0"]);
    assert_eq!(
        l.status("alpha/0").1,
        "credentials for bucket shared at the default endpoint (asked for alpha-data)"
    );
}

#[test]
fn a_provider_leader_change_writes_nothing_and_loses_nothing() {
    let (l, rel) = served("s3-leader", 2, 2);
    let before = l.bag(rel, INTEGRATOR);
    let mark = l.mark();
    l.m.set_leader("s3-integrator/1").unwrap();
    l.settle();
    let hooks: Vec<(String, String)> = l
        .since(mark)
        .into_iter()
        .map(|r| (r.unit, r.hook.name))
        .collect();
    assert!(
        hooks.contains(&("s3-integrator/1".into(), "leader-elected".into())),
        "{hooks:?}"
    );
    // The new leader answers every v1 relation again (as upstream), but nothing changes: no
    // write, no consumer event, no secret revision.
    assert!(
        l.events(mark, REQUESTED)
            .iter()
            .all(|(unit, _)| unit == "s3-integrator/1")
    );
    assert!(
        l.bag_changes(mark, rel).is_empty(),
        "{:?}",
        l.bag_changes(mark, rel)
    );
    assert!(l.events(mark, CHANGED).is_empty());
    assert_eq!(l.bag(rel, INTEGRATOR), before);
    assert_eq!(l.credentials_secret().latest, 1);
    assert_eq!(l.relation_secret(rel).unwrap().latest, 1);
    assert_eq!(
        l.status("s3-integrator/1"),
        ("active".into(), "serving 1 relation".into())
    );
    assert_eq!(
        l.status("s3-integrator/0"),
        ("active".into(), String::new())
    );

    // A request made while leadership moves back is answered by the new leader.
    let mark = l.mark();
    l.m.config(CONSUMER, &kv(&[("bucket", "moved")]), &[])
        .unwrap();
    l.m.set_leader("s3-integrator/0").unwrap();
    l.settle();
    assert_eq!(l.bag(rel, INTEGRATOR)["bucket"], "moved");
    assert_eq!(l.emitters(mark, CHANGED), units(CONSUMER, 2));
    let requests = l.events(mark, REQUESTED);
    assert!(
        requests
            .iter()
            .any(|(u, f)| u == "s3-integrator/0" && f["bucket"] == "moved"),
        "{requests:?}"
    );

    // The new leader rotates, and prunes the revision its predecessor created.
    l.m.set_leader("s3-integrator/1").unwrap();
    l.settle();
    let mark = l.mark();
    let out = l.sync("s3-integrator/1", ACCESS, "rotated-by-the-new-leader");
    assert_eq!(out.status, "completed");
    assert_eq!(l.sent(rel)["secret-key"], "rotated-by-the-new-leader");
    assert_eq!(l.emitters(mark, CHANGED), units(CONSUMER, 2));
    let secret = l.credentials_secret();
    assert_eq!(secret.revisions.keys().copied().collect::<Vec<_>>(), [2]);
    assert!(
        l.since(mark)
            .iter()
            .any(|r| r.unit == "s3-integrator/1" && r.hook.name == "secret-remove")
    );
}

#[test]
fn removing_the_relation_emits_gone_and_blocks_the_consumer() {
    let (l, rel) = served("s3-remove", 1, 2);
    let state_file =
        l.m.dir()
            .join("units/s3-consumer-1/charm/.charm-state.json");
    assert!(
        std::fs::read_to_string(&state_file)
            .unwrap()
            .contains("s3-requirer:s3-credentials")
    );
    let mark = l.mark();
    l.m.remove_relation(INTEGRATOR, Some(CONSUMER)).unwrap();
    l.settle();
    assert_eq!(l.emitters(mark, GONE), units(CONSUMER, 2));
    for (_, fields) in l.events(mark, GONE) {
        assert_eq!(fields["relation"]["id"], rel);
        assert_eq!(fields["app"], INTEGRATOR);
    }
    assert!(l.events(mark, CHANGED).is_empty());
    for unit in units(CONSUMER, 2) {
        assert_eq!(
            l.status(&unit),
            ("blocked".into(), "missing relation: s3-credentials".into())
        );
    }
    assert_eq!(l.status("s3-integrator/0").1, "serving 0 relations");
    assert!(
        l.relation_secret(rel).is_none(),
        "the provider removes the relation's secret (upstream leaks it)"
    );
    // The digest of what the consumer saw is forgotten with the relation.
    assert!(
        !std::fs::read_to_string(&state_file)
            .unwrap()
            .contains("s3-requirer:s3-credentials")
    );
}

#[test]
fn a_request_the_operator_overrides_writes_nothing_and_emits_nothing() {
    let l = local("s3-override");
    l.deploy(INTEGRATOR, INTEGRATOR, 1, &[("bucket", "shared")]);
    l.deploy(CONSUMER, CONSUMER, 2, &[]);
    let rel = l.m.relate(INTEGRATOR, CONSUMER).unwrap();
    l.settle();
    l.sync("s3-integrator/0", ACCESS, SECRET);
    // The consumer asks for another bucket; the provider hears it and keeps sending `shared`:
    // a v1 provider keeps no cache in its bag, so nothing is written and nobody is woken.
    let mark = l.mark();
    l.config(CONSUMER, &[("bucket", "other")]);
    assert_eq!(
        l.events(mark, REQUESTED)
            .iter()
            .map(|(_, f)| f["bucket"].clone())
            .collect::<Vec<_>>(),
        [Value::from("other")]
    );
    let provider_keys: Vec<String> = l
        .bag_changes(mark, rel)
        .into_iter()
        .filter(|(bag, _)| bag == INTEGRATOR)
        .map(|(_, key)| key)
        .collect();
    assert!(provider_keys.is_empty(), "{provider_keys:?}");
    assert!(!l.bag(rel, INTEGRATOR).contains_key("data"));
    assert!(l.events(mark, CHANGED).is_empty());
    assert_eq!(
        l.status("s3-consumer/1").1,
        "credentials for bucket shared at the default endpoint (asked for other)"
    );
}

#[test]
fn a_requirer_leader_elected_after_the_join_still_requests_its_bucket() {
    let l = local("s3-late-leader");
    l.deploy(INTEGRATOR, INTEGRATOR, 1, &[]);
    l.deploy(CONSUMER, CONSUMER, 2, &[]);
    l.settle();
    l.sync("s3-integrator/0", ACCESS, SECRET);
    // The consumer's leader is broken (its charm state is unreadable), so every hook it runs
    // fails and writes nothing: the relation is joined while no working leader exists.
    let broken =
        l.m.dir()
            .join("units/s3-consumer-0/charm/.charm-state.json");
    std::fs::write(&broken, "{not json").unwrap();
    let rel = l.m.relate(INTEGRATOR, CONSUMER).unwrap();
    let report = l.m.settle(500).unwrap();
    assert_eq!(report.errors.len(), 1, "{:?}", report.errors);
    assert_eq!(report.errors[0].0, "s3-consumer/0");
    let joined =
        l.m.timeline()
            .unwrap()
            .iter()
            .any(|r| r.unit == "s3-consumer/1" && r.hook.name == "s3-credentials-relation-joined");
    assert!(joined, "the follower joined the relation");
    assert!(l.bag(rel, CONSUMER).is_empty());
    assert!(!l.bag(rel, INTEGRATOR).contains_key("secret-extra"));

    // Leadership moves to the working unit: it asks, and the provider answers.
    let mark = l.mark();
    l.m.set_leader("s3-consumer/1").unwrap();
    l.m.settle(500).unwrap();
    let asked_in = l
        .since(mark)
        .into_iter()
        .find(|r| {
            r.changes.iter().any(
                |c| matches!(c, Change::Bag { bag, key, .. } if bag == CONSUMER && key == "requested-secrets"),
            )
        })
        .map(|r| (r.unit, r.hook.name));
    assert_eq!(
        asked_in,
        Some(("s3-consumer/1".into(), "leader-elected".into()))
    );
    assert_eq!(l.sent(rel)["secret-key"], SECRET);
    assert_eq!(l.emitters(mark, CHANGED), ["s3-consumer/1"]);
}

/// The fake provider: a shell script writing its `bag` option into its app bag, as-is.
fn fake_provider(into: &Path) -> PathBuf {
    let src = workspace_root().join("interface-tests/s3/fake-provider");
    let dir = into.join("fake-s3");
    std::fs::create_dir_all(&dir).unwrap();
    for file in ["metadata.yaml", "config.yaml", "dispatch"] {
        std::fs::copy(src.join(file), dir.join(file)).unwrap();
    }
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(dir.join("dispatch"), std::fs::Permissions::from_mode(0o755)).unwrap();
    dir
}

#[test]
fn malformed_provider_data_blocks_the_consumer_naming_the_key() {
    let l = local("s3-malformed");
    let fake = fake_provider(&l.charms);
    let good = "{access-key: ak, secret-key: sk, bucket: b, tls-ca-chain: '', attributes: '', delete-older-than-days: ''}";
    l.deploy_dir(&fake, "fake-s3", 1, &[("bag", good)], &[]);
    l.deploy(CONSUMER, CONSUMER, 2, &[]);
    let rel = l.m.relate("fake-s3", CONSUMER).unwrap();
    l.settle();
    assert_eq!(l.emitters(0, CHANGED), units(CONSUMER, 2));
    // One bad value at a time, each replacing the previous one.
    let mark = l.mark();
    for (key, value) in [
        ("tls-ca-chain", "'not json'"),
        ("tls-ca-chain", r#"'["ok", 7]'"#),
        ("attributes", r#"'{"a": "1"}'"#),
        ("delete-older-than-days", "'-3'"),
        ("delete-older-than-days", "ten"),
    ] {
        let bad = good.replace(&format!("{key}: ''"), &format!("{key}: {value}"));
        l.config("fake-s3", &[("bag", &bad)]);
        assert!(l.bag(rel, "fake-s3").contains_key(key), "{bad}");
        for unit in units(CONSUMER, 2) {
            let (status, message) = l.status(&unit);
            assert_eq!(status, "blocked", "{unit} with {key}: {value}");
            assert!(
                message.contains(&format!("key \"{key}\" is malformed"))
                    && message.contains("fake-s3")
                    && message.contains(&format!("s3-credentials:{rel}")),
                "{message}"
            );
        }
        let info = l.action("s3-consumer/1", "get-credentials-info", &[]);
        assert_eq!(info.status, "failed");
        assert!(info.message.contains(key), "{}", info.message);
    }
    assert!(l.events(mark, CHANGED).is_empty());
    // Good data again: the consumers take it (and tell their workload) once more.
    let mark = l.mark();
    l.config("fake-s3", &[("bag", good)]);
    assert_eq!(l.emitters(mark, CHANGED), units(CONSUMER, 2));
    assert_eq!(l.status("s3-consumer/0").0, "active");
    // Incomplete is not malformed: the consumer waits, naming what is missing.
    l.config(
        "fake-s3",
        &[("bag", "{access-key: ak, secret-key: '', bucket: b}")],
    );
    assert_eq!(
        l.status("s3-consumer/1"),
        (
            "waiting".into(),
            "waiting for S3 credentials from fake-s3 (missing secret-key)".into()
        )
    );
}

#[test]
fn actions_on_a_non_leader_fail_clearly() {
    let (l, rel) = served("s3-non-leader", 2, 1);
    let before = l.bag(rel, INTEGRATOR);
    let out = l.action(
        "s3-integrator/1",
        "sync-s3-credentials",
        &[("access-key", "other"), ("secret-key", "not-stored")],
    );
    assert_eq!(out.status, "failed");
    assert_eq!(out.message, "run sync-s3-credentials on the leader unit");
    l.settle();
    assert_eq!(l.credentials_secret().latest, 1);
    assert_eq!(l.bag(rel, INTEGRATOR), before);

    let out = l.action("s3-integrator/1", "get-s3-credentials", &[]);
    assert_eq!(out.status, "failed");
    assert_eq!(out.message, "run get-s3-credentials on the leader unit");
    assert!(!out.results.to_string().contains(SECRET));
    // The leader may.
    let out = l.action("s3-integrator/0", "get-s3-credentials", &[]);
    assert_eq!(out.status, "completed");
    assert_eq!(out.results["secret-key"], SECRET);
    // Read-only, redacted views work anywhere.
    let out = l.action("s3-integrator/1", "get-s3-connection-info", &[]);
    assert_eq!(out.status, "completed");
    assert_eq!(out.results["secret-key"], "<redacted>");
    let out = l.action("s3-consumer/0", "get-credentials-info", &[]);
    assert_eq!(out.status, "completed");
    // A failed action leaves its unit working.
    let st = l.m.state().unwrap();
    assert!(st.unit("s3-integrator/1").unwrap().agent.error.is_none());
    // Missing parameters are refused before the charm runs.
    let missing = l.m.run_action(
        "s3-integrator/0",
        "sync-s3-credentials",
        &kv(&[("access-key", "x")]),
    );
    assert!(missing.is_err(), "{missing:?}");
}

// ------------------------------------------------------------------------------ secret leaks

/// Removes the JSON value at `path` (object keys; `*` for every key or element).
fn strip(value: &mut Value, path: &[&str]) {
    let Some((first, rest)) = path.split_first() else {
        return;
    };
    let children: Vec<&mut Value> = match (value, *first) {
        (Value::Object(map), "*") => map.values_mut().collect(),
        (Value::Array(items), "*") => items.iter_mut().collect(),
        (Value::Object(map), key) if rest.is_empty() => {
            map.remove(key);
            return;
        }
        (Value::Object(map), key) => map.get_mut(key).into_iter().collect(),
        _ => return,
    };
    for child in children {
        strip(child, rest);
    }
}

/// Every file under `dir` but the charm binaries and the tool links, with its text.
fn files_under(dir: &Path, out: &mut Vec<(PathBuf, String)>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let meta = std::fs::symlink_metadata(&path).unwrap();
        if meta.is_dir() {
            files_under(&path, out);
        } else if meta.is_file() && path.file_name().is_some_and(|n| n != "dispatch") {
            let bytes = std::fs::read(&path).unwrap();
            out.push((path, String::from_utf8_lossy(&bytes).into_owned()));
        }
    }
}

/// Asserts that `state.json` holds none of `canaries` outside the places the protocol puts them:
/// the secrets' content (the charm's own and, v1, the relation's), the `sync-s3-credentials`
/// parameters and the `get-s3-credentials` results. No relation bag holds them (v1).
fn assert_clean_state(l: &Local, canaries: &[&str]) {
    let found = |text: &str| canaries.iter().any(|c| text.contains(c));
    let text = std::fs::read_to_string(l.m.dir().join("state.json")).unwrap();
    let mut state: Value = serde_json::from_str(&text).unwrap();
    strip(&mut state, &["secrets", "*", "revisions", "*", "content"]);
    let actions = state["actions"].as_object_mut().unwrap();
    for action in actions.values_mut() {
        match action["action"].as_str() {
            Some("sync-s3-credentials") => strip(action, &["params"]),
            Some("get-s3-credentials") => strip(action, &["results"]),
            _ => {}
        }
    }
    let rest = state.to_string();
    assert!(!found(&rest), "a credential leaked in state.json: {rest}");
}

#[test]
fn the_credentials_appear_only_where_the_wire_format_needs_them() {
    const LEAKY_SECRET: &str = "LEAK-CANARY-secret-7d1f93";
    const LEAKY_ROTATED: &str = "LEAK-CANARY-rotated-4be2c0";
    const LEAKY_ACCESS: &str = "LEAK-CANARY-access-a51e";
    let canaries = [LEAKY_SECRET, LEAKY_ROTATED, LEAKY_ACCESS];
    let l = local("s3-leak");
    // Debug logging on: whatever the charms log at any level reaches juju-log and stderr.
    let debug = [("JUJU_DEBUG", "1")];
    l.deploy_dir(&l.charms.join(INTEGRATOR), INTEGRATOR, 2, &[], &debug);
    l.deploy_dir(&l.charms.join(CONSUMER), CONSUMER, 2, &[], &debug);
    let rel = l.m.relate(INTEGRATOR, CONSUMER).unwrap();
    l.settle();
    // Everything an operator does with credentials, and every hook that follows.
    l.sync("s3-integrator/0", LEAKY_ACCESS, LEAKY_SECRET);
    l.action(
        "s3-integrator/1",
        "sync-s3-credentials",
        &[("access-key", LEAKY_ACCESS), ("secret-key", "x")],
    );
    l.config(
        INTEGRATOR,
        &[("endpoint", "https://s3.example.com"), ("region", "r1")],
    );
    l.action("s3-integrator/0", "get-s3-connection-info", &[]);
    l.action("s3-integrator/1", "get-s3-connection-info", &[]);
    l.action("s3-consumer/0", "get-credentials-info", &[]);
    l.action("s3-consumer/1", "get-credentials-info", &[]);
    let shown = l.action("s3-integrator/0", "get-s3-credentials", &[]);
    assert_eq!(shown.results["secret-key"], LEAKY_SECRET);
    l.action("s3-integrator/1", "get-s3-credentials", &[]);
    l.m.run_hook("s3-consumer/1", HookSpec::simple("update-status"))
        .unwrap();
    l.m.set_leader("s3-integrator/1").unwrap();
    l.settle();
    l.sync("s3-integrator/1", LEAKY_ACCESS, LEAKY_ROTATED);
    assert_eq!(l.sent(rel)["secret-key"], LEAKY_ROTATED);
    // The model's state while related: only the secrets hold them.
    assert_clean_state(&l, &canaries);
    l.m.remove_relation(INTEGRATOR, Some(CONSUMER)).unwrap();
    l.settle();

    let found = |text: &str| canaries.iter().any(|c| text.contains(c));

    // The timeline: juju-log lines, stdout/stderr, tool-call argv, events, changes.
    let timeline = l.m.timeline().unwrap();
    let debug_lines = timeline
        .iter()
        .flat_map(|r| r.juju_log.iter())
        .filter(|(level, _)| level == "DEBUG")
        .count();
    assert!(debug_lines > 0, "debug logging reached juju-log");
    let mut allowed_hits = 0;
    for record in &timeline {
        let mut value = serde_json::to_value(record).unwrap();
        if record.kind == "action" && record.hook.name == "sync-s3-credentials" {
            // The operator's input.
            if found(&record.hook.action_params.as_ref().unwrap().to_string()) {
                allowed_hits += 1;
            }
            strip(&mut value, &["hook", "action_params"]);
        }
        if record.kind == "action" && record.hook.name == "get-s3-credentials" {
            // action-set takes its results on argv: the only way to return them.
            for call in &record.tools {
                if call.tool == "action-set" && found(&call.args.join(" ")) {
                    allowed_hits += 1;
                }
            }
            let tools = value["tools"].as_array_mut().unwrap();
            tools.retain(|t| t["tool"] != "action-set");
        }
        let rest = value.to_string();
        assert!(
            !found(&rest),
            "a credential leaked in dispatch #{} ({} on {}): {rest}",
            record.seq,
            record.hook.name,
            record.unit
        );
        // Secret content went to the tools through files; none is left behind.
        for call in &record.tools {
            for arg in &call.args {
                if let Some((_, path)) = arg.split_once("#file=") {
                    assert!(!Path::new(path).exists(), "{path} was left behind");
                }
            }
        }
    }
    assert!(
        allowed_hits >= 4,
        "the scan sees the allowed places ({allowed_hits})"
    );

    // The model's state after the relation is gone: statuses, action results, bags, secrets.
    assert_clean_state(&l, &canaries);

    // Every other file the model holds: the charms' own state files included.
    let mut files = Vec::new();
    files_under(l.m.dir(), &mut files);
    let names: Vec<String> = files.iter().map(|(p, _)| p.display().to_string()).collect();
    assert!(
        names
            .iter()
            .filter(|n| n.ends_with(".charm-state.json"))
            .count()
            >= 4,
        "{names:?}"
    );
    for (path, text) in &files {
        let name = path.file_name().unwrap().to_string_lossy();
        if name == "state.json" || name == "timeline.jsonl" {
            continue;
        }
        assert!(!found(text), "a credential leaked in {}", path.display());
    }
}
