//! `charm-bench` (run by `make bench`): what a dispatch of our charms costs.
//!
//! 0. The headline: every charm's own CPU per hook of the stories in `demo/`, measured from
//!    outside the process by a stub hook tool, against the floor program (`cpu.rs`).
//! 1. The sample charm `hello`, run as a process against stub hook tools (shell scripts): own time
//!    per dispatch (inside the process, and from exec to exit) excluding the time spent in hook
//!    tools, hook-tool calls, peak RSS, stripped binary size.
//! 2. In-memory harness runs per second on one core.
//! 3. Every story in `demo/` through the local model with the release charms: per charm and hook,
//!    median own time, hook-tool calls and peak RSS (the charms' own `CHARM_METRICS_FILE` lines).
//! 4. resource-dispatcher reading a 1,000-manifest list (`manifests.rs`).

mod cpu;
mod manifests;

use charm_testing::{Harness, Relation, State, StubTools};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::{Duration, Instant};

const RUNS: usize = 200;

struct Args {
    charms: PathBuf,
    juju_local: PathBuf,
    demo: PathBuf,
    cpu_stub: PathBuf,
    floor: PathBuf,
    repeat: usize,
    /// Only the headline section (`--only cpu`).
    only_cpu: bool,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        charms: PathBuf::from("build/charms"),
        juju_local: PathBuf::from("target/release/juju-local"),
        demo: PathBuf::from("demo"),
        cpu_stub: PathBuf::from("build/bench/cpu-stub"),
        floor: PathBuf::from("build/bench/floor"),
        repeat: 10,
        only_cpu: false,
    };
    let mut it = std::env::args().skip(1);
    while let Some(a) = it.next() {
        let v = it
            .next()
            .map(PathBuf::from)
            .ok_or(format!("{a} needs a value"))?;
        match a.as_str() {
            "--charms" => args.charms = v,
            "--juju-local" => args.juju_local = v,
            "--demo" => args.demo = v,
            "--cpu-stub" => args.cpu_stub = v,
            "--floor" => args.floor = v,
            "--repeat" => {
                args.repeat = v
                    .to_str()
                    .and_then(|n| n.parse().ok())
                    .filter(|&n| n > 0)
                    .ok_or(format!(
                        "--repeat needs a positive number, not {}",
                        v.display()
                    ))?
            }
            "--only" if v.as_os_str() == "cpu" => args.only_cpu = true,
            "--only" => return Err(format!("--only takes cpu, not {}", v.display())),
            other => return Err(format!("unknown flag {other}")),
        }
    }
    Ok(args)
}

fn median(v: Vec<f64>) -> f64 {
    cpu::median(&v).unwrap_or(0.0)
}

/// One line of `CHARM_METRICS_FILE`.
struct Metric {
    unit: String,
    hook: String,
    own_us: f64,
    tool_us: f64,
    calls: f64,
    rss_kb: f64,
}

fn read_metrics(path: &Path) -> Vec<Metric> {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    text.lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .map(|v| Metric {
            unit: v["unit"].as_str().unwrap_or("").to_string(),
            hook: v["hook"].as_str().unwrap_or("").to_string(),
            own_us: v["own_us"].as_f64().unwrap_or(0.0),
            tool_us: v["tool_us"].as_f64().unwrap_or(0.0),
            calls: v["tool_calls"].as_f64().unwrap_or(0.0),
            rss_kb: v["peak_rss_kb"].as_f64().unwrap_or(0.0),
        })
        .collect()
}

fn sample_charm(args: &Args) -> Result<(), String> {
    let charm_dir = args.charms.join("hello");
    let binary = charm_dir
        .join("dispatch")
        .canonicalize()
        .map_err(|e| format!("{}/dispatch: {e} (run `make charms`)", charm_dir.display()))?;
    let size = std::fs::metadata(&binary).map_err(|e| e.to_string())?.len();
    let stubs = StubTools::new().map_err(|e| e.to_string())?;
    let work = stubs.root().join("charm");
    std::fs::create_dir_all(&work).map_err(|e| e.to_string())?;
    let answers = [
        ("config-get", r#"{"greeting": "hi", "port": 8080}"#),
        ("is-leader", "true"),
        ("opened-ports", r#"["8080/tcp"]"#),
        ("relation-ids", r#"["greeting:3"]"#),
        ("relation-list", r#""listener""#),
        ("relation-get", r#"{"greeting": "bonjour"}"#),
        ("action-get", r#"{"name": "Ada"}"#),
    ];
    for (tool, out) in answers {
        stubs.answer(tool, out).map_err(|e| e.to_string())?;
    }
    let metrics = stubs.root().join("metrics.jsonl");
    let path = format!(
        "{}:{}",
        stubs.bin().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    println!("== hello (sample charm) against stub hook tools, {RUNS} runs per hook");
    println!(
        "{:<18} {:>12} {:>14} {:>7} {:>9}",
        "hook", "own ms", "exec->exit ms", "calls", "RSS MiB"
    );
    for (hook, extra) in [
        ("hooks/config-changed", vec![]),
        ("hooks/update-status", vec![]),
        (
            "hooks/listen-relation-changed",
            vec![
                ("JUJU_RELATION", "listen"),
                ("JUJU_RELATION_ID", "listen:3"),
                ("JUJU_REMOTE_APP", "talker"),
                ("JUJU_REMOTE_UNIT", ""),
            ],
        ),
        (
            "actions/greet",
            vec![("JUJU_ACTION_NAME", "greet"), ("JUJU_ACTION_UUID", "1")],
        ),
    ] {
        let _ = std::fs::remove_file(&metrics);
        let mut outside = Vec::new();
        for _ in 0..RUNS {
            let start = Instant::now();
            let status = Command::new(&binary)
                .env_clear()
                .env("PATH", &path)
                .env("JUJU_DISPATCH_PATH", hook)
                .env("JUJU_UNIT_NAME", "hello/0")
                .env("JUJU_VERSION", "3.6.14")
                .env("JUJU_CHARM_DIR", &work)
                .env("CHARM_METRICS_FILE", &metrics)
                .envs(extra.iter().copied())
                .current_dir(&work)
                .status()
                .map_err(|e| e.to_string())?;
            if !status.success() {
                return Err(format!("{hook} failed"));
            }
            outside.push(start.elapsed());
        }
        let lines = read_metrics(&metrics);
        let tool_us: Vec<f64> = lines.iter().map(|m| m.tool_us).collect();
        let exec_own: Vec<f64> = outside
            .iter()
            .zip(&tool_us)
            .map(|(d, t)| d.as_micros() as f64 - t)
            .collect();
        println!(
            "{:<18} {:>12.3} {:>14.3} {:>7} {:>9.2}",
            hook.rsplit('/').next().unwrap_or(hook),
            median(lines.iter().map(|m| m.own_us).collect()) / 1000.0,
            median(exec_own) / 1000.0,
            median(lines.iter().map(|m| m.calls).collect()),
            median(lines.iter().map(|m| m.rss_kb).collect()) / 1024.0,
        );
    }
    println!("stripped binary size: {:.0} KiB", size as f64 / 1024.0);
    Ok(())
}

fn harness_speed() {
    let harness = Harness::new(hello::charm(), hello::METADATA).config_yaml(hello::CONFIG);
    let state = State::default()
        .leader(true)
        .relation(Relation::new("greeting", 3, "listener"))
        .relation(Relation::new("listen", 4, "talker").remote_app_data([("greeting", "hi")]));
    let event = charm::Event::ConfigChanged;
    let budget = Duration::from_secs(2);
    let start = Instant::now();
    let mut runs = 0u64;
    while start.elapsed() < budget {
        for _ in 0..100 {
            let out = harness.run(event.clone(), state.clone());
            std::hint::black_box(&out);
        }
        runs += 100;
    }
    let per_sec = runs as f64 / start.elapsed().as_secs_f64();
    println!("\n== in-memory harness: {per_sec:.0} runs/s on one core (hello, config-changed)");
}

fn local_model(args: &Args) -> Result<(), String> {
    let mut stories: Vec<PathBuf> = std::fs::read_dir(&args.demo)
        .map_err(|e| format!("{}: {e}", args.demo.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "yaml"))
        .collect();
    stories.sort();
    let work = std::env::temp_dir().join(format!("charm-bench-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&work);
    std::fs::create_dir_all(&work).map_err(|e| e.to_string())?;
    let metrics = work.join("metrics.jsonl");
    let mut by_hook: BTreeMap<(String, String), Vec<Metric>> = BTreeMap::new();
    let mut apps: BTreeMap<String, String> = BTreeMap::new();
    let mut cli_calls: BTreeMap<String, Vec<f64>> = BTreeMap::new();
    for story in &stories {
        let name = story
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or("story");
        let mut opts = juju_local::ModelOptions::new(&args.juju_local);
        opts.env
            .insert("CHARM_METRICS_FILE".into(), metrics.display().to_string());
        // Stories name workspace binaries (test doubles) that live beside juju-local.
        if let Some(bin_dir) = args.juju_local.parent().and_then(|d| d.canonicalize().ok()) {
            let path = std::env::var("PATH").unwrap_or_default();
            opts.env
                .insert("PATH".into(), format!("{}:{path}", bin_dir.display()));
        }
        let dir = work.join(name);
        let result = juju_local::scenario::run_file_with(story, opts, Some(&dir))
            .map_err(|e| format!("{}: {e}", story.display()))?;
        if let Some(failure) = result.failure() {
            return Err(format!("{}: {failure}", story.display()));
        }
        let model = juju_local::Model::open(&dir, juju_local::ModelOptions::new(&args.juju_local))
            .map_err(|e| e.to_string())?;
        for (app, a) in model.state().map_err(|e| e.to_string())?.applications {
            apps.insert(app, a.meta.name.clone());
        }
        // Workload commands a charm runs show in its DEBUG log (microcluster-node logs one line
        // per cluster CLI call): count them per hook.
        for record in model.timeline().map_err(|e| e.to_string())? {
            let calls = record
                .juju_log
                .iter()
                .filter(|(_, line)| line.starts_with("cluster CLI:"))
                .count();
            if calls > 0
                || apps
                    .get(record.unit.split('/').next().unwrap_or(""))
                    .is_some_and(|c| c == "microcluster-node")
            {
                let hook = record
                    .hook
                    .name
                    .split_once("-relation-")
                    .map_or(record.hook.name.clone(), |(_, kind)| {
                        format!("*-relation-{kind}")
                    });
                cli_calls.entry(hook).or_default().push(calls as f64);
            }
        }
    }
    for m in read_metrics(&metrics) {
        let app = m.unit.split('/').next().unwrap_or("").to_string();
        let charm = apps.get(&app).cloned().unwrap_or(app);
        let hook = m
            .hook
            .split_once("-relation-")
            .map_or(m.hook.clone(), |(_, kind)| format!("*-relation-{kind}"));
        by_hook.entry((charm, hook)).or_default().push(m);
    }
    println!(
        "\n== through the local model (every story in {}), per charm and hook",
        args.demo.display()
    );
    println!(
        "{:<32} {:<28} {:>5} {:>9} {:>9} {:>7} {:>8}",
        "charm", "hook", "runs", "own ms", "tools ms", "calls", "RSS MiB"
    );
    for ((charm, hook), ms) in &by_hook {
        println!(
            "{:<32} {:<28} {:>5} {:>9.3} {:>9.2} {:>7} {:>8.2}",
            charm,
            hook,
            ms.len(),
            median(ms.iter().map(|m| m.own_us).collect()) / 1000.0,
            median(ms.iter().map(|m| m.tool_us).collect()) / 1000.0,
            median(ms.iter().map(|m| m.calls).collect()),
            median(ms.iter().map(|m| m.rss_kb).collect()) / 1024.0,
        );
    }
    if !cli_calls.is_empty() {
        println!(
            "\n== microcluster-node: cluster CLI calls per hook (fake CLI, from its DEBUG log)"
        );
        println!(
            "{:<28} {:>5} {:>7} {:>5} {:>6}",
            "hook", "runs", "median", "max", "total"
        );
        for (hook, calls) in &cli_calls {
            println!(
                "{:<28} {:>5} {:>7} {:>5} {:>6}",
                hook,
                calls.len(),
                median(calls.clone()),
                calls.iter().copied().fold(0.0, f64::max),
                calls.iter().sum::<f64>()
            );
        }
    }
    let _ = std::fs::remove_dir_all(&work);
    Ok(())
}

fn main() -> ExitCode {
    let run = || -> Result<(), String> {
        let args = parse_args()?;
        cpu::run(&cpu::Setup {
            demo: args.demo.clone(),
            juju_local: args.juju_local.clone(),
            stub: args.cpu_stub.clone(),
            floor: args.floor.clone(),
            repeat: args.repeat,
            floor_runs: 10,
        })?;
        if args.only_cpu {
            return Ok(());
        }
        println!();
        sample_charm(&args)?;
        harness_speed();
        local_model(&args)?;
        manifests::run()?;
        Ok(())
    };
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("charm-bench: {e}");
            ExitCode::from(1)
        }
    }
}
