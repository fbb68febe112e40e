//! Secret rules: ownership, leadership, labels, revision tracking, grants, removal.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use charm::{
    Charm, Ctx, Error, Event, Filter, ModelError, NewSecret, SecretContent, SecretOwner,
    SecretRead, SecretUpdate,
};
use charm_testing::{Harness, Relation, Secret, State};

const META: &str = "name: app
provides:
  db: {interface: pg}
";

fn sid(text: &str) -> charm::SecretId {
    charm::SecretId::parse(text).unwrap()
}

fn harness_with(f: impl Fn(&mut Ctx) -> Result<(), Error> + 'static) -> Harness {
    let mut charm = Charm::new();
    charm.on(Filter::any(), move |ctx: &mut Ctx, _: &Event| f(ctx));
    Harness::new(charm, META)
}

fn content(v: &str) -> SecretContent {
    SecretContent::new().with("password", v)
}

#[test]
fn the_leader_creates_grants_and_updates_an_app_secret() {
    let harness = harness_with(|ctx| {
        let rel = charm::RelationId::new("db", 1);
        let id = ctx.add_secret(&NewSecret {
            content: content("one"),
            label: Some("creds".into()),
            ..Default::default()
        })?;
        ctx.grant_secret(&id, &rel, None)?;
        ctx.set_secret(
            &id,
            &SecretUpdate {
                content: Some(content("two")),
                ..Default::default()
            },
        )?;
        // Identical content makes no new revision (Juju 3.6).
        ctx.set_secret(
            &id,
            &SecretUpdate {
                content: Some(content("two")),
                ..Default::default()
            },
        )?;
        let info = ctx.secret_info(None, Some("creds"))?;
        assert_eq!(info.revision, 2);
        assert_eq!(info.owner, SecretOwner::Application);
        Ok(())
    });
    let out = harness.run(
        Event::Start,
        State::default()
            .leader(true)
            .relation(Relation::new("db", 1, "pg")),
    );
    assert!(out.ok(), "{:?}", out.error());
    let secret = out.state.secret_by("creds").unwrap();
    assert_eq!(secret.latest(), 2);
    assert!(secret.grants.contains_key(&1));
    // The content never reaches logs or the transcript.
    assert!(!format!("{:?}{:?}", out.calls, out.logs).contains("two"));
}

#[test]
fn followers_cannot_create_or_manage_app_secrets() {
    let harness = harness_with(|ctx| {
        match ctx.add_secret(&NewSecret {
            content: content("x"),
            ..Default::default()
        }) {
            Err(ModelError::NotLeader { .. }) => {}
            other => return Err(Error::fail(format!("add: {other:?}"))),
        }
        // A unit-owned secret is fine for anyone.
        ctx.add_secret(&NewSecret {
            content: content("x"),
            owner: SecretOwner::Unit,
            ..Default::default()
        })?;
        ctx.set_secret(
            &sid("secret:o0ned000000000000000"),
            &SecretUpdate {
                content: Some(content("y")),
                ..Default::default()
            },
        )?;
        Ok(())
    });
    let state = State::default().secret(Secret::owned("secret:o0ned000000000000000", content("x")));
    let out = harness.run(Event::Start, state);
    assert!(
        out.error().unwrap().contains("permission denied"),
        "{:?}",
        out.error()
    );
    assert_eq!(
        out.calls_to("secret-add"),
        1,
        "the app secret was refused before calling Juju"
    );
}

#[test]
fn invalid_content_keys_are_refused_before_juju() {
    let harness = harness_with(|ctx| {
        ctx.add_secret(&NewSecret {
            content: SecretContent::new().with("Bad_Key", "v"),
            ..Default::default()
        })?;
        Ok(())
    });
    let out = harness.run(Event::Start, State::default().leader(true));
    assert!(
        out.error()
            .unwrap()
            .contains("invalid secret content key \"Bad_Key\"")
    );
    assert_eq!(out.calls_to("secret-add"), 0);
}

#[test]
fn observers_track_a_revision_until_they_refresh() {
    let harness = harness_with(|ctx| {
        let tracked = ctx.get_secret(
            Some(&sid("secret:abc00000000000000000")),
            Some("their-creds"),
            SecretRead::Tracked,
        )?;
        let latest = ctx.get_secret(None, Some("their-creds"), SecretRead::Peek)?;
        ctx.store("tracked", &tracked.get("password"))?;
        ctx.store("latest", &latest.get("password"))?;
        if ctx.stored::<bool>("refresh")?.unwrap_or(false) {
            let new = ctx.get_secret(None, Some("their-creds"), SecretRead::Refresh)?;
            ctx.store("refreshed", &new.get("password"))?;
        }
        Ok(())
    });
    let granted = Secret::granted("secret:abc00000000000000000", content("v1"))
        .revision(content("v2"))
        .tracking(1);
    let out = harness.run(
        Event::UpdateStatus,
        State::default().secret(granted.clone()),
    );
    assert!(out.ok(), "{:?}", out.error());
    assert_eq!(out.state.stored["tracked"], "v1");
    assert_eq!(out.state.stored["latest"], "v2");
    let s = out.state.secret_by("secret:abc00000000000000000").unwrap();
    assert_eq!(
        (s.tracked, s.label.as_deref()),
        (Some(1), Some("their-creds"))
    );
    let out = harness.run(
        Event::UpdateStatus,
        State::default()
            .secret(granted)
            .stored("refresh", serde_json::json!(true)),
    );
    assert_eq!(out.state.stored["refreshed"], "v2");
    assert_eq!(
        out.state
            .secret_by("secret:abc00000000000000000")
            .unwrap()
            .tracked,
        Some(2)
    );
}

#[test]
fn secrets_not_granted_are_not_found() {
    let harness = harness_with(|ctx| {
        match ctx.get_secret(
            Some(&sid("secret:nope0000000000000000")),
            None,
            SecretRead::Tracked,
        ) {
            Err(ModelError::HookTool(charm::HookToolError::SecretNotFound { .. })) => Ok(()),
            other => Err(Error::fail(format!("{other:?}"))),
        }
    });
    assert!(harness.run(Event::UpdateStatus, State::default()).ok());
}

#[test]
fn labels_are_unique_per_unit() {
    let harness = harness_with(|ctx| {
        ctx.get_secret(
            Some(&sid("secret:b0000000000000000000")),
            Some("taken"),
            SecretRead::Tracked,
        )?;
        Ok(())
    });
    let state = State::default()
        .secret(Secret::granted("secret:a0000000000000000000", content("a")).label("taken"))
        .secret(Secret::granted("secret:b0000000000000000000", content("b")));
    let out = harness.run(Event::UpdateStatus, state);
    assert!(
        out.error().unwrap().contains("already in use"),
        "{:?}",
        out.error()
    );
}

#[test]
fn secret_info_is_for_owners_only() {
    let harness = harness_with(|ctx| {
        ctx.secret_info(Some(&sid("secret:theirs00000000000000")), None)?;
        Ok(())
    });
    let out = harness.run(
        Event::UpdateStatus,
        State::default().secret(Secret::granted("secret:theirs00000000000000", content("x"))),
    );
    assert!(out.error().unwrap().contains("not found"));
}

#[test]
fn removing_revisions_and_secrets() {
    let harness = harness_with(|ctx| {
        if let Event::SecretRemove(s) = ctx.event().clone() {
            ctx.remove_secret(&s.id, s.revision)?;
        }
        Ok(())
    });
    let owned = Secret::owned("secret:mine0000000000000000", content("1")).revision(content("2"));
    let out = harness.run(
        owned.remove(1),
        State::default().leader(true).secret(owned.clone()),
    );
    assert!(out.ok(), "{:?}", out.error());
    assert_eq!(
        out.removed_secret_revisions,
        vec![("secret:mine0000000000000000".to_string(), Some(1))]
    );
    assert_eq!(
        out.state
            .secret_by("secret:mine0000000000000000")
            .unwrap()
            .revisions
            .len(),
        1
    );
    // Removing a revision that does not exist is accepted by the tool but fails the hook at
    // commit time, as in Juju; nothing is committed.
    let out = harness.run(
        owned.remove(7),
        State::default().leader(true).secret(owned.clone()),
    );
    assert!(
        out.error().unwrap().contains("no revision 7"),
        "{:?}",
        out.error()
    );
    assert_eq!(
        out.state
            .secret_by("secret:mine0000000000000000")
            .unwrap()
            .revisions
            .len(),
        2
    );
}

#[test]
fn secret_content_debug_is_redacted() {
    let shown = format!("{:?}", content("hunter2"));
    assert!(!shown.contains("hunter2"));
    let update = SecretUpdate {
        content: Some(content("hunter2")),
        ..Default::default()
    };
    assert!(!format!("{update:?}").contains("hunter2"));
}

#[test]
fn secret_reads_are_cached_for_the_dispatch_including_not_found() {
    let harness = harness_with(|ctx| {
        for _ in 0..2 {
            ctx.get_secret(
                Some(&sid("secret:abc00000000000000000")),
                None,
                SecretRead::Tracked,
            )?;
            // The other URI form of the same secret hits the same entry.
            ctx.get_secret(
                Some(&sid(
                    "secret://4f2b8a9c-1d2e-4f60-8a7b-0c1d2e3f4a5b/abc00000000000000000",
                )),
                None,
                SecretRead::Tracked,
            )?;
            ctx.get_secret(
                Some(&sid("secret:abc00000000000000000")),
                None,
                SecretRead::Peek,
            )?;
            let missing = ctx.get_secret(None, Some("not-yet"), SecretRead::Tracked);
            assert!(missing.unwrap_err().is_secret_not_found());
        }
        Ok(())
    });
    let out = harness.run(
        Event::UpdateStatus,
        State::default().secret(Secret::granted("secret:abc00000000000000000", content("v"))),
    );
    assert!(out.ok(), "{:?}", out.error());
    // Tracked, peek and the not-found label: one call each.
    assert_eq!(out.calls_to("secret-get"), 3, "{:?}", out.calls);
}
