//! resource-dispatcher through the harness.

// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use charm::secret::SecretContent;
use charm::{Event, Status};
use charm_testing::{Harness, Output, Relation, Secret, State};
use resource_dispatcher::{ManifestKey, find_conflicts};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, Ordering};

/// A real Pebble (the pebble-server crate) for this test's workload container.
struct Pod {
    dir: PathBuf,
    server: Option<pebble_server::RunningServer>,
}

impl Drop for Pod {
    fn drop(&mut self) {
        if let Some(server) = self.server.take() {
            server.stop();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

thread_local! {
    // Each test runs on a thread of its own: one container per test, shared by its hooks.
    static POD: Pod = {
        static N: AtomicU32 = AtomicU32::new(0);
        let dir = std::env::temp_dir().join(format!(
            "rd-pod-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::SeqCst)
        ));
        std::fs::create_dir_all(dir.join("root")).unwrap();
        std::fs::write(dir.join("root/main.py"), resource_dispatcher::WORKLOAD_STAND_IN).unwrap();
        let config = pebble_server::ServerConfig::new(dir.join("pebble.socket"), dir.join("root"));
        let server = pebble_server::Server::new(config).unwrap().spawn();
        Pod { dir, server: Some(server) }
    };
}

fn socket() -> PathBuf {
    POD.with(|p| p.dir.join("pebble.socket"))
}

/// The container's root directory on the host.
fn root() -> PathBuf {
    POD.with(|p| p.dir.join("root"))
}

fn harness() -> Harness {
    Harness::new(
        resource_dispatcher::charm_at(socket()),
        resource_dispatcher::METADATA,
    )
    .config_yaml(resource_dispatcher::CONFIG)
}

/// A harness whose container is not up.
fn harness_without_pebble() -> Harness {
    let missing = std::env::temp_dir().join("rd-no-pebble/pebble.socket");
    Harness::new(
        resource_dispatcher::charm_at(missing),
        resource_dispatcher::METADATA,
    )
    .config_yaml(resource_dispatcher::CONFIG)
}

fn secret_manifest(name: &str, namespace: Option<&str>) -> String {
    let ns = namespace
        .map(|n| format!(", \"namespace\": \"{n}\""))
        .unwrap_or_default();
    format!(
        r#"{{"apiVersion": "v1", "kind": "Secret", "metadata": {{"name": "{name}"{ns}, "labels": {{"user.kubeflow.org/enabled": "true"}}}}, "stringData": {{"AWS_ACCESS_KEY_ID": "access_key", "AWS_SECRET_ACCESS_KEY": "secret_access_key"}}}}"#
    )
}

fn list(items: &[String]) -> String {
    format!("[{}]", items.join(", "))
}

/// A requirer app on `secrets` that sent `items` in a secret.
fn sender(id: u32, app: &str, items: &[String]) -> (Relation, Secret) {
    let secret_id = format!("secret:s{id:019}");
    let rel = Relation::new("secrets", id, app).remote_app_data([
        ("kubernetes_manifests", secret_id.as_str()),
        ("is_secret", "true"),
    ]);
    let secret = Secret::granted(
        &secret_id,
        SecretContent::new().with("manifests", list(items)),
    );
    (rel, secret)
}

fn status(out: &Output) -> Status {
    out.state
        .unit_status
        .clone()
        .unwrap_or(Status::active("<none>"))
}

#[test]
fn first_hook_reads_every_endpoint_and_goes_active() {
    let out = harness().run(Event::Install, State::default());
    assert!(out.ok(), "{:?}", out.result);
    assert_eq!(status(&out), Status::active("0 manifests from 0 apps"));
    assert_eq!(out.calls_to("relation-ids"), 6);
}

#[test]
fn counts_manifests_and_apps() {
    let (a, sa) = sender(
        1,
        "mlflow",
        &[secret_manifest("one", None), secret_manifest("two", None)],
    );
    let b = Relation::new("service-accounts", 2, "kserve").remote_app_data([(
        "kubernetes_manifests",
        r#"[{"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "sa"}}]"#,
    )]);
    let state = State::default().relation(a.clone()).relation(b).secret(sa);
    let out = harness().run(a.changed(None), state);
    assert!(out.ok(), "{:?}", out.result);
    assert_eq!(status(&out), Status::active("3 manifests from 2 apps"));
}

#[test]
fn the_same_kind_namespace_and_name_from_two_apps_blocks() {
    let (a, sa) = sender(
        1,
        "app-a",
        &[secret_manifest("mlpipeline-minio-artifact", None)],
    );
    let (b, sb) = sender(
        2,
        "app-b",
        &[secret_manifest("mlpipeline-minio-artifact", None)],
    );
    let state = State::default()
        .relation(a.clone())
        .relation(b.clone())
        .secret(sa)
        .secret(sb);
    let out = harness().run(a.changed(None), state);
    assert!(out.ok());
    assert_eq!(
        status(&out),
        Status::blocked(
            "Conflicting manifests (namespace=None name='mlpipeline-minio-artifact'). See debug logs."
        )
    );
    // When one of them leaves, the conflict is gone.
    let out = harness().run(b.broken(), out.state);
    assert!(out.ok());
    assert_eq!(status(&out), Status::active("1 manifest from 1 app"));
}

#[test]
fn a_pinned_and_a_global_manifest_of_the_same_name_do_not_conflict() {
    let (a, sa) = sender(1, "app-a", &[secret_manifest("creds", None)]);
    let (b, sb) = sender(2, "app-b", &[secret_manifest("creds", Some("alice"))]);
    let state = State::default()
        .relation(a.clone())
        .relation(b)
        .secret(sa)
        .secret(sb);
    let out = harness().run(a.changed(None), state);
    assert_eq!(status(&out), Status::active("2 manifests from 2 apps"));
}

#[test]
fn conflicts_are_found_by_kind_namespace_and_name() {
    let key = |kind: &str, ns: Option<&str>, name: &str, app: &str| ManifestKey {
        kind: kind.into(),
        namespace: ns.map(Into::into),
        name: name.into(),
        app: app.into(),
    };
    let keys = [
        key("Secret", None, "x", "a"),
        key("ConfigMap", None, "x", "b"),
        key("Secret", Some("ns"), "x", "c"),
        key("Secret", None, "x", "d"),
        key("Role", None, "r", "a"),
        key("Role", None, "r", "a"),
    ];
    let conflicts = find_conflicts(&keys);
    let shown: Vec<String> = conflicts.iter().map(ToString::to_string).collect();
    assert_eq!(
        shown,
        ["Secret x sent by a and d", "Role r sent 2 times by a"]
    );
}

#[test]
fn bad_data_from_one_app_blocks_naming_it_but_keeps_the_others() {
    let (good, sg) = sender(1, "good", &[secret_manifest("one", None)]);
    let bad = Relation::new("secrets", 2, "bad").remote_app_data([(
        "kubernetes_manifests",
        r#"{"apiVersion": "v1", "kind": "Secret"}"#,
    )]);
    let state = State::default()
        .relation(good)
        .relation(bad.clone())
        .secret(sg);
    let out = harness().run(bad.changed(None), state);
    assert!(out.ok(), "bad remote data must not fail the hook");
    assert_eq!(
        status(&out),
        Status::blocked(
            "relation secrets:2 (app bad): relation data kubernetes_manifests: expected a JSON list of manifests, found a mapping"
        )
    );
    let summary = &out.state.stored["summary"]["endpoints"]["secrets"]["manifests"];
    assert_eq!(summary.as_array().map(Vec::len), Some(1), "{summary}");
}

#[test]
fn is_secret_true_with_a_capital_t_blocks_instead_of_crashing() {
    let bad = Relation::new("secrets", 2, "bad").remote_app_data([
        ("kubernetes_manifests", "secret:s2000000000000000000"),
        ("is_secret", "True"),
    ]);
    let out = harness().run(bad.changed(None), State::default().relation(bad.clone()));
    assert!(out.ok());
    assert_eq!(status(&out).kind, charm::StatusKind::Blocked);
    assert!(
        status(&out).message.contains("is_secret is \"True\""),
        "{:?}",
        status(&out)
    );
}

#[test]
fn a_secret_not_yet_visible_waits() {
    let rel = Relation::new("secrets", 2, "slow").remote_app_data([
        ("kubernetes_manifests", "secret:missing0000000000000"),
        ("is_secret", "true"),
    ]);
    let out = harness().run(rel.changed(None), State::default().relation(rel));
    assert!(out.ok());
    assert_eq!(
        status(&out),
        Status::waiting(
            "relation secrets:2 (app slow): secret secret:missing0000000000000 does not exist or is not granted to this application"
        )
    );
}

#[test]
fn a_failing_secret_get_fails_the_hook_for_a_retry() {
    let (a, sa) = sender(1, "app-a", &[secret_manifest("one", None)]);
    let out = harness()
        .fail("secret-get", "ERROR connection reset", None)
        .run(a.changed(None), State::default().relation(a).secret(sa));
    assert!(!out.ok());
    assert!(
        out.error()
            .unwrap()
            .contains("cannot read secret secret:s0000000000000000001"),
        "{:?}",
        out.error()
    );
}

#[test]
fn later_hooks_read_only_what_changed() {
    let (a, sa) = sender(1, "app-a", &[secret_manifest("one", None)]);
    let first = harness().run(
        Event::Install,
        State::default().relation(a.clone()).secret(sa),
    );
    assert!(first.ok());
    assert_eq!(status(&first), Status::active("1 manifest from 1 app"));
    // A relation-changed on `secrets`: one bag read, one secret read, one relation-ids, no status.
    let out = harness().run(a.changed(None), first.state.clone());
    assert!(out.ok());
    let tools: Vec<&str> = out.calls.iter().map(|c| c.tool).collect();
    assert_eq!(
        tools,
        ["relation-get", "secret-get", "relation-ids"],
        "{:?}",
        out.calls
    );
    // update-status: nothing at all.
    let out = harness().run(Event::UpdateStatus, first.state);
    assert!(out.ok());
    assert!(out.calls.is_empty(), "{:?}", out.calls);
}

#[test]
fn a_new_secret_revision_is_picked_up() {
    let (a, sa) = sender(1, "app-a", &[secret_manifest("one", None)]);
    let first = harness().run(a.changed(None), State::default().relation(a).secret(sa));
    let mut state = first.state;
    let secret = state.secrets.remove(0).revision(SecretContent::new().with(
        "manifests",
        list(&[secret_manifest("one", None), secret_manifest("two", None)]),
    ));
    assert_eq!(secret.label.as_deref(), Some("manifest.secrets.1"));
    let out = harness().run(secret.changed(), state.secret(secret));
    assert!(out.ok());
    assert_eq!(status(&out), Status::active("2 manifests from 1 app"));
}

#[test]
fn get_manifests_returns_yaml_with_secret_data_redacted() {
    let (a, sa) = sender(1, "app-a", &[secret_manifest("one", None)]);
    let b = Relation::new("config-maps", 2, "app-b").remote_app_data([(
        "kubernetes_manifests",
        r#"[{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cm"}, "data": {"enabled": true, "mode": 493}}]"#,
    )]);
    let state = State::default().relation(a).relation(b).secret(sa);
    let out = harness().run_action("get-manifests", serde_json::json!({}), state.clone());
    assert!(out.ok(), "{:?}", out.result);
    let r = &out.action.results;
    assert_eq!(r["count"], "2");
    assert_eq!(r["apps"], "2");
    let yaml = &r["manifests"];
    assert!(yaml.contains("kind: Secret"), "{yaml}");
    assert!(yaml.contains("AWS_SECRET_ACCESS_KEY: <redacted>"), "{yaml}");
    assert!(!yaml.contains("secret_access_key"), "{yaml}");
    assert!(
        yaml.contains("---\napiVersion: v1\nkind: ConfigMap"),
        "{yaml}"
    );
    assert!(
        yaml.contains("enabled: true") && yaml.contains("mode: 493"),
        "{yaml}"
    );
    assert!(!r.contains_key("errors"));
    let out = harness().run_action(
        "get-manifests",
        serde_json::json!({"show-secrets": true}),
        state,
    );
    assert!(out.action.results["manifests"].contains("AWS_SECRET_ACCESS_KEY: secret_access_key"));
}

#[test]
fn get_manifests_reports_bad_relations_and_returns_the_rest() {
    let bad = Relation::new("roles", 3, "bad").remote_app_data([("kubernetes_manifests", "[1]")]);
    let out = harness().run_action(
        "get-manifests",
        serde_json::json!({}),
        State::default().relation(bad),
    );
    assert!(out.ok());
    assert_eq!(out.action.results["count"], "0");
    assert_eq!(out.action.results["manifests"], "[]\n");
    assert_eq!(
        out.action.results["errors"],
        "relation roles:3 (app bad): relation data kubernetes_manifests: item 0 is a number, not a manifest object"
    );
}

/// The files under the container's manifests folder, as container paths.
fn container_files() -> Vec<String> {
    fn walk(dir: &std::path::Path, root: &std::path::Path, out: &mut Vec<String>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                walk(&p, root, out);
            } else {
                out.push(format!("/{}", p.strip_prefix(root).unwrap().display()));
            }
        }
    }
    let mut out = Vec::new();
    walk(
        &root().join("var/lib/pebble/default/resources"),
        &root(),
        &mut out,
    );
    out.sort();
    out
}

#[test]
fn manifests_become_files_in_the_container_and_the_service_runs() {
    let (a, sa) = sender(
        1,
        "app-a",
        &[
            secret_manifest("one", None),
            secret_manifest("two", Some("kubeflow-user")),
        ],
    );
    let out = harness().run(Event::Install, State::default().relation(a).secret(sa));
    assert!(out.ok(), "{:?}", out.result);
    assert_eq!(status(&out), Status::active("2 manifests from 1 app"));
    assert_eq!(
        container_files(),
        [
            "/var/lib/pebble/default/resources/secrets/_global/one.yaml",
            "/var/lib/pebble/default/resources/secrets/kubeflow-user/two.yaml",
        ]
    );
    let text = std::fs::read_to_string(
        root().join("var/lib/pebble/default/resources/secrets/_global/one.yaml"),
    )
    .unwrap();
    let back: serde_json::Value = charm_yaml::from_str(&text).unwrap();
    let sent: serde_json::Value = serde_json::from_str(&secret_manifest("one", None)).unwrap();
    assert_eq!(back, sent, "the file round-trips the manifest");
    let client = pebble::Client::new(socket());
    let plan = client.get_plan().unwrap();
    assert_eq!(
        plan.services["resource-dispatcher"].command,
        "python3 main.py --port 8080 --label user.kubeflow.org/enabled --folder /var/lib/pebble/default/resources"
    );
    assert!(client.get_services(&["resource-dispatcher"]).unwrap()[0].is_running());
}

#[test]
fn stale_and_legacy_files_are_removed_and_emptied_directories_too() {
    let dir = root().join("var/lib/pebble/default/resources/secrets");
    std::fs::create_dir_all(dir.join("old-ns")).unwrap();
    std::fs::write(dir.join("legacy-flat.yaml"), "x: 1\n").unwrap();
    std::fs::write(dir.join("old-ns/gone.yaml"), "x: 1\n").unwrap();
    std::fs::write(dir.join("notes.txt"), "kept: not a manifest file\n").unwrap();
    let (a, sa) = sender(1, "app-a", &[secret_manifest("one", None)]);
    let out = harness().run(Event::Install, State::default().relation(a).secret(sa));
    assert!(out.ok(), "{:?}", out.result);
    assert_eq!(
        container_files(),
        [
            "/var/lib/pebble/default/resources/secrets/_global/one.yaml",
            "/var/lib/pebble/default/resources/secrets/notes.txt",
        ]
    );
    assert!(
        !dir.join("old-ns").exists(),
        "the emptied directory is removed"
    );
}

#[test]
fn a_container_not_ready_waits_and_remembers_what_to_write() {
    let (a, sa) = sender(1, "app-a", &[secret_manifest("one", None)]);
    let out = harness_without_pebble().run(Event::Install, State::default().relation(a).secret(sa));
    assert!(out.ok(), "{:?}", out.result);
    assert_eq!(status(&out), Status::waiting("Container is not ready"));
    // Still down at update-status: no hook tool runs, the status stays.
    let out = harness_without_pebble().run(Event::UpdateStatus, out.state);
    assert!(out.ok());
    assert!(out.calls.is_empty(), "{:?}", out.calls);
    assert_eq!(status(&out), Status::waiting("Container is not ready"));
    // The container comes up: pebble-ready writes everything and adds the layer.
    let ready = Event::PebbleReady(charm::WorkloadEvent {
        container: "resource-dispatcher".into(),
    });
    let out = harness().run(ready, out.state);
    assert!(out.ok(), "{:?}", out.result);
    assert_eq!(status(&out), Status::active("1 manifest from 1 app"));
    assert_eq!(
        container_files(),
        ["/var/lib/pebble/default/resources/secrets/_global/one.yaml"]
    );
}

#[test]
fn a_manifest_name_that_is_not_a_file_name_blocks_and_writes_nothing_for_it() {
    let (a, sa) = sender(
        1,
        "app-a",
        &[
            secret_manifest("../../escape", None),
            secret_manifest("ok", None),
        ],
    );
    let out = harness().run(Event::Install, State::default().relation(a).secret(sa));
    assert!(out.ok(), "{:?}", out.result);
    assert_eq!(status(&out).kind, charm::StatusKind::Blocked);
    assert!(
        status(&out).message.contains("cannot be a file name"),
        "{:?}",
        status(&out)
    );
    assert_eq!(
        container_files(),
        ["/var/lib/pebble/default/resources/secrets/_global/ok.yaml"]
    );
    assert!(!root().join("var/lib/pebble/escape.yaml").exists());
}

#[test]
fn a_new_label_replans_the_service_with_it() {
    let out = harness().run(Event::Install, State::default());
    assert!(out.ok(), "{:?}", out.result);
    let state = out.state.config("target_namespace_label", "team's label");
    let out = harness().run(Event::ConfigChanged, state);
    assert!(out.ok(), "{:?}", out.result);
    let plan = pebble::Client::new(socket()).get_plan().unwrap();
    assert_eq!(
        plan.services["resource-dispatcher"].command,
        "python3 main.py --port 8080 --label 'team'\\''s label' --folder /var/lib/pebble/default/resources"
    );
}
