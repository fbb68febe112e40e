//! The `juju-local` binary: a hook tool when invoked under a hook-tool name, otherwise the
//! driver command line (`juju-local <command> ...`), hand-rolled on the gnuflag parser.

use std::io::Write;
use std::path::PathBuf;

use crate::error::{Error, Result};
use crate::flags::{self, Flag, Parsed};
use crate::model::Model;
use crate::options::{
    DEFAULT_HOOK_TIMEOUT, DeployOptions, HOOK_TIMEOUT_ENV, ModelOptions, parse_hook_timeout,
};
use crate::state::HookSpec;
use crate::tools::{TOOL_NAMES, main_tool};

/// The whole binary: `argv0` is the name it was invoked under, `args` the rest of the command
/// line. Prints what it has to say and returns the exit code.
pub fn main(argv0: &str, args: &[String]) -> i32 {
    let base = std::path::Path::new(argv0)
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    if TOOL_NAMES.contains(&base.as_str()) {
        return main_tool(&base, args);
    }
    if args.first().map(String::as_str) == Some("tool") {
        let Some(name) = args.get(1) else {
            eprintln!("ERROR tool needs a hook-tool name");
            return 2;
        };
        if !TOOL_NAMES.contains(&name.as_str()) {
            eprintln!("ERROR unknown hook tool {name:?}");
            return 2;
        }
        return main_tool(name, &args[2..]);
    }
    match run(args) {
        Ok(text) => {
            let _ = std::io::stdout().write_all(text.as_bytes());
            0
        }
        Err(e) => {
            eprintln!("ERROR {e}");
            if matches!(e, Error::Usage(_)) { 2 } else { 1 }
        }
    }
}

/// The usage text.
pub const USAGE: &str = "\
juju-local: a local stand-in for the Juju unit agent

Usage: juju-local [--model DIR] [--hook-timeout SECS] <command> [options]

Model directory: --model DIR, else $JUJU_LOCAL_MODEL, else ./.juju-local
Hook timeout: --hook-timeout SECS, else $JUJU_LOCAL_HOOK_TIMEOUT, else 60 (0: no limit); a charm
process running longer is killed (SIGKILL to its process group) and the hook fails

Commands:
  init [--name NAME]                          create a fresh model
  deploy <charm-dir> [<app>] [-n N] [--config k=v]... [--env K=V]...  # {unit} {app} {n} {model} in V
         [--storage name=count]... [--resource name=path]... [--trust]
  add-unit <app> [-n N]                       principal apps (subordinates follow relations)
  attach-resource <app> <name>=<path>         a file resource; units run upgrade-charm
  trust <app> [--remove]                      credential-get answers (or not)
  config <app> [k=v ...] [--reset key]...     set config (no args: print it)
  leader <app>/<n>                            move leadership
  relate <app>[:<endpoint>] <app>[:<endpoint>]  every charm also provides juju-info
  remove-relation <a> [<b>] | <id>
  remove-unit <app>/<n>
  remove-app <app>
  run <unit> <hook> [--relation ID] [--remote-unit U] [--departing-unit U]
                    [--secret URI] [--revision N] [--env K=V]... [--reveal]
  action <unit> <action> [k=v ...] [--format json]
  resolve <unit> [--no-retry]
  secret-rotate <uri>
  secret-expire <uri> [--revision N]
  add-secret <name> key=value...              a user secret (owned by the model); prints its URI
  update-secret <name|uri> key=value...       a new revision when the content differs
  grant-secret <name|uri> <app>               let the application's units read it
  revoke-secret <name|uri> <app>
  settle [--max-hooks N]                      run queued hooks until quiet (default 500)
  stop-container <unit> <container>           workload container down (until start-container)
  start-container <unit> <container>          up again: a new boot, <container>-pebble-ready
  stop-containers                             stop every Pebble daemon of the model
  status [--format json]
  show [--format json] [--reveal]
  timeline [--verbose] [--format json] [--reveal]  credentials print redacted unless --reveal
  metrics [--format json]
  scenario <file> [--story] [--format json]  --story: print the timeline as it runs (in --model DIR)
  tool <hook-tool> [args...]                  run a hook tool (inside a hook)
";

fn usage(msg: impl Into<String>) -> Error {
    Error::Usage(msg.into())
}

fn model_dir(global: Option<String>) -> PathBuf {
    global
        .or_else(|| std::env::var("JUJU_LOCAL_MODEL").ok())
        .map_or_else(|| PathBuf::from(".juju-local"), PathBuf::from)
}

/// Model options for this process: the running executable as the tool binary and the hook
/// timeout from `--hook-timeout`, else `$JUJU_LOCAL_HOOK_TIMEOUT`, else the default.
fn options(hook_timeout: Option<&str>) -> Result<ModelOptions> {
    let exe = std::env::current_exe()
        .map_err(|e| Error::io("cannot find own executable", "juju-local", e))?;
    let mut opts = ModelOptions::new(exe);
    // Workload containers keep running between CLI commands.
    opts.detach_containers = true;
    opts.hook_timeout = match hook_timeout {
        Some(v) => parse_hook_timeout(v).map_err(|e| usage(format!("--hook-timeout: {e}")))?,
        None => match std::env::var(HOOK_TIMEOUT_ENV) {
            Ok(v) => {
                parse_hook_timeout(&v).map_err(|e| usage(format!("${HOOK_TIMEOUT_ENV}: {e}")))?
            }
            Err(_) => Some(DEFAULT_HOOK_TIMEOUT),
        },
    };
    Ok(opts)
}

fn kv(s: &str) -> Result<(String, String)> {
    s.split_once('=')
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .ok_or_else(|| usage(format!("expected key=value, got {s:?}")))
}

/// `name=count` of `deploy --storage` (Juju's `--storage name=pool,size,count` is reduced to
/// the count: there are no pools or sizes here).
fn storage_arg(s: &str) -> Result<(String, u32)> {
    let (name, count) = kv(s)?;
    let count = count
        .parse::<u32>()
        .map_err(|_| usage(format!("storage {name:?}: expected a count, got {count:?}")))?;
    Ok((name, count))
}

fn parse(flags: &[Flag], args: &[String]) -> Result<Parsed> {
    flags::parse(flags, args).map_err(usage)
}

fn json_out(p: &Parsed) -> Result<bool> {
    match p.get("format") {
        None | Some("text") | Some("tabular") => Ok(false),
        Some("json") => Ok(true),
        Some(f) => Err(usage(format!("unknown format {f:?}"))),
    }
}

fn pretty(v: &impl serde::Serialize) -> String {
    serde_json::to_string_pretty(v).unwrap_or_default() + "\n"
}

/// Runs the driver with `args` (without the program name): the text to print, or the error.
fn run(args: &[String]) -> Result<String> {
    let mut global_model = None;
    let mut hook_timeout: Option<String> = None;
    let mut rest = Vec::new();
    let mut i = 0;
    while i < args.len() {
        let a = &args[i];
        if a == "--hook-timeout" {
            hook_timeout = Some(
                args.get(i + 1)
                    .cloned()
                    .ok_or_else(|| usage("--hook-timeout needs a number of seconds"))?,
            );
            i += 2;
            continue;
        }
        if let Some(v) = a.strip_prefix("--hook-timeout=") {
            hook_timeout = Some(v.to_string());
            i += 1;
            continue;
        }
        if a == "--model" || a == "-m" {
            global_model = Some(
                args.get(i + 1)
                    .cloned()
                    .ok_or_else(|| usage("--model needs a directory"))?,
            );
            i += 2;
            continue;
        }
        if let Some(v) = a.strip_prefix("--model=") {
            global_model = Some(v.to_string());
            i += 1;
            continue;
        }
        rest.push(a.clone());
        i += 1;
    }
    let Some(cmd) = rest.first().cloned() else {
        return Ok(USAGE.to_string());
    };
    let args = &rest[1..];
    let explicit_model = global_model.is_some() || std::env::var_os("JUJU_LOCAL_MODEL").is_some();
    let dir = model_dir(global_model);
    let open = || Model::open(&dir, options(hook_timeout.as_deref())?);
    match cmd.as_str() {
        "help" | "--help" | "-h" => Ok(USAGE.to_string()),
        "init" => {
            let p = parse(&[Flag::value("name", &[])], args)?;
            let mut opts = options(hook_timeout.as_deref())?;
            if let Some(n) = p.get("name") {
                opts.name = n.to_string();
            }
            let m = Model::init(&dir, opts)?;
            Ok(format!("initialised model in {}\n", m.dir().display()))
        }
        "deploy" => {
            let p = parse(
                &[
                    Flag::value("num-units", &["n"]),
                    Flag::value("config", &[]),
                    Flag::value("env", &[]),
                    Flag::value("storage", &[]),
                    Flag::value("resource", &[]),
                    Flag::boolean("trust", &[]),
                ],
                args,
            )?;
            let resources = p
                .values
                .get("resource")
                .map(|v| {
                    v.iter()
                        .map(|s| kv(s).map(|(k, v)| (k, PathBuf::from(v))))
                        .collect::<Result<Vec<_>>>()
                })
                .transpose()?
                .unwrap_or_default();
            let storage = p
                .values
                .get("storage")
                .map(|v| v.iter().map(|s| storage_arg(s)).collect::<Result<Vec<_>>>())
                .transpose()?
                .unwrap_or_default();
            let env = p
                .values
                .get("env")
                .map(|v| v.iter().map(|s| kv(s)).collect::<Result<Vec<_>>>())
                .transpose()?
                .unwrap_or_default();
            let charm = p
                .positional
                .first()
                .ok_or_else(|| usage("deploy needs a charm directory"))?;
            let units = p
                .get("num-units")
                .map(|n| {
                    n.parse::<u32>()
                        .map_err(|_| usage(format!("invalid unit count {n:?}")))
                })
                .transpose()?;
            let config = p
                .values
                .get("config")
                .map(|v| v.iter().map(|s| kv(s)).collect::<Result<Vec<_>>>())
                .transpose()?
                .unwrap_or_default();
            let name = open()?.deploy(
                &PathBuf::from(charm),
                DeployOptions {
                    app: p.positional.get(1).cloned(),
                    units,
                    config,
                    env,
                    storage,
                    resources,
                    trust: p.flag("trust"),
                },
            )?;
            Ok(format!("deployed {name}\n"))
        }
        "trust" => {
            let p = parse(&[Flag::boolean("remove", &[])], args)?;
            let app = p
                .positional
                .first()
                .ok_or_else(|| usage("trust needs an application"))?;
            open()?.trust(app, !p.flag("remove"))?;
            Ok(format!("trust of {app}: {}\n", !p.flag("remove")))
        }
        "attach-resource" => {
            let p = parse(&[], args)?;
            let (app, spec) = match p.positional.as_slice() {
                [app, spec] => (app, spec),
                _ => return Err(usage("attach-resource needs <app> <name>=<path>")),
            };
            let (name, path) = kv(spec)?;
            open()?.attach_resource(app, &name, &PathBuf::from(path))?;
            Ok(format!("attached resource {name} to {app}\n"))
        }
        "add-unit" => {
            let p = parse(&[Flag::value("num-units", &["n"])], args)?;
            let app = p
                .positional
                .first()
                .ok_or_else(|| usage("add-unit needs an application"))?;
            let n = p
                .get("num-units")
                .map_or(Ok(1), |n| n.parse::<u32>().map_err(|_| usage("invalid -n")))?;
            let units = open()?.add_unit(app, n)?;
            Ok(format!("added {}\n", units.join(", ")))
        }
        "config" => {
            let p = parse(&[Flag::value("reset", &[])], args)?;
            let app = p
                .positional
                .first()
                .ok_or_else(|| usage("config needs an application"))?;
            let values = p.positional[1..]
                .iter()
                .map(|s| kv(s))
                .collect::<Result<Vec<_>>>()?;
            let reset = p.values.get("reset").cloned().unwrap_or_default();
            let m = open()?;
            if values.is_empty() && reset.is_empty() {
                let st = m.state()?;
                let a = st
                    .applications
                    .get(app)
                    .ok_or_else(|| Error::not_found("application", app))?;
                return Ok(pretty(&a.effective_config()));
            }
            m.config(app, &values, &reset)?;
            Ok(String::new())
        }
        "leader" => {
            let unit = args.first().ok_or_else(|| usage("leader needs a unit"))?;
            open()?.set_leader(unit)?;
            Ok(String::new())
        }
        "relate" | "integrate" => {
            let (a, b) = match args {
                [a, b] => (a, b),
                _ => return Err(usage("relate needs two endpoints")),
            };
            let id = open()?.relate(a, b)?;
            Ok(format!("relation {id} added\n"))
        }
        "remove-relation" => {
            let a = args
                .first()
                .ok_or_else(|| usage("remove-relation needs endpoints or an id"))?;
            let id = open()?.remove_relation(a, args.get(1).map(String::as_str))?;
            Ok(format!("relation {id} dying\n"))
        }
        "remove-unit" => {
            let u = args
                .first()
                .ok_or_else(|| usage("remove-unit needs a unit"))?;
            open()?.remove_unit(u)?;
            Ok(String::new())
        }
        "remove-app" | "remove-application" => {
            let a = args
                .first()
                .ok_or_else(|| usage("remove-app needs an application"))?;
            open()?.remove_app(a)?;
            Ok(String::new())
        }
        "run" => {
            let p = parse(
                &[
                    Flag::value("relation", &["r"]),
                    Flag::value("remote-unit", &[]),
                    Flag::value("remote-app", &[]),
                    Flag::value("departing-unit", &[]),
                    Flag::value("secret", &[]),
                    Flag::value("revision", &[]),
                    Flag::value("env", &[]),
                    Flag::value("format", &[]),
                    Flag::boolean("reveal", &[]),
                ],
                args,
            )?;
            let (unit, hook) = match p.positional.as_slice() {
                [u, h] => (u, h),
                _ => return Err(usage("run needs a unit and a hook name")),
            };
            let mut spec = HookSpec::simple(hook);
            spec.relation = p
                .get("relation")
                .map(|r| {
                    r.rsplit(':')
                        .next()
                        .unwrap_or(r)
                        .parse::<u64>()
                        .map_err(|_| usage("invalid --relation"))
                })
                .transpose()?;
            spec.remote_unit = p.get("remote-unit").map(str::to_string);
            spec.remote_app = p.get("remote-app").map(str::to_string);
            spec.departing_unit = p.get("departing-unit").map(str::to_string);
            spec.secret = p.get("secret").map(str::to_string);
            spec.secret_revision = p
                .get("revision")
                .map(|r| r.parse::<u32>().map_err(|_| usage("invalid --revision")))
                .transpose()?;
            for e in p.values.get("env").cloned().unwrap_or_default() {
                let (k, v) = kv(&e)?;
                spec.env.insert(k, v);
            }
            let model = open()?;
            let rec = model.run_hook(unit, spec)?;
            let redaction = model.redaction(p.flag("reveal"))?;
            if json_out(&p)? {
                return Ok(pretty(&redaction.record(&rec)));
            }
            Ok(crate::story::render_story(
                std::slice::from_ref(&rec),
                true,
                &redaction,
            ))
        }
        "action" | "run-action" => {
            let p = parse(&[Flag::value("format", &[])], args)?;
            let (unit, action) = match p.positional.as_slice() {
                [u, a, ..] => (u, a),
                _ => return Err(usage("action needs a unit and an action name")),
            };
            let params = p.positional[2..]
                .iter()
                .map(|s| kv(s))
                .collect::<Result<Vec<_>>>()?;
            let out = open()?.run_action(unit, action, &params)?;
            if json_out(&p)? {
                return Ok(pretty(&out));
            }
            let mut text = format!("{}: {}", out.action, out.status);
            if !out.message.is_empty() {
                text.push_str(&format!(" ({})", out.message));
            }
            text.push('\n');
            for l in &out.logs {
                text.push_str(&format!("log: {l}\n"));
            }
            text.push_str(&crate::yaml::to_string(&out.results).unwrap_or_default());
            Ok(text)
        }
        "resolve" | "resolved" => {
            let p = parse(&[Flag::boolean("no-retry", &[])], args)?;
            let unit = p
                .positional
                .first()
                .ok_or_else(|| usage("resolve needs a unit"))?;
            open()?.resolve(unit, !p.flag("no-retry"))?;
            Ok(String::new())
        }
        "add-secret" | "update-secret" => {
            let name = args
                .first()
                .ok_or_else(|| usage(format!("{cmd} needs a secret name")))?;
            let content = args[1..]
                .iter()
                .map(|s| kv(s))
                .collect::<Result<Vec<_>>>()?;
            let m = open()?;
            if cmd == "add-secret" {
                Ok(format!("{}\n", m.add_secret(name, &content)?))
            } else {
                Ok(format!("revision {}\n", m.update_secret(name, &content)?))
            }
        }
        "grant-secret" | "revoke-secret" => {
            let (Some(secret), Some(app), None) = (args.first(), args.get(1), args.get(2)) else {
                return Err(usage(format!("{cmd} needs a secret and an application")));
            };
            let m = open()?;
            if cmd == "grant-secret" {
                m.grant_secret(secret, app)?;
            } else {
                m.revoke_secret(secret, app)?;
            }
            Ok(String::new())
        }
        "secret-rotate" => {
            let uri = args
                .first()
                .ok_or_else(|| usage("secret-rotate needs a secret URI"))?;
            let unit = open()?.secret_rotate(uri)?;
            Ok(format!("secret-rotate queued for {unit}\n"))
        }
        "secret-expire" => {
            let p = parse(&[Flag::value("revision", &[])], args)?;
            let uri = p
                .positional
                .first()
                .ok_or_else(|| usage("secret-expire needs a secret URI"))?;
            let rev = p
                .get("revision")
                .map(|r| r.parse::<u32>().map_err(|_| usage("invalid --revision")))
                .transpose()?;
            let unit = open()?.secret_expire(uri, rev)?;
            Ok(format!("secret-expired queued for {unit}\n"))
        }
        "stop-container" | "start-container" => {
            let p = parse(&[], args)?;
            let [unit, container] = p.positional.as_slice() else {
                return Err(usage(format!("{cmd} needs <unit> <container>")));
            };
            let m = open()?;
            if cmd == "stop-container" {
                m.stop_container(unit, container)?;
                Ok(format!("container {container} of {unit} stopped\n"))
            } else {
                m.start_container(unit, container)?;
                Ok(format!("container {container} of {unit} started\n"))
            }
        }
        "stop-containers" => {
            parse(&[], args)?;
            open()?.stop_containers()?;
            Ok(String::new())
        }
        "settle" => {
            let p = parse(&[Flag::value("max-hooks", &[])], args)?;
            let max = p
                .get("max-hooks")
                .map(|n| n.parse::<usize>().map_err(|_| usage("invalid --max-hooks")))
                .transpose()?
                .unwrap_or(500);
            let report = open()?.settle(max)?;
            let mut text = format!("settled after {} hooks\n", report.hooks_run);
            for (u, e) in &report.errors {
                text.push_str(&format!("unit {u} in error: {e}\n"));
            }
            Ok(text)
        }
        "status" => {
            let p = parse(&[Flag::value("format", &[])], args)?;
            let m = open()?;
            if json_out(&p)? {
                return Ok(pretty(&m.show_json(false)?));
            }
            m.status_text()
        }
        "show" => {
            let p = parse(
                &[Flag::value("format", &[]), Flag::boolean("reveal", &[])],
                args,
            )?;
            let v = open()?.show_json(p.flag("reveal"))?;
            if json_out(&p)? {
                return Ok(pretty(&v));
            }
            Ok(crate::yaml::to_string(&v).unwrap_or_default())
        }
        "timeline" => {
            let p = parse(
                &[
                    Flag::value("format", &[]),
                    Flag::boolean("verbose", &["v"]),
                    Flag::boolean("reveal", &[]),
                ],
                args,
            )?;
            let model = open()?;
            let records = model.timeline()?;
            let redaction = model.redaction(p.flag("reveal"))?;
            if json_out(&p)? {
                let shown: Vec<_> = records.iter().map(|r| redaction.record(r)).collect();
                return Ok(pretty(&shown));
            }
            Ok(crate::story::render_story(
                &records,
                p.flag("verbose"),
                &redaction,
            ))
        }
        "metrics" => {
            let p = parse(&[Flag::value("format", &[])], args)?;
            let records = open()?.timeline()?;
            if json_out(&p)? {
                return Ok(pretty(&crate::story::metrics_json(&records)));
            }
            Ok(crate::story::render_metrics(&records))
        }
        "scenario" => {
            let p = parse(
                &[Flag::value("format", &[]), Flag::boolean("story", &[])],
                args,
            )?;
            let file = p
                .positional
                .first()
                .ok_or_else(|| usage("scenario needs a file"))?;
            let res = if p.flag("story") {
                // The story goes to stdout as it happens, in the model directory given.
                let mut stdout = std::io::stdout();
                crate::scenario::run_file_story(
                    file,
                    options(hook_timeout.as_deref())?,
                    &dir,
                    &mut stdout,
                )?
            } else {
                // In the model directory given (--model or JUJU_LOCAL_MODEL), else a fresh temp dir.
                let target = explicit_model.then_some(dir.as_path());
                crate::scenario::run_file_with(file, options(hook_timeout.as_deref())?, target)?
            };
            if json_out(&p)? {
                return Ok(pretty(&res));
            }
            let mut text = String::new();
            for s in &res.steps {
                text.push_str(&format!(
                    "step {:<3} {:<16} {}{}\n",
                    s.index,
                    s.kind,
                    if s.ok { "ok" } else { "FAILED" },
                    s.message
                        .as_ref()
                        .map(|m| format!(": {m}"))
                        .unwrap_or_default()
                ));
            }
            text.push_str(&format!(
                "scenario {:?}: {} ({} hooks; model kept in {})\n",
                res.name,
                if res.passed { "passed" } else { "FAILED" },
                res.hooks_run,
                res.model_dir.display()
            ));
            if !res.passed {
                return Err(Error::Scenario {
                    file: file.clone(),
                    step: res.steps.iter().find(|s| !s.ok).map_or(0, |s| s.index),
                    message: format!("\n{text}"),
                });
            }
            Ok(text)
        }
        other => Err(usage(format!("unknown command {other:?}\n\n{USAGE}"))),
    }
}
