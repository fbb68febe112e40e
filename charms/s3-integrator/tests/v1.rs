//! Harness tests of s3-integrator as an s3 v1 provider: credentials from a user secret named
//! by the `credentials` option, sent to v1 requirers in a secret of their own.

// Test helpers outside #[test] functions may unwrap: a failure is a broken test.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

use charm::secret::SecretContent;
use charm::{Event, Status, StatusKind};
use charm_testing::{Harness, Output, Relation, Secret, State};
use s3_integrator::{CONFIG, ENDPOINT, METADATA};

const USER_SECRET: &str = "secret:cq8ftm0l5gqs73e4dpp1";

fn harness() -> Harness {
    Harness::new(s3_integrator::charm(), METADATA).config_yaml(CONFIG)
}

fn creds(access: &str, secret: &str) -> SecretContent {
    SecretContent::new()
        .with("access-key", access)
        .with("secret-key", secret)
}

/// The operator's secret, granted to the application.
fn user_secret(access: &str) -> Secret {
    Secret::granted(USER_SECRET, creds(access, "SK-USER"))
}

fn v1_requirer(id: u32, bucket: Option<&str>) -> Relation {
    let mut bag = vec![
        ("requested-secrets", r#"["access-key", "secret-key"]"#),
        ("version", "1"),
        ("path", "asked/"),
    ];
    if let Some(b) = bucket {
        bag.push(("bucket", b));
    }
    Relation::new(ENDPOINT, id, "consumer").remote_app_data(bag)
}

fn status(out: &Output) -> Status {
    out.state.unit_status.clone().expect("a status was set")
}

#[test]
fn the_credentials_option_feeds_v1_requirers_through_a_relation_secret() {
    let rel = v1_requirer(4, None);
    let state = State::default()
        .leader(true)
        .relation(rel.clone())
        .secret(user_secret("AK-1"))
        .config("credentials", USER_SECRET)
        .config("endpoint", "https://s3");
    let out = harness().run(rel.changed(None), state);
    assert!(out.ok(), "{:?}", out.error());
    assert_eq!(status(&out), Status::active("serving 1 relation"));
    let sent = out.state.get_relation(4).local_app_data.clone();
    assert!(
        !sent.contains_key("access-key"),
        "never plain to a v1 requirer"
    );
    assert!(!sent.contains_key("bucket"), "none asked, none configured");
    assert_eq!(sent["path"], "asked/", "the requested path");
    assert_eq!(sent["endpoint"], "https://s3");
    let relation_secret = out
        .state
        .get_secret("s3-credentials.4.extra.secret")
        .clone();
    assert_eq!(sent["secret-extra"], relation_secret.id);
    assert_eq!(relation_secret.revisions[&1], creds("AK-1", "SK-USER"));

    // The operator rotates: a new revision of the user secret, then secret-changed.
    let mut state = out.state.clone();
    let i = state
        .secrets
        .iter()
        .position(|s| s.id == USER_SECRET)
        .unwrap();
    state.secrets[i] = state.secrets[i].clone().revision(creds("AK-2", "SK-USER"));
    let changed = state.secrets[i].changed();
    let out = harness().run(changed, state);
    assert!(out.ok(), "{:?}", out.error());
    let relation_secret = out.state.get_secret("s3-credentials.4.extra.secret");
    assert_eq!(relation_secret.latest(), 2);
    assert_eq!(relation_secret.revisions[&2], creds("AK-2", "SK-USER"));
}

#[test]
fn the_credentials_option_blocks_until_usable() {
    let cases = [
        ("not-a-uri", None, "credentials must be a secret URI"),
        (USER_SECRET, None, "does not exist"),
        (
            USER_SECRET,
            Some(Secret::ungranted(USER_SECRET)),
            "is not granted: juju grant-secret secret:cq8ftm0l5gqs73e4dpp1 s3-integrator",
        ),
        (
            USER_SECRET,
            Some(Secret::granted(
                USER_SECRET,
                SecretContent::new().with("user", "x"),
            )),
            "needs the keys access-key and secret-key",
        ),
    ];
    for (value, secret, message) in cases {
        let rel = v1_requirer(4, Some("b"));
        let mut state = State::default()
            .leader(true)
            .relation(rel)
            .config("credentials", value);
        if let Some(s) = secret {
            state = state.secret(s);
        }
        let out = harness().run(Event::ConfigChanged, state);
        assert!(out.ok(), "{value}: {:?}", out.error());
        let st = status(&out);
        assert_eq!(st.kind, StatusKind::Blocked, "{value}");
        assert!(st.message.contains(message), "{}", st.message);
        assert!(
            out.state.get_relation(4).local_app_data.is_empty(),
            "nothing sent"
        );
    }
}

#[test]
fn status_detail_tells_versions_and_where_credentials_went() {
    let v1 = v1_requirer(4, Some("wanted"));
    let v0 = Relation::new(ENDPOINT, 5, "old").remote_app_data([("bucket", "relation-5")]);
    let state = State::default()
        .leader(true)
        .relation(v1)
        .relation(v0)
        .secret(user_secret("AK-1"))
        .config("credentials", USER_SECRET);
    let out = harness().run_action(
        "status-detail",
        serde_json::json!({"recompute": true}),
        state,
    );
    assert!(out.action.failed.is_none(), "{:?}", out.action.failed);
    let r = &out.action.results;
    assert_eq!(r["credentials-source"], "credentials option");
    assert_eq!(r["relations.4.version"], "v1");
    assert_eq!(r["relations.4.bucket"], "wanted");
    assert_eq!(r["relations.4.credentials"], "in a secret");
    assert_eq!(r["relations.5.version"], "v0");
    assert_eq!(r["relations.5.credentials"], "plain");
    assert!(
        r.values()
            .all(|v| !v.contains("AK-1") && !v.contains("SK-USER"))
    );
    // recompute is the leader's.
    let out = harness().run_action(
        "status-detail",
        serde_json::json!({"recompute": true}),
        State::default(),
    );
    assert!(out.action.failed.unwrap().contains("leader"));
}
