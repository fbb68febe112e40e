//! Fails if a credential ever shows outside the two places the design allows: the provider's app bag
//! (the v0 wire format puts it there) and the result of `get-s3-credentials` (its purpose).
//!
//! Every event and action of both charms runs with recognisable credentials; logs, action results
//! and failures, statuses, emitted events (their data and `Debug`), the hook-tool transcript, stored
//! state, deferral records, errors and the `Debug` of every public type holding credentials are
//! scanned.

// Test helpers outside #[test] functions may unwrap: a failure is a broken test.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

use charm::secret::SecretContent;
use charm::{Event, RelationId};
use charm_testing::{Output, Relation, Secret, State};
use s3::{ConnectionState, CredentialsChanged, S3ConnectionInfo, S3Error, S3Requirer};
use s3_contract::*;

const ACCESS: &str = "AKIAWATERMARKACCESS7";
const SECRET: &str = "wJalrXUtnFEMI-WATERMARK-SECRET-KEY-0042";

fn leaks(text: &str) -> bool {
    text.contains(ACCESS) || text.contains(SECRET)
}

/// Asserts that nothing but the s3 relation bags and the secret store holds a credential (a peer bag
/// may keep what the Python charm left there, until the upgrade or the next election moves it).
fn scan(what: &str, input: &State, out: &Output, results_may_hold_credentials: bool) {
    for (level, line) in &out.logs {
        assert!(!leaks(line), "{what}: {level:?} log line leaks: {line}");
    }
    if !results_may_hold_credentials {
        for (k, v) in &out.action.results {
            assert!(!leaks(v), "{what}: action result {k} leaks");
        }
    }
    assert!(
        !leaks(&format!("{:?}", out.action.failed)),
        "{what}: action failure leaks"
    );
    assert!(
        !leaks(&out.action.logs.join("\n")),
        "{what}: action log leaks"
    );
    for status in out
        .unit_status_history
        .iter()
        .chain(&out.app_status_history)
    {
        assert!(!leaks(&status.message), "{what}: status leaks: {status}");
    }
    assert!(
        !leaks(&format!("{:?}", out.state.unit_status)),
        "{what}: unit status leaks"
    );
    for event in &out.emitted {
        assert!(
            !leaks(&event.data.to_string()),
            "{what}: event {} data leaks",
            event.name
        );
        assert!(
            !leaks(&format!("{event:?}")),
            "{what}: event {} debug leaks",
            event.name
        );
    }
    for call in &out.calls {
        assert!(!leaks(&call.args), "{what}: {} arguments leak", call.tool);
    }
    let stored = serde_json::to_string(&out.state.stored).unwrap_or_default();
    assert!(!leaks(&stored), "{what}: stored state leaks: {stored}");
    assert!(
        !leaks(&format!("{:?}", out.state.deferred)),
        "{what}: deferred events leak"
    );
    assert!(
        !leaks(&format!("{:?}", out.result)),
        "{what}: the hook error leaks"
    );
    for rel in &out.state.relations {
        let before = input.rel(rel.id).map(|r| format!("{:?}", r.local_app_data));
        if rel.endpoint != ENDPOINT && !before.is_some_and(|b| leaks(&b)) {
            let peer = format!("{:?}", rel.local_app_data);
            assert!(
                !leaks(&peer),
                "{what}: credentials written into {} data",
                rel.endpoint
            );
        }
    }
}

fn credentials() -> SecretContent {
    SecretContent::new()
        .with("access-key", ACCESS)
        .with("secret-key", SECRET)
}

fn provider_states() -> Vec<(&'static str, State)> {
    let secret = Secret::owned("secret:cred0000000000000001", credentials())
        .label(s3_integrator::CREDENTIALS_LABEL);
    let answered = S3ConnectionInfo::new(ACCESS, SECRET, "relation-3")
        .to_bag()
        .unwrap_or_default();
    let rel = Relation::new(ENDPOINT, 3, "consumer")
        .remote_app_data(fixture(PY_REQUIRER_DEFAULT))
        .remote_unit(0, [("x", "y")]);
    let served = rel.clone().local_app_data(answered);
    let peer_with_python_credentials = Relation::peer(s3_integrator::PEER, 9, PROVIDER_APP)
        .local_app_data([("access-key", ACCESS), ("secret-key", SECRET)]);
    let base = State::default().secret(secret.clone().revision(credentials()));
    vec![
        (
            "leader, new request",
            base.clone().leader(true).relation(rel.clone()),
        ),
        (
            "leader, served",
            base.clone().leader(true).relation(served.clone()),
        ),
        ("follower", base.clone().relation(served.clone())),
        (
            "leader, bad config",
            base.clone()
                .leader(true)
                .relation(served)
                .config("tls-ca-chain", "!!")
                .config("experimental-delete-older-than-days", -4),
        ),
        (
            "leader, no secret, python peer data",
            State::default()
                .leader(true)
                .relation(rel)
                .relation(peer_with_python_credentials),
        ),
        (
            "leader, incomplete secret",
            State::default().leader(true).secret(
                Secret::owned(
                    "secret:cred0000000000000002",
                    SecretContent::new().with("access-key", ACCESS),
                )
                .label(s3_integrator::CREDENTIALS_LABEL),
            ),
        ),
    ]
}

fn relation_events(endpoint: &str, id: u32, app: &str) -> Vec<Event> {
    let rel = Relation::new(endpoint, id, app);
    vec![
        rel.created(),
        rel.joined(0),
        rel.changed(Some(0)),
        rel.changed(None),
        rel.departed(0),
        rel.broken(),
    ]
}

fn lifecycle_events() -> Vec<Event> {
    let secret = Secret::owned("secret:cred0000000000000001", credentials())
        .label(s3_integrator::CREDENTIALS_LABEL);
    vec![
        Event::Install,
        Event::Start,
        Event::ConfigChanged,
        Event::UpdateStatus,
        Event::LeaderElected,
        Event::LeaderSettingsChanged,
        Event::UpgradeCharm,
        Event::Stop,
        Event::Remove,
        secret.changed(),
        secret.remove(1),
    ]
}

#[test]
fn the_integrator_never_shows_a_credential() {
    for (name, state) in provider_states() {
        let mut events = lifecycle_events();
        events.extend(relation_events(ENDPOINT, 3, "consumer"));
        for event in events {
            let out = provider(0).run(event.clone(), state.clone());
            scan(
                &format!("s3-integrator {name} {}", event.hook_name()),
                &state,
                &out,
                false,
            );
            if matches!(event, Event::UpgradeCharm | Event::LeaderElected) {
                for rel in out
                    .state
                    .relations
                    .iter()
                    .filter(|r| r.endpoint == s3_integrator::PEER)
                {
                    let peer = format!("{:?}", rel.local_app_data);
                    assert!(
                        !leaks(&peer),
                        "{name}: {} left credentials in peer data",
                        event.hook_name()
                    );
                }
            }
        }
        for (action, params) in [
            (
                "sync-s3-credentials",
                serde_json::json!({"access-key": ACCESS, "secret-key": SECRET}),
            ),
            (
                "sync-s3-credentials",
                serde_json::json!({"access-key": ACCESS, "secret-key": 7}),
            ),
            (
                "sync-s3-credentials",
                serde_json::json!({"access-key": ACCESS}),
            ),
            ("get-s3-connection-info", serde_json::json!({})),
        ] {
            let out = provider(0).run_action(action, params, state.clone());
            scan(
                &format!("s3-integrator {name} {action}"),
                &state,
                &out,
                false,
            );
        }
        // Its purpose is to return them: only the results may hold them.
        let out =
            provider(0).run_action("get-s3-credentials", serde_json::json!({}), state.clone());
        scan(
            &format!("s3-integrator {name} get-s3-credentials"),
            &state,
            &out,
            true,
        );
    }
}

#[test]
fn get_s3_credentials_does_return_them_to_the_leader() {
    let (_, state) = provider_states().remove(1);
    let out = provider(0).run_action("get-s3-credentials", serde_json::json!({}), state);
    assert_eq!(out.action.results["access-key"], ACCESS);
    assert_eq!(out.action.results["secret-key"], SECRET);
}

fn consumer_states() -> Vec<(&'static str, State)> {
    let good = S3ConnectionInfo::new(ACCESS, SECRET, "relation-3")
        .to_bag()
        .unwrap_or_default();
    let mut bad = good.clone();
    bad.insert("tls-ca-chain".into(), format!("[\"{SECRET}"));
    let mut partial = good.clone();
    partial.remove("bucket");
    let rel = |bag: charm::BagData| {
        Relation::new(ENDPOINT, 3, PROVIDER_APP)
            .remote_app_data(bag)
            .remote_unit(0, [("x", "y")])
    };
    vec![
        (
            "leader, ready",
            State::default().leader(true).relation(rel(good.clone())),
        ),
        ("follower, ready", State::default().relation(rel(good))),
        (
            "leader, malformed",
            State::default().leader(true).relation(rel(bad)),
        ),
        (
            "follower, incomplete",
            State::default().relation(rel(partial)),
        ),
    ]
}

#[test]
fn the_consumer_never_shows_a_credential() {
    for (name, state) in consumer_states() {
        let mut events = lifecycle_events();
        events.extend(relation_events(ENDPOINT, 3, PROVIDER_APP));
        for event in events {
            let out = consumer().run(event.clone(), state.clone());
            scan(
                &format!("s3-consumer {name} {}", event.hook_name()),
                &state,
                &out,
                false,
            );
        }
        let out =
            consumer().run_action("get-credentials-info", serde_json::json!({}), state.clone());
        scan(
            &format!("s3-consumer {name} get-credentials-info"),
            &state,
            &out,
            false,
        );
    }
}

#[test]
fn debug_output_of_public_types_is_redacted() {
    let info = S3ConnectionInfo::new(ACCESS, SECRET, "b");
    let requirer = S3Requirer::new(ENDPOINT);
    let shown = [
        format!("{info:?}"),
        format!("{info:#?}"),
        format!("{:?}", ConnectionState::Ready(info.clone())),
        format!("{:?}", Some(info.clone())),
        format!("{requirer:?}"),
        format!(
            "{:?}",
            s3_integrator::Credentials {
                access_key: ACCESS.into(),
                secret_key: SECRET.into()
            }
        ),
        format!("{:?}", credentials()),
        format!(
            "{:?}",
            CredentialsChanged {
                relation: RelationId::new(ENDPOINT, 3),
                app: None,
                bucket: "b".into(),
                endpoint: None
            }
        ),
        format!(
            "{:?}",
            S3Error::Malformed {
                relation: RelationId::new(ENDPOINT, 3),
                app: "a".into(),
                key: "tls-ca-chain".into(),
                detail: "not JSON text".into()
            }
        ),
    ];
    for text in shown {
        assert!(!leaks(&text), "debug output leaks: {text}");
    }
}

#[test]
fn a_malformed_value_holding_a_secret_is_not_echoed() {
    // A provider that put the secret key into a list by mistake: the error names the key only.
    let mut bag = S3ConnectionInfo::new(ACCESS, SECRET, "b")
        .to_bag()
        .unwrap_or_default();
    bag.insert("attributes".into(), format!("[{SECRET}, {ACCESS}"));
    bag.insert("delete-older-than-days".into(), SECRET.into());
    for key in ["attributes", "delete-older-than-days"] {
        let mut one = S3ConnectionInfo::new(ACCESS, SECRET, "b")
            .to_bag()
            .unwrap_or_default();
        one.insert(key.into(), bag[key].clone());
        let rel = Relation::new(ENDPOINT, 3, PROVIDER_APP).remote_app_data(one);
        let state = State::default().relation(rel.clone());
        let out = consumer().run(rel.changed(None), state.clone());
        scan(&format!("malformed {key}"), &state, &out, false);
        assert!(out.state.unit_status.unwrap().message.contains(key));
    }
}

#[test]
#[should_panic(expected = "log line leaks")]
fn the_scanner_catches_a_leak() {
    // A charm that logs a credential must trip the scan, or the scan proves nothing.
    let mut charm = charm::Charm::new();
    charm.on(
        charm::EventKind::Start,
        |_ctx: &mut charm::Ctx<'_>, _e: &Event| -> Result<(), charm::Error> {
            tracing::info!("oops {SECRET}");
            Ok(())
        },
    );
    let harness = charm_testing::Harness::new(charm, "name: leaky\n");
    let out = harness.run(Event::Start, State::default());
    scan("leaky charm", &State::default(), &out, false);
}
