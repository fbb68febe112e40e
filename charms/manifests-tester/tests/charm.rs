//! manifests-tester through the harness.

use charm::{Event, Status, StatusKind};
use charm_testing::{Harness, Output, Relation, State};
use manifests_tester::{PlanError, plan};

fn harness() -> Harness {
    Harness::new(manifests_tester::charm(), manifests_tester::METADATA)
        .config_yaml(manifests_tester::CONFIG)
}

/// What Python's `json.dumps` writes for the two built-in ServiceAccounts.
const STATIC_SA_JSON: &str = r#"[{"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "dummy-sa-1"}, "secrets": [{"name": "dummy"}]}, {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "other-dummy-sa-1"}, "secrets": [{"name": "other-dummy"}]}]"#;

const CONFIGURED: &str = "apiVersion: v1
kind: Secret
metadata:
  name: mlpipeline-minio-artifact
  labels:
    user.kubeflow.org/enabled: \"true\"
stringData:
  AWS_ACCESS_KEY_ID: access_key
---
apiVersion: v1
kind: ConfigMap
metadata: {name: settings, namespace: alice}
data: {enabled: yes, mode: 0755, empty: ~, quoted: 'no'}
---
apiVersion: v1
kind: ServiceAccount
metadata: {name: from-config}
---
apiVersion: kubeflow.org/v1alpha1
kind: PodDefault
metadata: {name: access-minio}
spec: {desc: Allow access to Minio}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: reader}
rules: []
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: read}
roleRef: {kind: Role, name: reader}
";

fn all_relations() -> State {
    let mut state = State::default().leader(true);
    for (i, (_, endpoint)) in manifests_tester::ROUTES.iter().enumerate() {
        state = state.relation(Relation::new(endpoint, i as u32 + 1, "resource-dispatcher"));
    }
    state
}

fn sent(out: &Output, endpoint: &str, id: u32) -> Option<String> {
    let label = format!("manifest.{endpoint}.{id}");
    let secret = out.state.secret_by(&label)?;
    let bag = &out.state.rel(id)?.local_app_data;
    assert_eq!(bag.get("kubernetes_manifests"), Some(&secret.id), "{label}");
    assert_eq!(
        bag.get("is_secret").map(String::as_str),
        Some("true"),
        "{label}"
    );
    secret.revisions[&secret.latest()]
        .get("manifests")
        .map(str::to_string)
}

fn status(out: &Output) -> Status {
    out.state
        .unit_status
        .clone()
        .unwrap_or(Status::active("<none>"))
}

#[test]
fn default_config_sends_the_built_in_service_accounts_and_empty_lists() {
    let out = harness().run(Event::ConfigChanged, all_relations());
    assert!(out.ok(), "{:?}", out.result);
    assert_eq!(
        sent(&out, "service-accounts", 2).as_deref(),
        Some(STATIC_SA_JSON)
    );
    for (i, (_, endpoint)) in manifests_tester::ROUTES.iter().enumerate() {
        if *endpoint != "service-accounts" {
            assert_eq!(
                sent(&out, endpoint, i as u32 + 1).as_deref(),
                Some("[]"),
                "{endpoint}"
            );
        }
    }
    assert_eq!(
        status(&out),
        Status::active("2 manifests to send: 2 service-accounts")
    );
}

#[test]
fn configured_manifests_go_to_the_endpoint_of_their_kind() {
    let out = harness().run(
        Event::ConfigChanged,
        all_relations().config("manifests", CONFIGURED),
    );
    assert!(out.ok(), "{:?}", out.result);
    let secrets = sent(&out, "secrets", 1).unwrap();
    assert!(
        secrets.contains(r#""name": "mlpipeline-minio-artifact""#),
        "{secrets}"
    );
    assert_eq!(
        sent(&out, "config-maps", 4).unwrap(),
        r#"[{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "settings", "namespace": "alice"}, "data": {"enabled": true, "mode": 493, "empty": null, "quoted": "no"}}]"#
    );
    let sas = sent(&out, "service-accounts", 2).unwrap();
    assert!(
        sas.starts_with(&STATIC_SA_JSON[..STATIC_SA_JSON.len() - 1]) && sas.contains("from-config"),
        "{sas}"
    );
    assert!(
        sent(&out, "pod-defaults", 3)
            .unwrap()
            .contains("access-minio")
    );
    assert!(
        sent(&out, "roles", 5)
            .unwrap()
            .contains(r#""kind": "Role""#)
    );
    assert!(
        sent(&out, "role-bindings", 6)
            .unwrap()
            .contains(r#""kind": "RoleBinding""#)
    );
    assert_eq!(
        status(&out),
        Status::active(
            "8 manifests to send: 1 secrets, 3 service-accounts, 1 pod-defaults, 1 config-maps, 1 roles, 1 role-bindings"
        )
    );
}

/// Runs a bad config after a good one: Blocked naming the problem, and nothing re-sent.
fn bad_config_keeps_what_was_sent(bad: &str) -> Status {
    let first = harness().run(
        Event::ConfigChanged,
        all_relations().config("manifests", CONFIGURED),
    );
    assert!(first.ok());
    let before = first.state.clone();
    let out = harness().run(Event::ConfigChanged, first.state.config("manifests", bad));
    assert!(
        out.ok(),
        "bad config must not fail the hook: {:?}",
        out.result
    );
    assert_eq!(out.state.secrets, before.secrets);
    assert_eq!(out.state.relations, before.relations);
    assert_eq!(out.calls_to("secret-set") + out.calls_to("relation-set"), 0);
    // The status survives later hooks.
    let later = harness().run(Event::UpdateStatus, out.state.clone());
    assert_eq!(status(&later), status(&out));
    status(&out)
}

#[test]
fn invalid_yaml_blocks_naming_the_problem() {
    let s = bad_config_keeps_what_was_sent(
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: m\n  labels:\n    enabled: \"true\nstringData: {KEY: hunter2}\n",
    );
    assert_eq!(s.kind, StatusKind::Blocked);
    assert!(
        s.message
            .starts_with("config manifests: invalid YAML: line 6"),
        "{s:?}"
    );
    assert!(!s.message.contains("hunter2"));
}

#[test]
fn an_unknown_kind_blocks_naming_the_kind() {
    let s = bad_config_keeps_what_was_sent(
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: ok}\n---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\n",
    );
    assert_eq!(
        s,
        Status::blocked(
            "config manifests: manifest 2 has kind \"Deployment\", which no endpoint takes (known kinds: Secret, ServiceAccount, PodDefault, ConfigMap, Role, RoleBinding)"
        )
    );
}

#[test]
fn a_document_that_is_not_a_manifest_blocks_naming_it() {
    let s = bad_config_keeps_what_was_sent(
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: ok}\n---\n- just\n- a list\n",
    );
    assert_eq!(
        s,
        Status::blocked("config manifests: document 2: a manifest must be a mapping, not a list")
    );
    let s =
        bad_config_keeps_what_was_sent("apiVersion: v1\nkind: ConfigMap\nmetadata: {labels: {}}\n");
    assert_eq!(
        s,
        Status::blocked("config manifests: document 1: the manifest has no metadata.name")
    );
}

#[test]
fn an_unquoted_date_blocks_with_a_hint() {
    let s = bad_config_keeps_what_was_sent(
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata: {since: 2024-01-01}\n",
    );
    assert_eq!(s.kind, StatusKind::Blocked);
    assert!(
        s.message.contains("timestamp at line 4, column 15") && s.message.contains("quote it"),
        "{s:?}"
    );
}

#[test]
fn a_five_megabyte_manifest_blocks_and_nothing_is_sent() {
    let big = format!(
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: big}}\ndata: {{blob: {}}}\n",
        "x".repeat(5_000_000)
    );
    let s = bad_config_keeps_what_was_sent(&big);
    assert_eq!(s.kind, StatusKind::Blocked);
    assert!(
        s.message
            .starts_with("endpoint config-maps: the 1 manifests take 50000")
            && s.message.contains("at most 1000000 bytes"),
        "{s:?}"
    );
}

#[test]
fn fixing_the_config_sends_again() {
    let first = harness().run(
        Event::ConfigChanged,
        all_relations().config("manifests", "kind: [\n"),
    );
    assert_eq!(status(&first).kind, StatusKind::Blocked);
    assert_eq!(first.state.secrets.len(), 0);
    let out = harness().run(
        Event::ConfigChanged,
        first.state.config("manifests", CONFIGURED),
    );
    assert_eq!(status(&out).kind, StatusKind::Active);
    assert_eq!(out.state.secrets.len(), 6);
}

#[test]
fn relation_created_sends_to_that_relation_only() {
    let roles = Relation::new("roles", 9, "resource-dispatcher");
    let state = State::default()
        .leader(true)
        .relation(Relation::new("secrets", 1, "resource-dispatcher"))
        .relation(roles.clone())
        .config("manifests", CONFIGURED);
    let out = harness().run(roles.created(), state);
    assert!(out.ok(), "{:?}", out.result);
    assert_eq!(out.state.secrets.len(), 1);
    assert!(sent(&out, "roles", 9).unwrap().contains("reader"));
}

#[test]
fn followers_send_nothing_but_report_the_config() {
    let mut state = all_relations().config("manifests", CONFIGURED);
    state.leader = false;
    let out = harness().run(Event::ConfigChanged, state);
    assert!(out.ok());
    assert!(out.state.secrets.is_empty());
    assert_eq!(status(&out).kind, StatusKind::Active);
    let mut state = all_relations().config("manifests", "- x\n");
    state.leader = false;
    let out = harness().run(Event::ConfigChanged, state);
    assert_eq!(status(&out).kind, StatusKind::Blocked);
}

#[test]
fn a_broken_relation_takes_its_secret_with_it() {
    let first = harness().run(Event::ConfigChanged, all_relations());
    let rel = first.state.rel(2).unwrap().clone();
    let out = harness().run(rel.broken(), first.state);
    assert!(out.ok());
    assert!(out.state.secret_by("manifest.service-accounts.2").is_none());
    assert_eq!(out.state.secrets.len(), 5);
}

#[test]
fn sent_manifests_lists_identities_only() {
    let first = harness().run(
        Event::ConfigChanged,
        all_relations().config("manifests", CONFIGURED),
    );
    let out = harness().run_action("sent-manifests", serde_json::json!({}), first.state.clone());
    assert!(out.ok(), "{:?}", out.result);
    let r = &out.action.results;
    assert_eq!(
        r["service-accounts"],
        "service-accounts:2: ServiceAccount dummy-sa-1, ServiceAccount other-dummy-sa-1, ServiceAccount from-config"
    );
    assert_eq!(r["config-maps"], "config-maps:4: ConfigMap alice/settings");
    assert!(!r["secrets"].contains("access_key"));
    let mut state = first.state;
    state.leader = false;
    let before = state.unit_status.clone();
    let out = harness().run_action("sent-manifests", serde_json::json!({}), state);
    assert_eq!(
        out.action.failed.as_deref(),
        Some("run sent-manifests on the leader: only it reads the application's secrets")
    );
    assert!(out.action.results.is_empty());
    // An action's problem is the user's to see, not a unit status.
    assert_eq!(out.state.unit_status, before);
}

#[test]
fn plan_routes_and_reports() {
    let p = plan("").unwrap();
    assert_eq!(p.payload("service-accounts").map(|p| p.len()), Some(2));
    assert_eq!(p.payload("secrets").map(|p| p.json()), Some("[]"));
    assert!(matches!(
        plan("apiVersion: v1\nkind: Pod\nmetadata: {name: p}\n"),
        Err(PlanError::UnknownKind { index: 1, .. })
    ));
    assert!(matches!(plan("a: b: c"), Err(PlanError::Config(_))));
}

#[test]
fn hook_tool_costs() {
    let one = State::default().leader(true).relation(Relation::new(
        "service-accounts",
        1,
        "resource-dispatcher",
    ));
    let first = harness().run(Event::ConfigChanged, one);
    let tools: Vec<&str> = first.calls.iter().map(|c| c.tool).collect();
    assert_eq!(
        tools,
        [
            "config-get",
            "is-leader",
            "relation-ids",
            "relation-ids",
            "relation-get",
            "secret-info-get",
            "secret-add",
            "secret-grant",
            "relation-ids",
            "relation-ids",
            "relation-ids",
            "relation-ids",
            "status-set",
            "relation-set"
        ],
        "{:?}",
        first.calls
    );
    // Steady state: one bag read and one secret-set per relation, no status change.
    let again = harness().run(Event::ConfigChanged, first.state.clone());
    let tools: Vec<&str> = again.calls.iter().map(|c| c.tool).collect();
    assert_eq!(
        tools,
        [
            "config-get",
            "is-leader",
            "relation-ids",
            "relation-ids",
            "relation-get",
            "secret-set",
            "relation-ids",
            "relation-ids",
            "relation-ids",
            "relation-ids"
        ]
    );
    // Other hooks: nothing.
    let idle = harness().run(Event::UpdateStatus, first.state);
    assert!(idle.calls.is_empty(), "{:?}", idle.calls);
}
