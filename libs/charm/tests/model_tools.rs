//! The real backend's tools for the rest of the model (the escape hatch, networks, storage,
//! resources, credentials, reboot, goal state, status) against stub hook tools: exact argv,
//! output parsing, errors and bad output.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use charm::backend::{HookToolError, HookTools, ProcessBackend, ToolName};
use charm_testing::StubTools;

fn stubs() -> StubTools {
    StubTools::new().unwrap()
}

fn backend(s: &StubTools) -> ProcessBackend {
    ProcessBackend::new("app").with_tools_dir(s.bin())
}

fn argv(words: &[&str]) -> Vec<String> {
    words.iter().map(|w| w.to_string()).collect()
}

#[test]
fn escape_hatch_runs_the_named_tool_with_the_argv_as_given() {
    let s = stubs();
    let mut t = backend(&s);
    s.answer("unit-get", "10.0.0.7\n").unwrap();
    let tool = ToolName::new("unit-get").unwrap();
    let out = t
        .run_tool(&tool, &argv(&["--format=json", "--", "private-address"]))
        .unwrap();
    assert_eq!(out, "10.0.0.7\n");
    assert_eq!(
        s.last(),
        argv(&["unit-get", "--format=json", "--", "private-address"])
    );
    // Failures are classified like any other tool's.
    s.fail("unit-get", 2, "ERROR option provided but not defined: --x\n")
        .unwrap();
    match t.run_tool(&tool, &argv(&["--x"])) {
        Err(HookToolError::Failed { tool, code, stderr }) => {
            assert_eq!((tool.as_str(), code), ("unit-get", 2));
            assert!(stderr.contains("--x"));
        }
        other => panic!("{other:?}"),
    }
    // A tool that is not there is a spawn error, not a panic.
    let missing = ToolName::new("no-such-tool").unwrap();
    assert!(matches!(
        t.run_tool(&missing, &[]),
        Err(HookToolError::Spawn { .. })
    ));
}
