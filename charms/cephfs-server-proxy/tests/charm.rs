//! Harness tests of the cephfs-server-proxy charm.

use cephfs_interfaces::ShareRequested;
use cephfs_server_proxy::{AUTH_LABEL, CONFIG, METADATA, NO_AUTH, charm};
use charm::secret::SecretContent;
use charm::{Event, Status, StatusKind};
use charm_testing::{Harness, Output, Relation, Secret, State};
use serde_json::json;

const KEY: &str = "R//appdqz4NP4Bxcc5XWrg==";
const NEW_KEY: &str = "AQBzYmFyYmF6cXV4c2VjcmV0a2V5MQ==";
const FSID: &str = "123456789-0abc-defg-hijk-lmnopqrstuvw";
const SHARE_INFO: &str = r#"{"fsid": "123456789-0abc-defg-hijk-lmnopqrstuvw", "name": "filesystem", "path": "/data", "monitor_hosts": ["192.168.1.1:6789", "192.168.1.2:6789", "192.168.1.3:6789"]}"#;

fn harness() -> Harness {
    Harness::new(charm(), METADATA).config_yaml(CONFIG)
}

fn configured() -> State {
    State::default()
        .config("fsid", FSID)
        .config("sharepoint", "filesystem:/data")
        .config(
            "monitor-hosts",
            "192.168.1.1:6789 192.168.1.2:6789  192.168.1.3:6789",
        )
}

fn with_auth(state: State) -> State {
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

fn client(id: u32) -> Relation {
    Relation::new("cephfs-share", id, "cephfs-client")
        .remote_app_data([("name", "/data")])
        .remote_unit(0, [("cache", "{}")])
}

fn status(out: &Output) -> Status {
    out.state
        .unit_status
        .clone()
        .unwrap_or(Status::active("<none>"))
}

fn assert_no_key_leaks(out: &Output) {
    for key in [KEY, NEW_KEY] {
        assert!(
            !out.logs.iter().any(|(_, l)| l.contains(key)),
            "key in logs"
        );
        assert!(!status(out).message.contains(key), "key in status");
        assert!(
            !out.action.results.values().any(|v| v.contains(key)),
            "key in action results"
        );
        assert!(!out.action.logs.iter().any(|l| l.contains(key)));
        assert!(!out.action.failed.as_deref().unwrap_or("").contains(key));
    }
}

#[test]
fn blocked_naming_every_missing_option() {
    let out = harness().run(Event::Install, State::default().leader(true));
    assert!(out.ok());
    assert_eq!(
        status(&out),
        Status::blocked("config: fsid is not set; sharepoint is not set; monitor-hosts is not set")
    );
}

#[test]
fn blocked_naming_malformed_options() {
    let state = configured()
        .config("sharepoint", "filesystem")
        .config("monitor-hosts", "10.0.0.1:6789,10.0.0.2:6789");
    let out = harness().run(Event::ConfigChanged, state.leader(true));
    assert!(out.ok());
    let s = status(&out);
    assert_eq!(s.kind, StatusKind::Blocked);
    assert!(
        s.message
            .contains("sharepoint must be <filesystem name>:<absolute path> (got \"filesystem\")"),
        "{s}"
    );
    assert!(
        s.message
            .contains("monitor-hosts must be separated by spaces"),
        "{s}"
    );
    assert!(!s.message.contains("fsid"), "{s}");
}

#[test]
fn blocked_until_credentials_are_given() {
    let out = harness().run(Event::UpdateStatus, configured().leader(true));
    assert_eq!(status(&out), Status::blocked(NO_AUTH));
    let out = harness().run(Event::UpdateStatus, with_auth(configured()).leader(true));
    assert_eq!(status(&out), Status::active("sharing filesystem:/data"));
    // A follower cannot run set-auth and serves nobody: only its config matters.
    let out = harness().run(Event::UpdateStatus, configured());
    assert_eq!(status(&out), Status::active("sharing filesystem:/data"));
    assert_eq!(out.calls_to("secret-get"), 0);
}

#[test]
fn update_status_costs_three_hook_tools() {
    let out = harness().run(
        Event::UpdateStatus,
        with_auth(configured()).leader(true).relation(client(1)),
    );
    let tools: Vec<&str> = out.calls.iter().map(|c| c.tool).collect();
    // config-get, is-leader, secret-get (credentials present?), status-set (first time only).
    assert_eq!(
        tools,
        vec!["config-get", "is-leader", "secret-get", "status-set"]
    );
    let again = harness().run(Event::UpdateStatus, out.state);
    assert_eq!(again.calls.len(), 3);
}

#[test]
fn set_auth_is_for_the_leader_only() {
    let out = harness().run_action(
        "set-auth",
        json!({"username": "user", "key": KEY}),
        configured(),
    );
    assert!(out.ok());
    let failed = out.action.failed.clone().unwrap_or_default();
    assert!(failed.contains("must run on the leader"), "{failed}");
    assert!(failed.contains("cephfs-server-proxy/0"), "{failed}");
    assert!(out.state.secrets.is_empty());
}

#[test]
fn set_auth_refuses_bad_parameters_without_echoing_them() {
    let bad_key = "c2VjcmV0 with spaces";
    let out = harness().run_action(
        "set-auth",
        json!({"username": "user", "key": bad_key}),
        configured().leader(true),
    );
    assert!(out.ok());
    let failed = out.action.failed.clone().unwrap_or_default();
    assert_eq!(failed, "parameter key must be a base64 cephx key");
    assert!(out.state.secrets.is_empty());
    assert!(!out.logs.iter().any(|(_, l)| l.contains(bad_key)));
}

#[test]
fn set_auth_stores_a_secret_and_serves_waiting_clients() {
    let state = configured().leader(true).relation(client(1));
    let out = harness().run_action("set-auth", json!({"username": "user", "key": KEY}), state);
    assert!(out.ok(), "{:?}", out.error());
    assert_eq!(out.action.failed, None);
    assert_eq!(out.action.results["username"], "user");
    assert_eq!(out.action.results["served-relations"], "1");
    let creds = out.state.secret_by(AUTH_LABEL).unwrap();
    assert_eq!(creds.revisions[&1].get("key"), Some(KEY));
    assert!(
        creds.grants.is_empty(),
        "the credentials secret is never granted"
    );
    let bag = &out.state.rel(1).unwrap().local_app_data;
    assert_eq!(bag["share_info"], SHARE_INFO);
    let per_relation = out.state.secret_by(&bag["auth"]).unwrap();
    assert_eq!(per_relation.label.as_deref(), Some("auth_info.1"));
    assert!(per_relation.grants.contains_key(&1));
    // The status reports on the credentials just stored, without reading the secret back.
    assert_eq!(status(&out), Status::active("sharing filesystem:/data"));
    let read_back = out
        .calls
        .iter()
        .filter(|c| c.tool == "secret-get" && c.args.contains(AUTH_LABEL))
        .count();
    assert_eq!(read_back, 0, "{:?}", out.calls);
    assert_no_key_leaks(&out);
}

#[test]
fn set_auth_before_config_stores_and_says_why_nothing_was_served() {
    let state = State::default().leader(true).relation(client(1));
    let out = harness().run_action("set-auth", json!({"username": "user", "key": KEY}), state);
    assert!(out.ok(), "{:?}", out.error());
    assert_eq!(out.action.results["served-relations"], "0");
    assert!(out.action.logs[0].contains("not serving yet: config: fsid is not set"));
    assert!(out.state.secret_by(AUTH_LABEL).is_some());
    assert!(out.state.rel(1).unwrap().local_app_data.is_empty());
}

#[test]
fn a_request_is_served_once_configured() {
    let rel = client(1);
    let out = harness().run(
        rel.changed(None),
        with_auth(configured()).leader(true).relation(rel.clone()),
    );
    assert!(out.ok(), "{:?}", out.error());
    assert_eq!(out.emitted::<ShareRequested>().len(), 1);
    let bag = &out.state.rel(1).unwrap().local_app_data;
    assert_eq!(bag["share_info"], SHARE_INFO);
    assert_eq!(bag["auth-rev"], "1");
    assert_eq!(status(&out), Status::active("sharing filesystem:/data"));
    assert_no_key_leaks(&out);
}

#[test]
fn a_request_before_config_is_served_on_config_changed() {
    let rel = client(1);
    let out = harness().run(
        rel.changed(None),
        with_auth(State::default()).leader(true).relation(rel),
    );
    assert!(out.ok(), "{:?}", out.error());
    assert_eq!(out.emitted::<ShareRequested>().len(), 1);
    assert_eq!(status(&out).kind, StatusKind::Blocked);
    assert!(
        !out.state
            .rel(1)
            .unwrap()
            .local_app_data
            .contains_key("share_info")
    );

    let mut state = out.state;
    state.config = configured().config;
    let out = harness().run(Event::ConfigChanged, state);
    assert!(out.ok(), "{:?}", out.error());
    assert_eq!(
        out.state.rel(1).unwrap().local_app_data["share_info"],
        SHARE_INFO
    );
    assert_eq!(status(&out), Status::active("sharing filesystem:/data"));
}

fn serving_two() -> State {
    let state = with_auth(configured())
        .leader(true)
        .relation(client(1))
        .relation(client(2));
    let out = harness().run(Event::ConfigChanged, state);
    assert!(out.ok(), "{:?}", out.error());
    out.state
}

#[test]
fn a_config_change_is_served_to_every_client() {
    let mut state = serving_two();
    state
        .config
        .insert("sharepoint".into(), json!("filesystem:/scratch"));
    let out = harness().run(Event::ConfigChanged, state);
    assert!(out.ok(), "{:?}", out.error());
    for id in [1, 2] {
        let bag = &out.state.rel(id).unwrap().local_app_data;
        assert!(bag["share_info"].contains(r#""path": "/scratch""#));
        assert_eq!(bag["auth-rev"], "1", "credentials did not change");
    }
    assert_eq!(out.calls_to("secret-set"), 0);
    assert_eq!(status(&out), Status::active("sharing filesystem:/scratch"));
}

#[test]
fn a_bad_new_config_withdraws_nothing() {
    let state = serving_two();
    let before = state.relations.clone();
    let mut state = state;
    state.config.insert("fsid".into(), json!(""));
    let out = harness().run(Event::ConfigChanged, state);
    assert!(out.ok(), "{:?}", out.error());
    assert_eq!(out.state.relations, before);
    assert_eq!(status(&out), Status::blocked("config: fsid is not set"));
}

#[test]
fn set_auth_again_rotates_every_client() {
    let state = serving_two();
    let out = harness().run_action(
        "set-auth",
        json!({"username": "user", "key": NEW_KEY}),
        state,
    );
    assert!(out.ok(), "{:?}", out.error());
    assert_eq!(out.action.results["served-relations"], "2");
    assert_eq!(out.state.secret_by(AUTH_LABEL).unwrap().latest(), 2);
    for id in [1, 2] {
        let bag = &out.state.rel(id).unwrap().local_app_data;
        assert_eq!(bag["auth-rev"], "2", "relation {id}");
        let secret = out.state.secret_by(&bag["auth"]).unwrap();
        assert_eq!(secret.revisions[&2].get("key"), Some(NEW_KEY));
    }
    // Only the credentials secret is looked up by label; the bags name the per-relation ones.
    assert_eq!(out.calls_to("secret-info-get"), 1, "{:?}", out.calls);
    assert_no_key_leaks(&out);
}

#[test]
fn a_new_leader_re_requests_nothing() {
    let state = serving_two();
    let before = state.clone();
    let harness = Harness::new(charm(), METADATA).config_yaml(CONFIG).unit(1);
    let out = harness.run(Event::LeaderElected, state.clone());
    assert!(out.ok(), "{:?}", out.error());
    assert_eq!(out.state.relations, before.relations);
    assert_eq!(out.state.secrets, before.secrets);
    let out = harness.run(client(1).changed(Some(0)), state);
    assert!(out.emitted::<ShareRequested>().is_empty());
    assert_eq!(out.calls_to("relation-set"), 0);
}

#[test]
fn a_follower_serves_nothing() {
    let rel = client(1);
    let out = harness().run(rel.changed(None), with_auth(configured()).relation(rel));
    assert!(out.ok(), "{:?}", out.error());
    assert!(out.state.rel(1).unwrap().local_app_data.is_empty());
    assert_eq!(status(&out), Status::active("sharing filesystem:/data"));
}

#[test]
fn obsolete_credential_revisions_are_pruned() {
    let creds = Secret::owned(
        "secret:cq1credentialscreden",
        SecretContent::new()
            .with("username", "user")
            .with("key", KEY),
    )
    .revision(
        SecretContent::new()
            .with("username", "user")
            .with("key", NEW_KEY),
    )
    .label(AUTH_LABEL);
    let state = configured().leader(true).secret(creds.clone());
    let out = harness().run(creds.remove(1), state);
    assert!(out.ok(), "{:?}", out.error());
    assert_eq!(
        out.removed_secret_revisions,
        vec![("secret:cq1credentialscreden".to_string(), Some(1))]
    );
}

#[test]
fn a_removed_client_takes_its_secret_along() {
    let state = serving_two();
    assert_eq!(state.secrets.len(), 3);
    let out = harness().run(client(2).broken(), state);
    assert!(out.ok(), "{:?}", out.error());
    assert_eq!(out.state.secrets.len(), 2);
    assert!(out.state.secret_by("auth_info.2").is_none());
}

#[test]
fn a_corrupt_credentials_secret_blocks() {
    let state = configured().leader(true).secret(
        Secret::owned(
            "secret:cq1credentialscreden",
            SecretContent::new().with("username", "u"),
        )
        .label(AUTH_LABEL),
    );
    let out = harness().run(Event::UpdateStatus, state);
    assert!(out.ok());
    let s = status(&out);
    assert_eq!(s.kind, StatusKind::Blocked);
    assert!(s.message.contains("run the set-auth action again"), "{s}");
}
