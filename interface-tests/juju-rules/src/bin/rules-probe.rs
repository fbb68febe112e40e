//! `rules-probe`: the charm of the Juju rules table in a local model (see the crate docs). In any
//! dispatch that finds a request in its charm directory it runs it, straight through the hook
//! tools, and reports each step's outcome on stdout.

use std::process::ExitCode;

use charm::{Charm, Ctx, Error, Event, Filter};
use juju_rules::probe::{CASE_FILE, Request, STEP_EVENT, handle};

fn run(ctx: &mut Ctx, _: &Event) -> Result<(), Error> {
    let path = ctx.env().charm_dir.join(CASE_FILE);
    let Ok(text) = std::fs::read_to_string(&path) else {
        return Ok(());
    };
    let _ = std::fs::remove_file(&path);
    let request: Request = serde_json::from_str(&text)
        .map_err(|e| Error::fail(format!("bad request in {CASE_FILE}: {e}")))?;
    let outcomes = handle(ctx.tools(), &request).map_err(Error::fail)?;
    for outcome in outcomes {
        let line = serde_json::json!({"event": STEP_EVENT, "fields": outcome});
        println!("CHARM_EVENT {line}");
    }
    Ok(())
}

fn main() -> ExitCode {
    Charm::new()
        .metadata(juju_rules::PROBE_METADATA_JSON)
        .on(Filter::any(), run)
        .run()
}
