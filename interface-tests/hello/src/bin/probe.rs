//! `probe`: a charm for the local-model contract tests. On `update-status` it runs the steps in
//! its `do` config option, each against the first relation of endpoint `out` (or `in`), and sets
//! its status to `done` or to the first error. Steps:
//!
//! - `raw-set-app k=v`: `relation-set --app` straight through the hook tool (no framework check);
//! - `raw-get-app`: `relation-get --app` of its own app bag, straight through the hook tool;
//! - `set-unit k=v` / `set-app k=v`: through the framework's model;
//! - `secret-add label=value`: app-owned secret with key `value`, granted to the relation;
//! - `secret-read uri`: reads a secret (tracked revision) and sets status to its `value`;
//! - `fail`: fails the hook.

use charm::{
    Bag, Charm, Ctx, Error, Event, EventKind, NewSecret, SecretContent, SecretRead, Status,
};
use std::process::ExitCode;

fn relation(ctx: &mut Ctx) -> Result<charm::RelationId, Error> {
    let mut all = ctx.relations("out")?;
    all.extend(ctx.relations("in")?);
    all.into_iter()
        .next()
        .ok_or_else(|| Error::fail("no relation"))
}

fn kv(arg: &str) -> Result<(&str, &str), Error> {
    arg.split_once('=')
        .ok_or_else(|| Error::fail(format!("expected k=v, got {arg:?}")))
}

fn step(ctx: &mut Ctx, step: &str) -> Result<Option<String>, Error> {
    let (cmd, arg) = step.split_once(' ').unwrap_or((step, ""));
    match cmd {
        "raw-set-app" => {
            let rel = relation(ctx)?;
            let (k, v) = kv(arg)?;
            let data = [(k.to_string(), v.to_string())].into_iter().collect();
            ctx.tools().relation_set(&rel, true, &data)?;
        }
        "raw-get-app" => {
            let rel = relation(ctx)?;
            let app = ctx.app_name().to_string();
            ctx.tools().relation_get(&rel, &app, true)?;
        }
        "set-unit" | "set-app" => {
            let rel = relation(ctx)?;
            let (k, v) = kv(arg)?;
            let bag = if cmd == "set-app" {
                Bag::LocalApp
            } else {
                Bag::LocalUnit
            };
            ctx.set(&rel, &bag, k, v)?;
        }
        "secret-add" => {
            let rel = relation(ctx)?;
            let (label, value) = kv(arg)?;
            let id = ctx.add_secret(&NewSecret {
                content: SecretContent::new().with("value", value),
                label: Some(label.to_string()),
                ..Default::default()
            })?;
            ctx.grant_secret(&id, &rel, None)?;
            ctx.set(&rel, &Bag::LocalApp, "secret", &id.uri())?;
        }
        "secret-read" => {
            let id = charm::SecretId::parse(arg)?;
            let content = ctx.get_secret(Some(&id), None, SecretRead::Tracked)?;
            return Ok(content.get("value").map(str::to_string));
        }
        "fail" => return Err(Error::fail("asked to fail")),
        other => return Err(Error::fail(format!("unknown step {other:?}"))),
    }
    Ok(None)
}

fn run(ctx: &mut Ctx, _: &Event) -> Result<(), Error> {
    let steps: String = ctx
        .config_map()?
        .get("do")
        .and_then(|v| v.as_str())
        .unwrap_or("")
        .to_string();
    let mut shown = "done".to_string();
    for s in steps.split(';').map(str::trim).filter(|s| !s.is_empty()) {
        match step(ctx, s) {
            Ok(Some(value)) => shown = value,
            Ok(None) => {}
            Err(e) if e.outcome() == charm::Outcome::Fail && s == "fail" => return Err(e),
            Err(e) => {
                ctx.set_unit_status(Status::blocked(format!("{s}: {e}")))?;
                return Ok(());
            }
        }
    }
    ctx.set_unit_status(Status::active(shown))?;
    Ok(())
}

fn main() -> ExitCode {
    Charm::new()
        .metadata(include_str!(concat!(env!("OUT_DIR"), "/metadata.json")))
        .on(EventKind::UpdateStatus, run)
        .run()
}
