//! The real charm binaries through the local Juju model (`juju-local`): manifests-tester (the Rust
//! requirer) and a LIBPATCH 1 style shell-script requirer against resource-dispatcher (the Rust
//! provider), over the real hook-tool protocol, with Juju's commit semantics, hook ordering and
//! secret bookkeeping (revisions, tracking, `secret-changed`, `secret-remove`, grants).
//!
//! Every assertion is on what Juju would hold or show: databags, statuses, secrets and their
//! revisions in `state()`, library events and hook-tool calls in the timeline, action results.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use interface_tests_common::{
    assert_never_an_option, charm_dir, model, run_story, temp_dir, tool_calls, workspace_root,
};
use juju_local::ActionOutcome;
use juju_local::state::{ModelState, Secret};
use juju_local::timeline::HookRecord;
use juju_local::{DeployOptions, Model};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

const DISPATCHER: &str = "resource-dispatcher";
const UPDATED: &str = "kubernetes_manifests.updated";

/// A ConfigMap manifest as YAML.
fn config_map(name: &str, value: &str) -> String {
    format!(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\ndata:\n  mode: \"{value}\"\n"
    )
}

/// A model with the charm directories of both Rust charms and of the shell-script requirer.
struct Fixture {
    m: Model,
    charms: PathBuf,
}

/// The LIBPATCH 1 requirer: `plain-requirer/` with its script made the `dispatch` executable.
fn plain_requirer_dir(into: &Path) -> PathBuf {
    let src = workspace_root().join("interface-tests/kubernetes_manifests/plain-requirer");
    let dir = into.join("plain-requirer");
    std::fs::create_dir_all(&dir).unwrap();
    for f in ["metadata.yaml", "config.yaml"] {
        std::fs::copy(src.join(f), dir.join(f)).unwrap();
    }
    std::fs::copy(src.join("dispatch.sh"), dir.join("dispatch")).unwrap();
    std::fs::set_permissions(dir.join("dispatch"), std::fs::Permissions::from_mode(0o755)).unwrap();
    dir
}

impl Fixture {
    fn new(name: &str) -> Fixture {
        let charms = temp_dir(&format!("km-{name}"));
        charm_dir(DISPATCHER, &charms);
        charm_dir("manifests-tester", &charms);
        plain_requirer_dir(&charms);
        Fixture {
            m: model(&format!("km-{name}")),
            charms,
        }
    }

    fn deploy(&self, charm: &str, app: &str, units: u32, config: &[(&str, &str)]) {
        self.m
            .deploy(
                &self.charms.join(charm),
                DeployOptions {
                    app: Some(app.into()),
                    units: Some(units),
                    config: config
                        .iter()
                        .map(|(k, v)| (k.to_string(), v.to_string()))
                        .collect(),
                    ..Default::default()
                },
            )
            .unwrap();
    }

    /// Settles the model; no unit may be left in error.
    fn settle(&self) {
        let report = self.m.settle(500).unwrap();
        assert!(report.errors.is_empty(), "{:?}", report.errors);
    }

    fn relate(&self, a: &str, b: &str) -> u64 {
        let id = self.m.relate(a, b).unwrap();
        self.settle();
        id
    }

    fn config(&self, app: &str, key: &str, value: &str) {
        self.m
            .config(app, &[(key.to_string(), value.to_string())], &[])
            .unwrap();
        self.settle();
    }

    fn state(&self) -> ModelState {
        self.m.state().unwrap()
    }

    /// `status: message` of a unit.
    fn status(&self, unit: &str) -> String {
        let st = self.state();
        let u = st.unit(unit).unwrap();
        format!("{}: {}", u.status.status, u.status.message)
    }

    fn action(&self, unit: &str, name: &str, params: &[(&str, &str)]) -> ActionOutcome {
        let params: Vec<(String, String)> = params
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let out = self.m.run_action(unit, name, &params).unwrap();
        assert_eq!(out.status, "completed", "{out:?}");
        out
    }

    /// The timeline records after the first `skip`.
    fn since(&self, skip: usize) -> Vec<HookRecord> {
        self.m.timeline().unwrap().into_iter().skip(skip).collect()
    }

    fn timeline_len(&self) -> usize {
        self.m.timeline().unwrap().len()
    }
}

/// The application-owned secret `app` publishes under `label`.
fn secret<'a>(st: &'a ModelState, app: &str, label: &str) -> Option<&'a Secret> {
    st.secrets.values().find(|s| {
        s.owner.kind == "application" && s.owner.name == app && s.label.as_deref() == Some(label)
    })
}

/// The secrets `app` owns.
fn secrets_of<'a>(st: &'a ModelState, app: &str) -> Vec<&'a Secret> {
    st.secrets
        .values()
        .filter(|s| s.owner.name == app)
        .collect()
}

/// The manifest list in a secret revision (content is base64 in the state file).
fn revision_manifests(s: &Secret, revision: u32) -> Value {
    let text = s.revisions[&revision].decoded()["manifests"].clone();
    serde_json::from_str(&text).unwrap()
}

/// `kind/name` of every manifest in a list.
fn names(list: &Value) -> Vec<String> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|m| {
            format!(
                "{}/{}",
                m["kind"].as_str().unwrap(),
                m["metadata"]["name"].as_str().unwrap()
            )
        })
        .collect()
}

/// The `kubernetes_manifests.updated` events a unit emitted in these records, as (hook, fields).
fn updates(records: &[HookRecord], unit: &str) -> Vec<(String, Value)> {
    records
        .iter()
        .filter(|r| r.unit == unit)
        .flat_map(|r| {
            r.events
                .iter()
                .filter(|e| e.event == UPDATED)
                .map(|e| (r.hook.name.clone(), e.fields.clone()))
        })
        .collect()
}

fn tools_called(record: &HookRecord) -> Vec<&str> {
    record.tools.iter().map(|t| t.tool.as_str()).collect()
}

#[test]
fn the_kubernetes_manifests_demo_story_passes_with_the_debug_binaries() {
    let result = run_story("kubernetes_manifests");
    assert!(result.passed, "{:?}", result.failure());
    assert!(result.hooks_run > 30, "{}", result.hooks_run);
    assert!(result.steps.iter().any(|s| s.kind == "action"));
}

#[test]
fn relate_then_update_flows_through_a_secret_with_new_revisions_and_pruning() {
    let f = Fixture::new("flow");
    f.deploy(DISPATCHER, DISPATCHER, 1, &[]);
    f.deploy("manifests-tester", "tester", 2, &[]);
    let sa = f.relate(
        "tester:service-accounts",
        "resource-dispatcher:service-accounts",
    );
    let cm = f.relate("tester:config-maps", "resource-dispatcher:config-maps");

    // The leader published each relation's list in its own secret, granted on that relation.
    let st = f.state();
    let sa_secret = secret(&st, "tester", &format!("manifest.service-accounts.{sa}")).unwrap();
    let cm_secret = secret(&st, "tester", &format!("manifest.config-maps.{cm}")).unwrap();
    assert_eq!(secrets_of(&st, "tester").len(), 2);
    let sa_bag = st.bag(sa, "tester").unwrap();
    assert_eq!(
        sa_bag,
        BTreeMap::from([
            ("is_secret".to_string(), "true".to_string()),
            ("kubernetes_manifests".to_string(), sa_secret.uri()),
        ])
    );
    assert_eq!(
        st.bag(cm, "tester").unwrap()["kubernetes_manifests"],
        cm_secret.uri()
    );
    assert!(
        sa_secret
            .grants
            .iter()
            .any(|g| g.app == DISPATCHER && g.relation == Some(sa))
    );
    assert!(!sa_secret.grants.iter().any(|g| g.relation == Some(cm)));
    assert_eq!(
        names(&revision_manifests(sa_secret, sa_secret.latest)),
        [
            "ServiceAccount/dummy-sa-1",
            "ServiceAccount/other-dummy-sa-1"
        ]
    );
    assert_eq!(revision_manifests(cm_secret, cm_secret.latest), json!([]));
    // The provider writes nothing, and tracks the secret under its own label.
    assert!(st.bag(sa, DISPATCHER).unwrap_or_default().is_empty());
    let seen = &sa_secret.consumers["resource-dispatcher/0"];
    assert_eq!(
        seen.label.as_deref(),
        Some(format!("manifest.service-accounts.{sa}").as_str())
    );
    assert_eq!(seen.revision, sa_secret.latest);
    assert_eq!(
        f.status("resource-dispatcher/0"),
        "active: 2 manifests from 1 app"
    );
    assert_eq!(
        f.status("tester/0"),
        "active: 2 manifests to send: 2 service-accounts"
    );
    let cm_rev = cm_secret.latest;
    let cm_id = cm_secret.id.clone();
    let sa_rev = sa_secret.latest;

    // Update: a config change makes a new revision of the config-maps secret only.
    let before = f.timeline_len();
    f.config("tester", "manifests", &config_map("settings", "0755"));
    let st = f.state();
    let cm_secret = secret(&st, "tester", &format!("manifest.config-maps.{cm}")).unwrap();
    assert_eq!(cm_secret.id, cm_id, "the same secret, a new revision");
    assert_eq!(cm_secret.latest, cm_rev + 1);
    assert_eq!(
        revision_manifests(cm_secret, cm_secret.latest),
        json!([{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "settings"}, "data": {"mode": "0755"}}])
    );
    // The old revision was pruned by the owner's leader on secret-remove.
    assert_eq!(
        cm_secret.revisions.keys().copied().collect::<Vec<_>>(),
        [cm_rev + 1]
    );
    let sa_secret = secret(&st, "tester", &format!("manifest.service-accounts.{sa}")).unwrap();
    assert_eq!(
        sa_secret.latest, sa_rev,
        "identical content makes no revision"
    );
    assert_eq!(
        cm_secret.consumers["resource-dispatcher/0"].revision,
        cm_rev + 1
    );
    let new = f.since(before);
    // secret-changed reached the dispatcher, which found the relation by its label.
    let changed = new
        .iter()
        .find(|r| r.unit == "resource-dispatcher/0" && r.hook.name == "secret-changed")
        .expect("secret-changed on the dispatcher");
    assert_eq!(changed.hook.secret.as_deref(), Some(cm_secret.id.as_str()));
    assert_eq!(
        updates(&new, "resource-dispatcher/0"),
        [(
            "secret-changed".to_string(),
            json!({"relation": {"endpoint": "config-maps", "id": cm}, "app": "tester", "cause": "secret-changed"})
        )]
    );
    let removed = new
        .iter()
        .find(|r| r.hook.name == "secret-remove")
        .expect("secret-remove on the owner");
    assert_eq!(removed.unit, "tester/0");
    assert_eq!(removed.hook.secret_revision, Some(cm_rev));
    assert!(tools_called(removed).contains(&"secret-remove"));
    assert_eq!(
        f.status("resource-dispatcher/0"),
        "active: 3 manifests from 1 app"
    );
    assert_eq!(
        f.status("tester/1"),
        "active: 3 manifests to send: 2 service-accounts, 1 config-maps"
    );

    // The same manifests written differently: no new revision, nothing for the dispatcher.
    let before = f.timeline_len();
    f.config(
        "tester",
        "manifests",
        &format!("# same object\n{}", config_map("settings", "0755")),
    );
    let st = f.state();
    assert_eq!(
        secret(&st, "tester", &format!("manifest.config-maps.{cm}"))
            .unwrap()
            .latest,
        cm_rev + 1
    );
    let new = f.since(before);
    assert!(
        new.iter().all(|r| r.unit != "resource-dispatcher/0"),
        "{new:?}"
    );

    // The get-manifests action shows what the dispatcher holds.
    let out = f.action("resource-dispatcher/0", "get-manifests", &[]);
    assert_eq!(out.results["count"], "3");
    assert_eq!(out.results["apps"], "1");
    let docs = out.results["manifests"].as_str().unwrap();
    assert_eq!(docs.matches("\n---\n").count(), 2, "{docs}");
    assert!(
        docs.contains("name: dummy-sa-1") && docs.contains("name: settings"),
        "{docs}"
    );
    assert!(
        docs.contains("mode: \"0755\""),
        "YAML keeps the string a string: {docs}"
    );
    assert!(out.results.get("errors").is_none());
}

#[test]
fn two_apps_on_several_endpoints_then_relation_removal_drops_that_apps_manifests() {
    let f = Fixture::new("apps");
    f.deploy(DISPATCHER, DISPATCHER, 2, &[]);
    f.deploy(
        "manifests-tester",
        "tester-a",
        1,
        &[("manifests", &config_map("a-settings", "a"))],
    );
    let secret_manifest = "apiVersion: v1\nkind: Secret\nmetadata:\n  name: b-creds\n  namespace: team-b\nstringData:\n  password: hunter2\n";
    f.deploy(
        "manifests-tester",
        "tester-b",
        1,
        &[(
            "manifests",
            &format!("{}---\n{secret_manifest}", config_map("b-settings", "b")),
        )],
    );
    let a_sa = f.relate(
        "tester-a:service-accounts",
        "resource-dispatcher:service-accounts",
    );
    let a_cm = f.relate("tester-a:config-maps", "resource-dispatcher:config-maps");
    let b_cm = f.relate("tester-b:config-maps", "resource-dispatcher:config-maps");
    let b_sec = f.relate("tester-b:secrets", "resource-dispatcher:secrets");

    // Every dispatcher unit aggregates: 2 ServiceAccounts + a-settings from a, b-settings and the
    // Secret from b.
    for unit in ["resource-dispatcher/0", "resource-dispatcher/1"] {
        assert_eq!(f.status(unit), "active: 5 manifests from 2 apps", "{unit}");
    }
    let st = f.state();
    assert_eq!(secrets_of(&st, "tester-a").len(), 2);
    assert_eq!(secrets_of(&st, "tester-b").len(), 2);
    // A grant is per relation: tester-b's config-maps secret is not granted on its secrets relation.
    let b_cm_secret = secret(&st, "tester-b", &format!("manifest.config-maps.{b_cm}")).unwrap();
    assert_eq!(
        b_cm_secret
            .grants
            .iter()
            .map(|g| g.relation)
            .collect::<Vec<_>>(),
        [Some(b_cm)]
    );
    let b_cm_id = b_cm_secret.id.clone();
    // Both dispatcher units track it, each under the label for its relation.
    for unit in ["resource-dispatcher/0", "resource-dispatcher/1"] {
        let c = &b_cm_secret.consumers[unit];
        assert_eq!(
            c.label.as_deref(),
            Some(format!("manifest.config-maps.{b_cm}").as_str())
        );
    }
    // Each relation-changed named its own relation and app.
    let events = updates(&f.since(0), "resource-dispatcher/1");
    for (rel, endpoint, app) in [
        (a_sa, "service-accounts", "tester-a"),
        (a_cm, "config-maps", "tester-a"),
        (b_cm, "config-maps", "tester-b"),
        (b_sec, "secrets", "tester-b"),
    ] {
        let want = json!({"relation": {"endpoint": endpoint, "id": rel}, "app": app, "cause": "relation-changed"});
        assert!(
            events.iter().any(|(_, f)| *f == want),
            "{want} in {events:?}"
        );
    }

    // The action on a non-leader unit: Secret data redacted unless asked for.
    let out = f.action("resource-dispatcher/1", "get-manifests", &[]);
    assert_eq!(
        (out.results["count"].as_str(), out.results["apps"].as_str()),
        (Some("5"), Some("2"))
    );
    let docs = out.results["manifests"].as_str().unwrap();
    // Endpoint order: secrets, service-accounts, ..., config-maps.
    let order: Vec<usize> = ["b-creds", "dummy-sa-1", "a-settings", "b-settings"]
        .iter()
        .map(|n| docs.find(&format!("name: {n}")).unwrap())
        .collect();
    assert!(order.windows(2).all(|w| w[0] < w[1]), "{docs}");
    assert!(docs.contains("password: <redacted>"), "{docs}");
    assert!(!docs.contains("hunter2"), "{docs}");
    // The secret's value appears in no log, status, tool argument or output of any hook.
    let timeline = serde_json::to_string(&f.m.timeline().unwrap()).unwrap();
    assert!(!timeline.contains("hunter2"));
    let shown = f.action(
        "resource-dispatcher/0",
        "get-manifests",
        &[("show-secrets", "true")],
    );
    assert!(
        shown.results["manifests"]
            .as_str()
            .unwrap()
            .contains("password: hunter2")
    );

    // Removing tester-b's config-maps relation: the dispatcher drops b-settings, tester-b removes
    // that relation's secret; everything else stays.
    let before = f.timeline_len();
    f.m.remove_relation(
        "tester-b:config-maps",
        Some("resource-dispatcher:config-maps"),
    )
    .unwrap();
    f.settle();
    for unit in ["resource-dispatcher/0", "resource-dispatcher/1"] {
        assert_eq!(f.status(unit), "active: 4 manifests from 2 apps", "{unit}");
    }
    let st = f.state();
    assert!(!st.relations.contains_key(&b_cm));
    assert!(
        !st.secrets.contains_key(&b_cm_id),
        "tester-b removed the relation's secret"
    );
    assert_eq!(secrets_of(&st, "tester-b").len(), 1);
    assert_eq!(secrets_of(&st, "tester-a").len(), 2);
    let new = f.since(before);
    let broken = new
        .iter()
        .find(|r| r.unit == "tester-b/0" && r.hook.name == "config-maps-relation-broken")
        .unwrap();
    assert!(tools_called(broken).contains(&"secret-remove"));
    assert_eq!(
        updates(&new, "resource-dispatcher/0"),
        [(
            "config-maps-relation-broken".to_string(),
            json!({"relation": {"endpoint": "config-maps", "id": b_cm}, "app": "tester-b", "cause": "relation-broken"})
        )]
    );
    let out = f.action("resource-dispatcher/0", "get-manifests", &[]);
    let docs = out.results["manifests"].as_str().unwrap();
    assert!(
        !docs.contains("b-settings") && docs.contains("a-settings"),
        "{docs}"
    );

    // And the last relation of tester-b.
    f.m.remove_relation("tester-b:secrets", Some("resource-dispatcher:secrets"))
        .unwrap();
    f.settle();
    assert_eq!(
        f.status("resource-dispatcher/0"),
        "active: 3 manifests from 1 app"
    );
    assert!(secrets_of(&f.state(), "tester-b").is_empty());
}

#[test]
fn a_new_leader_keeps_sending_to_the_same_secret() {
    let f = Fixture::new("leader");
    f.deploy(DISPATCHER, DISPATCHER, 1, &[]);
    f.deploy(
        "manifests-tester",
        "tester",
        2,
        &[("manifests", &config_map("settings", "1"))],
    );
    let cm = f.relate("tester:config-maps", "resource-dispatcher:config-maps");
    let label = format!("manifest.config-maps.{cm}");
    let st = f.state();
    let first = secret(&st, "tester", &label).unwrap().clone();
    let uri = st.bag(cm, "tester").unwrap()["kubernetes_manifests"].clone();
    assert_eq!(uri, first.uri());

    // Leadership moves: the new leader re-sends identical content (no revision, no new secret).
    let before = f.timeline_len();
    f.m.set_leader("tester/1").unwrap();
    f.settle();
    let new = f.since(before);
    let elected = new
        .iter()
        .find(|r| r.unit == "tester/1" && r.hook.name == "leader-elected")
        .unwrap();
    assert!(
        tools_called(elected).contains(&"secret-set"),
        "{:?}",
        tools_called(elected)
    );
    let st = f.state();
    assert_eq!(secrets_of(&st, "tester").len(), 1, "no duplicate secret");
    assert_eq!(secret(&st, "tester", &label).unwrap().latest, first.latest);

    // A change now goes from tester/1 into the same secret; tester/0 writes nothing.
    let before = f.timeline_len();
    f.config("tester", "manifests", &config_map("settings", "2"));
    let new = f.since(before);
    let st = f.state();
    assert_eq!(secrets_of(&st, "tester").len(), 1, "no duplicate secret");
    let now = secret(&st, "tester", &label).unwrap();
    assert_eq!(now.id, first.id);
    assert_eq!(now.latest, first.latest + 1);
    assert_eq!(st.bag(cm, "tester").unwrap()["kubernetes_manifests"], uri);
    assert_eq!(revision_manifests(now, now.latest)[0]["data"]["mode"], "2");
    let follower = new
        .iter()
        .find(|r| r.unit == "tester/0" && r.hook.name == "config-changed")
        .unwrap();
    assert!(
        tools_called(follower)
            .iter()
            .all(|t| !t.starts_with("secret-") && *t != "relation-set"),
        "{:?}",
        tools_called(follower)
    );
    // The new leader prunes the revision nobody tracks any more.
    let removed = new.iter().find(|r| r.hook.name == "secret-remove").unwrap();
    assert_eq!(removed.unit, "tester/1");
    assert_eq!(
        now.revisions.keys().copied().collect::<Vec<_>>(),
        [now.latest]
    );
    assert_eq!(now.consumers["resource-dispatcher/0"].revision, now.latest);
    let out = f.action("resource-dispatcher/0", "get-manifests", &[]);
    assert!(
        out.results["manifests"]
            .as_str()
            .unwrap()
            .contains("mode: \"2\"")
    );
    // sent-manifests on the new leader names what it publishes.
    let sent = f.action("tester/1", "sent-manifests", &[]);
    assert_eq!(
        sent.results["config-maps"],
        format!("config-maps:{cm}: ConfigMap settings")
    );
    // On the old leader the action fails (the framework turns the Blocked error into
    // action-fail); the unit's status is untouched and the unit is not in error.
    let refused = f.m.run_action("tester/0", "sent-manifests", &[]).unwrap();
    assert_eq!(refused.status, "failed");
    assert_eq!(
        refused.message,
        "run sent-manifests on the leader: only it reads the application's secrets"
    );
    assert_eq!(
        f.status("tester/0"),
        "active: 3 manifests to send: 2 service-accounts, 1 config-maps"
    );
    assert!(f.state().unit("tester/0").unwrap().agent.error.is_none());
}

#[test]
fn invalid_yaml_in_config_blocks_the_tester_and_the_dispatcher_keeps_what_it_had() {
    let f = Fixture::new("bad-yaml");
    f.deploy(DISPATCHER, DISPATCHER, 1, &[]);
    f.deploy(
        "manifests-tester",
        "tester",
        1,
        &[("manifests", &config_map("settings", "ok"))],
    );
    let cm = f.relate("tester:config-maps", "resource-dispatcher:config-maps");
    let label = format!("manifest.config-maps.{cm}");
    let rev = secret(&f.state(), "tester", &label).unwrap().latest;

    for (bad, why) in [
        (
            "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: \"unclosed\n",
            "config manifests: invalid YAML",
        ),
        (
            "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\n",
            "config manifests: manifest 1 has kind \"Deployment\", which no endpoint takes",
        ),
    ] {
        let before = f.timeline_len();
        f.config("tester", "manifests", bad);
        let status = f.status("tester/0");
        assert!(status.starts_with(&format!("blocked: {why}")), "{status}");
        // Nothing was sent: same revision, the dispatcher ran no hook and still holds settings.
        assert_eq!(secret(&f.state(), "tester", &label).unwrap().latest, rev);
        assert!(f.since(before).iter().all(|r| r.unit == "tester/0"));
        assert_eq!(
            f.status("resource-dispatcher/0"),
            "active: 1 manifest from 1 app"
        );
        let out = f.action("resource-dispatcher/0", "get-manifests", &[]);
        assert!(
            out.results["manifests"]
                .as_str()
                .unwrap()
                .contains("name: settings")
        );
    }

    // Fixed: sent again, as a new revision.
    f.config("tester", "manifests", &config_map("fixed", "ok"));
    assert_eq!(
        f.status("tester/0"),
        "active: 3 manifests to send: 2 service-accounts, 1 config-maps"
    );
    assert_eq!(
        secret(&f.state(), "tester", &label).unwrap().latest,
        rev + 1
    );
    let out = f.action("resource-dispatcher/0", "get-manifests", &[]);
    let docs = out.results["manifests"].as_str().unwrap();
    assert!(
        docs.contains("name: fixed") && !docs.contains("name: settings"),
        "{docs}"
    );
}

#[test]
fn the_same_manifest_from_two_apps_blocks_the_dispatcher_until_one_leaves() {
    let f = Fixture::new("conflict");
    f.deploy(DISPATCHER, DISPATCHER, 1, &[]);
    f.deploy("manifests-tester", "tester-a", 1, &[]);
    f.deploy("manifests-tester", "tester-b", 1, &[]);
    f.relate(
        "tester-a:service-accounts",
        "resource-dispatcher:service-accounts",
    );
    assert_eq!(
        f.status("resource-dispatcher/0"),
        "active: 2 manifests from 1 app"
    );
    // Both send the built-in ServiceAccounts.
    f.relate(
        "tester-b:service-accounts",
        "resource-dispatcher:service-accounts",
    );
    assert_eq!(
        f.status("resource-dispatcher/0"),
        "blocked: Conflicting manifests (namespace=None name='dummy-sa-1'; namespace=None name='other-dummy-sa-1'). See debug logs."
    );
    let out = f.action("resource-dispatcher/0", "get-manifests", &[]);
    assert_eq!(out.results["count"], "4");
    // A conflict is reported, not a hook failure: the log names both.
    let logged =
        f.m.timeline()
            .unwrap()
            .iter()
            .flat_map(|r| r.juju_log.clone())
            .any(|(level, msg)| {
                level == "WARNING"
                    && msg.contains("ServiceAccount other-dummy-sa-1 sent by tester-a and tester-b")
            });
    assert!(logged);

    f.m.remove_relation("tester-a", Some(DISPATCHER)).unwrap();
    f.settle();
    assert_eq!(
        f.status("resource-dispatcher/0"),
        "active: 2 manifests from 1 app"
    );
}

#[test]
fn a_libpatch_1_requirer_sends_plain_json_and_bad_data_blocks_only_its_relation() {
    let f = Fixture::new("plain");
    f.deploy(DISPATCHER, DISPATCHER, 1, &[]);
    f.deploy(
        "manifests-tester",
        "tester",
        1,
        &[("manifests", &config_map("settings", "x"))],
    );
    let legacy_list = r#"[{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "legacy", "namespace": "team-l"}, "data": {"enabled": true}}]"#;
    f.deploy(
        "plain-requirer",
        "legacy",
        2,
        &[("manifests-json", legacy_list)],
    );
    f.relate("tester:config-maps", "resource-dispatcher:config-maps");
    let plain = f.relate("legacy:config-maps", "resource-dispatcher:config-maps");

    // The plain form: the JSON list itself in the bag, no is_secret, no secret.
    let st = f.state();
    assert_eq!(
        st.bag(plain, "legacy").unwrap(),
        BTreeMap::from([("kubernetes_manifests".to_string(), legacy_list.to_string())])
    );
    assert!(secrets_of(&st, "legacy").is_empty());
    assert_eq!(f.status("legacy/1"), "active: follower");
    assert_eq!(
        f.status("resource-dispatcher/0"),
        "active: 2 manifests from 2 apps"
    );
    let out = f.action("resource-dispatcher/0", "get-manifests", &[]);
    let docs = out.results["manifests"].as_str().unwrap();
    assert!(
        docs.contains("name: legacy\n  namespace: team-l\n"),
        "{docs}"
    );
    assert!(docs.contains("enabled: true"), "{docs}");
    let plain_changed = updates(&f.since(0), "resource-dispatcher/0")
        .into_iter()
        .filter(|(_, e)| e["relation"]["id"] == plain)
        .count();
    assert!(plain_changed >= 1);

    let rel = format!("relation config-maps:{plain} (app legacy)");
    for (value, is_secret, want) in [
        (
            r#"[{"apiVersion": "v1", "kind": "#,
            "",
            format!("blocked: {rel}: relation data kubernetes_manifests: invalid JSON"),
        ),
        (
            r#"{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x"}}"#,
            "",
            format!(
                "blocked: {rel}: relation data kubernetes_manifests: expected a JSON list of manifests, found"
            ),
        ),
        (
            "secret:d0000000000000000000",
            "",
            format!(
                "blocked: {rel}: kubernetes_manifests holds a secret URI but is_secret is absent, not \"true\""
            ),
        ),
        (
            "secret:d0000000000000000000",
            "true",
            format!(
                "waiting: {rel}: secret secret:d0000000000000000000 does not exist or is not granted to this application"
            ),
        ),
    ] {
        f.m.config(
            "legacy",
            &[
                ("manifests-json".to_string(), value.to_string()),
                ("is-secret".to_string(), is_secret.to_string()),
            ],
            &[],
        )
        .unwrap();
        f.settle();
        let status = f.status("resource-dispatcher/0");
        assert!(status.starts_with(&want), "{status}\nwanted {want}");
        // The tester's relation is still read.
        let out = f.action("resource-dispatcher/0", "get-manifests", &[]);
        assert_eq!(out.results["count"], "1", "{out:?}");
        assert!(
            out.results["manifests"]
                .as_str()
                .unwrap()
                .contains("name: settings")
        );
        let errors = out.results["errors"].as_str().unwrap();
        assert!(errors.starts_with(&rel), "{errors}");
    }

    // Back to a good list.
    f.m.config(
        "legacy",
        &[
            ("manifests-json".to_string(), legacy_list.to_string()),
            ("is-secret".to_string(), String::new()),
        ],
        &[],
    )
    .unwrap();
    f.settle();
    assert_eq!(
        f.status("resource-dispatcher/0"),
        "active: 2 manifests from 2 apps"
    );
}

/// A requirer that writes option-shaped text where a secret id belongs (issue 10: the value used
/// to reach `secret-get`'s argv, so `--output=<path>` made the agent write the secret to a file):
/// the dispatcher never passes it to any hook tool as an option, calls no `secret-get` at all,
/// and is Blocked naming the relation and the key.
#[test]
fn option_shaped_secret_ids_from_a_requirer_never_reach_a_hook_tool() {
    let f = Fixture::new("option-ids");
    f.deploy(DISPATCHER, DISPATCHER, 1, &[]);
    f.deploy("plain-requirer", "legacy", 1, &[("manifests-json", "[]")]);
    let rel = f.relate("legacy:config-maps", "resource-dispatcher:config-maps");
    let leak = f.charms.join("leaked-secret.json");
    let output = format!("--output={}", leak.display());
    for value in [
        output.as_str(),
        "-o",
        "--peek",
        "--label=stolen",
        "secret:--output=x",
        "secret:d0000000000000000000 --refresh",
    ] {
        let mark = f.timeline_len();
        f.m.config(
            "legacy",
            &[
                ("manifests-json".to_string(), value.to_string()),
                ("is-secret".to_string(), "true".to_string()),
            ],
            &[],
        )
        .unwrap();
        f.settle();
        let records = f.since(mark);
        assert!(
            records.iter().any(|r| r.unit == "resource-dispatcher/0"
                && r.hook.name == "config-maps-relation-changed"),
            "{value}: the dispatcher was not told"
        );
        assert!(records.iter().all(|r| r.outcome == "ok"), "{value}");
        assert_never_an_option(&records, "resource-dispatcher/0", value);
        let calls = tool_calls(&records, "resource-dispatcher/0");
        assert!(
            calls.iter().all(|c| c[0] != "secret-get"),
            "{value}: {calls:?}"
        );
        let why = charm::SecretId::parse(value).unwrap_err();
        assert!(why.to_string().contains(" is not a Juju secret id "));
        assert_eq!(
            f.status("resource-dispatcher/0"),
            format!(
                "blocked: relation config-maps:{rel} (app legacy): key kubernetes_manifests: {why}"
            )
        );
        // The status itself carries the value only as data, after `--`.
        let set = calls.iter().rfind(|c| c[0] == "status-set").unwrap();
        assert_eq!(
            set[..4],
            ["status-set", "--application=False", "blocked", "--"]
        );
    }
    assert!(
        !leak.exists(),
        "the secret was written to {}",
        leak.display()
    );
}

/// get-manifests over many manifests: the result does not fit in one `action-set` argument
/// (Linux's 128 KiB), so the action fails saying so, instead of an OS error (E2BIG) failing the
/// hook.
#[test]
fn get_manifests_too_large_for_one_argument_fails_the_action_with_a_clear_message() {
    let f = Fixture::new("big-action");
    f.deploy(DISPATCHER, DISPATCHER, 1, &[]);
    let many: Vec<String> = (0..2000)
        .map(|i| config_map(&format!("settings-{i:04}"), "some value"))
        .collect();
    f.deploy(
        "manifests-tester",
        "tester",
        1,
        &[("manifests", &many.join("---\n"))],
    );
    f.relate("tester:config-maps", "resource-dispatcher:config-maps");
    assert_eq!(
        f.status("resource-dispatcher/0"),
        "active: 2000 manifests from 1 app"
    );
    let mark = f.timeline_len();
    let out =
        f.m.run_action("resource-dispatcher/0", "get-manifests", &[])
            .unwrap();
    assert_eq!(out.status, "failed", "{out:?}");
    assert!(
        out.message.starts_with(
            "get-manifests (2000 manifests): the action result \"manifests\" is too large to return: it takes"
        ) && out
            .message
            .ends_with("bytes and one action-set argument holds at most 131071"),
        "{}",
        out.message
    );
    let records = f.since(mark);
    assert!(
        records.iter().all(|r| r.outcome == "ok"),
        "the hook itself succeeds"
    );
    let calls = tool_calls(&records, "resource-dispatcher/0");
    assert!(calls.iter().all(|c| c[0] != "action-set"), "{calls:?}");
}
