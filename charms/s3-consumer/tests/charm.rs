//! Harness tests of the s3-consumer charm.

// Test helpers outside #[test] functions may unwrap: a failure is a broken test.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

use charm::{Event, Status, StatusKind};
use charm_testing::{Harness, Output, Relation, State};
use s3::{CredentialsChanged, CredentialsGone};
use s3_consumer::{CONFIG, ENDPOINT, METADATA};

const SECRET: &str = "consumer-TEST-SECRET-value";

fn harness() -> Harness {
    Harness::new(s3_consumer::charm(), METADATA).config_yaml(CONFIG)
}

fn status(out: &Output) -> Status {
    out.state.unit_status.clone().expect("a status was set")
}

fn answered(bucket: &str) -> Relation {
    Relation::new(ENDPOINT, 3, "s3-integrator").remote_app_data([
        ("access-key", "AKIA-TEST"),
        ("secret-key", SECRET),
        ("bucket", bucket),
        ("endpoint", "https://s3.example.com"),
        ("region", "eu-west-1"),
        (
            "tls-ca-chain",
            r#"["-----BEGIN CERTIFICATE-----\nAA==\n-----END CERTIFICATE-----"]"#,
        ),
        ("data", r#"{"bucket": "relation-3"}"#),
    ])
}

#[test]
fn blocked_without_a_relation() {
    let out = harness().run(Event::Start, State::default().leader(true));
    assert!(out.ok(), "{:?}", out.error());
    assert_eq!(
        status(&out),
        Status::blocked("missing relation: s3-credentials")
    );
}

#[test]
fn the_leader_asks_for_the_configured_or_default_bucket() {
    let rel = Relation::new(ENDPOINT, 3, "s3-integrator").remote_unit(0, [("x", "y")]);
    let out = harness().run(
        rel.joined(0),
        State::default().leader(true).relation(rel.clone()),
    );
    // v1: both version keys, no bucket while none is configured (the provider is undecided).
    let local = &out.state.rel(3).unwrap().local_app_data;
    assert_eq!(local["version"], "1");
    assert!(!local.contains_key("bucket"));
    assert_eq!(
        status(&out),
        Status::waiting(
            "waiting for S3 credentials from s3-integrator (missing access-key, secret-key)"
        )
    );
    // Changing the option asks again.
    let mut state = out.state;
    state.config.insert("bucket".into(), "mine".into());
    state.config.insert("path".into(), "pre/".into());
    let out = harness().run(Event::ConfigChanged, state);
    assert_eq!(out.state.rel(3).unwrap().local_app_data["bucket"], "mine");
    assert_eq!(out.state.rel(3).unwrap().local_app_data["path"], "pre/");
    // Followers never write.
    let out = harness().run(rel.joined(0), State::default().relation(rel));
    assert!(out.state.rel(3).unwrap().local_app_data.is_empty());
}

#[test]
fn status_shows_bucket_and_endpoint() {
    let rel = answered("relation-3");
    let out = harness().run(rel.changed(None), State::default().relation(rel));
    assert!(out.ok(), "{:?}", out.error());
    assert_eq!(out.emitted::<CredentialsChanged>().len(), 1);
    assert_eq!(
        status(&out),
        Status::active("credentials for bucket relation-3 at https://s3.example.com")
    );
    assert!(out.logged("workload now uses bucket relation-3 at https://s3.example.com"));
}

#[test]
fn status_says_when_the_provider_chose_another_bucket() {
    let rel = answered("shared");
    let out = harness().run(
        rel.changed(None),
        State::default().relation(rel).config("bucket", "mine"),
    );
    assert_eq!(
        status(&out),
        Status::active("credentials for bucket shared at https://s3.example.com (asked for mine)")
    );
}

#[test]
fn malformed_provider_data_blocks_naming_the_key() {
    let mut rel = answered("b");
    rel.remote_app_data
        .insert("delete-older-than-days".into(), "soon".into());
    let out = harness().run(rel.changed(None), State::default().relation(rel));
    assert!(out.ok(), "bad remote data must not fail the hook");
    let s = status(&out);
    assert_eq!(s.kind, StatusKind::Blocked);
    assert!(
        s.message.contains("delete-older-than-days"),
        "{}",
        s.message
    );
    assert!(s.message.contains("s3-integrator"), "{}", s.message);
    assert!(out.emitted::<CredentialsChanged>().is_empty());
}

#[test]
fn action_shows_info_with_credentials_redacted() {
    let rel = answered("b");
    let out = harness().run_action(
        "get-credentials-info",
        serde_json::json!({}),
        State::default().relation(rel),
    );
    let r = &out.action.results;
    assert_eq!(r["bucket"], "b");
    assert_eq!(r["endpoint"], "https://s3.example.com");
    assert_eq!(r["access-key"], "<redacted>");
    assert_eq!(r["secret-key"], "<redacted>");
    assert_eq!(r["relation"], "s3-credentials:3");
    assert_eq!(r["provider"], "s3-integrator");
    assert!(!r.values().any(|v| v.contains(SECRET)));

    let out = harness().run_action(
        "get-credentials-info",
        serde_json::json!({}),
        State::default(),
    );
    assert!(
        out.action
            .failed
            .unwrap()
            .contains("no s3-credentials relation")
    );
    let bare = Relation::new(ENDPOINT, 3, "s3-integrator").remote_app_data([("bucket", "b")]);
    let out = harness().run_action(
        "get-credentials-info",
        serde_json::json!({}),
        State::default().relation(bare),
    );
    assert!(
        out.action
            .failed
            .unwrap()
            .contains("missing access-key, secret-key")
    );
}

#[test]
fn removal_emits_gone_and_blocks() {
    let rel = answered("b");
    let out = harness().run(rel.changed(None), State::default().relation(rel.clone()));
    let out = harness().run(rel.broken(), out.state);
    assert!(out.ok(), "{:?}", out.error());
    assert_eq!(out.emitted::<CredentialsGone>().len(), 1);
    assert_eq!(
        status(&out),
        Status::blocked("missing relation: s3-credentials")
    );
    assert!(out.state.stored.is_empty());
}

#[test]
fn hook_tool_calls_per_event() {
    let rel = answered("relation-3");
    let out = harness().run(rel.changed(None), State::default().relation(rel));
    let tools: Vec<&str> = out.calls.iter().map(|c| c.tool).collect();
    assert_eq!(
        tools,
        [
            "relation-get",
            "is-leader",
            "relation-ids",
            "config-get",
            "status-set"
        ],
        "{:#?}",
        out.calls
    );
}
