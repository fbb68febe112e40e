//! Secrets: ownership, grants, labels, revision tracking, secret hooks and output formats.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;
use common::*;

use juju_local::Model;

struct S {
    m: Model,
    rel: u64,
    rel2: u64,
}

/// db (owner, 2 units) related to app (2 units) and app2 (1 unit).
fn setup(name: &str) -> S {
    let (m, base) = model(name);
    let db = charm(&base, "db", DB_META, None, None, &[]);
    let app = charm(&base, "app", APP_META, None, None, &[]);
    deploy(&m, &db, "db", 2);
    deploy(&m, &app, "app", 2);
    deploy(&m, &app, "app2", 1);
    let rel = m.relate("app:db", "db:db").unwrap();
    let rel2 = m.relate("app2:db", "db:db").unwrap();
    m.settle(400).unwrap();
    S { m, rel, rel2 }
}

fn add(m: &Model, unit: &str, args: &str) -> String {
    let p = probe(m, unit, &format!("secret-add {args}"));
    assert_eq!(p.code, 0, "secret-add {args}: {}", p.stderr);
    p.stdout.trim().to_string()
}

#[test]
fn ownership_and_leadership() {
    let s = setup("owner");
    let m = &s.m;
    let p = probe(m, "db/1", "secret-add password=x");
    assert_eq!(
        (p.code, p.stderr.as_str()),
        (1, "ERROR this unit is not the leader\n")
    );
    let uri = add(m, "db/0", "--label creds password=hunter2");
    let id = uri.strip_prefix("secret:").unwrap();
    assert!(juju_local::state::parse_secret_ref(id).is_some(), "{uri}");
    // Unit-owned secrets can be added by any unit and are managed by that unit only.
    let unit_uri = add(m, "db/1", "--owner unit token=abc");
    let p = probe(m, "db/0", &format!("secret-info-get {unit_uri}"));
    assert_eq!(
        (p.code, p.stderr.clone()),
        (
            1,
            format!("ERROR secret \"{}\" not found\n", &unit_uri[7..])
        )
    );
    // Non-leaders cannot manage the application's secret.
    for cmd in [
        format!("secret-set {uri} password=new"),
        format!("secret-grant {uri} -r {}", s.rel),
        format!("secret-remove {uri}"),
        format!("secret-revoke {uri} --app app"),
    ] {
        let p = probe(m, "db/1", &cmd);
        assert_eq!(
            (p.code, p.stderr.as_str()),
            (1, "ERROR this unit is not the leader\n"),
            "{cmd}"
        );
    }
    let p = probe(m, "db/1", &format!("secret-info-get {uri}"));
    assert_eq!(
        (p.code, p.stderr.as_str()),
        (1, "ERROR permission denied\n")
    );
    // Every unit of the owning app can read it; secret-ids lists owned secrets.
    let p = probe(m, "db/1", &format!("secret-get {uri} password"));
    assert_eq!(p.stdout, "hunter2\n");
    let p = probe(m, "db/1", "secret-ids --format=json");
    let mut ids: Vec<String> = serde_json::from_str(&p.stdout).unwrap();
    ids.sort();
    let mut want = vec![uri.clone(), unit_uri.clone()];
    want.sort();
    assert_eq!(ids, want);
    // A secret changed by a consumer-side unit without ownership fails the hook at commit.
    let p = probe(m, "app/0", &format!("secret-set {uri} password=stolen"));
    assert_eq!(p.code, 0, "accepted by the tool, refused at flush");
    assert_eq!(p.record.outcome, "failed");
    assert!(
        p.record
            .error
            .as_deref()
            .unwrap_or("")
            .contains("permission denied")
    );
}

#[test]
fn grants_are_scoped() {
    let s = setup("grants");
    let m = &s.m;
    let uri = add(m, "db/0", "password=pw");
    // Not granted yet: the secret exists but app cannot read it.
    let p = probe(m, "app/0", &format!("secret-get {uri}"));
    assert_eq!(
        (p.code, p.stderr.as_str()),
        (1, "ERROR permission denied\n")
    );
    let p = probe(m, "app/0", "secret-get secret:d1k3m8fbo5jc738pq1ig");
    assert_eq!(
        (p.code, p.stderr.as_str()),
        (1, "ERROR secret \"d1k3m8fbo5jc738pq1ig\" not found\n")
    );
    // Grant to one unit of app over its relation.
    let p = probe(
        m,
        "db/0",
        &format!("secret-grant {uri} --relation {} --unit app/1", s.rel),
    );
    assert_eq!(p.code, 0, "{}", p.stderr);
    assert_eq!(probe(m, "app/0", &format!("secret-get {uri}")).code, 1);
    assert_eq!(
        probe(m, "app/1", &format!("secret-get {uri} password")).stdout,
        "pw\n"
    );
    let p = probe(
        m,
        "db/0",
        &format!("secret-grant {uri} -r {} --unit app2/0", s.rel),
    );
    assert_eq!(p.code, 2);
    assert!(
        p.stderr
            .contains("cannot specify unit \"app2/0\" in relation to application \"app\""),
        "{}",
        p.stderr
    );
    // Grant to the whole application; app2 still has no access.
    probe(m, "db/0", &format!("secret-grant {uri} -r {}", s.rel));
    assert_eq!(
        probe(m, "app/0", &format!("secret-get {uri} password")).stdout,
        "pw\n"
    );
    assert_eq!(probe(m, "app2/0", &format!("secret-get {uri}")).code, 1);
    // The URI forms are interchangeable.
    let uuid = m.state().unwrap().uuid;
    let long = format!("secret://{uuid}/{}", &uri[7..]);
    assert_eq!(
        probe(m, "app/0", &format!("secret-get {long} password")).stdout,
        "pw\n"
    );
    assert_eq!(
        probe(m, "app/0", &format!("secret-get {} password", &uri[7..])).stdout,
        "pw\n"
    );
    // Revoke, and grants die with their relation.
    probe(
        m,
        "db/0",
        &format!("secret-revoke {uri} --relation {}", s.rel),
    );
    assert_eq!(probe(m, "app/0", &format!("secret-get {uri}")).code, 1);
    probe(m, "db/0", &format!("secret-grant {uri} -r {}", s.rel2));
    assert_eq!(
        probe(m, "app2/0", &format!("secret-get {uri} password")).stdout,
        "pw\n"
    );
    m.remove_relation("app2:db", Some("db:db")).unwrap();
    m.settle(100).unwrap();
    assert!(
        m.state()
            .unwrap()
            .find_secret(&uri)
            .unwrap()
            .grants
            .is_empty()
    );
}

#[test]
fn labels_are_per_observer_and_unique() {
    let s = setup("labels");
    let m = &s.m;
    let a = add(m, "db/0", "--label first password=a");
    let b = add(m, "db/0", "password=b");
    // An owner label in use: Juju's hook context only knows the hook's own new secrets, so the
    // tool accepts it and the hook fails when the changes are applied.
    for cmd in [
        "secret-add --label first password=c".to_string(),
        format!("secret-set {b} --label first"),
    ] {
        let p = probe(m, "db/0", &cmd);
        assert_eq!(p.code, 0, "{cmd}: {}", p.stderr);
        assert_eq!(
            p.record.error.as_deref(),
            Some("cannot apply changes: secret with label \"first\" already exists"),
            "{cmd}"
        );
    }
    // Within one hook, the second new secret with a label is refused at once.
    let p = probe(
        m,
        "db/0",
        "secret-add --label twice password=c && secret-add --label twice password=d",
    );
    assert_eq!(
        (p.code, p.stderr.as_str()),
        (1, "ERROR secret with label \"twice\" already exists\n")
    );
    // The owner looks its secret up by its own label.
    // With only a label, the first positional would be taken as a URI (as in Juju), so read the map.
    assert_eq!(
        probe(m, "db/0", "secret-get --label first password").code,
        2
    );
    assert_eq!(
        probe(m, "db/0", "secret-get --label first --format=json").stdout,
        "{\"password\":\"a\"}\n"
    );
    for uri in [&a, &b] {
        probe(m, "db/0", &format!("secret-grant {uri} -r {}", s.rel));
    }
    // Each consumer unit sets its own label by passing id and label together.
    assert_eq!(
        probe(m, "app/0", &format!("secret-get {a} --label mine")).code,
        0
    );
    assert_eq!(
        probe(m, "app/1", &format!("secret-get {a} --label theirs")).code,
        0
    );
    assert_eq!(
        probe(m, "app/0", "secret-get --label mine --format=json").stdout,
        "{\"password\":\"a\"}\n"
    );
    assert_eq!(
        probe(m, "app/1", "secret-get --label theirs --format=json").stdout,
        "{\"password\":\"a\"}\n"
    );
    let p = probe(m, "app/1", "secret-get --label mine");
    assert_eq!(
        (p.code, p.stderr.as_str()),
        (1, "ERROR secret \"mine\" not found\n")
    );
    // The owner's label is not the consumer's.
    assert_eq!(probe(m, "app/0", "secret-get --label first").code, 1);
    // A consumer label must be unique for that consumer.
    let p = probe(m, "app/0", &format!("secret-get {b} --label mine"));
    assert_eq!(
        (p.code, p.stderr.as_str()),
        (1, "ERROR secret with label \"mine\" already exists\n")
    );
    // The label set during a failing hook still sticks (Juju records it at once).
    let p = probe_in(
        m,
        "app/1",
        juju_local::state::HookSpec::simple("update-status"),
        &format!("secret-get {b} --label other"),
        1,
    );
    assert_eq!(p.code, 0);
    assert_eq!(
        probe(m, "app/1", "secret-get --label other --format=json").stdout,
        "{\"password\":\"b\"}\n"
    );
}

#[test]
fn revisions_tracking_and_secret_hooks() {
    let s = setup("tracking");
    let m = &s.m;
    let uri = add(m, "db/0", "--label creds password=v1");
    probe(m, "db/0", &format!("secret-grant {uri} -r {}", s.rel));
    on(
        m,
        "app/0",
        "secret-changed",
        Some("env | grep '^JUJU_SECRET' | sort > \"$JUJU_CHARM_DIR/changed.env\"\n"),
    );
    // First read tracks revision 1.
    assert_eq!(
        probe(
            m,
            "app/0",
            &format!("secret-get {uri} password --label db-creds")
        )
        .stdout,
        "v1\n"
    );
    // Identical content makes no new revision.
    probe(m, "db/0", &format!("secret-set {uri} password=v1"));
    assert_eq!(m.state().unwrap().find_secret(&uri).unwrap().latest, 1);
    // New content: revision 2. Only app/0 tracks the secret, so only it gets secret-changed.
    let from = last_seq(m);
    probe(m, "db/0", &format!("secret-set {uri} password=v2"));
    m.settle(100).unwrap();
    assert_eq!(m.state().unwrap().find_secret(&uri).unwrap().latest, 2);
    let s2 = story(m, from + 1);
    assert_eq!(
        s2,
        vec![format!("app/0: secret-changed ({})", uri)],
        "{s2:?}"
    );
    let env = std::fs::read_to_string(unit_dir(m, "app/0").join("changed.env")).unwrap();
    assert_eq!(
        env,
        format!("JUJU_SECRET_ID={uri}\nJUJU_SECRET_LABEL=db-creds\n")
    );
    // Tracked revision until refresh; peek shows latest without tracking.
    assert_eq!(
        probe(m, "app/0", &format!("secret-get {uri} password")).stdout,
        "v1\n"
    );
    assert_eq!(
        probe(m, "app/0", &format!("secret-get {uri} password --peek")).stdout,
        "v2\n"
    );
    assert_eq!(
        probe(m, "app/0", &format!("secret-get {uri} password")).stdout,
        "v1\n"
    );
    let p = probe(m, "app/0", &format!("secret-get {uri} --peek --refresh"));
    assert_eq!(
        (p.code, p.stderr.as_str()),
        (2, "ERROR specify one of --peek or --refresh but not both\n")
    );
    // Refresh moves app/0 to revision 2: revision 1 has no trackers, so the owner gets secret-remove.
    let from = last_seq(m);
    on(
        m,
        "db/0",
        "secret-remove",
        Some(
            "secret-remove \"$JUJU_SECRET_ID\" --revision \"$JUJU_SECRET_REVISION\"\nenv | grep '^JUJU_SECRET' | sort > \"$JUJU_CHARM_DIR/remove.env\"\n",
        ),
    );
    assert_eq!(
        probe(m, "app/0", &format!("secret-get {uri} password --refresh")).stdout,
        "v2\n"
    );
    m.settle(100).unwrap();
    assert_eq!(
        story(m, from + 1),
        vec![format!("db/0: secret-remove ({uri}, revision 1)")]
    );
    let env = std::fs::read_to_string(unit_dir(m, "db/0").join("remove.env")).unwrap();
    assert_eq!(
        env,
        format!("JUJU_SECRET_ID={uri}\nJUJU_SECRET_LABEL=creds\nJUJU_SECRET_REVISION=1\n")
    );
    let sec = m.state().unwrap().find_secret(&uri).unwrap().clone();
    assert_eq!(sec.revisions.keys().copied().collect::<Vec<_>>(), vec![2]);
    // Rotation and expiry are queued for the owner (the leader for app-owned secrets).
    let from = last_seq(m);
    m.secret_rotate(&uri).unwrap();
    m.secret_expire(&uri, None).unwrap();
    m.settle(100).unwrap();
    assert_eq!(
        story(m, from),
        vec![
            format!("db/0: secret-rotate ({uri})"),
            format!("db/0: secret-expired ({uri}, revision 2)")
        ]
    );
}

#[test]
fn secret_output_formats() {
    let s = setup("secretfmt");
    let m = &s.m;
    let dir = unit_dir(m, "db/0");
    std::fs::write(dir.join("key.pem"), "-----KEY-----").unwrap();
    let uri = add(
        m,
        "db/0",
        "--label tls --description 'TLS material' --rotate daily --expire 2030-01-02T03:04:05Z tls-key#file=key.pem user=admin blob#base64=czNjcmV0IQ==",
    );
    let id = &uri[7..];
    probe(
        m,
        "db/0",
        &format!("secret-grant {uri} -r {} --unit app/0", s.rel),
    );
    assert_eq!(
        probe(m, "db/0", &format!("secret-get {uri} --format=json")).stdout,
        "{\"blob\":\"s3cret!\",\"tls-key\":\"-----KEY-----\",\"user\":\"admin\"}\n"
    );
    assert_eq!(
        probe(m, "db/0", &format!("secret-get {uri} blob#base64")).stdout,
        "czNjcmV0IQ==\n"
    );
    let p = probe(m, "db/0", &format!("secret-get {uri} nope"));
    assert_eq!(
        (p.code, p.stderr.as_str()),
        (1, "ERROR secret key value \"nope\" not found\n")
    );
    assert!(
        probe(m, "db/0", &format!("secret-get {uri}"))
            .stdout
            .contains("user: admin")
    );
    let p = probe(m, "db/0", &format!("secret-info-get {uri} --format=json"));
    let st = m.state().unwrap();
    let rotates = st.find_secret(&uri).unwrap().next_rotate.clone().unwrap();
    let tag = st.relations[&s.rel].tag();
    assert_eq!(
        p.stdout,
        format!(
            "{{\"{id}\":{{\"revision\":1,\"label\":\"tls\",\"owner\":\"application\",\"description\":\"TLS material\",\"expiry\":\"2030-01-02T03:04:05Z\",\"rotation\":\"daily\",\"rotates\":\"{rotates}\",\"access\":[{{\"target\":\"unit-app-0\",\"scope\":\"{tag}\",\"role\":\"view\"}}]}}}}\n"
        )
    );
    assert_eq!(
        probe(m, "db/0", "secret-info-get --label tls --format=json").stdout,
        p.stdout
    );
    let p = probe(m, "app/0", &format!("secret-info-get {uri}"));
    assert_eq!(
        (p.code, p.stderr.clone()),
        (1, format!("ERROR secret \"{id}\" not found\n"))
    );
    let p = probe(m, "db/0", &format!("secret-info-get {uri} --label tls"));
    assert_eq!(p.code, 2);
    for (cmd, err) in [
        ("secret-add bad_key=x", "ERROR key \"bad_key\" not valid\n"),
        (
            "secret-add --rotate sometimes password=x",
            "ERROR rotate policy \"sometimes\" not valid\n",
        ),
        (
            "secret-add --expire soon password=x",
            "ERROR expire time or duration \"soon\" not valid\n",
        ),
        ("secret-add", "ERROR missing secret value or filename\n"),
        ("secret-get", "ERROR require either a secret URI or label\n"),
        (
            "secret-get secret:nope",
            "ERROR secret URI \"secret:nope\" not valid\n",
        ),
    ] {
        let p = probe(m, "db/0", cmd);
        assert_eq!((p.code, p.stderr.as_str()), (2, err), "{cmd}");
    }
    // Expire as a duration.
    assert_eq!(
        probe(m, "db/0", "secret-add --expire 24h password=x").code,
        0
    );
}
