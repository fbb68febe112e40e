//! The hook tools: `relation-get`, `secret-add`, `status-set`, ... run as the `juju-local` binary under
//! the tool's name. Each invocation reads the committed model, the hook context and this hook's journal,
//! answers reads from the committed state overlaid with the hook's pending writes, and appends the
//! writes it accepts to the journal. Exit codes and `ERROR ...` texts follow Juju's `cmd.Main`:
//! 2 for flag and argument errors, 1 for failures while running.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::Instant;

use serde_json::{Map, Value, json};

use crate::commit::{self, Mode, consumer_label_taken, owner_label_taken, rotate_period};
use crate::context::{CONTEXT_ENV, HookContext, Op, ToolRecord, read_journal};
use crate::flags::{self, Flag, Parsed};
use crate::format;
use crate::state::{
    ModelState, OpenPort, Relation, Secret, SecretGrant, SecretOwner, Status, parse_secret_ref,
};
use crate::util::{b64_decode, b64_encode, now_secs, rfc3339};

/// Every hook tool juju-local provides.
pub const TOOL_NAMES: &[&str] = &[
    "action-fail",
    "action-get",
    "action-log",
    "action-set",
    "application-version-set",
    "close-port",
    "config-get",
    "credential-get",
    "goal-state",
    "is-leader",
    "juju-log",
    "leader-get",
    "leader-set",
    "network-get",
    "open-port",
    "opened-ports",
    "relation-get",
    "relation-ids",
    "relation-list",
    "relation-model-get",
    "relation-set",
    "secret-add",
    "secret-get",
    "secret-grant",
    "secret-ids",
    "secret-info-get",
    "secret-remove",
    "secret-revoke",
    "secret-set",
    "state-delete",
    "state-get",
    "state-set",
    "status-get",
    "status-set",
    "unit-get",
];

/// What a tool printed and asked for.
#[derive(Debug, Default)]
struct Out {
    stdout: String,
    stderr: String,
    ops: Vec<Op>,
}

/// A tool failure: exit code and message (printed as `ERROR <msg>`).
#[derive(Debug)]
struct Fail {
    code: i32,
    msg: String,
}

type R = Result<Out, Fail>;

fn init_err(msg: impl Into<String>) -> Fail {
    Fail {
        code: 2,
        msg: msg.into(),
    }
}

fn run_err(msg: impl Into<String>) -> Fail {
    Fail {
        code: 1,
        msg: msg.into(),
    }
}

fn out(stdout: String) -> R {
    Ok(Out {
        stdout,
        ..Out::default()
    })
}

fn ops(ops: Vec<Op>) -> R {
    Ok(Out {
        ops,
        ..Out::default()
    })
}

fn go_quote_list(args: &[String]) -> String {
    let parts: Vec<String> = args.iter().map(|a| format!("{a:?}")).collect();
    format!("[{}]", parts.join(" "))
}

fn check_empty(args: &[String]) -> Result<(), Fail> {
    if args.is_empty() {
        Ok(())
    } else {
        Err(init_err(format!(
            "unrecognized args: {}",
            go_quote_list(args)
        )))
    }
}

const FORMAT: Flag = Flag::value("format", &[]);
const OUTPUT: Flag = Flag::value("output", &["o"]);
const RELATION: Flag = Flag::value("relation", &["r"]);

/// A tool invocation with everything loaded.
struct Call<'a> {
    name: &'a str,
    args: &'a [String],
    ctx: HookContext,
    state: ModelState,
    view: ModelState,
    cwd: PathBuf,
    stdin: &'a mut dyn Read,
}

impl Call<'_> {
    fn parse(&self, flags: &[Flag]) -> Result<Parsed, Fail> {
        flags::parse(flags, self.args).map_err(init_err)
    }

    /// Validates `--format` against the allowed formatters; returns the chosen one.
    fn format(&self, p: &Parsed, default: &str, allowed: &[&str]) -> Result<String, Fail> {
        let f = p.get("format").unwrap_or(default);
        if allowed.contains(&f) {
            Ok(f.to_string())
        } else {
            Err(init_err(format!(
                "invalid value {f:?} for option --format: unknown format {f:?}"
            )))
        }
    }

    /// Renders a value, honouring `-o/--output`.
    fn emit(&self, p: &Parsed, fmt: &str, value: &Value, ordered: bool) -> R {
        let text = if ordered {
            format::render_ordered(fmt, value)
        } else {
            format::render(fmt, value)
        };
        if let Some(path) = p.get("output") {
            let path = self.cwd.join(path);
            std::fs::write(&path, text.as_bytes())
                .map_err(|e| run_err(format!("cannot write {}: {e}", path.display())))?;
            return out(String::new());
        }
        out(text)
    }

    fn read_file_arg(&mut self, path: &str) -> Result<Vec<u8>, Fail> {
        if path == "-" {
            let mut buf = Vec::new();
            self.stdin
                .read_to_end(&mut buf)
                .map_err(|e| run_err(format!("cannot read stdin: {e}")))?;
            return Ok(buf);
        }
        let full = self.cwd.join(path);
        std::fs::read(&full).map_err(|e| run_err(format!("open {}: {e}", full.display())))
    }

    /// The relation id from `-r` (validated against the hook's relations) or the hook's own relation.
    fn relation_id(&self, p: &Parsed) -> Result<Option<u64>, Fail> {
        let Some(raw) = p.get("relation") else {
            return Ok(self.ctx.hook.relation);
        };
        let flag = if self.args.iter().any(|a| a.starts_with("--relation")) {
            "--relation"
        } else {
            "-r"
        };
        let trimmed = raw.rsplit(':').next().unwrap_or(raw);
        let id: u64 = trimmed.parse().map_err(|_| {
            init_err(format!(
                "invalid value {raw:?} for option {flag}: invalid relation id"
            ))
        })?;
        if !self.ctx.relations.contains_key(&id) {
            return Err(init_err(format!(
                "invalid value {raw:?} for option {flag}: relation not found"
            )));
        }
        Ok(Some(id))
    }

    fn need_relation(&self, p: &Parsed) -> Result<u64, Fail> {
        self.relation_id(p)?
            .ok_or_else(|| init_err("no relation id specified"))
    }

    fn relation(&self, id: u64) -> Result<&Relation, Fail> {
        self.view
            .relations
            .get(&id)
            .or_else(|| self.state.relations.get(&id))
            .ok_or_else(|| run_err("relation not found"))
    }

    fn require_action(&self) -> Result<(), Fail> {
        if self.ctx.is_action() {
            Ok(())
        } else {
            Err(run_err("not running an action"))
        }
    }

    fn address(&self) -> String {
        self.state.unit_address(&self.ctx.unit)
    }
}

/// The fake address of unit `n` of the application with deployment index `idx`.
pub fn unit_address(idx: u32, n: u32) -> String {
    format!("10.1.{}.{}", idx % 256, (n + 10) % 256)
}

/// Parses `key=value` arguments the way Juju's `keyvalues.Parse(args, true)` does.
fn parse_key_values(args: &[String]) -> Result<BTreeMap<String, String>, Fail> {
    let mut m = BTreeMap::new();
    for a in args {
        let Some((k, v)) = a.split_once('=') else {
            return Err(init_err(format!("expected \"key=value\", got {a:?}")));
        };
        if k.is_empty() {
            return Err(init_err(format!("expected \"key=value\", got {a:?}")));
        }
        if m.insert(k.to_string(), v.to_string()).is_some() {
            return Err(init_err(format!("key {k:?} specified more than once")));
        }
    }
    Ok(m)
}

/// Parses a YAML (or JSON) map of settings, stringifying scalars as Go's yaml.v2 does for map[string]string.
fn parse_settings_doc(bytes: &[u8]) -> Result<BTreeMap<String, String>, Fail> {
    let text = String::from_utf8_lossy(bytes);
    if text.trim().is_empty() {
        return Ok(BTreeMap::new());
    }
    let doc: Value =
        charm_yaml::from_str(&text).map_err(|e| run_err(format!("cannot parse settings: {e}")))?;
    let Value::Object(map) = doc else {
        if doc.is_null() {
            return Ok(BTreeMap::new());
        }
        return Err(run_err(
            "cannot parse settings: yaml: unmarshal errors: expected a map of string to string",
        ));
    };
    let mut out = BTreeMap::new();
    for (k, v) in map {
        let s = match v {
            Value::String(s) => s,
            Value::Null => String::new(),
            Value::Bool(b) => b.to_string(),
            Value::Number(n) => n.to_string(),
            _ => {
                return Err(run_err(format!(
                    "cannot parse settings: value of {k:?} is not a string"
                )));
            }
        };
        out.insert(k, s);
    }
    Ok(out)
}

/// Runs hook tool `name` with `args` (argv without the program name), as a process would.
/// Returns the exit code after printing to stdout/stderr and recording the call in the journal.
pub fn main_tool(name: &str, args: &[String]) -> i32 {
    let started = Instant::now();
    let mut stdin = std::io::stdin();
    let (code, stdout, stderr, record_ops, journal) = match prepare(name, args, &mut stdin) {
        Err(msg) => (1, String::new(), format!("ERROR {msg}\n"), Vec::new(), None),
        Ok((result, journal)) => match result {
            Ok(o) => (0, o.stdout, o.stderr, o.ops, Some(journal)),
            Err(f) => (
                f.code,
                String::new(),
                format!("ERROR {}\n", f.msg),
                Vec::new(),
                Some(journal),
            ),
        },
    };
    use std::io::Write;
    let _ = std::io::stdout().write_all(stdout.as_bytes());
    let _ = std::io::stdout().flush();
    let _ = std::io::stderr().write_all(stderr.as_bytes());
    if let Some(journal) = journal {
        let record = ToolRecord {
            tool: name.to_string(),
            args: redact(name, args),
            exit: code,
            micros: u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX),
            ops: record_ops,
        };
        let line = serde_json::to_string(&record).unwrap_or_default();
        if let Err(e) = crate::util::append_line(&journal, &line) {
            let _ = writeln!(std::io::stderr(), "ERROR cannot record {name}: {e}");
            return 1;
        }
    }
    code
}

fn redact(name: &str, args: &[String]) -> Vec<String> {
    if !matches!(name, "secret-add" | "secret-set") {
        return args.to_vec();
    }
    args.iter()
        .map(|a| match a.split_once('=') {
            Some((k, _)) if !a.starts_with('-') && !k.ends_with("#file") => {
                format!("{k}=<redacted>")
            }
            _ => a.clone(),
        })
        .collect()
}

type Prepared = (R, PathBuf);

fn prepare(name: &str, args: &[String], stdin: &mut dyn Read) -> Result<Prepared, String> {
    let ctx_path = std::env::var_os(CONTEXT_ENV).ok_or_else(|| {
        format!("{CONTEXT_ENV} is not set: {name} only works inside a hook run by juju-local")
    })?;
    let ctx = HookContext::load(Path::new(&ctx_path)).map_err(|e| e.to_string())?;
    let state = ModelState::load(&ctx.model_dir).map_err(|e| e.to_string())?;
    let journal = read_journal(&ctx.journal).map_err(|e| e.to_string())?;
    if state.unit(&ctx.unit).is_none() {
        return Err(format!("unit {:?} not found in the model", ctx.unit));
    }
    let mut view = state.clone();
    let all: Vec<&Op> = journal.iter().flat_map(|r| r.ops.iter()).collect();
    let _ = commit::apply(&mut view, &ctx, &all, Mode::Overlay);
    let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
    let journal_path = ctx.journal.clone();
    let mut call = Call {
        name,
        args,
        ctx,
        state,
        view,
        cwd,
        stdin,
    };
    Ok((dispatch(&mut call), journal_path))
}

fn dispatch(c: &mut Call) -> R {
    let help = c
        .args
        .iter()
        .take_while(|a| *a != "--")
        .any(|a| a == "--help" || a == "-h");
    if help {
        return out(format!(
            "Usage: {} [options]\n(juju-local hook tool)\n",
            c.name
        ));
    }
    match c.name {
        "relation-ids" => relation_ids(c),
        "relation-list" => relation_list(c),
        "relation-get" => relation_get(c),
        "relation-set" => relation_set(c),
        "relation-model-get" => relation_model_get(c),
        "config-get" => config_get(c),
        "is-leader" => is_leader(c),
        "status-get" => status_get(c),
        "status-set" => status_set(c),
        "application-version-set" => application_version_set(c),
        "juju-log" => juju_log(c),
        "state-get" => state_get(c),
        "state-set" => state_set(c),
        "state-delete" => state_delete(c),
        "leader-get" => leader_get(c),
        "leader-set" => leader_set(c),
        "action-get" => action_get(c),
        "action-set" => action_set(c),
        "action-fail" => action_fail(c),
        "action-log" => action_log(c),
        "open-port" => port(c, true),
        "close-port" => port(c, false),
        "opened-ports" => opened_ports(c),
        "network-get" => network_get(c),
        "unit-get" => unit_get(c),
        "goal-state" => goal_state(c),
        "credential-get" => Err(run_err(
            "cannot access cloud credentials: permission denied",
        )),
        "secret-add" => secret_add(c),
        "secret-set" => secret_set(c),
        "secret-get" => secret_get(c),
        "secret-info-get" => secret_info_get(c),
        "secret-ids" => secret_ids(c),
        "secret-grant" => secret_grant(c),
        "secret-revoke" => secret_revoke(c),
        "secret-remove" => secret_remove(c),
        other => Err(run_err(format!("unknown hook tool {other:?}"))),
    }
}

// ---------------------------------------------------------------- relations

fn relation_ids(c: &mut Call) -> R {
    let p = c.parse(&[FORMAT, OUTPUT])?;
    let fmt = c.format(&p, "smart", &["smart", "yaml", "json"])?;
    let mut args = p.positional.clone();
    let endpoint = if args.is_empty() {
        match c.ctx.hook.relation.and_then(|id| c.ctx.relations.get(&id)) {
            Some(v) => v.endpoint.clone(),
            None => return Err(init_err("no endpoint name specified")),
        }
    } else {
        args.remove(0)
    };
    check_empty(&args)?;
    let ids: Vec<Value> = c
        .ctx
        .relations
        .iter()
        .filter(|(_, v)| v.endpoint == endpoint && !v.broken)
        .map(|(id, v)| Value::String(format!("{}:{id}", v.endpoint)))
        .collect();
    c.emit(&p, &fmt, &Value::Array(ids), false)
}

fn relation_list(c: &mut Call) -> R {
    let p = c.parse(&[FORMAT, OUTPUT, RELATION, Flag::boolean("app", &[])])?;
    let fmt = c.format(&p, "smart", &["smart", "yaml", "json"])?;
    let id = c.need_relation(&p)?;
    check_empty(&p.positional)?;
    let Some(view) = c.ctx.relations.get(&id) else {
        return Err(run_err("relation not found"));
    };
    if p.flag("app") {
        let app = view.remote_app.clone();
        return c.emit(&p, &fmt, &Value::String(app), false);
    }
    let members: Vec<Value> = view
        .members
        .iter()
        .map(|m| Value::String(m.clone()))
        .collect();
    c.emit(&p, &fmt, &Value::Array(members), false)
}

fn bag_value(map: &BTreeMap<String, String>, key: Option<&str>) -> Value {
    match key {
        Some(k) => map.get(k).map_or(Value::Null, |v| Value::String(v.clone())),
        None => Value::Object(
            map.iter()
                .map(|(k, v)| (k.clone(), Value::String(v.clone())))
                .collect(),
        ),
    }
}

fn relation_get(c: &mut Call) -> R {
    let p = c.parse(&[FORMAT, OUTPUT, RELATION, Flag::boolean("app", &[])])?;
    let fmt = c.format(&p, "smart", &["smart", "yaml", "json"])?;
    let id = c.need_relation(&p)?;
    let mut args = p.positional.clone();
    let mut key = None;
    if !args.is_empty() {
        let k = args.remove(0);
        if k != "-" {
            key = Some(k);
        }
    }
    let mut app = p.flag("app");
    let target = if !args.is_empty() {
        let t = args.remove(0);
        if app {
            t.split('/').next().unwrap_or(&t).to_string()
        } else {
            t
        }
    } else if app {
        match c.ctx.hook.remote_app.clone().filter(|a| !a.is_empty()) {
            Some(a) => a,
            None => return Err(init_err("no unit or application specified")),
        }
    } else if let Some(u) = c.ctx.hook.remote_unit.clone().filter(|u| !u.is_empty()) {
        u
    } else if let Some(a) = c.ctx.hook.remote_app.clone().filter(|a| !a.is_empty()) {
        app = true;
        a
    } else {
        return Err(init_err("no unit or application specified"));
    };
    check_empty(&args)?;
    let rel = c.relation(id)?;
    let committed = c.state.relations.get(&id);
    if app {
        if !rel.involves(&target) {
            return Err(run_err(format!(
                "cannot read settings for application {target:?} in relation {:?}: permission denied",
                rel.key()
            )));
        }
        let data = if target == c.ctx.app {
            if !rel.is_peer() && !c.ctx.leader {
                return Err(run_err("permission denied"));
            }
            rel.app_data.get(&target).map(|b| b.data.clone())
        } else {
            committed
                .and_then(|r| r.app_data.get(&target))
                .map(|b| b.data.clone())
        };
        let data = data.unwrap_or_default();
        return c.emit(&p, &fmt, &bag_value(&data, key.as_deref()), false);
    }
    let data = if target == c.ctx.unit {
        rel.unit_data.get(&target).map(|b| b.data.clone())
    } else {
        let in_relation = crate::util::split_unit(&target).is_some_and(|(a, _)| rel.involves(a));
        let bag = committed.and_then(|r| r.unit_data.get(&target));
        if !in_relation || bag.is_none() {
            return Err(run_err(format!(
                "cannot read settings for unit {target:?} in relation {:?}: unit {target:?}: settings not found",
                rel.key()
            )));
        }
        bag.map(|b| b.data.clone())
    };
    let data = data.unwrap_or_default();
    c.emit(&p, &fmt, &bag_value(&data, key.as_deref()), false)
}

fn relation_set(c: &mut Call) -> R {
    let p = c.parse(&[
        RELATION,
        Flag::value("file", &[]),
        FORMAT,
        Flag::boolean("app", &[]),
    ])?;
    let id = c.need_relation(&p)?;
    let overrides = parse_key_values(&p.positional)?;
    let mut settings = match p.get("file") {
        Some(path) => {
            let path = path.to_string();
            let bytes = c.read_file_arg(&path)?;
            parse_settings_doc(&bytes)?
        }
        None => BTreeMap::new(),
    };
    settings.extend(overrides);
    let stderr = if p.has("format") {
        "--format flag deprecated for command \"relation-set\"".to_string()
    } else {
        String::new()
    };
    let app = p.flag("app");
    let broken = c.ctx.relations.get(&id).is_some_and(|v| v.broken);
    if broken {
        return Err(run_err(if app {
            "cannot read relation application settings: permission denied (unauthorized access)"
        } else {
            "cannot read relation settings: permission denied (unauthorized access)"
        }));
    }
    if app && !c.ctx.leader {
        return Err(run_err("cannot write relation settings"));
    }
    Ok(Out {
        stdout: String::new(),
        stderr,
        ops: vec![Op::RelationSet {
            relation: id,
            app,
            settings,
        }],
    })
}

fn relation_model_get(c: &mut Call) -> R {
    let p = c.parse(&[FORMAT, OUTPUT, RELATION])?;
    let fmt = c.format(&p, "smart", &["smart", "yaml", "json"])?;
    let _ = c.need_relation(&p)?;
    check_empty(&p.positional)?;
    let v = json!({"uuid": c.state.uuid});
    c.emit(&p, &fmt, &v, false)
}

// ---------------------------------------------------------------- config, leadership, status

fn config_get(c: &mut Call) -> R {
    let p = c.parse(&[FORMAT, OUTPUT, Flag::boolean("all", &["a"])])?;
    let fmt = c.format(&p, "smart", &["smart", "yaml", "json"])?;
    let mut args = p.positional.clone();
    let key = if args.is_empty() {
        None
    } else {
        Some(args.remove(0))
    };
    check_empty(&args)?;
    let all = p.flag("all");
    if let (true, Some(k)) = (all, &key) {
        return Err(init_err(format!(
            "cannot use argument --all together with key {k:?}"
        )));
    }
    let Some(app) = c.state.applications.get(&c.ctx.app) else {
        return Err(run_err("application not found"));
    };
    let mut settings: Map<String, Value> = Map::new();
    for (k, opt) in &app.meta.config {
        match app.config.get(k).or(opt.default.as_ref()) {
            Some(v) => {
                settings.insert(k.clone(), v.clone());
            }
            None if all => {
                settings.insert(k.clone(), Value::Null);
            }
            None => {}
        }
    }
    let value = match key {
        Some(k) => settings.get(&k).cloned().unwrap_or(Value::Null),
        None => Value::Object(settings),
    };
    c.emit(&p, &fmt, &value, false)
}

fn is_leader(c: &mut Call) -> R {
    let p = c.parse(&[FORMAT, OUTPUT])?;
    let fmt = c.format(&p, "smart", &["smart", "yaml", "json"])?;
    check_empty(&p.positional)?;
    c.emit(&p, &fmt, &Value::Bool(c.ctx.leader), false)
}

fn status_details(s: &Status, include_data: bool) -> Value {
    let mut m = Map::new();
    if include_data {
        m.insert("message".into(), Value::String(s.message.clone()));
    }
    m.insert("status".into(), Value::String(s.status.clone()));
    if include_data {
        m.insert(
            "status-data".into(),
            Value::Object(s.data.iter().map(|(k, v)| (k.clone(), v.clone())).collect()),
        );
    }
    Value::Object(m)
}

fn status_get(c: &mut Call) -> R {
    let p = c.parse(&[
        FORMAT,
        OUTPUT,
        Flag::boolean("include-data", &[]),
        Flag::boolean("application", &[]),
    ])?;
    let fmt = c.format(&p, "smart", &["smart", "yaml", "json"])?;
    check_empty(&p.positional)?;
    let include = p.flag("include-data");
    if p.flag("application") {
        if !c.ctx.leader {
            return Err(run_err(
                "finding application status: this unit is not the leader",
            ));
        }
        let Some(app) = c.view.applications.get(&c.ctx.app) else {
            return Err(run_err("application not found"));
        };
        if !include && fmt == "smart" {
            return c.emit(&p, &fmt, &Value::String(app.status.status.clone()), false);
        }
        let mut details = status_details(&app.status, include);
        let units: Map<String, Value> = app
            .units
            .values()
            .map(|u| (u.name.clone(), status_details(&u.status, include)))
            .collect();
        if let Value::Object(m) = &mut details {
            m.insert("units".into(), Value::Object(units));
        }
        return c.emit(&p, &fmt, &json!({"application-status": details}), false);
    }
    let Some(unit) = c.view.unit(&c.ctx.unit) else {
        return Err(run_err("unit not found"));
    };
    if !include && fmt == "smart" {
        return c.emit(&p, &fmt, &Value::String(unit.status.status.clone()), false);
    }
    let v = status_details(&unit.status, include);
    c.emit(&p, &fmt, &v, false)
}

fn status_set(c: &mut Call) -> R {
    let p = c.parse(&[Flag::boolean("application", &[])])?;
    let args = &p.positional;
    let Some(status) = args.first() else {
        return Err(init_err("invalid args, require <status> [message] [data]"));
    };
    const VALID: [&str; 4] = ["maintenance", "blocked", "waiting", "active"];
    if !VALID.contains(&status.as_str()) {
        return Err(init_err(format!(
            "invalid status {status:?}, expected one of [maintenance blocked waiting active]"
        )));
    }
    let message = args.get(1).cloned().unwrap_or_default();
    check_empty(args.get(2..).unwrap_or(&[]))?;
    let application = p.flag("application");
    if application && !c.ctx.leader {
        return Err(run_err("this unit is not the leader"));
    }
    ops(vec![Op::StatusSet {
        application,
        status: Status::new(status, &message),
    }])
}

fn application_version_set(c: &mut Call) -> R {
    let p = c.parse(&[])?;
    let mut args = p.positional.clone();
    if args.is_empty() {
        return Err(init_err("no version specified"));
    }
    let version = args.remove(0);
    check_empty(&args)?;
    ops(vec![Op::AppVersion { version }])
}

fn juju_log(c: &mut Call) -> R {
    let p = c.parse(&[
        Flag::value("log-level", &["l"]),
        Flag::boolean("debug", &[]),
        FORMAT,
    ])?;
    if p.positional.is_empty() {
        return Err(init_err("no message specified"));
    }
    let mut level = p.get("log-level").unwrap_or("INFO").to_uppercase();
    if p.flag("debug") {
        level = "DEBUG".into();
    }
    ops(vec![Op::Log {
        level,
        message: p.positional.join(" "),
    }])
}

// ---------------------------------------------------------------- charm state, leader settings

fn state_get(c: &mut Call) -> R {
    let p = c.parse(&[FORMAT, OUTPUT, Flag::boolean("strict", &[])])?;
    let fmt = c.format(&p, "smart", &["smart", "yaml", "json"])?;
    let mut args = p.positional.clone();
    let key = if args.is_empty() {
        None
    } else {
        Some(args.remove(0))
    };
    check_empty(&args)?;
    let Some(unit) = c.view.unit(&c.ctx.unit) else {
        return Err(run_err("unit not found"));
    };
    if let Some(k) = &key
        && p.flag("strict")
        && !unit.charm_state.contains_key(k)
    {
        return Err(run_err(format!("key {k:?} not found")));
    }
    let v = bag_value(&unit.charm_state, key.as_deref());
    c.emit(&p, &fmt, &v, false)
}

fn state_set(c: &mut Call) -> R {
    let p = c.parse(&[Flag::value("file", &[])])?;
    let overrides = parse_key_values(&p.positional)?;
    let mut values = match p.get("file") {
        Some(path) => {
            let path = path.to_string();
            let bytes = c.read_file_arg(&path)?;
            parse_settings_doc(&bytes)?
        }
        None => BTreeMap::new(),
    };
    values.extend(overrides);
    for (k, v) in &values {
        if k.len() > 256 {
            return Err(run_err(format!("key {k:?} is longer than 256 bytes")));
        }
        if v.len() > 65_536 {
            return Err(run_err(format!(
                "value of {k:?} is longer than 65536 bytes"
            )));
        }
    }
    let (deletes, sets): (BTreeMap<_, _>, BTreeMap<_, _>) =
        values.into_iter().partition(|(_, v)| v.is_empty());
    let mut o: Vec<Op> = deletes
        .into_keys()
        .map(|key| Op::StateDelete { key })
        .collect();
    if !sets.is_empty() {
        o.push(Op::StateSet { values: sets });
    }
    ops(o)
}

fn state_delete(c: &mut Call) -> R {
    let p = c.parse(&[])?;
    let mut args = p.positional.clone();
    if args.is_empty() {
        return Err(init_err("no key specified"));
    }
    let key = args.remove(0);
    check_empty(&args)?;
    ops(vec![Op::StateDelete { key }])
}

fn leader_get(c: &mut Call) -> R {
    let p = c.parse(&[FORMAT, OUTPUT])?;
    let fmt = c.format(&p, "smart", &["smart", "yaml", "json"])?;
    let mut args = p.positional.clone();
    let key = if args.is_empty() {
        None
    } else {
        Some(args.remove(0)).filter(|k| k != "-")
    };
    check_empty(&args)?;
    let settings = c
        .view
        .applications
        .get(&c.ctx.app)
        .map(|a| a.leader_settings.clone())
        .unwrap_or_default();
    c.emit(&p, &fmt, &bag_value(&settings, key.as_deref()), false)
}

fn leader_set(c: &mut Call) -> R {
    let p = c.parse(&[Flag::value("file", &[])])?;
    let mut values = match p.get("file") {
        Some(path) => {
            let path = path.to_string();
            let bytes = c.read_file_arg(&path)?;
            parse_settings_doc(&bytes)?
        }
        None => BTreeMap::new(),
    };
    values.extend(parse_key_values(&p.positional)?);
    if !c.ctx.leader {
        return Err(run_err(
            "cannot write leadership settings: cannot write settings: not the leader",
        ));
    }
    ops(vec![Op::LeaderSet { values }])
}

// ---------------------------------------------------------------- actions

fn action_get(c: &mut Call) -> R {
    let p = c.parse(&[FORMAT, OUTPUT])?;
    let fmt = c.format(&p, "smart", &["smart", "yaml", "json"])?;
    c.require_action()?;
    let params = c.ctx.hook.action_params.clone().unwrap_or(json!({}));
    let mut args = p.positional.clone();
    if args.is_empty() {
        return c.emit(&p, &fmt, &params, false);
    }
    let key = args.remove(0);
    check_empty(&args)?;
    let mut cur = &params;
    for part in key.split('.') {
        match cur.get(part) {
            Some(v) => cur = v,
            None => return c.emit(&p, &fmt, &Value::Null, false),
        }
    }
    let v = cur.clone();
    c.emit(&p, &fmt, &v, false)
}

fn valid_action_key(k: &str) -> bool {
    let b = k.as_bytes();
    let ok = |c: u8| c.is_ascii_lowercase() || c.is_ascii_digit();
    match b {
        [] => false,
        [one] => ok(*one),
        [first, mid @ .., last] => {
            ok(*first) && ok(*last) && mid.iter().all(|c| ok(*c) || *c == b'-' || *c == b'.')
        }
    }
}

fn action_set(c: &mut Call) -> R {
    let p = c.parse(&[])?;
    let mut values = BTreeMap::new();
    for a in &p.positional {
        let Some((k, v)) = a.split_once('=') else {
            return Err(init_err(format!(
                "argument {a:?} must be of the form key...=value"
            )));
        };
        if !valid_action_key(k) {
            return Err(init_err(format!(
                "key {k:?} must start and end with lowercase alphanumeric, and contain only lowercase alphanumeric, hyphens and periods"
            )));
        }
        if ["stdout", "stdout-encoding", "stderr", "stderr-encoding"].contains(&k) {
            return Err(init_err(format!("cannot set reserved action key {k:?}")));
        }
        values.insert(k.to_string(), v.to_string());
    }
    c.require_action()?;
    ops(vec![Op::ActionSet { values }])
}

fn action_fail(c: &mut Call) -> R {
    let p = c.parse(&[])?;
    let mut args = p.positional.clone();
    let message = if args.is_empty() {
        "action failed without reason given".to_string()
    } else {
        args.remove(0)
    };
    check_empty(&args)?;
    c.require_action()?;
    ops(vec![Op::ActionFail { message }])
}

fn action_log(c: &mut Call) -> R {
    let p = c.parse(&[])?;
    if p.positional.is_empty() {
        return Err(init_err("no message specified"));
    }
    c.require_action()?;
    ops(vec![Op::ActionLog {
        message: p.positional.join(" "),
    }])
}

// ---------------------------------------------------------------- ports and networking

/// Parses `80`, `80/tcp`, `8000-8999/udp` or `icmp`.
pub fn parse_port(s: &str) -> Option<(String, u16, u16)> {
    if s == "icmp" {
        return Some(("icmp".into(), 0, 0));
    }
    let (range, proto) = match s.split_once('/') {
        Some((r, p)) => (r, p.to_lowercase()),
        None => (s, "tcp".to_string()),
    };
    if !matches!(proto.as_str(), "tcp" | "udp") {
        return None;
    }
    let (from, to) = match range.split_once('-') {
        Some((a, b)) => (a.parse::<u16>().ok()?, b.parse::<u16>().ok()?),
        None => {
            let n = range.parse::<u16>().ok()?;
            (n, n)
        }
    };
    (from >= 1 && from <= to).then_some((proto, from, to))
}

fn port(c: &mut Call, open: bool) -> R {
    let p = c.parse(&[Flag::value("endpoints", &[]), FORMAT])?;
    let mut args = p.positional.clone();
    if args.is_empty() {
        return Err(init_err("no port or range specified"));
    }
    let spec = args.remove(0);
    check_empty(&args)?;
    let Some((protocol, from, to)) = parse_port(&spec) else {
        return Err(init_err(format!(
            "expected <port>[/<protocol>] or <from>-<to>[/<protocol>] or icmp; got {spec:?}"
        )));
    };
    let endpoints: Vec<String> = match p.get("endpoints") {
        None | Some("") => vec!["*".into()],
        Some(list) => list.split(',').map(|s| s.trim().to_string()).collect(),
    };
    let meta = c.state.applications.get(&c.ctx.app).map(|a| &a.meta);
    let mut o = Vec::new();
    for ep in endpoints {
        if ep != "*"
            && !meta.is_some_and(|m| m.endpoint(&ep).is_some() || m.extra_bindings.contains(&ep))
        {
            return Err(run_err(format!("unknown endpoint {ep:?}")));
        }
        let port = OpenPort {
            endpoint: ep,
            protocol: protocol.clone(),
            from,
            to,
        };
        o.push(if open {
            Op::OpenPort { port }
        } else {
            Op::ClosePort { port }
        });
    }
    ops(o)
}

fn opened_ports(c: &mut Call) -> R {
    let p = c.parse(&[FORMAT, OUTPUT, Flag::boolean("endpoints", &[])])?;
    let fmt = c.format(&p, "smart", &["smart", "yaml", "json"])?;
    check_empty(&p.positional)?;
    let Some(unit) = c.view.unit(&c.ctx.unit) else {
        return Err(run_err("unit not found"));
    };
    let mut grouped: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for port in &unit.ports {
        grouped
            .entry(port.display())
            .or_default()
            .push(port.endpoint.clone());
    }
    let list: Vec<Value> = grouped
        .into_iter()
        .map(|(k, eps)| {
            if p.flag("endpoints") {
                Value::String(format!("{k} ({})", eps.join(",")))
            } else {
                Value::String(k)
            }
        })
        .collect();
    c.emit(&p, &fmt, &Value::Array(list), false)
}

fn network_get(c: &mut Call) -> R {
    let p = c.parse(&[
        FORMAT,
        OUTPUT,
        RELATION,
        Flag::boolean("primary-address", &[]),
        Flag::boolean("bind-address", &[]),
        Flag::boolean("ingress-address", &[]),
        Flag::boolean("egress-subnets", &[]),
    ])?;
    let fmt = c.format(&p, "smart", &["smart", "yaml", "json"])?;
    let _ = c.relation_id(&p)?;
    let mut args = p.positional.clone();
    if args.is_empty() {
        return Err(init_err("no arguments specified"));
    }
    let binding = args.remove(0);
    check_empty(&args)?;
    let known = c.state.applications.get(&c.ctx.app).is_some_and(|a| {
        a.meta.endpoint(&binding).is_some() || a.meta.extra_bindings.contains(&binding)
    });
    if !known {
        return Err(run_err(format!(
            "no network config found for binding {binding:?}"
        )));
    }
    let addr = c.address();
    let cidr = format!(
        "{}.0/24",
        addr.rsplit_once('.').map_or(addr.as_str(), |(a, _)| a)
    );
    if p.flag("primary-address") || p.flag("bind-address") || p.flag("ingress-address") {
        return c.emit(&p, &fmt, &Value::String(addr), false);
    }
    if p.flag("egress-subnets") {
        return c.emit(&p, &fmt, &Value::String(format!("{addr}/32")), false);
    }
    let v = json!({
        "bind-addresses": [{
            "mac-address": "",
            "interface-name": "eth0",
            "addresses": [{"hostname": "", "value": addr, "cidr": cidr}],
        }],
        "egress-subnets": [format!("{addr}/32")],
        "ingress-addresses": [addr],
    });
    c.emit(&p, &fmt, &v, false)
}

fn unit_get(c: &mut Call) -> R {
    let p = c.parse(&[FORMAT, OUTPUT])?;
    let fmt = c.format(&p, "smart", &["smart", "yaml", "json"])?;
    let mut args = p.positional.clone();
    if args.is_empty() {
        return Err(init_err("no setting specified"));
    }
    let key = args.remove(0);
    check_empty(&args)?;
    if key != "private-address" && key != "public-address" {
        return Err(init_err(format!("unknown setting {key:?}")));
    }
    let addr = c.address();
    c.emit(&p, &fmt, &Value::String(addr), false)
}

fn goal_state(c: &mut Call) -> R {
    let p = c.parse(&[FORMAT, OUTPUT])?;
    let fmt = c.format(&p, "yaml", &["yaml", "json"])?;
    check_empty(&p.positional)?;
    let life = |l: crate::state::Life| match l {
        crate::state::Life::Alive => "active",
        crate::state::Life::Dying => "dying",
    };
    let Some(app) = c.state.applications.get(&c.ctx.app) else {
        return Err(run_err("application not found"));
    };
    let units: Map<String, Value> = app
        .units
        .values()
        .map(|u| {
            (
                u.name.clone(),
                json!({"status": life(u.life), "since": u.since}),
            )
        })
        .collect();
    let mut relations: Map<String, Value> = Map::new();
    for rel in c
        .state
        .relations
        .values()
        .filter(|r| r.involves(&c.ctx.app) && c.state.relation_valid_for(&c.ctx.unit, r))
    {
        let Some(ep) = rel.endpoint_of(&c.ctx.app) else {
            continue;
        };
        let Some(remote) = rel.remote_app(&c.ctx.app) else {
            continue;
        };
        let entry = relations
            .entry(ep.endpoint.clone())
            .or_insert_with(|| Value::Object(Map::new()));
        let Value::Object(m) = entry else { continue };
        let status = if rel.life == crate::state::Life::Alive {
            "joined"
        } else {
            "dying"
        };
        if !rel.is_peer() {
            m.insert(
                remote.to_string(),
                json!({"status": status, "since": c.state.created}),
            );
        }
        if let Some(ra) = c.state.applications.get(remote) {
            // Container-scoped relations only reach the units on this unit's machine.
            let machine = c.state.machine_of(&c.ctx.unit);
            for u in ra.units.values().filter(|u| {
                u.name != c.ctx.unit
                    && (!rel.is_container() || c.state.machine_of(&u.name) == machine)
            }) {
                let s = if u.life == crate::state::Life::Alive {
                    status
                } else {
                    "dying"
                };
                m.insert(u.name.clone(), json!({"status": s, "since": u.since}));
            }
        }
    }
    let v = json!({"units": units, "relations": relations});
    c.emit(&p, &fmt, &v, false)
}

// ---------------------------------------------------------------- secrets

const SECRET_UPSERT: &[Flag] = &[
    Flag::value("owner", &[]),
    Flag::value("label", &[]),
    Flag::value("description", &[]),
    Flag::value("expire", &[]),
    Flag::value("rotate", &[]),
    Flag::value("file", &[]),
];

fn valid_secret_key(k: &str) -> bool {
    // ^([a-z](?:-?[a-z0-9]){2,})$
    let b = k.as_bytes();
    if b.first().is_none_or(|c| !c.is_ascii_lowercase()) {
        return false;
    }
    let mut groups = 0;
    let mut i = 1;
    while i < b.len() {
        if b[i] == b'-' {
            i += 1;
        }
        match b.get(i) {
            Some(c) if c.is_ascii_lowercase() || c.is_ascii_digit() => {
                groups += 1;
                i += 1;
            }
            _ => return false,
        }
    }
    groups >= 2
}

/// Parses secret content the way Juju's `CreateSecretData` does: `key=value`, `key#base64=...`,
/// `key#file=path`, plus an optional YAML file. Returns key → base64.
fn secret_content(
    c: &mut Call,
    args: &[String],
    file: Option<&str>,
) -> Result<BTreeMap<String, String>, Fail> {
    let mut data = BTreeMap::new();
    let mut size = 0usize;
    let mut add = |key: &str, value: Vec<u8>| -> Result<(), Fail> {
        if !valid_secret_key(key) {
            return Err(init_err(format!("key {key:?} not valid")));
        }
        size += value.len();
        if size > 1_000_000 {
            return Err(init_err(format!("secret content too large: {size} bytes")));
        }
        data.insert(key.to_string(), b64_encode(&value));
        Ok(())
    };
    let mut file_values = Vec::new();
    for a in args {
        let stripped = a.trim_end_matches('=');
        let Some(idx) = stripped.find('=').filter(|i| *i > 0) else {
            return Err(init_err(format!("key value {a:?} not valid")));
        };
        let (key, value) = (&a[..idx], &a[idx + 1..]);
        if let Some(k) = key.strip_suffix("#file") {
            file_values.push((k.to_string(), value.to_string()));
        } else if let Some(k) = key.strip_suffix("#base64") {
            let bytes = b64_decode(value)
                .ok_or_else(|| init_err(format!("key {k:?}: illegal base64 data")))?;
            add(k, bytes)?;
        } else {
            add(key, value.as_bytes().to_vec())?;
        }
    }
    let mut from_files = Vec::new();
    for (k, path) in file_values {
        let full = c.cwd.join(&path);
        let bytes = std::fs::read(&full).map_err(|e| {
            run_err(format!(
                "reading content for secret key {k:?}: open {}: {e}",
                full.display()
            ))
        })?;
        from_files.push((k, bytes));
    }
    for (k, b) in from_files {
        add(&k, b)?;
    }
    if let Some(path) = file {
        let path = path.to_string();
        let bytes = c.read_file_arg(&path)?;
        for (k, v) in parse_settings_doc(&bytes)? {
            match k.strip_suffix("#base64") {
                Some(base) => {
                    let b = b64_decode(&v)
                        .ok_or_else(|| init_err(format!("key {base:?}: illegal base64 data")))?;
                    add(base, b)?;
                }
                None => add(&k, v.into_bytes())?,
            }
        }
    }
    Ok(data)
}

/// Parses `--expire` (RFC 3339, `2006-01-02T15:04:05` UTC, or a Go duration) into RFC 3339.
fn parse_expire(s: &str) -> Result<String, Fail> {
    if let Some(t) = crate::util::parse_time(s) {
        return Ok(rfc3339(t));
    }
    match crate::util::parse_go_duration(s) {
        Some(d) if d > 0.0 => Ok(rfc3339(now_secs().saturating_add(d.ceil() as i64))),
        Some(_) => Err(init_err(format!(
            "negative expire duration {s:?} not valid"
        ))),
        None => Err(init_err(format!("expire time or duration {s:?} not valid"))),
    }
}

fn parse_rotate(s: Option<&str>) -> Result<Option<String>, Fail> {
    match s {
        None | Some("") => Ok(None),
        Some("never") => Ok(Some("never".into())),
        Some(p) if rotate_period(p).is_some() => Ok(Some(p.into())),
        Some(p) => Err(init_err(format!("rotate policy {p:?} not valid"))),
    }
}

fn secret_id_arg(s: &str) -> Result<String, Fail> {
    parse_secret_ref(s).ok_or_else(|| init_err(format!("secret URI {s:?} not valid")))
}

/// A new xid: 4 bytes of time, 3 of the model uuid, 2 of the pid, 3 random.
fn new_secret_id(model_uuid: &str) -> String {
    let mut id = [0u8; 12];
    let t = u32::try_from(now_secs().max(0)).unwrap_or(u32::MAX);
    id[0..4].copy_from_slice(&t.to_be_bytes());
    let hexes: Vec<u8> = model_uuid
        .bytes()
        .filter(u8::is_ascii_hexdigit)
        .take(6)
        .collect();
    for (i, pair) in hexes.chunks(2).enumerate() {
        let s = std::str::from_utf8(pair).unwrap_or("0");
        id[4 + i] = u8::from_str_radix(s, 16).unwrap_or(0);
    }
    let pid = u16::try_from(std::process::id() & 0xffff).unwrap_or(0);
    id[7..9].copy_from_slice(&pid.to_be_bytes());
    let r = crate::util::random_bytes::<3>();
    id[9..12].copy_from_slice(&r);
    crate::util::xid_encode(id)
}

fn secret_add(c: &mut Call) -> R {
    let p = c.parse(SECRET_UPSERT)?;
    if p.positional.is_empty() && p.get("file").is_none() {
        return Err(init_err("missing secret value or filename"));
    }
    let owner_kind = p.get("owner").unwrap_or("application");
    if owner_kind != "application" && owner_kind != "unit" {
        return Err(init_err(format!("secret owner {owner_kind:?} not valid")));
    }
    let rotate = parse_rotate(p.get("rotate"))?;
    let expire = p.get("expire").map(parse_expire).transpose()?;
    let positional = p.positional.clone();
    let file = p.get("file").map(str::to_string);
    let content = secret_content(c, &positional, file.as_deref())?;
    if content.is_empty() {
        return Err(init_err("empty secret value not valid"));
    }
    let owner = SecretOwner {
        kind: owner_kind.into(),
        name: if owner_kind == "unit" {
            c.ctx.unit.clone()
        } else {
            c.ctx.app.clone()
        },
    };
    if owner_kind == "application" && !c.ctx.leader {
        return Err(run_err("this unit is not the leader"));
    }
    let label = p.get("label").map(str::to_string);
    if let Some(l) = &label
        && owner_label_taken(&c.view, &owner, l, "")
    {
        return Err(run_err(format!("secret with label {l:?} already exists")));
    }
    let id = new_secret_id(&c.state.uuid);
    Ok(Out {
        stdout: format!("secret:{id}\n"),
        stderr: String::new(),
        ops: vec![Op::SecretCreate {
            id,
            owner,
            label,
            description: p.get("description").map(str::to_string),
            expire,
            rotate,
            content,
        }],
    })
}

/// The secret as this unit's owner side knows it, checking leadership for app-owned secrets.
fn owned_secret<'v>(c: &'v Call, id: &str) -> Result<Option<&'v Secret>, Fail> {
    let Some(sec) = c.view.secrets.get(id) else {
        return Ok(None);
    };
    if !sec.owner.includes(&c.ctx.unit) {
        return Ok(None);
    }
    if sec.owner.kind == "application" && !c.ctx.leader {
        return Err(run_err("this unit is not the leader"));
    }
    Ok(Some(sec))
}

fn secret_set(c: &mut Call) -> R {
    let p = c.parse(SECRET_UPSERT)?;
    let mut args = p.positional.clone();
    if args.is_empty() {
        return Err(init_err("missing secret URI"));
    }
    let id = secret_id_arg(&args.remove(0))?;
    let rotate = parse_rotate(p.get("rotate"))?;
    let expire = p.get("expire").map(parse_expire).transpose()?;
    if let Some(o) = p.get("owner")
        && o != "application"
        && o != "unit"
    {
        return Err(init_err(format!("secret owner {o:?} not valid")));
    }
    let file = p.get("file").map(str::to_string);
    let content = secret_content(c, &args, file.as_deref())?;
    let label = p.get("label").map(str::to_string);
    if let Some(sec) = owned_secret(c, &id)?
        && let Some(l) = &label
        && owner_label_taken(&c.view, &sec.owner, l, &id)
    {
        return Err(run_err(format!("secret with label {l:?} already exists")));
    }
    let description = p.get("description").map(str::to_string);
    let content = (!content.is_empty()).then_some(content);
    if label.is_none()
        && description.is_none()
        && rotate.is_none()
        && expire.is_none()
        && content.is_none()
    {
        return ops(Vec::new());
    }
    ops(vec![Op::SecretUpdate {
        id,
        label,
        description,
        expire,
        rotate,
        content,
    }])
}

fn secret_get(c: &mut Call) -> R {
    let p = c.parse(&[
        FORMAT,
        OUTPUT,
        Flag::value("label", &[]),
        Flag::boolean("peek", &[]),
        Flag::boolean("refresh", &[]),
    ])?;
    let fmt = c.format(&p, "yaml", &["yaml", "json"])?;
    let mut args = p.positional.clone();
    let id_arg = if args.is_empty() {
        None
    } else {
        Some(secret_id_arg(&args.remove(0))?)
    };
    let label = p.get("label").map(str::to_string);
    if id_arg.is_none() && label.is_none() {
        return Err(init_err("require either a secret URI or label"));
    }
    let (peek, refresh) = (p.flag("peek"), p.flag("refresh"));
    if peek && refresh {
        return Err(init_err("specify one of --peek or --refresh but not both"));
    }
    let key = if args.is_empty() {
        None
    } else {
        Some(args.remove(0))
    };
    check_empty(&args)?;
    let unit = c.ctx.unit.clone();
    let id = match &id_arg {
        Some(id) => id.clone(),
        None => {
            let l = label.clone().unwrap_or_default();
            let owned = c
                .view
                .secrets
                .values()
                .find(|s| s.owner.includes(&unit) && s.label.as_deref() == Some(l.as_str()));
            let consumed = c.view.secrets.values().find(|s| {
                s.consumers
                    .get(&unit)
                    .is_some_and(|x| x.label.as_deref() == Some(l.as_str()))
            });
            match owned.or(consumed) {
                Some(s) => s.id.clone(),
                None => return Err(run_err(format!("secret {l:?} not found"))),
            }
        }
    };
    let Some(sec) = c.view.secrets.get(&id) else {
        return Err(run_err(format!("secret {id:?} not found")));
    };
    let owner_side = sec.owner.includes(&unit);
    if !owner_side && !sec.granted_to(&unit, &c.ctx.app) {
        return Err(run_err("permission denied"));
    }
    let mut o = Vec::new();
    if let (Some(_), Some(l)) = (&id_arg, &label) {
        if owner_side {
            if sec.label.as_deref() != Some(l.as_str()) && sec.owner.managed_by(&unit, c.ctx.leader)
            {
                if owner_label_taken(&c.view, &sec.owner, l, &id) {
                    return Err(run_err(format!("secret with label {l:?} already exists")));
                }
                o.push(Op::SecretUpdate {
                    id: id.clone(),
                    label: Some(l.clone()),
                    description: None,
                    expire: None,
                    rotate: None,
                    content: None,
                });
            }
        } else {
            if consumer_label_taken(&c.view, &unit, l, &id) {
                return Err(run_err(format!("secret with label {l:?} already exists")));
            }
            o.push(Op::SecretConsumerLabel {
                id: id.clone(),
                label: l.clone(),
            });
        }
    }
    let tracked = sec.consumers.get(&unit).map_or(0, |x| x.revision);
    let revision = if peek || refresh || tracked == 0 || !sec.revisions.contains_key(&tracked) {
        sec.latest
    } else {
        tracked
    };
    if !peek && revision != tracked {
        o.push(Op::SecretTrack {
            id: id.clone(),
            revision,
        });
    }
    let Some(rev) = sec.revisions.get(&revision) else {
        return Err(run_err(format!(
            "secret {id:?} revision {revision} not found"
        )));
    };
    let decoded: BTreeMap<String, String> = rev
        .content
        .iter()
        .map(|(k, v)| {
            let bytes = b64_decode(v).unwrap_or_default();
            (k.clone(), String::from_utf8_lossy(&bytes).into_owned())
        })
        .collect();
    let value = match key {
        None => bag_value(&decoded, None),
        Some(k) => {
            if let Some(base) = k.strip_suffix("#base64") {
                match rev.content.get(base) {
                    Some(v) => Value::String(v.clone()),
                    None => return Err(run_err(format!("secret key value {k:?} not found"))),
                }
            } else {
                match decoded.get(&k) {
                    Some(v) => Value::String(v.clone()),
                    None => return Err(run_err(format!("secret key value {k:?} not found"))),
                }
            }
        }
    };
    let mut result = c.emit(&p, &fmt, &value, false)?;
    result.ops = o;
    Ok(result)
}

fn secret_info_get(c: &mut Call) -> R {
    let p = c.parse(&[FORMAT, OUTPUT, Flag::value("label", &[])])?;
    let fmt = c.format(&p, "yaml", &["yaml", "json"])?;
    let mut args = p.positional.clone();
    let id_arg = if args.is_empty() {
        None
    } else {
        Some(secret_id_arg(&args.remove(0))?)
    };
    let label = p.get("label").map(str::to_string);
    match (&id_arg, &label) {
        (None, None) => return Err(init_err("require either a secret URI or label")),
        (Some(_), Some(_)) => {
            return Err(init_err(
                "specify either a secret URI or label but not both",
            ));
        }
        _ => {}
    }
    check_empty(&args)?;
    let unit = c.ctx.unit.clone();
    let found = match (&id_arg, &label) {
        (Some(id), _) => c.view.secrets.get(id).filter(|s| s.owner.includes(&unit)),
        (None, Some(l)) => c
            .view
            .secrets
            .values()
            .find(|s| s.owner.includes(&unit) && s.label.as_deref() == Some(l.as_str())),
        _ => None,
    };
    let Some(sec) = found else {
        let what = id_arg.or(label).unwrap_or_default();
        return Err(run_err(format!("secret {what:?} not found")));
    };
    if !sec.owner.managed_by(&unit, c.ctx.leader) {
        return Err(run_err("permission denied"));
    }
    let mut info = Map::new();
    info.insert("revision".into(), json!(sec.latest));
    info.insert(
        "label".into(),
        Value::String(sec.label.clone().unwrap_or_default()),
    );
    info.insert(
        "owner".into(),
        Value::String(if sec.owner.kind == "unit" {
            "unit".into()
        } else {
            "application".into()
        }),
    );
    if let Some(d) = &sec.description {
        info.insert("description".into(), Value::String(d.clone()));
    }
    if let Some(e) = sec
        .revisions
        .get(&sec.latest)
        .and_then(|r| r.expire.clone())
    {
        info.insert("expiry".into(), Value::String(e));
    }
    if let Some(r) = &sec.rotate {
        info.insert("rotation".into(), Value::String(r.clone()));
        if let Some(n) = &sec.next_rotate {
            info.insert("rotates".into(), Value::String(n.clone()));
        }
    }
    if !sec.grants.is_empty() {
        let access: Vec<Value> = sec
            .grants
            .iter()
            .map(|g| {
                let target = match &g.unit {
                    Some(u) => format!("unit-{}", u.replace('/', "-")),
                    None => format!("application-{}", g.app),
                };
                let scope = c
                    .view
                    .relations
                    .get(&g.relation)
                    .map_or_else(|| format!("relation-{}", g.relation), |r| r.tag());
                json!({"target": target, "scope": scope, "role": "view"})
            })
            .collect();
        info.insert("access".into(), Value::Array(access));
    }
    let mut top = Map::new();
    top.insert(sec.id.clone(), Value::Object(info));
    c.emit(&p, &fmt, &Value::Object(top), true)
}

fn secret_ids(c: &mut Call) -> R {
    let p = c.parse(&[FORMAT, OUTPUT])?;
    let fmt = c.format(&p, "smart", &["smart", "yaml", "json"])?;
    check_empty(&p.positional)?;
    let unit = c.ctx.unit.clone();
    let ids: Vec<Value> = c
        .view
        .secrets
        .values()
        .filter(|s| s.owner.includes(&unit))
        .map(|s| Value::String(s.uri()))
        .collect();
    c.emit(&p, &fmt, &Value::Array(ids), false)
}

fn secret_grant(c: &mut Call) -> R {
    let p = c.parse(&[RELATION, Flag::value("unit", &[])])?;
    let mut args = p.positional.clone();
    if args.is_empty() {
        return Err(init_err("missing secret URI"));
    }
    let id = secret_id_arg(&args.remove(0))?;
    check_empty(&args)?;
    let rel_id = c.need_relation(&p)?;
    let remote_app = c
        .ctx
        .relations
        .get(&rel_id)
        .map(|v| v.remote_app.clone())
        .unwrap_or_default();
    let unit = p.get("unit").map(str::to_string);
    if let Some(u) = &unit {
        match crate::util::split_unit(u) {
            None => return Err(init_err(format!("unit {u:?} not valid"))),
            Some((a, _)) if a != remote_app => {
                return Err(init_err(format!(
                    "cannot specify unit {u:?} in relation to application {remote_app:?}"
                )));
            }
            _ => {}
        }
    }
    if owned_secret(c, &id)?.is_none() {
        return Err(run_err(format!("secret {id:?} not found")));
    }
    ops(vec![Op::SecretGrant {
        id,
        grant: SecretGrant {
            app: remote_app,
            unit,
            relation: rel_id,
        },
    }])
}

fn secret_revoke(c: &mut Call) -> R {
    let p = c.parse(&[
        RELATION,
        Flag::value("app", &["application"]),
        Flag::value("unit", &[]),
    ])?;
    let mut args = p.positional.clone();
    if args.is_empty() {
        return Err(init_err("missing secret URI"));
    }
    let id = secret_id_arg(&args.remove(0))?;
    check_empty(&args)?;
    let mut app = p.get("app").map(str::to_string);
    let unit = p.get("unit").map(str::to_string);
    if let Some(u) = &unit
        && crate::util::split_unit(u).is_none()
    {
        return Err(init_err(format!("unit {u:?} not valid")));
    }
    if app.is_some() && unit.is_some() {
        return Err(init_err("specify only one of application or unit"));
    }
    let mut relation = None;
    if p.has("relation") {
        if app.is_some() {
            return Err(init_err("do not specify both relation and app"));
        }
        let rid = c.need_relation(&p)?;
        relation = Some(rid);
        if unit.is_none() {
            app = c.ctx.relations.get(&rid).map(|v| v.remote_app.clone());
        }
    }
    if app.is_none() && unit.is_none() {
        return Err(init_err("missing relation or application or unit"));
    }
    let _ = owned_secret(c, &id)?;
    ops(vec![Op::SecretRevoke {
        id,
        app,
        unit,
        relation,
    }])
}

fn secret_remove(c: &mut Call) -> R {
    let p = c.parse(&[Flag::value("revision", &[])])?;
    let mut args = p.positional.clone();
    if args.is_empty() {
        return Err(init_err("missing secret URI"));
    }
    let id = secret_id_arg(&args.remove(0))?;
    check_empty(&args)?;
    let revision = match p.get("revision") {
        None => None,
        Some(r) => {
            let n: u32 = r.parse().map_err(|_| {
                init_err(format!(
                    "invalid value {r:?} for option --revision: strconv.ParseInt: parsing {r:?}: invalid syntax"
                ))
            })?;
            (n > 0).then_some(n)
        }
    };
    let _ = owned_secret(c, &id)?;
    ops(vec![Op::SecretRemove { id, revision }])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_and_ports() {
        assert!(valid_secret_key("password"));
        assert!(valid_secret_key("tls-key"));
        assert!(!valid_secret_key("ab"));
        assert!(!valid_secret_key("Key"));
        assert!(!valid_secret_key("a--b"));
        assert!(valid_action_key("a.b-c"));
        assert!(!valid_action_key("-a"));
        assert!(!valid_action_key("A"));
        assert_eq!(parse_port("80"), Some(("tcp".into(), 80, 80)));
        assert_eq!(
            parse_port("8000-8999/udp"),
            Some(("udp".into(), 8000, 8999))
        );
        assert_eq!(parse_port("icmp"), Some(("icmp".into(), 0, 0)));
        assert_eq!(parse_port("0"), None);
        assert_eq!(parse_port("80/sctp"), None);
        assert!(crate::util::is_xid(&new_secret_id(
            "cdac5656-0000-4000-8000-000000000000"
        )));
    }

    #[test]
    fn settings_docs() {
        let m = parse_settings_doc(b"{\"a\": \"1\", \"b\": 2, \"c\": \"\"}").unwrap_or_default();
        assert_eq!(m.get("b").map(String::as_str), Some("2"));
        assert_eq!(m.get("c").map(String::as_str), Some(""));
        assert!(parse_settings_doc(b"- a\n- b\n").is_err());
        assert!(parse_key_values(&["novalue".into()]).is_err());
        assert!(parse_key_values(&["a=1".into(), "a=2".into()]).is_err());
    }
}
