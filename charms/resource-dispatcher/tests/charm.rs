//! resource-dispatcher through the harness, Scenario-style: the workload container is the
//! harness's (an in-memory Pebble with Pebble's rules), described in the input state and read back
//! from the output state. `tests/real_pebble.rs` drives the same container code against a real
//! Pebble server.

// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use charm::pebble::types::ServiceStatus;
use charm::secret::SecretContent;
use charm::{Event, Status};
use charm_testing::{Container, Harness, Output, Relation, Secret, State};
use resource_dispatcher::{ManifestKey, find_conflicts};

const CONTAINER: &str = "resource-dispatcher";
const FOLDER: &str = "/var/lib/pebble/default/resources";

fn harness() -> Harness {
    Harness::new(resource_dispatcher::charm(), resource_dispatcher::METADATA)
        .config_yaml(resource_dispatcher::CONFIG)
}

/// The workload container, up, with the workload stand-in at `/main.py` as the image has it.
fn container() -> Container {
    Container::new(CONTAINER).file("/main.py", resource_dispatcher::WORKLOAD_STAND_IN)
}

/// The leader's state, its container up (only the leader writes into its container).
fn up() -> State {
    State::default().leader(true).container(container())
}

/// The leader's state, its container's Pebble not answering.
fn down() -> State {
    State::default()
        .leader(true)
        .container(container().can_connect(false))
}

/// The state's container with Pebble answering again (a restarted pod keeps nothing but the
/// image: the layer and our files are gone).
fn restarted(mut state: State) -> State {
    state.containers.retain(|c| c.name != CONTAINER);
    state.container(container())
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
    let out = harness().run(Event::Install, up());
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
    let state = up().relation(a.clone()).relation(b).secret(sa);
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
    let state = up()
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
    let state = up().relation(a.clone()).relation(b).secret(sa).secret(sb);
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
    let state = up().relation(good).relation(bad.clone()).secret(sg);
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
    let out = harness().run(bad.changed(None), up().relation(bad.clone()));
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
    let out = harness().run(rel.changed(None), up().relation(rel));
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
        .run(a.changed(None), up().relation(a).secret(sa));
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
    let first = harness().run(Event::Install, up().relation(a.clone()).secret(sa));
    assert!(first.ok());
    assert_eq!(status(&first), Status::active("1 manifest from 1 app"));
    // A relation-changed on `secrets`: one bag read, one secret read, whether it leads (only the
    // leader writes files), one relation-ids, no status.
    let out = harness().run(a.changed(None), first.state.clone());
    assert!(out.ok());
    let tools: Vec<&str> = out.calls.iter().map(|c| c.tool).collect();
    assert_eq!(
        tools,
        ["relation-get", "secret-get", "is-leader", "relation-ids"],
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
    let first = harness().run(a.changed(None), up().relation(a).secret(sa));
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
    let state = up().relation(a).relation(b).secret(sa);
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
    let out = harness().run_action("get-manifests", serde_json::json!({}), up().relation(bad));
    assert!(out.ok());
    assert_eq!(out.action.results["count"], "0");
    assert_eq!(out.action.results["manifests"], "[]\n");
    assert_eq!(
        out.action.results["errors"],
        "relation roles:3 (app bad): relation data kubernetes_manifests: item 0 is a number, not a manifest object"
    );
}

/// The files under the manifests folder of the output state's container.
fn container_files(out: &Output) -> Vec<String> {
    let c = out.state.get_container(CONTAINER);
    c.fs.iter()
        .filter(|(path, entry)| path.starts_with(&format!("{FOLDER}/")) && !entry.is_dir())
        .map(|(path, _)| path.clone())
        .collect()
}

fn service_command(out: &Output) -> Option<String> {
    let c = out.state.get_container(CONTAINER);
    c.plan()
        .services
        .get("resource-dispatcher")
        .map(|s| s.command.clone())
}

const DEFAULT_COMMAND: &str = "python3 main.py --port 8080 --label user.kubeflow.org/enabled --folder /var/lib/pebble/default/resources";

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
    let out = harness().run(Event::Install, up().relation(a).secret(sa));
    assert!(out.ok(), "{:?}", out.result);
    assert_eq!(status(&out), Status::active("2 manifests from 1 app"));
    assert_eq!(
        container_files(&out),
        [
            "/var/lib/pebble/default/resources/secrets/_global/one.yaml",
            "/var/lib/pebble/default/resources/secrets/kubeflow-user/two.yaml",
        ]
    );
    let c = out.state.get_container(CONTAINER);
    let text = c
        .read_text("/var/lib/pebble/default/resources/secrets/_global/one.yaml")
        .unwrap();
    let back: serde_json::Value = charm_yaml::from_str(&text).unwrap();
    let sent: serde_json::Value = serde_json::from_str(&secret_manifest("one", None)).unwrap();
    assert_eq!(back, sent, "the file round-trips the manifest");
    // The folder of the endpoints with no relation exists too (the service starts before any).
    assert!(c.fs[FOLDER].is_dir());
    assert_eq!(service_command(&out).as_deref(), Some(DEFAULT_COMMAND));
    assert_eq!(c.service("resource-dispatcher"), ServiceStatus::Active);
    assert_eq!(
        c.plan().services["resource-dispatcher"].summary,
        "resource-dispatcher"
    );
}

#[test]
fn the_layer_is_added_only_when_it_differs() {
    let first = harness().run(Event::Install, up());
    assert!(first.ok(), "{:?}", first.result);
    assert!(first.logged("Applying new pebble layer"));
    assert_eq!(
        first.state.get_container(CONTAINER).layers.layers().len(),
        1
    );
    // config-changed with the same label: the plan already has that service, nothing is added.
    let out = harness().run(Event::ConfigChanged, first.state.clone());
    assert!(out.ok(), "{:?}", out.result);
    assert!(!out.logged("Applying new pebble layer"));
    assert_eq!(
        out.state.get_container(CONTAINER),
        first.state.get_container(CONTAINER)
    );
    // A plan whose service was changed behind the charm's back is put right.
    let mut state = first.state;
    state.containers.retain(|c| c.name != CONTAINER);
    let state = state.container(container().layer_yaml(
        "resource-dispatcher",
        "services:\n  resource-dispatcher:\n    override: replace\n    command: sleep 1\n",
    ));
    let out = harness().run(Event::ConfigChanged, state);
    assert!(out.ok(), "{:?}", out.result);
    assert!(out.logged("Applying new pebble layer"));
    assert_eq!(service_command(&out).as_deref(), Some(DEFAULT_COMMAND));
}

#[test]
fn a_relation_change_writes_files_without_touching_the_layer() {
    let (a, sa) = sender(1, "app-a", &[secret_manifest("one", None)]);
    let first = harness().run(Event::Install, up().relation(a.clone()).secret(sa));
    assert!(first.ok(), "{:?}", first.result);
    let mut state = first.state;
    let secret = state
        .secrets
        .remove(0)
        .revision(SecretContent::new().with("manifests", list(&[secret_manifest("two", None)])));
    let out = harness().run(secret.changed(), state.secret(secret));
    assert!(out.ok(), "{:?}", out.result);
    assert_eq!(
        container_files(&out),
        ["/var/lib/pebble/default/resources/secrets/_global/two.yaml"]
    );
    assert!(!out.logged("Applying new pebble layer"));
    assert_eq!(
        out.calls_to("config-get"),
        0,
        "the label is read only to check the layer"
    );
}

#[test]
fn stale_and_legacy_files_are_removed_and_emptied_directories_too() {
    let dir = format!("{FOLDER}/secrets");
    let state = State::default().leader(true).container(
        container()
            .file(&format!("{dir}/legacy-flat.yaml"), "x: 1\n")
            .file(&format!("{dir}/old-ns/gone.yaml"), "x: 1\n")
            .file(&format!("{dir}/notes.txt"), "kept: not a manifest file\n")
            .file(
                &format!("{dir}/kept-ns/readme.txt"),
                "not a manifest file\n",
            ),
    );
    let (a, sa) = sender(1, "app-a", &[secret_manifest("one", None)]);
    let out = harness().run(Event::Install, state.relation(a).secret(sa));
    assert!(out.ok(), "{:?}", out.result);
    assert_eq!(
        container_files(&out),
        [
            "/var/lib/pebble/default/resources/secrets/_global/one.yaml",
            "/var/lib/pebble/default/resources/secrets/kept-ns/readme.txt",
            "/var/lib/pebble/default/resources/secrets/notes.txt",
        ]
    );
    let c = out.state.get_container(CONTAINER);
    assert!(
        !c.fs.contains_key(&format!("{dir}/old-ns")),
        "the emptied directory is removed"
    );
    assert!(
        c.fs[&format!("{dir}/kept-ns")].is_dir(),
        "a directory with other files stays"
    );
}

#[test]
fn a_removed_relation_removes_its_files() {
    let (a, sa) = sender(1, "app-a", &[secret_manifest("one", Some("team"))]);
    let first = harness().run(Event::Install, up().relation(a.clone()).secret(sa));
    assert_eq!(
        container_files(&first),
        ["/var/lib/pebble/default/resources/secrets/team/one.yaml"]
    );
    let out = harness().run(a.broken(), first.state);
    assert!(out.ok(), "{:?}", out.result);
    assert_eq!(container_files(&out), Vec::<String>::new());
    let c = out.state.get_container(CONTAINER);
    assert!(!c.fs.contains_key(&format!("{FOLDER}/secrets/team")));
    assert_eq!(status(&out), Status::active("0 manifests from 0 apps"));
}

#[test]
fn a_container_not_ready_waits_and_remembers_what_to_write() {
    let (a, sa) = sender(1, "app-a", &[secret_manifest("one", None)]);
    let out = harness().run(Event::Install, down().relation(a).secret(sa));
    assert!(out.ok(), "{:?}", out.result);
    assert_eq!(status(&out), Status::waiting("Container is not ready"));
    assert_eq!(
        out.state.stored["unsynced-endpoints"]
            .as_array()
            .map(Vec::len),
        Some(6)
    );
    // Still down at update-status: no hook tool runs, the status stays.
    let out = harness().run(Event::UpdateStatus, out.state);
    assert!(out.ok());
    assert!(out.calls.is_empty(), "{:?}", out.calls);
    assert_eq!(status(&out), Status::waiting("Container is not ready"));
    // The container comes up: pebble-ready writes everything and adds the layer.
    let state = restarted(out.state);
    let ready = state.get_container(CONTAINER).pebble_ready();
    let out = harness().run(ready, state);
    assert!(out.ok(), "{:?}", out.result);
    assert_eq!(status(&out), Status::active("1 manifest from 1 app"));
    assert_eq!(
        container_files(&out),
        ["/var/lib/pebble/default/resources/secrets/_global/one.yaml"]
    );
    assert_eq!(service_command(&out).as_deref(), Some(DEFAULT_COMMAND));
    assert_eq!(
        out.state.stored["unsynced-endpoints"]
            .as_array()
            .map(Vec::len),
        Some(0)
    );
}

#[test]
fn a_relation_change_while_the_container_is_down_is_written_when_it_is_back() {
    let (a, sa) = sender(1, "app-a", &[secret_manifest("one", None)]);
    let first = harness().run(Event::Install, up().relation(a.clone()).secret(sa));
    assert!(first.ok(), "{:?}", first.result);
    // The container goes away; a new revision arrives meanwhile.
    let mut state = first.state;
    for c in &mut state.containers {
        c.can_connect = false;
    }
    let secret = state
        .secrets
        .remove(0)
        .revision(SecretContent::new().with("manifests", list(&[secret_manifest("two", None)])));
    let out = harness().run(secret.changed(), state.secret(secret));
    assert!(out.ok(), "{:?}", out.result);
    assert_eq!(status(&out), Status::waiting("Container is not ready"));
    assert_eq!(
        out.state.stored["unsynced-endpoints"],
        serde_json::json!(["secrets"])
    );
    // Pebble answers again (same pod, no pebble-ready): the next hook writes what was missed.
    let mut state = out.state;
    for c in &mut state.containers {
        c.can_connect = true;
    }
    let out = harness().run(Event::UpdateStatus, state);
    assert!(out.ok(), "{:?}", out.result);
    assert_eq!(status(&out), Status::active("1 manifest from 1 app"));
    assert_eq!(
        container_files(&out),
        ["/var/lib/pebble/default/resources/secrets/_global/two.yaml"]
    );
}

#[test]
fn a_restarted_container_gets_everything_again_on_pebble_ready() {
    let (a, sa) = sender(1, "app-a", &[secret_manifest("one", None)]);
    let first = harness().run(Event::Install, up().relation(a).secret(sa));
    assert!(first.ok(), "{:?}", first.result);
    let state = restarted(first.state);
    assert!(state.get_container(CONTAINER).plan().services.is_empty());
    assert!(!state.get_container(CONTAINER).fs.contains_key(FOLDER));
    let ready = state.get_container(CONTAINER).pebble_ready();
    let out = harness().run(ready, state);
    assert!(out.ok(), "{:?}", out.result);
    assert_eq!(
        container_files(&out),
        ["/var/lib/pebble/default/resources/secrets/_global/one.yaml"]
    );
    assert_eq!(service_command(&out).as_deref(), Some(DEFAULT_COMMAND));
    assert_eq!(
        out.state
            .get_container(CONTAINER)
            .service("resource-dispatcher"),
        ServiceStatus::Active
    );
}

#[test]
fn writing_everything_asks_juju_only_for_endpoints_that_had_relations() {
    let (a, sa) = sender(1, "app-a", &[secret_manifest("one", None)]);
    let first = harness().run(Event::Install, up().relation(a).secret(sa));
    assert!(first.ok(), "{:?}", first.result);
    // The summary keeps how many relations each endpoint had.
    let summary = &first.state.stored["summary"]["endpoints"];
    assert_eq!(summary["secrets"]["relations"], 1);
    assert_eq!(summary["roles"]["relations"], 0);
    // A restarted container: only `secrets` is read again; the rest had no relation.
    let state = restarted(first.state);
    let ready = state.get_container(CONTAINER).pebble_ready();
    let out = harness().run(ready, state);
    assert!(out.ok(), "{:?}", out.result);
    assert_eq!(out.calls_to("relation-ids"), 1, "{:?}", out.calls);
    assert_eq!(
        container_files(&out),
        ["/var/lib/pebble/default/resources/secrets/_global/one.yaml"]
    );
    assert_eq!(status(&out), Status::active("1 manifest from 1 app"));
    // Leadership gained: stale files of an endpoint without relations are still removed.
    let mut state = out.state;
    let stale = format!("{FOLDER}/roles/team/old.yaml");
    state = {
        let mut c = state.get_container(CONTAINER).clone();
        c = c.file(&stale, "kind: Role\n");
        state.containers.retain(|c| c.name != CONTAINER);
        state.container(c)
    };
    let out = harness().run(Event::LeaderElected, state);
    assert!(out.ok(), "{:?}", out.result);
    assert_eq!(out.calls_to("relation-ids"), 1, "{:?}", out.calls);
    assert_eq!(
        container_files(&out),
        ["/var/lib/pebble/default/resources/secrets/_global/one.yaml"]
    );
}

#[test]
fn a_summary_without_relation_counts_reads_every_endpoint_again() {
    let first = harness().run(Event::Install, up());
    assert!(first.ok(), "{:?}", first.result);
    // As kept by a revision that did not count relations.
    let mut state = first.state;
    if let Some(endpoints) = state
        .stored
        .get_mut("summary")
        .and_then(|s| s.get_mut("endpoints"))
        .and_then(|e| e.as_object_mut())
    {
        for summary in endpoints.values_mut() {
            if let Some(s) = summary.as_object_mut() {
                s.remove("relations");
            }
        }
    }
    let state = restarted(state);
    let ready = state.get_container(CONTAINER).pebble_ready();
    let out = harness().run(ready, state);
    assert!(out.ok(), "{:?}", out.result);
    assert_eq!(out.calls_to("relation-ids"), 6, "{:?}", out.calls);
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
    let out = harness().run(Event::Install, up().relation(a).secret(sa));
    assert!(out.ok(), "{:?}", out.result);
    assert_eq!(status(&out).kind, charm::StatusKind::Blocked);
    assert!(
        status(&out).message.contains("cannot be a file name"),
        "{:?}",
        status(&out)
    );
    assert_eq!(
        container_files(&out),
        ["/var/lib/pebble/default/resources/secrets/_global/ok.yaml"]
    );
    let c = out.state.get_container(CONTAINER);
    assert!(
        c.fs.keys().all(|p| !p.contains("escape")),
        "{:?}",
        c.fs.keys()
    );
}

#[test]
fn a_new_label_replans_the_service_with_it() {
    let out = harness().run(Event::Install, up());
    assert!(out.ok(), "{:?}", out.result);
    let state = out.state.config("target_namespace_label", "team's label");
    let out = harness().run(Event::ConfigChanged, state);
    assert!(out.ok(), "{:?}", out.result);
    assert_eq!(
        service_command(&out).as_deref(),
        Some(
            "python3 main.py --port 8080 --label 'team'\\''s label' --folder /var/lib/pebble/default/resources"
        )
    );
}

#[test]
fn a_unit_that_is_not_the_leader_reads_but_writes_nothing_until_it_is_elected() {
    let (a, sa) = sender(1, "app-a", &[secret_manifest("one", None)]);
    let state = up().leader(false).relation(a.clone()).secret(sa);
    let out = harness().run(Event::Install, state);
    assert!(out.ok(), "{:?}", out.result);
    assert_eq!(status(&out), Status::waiting("Waiting for leadership"));
    let c = out.state.get_container(CONTAINER);
    assert!(c.plan().services.is_empty(), "no layer on a non-leader");
    assert!(!c.fs.contains_key(FOLDER), "no files on a non-leader");
    // It still aggregates: the summary is there and get-manifests answers.
    let kept = &out.state.stored["summary"]["endpoints"]["secrets"]["manifests"];
    assert_eq!(kept.as_array().map(Vec::len), Some(1), "{kept}");
    let action = harness().run_action("get-manifests", serde_json::json!({}), out.state.clone());
    assert_eq!(action.action.results["count"], "1");
    // update-status and a relation change on a non-leader: no Pebble call, nothing written.
    let quiet = harness().run(Event::UpdateStatus, out.state.clone());
    assert!(quiet.calls.is_empty(), "{:?}", quiet.calls);
    let changed = harness().run(a.changed(None), out.state.clone());
    assert!(changed.ok(), "{:?}", changed.result);
    assert_eq!(changed.calls_to("is-leader"), 1);
    assert!(
        !changed
            .state
            .get_container(CONTAINER)
            .fs
            .contains_key(FOLDER)
    );
    assert_eq!(status(&changed), Status::waiting("Waiting for leadership"));
    // config-changed while its container is down: still waiting for leadership, nothing asked.
    let mut down_state = changed.state.clone();
    for c in &mut down_state.containers {
        c.can_connect = false;
    }
    let out = harness().run(Event::ConfigChanged, down_state);
    assert!(out.ok(), "{:?}", out.result);
    assert_eq!(status(&out), Status::waiting("Waiting for leadership"));
    assert_eq!(out.calls_to("is-leader"), 0);
    // Elected: everything is written and the layer added.
    let out = harness().run(Event::LeaderElected, changed.state.leader(true));
    assert!(out.ok(), "{:?}", out.result);
    assert_eq!(status(&out), Status::active("1 manifest from 1 app"));
    assert_eq!(
        container_files(&out),
        ["/var/lib/pebble/default/resources/secrets/_global/one.yaml"]
    );
    assert_eq!(service_command(&out).as_deref(), Some(DEFAULT_COMMAND));
}

#[test]
fn a_leader_that_lost_leadership_stops_writing() {
    let (a, sa) = sender(1, "app-a", &[secret_manifest("one", None)]);
    let first = harness().run(Event::Install, up().relation(a).secret(sa));
    assert!(first.ok(), "{:?}", first.result);
    let mut state = first.state.leader(false);
    let secret = state
        .secrets
        .remove(0)
        .revision(SecretContent::new().with("manifests", list(&[secret_manifest("two", None)])));
    let out = harness().run(secret.changed(), state.secret(secret));
    assert!(out.ok(), "{:?}", out.result);
    assert_eq!(status(&out), Status::waiting("Waiting for leadership"));
    // The files it wrote as leader stay as they were (as upstream): not rewritten, not removed.
    assert_eq!(
        container_files(&out),
        ["/var/lib/pebble/default/resources/secrets/_global/one.yaml"]
    );
    assert_eq!(
        out.state.stored["summary"]["endpoints"]["secrets"]["manifests"][0]["name"],
        "two"
    );
}

#[test]
fn bad_data_blocks_a_unit_that_is_not_the_leader_too() {
    let bad = Relation::new("secrets", 2, "bad").remote_app_data([("kubernetes_manifests", "[1]")]);
    let out = harness().run(bad.changed(None), up().leader(false).relation(bad.clone()));
    assert!(out.ok(), "{:?}", out.result);
    assert_eq!(status(&out).kind, charm::StatusKind::Blocked);
}

#[test]
fn a_conflict_stops_the_endpoints_after_it_and_the_ones_before_are_written() {
    // config-maps comes before secrets in upstream's order, service-accounts after.
    let config_map = r#"{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cm"}, "data": {"a": "1"}}"#;
    let account = r#"{"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "sa", "namespace": "team"}}"#;
    let maps = Relation::new("config-maps", 7, "app-c")
        .remote_app_data([("kubernetes_manifests", format!("[{config_map}]").as_str())]);
    let accounts = Relation::new("service-accounts", 8, "app-d")
        .remote_app_data([("kubernetes_manifests", format!("[{account}]").as_str())]);
    let (a, sa) = sender(1, "app-a", &[secret_manifest("same", None)]);
    let (b, sb) = sender(2, "app-b", &[secret_manifest("same", None)]);
    let state = up()
        .relation(maps)
        .relation(accounts)
        .relation(a)
        .relation(b)
        .secret(sa)
        .secret(sb);
    let out = harness().run(Event::Install, state);
    assert!(out.ok(), "{:?}", out.result);
    assert_eq!(
        status(&out),
        Status::blocked("Conflicting manifests (namespace=None name='same'). See debug logs.")
    );
    assert_eq!(
        container_files(&out),
        ["/var/lib/pebble/default/resources/config-maps/_global/cm.yaml"]
    );
}
