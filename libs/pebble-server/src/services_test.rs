//! Tests of `services.rs.rs`.

use super::*;
use pebble::GoDuration;

#[test]
fn backoff_grows_by_factor_up_to_the_limit() {
    let mut s = Service::replace("x");
    s.backoff_delay = Some(GoDuration::from_millis(100));
    s.backoff_factor = Some(3.0);
    s.backoff_limit = Some(GoDuration::from_millis(500));
    let mut t = Duration::ZERO;
    let mut seen = Vec::new();
    for _ in 0..4 {
        t = next_backoff(&s, t);
        seen.push(t.as_millis());
    }
    assert_eq!(seen, [100, 300, 500, 500]);
    let defaults = Service::replace("x");
    assert_eq!(
        next_backoff(&defaults, Duration::ZERO),
        Duration::from_millis(500)
    );
    assert_eq!(
        next_backoff(&defaults, Duration::from_millis(500)),
        Duration::from_secs(1)
    );
}

#[test]
fn reported_status_follows_pebble() {
    assert_eq!(SvcState::Starting.status(), "active");
    assert_eq!(SvcState::Killing.status(), "inactive");
    assert_eq!(SvcState::Backoff.status(), "backoff");
    assert_eq!(SvcState::Exited.status(), "error");
    assert_eq!(title("replan"), "Replan");
}
