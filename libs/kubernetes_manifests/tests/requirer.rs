//! The requirer side through the harness: what it writes, when, and how it cleans up.

use charm::secret::SecretContent;
use charm::{Charm, Ctx, Error, EventKind, Status};
use charm_testing::{Harness, Relation, Secret, State};
use kubernetes_manifests::{
    KubernetesManifest, KubernetesManifestsRequirer, ManifestsSender, SendOutcome,
};
use serde::Deserialize;

const META: &str = "name: tester
requires:
  service-accounts: {interface: kubernetes_manifest}
  secrets: {interface: kubernetes_manifest}
";
const CONFIG: &str = "options:\n  secret_name: {type: string, default: config-secret}\n";

const SA1: &str = "apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: dummy-sa-1\nsecrets:\n- name: dummy\n";
const SA2: &str = "apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: other-dummy-sa-1\nsecrets:\n- name: other-dummy\n";
/// What Python's `json.dumps([safe_load(SA1), safe_load(SA2)])` writes.
const SA_JSON: &str = r#"[{"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "dummy-sa-1"}, "secrets": [{"name": "dummy"}]}, {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "other-dummy-sa-1"}, "secrets": [{"name": "other-dummy"}]}]"#;

const SECRET_YAML: &str = "apiVersion: v1\nkind: Secret\nmetadata:\n  name: {name}\n  labels:\n    user.kubeflow.org/enabled: \"true\"\nstringData:\n  AWS_ACCESS_KEY_ID: access_key\n  AWS_SECRET_ACCESS_KEY: secret_access_key\n";

fn secret_json(name: &str) -> String {
    format!(
        r#"[{{"apiVersion": "v1", "kind": "Secret", "metadata": {{"name": "{name}", "labels": {{"user.kubeflow.org/enabled": "true"}}}}, "stringData": {{"AWS_ACCESS_KEY_ID": "access_key", "AWS_SECRET_ACCESS_KEY": "secret_access_key"}}}}]"#
    )
}

#[derive(Deserialize)]
struct Config {
    secret_name: String,
}

fn rendered(ctx: &mut Ctx) -> Result<Vec<KubernetesManifest>, Error> {
    let config: Config = ctx.config()?;
    if config.secret_name.is_empty() {
        return Err(Error::blocked("secret_name must not be empty"));
    }
    Ok(vec![KubernetesManifest::new(
        &SECRET_YAML.replace("{name}", &config.secret_name),
    )?])
}

fn harness() -> Harness {
    let static_manifests: Vec<KubernetesManifest> = [SA1, SA2]
        .iter()
        .filter_map(|t| KubernetesManifest::new(t).ok())
        .collect();
    assert_eq!(static_manifests.len(), 2);
    let mut charm = Charm::new();
    charm
        .plugin(KubernetesManifestsRequirer::new(
            "service-accounts",
            static_manifests,
        ))
        .plugin(
            KubernetesManifestsRequirer::dynamic("secrets", rendered)
                .refresh_on(EventKind::ConfigChanged),
        );
    Harness::new(charm, META).config_yaml(CONFIG)
}

fn sa_rel(id: u32) -> Relation {
    Relation::new("service-accounts", id, "dispatcher")
}

#[test]
fn relation_created_writes_exactly_the_python_wire_format() {
    let rel = sa_rel(1);
    let out = harness().run(rel.created(), State::default().leader(true).relation(rel));
    assert!(out.ok(), "{:?}", out.result);
    let secret = out.state.secret_by("manifest.service-accounts.1").unwrap();
    let bag = &out.state.rel(1).unwrap().local_app_data;
    assert_eq!(
        bag,
        &charm_testing::bag([
            ("kubernetes_manifests", secret.id.as_str()),
            ("is_secret", "true")
        ])
    );
    assert!(secret.owner.is_some());
    assert_eq!(secret.revisions.len(), 1);
    assert_eq!(
        secret.revisions[&1],
        SecretContent::new().with("manifests", SA_JSON)
    );
    // Granted to the whole remote application of relation 1.
    assert_eq!(
        secret.grants.get(&1).map(|units| units.is_empty()),
        Some(true)
    );
    // Nothing was sent on the other endpoint (no relation there).
    assert_eq!(out.state.secrets.len(), 1);
}

#[test]
fn relation_created_costs_six_hook_tools_and_touches_only_that_relation() {
    let old = sa_rel(1);
    let new = sa_rel(2);
    let out = harness().run(
        new.created(),
        State::default().leader(true).relation(old).relation(new),
    );
    assert!(out.ok());
    let tools: Vec<&str> = out.calls.iter().map(|c| c.tool).collect();
    assert_eq!(
        tools,
        [
            "is-leader",
            "relation-get",
            "secret-info-get",
            "secret-add",
            "secret-grant",
            "relation-set"
        ],
        "{:?}",
        out.calls
    );
    assert!(out.state.rel(1).unwrap().local_app_data.is_empty());
}

#[test]
fn leader_elected_sends_on_every_relation_with_one_secret_each() {
    let state = State::default()
        .leader(true)
        .relation(sa_rel(1))
        .relation(sa_rel(2))
        .relation(Relation::new("secrets", 3, "dispatcher"));
    let out = harness().run(charm::Event::LeaderElected, state);
    assert!(out.ok(), "{:?}", out.result);
    for label in [
        "manifest.service-accounts.1",
        "manifest.service-accounts.2",
        "manifest.secrets.3",
    ] {
        assert!(out.state.secret_by(label).is_some(), "{label}");
    }
    let s3 = out.state.secret_by("manifest.secrets.3").unwrap();
    assert_eq!(
        s3.revisions[&1].get("manifests"),
        Some(secret_json("config-secret").as_str())
    );
    let ids: std::collections::BTreeSet<&str> =
        out.state.secrets.iter().map(|s| s.id.as_str()).collect();
    assert_eq!(ids.len(), 3);
}

#[test]
fn followers_send_nothing() {
    let rel = sa_rel(1);
    let out = harness().run(rel.created(), State::default().relation(rel.clone()));
    assert!(out.ok());
    assert!(out.state.rel(1).unwrap().local_app_data.is_empty());
    assert!(out.state.secrets.is_empty());
    assert_eq!(
        out.calls.iter().map(|c| c.tool).collect::<Vec<_>>(),
        ["is-leader"]
    );
    let out = harness().run(charm::Event::LeaderElected, State::default().relation(rel));
    assert!(out.ok());
    assert!(out.state.secrets.is_empty());
}

/// A leader that already sent `config-secret` on `secrets:3`.
fn after_first_send() -> State {
    let rel = Relation::new("secrets", 3, "dispatcher");
    let out = harness().run(rel.created(), State::default().leader(true).relation(rel));
    assert!(out.ok());
    out.state
}

#[test]
fn config_change_updates_the_same_secret_in_two_hook_tools() {
    let state = after_first_send().config("secret_name", "new-secret");
    let id = state.secret_by("manifest.secrets.3").unwrap().id.clone();
    let out = harness().run(charm::Event::ConfigChanged, state);
    assert!(out.ok(), "{:?}", out.result);
    let secret = out.state.secret_by("manifest.secrets.3").unwrap();
    assert_eq!(secret.id, id);
    assert_eq!(secret.latest(), 2);
    assert_eq!(
        secret.revisions[&2].get("manifests"),
        Some(secret_json("new-secret").as_str())
    );
    assert_eq!(
        out.state.rel(3).unwrap().local_app_data["kubernetes_manifests"],
        id
    );
    let tools: Vec<&str> = out.calls.iter().map(|c| c.tool).collect();
    assert_eq!(
        tools,
        [
            "is-leader",
            "config-get",
            "relation-ids",
            "relation-get",
            "secret-set"
        ],
        "{:?}",
        out.calls
    );
}

#[test]
fn a_bad_render_sends_nothing_and_keeps_what_was_sent() {
    let state = after_first_send().config("secret_name", "");
    let before = state.clone();
    let out = harness().run(charm::Event::ConfigChanged, state);
    assert!(out.ok());
    assert_eq!(
        out.state.unit_status,
        Some(Status::blocked("secret_name must not be empty"))
    );
    assert_eq!(out.state.secrets, before.secrets);
    assert_eq!(out.state.relations, before.relations);
}

#[test]
fn a_five_megabyte_manifest_is_refused_before_anything_is_written() {
    let state = after_first_send().config("secret_name", "x".repeat(5_000_000));
    let before = state.clone();
    let out = harness().run(charm::Event::ConfigChanged, state);
    assert!(out.ok(), "{:?}", out.result);
    let status = out.state.unit_status.clone().unwrap();
    assert_eq!(status.kind, charm::StatusKind::Blocked);
    assert!(
        status
            .message
            .contains("a Juju secret holds at most 1000000 bytes"),
        "{status:?}"
    );
    assert_eq!(out.state.secrets, before.secrets);
    assert_eq!(out.calls_to("secret-set"), 0);
}

#[test]
fn upgrade_charm_resends_static_manifests() {
    let rel = sa_rel(1);
    let out = harness().run(
        charm::Event::UpgradeCharm,
        State::default().leader(true).relation(rel),
    );
    assert!(out.ok());
    assert!(out.state.secret_by("manifest.service-accounts.1").is_some());
}

#[test]
fn a_deleted_secret_is_recreated_and_the_bag_repointed() {
    let mut state = after_first_send();
    state.secrets.clear();
    let out = harness().run(charm::Event::LeaderElected, state);
    assert!(out.ok(), "{:?}", out.result);
    let secret = out.state.secret_by("manifest.secrets.3").unwrap();
    assert_eq!(
        out.state.rel(3).unwrap().local_app_data["kubernetes_manifests"],
        secret.id
    );
    assert!(secret.grants.contains_key(&3));
}

#[test]
fn an_existing_labelled_secret_is_reused_when_the_bag_is_empty() {
    // E.g. a new leader, or a charm upgraded from the plain LIBPATCH 1 form.
    let existing = Secret::owned(
        "secret:mine0000000000000000",
        SecretContent::new().with("manifests", "[]"),
    )
    .label("manifest.service-accounts.1");
    let rel = sa_rel(1).local_app_data([("kubernetes_manifests", "[]")]);
    let out = harness().run(
        charm::Event::LeaderElected,
        State::default().leader(true).relation(rel).secret(existing),
    );
    assert!(out.ok(), "{:?}", out.result);
    assert_eq!(out.state.secrets.len(), 1);
    let secret = out.state.secret_by("secret:mine0000000000000000").unwrap();
    assert_eq!(secret.revisions[&2].get("manifests"), Some(SA_JSON));
    assert!(secret.grants.contains_key(&1));
    assert_eq!(
        out.state.rel(1).unwrap().local_app_data,
        charm_testing::bag([
            ("kubernetes_manifests", "secret:mine0000000000000000"),
            ("is_secret", "true")
        ])
    );
}

#[test]
fn a_failing_hook_tool_fails_the_hook_and_commits_nothing() {
    let rel = sa_rel(1);
    let harness = harness().fail("secret-grant", "ERROR connection reset", None);
    let out = harness.run(rel.created(), State::default().leader(true).relation(rel));
    assert!(!out.ok());
    assert!(
        out.error()
            .unwrap()
            .contains("cannot grant the manifests secret"),
        "{:?}",
        out.error()
    );
    assert!(out.state.rel(1).unwrap().local_app_data.is_empty());
    assert!(out.state.secrets.is_empty());
}

fn owned_with_revisions(label: &str) -> Secret {
    Secret::owned(
        "secret:mine0000000000000000",
        SecretContent::new().with("manifests", "[]"),
    )
    .label(label)
    .revision(SecretContent::new().with("manifests", SA_JSON))
}

#[test]
fn secret_remove_prunes_an_old_revision_once() {
    let secret = owned_with_revisions("manifest.service-accounts.1");
    let out = harness().run(
        secret.remove(1),
        State::default()
            .leader(true)
            .relation(sa_rel(1))
            .secret(secret),
    );
    assert!(out.ok(), "{:?}", out.result);
    // Two requirers in the charm, one secret-remove (the original removed it once per requirer).
    assert_eq!(
        out.removed_secret_revisions,
        [("secret:mine0000000000000000".to_string(), Some(1))]
    );
    let kept = out.state.secret_by("secret:mine0000000000000000").unwrap();
    assert_eq!(kept.revisions.keys().copied().collect::<Vec<_>>(), [2]);
}

#[test]
fn secret_remove_ignores_what_is_not_ours_or_no_longer_exists() {
    // Another library's secret, a label of an endpoint we do not have, no label.
    for label in ["other-lib.1", "manifest.pod-defaults.1", ""] {
        let mut secret = owned_with_revisions(label);
        if label.is_empty() {
            secret.label = None;
        }
        let out = harness().run(
            secret.remove(1),
            State::default().leader(true).secret(secret),
        );
        assert!(out.ok(), "{label}");
        assert!(out.removed_secret_revisions.is_empty(), "{label}");
        assert_eq!(out.calls.len(), 0, "{label}: {:?}", out.calls);
    }
    // Already removed (juju#20794): no secret-remove, and the hook does not fail.
    let secret = owned_with_revisions("manifest.service-accounts.1");
    let out = harness().run(secret.remove(1), State::default().leader(true));
    assert!(out.ok(), "{:?}", out.result);
    assert!(out.removed_secret_revisions.is_empty());
    // The latest revision is never removed.
    let out = harness().run(
        secret.remove(2),
        State::default().leader(true).secret(secret.clone()),
    );
    assert!(out.ok());
    assert!(out.removed_secret_revisions.is_empty());
    // Followers leave it to the leader.
    let out = harness().run(secret.remove(1), State::default().secret(secret));
    assert!(out.ok());
    assert!(out.removed_secret_revisions.is_empty());
}

#[test]
fn relation_broken_removes_the_relations_secret() {
    let state = after_first_send();
    let rel = state.rel(3).unwrap().clone();
    let out = harness().run(rel.broken(), state.clone());
    assert!(out.ok(), "{:?}", out.result);
    assert!(out.state.secret_by("manifest.secrets.3").is_none());
    assert_eq!(out.removed_secret_revisions.len(), 1);
    // A follower cannot manage the app's secret: it leaves it.
    let out = harness().run(
        rel.broken(),
        State {
            leader: false,
            ..state
        },
    );
    assert!(out.ok());
    assert!(out.state.secret_by("manifest.secrets.3").is_some());
    // Nothing to remove: fine.
    let out = harness().run(
        rel.broken(),
        State::default().leader(true).relation(rel.clone()),
    );
    assert!(out.ok());
}

#[test]
fn the_sender_answers_what_it_sent() {
    let mut charm = Charm::new();
    charm
        .plugin(ManifestsSender::new("secrets"))
        .reconcile(|ctx: &mut Ctx| {
            let sender = ManifestsSender::new("secrets");
            let rel = charm::RelationId::new("secrets", 3);
            let before = sender.sent_manifests(ctx, &rel)?;
            let items = vec![KubernetesManifest::new(
                &SECRET_YAML.replace("{name}", "s"),
            )?];
            let outcome = sender.send_data(ctx, &items)?;
            assert_eq!(
                outcome,
                SendOutcome::Sent {
                    relations: vec![rel.clone()]
                }
            );
            let id = sender.secret_id(ctx, &rel)?;
            ctx.store("before", &before.map(|m| m.len()))?;
            ctx.store("id", &id)?;
            Ok(())
        });
    let harness = Harness::new(charm, META);
    let rel = Relation::new("secrets", 3, "dispatcher");
    let out = harness.run(
        charm::Event::UpdateStatus,
        State::default().leader(true).relation(rel),
    );
    assert!(out.ok(), "{:?}", out.result);
    assert_eq!(out.state.stored["before"], serde_json::Value::Null);
    let id = out
        .state
        .secret_by("manifest.secrets.3")
        .unwrap()
        .id
        .clone();
    assert_eq!(out.state.stored["id"], serde_json::json!(id));
    // The next dispatch reads it back.
    let mut charm = Charm::new();
    charm.reconcile(|ctx: &mut Ctx| {
        let sent = ManifestsSender::new("secrets")
            .sent_manifests(ctx, &charm::RelationId::new("secrets", 3))?
            .unwrap_or_default();
        ctx.store(
            "names",
            &sent
                .iter()
                .map(|m| m.name().to_string())
                .collect::<Vec<_>>(),
        )?;
        Ok(())
    });
    let out2 = Harness::new(charm, META).run(charm::Event::UpdateStatus, out.state);
    assert_eq!(out2.state.stored["names"], serde_json::json!(["s"]));
}

#[test]
fn the_same_endpoint_cannot_be_added_twice() {
    let mut charm = Charm::new();
    charm
        .plugin(ManifestsSender::new("secrets"))
        .plugin(KubernetesManifestsRequirer::new("secrets", vec![]));
    let out = Harness::new(charm, META).run(charm::Event::UpdateStatus, State::default());
    assert!(!out.ok());
    assert!(out.error().unwrap().contains("added twice"));
}
