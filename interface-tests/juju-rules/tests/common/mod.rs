//! What every runner shares: walking the table and saying what disagreed.

use juju_rules::cases::CASES;
use juju_rules::op::{Case, Outcome};

/// A hook that failed when its changes were applied: the steps the tools accepted were
/// accepted only until then. (A case expecting `AtCommit` has no other accepted step.)
pub fn after_commit(outcomes: Vec<Outcome>, committed: bool) -> Vec<Outcome> {
    if committed {
        return outcomes;
    }
    outcomes
        .into_iter()
        .map(|o| match o {
            Outcome::Ok(_) => Outcome::AtCommit,
            other => other,
        })
        .collect()
}

/// Runs every case with `run` (`None`: the runner cannot express the case) and lists the steps
/// whose outcome is not Juju's answer.
pub fn check_all(runner: &str, run: impl Fn(usize, &Case) -> Option<Vec<Outcome>>) -> Vec<String> {
    let mut failures = Vec::new();
    let mut ran = 0;
    for (i, case) in CASES.iter().enumerate() {
        let Some(outcomes) = run(i, case) else {
            continue;
        };
        ran += 1;
        for (k, ((op, expect), got)) in case.steps.iter().zip(&outcomes).enumerate() {
            if !expect.matches(got) {
                failures.push(format!(
                    "{runner}: {:?} {} (case {i}), step {k} {op:?}: Juju answers {expect:?}, got {got:?}",
                    case.who, case.name
                ));
            }
        }
        if outcomes.len() != case.steps.len() {
            failures.push(format!(
                "{runner}: {} (case {i}): {} outcomes for {} steps",
                case.name,
                outcomes.len(),
                case.steps.len()
            ));
        }
    }
    assert!(ran * 2 > CASES.len(), "{runner} ran only {ran} cases");
    failures
}
