//! Tests of `checks.rs.rs`.

use super::*;

#[test]
fn check_info_omits_empty_fields() {
    let config = Check {
        threshold: 3,
        startup: Some(Startup::Disabled),
        ..Check::default()
    };
    let rec = CheckRec::new(config);
    let v = rec.to_json("db");
    assert_eq!(
        v,
        json!({"name":"db","startup":"disabled","status":"inactive","successes":0,"threshold":3})
    );
}

#[test]
fn tcp_check_fails_on_a_closed_port_and_passes_on_an_open_one() -> std::io::Result<()> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    let port = i64::from(listener.local_addr()?.port());
    assert_eq!(run_tcp("127.0.0.1", port, Duration::from_secs(5)), Ok(()));
    drop(listener);
    let err = run_tcp("127.0.0.1", port, Duration::from_secs(5));
    assert!(err.is_err_and(|e| e.starts_with(&format!("dial tcp 127.0.0.1:{port}: "))));
    Ok(())
}
