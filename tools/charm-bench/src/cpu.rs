//! The headline figure: a charm's own CPU per hook, measured from outside the charm process,
//! against the floor (a compiled program that only starts, runs one hook tool and exits).
//!
//! Method. Every story in `demo/` runs through the local model as `make demo` tells it, except
//! that the model's hook-tool links point at `cpu-stub` (`c/cpu-stub.c`, static C): each time a
//! charm runs a hook tool the stub reads the charm's own CPU clock
//! (`clock_gettime(clock_getcpuclockid(getppid()))`: all its threads, user and system time, none
//! of its children), appends it to a log and execs the real tool (`juju-local`). The last tool
//! call of a dispatch gives the charm's CPU from `exec` up to there: loading, start-up, reading
//! the environment, state and tool answers, the handlers, and every hook-tool spawn. In the
//! same run, between the stories, the local model dispatches the floor (`c/floor.c`: fork, exec
//! `is-leader`, wait, exit; built with gcc's defaults) as a charm of its own, and the same stub
//! reads its clock the same way. The stories run `repeat` times; each figure is a median.
//! A dispatch that runs no hook tool cannot be measured this way: such hooks are counted, not
//! timed.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Environment variable naming the stub's log.
pub const LOG_ENV: &str = "CHARM_BENCH_CPU_LOG";
/// Environment variable naming the real hook-tool binary the stub execs.
pub const TOOL_ENV: &str = "CHARM_BENCH_TOOL";

/// One line of the stub's log: one hook-tool call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ToolCall {
    /// `JUJU_CONTEXT_ID` of the dispatch (unique within one model).
    pub context: String,
    /// `JUJU_UNIT_NAME`.
    pub unit: String,
    /// `JUJU_DISPATCH_PATH` (`hooks/install`, `actions/greet`).
    pub dispatch_path: String,
    /// The tool called.
    pub tool: String,
    /// The caller's pid.
    pub pid: u32,
    /// The caller's own CPU time when it called the tool, in nanoseconds.
    pub cpu_ns: u64,
}

/// Parses one log line; `None` for a line that is not six tab-separated fields with numbers
/// where numbers belong.
pub fn parse_line(line: &str) -> Option<ToolCall> {
    let mut f = line.split('\t');
    let call = ToolCall {
        context: f.next()?.to_string(),
        unit: f.next()?.to_string(),
        dispatch_path: f.next()?.to_string(),
        tool: f.next()?.to_string(),
        pid: f.next()?.parse().ok()?,
        cpu_ns: f.next()?.trim_end().parse().ok()?,
    };
    f.next().is_none().then_some(call)
}

/// One dispatch as the stub saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dispatch {
    /// The unit.
    pub unit: String,
    /// The hook as a table shows it: the hook name, or `action <name>`.
    pub hook: String,
    /// Hook-tool calls made.
    pub calls: usize,
    /// The caller's own CPU at its last hook-tool call, in nanoseconds.
    pub cpu_ns: u64,
}

/// `hooks/<name>` is `<name>`; `actions/<name>` is `action <name>`.
pub fn hook_label(dispatch_path: &str) -> String {
    match dispatch_path.split_once('/') {
        Some(("actions", name)) => format!("action {name}"),
        Some((_, name)) => name.to_string(),
        None => dispatch_path.to_string(),
    }
}

/// Groups a log's calls into dispatches (one per context id and process), in order of first
/// appearance; each keeps its largest CPU reading (the clock only grows, so that is the last call).
pub fn dispatches(log: &str) -> Vec<Dispatch> {
    let mut order: Vec<(String, u32)> = Vec::new();
    let mut by_key: BTreeMap<(String, u32), Dispatch> = BTreeMap::new();
    for call in log.lines().filter_map(parse_line) {
        let key = (call.context.clone(), call.pid);
        let d = by_key.entry(key.clone()).or_insert_with(|| {
            order.push(key);
            Dispatch {
                unit: call.unit.clone(),
                hook: hook_label(&call.dispatch_path),
                calls: 0,
                cpu_ns: 0,
            }
        });
        d.calls += 1;
        d.cpu_ns = d.cpu_ns.max(call.cpu_ns);
    }
    order
        .into_iter()
        .filter_map(|k| by_key.remove(&k))
        .collect()
}

/// The median (the mean of the two middle values for an even count); `None` when empty.
pub fn median(values: &[f64]) -> Option<f64> {
    let mut v: Vec<f64> = values.iter().copied().filter(|x| x.is_finite()).collect();
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    let mid = v.len() / 2;
    Some(if v.len() % 2 == 1 {
        v[mid]
    } else {
        (v[mid - 1] + v[mid]) / 2.0
    })
}

/// One row of the table: a charm's hook, over every time it ran.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    /// The charm (its metadata name).
    pub charm: String,
    /// The hook label.
    pub hook: String,
    /// Dispatches measured.
    pub runs: usize,
    /// Median hook-tool calls.
    pub calls: f64,
    /// Median own CPU in milliseconds.
    pub cpu_ms: f64,
    /// `cpu_ms` over the floor's median.
    pub ratio: f64,
}

/// The table: per (charm, hook), the medians of its dispatches and the ratio to `floor_ms`.
pub fn rows(samples: &BTreeMap<(String, String), Vec<Dispatch>>, floor_ms: f64) -> Vec<Row> {
    samples
        .iter()
        .filter(|(_, ds)| !ds.is_empty())
        .map(|((charm, hook), ds)| {
            let cpu: Vec<f64> = ds.iter().map(|d| d.cpu_ns as f64 / 1e6).collect();
            let calls: Vec<f64> = ds.iter().map(|d| d.calls as f64).collect();
            let cpu_ms = median(&cpu).unwrap_or(0.0);
            Row {
                charm: charm.clone(),
                hook: hook.clone(),
                runs: ds.len(),
                calls: median(&calls).unwrap_or(0.0),
                cpu_ms,
                ratio: cpu_ms / floor_ms,
            }
        })
        .collect()
}

/// What the command line gave this section.
pub struct Setup {
    /// The stories (`demo/*.yaml`).
    pub demo: PathBuf,
    /// The real `juju-local`.
    pub juju_local: PathBuf,
    /// The compiled `cpu-stub`.
    pub stub: PathBuf,
    /// The compiled floor program.
    pub floor: PathBuf,
    /// How many times every story runs.
    pub repeat: usize,
    /// Floor dispatches after each story (the machine's speed drifts: a floor measured next to
    /// each story is measured under the conditions the story met).
    pub floor_runs: usize,
}

fn io(what: &str, path: &Path) -> impl Fn(std::io::Error) -> String {
    let place = format!("{what} {}", path.display());
    move |e| format!("{place}: {e}")
}

/// Model options whose hook tools are the stub, logging to `log`.
fn stub_options(setup: &Setup, log: &Path) -> Result<juju_local::ModelOptions, String> {
    let juju_local = setup
        .juju_local
        .canonicalize()
        .map_err(io("cannot find", &setup.juju_local))?;
    let mut opts = juju_local::ModelOptions::new(&setup.stub);
    opts.env.insert(LOG_ENV.into(), log.display().to_string());
    opts.env
        .insert(TOOL_ENV.into(), juju_local.display().to_string());
    // Stories name workspace binaries (test doubles) that live beside juju-local.
    if let Some(bin_dir) = juju_local.parent() {
        let path = std::env::var("PATH").unwrap_or_default();
        opts.env
            .insert("PATH".into(), format!("{}:{path}", bin_dir.display()));
    }
    Ok(opts)
}

/// A charm directory whose `dispatch` is the floor program.
fn floor_charm(setup: &Setup, work: &Path) -> Result<PathBuf, String> {
    let dir = work.join("floor-charm");
    std::fs::create_dir_all(&dir).map_err(io("cannot create", &dir))?;
    std::fs::write(
        dir.join("metadata.yaml"),
        "name: floor\nsummary: starts, runs is-leader, exits\ndescription: the floor of charm-bench\n",
    )
    .map_err(io("cannot write", &dir))?;
    std::fs::copy(&setup.floor, dir.join("dispatch")).map_err(io("cannot copy", &setup.floor))?;
    Ok(dir)
}

/// Samples of one pass: the charms' dispatches by (charm, hook), the floor's CPU in ms, and the
/// dispatches that ran no hook tool, by (charm, hook).
#[derive(Default)]
struct Samples {
    charms: BTreeMap<(String, String), Vec<Dispatch>>,
    floor_ms: Vec<f64>,
    unmeasured: BTreeMap<(String, String), usize>,
}

fn run_story(setup: &Setup, story: &Path, dir: &Path, s: &mut Samples) -> Result<(), String> {
    let log = dir.with_extension("cpu.log");
    let opts = stub_options(setup, &log)?;
    let result = juju_local::scenario::run_file_with(story, opts.clone(), Some(dir))
        .map_err(|e| format!("{}: {e}", story.display()))?;
    if let Some(failure) = result.failure() {
        return Err(format!("{}: {failure}", story.display()));
    }
    let model = juju_local::Model::open(dir, opts).map_err(|e| e.to_string())?;
    let apps: BTreeMap<String, String> = model
        .state()
        .map_err(|e| e.to_string())?
        .applications
        .into_iter()
        .map(|(app, a)| (app, a.meta.name))
        .collect();
    let charm_of = |unit: &str| {
        let app = unit.split('/').next().unwrap_or(unit);
        apps.get(app).cloned().unwrap_or_else(|| app.to_string())
    };
    let text = std::fs::read_to_string(&log).unwrap_or_default();
    for d in dispatches(&text) {
        s.charms
            .entry((charm_of(&d.unit), d.hook.clone()))
            .or_default()
            .push(d);
    }
    for record in model.timeline().map_err(|e| e.to_string())? {
        if record.tool_calls == 0 && record.outcome != "skipped" {
            let hook = if record.hook.is_action() {
                format!("action {}", record.hook.name)
            } else {
                record.hook.name.clone()
            };
            *s.unmeasured
                .entry((charm_of(&record.unit), hook))
                .or_default() += 1;
        }
    }
    Ok(())
}

fn run_floor(setup: &Setup, charm: &Path, dir: &Path, s: &mut Samples) -> Result<(), String> {
    let log = dir.with_extension("cpu.log");
    let opts = stub_options(setup, &log)?;
    let model = juju_local::Model::init(dir, opts).map_err(|e| e.to_string())?;
    model
        .deploy(charm, juju_local::DeployOptions::default())
        .map_err(|e| e.to_string())?;
    model.settle(100).map_err(|e| e.to_string())?;
    let _ = std::fs::remove_file(&log);
    for _ in 0..setup.floor_runs {
        let spec = juju_local::HookSpec {
            name: "update-status".into(),
            ..Default::default()
        };
        let rec = model.run_hook("floor/0", spec).map_err(|e| e.to_string())?;
        if rec.exit_code != 0 {
            return Err(format!("the floor program failed: {:?}", rec.error));
        }
    }
    let text = std::fs::read_to_string(&log).map_err(io("cannot read", &log))?;
    let ds = dispatches(&text);
    if ds.len() != setup.floor_runs || ds.iter().any(|d| d.calls != 1) {
        return Err(format!(
            "the floor made {} dispatches with one tool call each, expected {}",
            ds.iter().filter(|d| d.calls == 1).count(),
            setup.floor_runs
        ));
    }
    s.floor_ms.extend(ds.iter().map(|d| d.cpu_ns as f64 / 1e6));
    Ok(())
}

/// Runs the section and prints its table; returns the rows and the floor's median (ms).
pub fn run(setup: &Setup) -> Result<(Vec<Row>, f64), String> {
    for (what, p) in [("cpu-stub", &setup.stub), ("floor", &setup.floor)] {
        if !p.is_file() {
            return Err(format!(
                "{what} {} not found (make bench compiles it from tools/charm-bench/c)",
                p.display()
            ));
        }
    }
    let mut stories: Vec<PathBuf> = std::fs::read_dir(&setup.demo)
        .map_err(io("cannot read", &setup.demo))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "yaml"))
        .collect();
    stories.sort();
    let work = std::env::temp_dir().join(format!("charm-bench-cpu-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&work);
    std::fs::create_dir_all(&work).map_err(io("cannot create", &work))?;
    let charm = floor_charm(setup, &work)?;
    let mut s = Samples::default();
    let result = (|| {
        for pass in 0..setup.repeat {
            for story in &stories {
                let name = story
                    .file_stem()
                    .and_then(|n| n.to_str())
                    .unwrap_or("story");
                run_story(setup, story, &work.join(format!("{pass}-{name}")), &mut s)?;
                run_floor(
                    setup,
                    &charm,
                    &work.join(format!("{pass}-{name}-floor")),
                    &mut s,
                )?;
            }
        }
        Ok::<(), String>(())
    })();
    // `CHARM_BENCH_KEEP=1` keeps the models and the stub's logs, to look at single calls.
    if std::env::var_os("CHARM_BENCH_KEEP").is_none() {
        let _ = std::fs::remove_dir_all(&work);
    } else {
        println!("kept {}", work.display());
    }
    result?;
    let floor_ms = median(&s.floor_ms).ok_or("no floor samples")?;
    let rows = rows(&s.charms, floor_ms);
    print_table(setup, &stories, &rows, &s, floor_ms);
    Ok((rows, floor_ms))
}

fn print_table(setup: &Setup, stories: &[PathBuf], rows: &[Row], s: &Samples, floor_ms: f64) {
    println!(
        "== own CPU per hook, measured from outside (cpu-stub), against the floor: {} stories x {}, floor {} dispatches",
        stories.len(),
        setup.repeat,
        s.floor_ms.len()
    );
    println!(
        "{:<32} {:<34} {:>5} {:>6} {:>8} {:>6}",
        "charm", "hook", "runs", "calls", "CPU ms", "ratio"
    );
    for r in rows {
        println!(
            "{:<32} {:<34} {:>5} {:>6} {:>8.3} {:>6.2}",
            r.charm, r.hook, r.runs, r.calls, r.cpu_ms, r.ratio
        );
    }
    println!(
        "{:<32} {:<34} {:>5} {:>6} {:>8.3} {:>6.2}",
        "floor (C: fork, exec, wait)",
        "update-status",
        s.floor_ms.len(),
        1,
        floor_ms,
        1.0
    );
    let ratios: Vec<f64> = rows.iter().map(|r| r.ratio).collect();
    let all: Vec<f64> = s
        .charms
        .values()
        .flatten()
        .map(|d| d.cpu_ns as f64 / 1e6 / floor_ms)
        .collect();
    if let (Some(med), Some(max)) = (median(&ratios), ratios.iter().copied().reduce(f64::max)) {
        println!(
            "median ratio over the {} hooks: {med:.2} (over all {} dispatches: {:.2}); highest: {max:.2}",
            rows.len(),
            all.len(),
            median(&all).unwrap_or(0.0)
        );
    }
    if !s.unmeasured.is_empty() {
        let list: Vec<String> = s
            .unmeasured
            .iter()
            .map(|((c, h), n)| format!("{c} {h} ({n})"))
            .collect();
        println!(
            "dispatches with no hook-tool call (not measurable this way): {}",
            list.join(", ")
        );
    }
}

#[cfg(test)]
#[path = "cpu_test.rs"]
mod tests;
