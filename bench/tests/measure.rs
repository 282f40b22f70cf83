//! The measuring tools the benchmarks rest on: process figures from /proc
//! and the ratios the table prints.

use std::time::Duration;

use oap_bench::proc_stats::{self, Pid};
use oap_bench::report::{
    AgainstReference, ChurnRow, LargeRow, Measure, Report, ScaleRow, SmallRow,
};

/// Busy for at least 100 ms of wall time: at least a few 10 ms ticks of
/// CPU, however loaded the machine.
#[cfg(target_os = "linux")]
fn spin() {
    let mut x = 0u64;
    let start = std::time::Instant::now();
    while start.elapsed() < Duration::from_millis(100) {
        for i in 0..100_000u64 {
            x = x.wrapping_mul(31).wrapping_add(i);
        }
    }
    std::hint::black_box(x);
}

#[cfg(target_os = "linux")]
#[test]
fn cpu_time_grows_with_work_and_memory_with_touched_pages() {
    let cpu0 = proc_stats::cpu_time(Pid::Current).expect("cpu time");
    spin();
    assert!(proc_stats::cpu_time(Pid::Current).expect("cpu time") > cpu0);

    let before = proc_stats::memory(Pid::Current).expect("memory");
    assert!(before.rss > 0 && before.peak >= before.rss);
    let touched = vec![1u8; 64 << 20];
    let after = proc_stats::memory(Pid::Current).expect("memory");
    assert!(
        after.rss >= before.rss + (32 << 20),
        "{before:?} -> {after:?}"
    );
    assert!(after.peak >= after.rss);
    drop(std::hint::black_box(touched));
}

#[cfg(target_os = "linux")]
#[test]
fn thread_cpu_times_see_a_busy_thread_by_itself() {
    let before = proc_stats::thread_cpu_times(Pid::Current).expect("threads");
    let (busy_done, spun) = std::sync::mpsc::channel();
    let (may_exit, exit) = std::sync::mpsc::channel::<()>();
    let spinner = std::thread::spawn(move || {
        spin();
        busy_done.send(()).expect("main waits");
        // Stay alive until read: a finished thread leaves /proc.
        let _ = exit.recv();
    });
    spun.recv().expect("spinner");
    let after = proc_stats::thread_cpu_times(Pid::Current).expect("threads");
    drop(may_exit);
    spinner.join().expect("spinner");
    assert!(after.len() > before.len(), "{before:?} -> {after:?}");
    let busiest = proc_stats::busiest_thread(&before, &after).expect("a thread ran");
    assert!(busiest >= Duration::from_millis(10), "{busiest:?}");
}

#[test]
fn the_busiest_thread_counts_newcomers_from_zero() {
    let ms = Duration::from_millis;
    let before = [(1, ms(500)), (2, ms(100)), (3, ms(900))].into();
    // Thread 1 used 200 ms, 2 used 50, 3 ended, 4 was born and used 300.
    let after = [(1, ms(700)), (2, ms(150)), (4, ms(300))].into();
    assert_eq!(proc_stats::busiest_thread(&before, &after), Some(ms(300)));
    let quiet = [(1, ms(500))].into();
    assert_eq!(proc_stats::busiest_thread(&quiet, &quiet), Some(ms(0)));
    assert_eq!(
        proc_stats::busiest_thread(&quiet, &Default::default()),
        None
    );
}

fn row(op: &'static str, wall_ms: u64, baseline_ms: Option<u64>) -> LargeRow {
    let measure = |ms| Measure {
        wall: Duration::from_millis(ms),
        cpu: Some(Duration::from_millis(ms / 2)),
        ..Measure::default()
    };
    LargeRow {
        runtime: "tokio",
        op,
        size: 1 << 30,
        iterations: 2,
        measure: measure(wall_ms),
        server_peak: Some(3 << 20),
        baseline: baseline_ms.map(measure),
    }
}

#[test]
fn rows_report_rates_and_ratios_against_their_own_baseline() {
    // 2 GiB in 1 s against the baseline's 0.5 s: half its rate.
    let r = row("put", 1000, Some(500));
    assert!((r.gbps() - 2.147_483_648).abs() < 1e-9);
    assert!((r.ratio().expect("ratio") - 0.5).abs() < 1e-9);
    assert!((r.cpu_per_gb().expect("cpu") - 0.5 / 2.147_483_648).abs() < 1e-9);
    assert_eq!(row("get", 1000, None).ratio(), None);

    let report = Report {
        large: vec![row("put", 1000, Some(500)), row("get", 400, Some(500))],
        ..Report::default()
    };
    let table = report.table();
    assert!(
        table.contains(
            "| tokio | put | 1024 MiB × 2 | 2.15 | 4.29 | **0.50×** | 0.23 | 0.12 | 3 MiB |"
        ),
        "{table}"
    );
    assert!(
        table.contains("| tokio | get | 1024 MiB × 2 | 5.37 | 4.29 | **1.25×** |"),
        "{table}"
    );
}

#[test]
fn file_rows_have_their_own_table_with_both_peaks() {
    let mut put = row("put", 1000, Some(500));
    put.iterations = 1;
    put.measure.client_peak = Some(12 << 20);
    let mut sink = row("get, sink", 250, Some(500));
    sink.iterations = 1;
    let report = Report {
        files: vec![put, sink],
        ..Report::default()
    };
    let table = report.table();
    assert!(table.contains("| client peak | server peak |"), "{table}");
    assert!(
        table.contains(
            "| tokio | put | 1024 MiB | 1.07 | 2.15 | **0.50×** | 0.47 | 0.23 | 12 MiB | 3 MiB |"
        ),
        "{table}"
    );
    assert!(
        table.contains(
            "| tokio | get, sink | 1024 MiB | 4.29 | 2.15 | **2.00×** | 0.12 | 0.23 | n/a | 3 MiB |"
        ),
        "{table}"
    );
    let line = report.files[0].line_with_peaks();
    assert!(
        line.ends_with("peak 12 MiB client / 3 MiB server"),
        "{line}"
    );

    // Without file rows there is no files table.
    let table = Report::default().table();
    assert!(!table.contains("client peak"), "{table}");
}

#[test]
fn churn_rows_report_connections_per_second_and_server_cpu_per_connection() {
    let measure = |wall_s, server_cpu_s: Option<u64>| Measure {
        wall: Duration::from_secs(wall_s),
        server_cpu: server_cpu_s.map(Duration::from_secs),
        ..Measure::default()
    };
    // 200,000 connections in 20 s, the gateway busy for 5 s; the
    // reference took 8 s and 2 s, the async one 10 s and 4 s.
    let row = ChurnRow {
        runtime: "smol",
        connections: 200_000,
        threads: 8,
        measure: measure(20, Some(5)),
        server_peak: Some(300 << 20),
        reference: measure(8, Some(2)),
        runtime_reference: measure(10, Some(4)),
    };
    assert!((row.rate() - 10_000.0).abs() < 1e-9);
    assert!((row.reference_rate() - 25_000.0).abs() < 1e-9);
    assert!((row.ratio() - 0.4).abs() < 1e-9);
    assert!((row.server_cpu_us().expect("cpu") - 25.0).abs() < 1e-9);
    assert!((row.reference_cpu_us().expect("cpu") - 10.0).abs() < 1e-9);
    assert!((row.runtime_reference_rate() - 20_000.0).abs() < 1e-9);
    assert!((row.runtime_ratio() - 0.5).abs() < 1e-9);
    assert!((row.runtime_reference_cpu_us().expect("cpu") - 20.0).abs() < 1e-9);

    let without_proc = ChurnRow {
        measure: measure(20, None),
        ..row.clone()
    };
    let report = Report {
        churn: vec![row, without_proc],
        ..Report::default()
    };
    let table = report.table();
    assert!(
        table.contains(
            "| smol | 200000 × 8 | 10000 | 25000 | **0.40×** | 20000 | **0.50×** | 25.0 | 10.0 | 20.0 | 300 MiB |"
        ),
        "{table}"
    );
    assert!(table.contains("| **0.50×** | n/a | 10.0 |"), "{table}");

    // Without churn rows there is no churn table.
    let table = Report::default().table();
    assert!(!table.contains("reference connections/s"), "{table}");
}

#[test]
fn scale_rows_report_puts_per_second_next_to_the_reference() {
    // `cpu_ms` of CPU in all, `server_ms` of it the server's.
    let measure = |wall_ms, cpu_ms, server_ms| Measure {
        wall: Duration::from_millis(wall_ms),
        cpu: Some(Duration::from_millis(cpu_ms)),
        server_cpu: Some(Duration::from_millis(server_ms)),
        ..Measure::default()
    };
    // 1,000 puts in 25 ms from the SDK, 20 ms from the reference's
    // client; the reference took 10 ms.
    let row = ScaleRow {
        runtime: "tokio",
        connections: 1_000,
        fresh_per_connection: Some(3 << 10),
        idle_per_connection: Some(7 << 10),
        per_open_request: None,
        puts: 1_000,
        measure: measure(25, 45, 20),
        same_client: measure(20, 34, 22),
        reference: Measure {
            server_cpu: None,
            ..measure(10, 16, 0)
        },
    };
    assert!((row.rate() - 40_000.0).abs() < 1e-6);
    assert!((row.reference_rate() - 100_000.0).abs() < 1e-6);
    assert!((row.ratio() - 0.4).abs() < 1e-9);
    assert!((row.same_client_rate() - 50_000.0).abs() < 1e-6);
    assert!((row.same_client_ratio() - 0.5).abs() < 1e-9);
    let line = row.line();
    assert!(
        line.contains(
            "40000 puts/s from the SDK (0.40x the reference's 100000), 50000 from the reference's client (0.50x)"
        ),
        "{line}"
    );
    // The client's share is the total less the server's; without the
    // server's, neither is known.
    let cpu = row.measure.cpu_us_per(row.puts);
    assert!((cpu.total.expect("total") - 45.0).abs() < 1e-9);
    assert!((cpu.client.expect("client") - 25.0).abs() < 1e-9);
    assert!((cpu.server.expect("server") - 20.0).abs() < 1e-9);
    let cpu = row.reference.cpu_us_per(row.puts);
    assert_eq!((cpu.client, cpu.server), (None, None));
    assert!((cpu.total.expect("total") - 16.0).abs() < 1e-9);

    let report = Report {
        scale: vec![row],
        ..Report::default()
    };
    let table = report.table();
    for line in [
        "| tokio | 1000 | 3.0 KiB | 7.0 KiB | n/a |".to_owned(),
        format!(
            "| puts/s (median of {} rounds) | vs. reference | client CPU µs/put | server CPU µs/put |",
            oap_bench::scale::ROUNDS
        ),
        "| tokio | 1000 | SDK's client → gateway | 40000 | **0.40×** | 25.0 | 20.0 |".to_owned(),
        "| tokio | 1000 | reference's client → gateway | 50000 | **0.50×** | 12.0 | 22.0 |"
            .to_owned(),
        "| tokio | 1000 | reference's client → reference | 100000 | — | n/a | n/a |".to_owned(),
    ] {
        assert!(table.contains(&line), "no `{line}` in\n{table}");
    }
}

#[test]
fn small_rows_split_the_cpu_per_object_between_client_and_server() {
    // 20,000 objects: 200 ms of CPU, 80 ms of it the server's.
    let row = |op, server_ms: Option<u64>| SmallRow {
        runtime: "tokio",
        op,
        size: 1024,
        inflight: 32,
        objects: 20_000,
        measure: Measure {
            wall: Duration::from_millis(100),
            cpu: Some(Duration::from_millis(200)),
            server_cpu: server_ms.map(Duration::from_millis),
            ..Measure::default()
        },
    };
    let report = Report {
        small: vec![row("put", Some(80)), row("get", None)],
        ..Report::default()
    };
    let table = report.table();
    for line in [
        "| objects/s | CPU µs/object | client CPU µs/object | server CPU µs/object |",
        "| tokio | put 1 KiB | 20000 | 32 | 200000 | 10.0 | 6.0 | 4.0 |",
        "| tokio | get 1 KiB | 20000 | 32 | 200000 | 10.0 | n/a | n/a |",
    ] {
        assert!(table.contains(line), "no `{line}` in\n{table}");
    }
}

#[cfg(target_os = "linux")]
#[test]
fn a_child_server_reports_its_cpu_clock_to_the_nanosecond() {
    let launcher = oap_bench::Launcher::new(env!("CARGO_BIN_EXE_oap-bench"), ["serve"]);
    let server = launcher
        .start(oap_bench::RuntimeKind::Tokio)
        .expect("child server");
    let first = server.cpu_time().expect("cpu time");
    let second = server.cpu_time().expect("cpu time");
    assert!(second >= first, "{first:?} -> {second:?}");
    // `/proc` counts in whole 10 ms ticks; the child's own clock does not
    // (a reading on a tick exactly is a one in ten million chance).
    let tick = Duration::from_millis(10).as_nanos();
    assert!(
        first.as_nanos() % tick != 0 || second.as_nanos() % tick != 0,
        "{first:?} and {second:?} are whole ticks: not the child's clock"
    );
}

#[test]
fn measures_of_turns_add_up_and_unknowns_stay_unknown() {
    let ms = Duration::from_millis;
    let turn = |n: u64, peak: Option<u64>| Measure {
        wall: ms(10 * n),
        cpu: Some(ms(4 * n)),
        server_cpu: Some(ms(3 * n)),
        busiest_client: Some(ms(n)),
        busiest_server: Some(ms(2 * n)),
        client_peak: peak,
    };
    let mut total = turn(1, Some(100));
    total.add(&turn(2, Some(300)));
    assert_eq!(total.wall, ms(30));
    assert_eq!((total.cpu, total.server_cpu), (Some(ms(12)), Some(ms(9))));
    assert_eq!(
        (total.busiest_client, total.busiest_server),
        (Some(ms(3)), Some(ms(6)))
    );
    assert_eq!(total.client_peak, Some(300), "the higher peak");
    // The busiest thread's share is the turns' average.
    assert_eq!(total.busiest_shares(), (Some(0.1), Some(0.2)));

    // One turn without a server figure leaves the sum unknown.
    total.add(&Measure {
        server_cpu: None,
        client_peak: None,
        ..turn(1, None)
    });
    assert_eq!((total.server_cpu, total.client_peak), (None, None));
    assert_eq!(total.cpu, Some(ms(16)));
}
