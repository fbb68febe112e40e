//! s3 v1 between the Rust requirer (s3-consumer) and the Rust provider (s3-integrator), bags and
//! the credentials secret shuttled by hand: request, credentials in a secret, rotation through a
//! new revision, leader changes, relation removed.

// Test helpers outside #[test] functions may unwrap: a failure is a broken test.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

use charm::secret::SecretContent;
use charm::{Event, Status, StatusKind};
use charm_testing::{Relation, Secret, State};
use s3::{CredentialsChanged, CredentialsGone, CredentialsRequested};
use s3_contract::*;

const USER_SECRET: &str = "secret:cq8ftm0l5gqs73e4dpp1";

fn user_secret(access: &str) -> Secret {
    Secret::granted(
        USER_SECRET,
        SecretContent::new()
            .with("access-key", access)
            .with("secret-key", "SK-USER"),
    )
}

/// The provider configured with the credentials option; one consumer on relation 3 (bucket
/// `wanted`, path `pre/`) that ran relation-created and -joined.
fn v1_model() -> Model {
    let provider_state = State::default()
        .secret(user_secret("AK-1"))
        .config("credentials", USER_SECRET)
        .config("endpoint", "https://s3.example.com");
    let mut model = Model::new(provider_state);
    let consumer_state = State::default()
        .leader(true)
        .config("bucket", "wanted")
        .config("path", "pre/");
    model.relate("s3-consumer", 3, consumer_state);
    assert!(model.requirer_created(&consumer(), 3).ok());
    assert!(model.requirer_joins(&consumer(), 3).ok());
    model
}

fn consumer_status(model: &Model, id: u32) -> Status {
    model.requirer(id).unit_status.clone().expect("status set")
}

#[test]
fn request_credentials_in_a_secret_and_rotation() {
    let mut model = v1_model();
    let request = model.requirer_bag(3);
    assert_eq!(
        request["requested-secrets"],
        r#"["access-key", "secret-key"]"#
    );
    assert_eq!(
        (request["version"].as_str(), request["lib-version"].as_str()),
        ("1", "1.0")
    );
    assert_eq!(
        (request["bucket"].as_str(), request["path"].as_str()),
        ("wanted", "pre/")
    );

    // The provider answers: the bucket and path asked for, the credentials in a secret.
    let out = model.to_provider(&provider(0), 3);
    let requested = out.emitted::<CredentialsRequested>();
    assert_eq!(requested.len(), 1);
    assert!(requested[0].v1);
    assert_eq!(requested[0].path.as_deref(), Some("pre/"));
    let sent = model.provider_bag(3);
    assert_eq!(
        (sent["bucket"].as_str(), sent["path"].as_str()),
        ("wanted", "pre/")
    );
    assert!(!sent.contains_key("access-key") && !sent.contains_key("data"));
    assert!(sent["secret-extra"].starts_with("secret:"));

    // The consumer reads them from the secret: one event, typed info, an active status.
    let out = model.to_requirer(&consumer(), 3);
    assert!(out.ok(), "{:?}", out.error());
    let changed = out.emitted::<CredentialsChanged>();
    assert_eq!(changed.len(), 1);
    assert_eq!(changed[0].bucket, "wanted");
    assert_eq!(
        consumer_status(&model, 3),
        Status::active("credentials for bucket wanted path pre/ at https://s3.example.com")
    );

    // Rotation: the operator updates the user secret; the provider makes one new revision of
    // the relation secret and the consumer hears it through secret-changed, once.
    let i = model
        .provider
        .secrets
        .iter()
        .position(|s| s.id == USER_SECRET)
        .unwrap();
    let rotated = user_secret("AK-2").revisions[&1].clone();
    model.provider.secrets[i] = model.provider.secrets[i].clone().revision(rotated);
    let changed_event = model.provider.secrets[i].changed();
    let out = model.run_provider(&provider(0), changed_event);
    assert!(out.ok(), "{:?}", out.error());
    let relation_secret = model.provider.get_secret("s3-credentials.3.extra.secret");
    assert_eq!(relation_secret.latest(), 2);
    assert_eq!(out.calls_to("relation-set"), 0, "the bag does not change");
    let out = model.secret_to_requirer(&consumer(), 3).unwrap();
    assert_eq!(out.emitted::<CredentialsChanged>().len(), 1);
    let out = model.secret_to_requirer(&consumer(), 3).unwrap();
    assert!(
        out.emitted::<CredentialsChanged>().is_empty(),
        "same revision: nothing"
    );

    // Relation removed: gone on the requirer, the secret removed on the provider.
    let out = model.run_requirer(
        &consumer(),
        3,
        Relation::new(ENDPOINT, 3, PROVIDER_APP).broken(),
    );
    assert_eq!(out.emitted::<CredentialsGone>().len(), 1);
    let broken = model.provider.rel(3).unwrap().broken();
    let out = model.run_provider(&provider(0), broken);
    assert!(out.ok(), "{:?}", out.error());
    assert!(
        model
            .provider
            .secret_by("s3-credentials.3.extra.secret")
            .is_none()
    );
}

#[test]
fn a_new_provider_leader_finds_the_secret_by_its_label() {
    let mut model = v1_model();
    model.to_provider(&provider(0), 3);
    model.to_requirer(&consumer(), 3);
    let first = model
        .provider
        .get_secret("s3-credentials.3.extra.secret")
        .id
        .clone();
    // Another unit leads now (same app state: the secret is the application's).
    let out = model.run_provider(&provider(1), Event::LeaderElected);
    assert!(out.ok(), "{:?}", out.error());
    assert_eq!(out.calls_to("secret-add"), 0);
    assert_eq!(out.calls_to("secret-set"), 0, "unchanged content");
    assert_eq!(model.provider_bag(3)["secret-extra"], first);
}

#[test]
fn a_requirer_leader_elected_after_the_joins_still_asks_for_secrets() {
    let mut model = Model::new(
        State::default()
            .secret(user_secret("AK-1"))
            .config("credentials", USER_SECRET),
    );
    model.relate("s3-consumer", 3, State::default());
    let created = model.provider.rel(3).unwrap().created();
    model.run_provider(&provider(0), created);
    let out = model.requirer_created(&consumer(), 3);
    assert!(
        out.state.rel(3).unwrap().local_app_data.is_empty(),
        "followers do not ask"
    );
    model.requirer_joins(&consumer(), 3);
    let mut state = model.requirer(3).clone().leader(true);
    state.unit_status = None;
    model.requirers[0].2 = state;
    model.run_requirer(&consumer(), 3, Event::LeaderElected);
    let request = model.requirer_bag(3);
    assert_eq!(
        request["requested-secrets"],
        r#"["access-key", "secret-key"]"#
    );
    assert!(!request.contains_key("bucket"), "none configured");
    // No bucket anywhere: a v1 requirer still gets its credentials (as from 2/).
    model.to_provider(&provider(0), 3);
    assert!(!model.provider_bag(3).contains_key("bucket"));
    let out = model.to_requirer(&consumer(), 3);
    assert_eq!(out.emitted::<CredentialsChanged>()[0].bucket, "");
    assert_eq!(consumer_status(&model, 3).kind, StatusKind::Active);
    assert_eq!(
        consumer_status(&model, 3).message,
        "credentials for no bucket at the default endpoint"
    );
}
