//! `hello-storage`: the framework's sample of storage and network bindings.
//!
//! - Every instance of the `data` storage holds `greeting.txt` with the configured greeting,
//!   written when the instance is attached and whenever the greeting changes.
//! - A unit with fewer instances than `instances` asks Juju for the rest (`storage-add`);
//!   `instances` outside metadata's range (1-3) blocks the unit.
//! - The leader publishes `url` (`http://<ingress address of website>:<port>`) in its app bag on
//!   every `website` relation; the status names the `admin` binding's bind address.

use charm::network::Host;
use charm::storage::{StorageId, StorageInfo};
use charm::{Bag, Charm, Ctx, Error, Status, StatusCollector, StorageEvent};
use serde::Deserialize;

/// `metadata.yaml` as written, for tests.
pub const METADATA: &str = include_str!("../metadata.yaml");
/// `metadata.yaml` as JSON, made by `build.rs`.
pub const METADATA_JSON: &str = include_str!(concat!(env!("OUT_DIR"), "/metadata.json"));
/// `config.yaml`.
pub const CONFIG: &str = include_str!("../config.yaml");
/// The file each storage instance holds.
pub const GREETING_FILE: &str = "greeting.txt";
/// The most data instances metadata allows.
const MAX_INSTANCES: u32 = 3;

/// The charm's config.
#[derive(Debug, Deserialize)]
pub struct Config {
    /// Written to every storage instance.
    pub greeting: String,
    /// Wanted `data` instances per unit.
    pub instances: u32,
    /// Published with the website address.
    pub port: u16,
}

fn write_greeting(info: &StorageInfo, greeting: &str) -> Result<(), Error> {
    let path = info.location.join(GREETING_FILE);
    // A failed write may succeed on a retry (a disk not yet ready): fail the hook.
    std::fs::write(&path, greeting)
        .map_err(|e| Error::fail(format!("cannot write {}: {e}", path.display())))
}

fn attached(ctx: &mut Ctx, ev: &StorageEvent) -> Result<(), Error> {
    let config: Config = ctx.config()?;
    let id = StorageId::new(&ev.name, ev.index)
        .ok_or_else(|| Error::fail(format!("Juju named a storage {:?}", ev.name)))?;
    let info = ctx.storage(&id)?;
    write_greeting(&info, &config.greeting)
}

fn reconcile(ctx: &mut Ctx) -> Result<(), Error> {
    let config: Config = ctx.config()?;
    if !(1..=MAX_INSTANCES).contains(&config.instances) {
        return Err(Error::blocked(format!(
            "config instances must be 1 to {MAX_INSTANCES}, not {}",
            config.instances
        )));
    }
    let ids = ctx.storages("data")?;
    for id in &ids {
        let info = ctx.storage(id)?;
        write_greeting(&info, &config.greeting)?;
    }
    let have = u32::try_from(ids.len()).unwrap_or(u32::MAX);
    if have < config.instances {
        ctx.add_storage("data", config.instances - have)?;
    }
    if ctx.is_leader()? {
        for rel in ctx.relations("website")? {
            let net = ctx.network("website", Some(&rel))?;
            let url = match net.ingress_address() {
                Some(Host::Ip(std::net::IpAddr::V6(ip))) => {
                    format!("http://[{ip}]:{}", config.port)
                }
                Some(host) => format!("http://{host}:{}", config.port),
                None => continue,
            };
            ctx.set(&rel, &Bag::LocalApp, "url", &url)?;
        }
    }
    Ok(())
}

fn status(ctx: &mut Ctx, statuses: &mut StatusCollector) -> Result<(), Error> {
    let count = ctx.storages("data")?.len();
    let admin = ctx.network("admin", None)?;
    match admin.bind_address() {
        Some(addr) => statuses.add_unit(Status::active(format!(
            "{count} data instances; admin on {addr}"
        ))),
        None => statuses.add_unit(Status::waiting("no address on the admin binding yet")),
    }
    Ok(())
}

/// The charm: handlers registered on a dispatcher.
pub fn charm() -> Charm {
    let mut charm = Charm::new();
    charm
        .metadata(METADATA_JSON)
        .on(charm::EventKind::StorageAttached.on("data"), attached)
        .reconcile(reconcile)
        .collect_status(status);
    charm
}
