//! The machine and its cloud: `juju-reboot` and `credential-get`. There is no machine to reboot
//! here: the call is checked as Juju checks it and recorded in the hook's journal (the timeline
//! shows it), nothing more. The cloud is `juju-local` itself, with an empty credential, shown
//! only to trusted applications.

use serde_json::json;

use super::{Call, FORMAT, OUTPUT, R, check_empty, ops, run_err};
use crate::flags::Flag;

pub(super) fn credential_get(c: &mut Call) -> R {
    let p = c.parse(&[FORMAT, OUTPUT])?;
    let fmt = c.format(&p, "yaml", &["yaml", "json"])?;
    check_empty(&p.positional)?;
    let trusted = c
        .state
        .applications
        .get(&c.run.app)
        .is_some_and(|a| a.trusted);
    if !trusted {
        return Err(run_err(
            "cannot access cloud credentials: permission denied",
        ));
    }
    let spec = json!({
        "type": "juju-local",
        "name": "juju-local",
        "region": "local",
        "credential": {"auth-type": "empty", "attrs": {}},
        "is-controller-cloud": true,
    });
    c.emit(&p, &fmt, &spec, false)
}

pub(super) fn juju_reboot(c: &mut Call) -> R {
    let p = c.parse(&[Flag::boolean("now", &[])])?;
    check_empty(&p.positional)?;
    if c.run.hook.is_action() {
        return Err(run_err(
            "juju-reboot is not supported when running an action",
        ));
    }
    ops(Vec::new())
}
