//! Harness tests of the s3-integrator charm.

// Test helpers outside #[test] functions may unwrap: a failure is a broken test.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

use charm::secret::SecretContent;
use charm::{Event, Status, StatusKind};
use charm_testing::{Harness, Output, Relation, Secret, State};
use s3::CredentialsRequested;
use s3_integrator::{
    CONFIG, CREDENTIALS_LABEL, ENDPOINT, GENERATION_KEY, METADATA, MISSING_CREDENTIALS, PEER,
};

const ACCESS: &str = "AKIA-TEST-ACCESS";
const SECRET: &str = "s3cr3t-TEST-SECRET-value";

/// `ca_chain.pem` with two certificates, base64-encoded (the config option's form).
const CHAIN_B64: &str = "LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCk1JSUJvbmU9Ci0tLS0tRU5EIENFUlRJRklDQVRFLS0tLS0KLS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCk1JSUJ0d289Ci0tLS0tRU5EIENFUlRJRklDQVRFLS0tLS0K";

fn harness() -> Harness {
    Harness::new(s3_integrator::charm(), METADATA).config_yaml(CONFIG)
}

fn creds(access: &str, secret: &str) -> SecretContent {
    SecretContent::new()
        .with("access-key", access)
        .with("secret-key", secret)
}

fn credentials_secret() -> Secret {
    Secret::owned("secret:cred0000000000000001", creds(ACCESS, SECRET)).label(CREDENTIALS_LABEL)
}

fn requested(id: u32, bucket: &str) -> Relation {
    Relation::new(ENDPOINT, id, &format!("consumer{id}")).remote_app_data([("bucket", bucket)])
}

fn leader_with_credentials() -> State {
    State::default().leader(true).secret(credentials_secret())
}

fn status(out: &Output) -> Status {
    out.state.unit_status.clone().expect("a status was set")
}

#[test]
fn blocked_until_credentials_exist() {
    let out = harness().run(Event::Start, State::default().leader(true));
    assert!(out.ok(), "{:?}", out.error());
    assert_eq!(status(&out), Status::blocked(MISSING_CREDENTIALS));
    let out = harness().run(Event::Start, leader_with_credentials());
    assert_eq!(status(&out), Status::active("serving 0 relations"));
    let follower = State::default().secret(credentials_secret());
    let out = harness().run(Event::Start, follower);
    assert_eq!(status(&out), Status::active(""));
}

#[test]
fn sync_stores_a_secret_and_updates_every_relation() {
    let state = State::default()
        .leader(true)
        .relation(requested(1, "relation-1"))
        .relation(requested(2, "bucket-two"))
        .config("endpoint", "https://s3.example.com");
    let out = harness().run_action(
        "sync-s3-credentials",
        serde_json::json!({"access-key": ACCESS, "secret-key": SECRET}),
        state,
    );
    assert!(out.ok(), "{:?}", out.error());
    assert_eq!(out.action.failed, None);
    assert_eq!(
        out.action.results["result"],
        "credentials stored; sent to 2 relation(s)"
    );
    let secret = out
        .state
        .secret_by(CREDENTIALS_LABEL)
        .expect("secret created");
    assert_eq!(secret.revisions[&1], creds(ACCESS, SECRET));
    for (id, bucket) in [(1, "relation-1"), (2, "bucket-two")] {
        let bag = &out.state.rel(id).unwrap().local_app_data;
        assert_eq!(bag["access-key"], ACCESS);
        assert_eq!(bag["secret-key"], SECRET);
        assert_eq!(bag["bucket"], bucket, "the requested bucket is honoured");
        assert_eq!(bag["endpoint"], "https://s3.example.com");
    }
    assert_eq!(status(&out), Status::active("serving 2 relations"));
}

#[test]
fn rotating_credentials_adds_a_revision_and_resends() {
    let state = leader_with_credentials().relation(requested(1, "b"));
    let out = harness().run(Event::ConfigChanged, state);
    assert_eq!(
        out.state.rel(1).unwrap().local_app_data["secret-key"],
        SECRET
    );
    let out = harness().run_action(
        "sync-s3-credentials",
        serde_json::json!({"access-key": ACCESS, "secret-key": "rotated-secret"}),
        out.state,
    );
    assert!(out.ok(), "{:?}", out.error());
    let secret = out.state.secret_by(CREDENTIALS_LABEL).unwrap();
    assert_eq!(secret.latest(), 2);
    let bag = &out.state.rel(1).unwrap().local_app_data;
    assert_eq!(bag["secret-key"], "rotated-secret");
    assert_eq!(bag["access-key"], ACCESS);
}

#[test]
fn new_credentials_are_announced_to_the_other_units_once() {
    // Juju never sends secret-changed to the owner's own units: the leader bumps a counter in the
    // peer app bag so that the others re-read the secret (their status depends on it).
    let peer = Relation::peer(PEER, 9, "s3-integrator");
    let state = State::default().leader(true).relation(peer);
    let params = serde_json::json!({"access-key": ACCESS, "secret-key": SECRET});
    let out = harness().run_action("sync-s3-credentials", params.clone(), state);
    assert!(out.ok(), "{:?}", out.error());
    assert_eq!(
        out.state.rel(9).unwrap().local_app_data[GENERATION_KEY],
        "1"
    );
    // The same credentials again: no revision, no announcement.
    let out = harness().run_action("sync-s3-credentials", params, out.state);
    assert!(out.ok(), "{:?}", out.error());
    assert_eq!(
        out.action.results["result"],
        "credentials unchanged; sent to 0 relation(s)"
    );
    assert_eq!(out.state.secret_by(CREDENTIALS_LABEL).unwrap().latest(), 1);
    assert_eq!(
        out.state.rel(9).unwrap().local_app_data[GENERATION_KEY],
        "1"
    );
    let out = harness().run_action(
        "sync-s3-credentials",
        serde_json::json!({"access-key": ACCESS, "secret-key": "rotated"}),
        out.state,
    );
    assert_eq!(out.state.secret_by(CREDENTIALS_LABEL).unwrap().latest(), 2);
    assert_eq!(
        out.state.rel(9).unwrap().local_app_data[GENERATION_KEY],
        "2"
    );
    // The peer bag never holds a credential.
    let peer_bag = &out.state.rel(9).unwrap().local_app_data;
    assert!(
        !peer_bag
            .values()
            .any(|v| v.contains(SECRET) || v == "rotated")
    );
}

#[test]
fn sync_is_for_the_leader_and_needs_both_keys() {
    let out = harness().run_action(
        "sync-s3-credentials",
        serde_json::json!({"access-key": ACCESS, "secret-key": SECRET}),
        State::default(),
    );
    assert!(out.action.failed.unwrap().contains("leader"));
    assert!(out.state.secrets.is_empty());
    for params in [
        serde_json::json!({"access-key": ACCESS}),
        serde_json::json!({"access-key": ACCESS, "secret-key": ""}),
        serde_json::json!({"access-key": ACCESS, "secret-key": 12345}),
    ] {
        let out =
            harness().run_action("sync-s3-credentials", params, State::default().leader(true));
        assert!(out.action.failed.clone().unwrap().contains("both required"));
        assert!(out.state.secrets.is_empty());
        assert!(!out.action.failed.unwrap().contains("12345"));
    }
}

#[test]
fn sync_with_bad_config_stores_but_does_not_send() {
    let state = State::default()
        .leader(true)
        .relation(requested(1, "b"))
        .config("s3-uri-style", "diagonal");
    let out = harness().run_action(
        "sync-s3-credentials",
        serde_json::json!({"access-key": ACCESS, "secret-key": SECRET}),
        state,
    );
    assert!(out.ok());
    assert!(out.action.results["result"].contains("relations not updated: invalid config"));
    assert!(out.state.secret_by(CREDENTIALS_LABEL).is_some());
    assert!(
        !out.state
            .rel(1)
            .unwrap()
            .local_app_data
            .contains_key("secret-key")
    );
}

#[test]
fn config_is_sent_in_wire_form() {
    let state = leader_with_credentials()
        .relation(requested(1, "relation-1"))
        .config("bucket", "shared")
        .config("path", "/backups")
        .config("region", "eu-west-1")
        .config("s3-uri-style", "path")
        .config("storage-class", "GLACIER")
        .config("tls-ca-chain", CHAIN_B64)
        .config("s3-api-version", "4")
        .config("experimental-delete-older-than-days", 7)
        .config("attributes", "a=1, b=2");
    let out = harness().run(Event::ConfigChanged, state);
    assert!(out.ok(), "{:?}", out.error());
    let bag = out.state.rel(1).unwrap().local_app_data.clone();
    assert_eq!(
        bag["bucket"], "shared",
        "the bucket option wins over the request"
    );
    assert_eq!(bag["path"], "/backups");
    assert_eq!(bag["region"], "eu-west-1");
    assert_eq!(bag["s3-uri-style"], "path");
    assert_eq!(bag["storage-class"], "GLACIER");
    assert_eq!(
        bag["tls-ca-chain"],
        r#"["-----BEGIN CERTIFICATE-----\nMIIBone=\n-----END CERTIFICATE-----", "-----BEGIN CERTIFICATE-----\nMIIBtwo=\n-----END CERTIFICATE-----"]"#
    );
    assert_eq!(bag["s3-api-version"], "4");
    assert_eq!(bag["delete-older-than-days"], "7");
    assert_eq!(bag["attributes"], r#"["a=1", "b=2"]"#);
    assert_eq!(out.calls_to("relation-set"), 1);

    // Resetting options removes their keys (no `""` left behind for the lists).
    let mut state = out.state;
    state.config.remove("tls-ca-chain");
    state.config.remove("attributes");
    state.config.remove("path");
    let out = harness().run(Event::ConfigChanged, state);
    let bag = &out.state.rel(1).unwrap().local_app_data;
    for gone in ["tls-ca-chain", "attributes", "path"] {
        assert!(!bag.contains_key(gone), "{gone} still sent");
    }
    assert_eq!(bag["region"], "eu-west-1");
}

#[test]
fn bad_config_blocks_and_keeps_what_was_sent() {
    let sent = leader_with_credentials()
        .relation(requested(1, "b"))
        .config("region", "r1");
    let out = harness().run(Event::ConfigChanged, sent);
    let before = out.state.rel(1).unwrap().local_app_data.clone();
    for (option, value, problem) in [
        (
            "tls-ca-chain",
            serde_json::json!("not base64!"),
            "tls-ca-chain is not valid base64",
        ),
        (
            "tls-ca-chain",
            serde_json::json!("aGVsbG8="),
            "tls-ca-chain holds no PEM certificate",
        ),
        (
            "experimental-delete-older-than-days",
            serde_json::json!(0),
            "between 1 and 9999999",
        ),
        (
            "experimental-delete-older-than-days",
            serde_json::json!("seven"),
            "experimental-delete-older-than-days",
        ),
        (
            "s3-uri-style",
            serde_json::json!("diagonal"),
            "s3-uri-style must be host or path",
        ),
    ] {
        let mut state = out.state.clone();
        state.config.insert("region".into(), "r2".into());
        state.config.insert(option.into(), value);
        let bad = harness().run(Event::ConfigChanged, state);
        assert!(bad.ok(), "{option}: bad config must not fail the hook");
        let s = status(&bad);
        assert_eq!(s.kind, StatusKind::Blocked, "{option}");
        assert!(s.message.contains(problem), "{option}: {}", s.message);
        assert_eq!(
            bad.state.rel(1).unwrap().local_app_data,
            before,
            "{option}: nothing sent"
        );
    }
}

#[test]
fn relations_without_a_bucket_wait() {
    let state = leader_with_credentials()
        .relation(Relation::new(ENDPOINT, 1, "quiet"))
        .relation(requested(2, "b"));
    let out = harness().run(Event::ConfigChanged, state);
    assert!(out.state.rel(1).unwrap().local_app_data.is_empty());
    assert_eq!(out.state.rel(2).unwrap().local_app_data["bucket"], "b");
}

#[test]
fn a_request_is_answered_in_the_same_hook() {
    let rel = requested(4, "relation-4");
    let out = harness().run(rel.changed(None), leader_with_credentials().relation(rel));
    assert!(out.ok(), "{:?}", out.error());
    assert_eq!(out.emitted::<CredentialsRequested>().len(), 1);
    let bag = &out.state.rel(4).unwrap().local_app_data;
    assert_eq!(bag["bucket"], "relation-4");
    assert_eq!(bag["data"], r#"{"bucket": "relation-4"}"#);
    assert_eq!(bag["secret-key"], SECRET);
    // Cache and answer go out together.
    assert_eq!(out.calls_to("relation-set"), 1);
}

#[test]
fn a_new_leader_resends_and_followers_write_nothing() {
    let rel = requested(1, "b");
    let out = harness().run(
        Event::LeaderElected,
        leader_with_credentials().relation(rel.clone()),
    );
    assert_eq!(
        out.state.rel(1).unwrap().local_app_data["access-key"],
        ACCESS
    );
    let follower = State::default().secret(credentials_secret()).relation(rel);
    let out = harness().run(Event::ConfigChanged, follower);
    assert!(out.ok(), "{:?}", out.error());
    assert_eq!(out.calls_to("relation-set"), 0);
    assert_eq!(
        out.calls_to("secret-get"),
        1,
        "only the status looks at the secret"
    );
}

#[test]
fn get_credentials_is_leader_only() {
    let out = harness().run_action(
        "get-s3-credentials",
        serde_json::json!({}),
        leader_with_credentials(),
    );
    assert_eq!(out.action.results["access-key"], ACCESS);
    assert_eq!(out.action.results["secret-key"], SECRET);
    let out = harness().run_action(
        "get-s3-credentials",
        serde_json::json!({}),
        State::default().secret(credentials_secret()),
    );
    assert!(out.action.failed.unwrap().contains("leader"));
    assert!(out.action.results.is_empty());
    let out = harness().run_action(
        "get-s3-credentials",
        serde_json::json!({}),
        State::default().leader(true),
    );
    assert!(out.action.failed.unwrap().contains("not set"));
}

#[test]
fn connection_info_redacts_the_credentials() {
    let state = leader_with_credentials()
        .config("endpoint", "https://s3.example.com")
        .config("bucket", "b");
    let out = harness().run_action("get-s3-connection-info", serde_json::json!({}), state);
    let results = &out.action.results;
    assert_eq!(results["endpoint"], "https://s3.example.com");
    assert_eq!(results["bucket"], "b");
    assert_eq!(results["access-key"], "<redacted>");
    assert_eq!(results["secret-key"], "<redacted>");
    let out = harness().run_action(
        "get-s3-connection-info",
        serde_json::json!({}),
        State::default(),
    );
    assert!(out.action.failed.unwrap().contains("nothing is set"));
    let out = harness().run_action(
        "get-s3-connection-info",
        serde_json::json!({}),
        State::default().config("s3-uri-style", "x"),
    );
    assert!(out.action.failed.unwrap().contains("s3-uri-style"));
}

#[test]
fn upgrade_moves_python_peer_credentials_into_a_secret() {
    let peer = Relation::peer(PEER, 9, "s3-integrator").local_app_data([
        ("access-key", ACCESS),
        ("secret-key", SECRET),
        ("bucket", "legacy"),
    ]);
    let state = State::default()
        .leader(true)
        .relation(peer)
        .relation(requested(1, "b"));
    let out = harness().run(Event::UpgradeCharm, state);
    assert!(out.ok(), "{:?}", out.error());
    let secret = out
        .state
        .secret_by(CREDENTIALS_LABEL)
        .expect("secret created");
    assert_eq!(secret.revisions[&1], creds(ACCESS, SECRET));
    let peer_bag = &out.state.rel(9).unwrap().local_app_data;
    assert!(!peer_bag.contains_key("secret-key") && !peer_bag.contains_key("access-key"));
    assert_eq!(peer_bag["bucket"], "legacy");
    assert_eq!(
        out.state.rel(1).unwrap().local_app_data["secret-key"],
        SECRET
    );
    assert!(!out.logged(SECRET));
}

#[test]
fn old_credential_revisions_are_pruned_once() {
    let secret = credentials_secret().revision(creds(ACCESS, "newer"));
    let event = secret.remove(1);
    let out = harness().run(event.clone(), leader_with_credentials_and(secret));
    assert!(out.ok(), "{:?}", out.error());
    assert_eq!(out.removed_secret_revisions.len(), 1);
    // Juju may fire the same secret-remove again: no second removal (it would fail the hook).
    let again = harness().run(event, out.state);
    assert!(again.ok(), "{:?}", again.error());
    assert!(again.removed_secret_revisions.is_empty());
}

fn leader_with_credentials_and(secret: Secret) -> State {
    State::default().leader(true).secret(secret)
}

#[test]
fn hook_tool_calls_per_event() {
    // The numbers quoted in the report; a regression here costs every deployment.
    let rel = requested(1, "relation-1");
    let out = harness().run(
        rel.changed(None),
        leader_with_credentials().relation(rel.clone()),
    );
    let tools: Vec<&str> = out.calls.iter().map(|c| c.tool).collect();
    assert_eq!(
        tools,
        [
            "is-leader",
            "relation-get",
            "relation-get",
            "config-get",
            "secret-get",
            "relation-ids",
            "status-set",
            "relation-set",
        ],
        "{:#?}",
        out.calls
    );
    // Each INFO line is one more `juju-log` in a real hook (the harness records them apart).
    let info_lines = out
        .logs
        .iter()
        .filter(|(level, _)| *level >= charm::LogLevel::Info)
        .count();
    assert_eq!(info_lines, 2, "{:#?}", out.logs);
    // Nothing changed: no write, no status, no log.
    let mut state = out.state;
    state.unit_status = Some(Status::active("serving 1 relation"));
    let out = harness().run(Event::UpdateStatus, state);
    let tools: Vec<&str> = out.calls.iter().map(|c| c.tool).collect();
    assert_eq!(
        tools,
        [
            "config-get",
            "is-leader",
            "secret-get",
            "relation-ids",
            "relation-list",
            "relation-get",
            "relation-get"
        ],
        "{:#?}",
        out.calls
    );
}
