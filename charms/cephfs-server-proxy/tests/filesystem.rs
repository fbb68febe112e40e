//! Harness tests of the proxy's `filesystem` endpoint (interface `filesystem_info`) and of the
//! `auth-info` option.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use cephfs_server_proxy::{AUTH_LABEL, CONFIG, METADATA, charm};
use charm::secret::SecretContent;
use charm::{Event, Status, StatusKind};
use charm_testing::{Harness, Output, Relation, Secret, State};
use serde_json::json;

const KEY: &str = "R//appdqz4NP4Bxcc5XWrg==";
const NEW_KEY: &str = "AQBzYmFyYmF6cXV4c2VjcmV0a2V5MQ==";
const FSID: &str = "123456789-0abc-defg-hijk-lmnopqrstuvw";

fn harness() -> Harness {
    Harness::new(charm(), METADATA).config_yaml(CONFIG)
}

fn configured() -> State {
    State::default()
        .config("fsid", FSID)
        .config("sharepoint", "filesystem:/data")
        .config("monitor-hosts", "192.168.1.1:6789 192.168.1.2:6789")
        .relation(Relation::peer("server-peers", 0, "cephfs-server-proxy"))
}

fn with_set_auth(state: State) -> State {
    state.secret(
        Secret::owned(
            "secret:cq1credentialscreden",
            SecretContent::new()
                .with("username", "user")
                .with("key", KEY),
        )
        .label(AUTH_LABEL),
    )
}

fn fs_client(id: u32) -> Relation {
    Relation::new("filesystem", id, &format!("client{id}")).remote_unit(0, [("k", "v")])
}

fn share_client(id: u32) -> Relation {
    Relation::new("cephfs-share", id, "cephfs-client")
        .remote_app_data([("name", "/data")])
        .remote_unit(0, [("cache", "{}")])
}

/// The URI for the configured share, naming `secret` at `rev`.
fn uri(user: &str, secret: &str, rev: u32) -> String {
    format!(
        "cephfs://{user}@(192.168.1.1%3A6789%2C192.168.1.2%3A6789)/data?fsid={FSID}&name=filesystem&auth={}&auth-rev={rev}",
        secret.replace(':', "%3A")
    )
}

fn endpoint(out: &Output, relation: u32) -> Option<String> {
    out.state
        .get_relation(relation)
        .local_app_data
        .get("endpoint")
        .cloned()
}

fn status(out: &Output) -> Status {
    out.state
        .unit_status
        .clone()
        .unwrap_or(Status::active("<none>"))
}

fn assert_key_not_shown(out: &Output, key: &str) {
    assert!(
        !out.logs.iter().any(|(_, l)| l.contains(key)),
        "key in logs"
    );
    assert!(!status(out).message.contains(key), "key in status");
    assert!(!out.action.results.values().any(|v| v.contains(key)));
    assert!(!out.action.failed.as_deref().unwrap_or("").contains(key));
}

#[test]
fn the_first_filesystem_client_gets_the_share_published() {
    let rel = fs_client(5);
    let state = with_set_auth(configured())
        .leader(true)
        .relation(rel.clone());
    let out = harness().run(rel.joined(0), state);
    assert!(out.ok(), "{:?}", out.error());
    let secret = out.state.get_secret("auth");
    assert_eq!(secret.revisions[&1].get("key"), Some(KEY));
    assert_eq!(secret.revisions[&1].len(), 1, "content is only the key");
    assert!(secret.grants.contains_key(&5));
    let expected = uri("user", &secret.id, 1);
    assert_eq!(endpoint(&out, 5).as_deref(), Some(expected.as_str()));
    assert_eq!(
        out.state.get_relation(0).local_app_data["endpoint"],
        expected
    );
    assert_key_not_shown(&out, KEY);

    // The next client gets the stored URI; the proxy's own secret is not read.
    let next = fs_client(6);
    let out = harness().run(next.joined(0), out.state.relation(next.clone()));
    assert!(out.ok(), "{:?}", out.error());
    assert_eq!(endpoint(&out, 6).as_deref(), Some(expected.as_str()));
    assert!(out.state.get_secret("auth").grants.contains_key(&6));
    // (collect-status reads the set-auth secret; nothing reads the `auth` one.)
    let auth_id = out.state.get_secret("auth").id.clone();
    let touched: Vec<&str> = out
        .calls
        .iter()
        .filter(|c| c.tool.starts_with("secret-") && c.tool != "secret-grant")
        .filter(|c| c.args.contains("\"auth\"") || c.args.contains(&auth_id))
        .map(|c| c.tool)
        .collect();
    assert!(touched.is_empty(), "{touched:?}: {:?}", out.calls);
    assert_eq!(out.calls_to("secret-get"), 1, "{:?}", out.calls);
    assert_eq!(out.calls_to("secret-set"), 0);
}

#[test]
fn without_filesystem_clients_no_auth_secret_is_made() {
    let state = with_set_auth(configured())
        .leader(true)
        .relation(share_client(1));
    let out = harness().run(Event::ConfigChanged, state);
    assert!(out.ok(), "{:?}", out.error());
    assert!(out.state.secret_by("auth").is_none());
    assert!(
        !out.state
            .get_relation(0)
            .local_app_data
            .contains_key("endpoint")
    );
    assert!(
        out.state
            .get_relation(1)
            .local_app_data
            .contains_key("share_info")
    );
}

#[test]
fn config_and_credential_changes_reach_filesystem_clients() {
    let rel = fs_client(5);
    let state = with_set_auth(configured())
        .leader(true)
        .relation(rel.clone());
    let first = harness().run(rel.joined(0), state);
    let secret_id = first.state.get_secret("auth").id.clone();

    let mut state = first.state;
    state
        .config
        .insert("sharepoint".into(), json!("filesystem:/scratch"));
    let out = harness().run(Event::ConfigChanged, state);
    assert!(out.ok(), "{:?}", out.error());
    let moved = uri("user", &secret_id, 1).replace("/data?", "/scratch?");
    assert_eq!(endpoint(&out, 5).as_deref(), Some(moved.as_str()));
    assert_eq!(out.calls_to("secret-set"), 0, "same key, same revision");

    let out = harness().run_action(
        "set-auth",
        json!({"username": "user", "key": NEW_KEY}),
        out.state,
    );
    assert!(out.ok(), "{:?}", out.error());
    let secret = out.state.get_secret("auth");
    assert_eq!(secret.latest(), 2);
    assert_eq!(secret.revisions[&2].get("key"), Some(NEW_KEY));
    let rotated = moved.replace("auth-rev=1", "auth-rev=2");
    assert_eq!(endpoint(&out, 5).as_deref(), Some(rotated.as_str()));
    assert_eq!(
        out.state.get_relation(0).local_app_data["endpoint"],
        rotated
    );
    assert_key_not_shown(&out, NEW_KEY);
}

#[test]
fn a_follower_publishes_nothing() {
    let rel = fs_client(5);
    let out = harness().run(
        rel.joined(0),
        with_set_auth(configured()).relation(rel.clone()),
    );
    assert!(out.ok(), "{:?}", out.error());
    assert_eq!(endpoint(&out, 5), None);
    assert!(out.state.secret_by("auth").is_none());
}

#[test]
fn auth_info_serves_both_interfaces_without_set_auth() {
    let rel = fs_client(5);
    let state = configured()
        .config("auth-info", format!("fsuser:{KEY}"))
        .leader(true)
        .relation(rel.clone())
        .relation(share_client(1));
    let out = harness().run(Event::ConfigChanged, state);
    assert!(out.ok(), "{:?}", out.error());
    assert_eq!(status(&out), Status::active("sharing filesystem:/data"));
    let secret = out.state.get_secret("auth");
    assert_eq!(
        endpoint(&out, 5).as_deref(),
        Some(uri("fsuser", &secret.id, 1).as_str())
    );
    let share = &out.state.get_relation(1).local_app_data;
    let per_relation = out.state.get_secret(&share["auth"]);
    assert_eq!(per_relation.revisions[&1].get("username"), Some("fsuser"));
    assert_eq!(per_relation.revisions[&1].get("key"), Some(KEY));
    assert!(out.state.secret_by(AUTH_LABEL).is_none());
    assert_key_not_shown(&out, KEY);
}

#[test]
fn a_malformed_auth_info_blocks_without_showing_it() {
    for bad in [
        KEY.to_string(),
        format!("fs user:{KEY}"),
        "user:not a key!".into(),
    ] {
        let out = harness().run(
            Event::ConfigChanged,
            with_set_auth(configured())
                .config("auth-info", bad.as_str())
                .leader(true),
        );
        assert!(out.ok());
        let s = status(&out);
        assert_eq!(s.kind, StatusKind::Blocked);
        assert_eq!(
            s.message,
            "config: auth-info must be <ceph user>:<base64 cephx key> (the value is not shown)"
        );
        assert_key_not_shown(&out, &bad);
    }
}

#[test]
fn set_auth_is_refused_while_auth_info_is_set() {
    let state = configured()
        .config("auth-info", format!("fsuser:{KEY}"))
        .leader(true);
    let out = harness().run_action(
        "set-auth",
        json!({"username": "user", "key": NEW_KEY}),
        state,
    );
    assert!(out.ok());
    let failed = out.action.failed.clone().unwrap_or_default();
    assert!(failed.contains("auth-info option is set"), "{failed}");
    assert!(out.state.secrets.is_empty());
    assert_key_not_shown(&out, NEW_KEY);
}

#[test]
fn update_status_with_filesystem_clients_costs_nothing_more() {
    let rel = fs_client(5);
    let state = with_set_auth(configured())
        .leader(true)
        .relation(rel.clone());
    let first = harness().run(rel.joined(0), state);
    let out = harness().run(Event::UpdateStatus, first.state);
    let tools: Vec<&str> = out.calls.iter().map(|c| c.tool).collect();
    assert_eq!(tools, vec!["config-get", "is-leader", "secret-get"]);
}

#[test]
fn the_auth_secret_revisions_are_pruned_by_the_library() {
    let rel = fs_client(5);
    let state = with_set_auth(configured())
        .leader(true)
        .relation(rel.clone());
    let first = harness().run(rel.joined(0), state);
    let rotated = harness().run_action(
        "set-auth",
        json!({"username": "user", "key": NEW_KEY}),
        first.state,
    );
    let secret = rotated.state.get_secret("auth").clone();
    let out = harness().run(secret.remove(1), rotated.state);
    assert!(out.ok(), "{:?}", out.error());
    assert_eq!(
        out.removed_secret_revisions,
        vec![(secret.id.clone(), Some(1))]
    );
}
