//! Harness tests of the provider side, one charm event at a time.

// Test helpers outside #[test] functions may unwrap: a failure is a broken test.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

use charm::{Charm, Ctx, Event, EventKind, Outcome, RelationId, StatusKind};
use charm_testing::{Harness, Relation, State};
use s3::{CredentialsRequested, S3ConnectionInfo, S3Error, S3Key, S3Provider, S3Request, UriStyle};
use std::collections::BTreeMap;

const META: &str =
    "name: s3\nprovides:\n  s3-credentials: {interface: s3}\n  other: {interface: s3}\n";
const EP: &str = "s3-credentials";

fn provider_charm() -> Harness {
    let mut charm = Charm::new();
    charm.plugin(S3Provider::new(EP));
    Harness::new(charm, META)
}

/// A provider charm whose config-changed handler runs `f` (to call the write API).
fn writing_charm(
    f: impl Fn(&S3Provider, &mut Ctx<'_>) -> Result<(), S3Error> + 'static,
) -> Harness {
    let provider = S3Provider::new(EP);
    let mut charm = Charm::new();
    let p = provider.clone();
    charm.plugin(provider).on(
        EventKind::ConfigChanged,
        move |ctx: &mut Ctx<'_>, _: &Event| {
            f(&p, ctx)?;
            Ok(())
        },
    );
    Harness::new(charm, META)
}

fn rid(id: u32) -> RelationId {
    RelationId::new(EP, id)
}

fn full_info() -> S3ConnectionInfo {
    S3ConnectionInfo {
        path: Some("/backups".into()),
        endpoint: Some("https://s3.example.com".into()),
        region: Some("eu-west-1".into()),
        s3_uri_style: Some(UriStyle::Path),
        storage_class: Some("GLACIER".into()),
        tls_ca_chain: vec!["-----BEGIN CERTIFICATE-----\nAA==\n-----END CERTIFICATE-----".into()],
        s3_api_version: Some("4".into()),
        attributes: vec!["a=1".into(), "b=2".into()],
        delete_older_than_days: Some(30),
        ..S3ConnectionInfo::new("test-access-key", "test-secret-key", "test-bucket")
    }
}

#[test]
fn a_bucket_request_emits_once_and_writes_the_python_cache() {
    let harness = provider_charm();
    let rel = Relation::new(EP, 3, "app").remote_app_data([("bucket", "relation-3")]);
    let out = harness.run(
        rel.changed(None),
        State::default().leader(true).relation(rel.clone()),
    );
    assert!(out.ok(), "{:?}", out.error());
    let requests = out.emitted::<CredentialsRequested>();
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0].bucket, "relation-3");
    assert_eq!(requests[0].app.as_deref(), Some("app"));
    assert_eq!(requests[0].relation, rid(3));
    let local = &out.state.rel(3).unwrap().local_app_data;
    assert_eq!(local["data"], r#"{"bucket": "relation-3"}"#);

    // The same bag again: nothing new, nothing written.
    let again = rel.local_app_data(local.clone());
    let out = harness.run(
        again.changed(Some(0)),
        State::default().leader(true).relation(again),
    );
    assert!(out.emitted::<CredentialsRequested>().is_empty());
    assert_eq!(out.calls_to("relation-set"), 0);
}

#[test]
fn a_changed_bucket_is_requested_again() {
    let harness = provider_charm();
    let rel = Relation::new(EP, 3, "app")
        .remote_app_data([("bucket", "new-bucket")])
        .local_app_data([("data", r#"{"bucket": "old-bucket"}"#)]);
    let out = harness.run(
        rel.changed(None),
        State::default().leader(true).relation(rel),
    );
    assert_eq!(
        out.emitted::<CredentialsRequested>()[0].bucket,
        "new-bucket"
    );
    assert_eq!(
        out.state.rel(3).unwrap().local_app_data["data"],
        r#"{"bucket": "new-bucket"}"#
    );
}

#[test]
fn a_python_providers_cache_survives_the_upgrade() {
    // The Python library wrote this cache before the charm was refreshed to the Rust one.
    let harness = provider_charm();
    let rel = Relation::new(EP, 3, "app")
        .remote_app_data([("bucket", "relation-3")])
        .local_app_data([
            ("data", r#"{"bucket": "relation-3"}"#),
            ("access-key", "k"),
            ("secret-key", "s"),
        ]);
    let out = harness.run(
        rel.changed(None),
        State::default().leader(true).relation(rel),
    );
    assert!(out.ok());
    assert!(out.emitted::<CredentialsRequested>().is_empty());
    assert_eq!(out.calls_to("relation-set"), 0);
}

#[test]
fn no_bucket_yet_still_caches_like_python() {
    let harness = provider_charm();
    let rel = Relation::new(EP, 3, "app").remote_unit(0, [("x", "1")]);
    let out = harness.run(
        rel.changed(Some(0)),
        State::default().leader(true).relation(rel),
    );
    assert!(out.emitted::<CredentialsRequested>().is_empty());
    assert_eq!(out.state.rel(3).unwrap().local_app_data["data"], "{}");
}

#[test]
fn followers_do_not_diff_or_write() {
    let harness = provider_charm();
    let rel = Relation::new(EP, 3, "app").remote_app_data([("bucket", "b")]);
    let out = harness.run(rel.changed(None), State::default().relation(rel));
    assert!(out.ok());
    assert!(out.emitted::<CredentialsRequested>().is_empty());
    assert_eq!(out.calls_to("relation-get"), 0);
    assert_eq!(out.calls_to("relation-set"), 0);
}

#[test]
fn an_unreadable_cache_is_replaced_not_fatal() {
    let harness = provider_charm();
    let rel = Relation::new(EP, 3, "app")
        .remote_app_data([("bucket", "b")])
        .local_app_data([("data", "{not json")]);
    let out = harness.run(
        rel.changed(None),
        State::default().leader(true).relation(rel),
    );
    assert!(out.ok());
    assert_eq!(out.emitted::<CredentialsRequested>().len(), 1);
    assert!(out.logged("ignoring the unreadable \"data\" cache"));
    assert_eq!(
        out.state.rel(3).unwrap().local_app_data["data"],
        r#"{"bucket": "b"}"#
    );
}

#[test]
fn a_new_leader_picks_up_requests_it_missed() {
    let harness = provider_charm();
    let seen = Relation::new(EP, 1, "a")
        .remote_app_data([("bucket", "one")])
        .local_app_data([("data", r#"{"bucket": "one"}"#)]);
    let missed = Relation::new(EP, 2, "b").remote_app_data([("bucket", "two")]);
    let out = harness.run(
        Event::LeaderElected,
        State::default()
            .leader(true)
            .relation(seen)
            .relation(missed),
    );
    let buckets: Vec<&str> = out
        .emitted::<CredentialsRequested>()
        .iter()
        .map(|r| r.bucket.as_str())
        .collect();
    assert_eq!(buckets, ["two"]);
}

#[test]
fn update_connection_info_writes_every_field_once() {
    let harness = writing_charm(|p, ctx| {
        p.update_connection_info(ctx, &rid(3), &full_info())
            .map(|_| ())
    });
    let rel = Relation::new(EP, 3, "app")
        .remote_app_data([("bucket", "relation-3")])
        .local_app_data([("data", r#"{"bucket": "relation-3"}"#)]);
    let out = harness.run(
        Event::ConfigChanged,
        State::default().leader(true).relation(rel.clone()),
    );
    assert!(out.ok(), "{:?}", out.error());
    let local = out.state.rel(3).unwrap().local_app_data.clone();
    assert_eq!(local["access-key"], "test-access-key");
    assert_eq!(local["secret-key"], "test-secret-key");
    assert_eq!(local["bucket"], "test-bucket");
    assert_eq!(local["s3-uri-style"], "path");
    assert_eq!(
        local["tls-ca-chain"],
        r#"["-----BEGIN CERTIFICATE-----\nAA==\n-----END CERTIFICATE-----"]"#
    );
    assert_eq!(local["attributes"], r#"["a=1", "b=2"]"#);
    assert_eq!(local["delete-older-than-days"], "30");
    assert_eq!(
        local["data"], r#"{"bucket": "relation-3"}"#,
        "the cache is left alone"
    );
    assert_eq!(out.calls_to("relation-set"), 1);
    assert!(!out.logged("test-secret-key"));
    assert!(!out.logged("test-access-key"));

    // Unchanged info: no relation-set at all (and so no relation-changed on the other side).
    let rel = rel.local_app_data(local);
    let out = harness.run(
        Event::ConfigChanged,
        State::default().leader(true).relation(rel),
    );
    assert_eq!(out.calls_to("relation-set"), 0);
}

#[test]
fn unset_fields_and_empty_lists_are_removed_not_sent_as_quotes() {
    let harness = writing_charm(|p, ctx| {
        p.update_connection_info(ctx, &rid(3), &S3ConnectionInfo::new("k", "s", "b"))
            .map(|_| ())
    });
    let previous = full_info().to_bag().unwrap();
    let rel = Relation::new(EP, 3, "app")
        .remote_app_data([("bucket", "b")])
        .local_app_data(previous);
    let out = harness.run(
        Event::ConfigChanged,
        State::default().leader(true).relation(rel),
    );
    let local = &out.state.rel(3).unwrap().local_app_data;
    let keys: Vec<&str> = local.keys().map(String::as_str).collect();
    assert_eq!(keys, ["access-key", "bucket", "secret-key"]);
}

#[test]
fn every_setter_uses_the_wire_encoding() {
    let harness = writing_charm(|p, ctx| {
        let r = rid(3);
        p.set_bucket(ctx, &r, "b")?;
        p.set_access_key(ctx, &r, "k")?;
        p.set_secret_key(ctx, &r, "s")?;
        p.set_path(ctx, &r, "/p")?;
        p.set_endpoint(ctx, &r, "https://e")?;
        p.set_region(ctx, &r, "r")?;
        p.set_s3_uri_style(ctx, &r, &UriStyle::Host)?;
        p.set_storage_class(ctx, &r, "c")?;
        p.set_tls_ca_chain(ctx, &r, &["x".to_string(), "y".to_string()])?;
        p.set_s3_api_version(ctx, &r, "2")?;
        p.set_attributes(ctx, &r, &["k=v".to_string()])?;
        p.set_delete_older_than_days(ctx, &r, 9)?;
        Ok(())
    });
    let rel = Relation::new(EP, 3, "app").remote_app_data([("bucket", "b")]);
    let out = harness.run(
        Event::ConfigChanged,
        State::default().leader(true).relation(rel),
    );
    assert!(out.ok(), "{:?}", out.error());
    let local = out.state.rel(3).unwrap().local_app_data.clone();
    let expected = S3ConnectionInfo {
        path: Some("/p".into()),
        endpoint: Some("https://e".into()),
        region: Some("r".into()),
        s3_uri_style: Some(UriStyle::Host),
        storage_class: Some("c".into()),
        tls_ca_chain: vec!["x".into(), "y".into()],
        s3_api_version: Some("2".into()),
        attributes: vec!["k=v".into()],
        delete_older_than_days: Some(9),
        ..S3ConnectionInfo::new("k", "s", "b")
    };
    assert_eq!(local, expected.to_bag().unwrap());
    assert_eq!(
        out.calls_to("relation-set"),
        1,
        "staged writes go out as one relation-set"
    );
}

#[test]
fn unset_and_empty_list_setters_delete_keys() {
    let harness = writing_charm(|p, ctx| {
        p.set_tls_ca_chain(ctx, &rid(3), &[])?;
        p.unset(ctx, &rid(3), S3Key::Path)?;
        p.set_region(ctx, &rid(3), "")?;
        Ok(())
    });
    let rel = Relation::new(EP, 3, "app")
        .remote_app_data([("bucket", "b")])
        .local_app_data([
            ("tls-ca-chain", r#"["x"]"#),
            ("path", "/p"),
            ("region", "r"),
            ("bucket", "b"),
        ]);
    let out = harness.run(
        Event::ConfigChanged,
        State::default().leader(true).relation(rel),
    );
    let local = &out.state.rel(3).unwrap().local_app_data;
    assert_eq!(local.keys().collect::<Vec<_>>(), ["bucket"]);
}

#[test]
fn followers_cannot_write() {
    let harness = writing_charm(|p, ctx| {
        p.update_connection_info(ctx, &rid(3), &full_info())
            .map(|_| ())
    });
    let rel = Relation::new(EP, 3, "app");
    let out = harness.run(Event::ConfigChanged, State::default().relation(rel));
    assert!(!out.ok());
    assert!(
        out.error().unwrap().contains("only the leader"),
        "{:?}",
        out.error()
    );
    assert!(out.state.rel(3).unwrap().local_app_data.is_empty());
    assert_eq!(out.calls_to("relation-set"), 0);

    let harness = writing_charm(|p, ctx| p.set_secret_key(ctx, &rid(3), "s"));
    let rel = Relation::new(EP, 3, "app");
    let out = harness.run(Event::ConfigChanged, State::default().relation(rel));
    assert!(!out.ok());
}

#[test]
fn unknown_relations_are_typed_errors() {
    for target in [rid(9), RelationId::new("other", 3)] {
        let t = target.clone();
        let harness = writing_charm(move |p, ctx| {
            let err = p.update_connection_info(ctx, &t, &full_info()).unwrap_err();
            assert!(matches!(err, S3Error::UnknownRelation { .. }), "{err}");
            assert_eq!(charm::Classify::outcome(&err), Outcome::Fail);
            Ok(())
        });
        let rel = Relation::new(EP, 3, "app");
        let out = harness.run(
            Event::ConfigChanged,
            State::default().leader(true).relation(rel),
        );
        assert!(out.ok(), "{target}: {:?}", out.error());
        assert_eq!(out.calls_to("relation-set"), 0);
    }
}

#[test]
fn empty_required_fields_block_instead_of_deleting() {
    let harness = writing_charm(|p, ctx| {
        p.update_connection_info(ctx, &rid(3), &S3ConnectionInfo::new("k", "", "b"))
            .map(|_| ())
    });
    let rel = Relation::new(EP, 3, "app")
        .remote_app_data([("bucket", "b")])
        .local_app_data([("secret-key", "old")]);
    let out = harness.run(
        Event::ConfigChanged,
        State::default().leader(true).relation(rel),
    );
    assert!(out.ok());
    let status = out.state.unit_status.clone().unwrap();
    assert_eq!(status.kind, StatusKind::Blocked);
    assert!(status.message.contains("secret-key"), "{}", status.message);
    assert_eq!(
        out.state.rel(3).unwrap().local_app_data["secret-key"],
        "old"
    );

    let harness = writing_charm(|p, ctx| p.set_bucket(ctx, &rid(3), ""));
    let rel = Relation::new(EP, 3, "app").local_app_data([("bucket", "b")]);
    let out = harness.run(
        Event::ConfigChanged,
        State::default().leader(true).relation(rel),
    );
    assert_eq!(
        out.state.unit_status.clone().unwrap().kind,
        StatusKind::Blocked
    );
    assert_eq!(out.state.rel(3).unwrap().local_app_data["bucket"], "b");
}

#[test]
fn relation_data_lists_every_request() {
    let harness = writing_charm(|p, ctx| {
        let all = p.relation_data(ctx)?;
        let expected: BTreeMap<RelationId, Option<S3Request>> = [
            (
                rid(1),
                Some(S3Request {
                    bucket: "one".into(),
                    path: None,
                }),
            ),
            (rid(2), None),
        ]
        .into_iter()
        .collect();
        assert_eq!(all, expected);
        assert_eq!(p.requested_bucket(ctx, &rid(1))?.as_deref(), Some("one"));
        Ok(())
    });
    let one = Relation::new(EP, 1, "a").remote_app_data([("bucket", "one"), ("data", "{}")]);
    let two = Relation::new(EP, 2, "b");
    let out = harness.run(
        Event::ConfigChanged,
        State::default().leader(true).relation(one).relation(two),
    );
    assert!(out.ok(), "{:?}", out.error());
}
