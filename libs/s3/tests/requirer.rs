//! Harness tests of the requirer side, one charm event at a time.

// Test helpers outside #[test] functions may unwrap: a failure is a broken test.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

use charm::{Charm, Ctx, Error, Event, EventKind, RelationId, Status, StatusCollector, StatusKind};
use charm_testing::{Harness, Relation, State};
use s3::{
    ConnectionState, CredentialsChanged, CredentialsGone, S3ConnectionInfo, S3Error, S3Key,
    S3Requirer, UriStyle,
};

const META: &str = "name: app\nrequires:\n  s3-credentials: {interface: s3}\n";
const EP: &str = "s3-credentials";

/// A requirer charm whose status shows what `connection_state` says about every relation.
fn charm_with(requirer: S3Requirer) -> Harness {
    let query = requirer.clone();
    let mut charm = Charm::new();
    charm
        .plugin(requirer)
        .collect_status(move |ctx: &mut Ctx<'_>, s: &mut StatusCollector| {
            for rel in query.relations(ctx)? {
                match query.connection_state(ctx, &rel)? {
                    ConnectionState::Ready(info) => {
                        s.add_unit(Status::active(format!("{} {:?}", info.bucket, info)))
                    }
                    ConnectionState::Incomplete { missing } => {
                        let names: Vec<&str> = missing.iter().map(|k| k.as_str()).collect();
                        s.add_unit(Status::waiting(names.join(",")))
                    }
                }
            }
            Ok(())
        });
    Harness::new(charm, META)
}

fn requirer_charm() -> Harness {
    charm_with(S3Requirer::new(EP))
}

fn provider_bag() -> Vec<(&'static str, &'static str)> {
    vec![
        ("access-key", "test-access-key"),
        ("secret-key", "test-secret-key"),
        ("bucket", "test-bucket"),
        ("endpoint", "https://s3.example.com"),
        ("tls-ca-chain", r#"["cert-1", "cert-2"]"#),
        ("attributes", r#"["a=1"]"#),
        ("delete-older-than-days", "7"),
        ("s3-uri-style", "path"),
        ("data", r#"{"bucket": "relation-3"}"#),
    ]
}

#[test]
fn the_leader_speaks_v1_and_asks_relation_id_buckets_of_v0_providers_per_relation() {
    let harness = requirer_charm();
    let r3 = Relation::new(EP, 3, "s3").remote_unit(0, [("a", "b")]);
    let r4 = Relation::new(EP, 4, "s3b").remote_unit(0, [("a", "b")]);
    let state = State::default()
        .leader(true)
        .relation(r3.clone())
        .relation(r4.clone());
    // relation-created: requested-secrets in the app bag and the leader's unit bag.
    let out = harness.run(r3.created(), state);
    assert!(out.ok(), "{:?}", out.error());
    let rel = out.state.rel(3).unwrap();
    assert_eq!(
        rel.local_app_data["requested-secrets"],
        r#"["access-key", "secret-key"]"#
    );
    assert_eq!(
        rel.local_unit_data["requested-secrets"],
        r#"["access-key", "secret-key"]"#
    );
    // relation-joined: both version keys, no bucket (none chosen, the provider is undecided).
    let out = harness.run(r3.joined(0), out.state);
    let local = &out.state.rel(3).unwrap().local_app_data;
    assert_eq!(local["version"], "1");
    assert_eq!(local["lib-version"], "1.0");
    assert!(!local.contains_key("bucket"));
    // A provider bag without a version key is v0: relation-<id>, nothing emitted in that hook.
    let v0 = r3
        .clone()
        .local_app_data(local.clone())
        .remote_app_data([("data", "{}")]);
    let out = harness.run(
        v0.changed(Some(0)),
        State::default().leader(true).relation(v0),
    );
    assert_eq!(
        out.state.rel(3).unwrap().local_app_data["bucket"],
        "relation-3"
    );
    assert!(out.emitted::<CredentialsChanged>().is_empty());
    // The second relation gets its own name, not the first one's (interfaces.md 4.4 #4).
    let v0b = r4.clone().remote_app_data([("access-key", "k")]);
    let out = harness.run(v0b.changed(Some(0)), out.state.relation(v0b));
    assert_eq!(
        out.state.rel(4).unwrap().local_app_data["bucket"],
        "relation-4"
    );
    // Joined again by another unit: nothing to write.
    let out = harness.run(r4.joined(1), out.state);
    assert_eq!(out.calls_to("relation-set"), 0);
}

#[test]
fn followers_do_not_request() {
    let harness = requirer_charm();
    let rel = Relation::new(EP, 3, "s3").remote_unit(0, [("a", "b")]);
    let out = harness.run(rel.joined(0), State::default().relation(rel));
    assert!(out.ok());
    assert!(out.state.rel(3).unwrap().local_app_data.is_empty());
}

#[test]
fn a_leader_elected_after_the_joins_still_requests() {
    let harness = charm_with(S3Requirer::new(EP).bucket("fixed"));
    let rel = Relation::new(EP, 3, "s3");
    let other = Relation::new(EP, 5, "s3b").local_app_data([("bucket", "fixed")]);
    let out = harness.run(
        Event::LeaderElected,
        State::default().leader(true).relation(rel).relation(other),
    );
    assert_eq!(out.state.rel(3).unwrap().local_app_data["bucket"], "fixed");
    // Relation 3 (new: v1) gets its app bag and the leader's unit bag copy of
    // requested-secrets; relation 5 (started v0) already had its bucket.
    assert_eq!(out.calls_to("relation-set"), 2, "relation 5 already had it");
    assert_eq!(
        out.state.rel(3).unwrap().local_unit_data["requested-secrets"],
        r#"["access-key", "secret-key"]"#
    );
}

#[test]
fn computed_bucket_names() {
    let requirer = S3Requirer::new(EP).bucket_with(|ctx: &mut Ctx<'_>, rel: &RelationId| {
        let prefix: Option<String> = ctx
            .config_map()?
            .get("prefix")
            .and_then(|v| v.as_str().map(String::from));
        Ok(prefix.map(|p| format!("{p}-{}", rel.id)))
    });
    let harness = charm_with(requirer).config_yaml("options:\n  prefix: {type: string}\n");
    let rel = Relation::new(EP, 3, "s3").remote_unit(0, [("a", "b")]);
    let out = harness.run(
        rel.joined(0),
        State::default()
            .leader(true)
            .relation(rel.clone())
            .config("prefix", "pg"),
    );
    assert_eq!(out.state.rel(3).unwrap().local_app_data["bucket"], "pg-3");
    // Nothing computed: a v1 requirer names no bucket.
    let out = harness.run(rel.joined(0), State::default().leader(true).relation(rel));
    assert!(
        !out.state
            .rel(3)
            .unwrap()
            .local_app_data
            .contains_key("bucket")
    );
}

#[test]
fn credentials_changed_once_per_change_and_not_for_the_cache() {
    let harness = requirer_charm();
    let rel = Relation::new(EP, 3, "s3").remote_app_data(provider_bag());
    let out = harness.run(rel.changed(None), State::default().relation(rel.clone()));
    assert!(out.ok(), "{:?}", out.error());
    let changed = out.emitted::<CredentialsChanged>();
    assert_eq!(changed.len(), 1);
    assert_eq!(changed[0].bucket, "test-bucket");
    assert_eq!(
        changed[0].endpoint.as_deref(),
        Some("https://s3.example.com")
    );
    assert_eq!(changed[0].app.as_deref(), Some("s3"));

    // The same bag again, and a bag whose only change is the provider's cache: no event.
    let out = harness.run(rel.changed(Some(0)), out.state);
    assert!(out.emitted::<CredentialsChanged>().is_empty());
    let mut bag = provider_bag();
    bag.retain(|(k, _)| *k != "data");
    bag.push(("data", r#"{"bucket": "other"}"#));
    let mut state = out.state;
    state.relations[0].remote_app_data = charm_testing::bag(bag);
    let out = harness.run(rel.changed(None), state);
    assert!(out.emitted::<CredentialsChanged>().is_empty());

    // A rotated secret key: one event.
    let mut state = out.state;
    state.relations[0]
        .remote_app_data
        .insert("secret-key".into(), "rotated".into());
    let out = harness.run(rel.changed(None), state);
    assert_eq!(out.emitted::<CredentialsChanged>().len(), 1);
}

#[test]
fn stored_state_holds_a_digest_not_the_secret() {
    let harness = requirer_charm();
    let rel = Relation::new(EP, 3, "s3").remote_app_data(provider_bag());
    let out = harness.run(rel.changed(None), State::default().relation(rel));
    let stored = serde_json::to_string(&out.state.stored).unwrap();
    assert!(stored.contains("sha256:"), "{stored}");
    assert!(!stored.contains("test-secret-key"), "{stored}");
    assert!(!stored.contains("test-access-key"), "{stored}");
}

#[test]
fn incomplete_credentials_wait_and_emit_nothing() {
    let harness = requirer_charm();
    let rel = Relation::new(EP, 3, "s3").remote_app_data([("bucket", "b"), ("access-key", "k")]);
    let out = harness.run(rel.changed(None), State::default().relation(rel));
    assert!(out.emitted::<CredentialsChanged>().is_empty());
    assert_eq!(out.state.unit_status, Some(Status::waiting("secret-key")));
}

#[test]
fn withdrawn_then_restored_credentials_are_announced_again() {
    let harness = requirer_charm();
    let rel = Relation::new(EP, 3, "s3").remote_app_data(provider_bag());
    let out = harness.run(rel.changed(None), State::default().relation(rel.clone()));
    let mut state = out.state;
    state.relations[0].remote_app_data.remove("secret-key");
    let out = harness.run(rel.changed(None), state);
    assert!(out.emitted::<CredentialsChanged>().is_empty());
    let mut state = out.state;
    state.relations[0]
        .remote_app_data
        .insert("secret-key".into(), "test-secret-key".into());
    let out = harness.run(rel.changed(None), state);
    assert_eq!(out.emitted::<CredentialsChanged>().len(), 1);
}

#[test]
fn each_relation_is_judged_on_its_own_data() {
    // Python gates on the first relation's data (interfaces.md 4.4 #3); here relation 4 counts.
    let harness = requirer_charm();
    let r3 = Relation::new(EP, 3, "s3").remote_app_data([("bucket", "b")]);
    let r4 = Relation::new(EP, 4, "s3b").remote_app_data(provider_bag());
    let out = harness.run(
        r4.changed(None),
        State::default().relation(r3.clone()).relation(r4),
    );
    let changed = out.emitted::<CredentialsChanged>();
    assert_eq!(changed.len(), 1);
    assert_eq!(changed[0].relation, RelationId::new(EP, 4));
    let out = harness.run(r3.changed(None), out.state);
    assert!(out.emitted::<CredentialsChanged>().is_empty());
}

#[test]
fn typed_values_from_a_python_provider() {
    let reader = S3Requirer::new(EP);
    let r = reader.clone();
    let mut charm = Charm::new();
    charm.plugin(reader).on_event(
        move |ctx: &mut Ctx<'_>, e: &CredentialsChanged| -> Result<(), Error> {
            let info = r.connection_info(ctx, &e.relation)?.unwrap();
            assert_eq!(info.bucket, "123");
            assert_eq!(info.s3_api_version.as_deref(), Some("4"));
            assert_eq!(info.tls_ca_chain, ["cert-1", "cert-2"]);
            assert_eq!(info.attributes, ["a=1"]);
            assert_eq!(info.delete_older_than_days, Some(7));
            assert_eq!(info.s3_uri_style, Some(UriStyle::Other("virtual".into())));
            assert_eq!(info.path, None);
            Ok(())
        },
    );
    let harness = Harness::new(charm, META);
    let rel = Relation::new(EP, 3, "s3").remote_app_data([
        ("access-key", "k"),
        ("secret-key", "s"),
        ("bucket", "123"),
        ("s3-api-version", "4"),
        ("tls-ca-chain", r#"["cert-1", "cert-2"]"#),
        ("attributes", r#"["a=1"]"#),
        ("delete-older-than-days", "7"),
        ("s3-uri-style", "virtual"),
        ("data", r#"{"bucket": "123"}"#),
    ]);
    let out = harness.run(rel.changed(None), State::default().relation(rel));
    assert!(out.ok(), "{:?}", out.error());
    assert_eq!(out.emitted::<CredentialsChanged>().len(), 1);
}

#[test]
fn python_list_resets_read_as_empty() {
    let harness = requirer_charm();
    let mut bag = provider_bag();
    bag.retain(|(k, _)| *k != "tls-ca-chain");
    bag.push(("tls-ca-chain", r#""""#));
    let rel = Relation::new(EP, 3, "s3").remote_app_data(bag);
    let out = harness.run(rel.changed(None), State::default().relation(rel));
    assert!(out.ok());
    assert_eq!(out.emitted::<CredentialsChanged>().len(), 1);
    assert!(
        out.state
            .unit_status
            .unwrap()
            .message
            .contains("tls_ca_chain: []")
    );
}

fn malformed(key: &'static str, value: &'static str) -> charm_testing::Output {
    let harness = requirer_charm();
    let mut bag = provider_bag();
    bag.retain(|(k, _)| *k != key);
    bag.push((key, value));
    let rel = Relation::new(EP, 3, "s3").remote_app_data(bag);
    harness.run(rel.changed(None), State::default().relation(rel))
}

#[test]
fn malformed_values_block_naming_the_key() {
    for (key, value) in [
        ("tls-ca-chain", "[not json"),
        ("tls-ca-chain", r#"{"a": "b"}"#),
        ("attributes", "[1, 2]"),
        ("delete-older-than-days", "seven"),
        ("delete-older-than-days", "-3"),
    ] {
        let out = malformed(key, value);
        assert!(out.ok(), "{key}: bad remote data must not fail the hook");
        assert!(out.emitted::<CredentialsChanged>().is_empty(), "{key}");
        let status = out.state.unit_status.clone().unwrap();
        assert_eq!(status.kind, StatusKind::Blocked, "{key}={value}");
        assert!(status.message.contains(key), "{}", status.message);
        assert!(
            status.message.contains("s3-credentials:3"),
            "{}",
            status.message
        );
        assert!(!status.message.contains("test-secret-key"));
    }
}

#[test]
fn malformed_errors_are_typed() {
    let requirer = S3Requirer::new(EP);
    let r = requirer.clone();
    let mut charm = Charm::new();
    charm.plugin(requirer).on(EventKind::UpdateStatus, move |ctx: &mut Ctx<'_>, _: &Event| {
        let err = r.connection_state(ctx, &RelationId::new(EP, 3)).unwrap_err();
        assert!(matches!(&err, S3Error::Malformed { key, app, .. } if key == "delete-older-than-days" && app == "s3"), "{err}");
        assert_eq!(err.key(), Some("delete-older-than-days"));
        let err = r.connection_state(ctx, &RelationId::new("elsewhere", 3)).unwrap_err();
        assert!(matches!(err, S3Error::UnknownRelation { .. }));
        Ok(())
    });
    let harness = Harness::new(charm, META);
    let rel = Relation::new(EP, 3, "s3").remote_app_data([
        ("access-key", "k"),
        ("secret-key", "s"),
        ("bucket", "b"),
        ("delete-older-than-days", "1.5"),
    ]);
    let out = harness.run(Event::UpdateStatus, State::default().relation(rel));
    assert!(out.ok(), "{:?}", out.error());
}

#[test]
fn missing_secret_key_is_incomplete_not_an_error() {
    let requirer = S3Requirer::new(EP);
    let r = requirer.clone();
    let mut charm = Charm::new();
    charm.plugin(requirer).on(
        EventKind::UpdateStatus,
        move |ctx: &mut Ctx<'_>, _: &Event| {
            let state = r.connection_state(ctx, &RelationId::new(EP, 3))?;
            assert_eq!(
                state,
                ConnectionState::Incomplete {
                    missing: vec![S3Key::SecretKey]
                }
            );
            assert_eq!(r.connection_info(ctx, &RelationId::new(EP, 3))?, None);
            Ok(())
        },
    );
    let harness = Harness::new(charm, META);
    let rel = Relation::new(EP, 3, "s3").remote_app_data([("access-key", "k"), ("bucket", "b")]);
    let out = harness.run(Event::UpdateStatus, State::default().relation(rel));
    assert!(out.ok(), "{:?}", out.error());
}

#[test]
fn broken_emits_gone_and_forgets() {
    let harness = requirer_charm();
    let rel = Relation::new(EP, 3, "s3").remote_app_data(provider_bag());
    let out = harness.run(rel.changed(None), State::default().relation(rel.clone()));
    assert!(!out.state.stored.is_empty());
    let out = harness.run(rel.broken(), out.state);
    assert!(out.ok(), "{:?}", out.error());
    let gone = out.emitted::<CredentialsGone>();
    assert_eq!(gone.len(), 1);
    assert_eq!(gone[0].relation, RelationId::new(EP, 3));
    assert!(out.state.stored.is_empty());
    assert_eq!(out.calls_to("relation-set"), 0);
}

#[test]
fn relation_data_covers_every_relation() {
    let requirer = S3Requirer::new(EP);
    let r = requirer.clone();
    let mut charm = Charm::new();
    charm.plugin(requirer).on(
        EventKind::UpdateStatus,
        move |ctx: &mut Ctx<'_>, _: &Event| {
            let all = r.relation_data(ctx)?;
            assert_eq!(all.len(), 2);
            assert!(matches!(
                all[&RelationId::new(EP, 3)],
                ConnectionState::Ready(_)
            ));
            assert!(matches!(
                all[&RelationId::new(EP, 4)],
                ConnectionState::Incomplete { .. }
            ));
            Ok(())
        },
    );
    let harness = Harness::new(charm, META);
    let r3 = Relation::new(EP, 3, "s3").remote_app_data(provider_bag());
    let r4 = Relation::new(EP, 4, "s3b");
    let out = harness.run(
        Event::UpdateStatus,
        State::default().relation(r3).relation(r4),
    );
    assert!(out.ok(), "{:?}", out.error());
}

#[test]
fn requesting_as_a_follower_is_a_typed_error() {
    let requirer = S3Requirer::new(EP);
    let r = requirer.clone();
    let mut charm = Charm::new();
    charm.plugin(requirer).on(
        EventKind::ConfigChanged,
        move |ctx: &mut Ctx<'_>, _: &Event| {
            r.request_buckets(ctx)?; // no-op for followers
            r.request_bucket(ctx, &RelationId::new(EP, 3))
        },
    );
    let harness = Harness::new(charm, META);
    let rel = Relation::new(EP, 3, "s3");
    let out = harness.run(Event::ConfigChanged, State::default().relation(rel));
    assert!(!out.ok());
    assert!(
        out.error()
            .unwrap()
            .contains("only the leader can request a bucket")
    );
    assert!(out.state.rel(3).unwrap().local_app_data.is_empty());
}

#[test]
fn debug_of_the_requirer_and_state_hide_credentials() {
    let info = S3ConnectionInfo::new("test-access-key", "test-secret-key", "b");
    let shown = format!(
        "{:?} {:?}",
        ConnectionState::Ready(info),
        S3Requirer::new(EP).bucket("x")
    );
    assert!(
        !shown.contains("test-secret-key") && !shown.contains("test-access-key"),
        "{shown}"
    );
}
