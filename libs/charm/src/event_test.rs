//! Tests of `event.rs`.

use super::*;

fn changed(endpoint: &str) -> Event {
    Event::RelationChanged(RelationEvent {
        relation: RelationId::new(endpoint, 3),
        remote_app: Some("pg".into()),
        remote_unit: Some("pg/0".into()),
        departing_unit: None,
    })
}

#[test]
fn filters_match_kind_and_scope() {
    assert!(Filter::any().matches(&Event::Install));
    assert!(Filter::from(EventKind::Install).matches(&Event::Install));
    assert!(!Filter::from(EventKind::Start).matches(&Event::Install));
    assert!(EventKind::RelationChanged.on("db").matches(&changed("db")));
    assert!(
        !EventKind::RelationChanged
            .on("db")
            .matches(&changed("cache"))
    );
    assert!(Filter::relation("db").matches(&changed("db")));
    assert!(!Filter::relation("db").matches(&changed("dbx")));
    assert!(!Filter::relation("db").matches(&Event::Install));
    let action = Event::Action(ActionEvent {
        name: "backup".into(),
        id: "1".into(),
    });
    assert!(Filter::action("backup").matches(&action));
    assert!(!Filter::action("restore").matches(&action));
}

#[test]
fn hook_names_round_trip_the_juju_spelling() {
    assert_eq!(changed("db").hook_name(), "db-relation-changed");
    assert_eq!(
        Event::LeaderSettingsChanged.hook_name(),
        "leader-settings-changed"
    );
}

#[test]
fn deferrability_follows_ops() {
    assert!(changed("db").is_deferrable());
    assert!(!Event::Remove.is_deferrable());
    assert!(!Event::Stop.is_deferrable());
    let s = SecretEvent {
        id: crate::secret::SecretId::parse("secret:d1k3m8fbo5jc738pq1ig").unwrap(),
        label: None,
        revision: None,
    };
    assert!(!Event::SecretRotate(s.clone()).is_deferrable());
    assert!(Event::SecretChanged(s).is_deferrable());
}

#[test]
fn events_serialise_with_a_kind_tag() {
    let json = serde_json::to_value(changed("db")).unwrap();
    assert_eq!(json["kind"], "relation-changed");
    assert_eq!(json["relation"]["endpoint"], "db");
    let back: Event = serde_json::from_value(json).unwrap();
    assert_eq!(back, changed("db"));
}

#[test]
fn filter_texts_are_stable_and_distinct() {
    // Deferral records store these: changing one would orphan deferred events after an upgrade.
    let texts = [
        (Filter::any(), "any"),
        (Filter::from(EventKind::UpdateStatus), "update-status"),
        (EventKind::RelationChanged.on("db"), "relation-changed@db"),
        (Filter::relation("db"), "relation@db"),
        (Filter::action("backup"), "action@backup"),
        (
            EventKind::PebbleReady.on("workload"),
            "pebble-ready@workload",
        ),
    ];
    for (filter, text) in texts {
        assert_eq!(filter.to_string(), text);
    }
    // Every kind's name is the hook name's generic part.
    assert_eq!(changed("db").hook_name(), "db-relation-changed");
    assert!(
        changed("db")
            .hook_name()
            .ends_with(changed("db").kind().as_str())
    );
    assert_eq!(
        Event::LeaderSettingsChanged.kind().as_str(),
        Event::LeaderSettingsChanged.hook_name()
    );
}
