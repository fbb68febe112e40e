//! The in-memory Juju's secret rules, as Juju applies them: revision tracking, grants, unique
//! labels, owner-only info, revision removal at commit.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use charm::{Charm, Ctx, Error, Event, Filter, ModelError, SecretContent, SecretRead};
use charm_testing::{Harness, Secret, State};

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
