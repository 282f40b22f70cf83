//! The same cases run many times over: each figure's median and spread.
//!
//! On a shared machine one run of a case can move by up to 2× for the
//! same build, as the host's speed changes from one second to the next
//! (`docs/PERFORMANCE.md`). A verdict against a target needs many runs,
//! taken in turns so that a slow stretch falls on every runtime alike.
//! `oap-bench --repeat N` runs the selected cases N times, the runtimes
//! taking turns within each run ([`run`]), and prints:
//!
//! * the median run's tables ([`Runs::median`]): each row taken whole from
//!   the run where its main figure is the median, so that the figures of
//!   one row still come from one run;
//! * every figure's median, middle half and range over the runs
//!   ([`Runs::spread_table`]).
//!
//! The median of an even count of runs is the higher of the two middle
//! ones, so that it is always a figure some run measured.

use std::fmt::Write as _;

use crate::report::{AgainstReference, LargeRow, Report, kib, size_label};
use crate::{Error, Launcher, Options};

/// Runs `options`' cases `runs` times (once if `runs` is 0), one run after
/// the other, starting servers with `launcher`.
pub fn run(options: &Options, launcher: &Launcher, runs: usize) -> Result<Runs, Error> {
    let runs = runs.max(1);
    let mut reports = Vec::with_capacity(runs);
    for i in 1..=runs {
        if runs > 1 {
            eprintln!("oap-bench: run {i} of {runs}");
        }
        reports.push(crate::run(options, launcher)?);
    }
    Runs::new(reports)
}

/// The reports of several runs of the same cases, in run order.
#[derive(Debug, Clone)]
pub struct Runs {
    reports: Vec<Report>,
}

/// One figure of one row of a run, as the spread table lists it.
#[derive(Debug, Clone)]
struct Figure {
    runtime: &'static str,
    /// The row within its runtime: the case and what it moved.
    case: String,
    name: String,
    /// `None` where the run could not measure it (no `/proc`).
    value: Option<f64>,
    /// Decimals it prints with.
    decimals: usize,
}

impl Runs {
    /// Runs from their reports, which must hold the same rows in the same
    /// order (the same options): an error if they do not, or if there are
    /// none.
    pub fn new(reports: Vec<Report>) -> Result<Self, Error> {
        let first = reports.first().ok_or("no runs to summarise")?;
        let shape = |r: &Report| -> Vec<_> {
            figures(r)
                .into_iter()
                .map(|f| (f.runtime, f.case, f.name))
                .collect()
        };
        let rows = shape(first);
        if reports.iter().any(|r| shape(r) != rows) {
            return Err("the runs measured different rows; nothing to compare".into());
        }
        Ok(Self { reports })
    }

    /// Every run's report, in run order.
    pub fn reports(&self) -> &[Report] {
        &self.reports
    }

    /// The median run: each row from the run whose main figure for it is
    /// the median. Main figures: the ratio to the baseline for large
    /// objects and files (GB/s for the baselines themselves), objects/s
    /// for small objects, puts/s from the SDK's client for the scale case,
    /// the ratio to the blocking reference for churn.
    pub fn median(&self) -> Report {
        let large = |r: &LargeRow| r.ratio().unwrap_or_else(|| r.gbps());
        Report {
            large: self.median_rows(|r| &r.large, large),
            small: self.median_rows(|r| &r.small, |r| r.rate()),
            scale: self.median_rows(|r| &r.scale, |r| r.rate()),
            churn: self.median_rows(|r| &r.churn, |r| r.ratio()),
            files: self.median_rows(|r| &r.files, large),
        }
    }

    /// For each row position of `rows`, the row whose `key` is the median
    /// over the runs.
    fn median_rows<T: Clone>(
        &self,
        rows: impl Fn(&Report) -> &Vec<T>,
        key: impl Fn(&T) -> f64,
    ) -> Vec<T> {
        // `new` checked that every run has as many rows as the first.
        (0..rows(&self.reports[0]).len())
            .map(|i| {
                let mut row: Vec<&T> = self.reports.iter().map(|r| &rows(r)[i]).collect();
                row.sort_by(|a, b| key(a).total_cmp(&key(b)));
                row[row.len() / 2].clone()
            })
            .collect()
    }

    /// Every figure's median, middle half and range over the runs that
    /// measured it, as a Markdown table. The middle half runs from the
    /// value a quarter of the way up the sorted values to the one three
    /// quarters of the way up.
    pub fn spread_table(&self) -> String {
        let per_run: Vec<Vec<Figure>> = self.reports.iter().map(figures).collect();
        let mut s = String::new();
        let _ = writeln!(
            s,
            "| runtime | case | figure | median of {} runs | middle half | range | runs |\n|---|---|---|---|---|---|---|",
            self.reports.len()
        );
        for (i, figure) in per_run[0].iter().enumerate() {
            let mut values: Vec<f64> = per_run.iter().filter_map(|run| run[i].value).collect();
            values.sort_by(f64::total_cmp);
            let n = values.len();
            let show = |x: f64| format!("{x:.*}", figure.decimals);
            let (median, half, range) = match (values.first(), values.last()) {
                (Some(&low), Some(&high)) => (
                    show(values[n / 2]),
                    format!("{}–{}", show(values[n / 4]), show(values[(3 * n) / 4])),
                    format!("{}–{}", show(low), show(high)),
                ),
                _ => ("n/a".to_owned(), "n/a".to_owned(), "n/a".to_owned()),
            };
            let _ = writeln!(
                s,
                "| {} | {} | {} | {median} | {half} | {range} | {n} |",
                figure.runtime, figure.case, figure.name
            );
        }
        s
    }
}

/// The figures of one run, in the order its tables print them.
fn figures(report: &Report) -> Vec<Figure> {
    let mut out = Vec::new();
    // One row's figures: name, value, decimals.
    let mut row = |runtime, case: String, figures: Vec<(String, Option<f64>, usize)>| {
        out.extend(figures.into_iter().map(|(name, value, decimals)| Figure {
            runtime,
            case: case.clone(),
            name,
            value,
            decimals,
        }));
    };
    let name = str::to_owned;
    for (section, rows) in [("large", &report.large), ("files", &report.files)] {
        for r in rows {
            let case = format!(
                "{section}: {} {} × {}",
                r.op,
                size_label(r.size),
                r.iterations
            );
            let mut figures = vec![(name("GB/s"), Some(r.gbps()), 2)];
            if r.baseline.is_some() {
                figures.push((name("vs. baseline"), r.ratio(), 2));
            }
            figures.push((name("CPU s/GB"), r.cpu_per_gb(), 2));
            row(r.runtime, case, figures);
        }
    }
    for r in &report.small {
        let case = format!("{} {} × {}", r.op, size_label(r.size), r.objects);
        let cpu = r.measure.cpu_us_per(r.objects);
        row(
            r.runtime,
            case,
            vec![
                (name("objects/s"), Some(r.rate()), 0),
                (name("CPU µs/object"), cpu.total, 2),
                (name("client CPU µs/object"), cpu.client, 2),
                (name("server CPU µs/object"), cpu.server, 2),
            ],
        );
    }
    for r in &report.scale {
        let case = format!("{} connections", r.connections);
        let idle = kib(r.idle_per_connection);
        let mut figures = vec![(name("KiB per idle connection"), idle, 1)];
        for (what, m, ratio) in r.runs() {
            let cpu = m.cpu_us_per(r.puts);
            figures.push((format!("puts/s, {what}"), Some(m.per_second(r.puts)), 0));
            if ratio.is_some() {
                figures.push((format!("vs. reference, {what}"), ratio, 2));
            }
            figures.push((format!("client CPU µs/put, {what}"), cpu.client, 1));
            figures.push((format!("server CPU µs/put, {what}"), cpu.server, 1));
        }
        row(r.runtime, case, figures);
    }
    for r in &report.churn {
        let case = format!("churn {} × {}", r.connections, r.threads);
        row(
            r.runtime,
            case,
            vec![
                (name("connections/s"), Some(r.rate()), 0),
                (name("reference connections/s"), Some(r.reference_rate()), 0),
                (name("vs. reference"), Some(r.ratio()), 2),
                (
                    name("async reference connections/s"),
                    Some(r.runtime_reference_rate()),
                    0,
                ),
                (name("vs. async reference"), Some(r.runtime_ratio()), 2),
                (name("server CPU µs/connection"), r.server_cpu_us(), 1),
            ],
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::report::{ChurnRow, Measure, SmallRow};

    /// A measure of `wall_ms`, with the client and the server using a
    /// millisecond of CPU each.
    fn measure(wall_ms: u64) -> Measure {
        Measure {
            wall: Duration::from_millis(wall_ms),
            cpu: Some(Duration::from_millis(2)),
            server_cpu: Some(Duration::from_millis(1)),
            ..Measure::default()
        }
    }

    /// A run of 1,000 small puts taking `wall_ms`, and 100 churned
    /// connections taking `gateway_ms` against the reference's 10 ms.
    fn run(wall_ms: u64, gateway_ms: u64) -> Report {
        Report {
            small: vec![SmallRow {
                runtime: "tokio",
                op: "put",
                size: 1024,
                inflight: 32,
                objects: 1000,
                measure: measure(wall_ms),
            }],
            churn: vec![ChurnRow {
                runtime: "smol",
                connections: 100,
                threads: 8,
                measure: measure(gateway_ms),
                server_peak: None,
                reference: measure(10),
                runtime_reference: measure(10),
            }],
            ..Report::default()
        }
    }

    #[test]
    fn the_median_run_takes_each_row_from_its_own_median() {
        // Small puts: 100,000/s, 33,333/s, 50,000/s: the median is the third
        // run's. Churn: 0.5×, 0.25×, 1×: the first run's.
        let runs = Runs::new(vec![run(10, 20), run(30, 40), run(20, 10)]).unwrap();
        let median = runs.median();
        assert_eq!(median.small[0].measure.wall, Duration::from_millis(20));
        assert_eq!(median.churn[0].measure.wall, Duration::from_millis(20));
        assert_eq!(runs.reports().len(), 3);
    }

    #[test]
    fn an_even_count_takes_the_higher_middle_run() {
        let runs = Runs::new(vec![run(10, 10), run(40, 10), run(20, 10), run(30, 10)]).unwrap();
        // 25,000, 33,333, 50,000, 100,000 objects/s: the higher middle one.
        assert_eq!(
            runs.median().small[0].measure.wall,
            Duration::from_millis(20)
        );
    }

    /// Fails unless `table` has the line `row`.
    fn assert_row(table: &str, row: &str) {
        assert!(table.lines().any(|l| l == row), "no `{row}` in\n{table}");
    }

    /// [`run`] without the CPU times of its small puts.
    fn blind(wall_ms: u64) -> Report {
        let mut r = run(wall_ms, 10);
        r.small[0].measure.cpu = None;
        r
    }

    #[test]
    fn the_spread_table_gives_median_quartiles_and_range() {
        let runs = Runs::new(vec![run(10, 20), run(40, 10), run(20, 10), run(80, 10)]).unwrap();
        let table = runs.spread_table();
        assert!(
            table.starts_with("| runtime | case | figure | median of 4 runs |"),
            "{table}"
        );
        // 12,500, 25,000, 50,000, 100,000 objects/s.
        let put = "| tokio | put 1 KiB × 1000 |";
        assert_row(
            &table,
            &format!("{put} objects/s | 50000 | 25000–100000 | 12500–100000 | 4 |"),
        );
        // 2 ms of CPU for 1,000 objects in every run.
        assert_row(
            &table,
            &format!("{put} CPU µs/object | 2.00 | 2.00–2.00 | 2.00–2.00 | 4 |"),
        );
        let churn = "| smol | churn 100 × 8 |";
        // 100 connections in 10 ms against the reference in every run.
        let reference = "reference connections/s | 10000 | 10000–10000 | 10000–10000 | 4 |";
        assert_row(&table, &format!("{churn} {reference}"));
        assert_row(
            &table,
            &format!("{churn} vs. reference | 1.00 | 1.00–1.00 | 0.50–1.00 | 4 |"),
        );
    }

    #[test]
    fn figures_a_run_could_not_measure_are_left_out_of_the_count() {
        let put = "| tokio | put 1 KiB × 1000 | CPU µs/object |";
        let table = Runs::new(vec![blind(10), run(20, 10)])
            .unwrap()
            .spread_table();
        assert_row(&table, &format!("{put} 2.00 | 2.00–2.00 | 2.00–2.00 | 1 |"));
        let table = Runs::new(vec![blind(10)]).unwrap().spread_table();
        assert_row(&table, &format!("{put} n/a | n/a | n/a | 0 |"));
    }

    #[test]
    fn runs_of_different_cases_are_refused() {
        let mut other = run(10, 10);
        other.churn.clear();
        assert!(Runs::new(vec![run(10, 10), other]).is_err());
        assert!(Runs::new(Vec::new()).is_err());
    }
}
