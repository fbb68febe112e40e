//! The model's secret rules: ownership and leadership checked before any hook tool runs,
//! content keys validated, content kept out of Debug output, reads cached for the dispatch.

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

#[test]
fn adding_a_secret_keeps_other_reads_cached_but_not_not_found_or_its_label() {
    let harness = harness_with(|ctx| {
        let other = ctx.get_secret(None, Some("other"), SecretRead::Peek)?;
        let missing = ctx.get_secret(None, Some("not-yet"), SecretRead::Peek);
        assert!(missing.unwrap_err().is_secret_not_found());
        ctx.add_secret(&NewSecret {
            content: content("new"),
            label: Some("not-yet".into()),
            ..Default::default()
        })?;
        // Read again: "other" from the cache, "not-yet" from Juju (it exists now).
        assert_eq!(
            ctx.get_secret(None, Some("other"), SecretRead::Peek)?,
            other
        );
        let added = ctx.get_secret(None, Some("not-yet"), SecretRead::Peek)?;
        assert_eq!(added, content("new"));
        // A secret added under another label does not hide a missing one either.
        let none = ctx.get_secret(None, Some("absent"), SecretRead::Peek);
        assert!(none.unwrap_err().is_secret_not_found());
        ctx.add_secret(&NewSecret {
            content: content("third"),
            label: Some("third".into()),
            ..Default::default()
        })?;
        let none = ctx.get_secret(None, Some("absent"), SecretRead::Peek);
        assert!(none.unwrap_err().is_secret_not_found());
        assert_eq!(
            ctx.get_secret(None, Some("other"), SecretRead::Peek)?,
            other
        );
        Ok(())
    });
    let out = harness.run(
        Event::UpdateStatus,
        State::default()
            .leader(true)
            .secret(Secret::owned("secret:abc00000000000000000", content("v")).label("other")),
    );
    assert!(out.ok(), "{:?}", out.error());
    // other once; not-yet twice (missing, then added); absent twice (before and after an add).
    assert_eq!(out.calls_to("secret-get"), 5, "{:?}", out.calls);
}

#[test]
fn a_second_refresh_in_a_dispatch_is_not_asked_again_but_a_peek_does_not_stand_for_one() {
    let harness = harness_with(|ctx| {
        let user = sid("secret:abc00000000000000000");
        // A peek does not move this unit to the latest revision: the refresh must still ask.
        ctx.get_secret(Some(&user), None, SecretRead::Peek)?;
        let first = ctx.get_secret(Some(&user), None, SecretRead::Refresh)?;
        // Now on the latest revision: refreshing again, or reading it tracked, answers the same.
        assert_eq!(
            ctx.get_secret(Some(&user), None, SecretRead::Refresh)?,
            first
        );
        assert_eq!(
            ctx.get_secret(Some(&user), None, SecretRead::Tracked)?,
            first
        );
        Ok(())
    });
    let out = harness.run(
        Event::UpdateStatus,
        State::default().secret(Secret::granted("secret:abc00000000000000000", content("v"))),
    );
    assert!(out.ok(), "{:?}", out.error());
    assert_eq!(out.calls_to("secret-get"), 2, "{:?}", out.calls);
}

#[test]
fn setting_a_secret_forgets_its_reads_and_label_reads_but_keeps_other_secrets() {
    let harness = harness_with(|ctx| {
        let user = sid("secret:abc00000000000000000");
        let mine = sid("secret:def00000000000000000");
        let user_content = ctx.get_secret(Some(&user), None, SecretRead::Refresh)?;
        ctx.get_secret(Some(&mine), None, SecretRead::Peek)?;
        ctx.get_secret(None, Some("mine"), SecretRead::Peek)?;
        ctx.set_secret(
            &mine,
            &SecretUpdate {
                content: Some(content("two")),
                ..Default::default()
            },
        )?;
        // The other secret, read by id, comes from the cache; the updated one is read again,
        // by id and by label (the label may name it).
        assert_eq!(
            ctx.get_secret(Some(&user), None, SecretRead::Refresh)?,
            user_content
        );
        assert_eq!(
            ctx.get_secret(Some(&mine), None, SecretRead::Peek)?,
            content("two")
        );
        assert_eq!(
            ctx.get_secret(None, Some("mine"), SecretRead::Peek)?,
            content("two")
        );
        Ok(())
    });
    let out = harness.run(
        Event::UpdateStatus,
        State::default()
            .leader(true)
            .secret(Secret::granted("secret:abc00000000000000000", content("v")))
            .secret(Secret::owned("secret:def00000000000000000", content("one")).label("mine")),
    );
    assert!(out.ok(), "{:?}", out.error());
    // user once; mine by id and by label, each before and after the set.
    assert_eq!(out.calls_to("secret-get"), 5, "{:?}", out.calls);
}
