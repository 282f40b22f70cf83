//! `oap-bench --quick` end to end: every case on every runtime, with the
//! server in a child `oap-bench serve` process (with a directory store for
//! the files case), printed as Markdown tables and drawn as an SVG chart.

use std::process::{Command, Output, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

/// Upper bound for one run: the quick run of every case on every runtime,
/// in a debug build, on a busy machine.
const TIMEOUT: Duration = Duration::from_secs(300);

/// Runs the built `oap-bench args…` with empty stdin and waits (bounded)
/// for it.
fn run(args: &[&str]) -> Output {
    let child = Command::new(env!("CARGO_BIN_EXE_oap-bench"))
        .args(args)
        .env_remove("RUST_LOG")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn oap-bench");
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        let _ = tx.send(child.wait_with_output());
    });
    rx.recv_timeout(TIMEOUT)
        .unwrap_or_else(|_| panic!("oap-bench {args:?} did not finish within {TIMEOUT:?}"))
        .expect("wait for oap-bench")
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn quick_bench_measures_every_case_on_every_runtime() {
    let out = run(&["--quick"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let table = stdout(&out);
    for runtime in ["tokio", "smol", "async-std"] {
        for case in ["| put | 1 MiB × 2 |", "| get | 1 MiB × 2 |"] {
            let row = format!("| {runtime} {case}");
            assert!(table.contains(&row), "no row `{row}` in\n{table}");
        }
        // Each small row has its CPU per object: in all, the client's and
        // the server's.
        for case in ["put 1 KiB", "get 1 KiB"] {
            let row = format!("| {runtime} | {case} | 500 | 32 |");
            let cells = cells_of(&table, &row);
            assert_eq!(cells.len(), 8, "{cells:?}");
            for cpu in &cells[5..] {
                let cpu: f64 = cpu.parse().expect("CPU µs per object");
                assert!(cpu > 0.0, "{cells:?}");
            }
        }
        let row = format!("| {runtime} | 50 |");
        assert!(table.contains(&row), "no row `{row}` in\n{table}");
        // Puts from the SDK's client and from the reference's, each with
        // its ratio to the reference, then the reference; each with the
        // client's and the server's CPU per put.
        for (what, ratio) in [
            ("SDK's client → gateway", true),
            ("reference's client → gateway", true),
            ("reference's client → reference", false),
        ] {
            let cells = scale_cells(&table, runtime, what);
            let rate: f64 = cells[3].parse().expect("puts/s");
            assert!(rate > 0.0, "{cells:?}");
            if ratio {
                let ratio: f64 = cells[4]
                    .trim_matches(|c| c == '*' || c == '×')
                    .parse()
                    .expect("ratio");
                assert!(ratio > 0.0, "{cells:?}");
            } else {
                assert_eq!(cells[4], "—", "{cells:?}");
            }
            for cpu in &cells[5..] {
                let cpu: f64 = cpu.parse().expect("CPU µs per put");
                assert!(cpu > 0.0, "{cells:?}");
            }
        }
        // The run fails unless every put was acknowledged and a sample of
        // the objects came back intact.
        let row = format!("| {runtime} | 2000 × 8 |");
        assert!(table.contains(&row), "no row `{row}` in\n{table}");
        for case in ["put", "get", "get, sink"] {
            let row = format!("| {runtime} | {case} | 8 MiB |");
            assert!(table.contains(&row), "no row `{row}` in\n{table}");
        }
    }
    assert!(
        table.contains("| baseline | file copy + b3 | 8 MiB |"),
        "{table}"
    );
    // Every large-object, file, scale and churn row has a ratio against
    // its own baseline or reference: 2 large and 3 file rows per runtime,
    // a scale row with two (the SDK's client and the reference's), and a
    // churn row with two (the blocking reference and the async one on the
    // runtime).
    let ratios = table.matches("×** |").count();
    assert_eq!(ratios, 3 * (2 + 3 + 2 + 2), "{table}");
}

/// The cells of `runtime`'s scale row for the puts `what` names (client
/// → server), under the scale case's table of puts.
fn scale_cells(table: &str, runtime: &str, what: &str) -> Vec<String> {
    let header = "| 1 KiB puts, one per connection at once |";
    let scale = &table[table.find(header).expect("the scale case's puts")..];
    let row = scale
        .lines()
        .take_while(|l| !l.is_empty())
        .find(|l| l.starts_with(&format!("| {runtime} |")) && l.contains(&format!("| {what} |")))
        .unwrap_or_else(|| panic!("no scale row for {runtime}, {what} in\n{table}"));
    let cells = cells(row);
    // runtime, connections, what, puts/s, ratio, client and server CPU.
    assert_eq!(cells.len(), 7, "{row}");
    cells
}

/// The cells of the first row of `table` that starts with `start`.
fn cells_of(table: &str, start: &str) -> Vec<String> {
    let row = table
        .lines()
        .find(|l| l.starts_with(start))
        .unwrap_or_else(|| panic!("no row `{start}` in\n{table}"));
    cells(row)
}

/// A Markdown table row's cells, trimmed.
fn cells(row: &str) -> Vec<String> {
    row.trim_matches('|')
        .split('|')
        .map(|c| c.trim().to_owned())
        .collect()
}

#[test]
fn bench_runs_only_what_is_asked_and_refuses_unknown_names() {
    let out = run(&["--quick", "--runtime", "smol", "--case", "small"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let table = stdout(&out);
    assert!(table.contains("| smol | put 1 KiB |"), "{table}");
    assert!(
        !table.contains("tokio") && !table.contains("| smol | put | 1 MiB"),
        "{table}"
    );

    let out = run(&["--runtime", "glommio"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("unknown runtime"), "{}", stderr(&out));

    // The child server: a reference script that is none, or a reference
    // with a store, is a usage error.
    for args in [
        &["serve", "tokio", "--reference", "1:1:0g:00"][..],
        &[
            "serve",
            "tokio",
            "--reference",
            "1:1:00:00",
            "--store-dir",
            ".",
        ],
    ] {
        let out = run(args);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
    }
}

#[test]
fn the_svg_flag_writes_the_chart_of_what_ran() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let path = dir.path().join("run.svg");
    let out = run(&[
        "--quick",
        "--runtime",
        "smol",
        "--case",
        "churn",
        "--svg",
        path.to_str().expect("UTF-8 path"),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("| smol | 2000 × 8 |"),
        "{}",
        stdout(&out)
    );
    let svg = std::fs::read_to_string(&path).expect("the chart was written");
    assert!(svg.trim_start().starts_with("<svg"), "{svg}");
    assert!(svg.trim_end().ends_with("</svg>"), "{svg}");
    for text in [
        "Connection churn",
        "smol",
        "gateway",
        "reference (plain TCP)",
    ] {
        assert!(svg.contains(text), "no `{text}` in {svg}");
    }
    // Only the case that ran is drawn.
    assert!(!svg.contains("Small objects"), "{svg}");
}

#[test]
fn repeat_prints_the_median_run_and_every_figures_spread() {
    let out = run(&[
        "--quick",
        "--runtime",
        "tokio",
        "--case",
        "small",
        "--repeat",
        "3",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        stderr(&out).matches("oap-bench: run ").count(),
        3,
        "{}",
        stderr(&out)
    );
    let table = stdout(&out);
    assert!(table.starts_with("The median of 3 runs"), "{table}");
    // The median run's table, as one run prints it…
    let rate: f64 = cells_of(&table, "| tokio | put 1 KiB | 500 | 32 |")[4]
        .parse()
        .expect("objects/s");
    // …then the spread, whose median is that row's rate, within a range
    // over all three runs.
    let spread = cells_of(&table, "| tokio | put 1 KiB × 500 | objects/s |");
    assert_eq!(spread.len(), 7, "{spread:?}");
    let median: f64 = spread[3].parse().expect("median");
    assert_eq!(median, rate.round(), "{table}");
    let range: Vec<f64> = spread[5]
        .split('–')
        .map(|x| x.parse().expect("range"))
        .collect();
    assert!(range[0] <= median && median <= range[1], "{spread:?}");
    assert_eq!(spread[6], "3", "{spread:?}");

    let out = run(&["--repeat", "0"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
}
