//! A charm with two revisions in one binary, for the test of deferred events across an upgrade
//! (`tests/upgrade_binary.rs`): `PROBE_REVISION=A` or `B` registers the same closures in another
//! order, as a new revision of a charm's `main` would. Each handler appends `<name> <hook>` to the
//! stored list `log`; `x` defers update-status unless `PROBE_GATE=open`.

use charm::{Charm, Ctx, Error, Event, EventKind, Filter};
use std::process::ExitCode;

fn note(ctx: &mut Ctx, what: String) -> Result<(), Error> {
    let mut log: Vec<String> = ctx.stored("log")?.unwrap_or_default();
    log.push(what);
    ctx.store("log", &log)?;
    Ok(())
}

fn main() -> ExitCode {
    let x = |ctx: &mut Ctx, e: &Event| {
        note(ctx, format!("x {}", e.hook_name()))?;
        if std::env::var("PROBE_GATE").as_deref() != Ok("open") {
            ctx.defer()?;
        }
        Ok(())
    };
    let y = |ctx: &mut Ctx, e: &Event| note(ctx, format!("y {}", e.hook_name()));
    let mut charm = Charm::new();
    charm.metadata(r#"{"name": "probe"}"#);
    if std::env::var("PROBE_REVISION").as_deref() == Ok("A") {
        charm.on(EventKind::UpdateStatus, x).on(Filter::any(), y);
    } else {
        charm.on(Filter::any(), y).on(EventKind::UpdateStatus, x);
    }
    charm.run()
}
