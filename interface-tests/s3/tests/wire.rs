//! Wire fixtures both ways: the Rust side reads what the Python library writes, and writes what the
//! Python library reads (byte-exact where Python compares text: the `data` cache, JSON-text lists).

// Test helpers outside #[test] functions may unwrap: a failure is a broken test.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

use charm::Event;
use charm::secret::SecretContent;
use charm_testing::{Relation, Secret, State};
use s3::{
    ConnectionState, CredentialsChanged, CredentialsRequested, S3ConnectionInfo, S3Requirer,
    UriStyle,
};
use s3_contract::*;

/// Base64 of the two-certificate PEM bundle in `python-provider-full.json`.
const CHAIN_B64: &str = "LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCk1JSUJvbmU9Ci0tLS0tRU5EIENFUlRJRklDQVRFLS0tLS0KLS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCk1JSUJ0d289Ci0tLS0tRU5EIENFUlRJRklDQVRFLS0tLS0K";

fn credentials_secret(access: &str, secret: &str) -> Secret {
    Secret::owned(
        "secret:cred0000000000000001",
        SecretContent::new()
            .with("access-key", access)
            .with("secret-key", secret),
    )
    .label(s3_integrator::CREDENTIALS_LABEL)
}

/// The s3-integrator config that makes the Python charm send `python-provider-full.json`.
fn full_config(state: State) -> State {
    state
        .config("bucket", "test-bucket")
        .config("path", "/test/path_1/")
        .config("endpoint", "s3.amazonaws.com")
        .config("region", "us-east-2")
        .config("s3-uri-style", "path")
        .config("storage-class", "cinder")
        .config("tls-ca-chain", CHAIN_B64)
        .config("s3-api-version", "4")
        .config("attributes", "a1:v1,a2:v2,a3:v3")
        .config("experimental-delete-older-than-days", 7)
}

// ----- requirer bag: Python requirer -> Rust provider, Rust requirer -> Python provider -----

#[test]
fn rust_requirer_writes_what_the_python_v0_requirer_writes() {
    // A fresh relation to a v0 provider (its bag has no version key): the leader asks for
    // relation-<id>, the Python v0 requirer's default.
    let harness = consumer();
    let rel = Relation::new(ENDPOINT, 3, PROVIDER_APP)
        .remote_unit(0, [("x", "y")])
        .remote_app_data([("data", "{}")]);
    let out = harness.run(
        rel.changed(Some(0)),
        State::default().leader(true).relation(rel.clone()),
    );
    assert_eq!(
        out.state.rel(3).unwrap().local_app_data["bucket"],
        fixture(PY_REQUIRER_DEFAULT)["bucket"]
    );

    // A relation that started v0 stays byte-for-byte v0: a new bucket name, nothing else.
    let started_v0 = Relation::new(ENDPOINT, 3, PROVIDER_APP)
        .remote_unit(0, [("x", "y")])
        .local_app_data(fixture(PY_REQUIRER_DEFAULT));
    let state = State::default()
        .leader(true)
        .relation(started_v0)
        .config("bucket", "test-bucket");
    let out = harness.run(Event::ConfigChanged, state);
    assert_eq!(
        out.state.rel(3).unwrap().local_app_data,
        fixture(PY_REQUIRER_NAMED)
    );
}

#[test]
fn rust_provider_reads_the_python_requirer_and_writes_the_python_cache() {
    for (text, bucket) in [
        (PY_REQUIRER_DEFAULT, "relation-3"),
        (PY_REQUIRER_NAMED, "test-bucket"),
    ] {
        let rel = Relation::new(ENDPOINT, 3, "app").remote_app_data(fixture(text));
        let out = provider(0).run(
            rel.changed(None),
            State::default().leader(true).relation(rel),
        );
        assert!(out.ok(), "{:?}", out.error());
        let requests = out.emitted::<CredentialsRequested>();
        assert_eq!(requests.len(), 1);
        assert_eq!(requests[0].bucket, bucket);
        // Byte-exact: what `json.dumps(new_data)` writes for that bag.
        assert_eq!(
            out.state.rel(3).unwrap().local_app_data["data"],
            format!("{{\"bucket\": \"{bucket}\"}}")
        );
    }
}

#[test]
fn the_cache_lists_every_requirer_key_in_jujus_order() {
    let rel = Relation::new(ENDPOINT, 3, "app").remote_app_data([
        ("zone", "z\u{e9}"),
        ("bucket", "b"),
        ("data", "{\"ignored\": \"yes\"}"),
    ]);
    let out = provider(0).run(
        rel.changed(None),
        State::default().leader(true).relation(rel),
    );
    assert_eq!(
        out.state.rel(3).unwrap().local_app_data["data"],
        r#"{"bucket": "b", "zone": "z\u00e9"}"#
    );
}

// ----- provider bag: Python provider -> Rust requirer -----

#[test]
fn rust_requirer_reads_the_python_provider() {
    let requirer = S3Requirer::new(ENDPOINT);
    let query = requirer.clone();
    let mut charm = charm::Charm::new();
    charm
        .plugin(requirer)
        .on_event(move |ctx: &mut charm::Ctx<'_>, e: &CredentialsChanged| {
            let ConnectionState::Ready(info) = query.connection_state(ctx, &e.relation)? else {
                panic!("not ready")
            };
            let expected = S3ConnectionInfo {
                path: Some("/test/path_1/".into()),
                endpoint: Some("s3.amazonaws.com".into()),
                region: Some("us-east-2".into()),
                s3_uri_style: Some(UriStyle::Path),
                storage_class: Some("cinder".into()),
                tls_ca_chain: vec![
                    "-----BEGIN CERTIFICATE-----\nMIIBone=\n-----END CERTIFICATE-----".into(),
                    "-----BEGIN CERTIFICATE-----\nMIIBtwo=\n-----END CERTIFICATE-----".into(),
                ],
                s3_api_version: Some("4".into()),
                attributes: vec!["a1:v1".into(), "a2:v2".into(), "a3:v3".into()],
                delete_older_than_days: Some(7),
                ..S3ConnectionInfo::new("test-access-key", "test-secret-key", "test-bucket")
            };
            assert_eq!(info, expected);
            Ok(())
        });
    let harness = charm_testing::Harness::new(
        charm,
        "name: app\nrequires:\n  s3-credentials: {interface: s3}\n",
    );
    let rel = Relation::new(ENDPOINT, 3, PROVIDER_APP).remote_app_data(fixture(PY_PROVIDER_FULL));
    let out = harness.run(rel.changed(None), State::default().relation(rel));
    assert!(out.ok(), "{:?}", out.error());
    assert_eq!(out.emitted::<CredentialsChanged>().len(), 1);
}

#[test]
fn python_list_resets_and_float_looking_versions_read_sanely() {
    let rel =
        Relation::new(ENDPOINT, 3, PROVIDER_APP).remote_app_data(fixture(PY_PROVIDER_RESET_LISTS));
    let out = consumer().run_action(
        "get-credentials-info",
        serde_json::json!({}),
        State::default().relation(rel),
    );
    assert_eq!(out.action.failed, None);
    let r = &out.action.results;
    // `""` (Python's json.dumps("")) is no list; "1.0" stays text (Python's reader makes it 1.0).
    assert!(
        !r.contains_key("tls-ca-chain") && !r.contains_key("attributes"),
        "{r:?}"
    );
    assert_eq!(r["s3-api-version"], "1.0");
}

#[test]
fn a_numeric_bucket_stays_a_string() {
    let mut bag = fixture(PY_PROVIDER_FULL);
    bag.insert("bucket".into(), "123".into());
    let rel = Relation::new(ENDPOINT, 3, PROVIDER_APP).remote_app_data(bag);
    let out = consumer().run(rel.changed(None), State::default().relation(rel));
    assert_eq!(out.emitted::<CredentialsChanged>()[0].bucket, "123");
    assert_eq!(
        out.state.unit_status.unwrap().message,
        "credentials for bucket 123 path /test/path_1/ at s3.amazonaws.com"
    );
}

// ----- provider bag: Rust provider -> Python requirer -----

#[test]
fn rust_provider_writes_the_python_providers_bag_byte_for_byte() {
    let rel = Relation::new(ENDPOINT, 3, "app").remote_app_data(fixture(PY_REQUIRER_DEFAULT));
    let state = full_config(State::default().leader(true))
        .secret(credentials_secret("test-access-key", "test-secret-key"))
        .relation(rel.clone());
    let out = provider(0).run(rel.changed(None), state);
    assert!(out.ok(), "{:?}", out.error());
    assert_eq!(
        out.state.rel(3).unwrap().local_app_data,
        fixture(PY_PROVIDER_FULL)
    );
}

#[test]
fn the_python_requirer_reads_the_rust_provider() {
    let rel = Relation::new(ENDPOINT, 3, "app").remote_app_data(fixture(PY_REQUIRER_DEFAULT));
    let state = full_config(State::default().leader(true))
        .secret(credentials_secret("test-access-key", "test-secret-key"))
        .relation(rel.clone());
    let out = provider(0).run(rel.changed(None), state);
    let bag = out.state.rel(3).unwrap().local_app_data.clone();
    // `get_s3_connection_info()`: JSON-looking values decoded, the rest raw.
    let view = python_view(&bag);
    assert_eq!(
        view,
        serde_json::json!({
            "access-key": "test-access-key",
            "attributes": ["a1:v1", "a2:v2", "a3:v3"],
            "bucket": "test-bucket",
            "data": {"bucket": "relation-3"},
            "delete-older-than-days": 7,
            "endpoint": "s3.amazonaws.com",
            "path": "/test/path_1/",
            "region": "us-east-2",
            "s3-api-version": 4,
            "s3-uri-style": "path",
            "secret-key": "test-secret-key",
            "storage-class": "cinder",
            "tls-ca-chain": [
                "-----BEGIN CERTIFICATE-----\nMIIBone=\n-----END CERTIFICATE-----",
                "-----BEGIN CERTIFICATE-----\nMIIBtwo=\n-----END CERTIFICATE-----"
            ]
        })
    );
    // The event properties: `json.loads` for the lists, `int()` for the days, raw text otherwise.
    let lists: Vec<String> = serde_json::from_str(&bag["tls-ca-chain"]).unwrap();
    assert_eq!(lists.len(), 2);
    assert_eq!(bag["delete-older-than-days"].parse::<i64>().unwrap(), 7);
    // `credentials_changed` needs both keys.
    assert!(bag.contains_key("access-key") && bag.contains_key("secret-key"));
}

#[test]
fn attributes_are_trimmed_where_python_kept_the_spaces() {
    // Divergence (documented): the Python charm splits "a1:v1, a2:v2" into ["a1:v1", " a2:v2"].
    let rel = Relation::new(ENDPOINT, 3, "app").remote_app_data(fixture(PY_REQUIRER_DEFAULT));
    let state = State::default()
        .leader(true)
        .secret(credentials_secret("k", "s"))
        .config("attributes", "a1:v1, a2:v2")
        .relation(rel.clone());
    let out = provider(0).run(rel.changed(None), state);
    assert_eq!(
        out.state.rel(3).unwrap().local_app_data["attributes"],
        r#"["a1:v1", "a2:v2"]"#
    );
}

#[test]
fn a_python_providers_cache_is_honoured_after_the_upgrade() {
    // The Python s3-integrator answered relation 3 before the refresh to the Rust charm.
    let rel = Relation::new(ENDPOINT, 3, "app")
        .remote_app_data(fixture(PY_REQUIRER_DEFAULT))
        .local_app_data(fixture(PY_PROVIDER_FULL));
    let state = full_config(State::default().leader(true))
        .secret(credentials_secret("test-access-key", "test-secret-key"))
        .relation(rel.clone());
    let out = provider(0).run(Event::UpgradeCharm, state.clone());
    assert!(out.ok(), "{:?}", out.error());
    assert_eq!(
        out.calls_to("relation-set"),
        0,
        "the same answer is not re-sent"
    );
    let out = provider(0).run(rel.changed(None), state);
    assert!(out.emitted::<CredentialsRequested>().is_empty());
    assert_eq!(out.calls_to("relation-set"), 0);
}
