use super::*;

fn line(ctx: &str, path: &str, tool: &str, pid: u32, ns: u64) -> String {
    format!("{ctx}\tapp/0\t{path}\t{tool}\t{pid}\t{ns}\n")
}

#[test]
fn a_line_has_six_fields_with_numbers_where_numbers_belong() {
    let call = parse_line("app/0-install-3\tapp/0\thooks/install\tis-leader\t42\t1500000\n");
    assert_eq!(
        call,
        Some(ToolCall {
            context: "app/0-install-3".into(),
            unit: "app/0".into(),
            dispatch_path: "hooks/install".into(),
            tool: "is-leader".into(),
            pid: 42,
            cpu_ns: 1_500_000,
        })
    );
}

#[test]
fn malformed_lines_are_skipped() {
    for bad in [
        "",
        "a\tb\tc\td\te",
        "a\tb\tc\td\tpid\t10",
        "a\tb\tc\td\t1\tten",
        "a\tb\tc\td\t1\t10\textra",
        "a\tb\tc\td\t-1\t10",
    ] {
        assert_eq!(parse_line(bad), None, "{bad:?}");
    }
}

#[test]
fn a_dispatch_keeps_its_last_reading_and_counts_its_calls() {
    let log = [
        line("u-install-1", "hooks/install", "is-leader", 10, 900_000),
        line("u-install-1", "hooks/install", "status-set", 10, 1_300_000),
        line("u-start-2", "hooks/start", "status-set", 11, 800_000),
        "garbage\n".to_string(),
        // The same context id in another process is another dispatch.
        line("u-install-1", "hooks/install", "is-leader", 12, 700_000),
    ]
    .concat();
    let ds = dispatches(&log);
    let got: Vec<(&str, usize, u64)> = ds
        .iter()
        .map(|d| (d.hook.as_str(), d.calls, d.cpu_ns))
        .collect();
    assert_eq!(
        got,
        [
            ("install", 2, 1_300_000),
            ("start", 1, 800_000),
            ("install", 1, 700_000)
        ]
    );
}

#[test]
fn actions_are_labelled_as_actions() {
    assert_eq!(hook_label("actions/greet"), "action greet");
    assert_eq!(
        hook_label("hooks/db-relation-changed"),
        "db-relation-changed"
    );
    assert_eq!(hook_label("odd"), "odd");
}

#[test]
fn median_of_odd_even_and_empty_lists() {
    assert_eq!(median(&[3.0, 1.0, 2.0]), Some(2.0));
    assert_eq!(median(&[4.0, 1.0, 3.0, 2.0]), Some(2.5));
    assert_eq!(median(&[]), None);
    assert_eq!(median(&[f64::NAN, 5.0]), Some(5.0));
}

#[test]
fn rows_give_medians_and_the_ratio_to_the_floor() {
    let d = |calls, ms: u64| Dispatch {
        unit: "a/0".into(),
        hook: "install".into(),
        calls,
        cpu_ns: ms * 1_000_000,
    };
    let mut samples = BTreeMap::new();
    samples.insert(
        ("hello".to_string(), "install".to_string()),
        vec![d(5, 3), d(7, 1), d(6, 2)],
    );
    samples.insert(("hello".to_string(), "start".to_string()), vec![]);
    let rows = rows(&samples, 2.0);
    assert_eq!(
        rows,
        [Row {
            charm: "hello".into(),
            hook: "install".into(),
            runs: 3,
            calls: 6.0,
            cpu_ms: 2.0,
            ratio: 1.0,
        }]
    );
}
