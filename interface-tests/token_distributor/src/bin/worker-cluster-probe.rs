//! `worker-cluster-probe`: a charm for the local-model tests that plays a misbehaving peer on the
//! `worker-cluster` interface. At every state-changing hook it writes the keys of its config
//! `unit-data` (a JSON object of strings; `{n}` in a value is the unit number) to its own bag and,
//! on the leader, those of `app-data` to the application bag, on every relation of both of its
//! endpoints (`microcluster-cluster`, to stand in for a distributor, and `cluster`, for a
//! consumer). An empty value deletes the key. Its metadata is in `probe/`.

use charm::{Bag, Charm, Ctx, Error, Status, StatusCollector};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::process::ExitCode;

/// The endpoints it publishes on.
const ENDPOINTS: [&str; 2] = ["microcluster-cluster", "cluster"];

#[derive(Deserialize)]
#[serde(rename_all = "kebab-case")]
struct Config {
    unit_data: String,
    app_data: String,
}

/// Parses an option as a JSON object of strings, with `{n}` replaced in the values.
fn keys(option: &str, text: &str, n: &str) -> Result<BTreeMap<String, String>, Error> {
    let map: BTreeMap<String, String> = serde_json::from_str(text)
        .map_err(|e| Error::blocked(format!("{option} is not a JSON object of strings: {e}")))?;
    Ok(map
        .into_iter()
        .map(|(k, v)| (k, v.replace("{n}", n)))
        .collect())
}

fn publish(ctx: &mut Ctx) -> Result<(), Error> {
    let config: Config = ctx.config()?;
    let n = ctx
        .unit_name()
        .rsplit_once('/')
        .map_or("0", |(_, n)| n)
        .to_string();
    let unit = keys("unit-data", &config.unit_data, &n)?;
    let app = keys("app-data", &config.app_data, &n)?;
    for endpoint in ENDPOINTS {
        for relation in ctx.relations(endpoint)? {
            ctx.update(&relation, &Bag::LocalUnit, &unit)?;
            if !app.is_empty() && ctx.is_leader()? {
                ctx.update(&relation, &Bag::LocalApp, &app)?;
            }
        }
    }
    Ok(())
}

fn main() -> ExitCode {
    Charm::new()
        .reconcile(publish)
        .collect_status(|_: &mut Ctx, s: &mut StatusCollector| {
            s.add_unit(Status::active("probe"));
            Ok(())
        })
        .run()
}
