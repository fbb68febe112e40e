//! User secrets and config options of type `secret` (Juju 3.4+): the operator adds a secret,
//! grants it to an application and sets its URI as a config value; the charm reads it by id.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;
use common::*;

use juju_local::Model;

const META: &str = "name: integrator\n";
const CONFIG: &str =
    "options:\n  credentials:\n    type: secret\n    description: access-key and secret-key\n";

fn setup(name: &str) -> Model {
    let (m, base) = model(name);
    let dir = charm(&base, "integrator", META, Some(CONFIG), None, &[]);
    deploy(&m, &dir, "integrator", 2);
    deploy(&m, &dir, "other", 1);
    m.settle(200).unwrap();
    m
}

fn content(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

#[test]
fn a_granted_user_secret_is_read_through_a_secret_config_option() {
    let m = setup("user-secret");
    let uri = m
        .add_secret(
            "s3-creds",
            &content(&[("access-key", "AK"), ("secret-key", "SK")]),
        )
        .unwrap();
    assert!(juju_local::state::parse_secret_ref(&uri).is_some(), "{uri}");
    // Not granted yet: the application's units are refused, as Juju refuses them.
    let p = probe(&m, "integrator/0", &format!("secret-get {uri}"));
    assert_eq!(
        (p.code, p.stderr.as_str()),
        (1, "ERROR permission denied\n")
    );

    m.grant_secret("s3-creds", "integrator").unwrap();
    m.config("integrator", &[("credentials".into(), uri.clone())], &[])
        .unwrap();
    m.settle(50).unwrap();
    let p = probe(&m, "integrator/1", "config-get credentials");
    assert_eq!(p.stdout.trim(), uri);
    let p = probe(&m, "integrator/1", &format!("secret-get {uri} access-key"));
    assert_eq!((p.code, p.stdout.as_str()), (0, "AK\n"), "{}", p.stderr);
    // Another application was not granted it.
    let p = probe(&m, "other/0", &format!("secret-get {uri}"));
    assert_eq!(p.code, 1);
    let p = probe(&m, "integrator/0", &format!("secret-info-get {uri}"));
    assert_eq!(
        (p.code, p.stderr.clone()),
        (1, format!("ERROR secret \"{}\" not found\n", &uri[7..]))
    );
    let p = probe(&m, "integrator/0", "secret-ids");
    assert!(!p.stdout.contains(&uri[7..]), "not owned: {}", p.stdout);

    // update-secret: a new revision; units that track the old one get secret-changed.
    let _ = probe(&m, "integrator/0", &format!("secret-get {uri}"));
    let from = last_seq(&m);
    assert_eq!(
        m.update_secret(
            &uri,
            &content(&[("access-key", "AK2"), ("secret-key", "SK")])
        )
        .unwrap(),
        2
    );
    assert_eq!(
        m.update_secret(
            "s3-creds",
            &content(&[("access-key", "AK2"), ("secret-key", "SK")])
        )
        .unwrap(),
        2,
        "the same content makes no revision"
    );
    m.settle(50).unwrap();
    let hooks = story(&m, from);
    let changed: Vec<&String> = hooks
        .iter()
        .filter(|h| h.contains("secret-changed"))
        .collect();
    assert_eq!(changed.len(), 2, "both trackers: {hooks:?}");
    let p = probe(
        &m,
        "integrator/0",
        &format!("secret-get {uri} access-key --refresh"),
    );
    assert_eq!(p.stdout, "AK2\n");

    // revoke-secret: refused again.
    m.revoke_secret("s3-creds", "integrator").unwrap();
    let p = probe(&m, "integrator/0", &format!("secret-get {uri}"));
    assert_eq!(p.code, 1);

    // A charm cannot change a user secret, leader or not: the tool accepts it (it cannot know
    // the owner) and the hook fails when its changes are applied, as on Juju.
    let p = probe(
        &m,
        "integrator/0",
        &format!("secret-set {uri} access-key=x"),
    );
    assert_eq!(p.record.outcome, "failed", "{p:?}");
    assert_eq!(m.state().unwrap().find_secret(&uri).unwrap().latest, 2);
}

#[test]
fn bad_user_secret_commands_are_refused() {
    let m = setup("user-secret-bad");
    assert!(m.add_secret("x", &[]).is_err(), "no content");
    assert!(m.add_secret("x", &content(&[("Bad_Key", "v")])).is_err());
    m.add_secret("x", &content(&[("key", "v")])).unwrap();
    assert!(
        m.add_secret("x", &content(&[("key", "v")])).is_err(),
        "names are unique"
    );
    assert!(m.grant_secret("x", "nope").is_err(), "unknown application");
    assert!(m.grant_secret("unknown", "integrator").is_err());
    assert!(
        m.update_secret("unknown", &content(&[("key", "v")]))
            .is_err()
    );
    // A config value of type secret must be a secret URI.
    for bad in ["x", "secret:short", "--all"] {
        assert!(
            m.config("integrator", &[("credentials".into(), bad.into())], &[])
                .is_err(),
            "{bad}"
        );
    }
}
