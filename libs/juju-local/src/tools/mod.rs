//! The hook tools: `relation-get`, `secret-add`, `status-set`, ... run as the `juju-local` binary
//! under the tool's name, one process per call, as a charm runs them. Each invocation reads the
//! committed model, the [`HookRun`] and this dispatch's journal, answers reads from the committed
//! state overlaid with the dispatch's pending writes, checks [`rules`], and appends the writes it
//! accepts to the journal. Exit codes and `ERROR ...` texts follow Juju's `cmd.Main`: 2 for flag
//! and argument errors, 1 for failures while running.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::Instant;

use serde_json::Value;

use crate::commit::{self, Mode};
use crate::flags::{self, Flag, Parsed};
use crate::format;
use crate::hook_run::{HOOK_RUN_ENV, HookRun};
use crate::journal::{Op, ToolRecord, read_journal};
use crate::rules::Refusal;
use crate::state::{ModelState, Relation};

mod action;
mod machine;
mod network;
mod relation;
mod secret;
mod storage;
mod store;
mod unit;

pub(crate) use secret::{new_secret_id, valid_secret_key};

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
    "juju-reboot",
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
    "resource-get",
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
    "storage-add",
    "storage-get",
    "storage-list",
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

impl From<Refusal> for Fail {
    fn from(r: Refusal) -> Fail {
        run_err(r.0)
    }
}

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

/// The one optional positional argument of a tool (`config-get [key]`); more is an error.
fn optional_arg(p: &Parsed) -> Result<Option<String>, Fail> {
    let (first, rest) = match p.positional.split_first() {
        Some((first, rest)) => (Some(first.clone()), rest),
        None => (None, &[][..]),
    };
    check_empty(rest)?;
    Ok(first)
}

/// The one required positional argument of a tool; `missing` is Juju's error without it.
fn required_arg(p: &Parsed, missing: &str) -> Result<String, Fail> {
    let first = optional_arg(p)?;
    first.ok_or_else(|| init_err(missing))
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
    run: HookRun,
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
            return Ok(self.run.hook.relation);
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
        if !self.run.relations.contains_key(&id) {
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

    fn address(&self) -> String {
        self.state.unit_address(&self.run.unit)
    }
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
        crate::yaml::from_str(&text).map_err(|e| run_err(format!("cannot parse settings: {e}")))?;
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
        if let Err(e) = crate::files::append_line(&journal, &line) {
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
    let run_path = std::env::var_os(HOOK_RUN_ENV).ok_or_else(|| {
        format!("{HOOK_RUN_ENV} is not set: {name} only works inside a hook run by juju-local")
    })?;
    let run = HookRun::load(Path::new(&run_path)).map_err(|e| e.to_string())?;
    let state = ModelState::load(&run.model_dir).map_err(|e| e.to_string())?;
    let journal = read_journal(&run.journal).map_err(|e| e.to_string())?;
    if state.unit(&run.unit).is_none() {
        return Err(format!("unit {:?} not found in the model", run.unit));
    }
    let mut view = state.clone();
    let all: Vec<&Op> = journal.iter().flat_map(|r| r.ops.iter()).collect();
    let _ = commit::apply(&mut view, &run, &all, Mode::Overlay);
    let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
    let journal_path = run.journal.clone();
    let mut call = Call {
        name,
        args,
        run,
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
        "relation-ids" => relation::relation_ids(c),
        "relation-list" => relation::relation_list(c),
        "relation-get" => relation::relation_get(c),
        "relation-set" => relation::relation_set(c),
        "relation-model-get" => relation::relation_model_get(c),
        "config-get" => unit::config_get(c),
        "is-leader" => unit::is_leader(c),
        "status-get" => unit::status_get(c),
        "status-set" => unit::status_set(c),
        "application-version-set" => unit::application_version_set(c),
        "juju-log" => unit::juju_log(c),
        "state-get" => store::state_get(c),
        "state-set" => store::state_set(c),
        "state-delete" => store::state_delete(c),
        "leader-get" => store::leader_get(c),
        "leader-set" => store::leader_set(c),
        "action-get" => action::action_get(c),
        "action-set" => action::action_set(c),
        "action-fail" => action::action_fail(c),
        "action-log" => action::action_log(c),
        "open-port" => network::port(c, true),
        "close-port" => network::port(c, false),
        "opened-ports" => network::opened_ports(c),
        "network-get" => network::network_get(c),
        "unit-get" => network::unit_get(c),
        "goal-state" => network::goal_state(c),
        "credential-get" => machine::credential_get(c),
        "secret-add" => secret::secret_add(c),
        "secret-set" => secret::secret_set(c),
        "secret-get" => secret::secret_get(c),
        "secret-info-get" => secret::secret_info_get(c),
        "secret-ids" => secret::secret_ids(c),
        "secret-grant" => secret::secret_grant(c),
        "secret-revoke" => secret::secret_revoke(c),
        "secret-remove" => secret::secret_remove(c),
        "storage-get" => storage::storage_get(c),
        "storage-list" => storage::storage_list(c),
        "storage-add" => storage::storage_add(c),
        "juju-reboot" => machine::juju_reboot(c),
        "resource-get" => storage::resource_get(c),
        other => Err(run_err(format!("unknown hook tool {other:?}"))),
    }
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

#[cfg(test)]
mod tests {
    use super::*;

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
