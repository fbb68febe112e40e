//! Harness tests of the provider side.

use cephfs_interfaces::{AuthInfo, CephFsProvider, ShareInfo, ShareRequested};
use charm::secret::SecretContent;
use charm::{ActionEvent, Charm, Ctx, Error, RelationId};
use charm_testing::{Harness, Relation, Secret, State};
use serde::Deserialize;

const EP: &str = "cephfs-share";
const META: &str = "name: cephfs-server\nprovides:\n  cephfs-share:\n    interface: cephfs_share\n";
const KEY: &str = "R//appdqz4NP4Bxcc5XWrg==";
const NEW_KEY: &str = "AQBzYmFyYmF6cXV4c2VjcmV0a2V5MQ==";
const SHARE_INFO: &str = r#"{"fsid": "123456789-0abc-defg-hijk-lmnopqrstuvw", "name": "filesystem", "path": "/data", "monitor_hosts": ["192.168.1.1:6789", "192.168.1.2:6789", "192.168.1.3:6789"]}"#;

fn share() -> ShareInfo {
    ShareInfo {
        fsid: "123456789-0abc-defg-hijk-lmnopqrstuvw".into(),
        name: "filesystem".into(),
        path: "/data".into(),
        monitor_hosts: vec![
            "192.168.1.1:6789".into(),
            "192.168.1.2:6789".into(),
            "192.168.1.3:6789".into(),
        ],
    }
}

#[derive(Deserialize)]
struct ServeParams {
    key: String,
    #[serde(default)]
    relation: Option<u32>,
}

/// Action `serve key=<k> [relation=<id>]`: serve every request (or one relation) with this key.
fn serve(ctx: &mut Ctx, _action: &ActionEvent) -> Result<(), Error> {
    let params: ServeParams = ctx.action_params()?;
    let provider = CephFsProvider::new(EP);
    let mut served = 0;
    for request in provider.requests(ctx)? {
        if params.relation.is_some_and(|r| r != request.relation.id) {
            continue;
        }
        let auth = AuthInfo::new("user", &params.key);
        match provider.set_share(ctx, &request.relation, &share(), &auth) {
            Ok(true) => served += 1,
            Ok(false) => {}
            // A Blocked error in an action is not reported by the dispatcher: fail the action.
            Err(e) => {
                ctx.action_fail(&e.to_string())?;
                return Ok(());
            }
        }
    }
    ctx.action_set(&serde_json::json!({ "served": served }))?;
    Ok(())
}

fn charm() -> Charm {
    let mut charm = Charm::new();
    charm
        .plugin(CephFsProvider::new(EP))
        .on_event(|ctx: &mut Ctx, e: &ShareRequested| {
            CephFsProvider::new(EP).set_share(
                ctx,
                &e.relation,
                &share(),
                &AuthInfo::new("user", KEY),
            )?;
            Ok(())
        })
        .action("serve", serve);
    charm
}

fn harness() -> Harness {
    Harness::new(charm(), META)
}

fn rel(id: u32) -> Relation {
    Relation::new(EP, id, "cephfs-client")
        .remote_app_data([("name", "/data")])
        .remote_unit(0, [("cache", "{}")])
}

#[test]
fn a_request_is_served_with_a_secret_per_relation() {
    let rel = rel(4);
    let out = harness().run(
        rel.changed(None),
        State::default().leader(true).relation(rel),
    );
    assert!(out.ok(), "{:?}", out.error());
    let requested = out.emitted::<ShareRequested>();
    assert_eq!(requested.len(), 1);
    assert_eq!(requested[0].name, "/data");
    assert_eq!(requested[0].remote_app.as_deref(), Some("cephfs-client"));

    let bag = &out.state.rel(4).unwrap().local_app_data;
    assert_eq!(bag["share_info"], SHARE_INFO);
    assert_eq!(bag["auth-rev"], "1");
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&bag["cache"]).unwrap(),
        serde_json::json!({"name": "/data"})
    );
    let secret = out.state.secret_by(&bag["auth"]).unwrap();
    assert!(bag["auth"].starts_with("secret:"));
    assert_eq!(secret.label.as_deref(), Some("auth_info.4"));
    assert_eq!(
        secret.description.as_deref(),
        Some("Auth info to authenticate against the CephFS share")
    );
    assert_eq!(
        secret.revisions[&1],
        SecretContent::new()
            .with("username", "user")
            .with("key", KEY)
    );
    assert!(secret.grants.contains_key(&4), "granted to the relation");
    // The three served keys and the cache go out in one relation-set.
    assert_eq!(out.calls_to("relation-set"), 1);
    assert!(!out.logs.iter().any(|(_, l)| l.contains(KEY)));
}

#[test]
fn a_follower_neither_emits_nor_writes() {
    let rel = rel(4);
    let out = harness().run(rel.changed(None), State::default().relation(rel));
    assert!(out.ok(), "{:?}", out.error());
    assert!(out.emitted::<ShareRequested>().is_empty());
    assert!(out.state.rel(4).unwrap().local_app_data.is_empty());
    assert_eq!(out.calls_to("relation-get"), 0);
}

#[test]
fn the_same_request_is_not_emitted_twice() {
    let rel = rel(4);
    let first = harness().run(
        rel.changed(None),
        State::default().leader(true).relation(rel.clone()),
    );
    let out = harness().run(rel.changed(Some(0)), first.state);
    assert!(out.ok());
    assert!(out.emitted::<ShareRequested>().is_empty());
    assert_eq!(out.calls_to("relation-set"), 0);
}

#[test]
fn a_changed_name_is_requested_again() {
    let rel = rel(4);
    let first = harness().run(
        rel.changed(None),
        State::default().leader(true).relation(rel.clone()),
    );
    let mut state = first.state;
    state.relations[0]
        .remote_app_data
        .insert("name".into(), "/scratch".into());
    let out = harness().run(rel.changed(None), state);
    let requested = out.emitted::<ShareRequested>();
    assert_eq!(requested.len(), 1);
    assert_eq!(requested[0].name, "/scratch");
}

#[test]
fn a_new_leader_does_not_re_request_served_shares() {
    let rel = rel(4);
    let first = harness().run(
        rel.changed(None),
        State::default().leader(true).relation(rel.clone()),
    );
    // Another unit becomes leader: it sees the app bag (with the cache), but not the old unit bag.
    let mut state = first.state;
    state.relations[0].local_unit_data.clear();
    let out = Harness::new(charm(), META)
        .unit(1)
        .run(rel.changed(Some(0)), state);
    assert!(out.ok());
    assert!(out.emitted::<ShareRequested>().is_empty());
}

#[test]
fn a_python_providers_unit_cache_is_migrated() {
    // Upgraded from the Python library: its leader kept the snapshot in its unit bag.
    let rel = rel(4)
        .local_unit_data([("cache", r#"{"name": "/data"}"#)])
        .local_app_data([
            ("share_info", SHARE_INFO),
            ("auth", "secret:old00000000000000000"),
            ("auth-rev", "1"),
        ]);
    let out = harness().run(
        rel.changed(None),
        State::default().leader(true).relation(rel),
    );
    assert!(out.ok(), "{:?}", out.error());
    assert!(out.emitted::<ShareRequested>().is_empty());
    assert_eq!(
        out.state.rel(4).unwrap().local_app_data["cache"],
        r#"{"name": "/data"}"#
    );
}

#[test]
fn garbage_cache_counts_as_empty() {
    let rel = rel(4).local_app_data([("cache", "{not json")]);
    let out = harness().run(
        rel.changed(None),
        State::default().leader(true).relation(rel),
    );
    assert!(out.ok(), "{:?}", out.error());
    assert!(out.logged("ignoring the change-detection cache"));
    assert_eq!(out.emitted::<ShareRequested>().len(), 1);
    assert_eq!(
        out.state.rel(4).unwrap().local_app_data["cache"],
        r#"{"name": "/data"}"#
    );
}

#[test]
fn serving_again_with_the_same_auth_changes_nothing() {
    let rel = rel(4);
    let first = harness().run(
        rel.changed(None),
        State::default().leader(true).relation(rel),
    );
    let out = harness().run_action(
        "serve",
        serde_json::json!({"key": KEY}),
        first.state.clone(),
    );
    assert!(out.ok(), "{:?}", out.error());
    assert_eq!(out.action.results["served"], "1");
    assert_eq!(out.state, first.state);
    assert_eq!(out.calls_to("secret-set"), 0);
    assert_eq!(out.calls_to("secret-add"), 0);
    assert_eq!(out.calls_to("secret-info-get"), 0);
    assert_eq!(out.calls_to("relation-set"), 0);
}

#[test]
fn a_new_key_is_a_new_revision_of_the_same_secret() {
    let rel = rel(4);
    let first = harness().run(
        rel.changed(None),
        State::default().leader(true).relation(rel),
    );
    let old_uri = first.state.rel(4).unwrap().local_app_data["auth"].clone();
    let out = harness().run_action("serve", serde_json::json!({"key": NEW_KEY}), first.state);
    assert!(out.ok(), "{:?}", out.error());
    let bag = &out.state.rel(4).unwrap().local_app_data;
    assert_eq!(bag["auth"], old_uri);
    assert_eq!(bag["auth-rev"], "2");
    let secret = out.state.secret_by(&old_uri).unwrap();
    assert_eq!(secret.latest(), 2);
    assert_eq!(secret.revisions[&2].get("key"), Some(NEW_KEY));
    assert!(!out.logs.iter().any(|(_, l)| l.contains(NEW_KEY)));
}

#[test]
fn rotating_one_relation_leaves_the_others_consistent() {
    let state = State::default()
        .leader(true)
        .relation(rel(4))
        .relation(rel(5));
    let out = harness().run_action("serve", serde_json::json!({"key": KEY}), state);
    assert_eq!(out.action.results["served"], "2");
    let before = out.state.clone();
    let out = harness().run_action(
        "serve",
        serde_json::json!({"key": NEW_KEY, "relation": 5}),
        out.state,
    );
    assert!(out.ok(), "{:?}", out.error());
    let four = &out.state.rel(4).unwrap().local_app_data;
    let five = &out.state.rel(5).unwrap().local_app_data;
    assert_ne!(four["auth"], five["auth"], "one secret per relation");
    // Relation 4 still points at a secret whose content matches its auth-rev.
    assert_eq!(four, &before.rel(4).unwrap().local_app_data);
    let secret4 = out.state.secret_by(&four["auth"]).unwrap();
    assert_eq!(secret4.latest(), 1);
    assert_eq!(secret4.revisions[&1].get("key"), Some(KEY));
    assert_eq!(five["auth-rev"], "2");
    let secret5 = out.state.secret_by(&five["auth"]).unwrap();
    assert_eq!(secret5.revisions[&2].get("key"), Some(NEW_KEY));
    assert!(!secret5.grants.contains_key(&4));
}

#[test]
fn set_share_on_a_follower_does_nothing() {
    let state = State::default().relation(rel(4));
    let out = harness().run_action("serve", serde_json::json!({"key": KEY}), state);
    assert!(out.ok(), "{:?}", out.error());
    assert_eq!(out.action.results["served"], "0");
    assert!(out.state.secrets.is_empty());
    assert!(out.state.rel(4).unwrap().local_app_data.is_empty());
}

#[test]
fn an_empty_key_is_refused() {
    let state = State::default().leader(true).relation(rel(4));
    let out = harness().run_action("serve", serde_json::json!({"key": ""}), state);
    assert!(out.ok());
    assert!(out.state.secrets.is_empty());
    assert!(
        out.action
            .failed
            .as_deref()
            .unwrap_or("")
            .contains("the key is empty")
    );
}

#[test]
fn an_existing_secret_is_reused_when_the_bag_lost_track() {
    // The secret exists (e.g. created by an earlier leader) but the bag has no auth yet.
    let secret = Secret::owned(
        "secret:cq1e0istinge0isting0",
        SecretContent::new()
            .with("username", "user")
            .with("key", KEY),
    )
    .label("auth_info.4");
    let state = State::default()
        .leader(true)
        .relation(rel(4))
        .secret(secret);
    let out = harness().run_action("serve", serde_json::json!({"key": KEY}), state);
    assert!(out.ok(), "{:?}", out.error());
    let bag = &out.state.rel(4).unwrap().local_app_data;
    assert_eq!(bag["auth"], "secret:cq1e0istinge0isting0");
    assert_eq!(bag["auth-rev"], "1");
    assert_eq!(out.calls_to("secret-add"), 0);
}

#[test]
fn requests_lists_every_relation_with_a_name() {
    let quiet = Relation::new(EP, 6, "other-client");
    let state = State::default()
        .leader(true)
        .relation(rel(4))
        .relation(quiet);
    let mut charm = Charm::new();
    charm.on(
        charm::EventKind::UpdateStatus,
        |ctx: &mut Ctx, _e: &charm::Event| {
            let requests = CephFsProvider::new(EP).requests(ctx)?;
            let shown: Vec<String> = requests
                .iter()
                .map(|r| format!("{} {}", r.relation, r.name))
                .collect();
            ctx.store("requests", &shown)?;
            Ok(())
        },
    );
    let out = Harness::new(charm, META).run(charm::Event::UpdateStatus, state);
    assert_eq!(
        out.state.stored["requests"],
        serde_json::json!(["cephfs-share:4 /data"])
    );
}

#[test]
fn a_removed_relation_takes_its_secret_along() {
    let rel = rel(4);
    let first = harness().run(
        rel.changed(None),
        State::default().leader(true).relation(rel.clone()),
    );
    assert_eq!(first.state.secrets.len(), 1);
    let out = harness().run(rel.broken(), first.state);
    assert!(out.ok(), "{:?}", out.error());
    assert!(out.state.secrets.is_empty());
    // Without a secret (never served) there is nothing to do.
    let out = harness().run(rel.broken(), State::default().leader(true).relation(rel));
    assert!(out.ok(), "{:?}", out.error());
}

fn two_revisions(label: &str) -> Secret {
    Secret::owned(
        "secret:cq1o0nedo0nedo0ned00",
        SecretContent::new()
            .with("username", "user")
            .with("key", KEY),
    )
    .revision(
        SecretContent::new()
            .with("username", "user")
            .with("key", NEW_KEY),
    )
    .label(label)
}

#[test]
fn obsolete_revisions_of_our_secrets_are_removed() {
    let secret = two_revisions("auth_info.4");
    let state = State::default()
        .leader(true)
        .relation(rel(4))
        .secret(secret.clone());
    let out = harness().run(secret.remove(1), state);
    assert!(out.ok(), "{:?}", out.error());
    assert_eq!(
        out.removed_secret_revisions,
        vec![("secret:cq1o0nedo0nedo0ned00".to_string(), Some(1))]
    );
    // Juju sends it again (juju#19036): nothing is removed twice.
    let again = harness().run(secret.remove(1), out.state);
    assert!(again.ok(), "{:?}", again.error());
    assert!(again.removed_secret_revisions.is_empty());
}

#[test]
fn the_python_librarys_shared_secret_is_ours_too() {
    let secret = two_revisions("auth_info");
    let state = State::default().leader(true).secret(secret.clone());
    let out = harness().run(secret.remove(1), state);
    assert_eq!(out.removed_secret_revisions.len(), 1);
}

#[test]
fn the_current_revision_is_never_removed() {
    let secret = two_revisions("auth_info.4");
    let state = State::default().leader(true).secret(secret.clone());
    let out = harness().run(secret.remove(2), state);
    assert!(out.ok());
    assert!(out.removed_secret_revisions.is_empty());
}

#[test]
fn other_secrets_are_left_alone_without_a_hook_tool_call() {
    let secret = two_revisions("somebody-else");
    let state = State::default().leader(true).secret(secret.clone());
    let out = harness().run(secret.remove(1), state);
    assert!(out.ok());
    assert!(out.removed_secret_revisions.is_empty());
    assert!(out.calls.is_empty(), "{:?}", out.calls);
}

#[test]
fn a_secret_that_is_gone_is_tolerated() {
    // juju#20794: secret-remove for a secret that no longer exists.
    let secret = two_revisions("auth_info.4");
    let out = harness().run(secret.remove(1), State::default().leader(true));
    assert!(out.ok(), "{:?}", out.error());
    assert!(out.removed_secret_revisions.is_empty());
    assert_eq!(out.calls_to("secret-info-get"), 1);
}

#[test]
fn a_follower_does_not_touch_secrets() {
    let secret = two_revisions("auth_info.4");
    let out = harness().run(secret.remove(1), State::default().secret(secret.clone()));
    assert!(out.ok());
    assert!(out.removed_secret_revisions.is_empty());
    assert_eq!(out.calls_to("secret-info-get"), 0);
}

#[test]
fn fetch_data_leaves_out_the_cache() {
    let mut charm = Charm::new();
    charm.on(
        charm::EventKind::UpdateStatus,
        |ctx: &mut Ctx, _e: &charm::Event| {
            let data = CephFsProvider::new(EP).fetch_data(ctx)?;
            let bag = data
                .get(&RelationId::new(EP, 4))
                .cloned()
                .unwrap_or_default();
            ctx.store("data", &bag)?;
            Ok(())
        },
    );
    let rel = rel(4).remote_app_data([("name", "/data"), ("cache", "{}")]);
    let out =
        Harness::new(charm, META).run(charm::Event::UpdateStatus, State::default().relation(rel));
    assert_eq!(
        out.state.stored["data"],
        serde_json::json!({"name": "/data"})
    );
}

#[test]
fn a_request_served_outside_relation_changed_is_not_reported_again() {
    // Served from an action (as the server charm does on config-changed), never via relation-changed.
    let state = State::default().leader(true).relation(rel(4));
    let out = harness().run_action("serve", serde_json::json!({"key": KEY}), state);
    let bag = &out.state.rel(4).unwrap().local_app_data;
    assert_eq!(bag["cache"], r#"{"name": "/data"}"#);
    assert_eq!(out.calls_to("relation-set"), 1);
    let out = harness().run(rel(4).changed(None), out.state);
    assert!(out.emitted::<ShareRequested>().is_empty());
}
