//! `oap bench --quick` end to end: every case on every runtime, with the
//! server in a child `oap bench-server` process (with a directory store
//! for the files case), printed as Markdown tables.

mod common;

use common::{run, stderr, stdout};

#[test]
fn quick_bench_measures_every_case_on_every_runtime() {
    let out = run(&["bench", "--quick"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let table = stdout(&out);
    for runtime in ["tokio", "smol", "async-std"] {
        for case in ["| put | 1 MiB × 2 |", "| get | 1 MiB × 2 |"] {
            let row = format!("| {runtime} {case}");
            assert!(table.contains(&row), "no row `{row}` in\n{table}");
        }
        for case in ["put 1 KiB", "get 1 KiB"] {
            let row = format!("| {runtime} | {case} | 500 | 32 |");
            assert!(table.contains(&row), "no row `{row}` in\n{table}");
        }
        let row = format!("| {runtime} | 50 |");
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
    // Every large-object and file row has a ratio against its own
    // baseline: 2 large and 3 file rows per runtime.
    let ratios = table.matches("×** |").count();
    assert_eq!(ratios, 15, "{table}");
}

#[test]
fn bench_runs_only_what_is_asked_and_refuses_unknown_names() {
    let out = run(&["bench", "--quick", "--runtime", "smol", "--case", "small"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let table = stdout(&out);
    assert!(table.contains("| smol | put 1 KiB |"), "{table}");
    assert!(
        !table.contains("tokio") && !table.contains("| smol | put | 1 MiB"),
        "{table}"
    );

    let out = run(&["bench", "--runtime", "glommio"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("unknown runtime"), "{}", stderr(&out));
}
