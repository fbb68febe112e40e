//! The machine: `juju-reboot`. There is no machine to reboot here: the call is checked as Juju
//! checks it and recorded in the hook's journal (the timeline shows it), nothing more.

use super::{Call, R, check_empty, ops, run_err};
use crate::flags::Flag;

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
