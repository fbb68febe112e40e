//! Commands leave nothing behind in this process: no descriptor, whether they ran, failed to
//! start, or timed out. (A file of its own: other tests running beside it would open some.)
#![allow(clippy::unwrap_used)]

use charm_exec::{Exec, ExecError};
use std::time::Duration;

fn open_descriptors() -> usize {
    std::fs::read_dir("/proc/self/fd").unwrap().count()
}

#[test]
fn commands_leave_no_descriptor_open() {
    // The first run opens what is kept for good (/dev/null for stdin).
    Exec::new("true").run().unwrap();
    let before = open_descriptors();
    for _ in 0..20 {
        let out = Exec::new("sh")
            .args(["-c", "echo out; echo err >&2"])
            .run()
            .unwrap();
        assert_eq!(out.stdout.text(), "out\n");
        let out = Exec::new("cat").stdin("fed").run().unwrap();
        assert_eq!(out.stdout.text(), "fed");
        let err = Exec::new("/nonexistent/tool").run().unwrap_err();
        assert!(matches!(err, ExecError::Spawn { .. }), "{err:?}");
    }
    let err = Exec::new("sleep")
        .arg("5")
        .timeout(Duration::from_millis(50))
        .run()
        .unwrap_err();
    assert!(matches!(err, ExecError::TimedOut { .. }), "{err:?}");
    assert_eq!(open_descriptors(), before);
}
