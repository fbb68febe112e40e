//! `hello`: the sample charm of the framework.
//!
//! - The leader publishes the `greeting` config option in its app bag on every `greeting` relation.
//! - Through `listen`, the charm reads what the remote leader published and shows it in its status.
//! - Every unit opens the configured `port` and counts the hooks it has run (stored state).
//! - Action `greet name=<who>` returns `message`.
//!
//! The charm is written holistically: one `reconcile` converges everything, `collect_status`
//! reports, and one event handler serves the action.

use charm::{ActionEvent, Bag, Charm, Ctx, Error, Port, ResultExt, Status, StatusCollector};
use serde::Deserialize;

/// `metadata.yaml` as written, for tests and tools (the charm itself reads [`METADATA_JSON`]).
pub const METADATA: &str = include_str!("../metadata.yaml");
/// `metadata.yaml` as JSON, made by `build.rs` (`charm-build`): what the charm reads at every
/// start, with no YAML parser in the binary.
pub const METADATA_JSON: &str = include_str!(concat!(env!("OUT_DIR"), "/metadata.json"));
/// `config.yaml`.
pub const CONFIG: &str = include_str!("../config.yaml");

/// The charm's config.
#[derive(Debug, Deserialize)]
pub struct Config {
    /// What the leader says.
    pub greeting: String,
    /// The port to open.
    pub port: u16,
}

/// Parameters of the `greet` action.
#[derive(Debug, Deserialize)]
struct GreetParams {
    name: String,
}

fn reconcile(ctx: &mut Ctx) -> Result<(), Error> {
    let config: Config = ctx.config()?;
    if config.greeting.trim().is_empty() {
        return Err(Error::blocked("config greeting must not be empty"));
    }
    let hooks: u64 = ctx.stored("hooks")?.unwrap_or(0);
    ctx.store("hooks", &(hooks + 1))?;
    ctx.set_ports(&[Port::Tcp(config.port)])?;
    if ctx.is_leader()? {
        for rel in ctx.relations("greeting")? {
            ctx.set(&rel, &Bag::LocalApp, "greeting", &config.greeting)?;
        }
    }
    Ok(())
}

fn status(ctx: &mut Ctx, statuses: &mut StatusCollector) -> Result<(), Error> {
    let Some(rel) = ctx.relations("listen")?.into_iter().next() else {
        statuses.add_unit(Status::active("nobody to listen to"));
        return Ok(());
    };
    let heard = ctx.read(&rel, &Bag::RemoteApp)?;
    match (heard.get("greeting"), ctx.remote_app(&rel)?) {
        (Some(greeting), Some(app)) => {
            statuses.add_unit(Status::active(format!("heard {greeting:?} from {app}")))
        }
        _ => statuses.add_unit(Status::waiting("waiting for a greeting")),
    }
    Ok(())
}

fn greet(ctx: &mut Ctx, _action: &ActionEvent) -> Result<(), Error> {
    let params: GreetParams = ctx.action_params().or_fail("greet")?;
    let config: Config = ctx.config()?;
    ctx.action_log(&format!("greeting {}", params.name))?;
    ctx.action_set(
        &serde_json::json!({"message": format!("{}, {}!", config.greeting, params.name)}),
    )?;
    Ok(())
}

/// The charm: handlers registered on a dispatcher.
pub fn charm() -> Charm {
    let mut charm = Charm::new();
    charm
        .metadata(METADATA_JSON)
        .reconcile(reconcile)
        .collect_status(status)
        .action("greet", greet);
    charm
}
