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

#[test]
fn workload_payloads_are_typed_and_read_older_records() {
    // The shape deferral records had when every workload event carried optional fields.
    let old = r#"{"kind": "pebble-custom-notice", "container": "web",
        "notice": {"id": "7", "kind": "custom", "key": "example.com/a"}, "check": null}"#;
    let event: Event = serde_json::from_str(old).unwrap();
    let Event::PebbleCustomNotice(n) = &event else {
        panic!("{event:?}")
    };
    assert_eq!(
        (n.workload.container.as_str(), n.notice.id.as_str()),
        ("web", "7")
    );
    assert_eq!(event.hook_name(), "web-pebble-custom-notice");
    assert_eq!(event.scope(), Some("web"));
    let old = r#"{"kind": "pebble-ready", "container": "web", "notice": null, "check": null}"#;
    let ready: Event = serde_json::from_str(old).unwrap();
    assert_eq!(
        WorkloadEvent::from_event(&ready).map(|w| w.container.as_str()),
        Some("web")
    );
    assert!(PebbleNoticeEvent::from_event(&ready).is_none());
    // Round trip of the new shapes, and every workload event gives its container.
    let failed = Event::PebbleCheckFailed(PebbleCheckEvent {
        workload: WorkloadEvent {
            container: "web".into(),
        },
        check: "up".into(),
    });
    let again: Event = serde_json::from_str(&serde_json::to_string(&failed).unwrap()).unwrap();
    assert_eq!(again, failed);
    assert_eq!(
        PebbleCheckEvent::from_event(&failed).map(|c| c.check.as_str()),
        Some("up")
    );
    assert_eq!(
        WorkloadEvent::from_event(&failed).map(|w| w.container.as_str()),
        Some("web")
    );
    assert_eq!(failed.hook_name(), "web-pebble-check-failed");
    assert!(EventKind::PebbleCheckFailed.on("web").matches(&failed));
    assert!(!EventKind::PebbleCheckFailed.on("db").matches(&failed));
    assert!(!EventKind::PebbleCheckRecovered.on("web").matches(&failed));
}
