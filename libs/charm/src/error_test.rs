//! Tests of `error.rs`.

use super::*;

#[derive(Debug, thiserror::Error)]
#[error("remote sent garbage")]
struct Garbage;
impl Classify for Garbage {
    fn outcome(&self) -> Outcome {
        Outcome::Blocked
    }
}

fn handler() -> Result<(), Error> {
    Err(Garbage)?
}

#[test]
fn question_mark_keeps_the_classification() {
    let e = handler().unwrap_err();
    assert_eq!(e.outcome(), Outcome::Blocked);
    assert_eq!(e.message(), "remote sent garbage");
    assert!(e.source().is_some());
    let e = e.context("relation db:1");
    assert_eq!(e.to_string(), "relation db:1: remote sent garbage");
}

#[test]
fn result_ext_sets_the_outcome() {
    let r: Result<(), &str> = Err("bad port");
    let e = r.or_blocked("config port").unwrap_err();
    assert_eq!(
        (e.outcome(), e.message()),
        (Outcome::Blocked, "config port: bad port")
    );
    let r: Result<(), &str> = Err("x");
    assert_eq!(r.or_waiting("w").unwrap_err().outcome(), Outcome::Waiting);
    let r: Result<(), &str> = Err("x");
    assert_eq!(r.or_fail("f").unwrap_err().outcome(), Outcome::Fail);
}
