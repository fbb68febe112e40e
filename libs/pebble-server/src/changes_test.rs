//! Tests of `changes.rs.rs`.

use super::*;
use std::time::{Duration, UNIX_EPOCH};

fn now() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(1_782_900_000)
}

#[test]
fn status_follows_task_priorities_and_err_lists_failures() {
    let mut c = Changes::default();
    let id = c.spawn("start", "Start service \"a\" and 1 more", now());
    let a = c.add_task(&id, "start", "Start service \"a\"", 0, now());
    let b = c.add_task(&id, "start", "Start service \"b\"", 0, now());
    let other = c.add_task(&id, "start", "Start service \"c\"", 1, now());
    let status = |c: &Changes| c.change(&id).map(|ch| c.status(ch));
    assert_eq!(status(&c), Some(Status::Do));
    c.set_task_status(&a, Status::Doing, now());
    assert_eq!(status(&c), Some(Status::Doing));
    c.fail(
        &a,
        "service start attempt: exited quickly with code 1, will restart",
        now(),
    );
    // b waited in a's lane: held; the other lane goes on.
    assert_eq!(c.task(&b).map(|t| t.status), Some(Status::Hold));
    assert_eq!(status(&c), Some(Status::Do));
    c.set_task_status(&other, Status::Done, now());
    assert_eq!(status(&c), Some(Status::Error));
    let change = c.change(&id).cloned();
    let err = change.as_ref().and_then(|ch| c.err(ch));
    assert_eq!(
        err.as_deref(),
        Some(
            "cannot perform the following tasks:\n- Start service \"a\" (service start attempt: exited quickly with code 1, will restart)"
        )
    );
    let shown = change.map(|ch| c.to_json(&ch)).unwrap_or_default();
    assert_eq!(shown["ready"], true);
    assert!(
        shown["tasks"][0]["log"][0]
            .as_str()
            .unwrap_or("")
            .ends_with(" ERROR service start attempt: exited quickly with code 1, will restart")
    );
}

#[test]
fn refresh_reports_moves_but_not_do_doing_flips() {
    let mut c = Changes::default();
    let id = c.spawn("perform-check", "Perform exec check \"x\"", now());
    if let Some(ch) = c.change_mut(&id) {
        ch.notice_data.insert("check-name".into(), "x".into());
    }
    let t = c.add_task(&id, "perform-check", "Perform exec check \"x\"", 0, now());
    let moved = c.refresh(&id, now());
    assert_eq!(
        moved.map(|m| m.data.get("check-name").cloned()),
        Some(Some("x".into()))
    );
    c.set_task_status(&t, Status::Doing, now());
    assert_eq!(c.refresh(&id, now()), None);
    c.fail(&t, "boom", now());
    let moved = c.refresh(&id, now());
    assert_eq!(
        moved.map(|m| m.data.get("kind").cloned()),
        Some(Some("perform-check".into()))
    );
    assert!(c.change(&id).and_then(|ch| ch.ready_time).is_some());
}

#[test]
fn task_log_keeps_the_last_ten_entries() {
    let mut c = Changes::default();
    let id = c.spawn("exec", "Execute command \"x\"", now());
    let t = c.add_task(&id, "exec", "Execute command \"x\"", 0, now());
    for i in 0..15 {
        c.log(&t, &format!("line {i}"), now());
    }
    let log = c.task(&t).map(|t| t.log.clone()).unwrap_or_default();
    assert_eq!(log.len(), 10);
    assert!(log[0].ends_with("INFO line 5"));
}
