//! Bad input on the wire and from charm code: typed errors and clear statuses, never a panic and
//! never a failed hook for bad remote data.

// Test helpers outside #[test] functions may unwrap: a failure is a broken test.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

use charm::{Charm, Classify, Ctx, Event, EventKind, Outcome, RelationId, StatusKind};
use charm_testing::{Harness, Relation, State};
use s3::{
    ConnectionState, CredentialsChanged, S3ConnectionInfo, S3Error, S3Key, S3Provider, S3Requirer,
    UriStyle,
};
use s3_contract::*;

fn provider_bag_with(key: &str, value: &str) -> charm::BagData {
    let mut bag = fixture(PY_PROVIDER_FULL);
    bag.insert(key.into(), value.into());
    bag
}

fn consumer_sees(bag: charm::BagData) -> charm_testing::Output {
    let rel = Relation::new(ENDPOINT, 3, PROVIDER_APP).remote_app_data(bag);
    consumer().run(rel.changed(None), State::default().relation(rel))
}

/// What `connection_state` says about `bag`, through a bare requirer charm.
fn state_of(bag: charm::BagData) -> Result<ConnectionState, String> {
    let requirer = S3Requirer::new(ENDPOINT);
    let query = requirer.clone();
    let seen = std::rc::Rc::new(std::cell::RefCell::new(None));
    let sink = seen.clone();
    let mut charm = Charm::new();
    charm.plugin(requirer).on(
        EventKind::UpdateStatus,
        move |ctx: &mut Ctx<'_>, _: &Event| {
            let result = query.connection_state(ctx, &RelationId::new(ENDPOINT, 3));
            if let Err(e) = &result {
                assert_eq!(e.outcome(), Outcome::Blocked, "{e}");
                assert!(matches!(e, S3Error::Malformed { .. }), "{e}");
            }
            *sink.borrow_mut() = Some(result.map_err(|e| e.to_string()));
            Ok(())
        },
    );
    let harness = Harness::new(
        charm,
        "name: app\nrequires:\n  s3-credentials: {interface: s3}\n",
    );
    let rel = Relation::new(ENDPOINT, 3, PROVIDER_APP).remote_app_data(bag);
    let out = harness.run(Event::UpdateStatus, State::default().relation(rel));
    assert!(out.ok(), "{:?}", out.error());
    seen.borrow_mut().take().expect("handler ran")
}

#[test]
fn malformed_json_text_lists() {
    for key in ["tls-ca-chain", "attributes"] {
        for value in [
            "[\"unterminated",
            "a=1;b=2 (no JSON: s3-integrator 2/ sends attributes so)",
            "{\"a\": \"b\"}",
            "[1, 2]",
            "\"x\"",
            "true",
        ] {
            if key == "attributes" && value.starts_with("a=1") {
                let Ok(ConnectionState::Ready(info)) = state_of(provider_bag_with(key, value))
                else {
                    panic!("attributes as plain text are read");
                };
                assert_eq!(info.attributes, vec![value.to_string()]);
                continue;
            }
            let err = state_of(provider_bag_with(key, value)).unwrap_err();
            assert!(
                err.contains(&format!("key \"{key}\" is malformed")),
                "{key}={value}: {err}"
            );
            assert!(
                err.contains("s3-credentials:3") && err.contains(PROVIDER_APP),
                "{err}"
            );
            let out = consumer_sees(provider_bag_with(key, value));
            assert!(out.ok(), "{key}={value}: the hook must not fail");
            let status = out.state.unit_status.clone().unwrap();
            assert_eq!(status.kind, StatusKind::Blocked, "{key}={value}");
            assert!(status.message.contains(key), "{}", status.message);
            assert!(out.emitted::<CredentialsChanged>().is_empty());
        }
    }
}

#[test]
fn non_integer_retention_days() {
    for value in ["seven", "7.0", "-1", "1e3", "99999999999"] {
        let err = state_of(provider_bag_with("delete-older-than-days", value)).unwrap_err();
        assert!(err.contains("delete-older-than-days"), "{value}: {err}");
        let out = consumer_sees(provider_bag_with("delete-older-than-days", value));
        assert_eq!(
            out.state.unit_status.unwrap().kind,
            StatusKind::Blocked,
            "{value}"
        );
    }
}

#[test]
fn missing_secret_key() {
    let mut bag = fixture(PY_PROVIDER_FULL);
    bag.remove("secret-key");
    assert_eq!(
        state_of(bag.clone()).unwrap(),
        ConnectionState::Incomplete {
            missing: vec![S3Key::SecretKey]
        }
    );
    let out = consumer_sees(bag);
    assert!(out.ok());
    assert!(out.emitted::<CredentialsChanged>().is_empty());
    let status = out.state.unit_status.unwrap();
    assert_eq!(status.kind, StatusKind::Waiting);
    assert!(
        status.message.contains("missing secret-key"),
        "{}",
        status.message
    );
}

#[test]
fn unknown_uri_style_is_kept_not_rejected() {
    let ConnectionState::Ready(info) =
        state_of(provider_bag_with("s3-uri-style", "virtual-hosted")).unwrap()
    else {
        panic!("not ready")
    };
    assert_eq!(
        info.s3_uri_style,
        Some(UriStyle::Other("virtual-hosted".into()))
    );
    let out = consumer_sees(provider_bag_with("s3-uri-style", "virtual-hosted"));
    assert_eq!(out.state.unit_status.unwrap().kind, StatusKind::Active);
    // The integrator, though, only sends the two styles S3 knows.
    let out = provider(0).run(
        Event::ConfigChanged,
        State::default()
            .leader(true)
            .config("s3-uri-style", "virtual-hosted"),
    );
    let status = out.state.unit_status.unwrap();
    assert_eq!(status.kind, StatusKind::Blocked);
    assert!(status.message.contains("s3-uri-style must be host or path"));
}

#[test]
fn non_leader_writes_are_refused() {
    // Library level: a typed NotLeader error that fails the hook; nothing is written.
    let p = S3Provider::new(ENDPOINT);
    let writer = p.clone();
    let mut charm = Charm::new();
    charm.plugin(p).on(
        EventKind::ConfigChanged,
        move |ctx: &mut Ctx<'_>, _: &Event| {
            let rel = RelationId::new(ENDPOINT, 3);
            let err = writer
                .update_connection_info(ctx, &rel, &S3ConnectionInfo::new("k", "s", "b"))
                .unwrap_err();
            assert!(matches!(err, S3Error::NotLeader { .. }), "{err}");
            let err = writer.set_secret_key(ctx, &rel, "s").unwrap_err();
            assert!(matches!(err, S3Error::NotLeader { .. }), "{err}");
            Ok(())
        },
    );
    let harness = Harness::new(
        charm,
        "name: s3\nprovides:\n  s3-credentials: {interface: s3}\n",
    );
    let rel = Relation::new(ENDPOINT, 3, "app");
    let out = harness.run(Event::ConfigChanged, State::default().relation(rel));
    assert!(out.ok(), "{:?}", out.error());
    assert_eq!(out.calls_to("relation-set"), 0);

    // Charm level: followers neither send nor accept credentials.
    let rel = Relation::new(ENDPOINT, 3, "app").remote_app_data(fixture(PY_REQUIRER_DEFAULT));
    let follower = State::default().relation(rel);
    let out = provider(1).run_action(
        "sync-s3-credentials",
        serde_json::json!({"access-key": "k", "secret-key": "s"}),
        follower.clone(),
    );
    assert!(out.action.failed.unwrap().contains("leader"));
    assert!(out.state.secrets.is_empty());
    let out = provider(1).run(Event::ConfigChanged, follower);
    assert_eq!(out.calls_to("relation-set"), 0);
}
