//! s3 v1 wire fixtures both ways: the Rust requirer writes what the published Python v1
//! requirer writes (plus the other library's version key), the Rust provider reads it and answers
//! as the Python provider does, and the Rust requirer reads the answers of both Python v1
//! libraries (`version` from the published one, `lib-version` from s3-integrator 2/).

// Test helpers outside #[test] functions may unwrap: a failure is a broken test.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

use charm::Status;
use charm::secret::SecretContent;
use charm_testing::{Relation, Secret, State};
use s3::wire::PeerVersion;
use s3::{CredentialsChanged, CredentialsRequested};
use s3_contract::*;

fn creds() -> SecretContent {
    SecretContent::new()
        .with("access-key", "test-access-key")
        .with("secret-key", "test-secret-key")
}

#[test]
fn rust_requirer_writes_what_the_python_v1_requirer_writes_and_lib_version() {
    let rel = Relation::new(ENDPOINT, 3, PROVIDER_APP).remote_unit(0, [("x", "y")]);
    let state = State::default()
        .leader(true)
        .relation(rel.clone())
        .config("bucket", "wanted")
        .config("path", "backups/");
    let out = consumer().run(rel.created(), state);
    let out = consumer().run(rel.joined(0), out.state);
    let mut expected = fixture(PY_V1_REQUIRER);
    expected.insert("lib-version".into(), "1.0".into());
    let written = out.state.get_relation(3);
    assert_eq!(written.local_app_data, expected);
    assert_eq!(written.local_unit_data, fixture(PY_V1_REQUIRER_UNIT));
}

#[test]
fn rust_provider_reads_the_python_v1_requirer_and_answers_as_the_python_provider() {
    let rel = Relation::new(ENDPOINT, 3, "app").remote_app_data(fixture(PY_V1_REQUIRER));
    let user = Secret::granted("secret:cq8ftm0l5gqs73e4dpp1", creds());
    let state = State::default()
        .leader(true)
        .relation(rel.clone())
        .secret(user)
        .config("credentials", "secret:cq8ftm0l5gqs73e4dpp1")
        .config("endpoint", "http://s3.local:9000");
    let out = provider(0).run(rel.created(), state);
    let out = provider(0).run(rel.changed(None), out.state);
    assert!(out.ok(), "{:?}", out.error());
    let request = &out.emitted::<CredentialsRequested>()[0];
    assert_eq!(
        (request.bucket.as_str(), request.path.as_deref(), request.v1),
        ("wanted", Some("backups/"), true)
    );
    // Same keys and values as the Python provider, the secret id aside, plus lib-version.
    let mut sent = out.state.get_relation(3).local_app_data.clone();
    let mut expected = fixture(PY_V1_PROVIDER);
    let ours = sent.remove("secret-extra").unwrap();
    expected.remove("secret-extra");
    expected.insert("lib-version".into(), "1.0".into());
    assert_eq!(sent, expected);
    let secret = out.state.get_secret("s3-credentials.3.extra.secret");
    assert_eq!(ours, secret.id);
    assert_eq!(secret.revisions[&1], creds());
}

#[test]
fn rust_requirer_reads_both_python_v1_providers() {
    for text in [PY_V1_PROVIDER, S3_INTEGRATOR_2_PROVIDER] {
        let bag = fixture(text);
        assert_eq!(
            s3::wire::provider_version(&bag).unwrap(),
            PeerVersion::V1,
            "{text}"
        );
        let secret = Secret::granted(&bag["secret-extra"], creds());
        let own = fixture(PY_V1_REQUIRER);
        let rel = Relation::new(ENDPOINT, 3, PROVIDER_APP)
            .local_app_data(own)
            .remote_app_data(bag);
        let state = State::default()
            .leader(true)
            .relation(rel.clone())
            .secret(secret)
            .config("bucket", "wanted")
            .config("path", "backups/");
        let out = consumer().run(rel.changed(None), state);
        assert!(out.ok(), "{:?}", out.error());
        let changed = out.emitted::<CredentialsChanged>();
        assert_eq!(changed.len(), 1, "{text}");
        assert_eq!(changed[0].bucket, "wanted");
        assert_eq!(
            out.state.unit_status,
            Some(Status::active(
                "credentials for bucket wanted path backups/ at http://s3.local:9000"
            ))
        );
        // v1 both: no relation-<id> fallback; our reconcile only adds the other version key.
        let mut expected = fixture(PY_V1_REQUIRER);
        expected.insert("lib-version".into(), "1.0".into());
        assert_eq!(out.state.get_relation(3).local_app_data, expected);
    }
}

#[test]
fn the_python_v1_requirer_is_v1_to_the_rust_provider_and_a_v0_one_is_not() {
    assert_eq!(
        s3::wire::requirer_version(&fixture(PY_V1_REQUIRER)).unwrap(),
        PeerVersion::V1
    );
    for v0 in [PY_REQUIRER_DEFAULT, PY_REQUIRER_NAMED] {
        assert_eq!(
            s3::wire::requirer_version(&fixture(v0)).unwrap(),
            PeerVersion::V0
        );
        assert!(
            s3::wire::requirer_ready(&fixture(v0)),
            "v0 requirers are ready by their bucket"
        );
    }
    assert!(!s3::wire::requirer_ready(&fixture(PY_V1_REQUIRER_UNIT)));
}
