//! The run as an SVG chart (`oap-bench --svg FILE`), one panel per kind of
//! figure the run has:
//!
//! * large objects, and files: GB/s against object size (log scale), a
//!   line per runtime and operation, next to the baselines measured in
//!   the same run;
//! * small objects: objects per second, a bar per operation for each
//!   runtime;
//! * connection churn: connections per second, the gateway's bar next to
//!   the reference's for each runtime.
//!
//! Of several runs (`--repeat`), it draws the median run
//! ([`Runs::median`]) with a whisker on each point and bar from the
//! lowest to the highest the runs measured for it.
//!
//! Drawn with plotters' SVG backend alone, which writes text as SVG
//! `<text>` for the viewer to render: no font is read, so it builds and
//! runs with no system library.

use plotters::coord::Shift;
use plotters::coord::ranged1d::SegmentValue;
use plotters::prelude::*;

use crate::repeat::Runs;
use crate::report::{AgainstReference, LargeRow, Report};

/// Width of the chart, in pixels.
const WIDTH: u32 = 1100;
/// Height of each panel, in pixels.
const PANEL_HEIGHT: u32 = 460;
/// Room above the tallest point or bar for the legend, as a factor of it.
const HEADROOM: f64 = 1.5;

/// A figure as drawn: the median run's, and the lowest and highest of
/// all runs (the figure itself, of one run).
#[derive(Debug, Clone, Copy, PartialEq)]
struct Spread {
    value: f64,
    low: f64,
    high: f64,
}

impl Spread {
    /// One run's figure.
    fn of(value: f64) -> Self {
        Self {
            value,
            low: value,
            high: value,
        }
    }

    /// Widens the range to take in `other`'s.
    fn widen(&mut self, other: Spread) {
        self.low = self.low.min(other.low);
        self.high = self.high.max(other.high);
    }
}

/// A line of a throughput panel.
#[derive(Debug, Clone, PartialEq)]
struct Line {
    label: String,
    /// (object size in MiB, GB/s), by size.
    points: Vec<(f64, Spread)>,
}

/// A bar panel: for each group (a runtime) one bar per series.
#[derive(Debug, Clone, PartialEq)]
struct Bars {
    title: String,
    y_desc: &'static str,
    series: Vec<String>,
    /// The group's name and each series' value (`None`: not measured).
    groups: Vec<(String, Vec<Option<Spread>>)>,
}

/// One panel of the chart.
#[derive(Debug, Clone, PartialEq)]
enum Panel {
    Throughput { title: String, lines: Vec<Line> },
    Bars(Bars),
}

/// The SVG document of the chart of `runs`: the median run's figures,
/// each with the range of all runs.
pub fn svg(runs: &Runs) -> Result<String, crate::Error> {
    let panels = panels_of(runs);
    let mut out = String::new();
    {
        let height = PANEL_HEIGHT * u32::try_from(panels.len().max(1)).unwrap_or(1);
        let root = SVGBackend::with_string(&mut out, (WIDTH, height)).into_drawing_area();
        root.fill(&WHITE)?;
        if panels.is_empty() {
            root.draw(&Text::new(
                "nothing to chart: no large, files, small or churn figures",
                (20, 30),
                ("sans-serif", 18),
            ))?;
        }
        let areas = root.split_evenly((panels.len().max(1), 1));
        for (panel, area) in panels.iter().zip(&areas) {
            match panel {
                Panel::Throughput { title, lines } => draw_lines(area, title, lines)?,
                Panel::Bars(bars) => draw_bars(area, bars)?,
            }
        }
        root.present()?;
    }
    Ok(out)
}

/// The median run's panels, each figure widened to the range of every
/// run's.
fn panels_of(runs: &Runs) -> Vec<Panel> {
    let mut median = panels(&runs.median());
    for run in runs.reports() {
        // The runs hold the same rows ([`Runs::new`]), so their panels,
        // lines, points, groups and series match one for one.
        for (panel, other) in median.iter_mut().zip(panels(run)) {
            match (panel, other) {
                (Panel::Throughput { lines, .. }, Panel::Throughput { lines: theirs, .. }) => {
                    let points = lines.iter_mut().flat_map(|l| &mut l.points);
                    let their_points = theirs.into_iter().flat_map(|l| l.points);
                    for ((_, p), (_, q)) in points.zip(their_points) {
                        p.widen(q);
                    }
                }
                (Panel::Bars(bars), Panel::Bars(theirs)) => {
                    let values = bars.groups.iter_mut().flat_map(|(_, v)| v);
                    let their_values = theirs.groups.into_iter().flat_map(|(_, v)| v);
                    for (v, w) in values.zip(their_values) {
                        if let (Some(v), Some(w)) = (v.as_mut(), w) {
                            v.widen(w);
                        }
                    }
                }
                _ => {}
            }
        }
    }
    median
}

/// The panels `report` has figures for, in the order of its tables.
fn panels(report: &Report) -> Vec<Panel> {
    let mut panels = Vec::new();
    for (title, rows, files) in [
        (
            "Large objects: put and get against a hashed TCP copy",
            &report.large,
            false,
        ),
        (
            "Files: put, get and get into a sink against hashed copies",
            &report.files,
            true,
        ),
    ] {
        let lines = lines(rows, files);
        if !lines.is_empty() {
            panels.push(Panel::Throughput {
                title: title.to_owned(),
                lines,
            });
        }
    }
    if !report.small.is_empty() {
        let mut bars = Bars::new(
            "Small objects: 1 KiB, 32 in flight on one connection",
            "objects/s",
        );
        for r in &report.small {
            bars.set(r.runtime, &format!("{} 1 KiB", r.op), r.rate());
        }
        panels.push(Panel::Bars(bars));
    }
    if !report.churn.is_empty() {
        let mut bars = Bars::new(
            "Connection churn: one 1 KiB put per connection",
            "connections/s",
        );
        for r in &report.churn {
            bars.set(r.runtime, "gateway", r.rate());
            bars.set(r.runtime, "reference (plain TCP)", r.reference_rate());
            bars.set(
                r.runtime,
                "reference on the runtime",
                r.runtime_reference_rate(),
            );
        }
        panels.push(Panel::Bars(bars));
    }
    panels
}

/// A line per runtime and operation, baselines included and the
/// reference rows (hashing alone, copying alone) left out: they are no
/// transfer. A file row is labelled as one, except the in-memory copy
/// baseline, which is the large objects' baseline at larger sizes.
fn lines(rows: &[LargeRow], files: bool) -> Vec<Line> {
    let mut lines: Vec<Line> = Vec::new();
    for r in rows.iter().filter(|r| r.runtime != "reference") {
        let label = if files && r.runtime != "baseline" {
            format!("{} {} (file)", r.runtime, r.op)
        } else {
            format!("{} {}", r.runtime, r.op)
        };
        let point = (r.size as f64 / f64::from(1 << 20), Spread::of(r.gbps()));
        match lines.iter_mut().find(|l| l.label == label) {
            Some(line) => line.points.push(point),
            None => lines.push(Line {
                label,
                points: vec![point],
            }),
        }
    }
    for line in &mut lines {
        line.points.sort_by(|a, b| a.0.total_cmp(&b.0));
    }
    lines
}

impl Bars {
    /// A panel of bars with no series yet.
    fn new(title: &str, y_desc: &'static str) -> Self {
        Self {
            title: title.to_owned(),
            y_desc,
            series: Vec::new(),
            groups: Vec::new(),
        }
    }

    /// Sets `series`' value in `group`, adding either if new.
    fn set(&mut self, group: &str, series: &str, value: f64) {
        let s = match self.series.iter().position(|x| x == series) {
            Some(s) => s,
            None => {
                self.series.push(series.to_owned());
                self.series.len() - 1
            }
        };
        let g = match self.groups.iter().position(|(name, _)| name == group) {
            Some(g) => g,
            None => {
                self.groups.push((group.to_owned(), Vec::new()));
                self.groups.len() - 1
            }
        };
        let values = &mut self.groups[g].1;
        if values.len() <= s {
            values.resize(s + 1, None);
        }
        values[s] = Some(Spread::of(value));
    }
}

/// The colour of series `i` of a panel: the in-memory copy baseline
/// black, the copy between files grey, the others from plotters' palette.
fn color(label: &str, i: usize) -> RGBColor {
    if label == "baseline tcp copy + b3" {
        BLACK
    } else if label.starts_with("baseline") {
        RGBColor(128, 128, 128)
    } else {
        let c = Palette99::pick(i).to_rgba();
        RGBColor(c.0, c.1, c.2)
    }
}

type Area<'a> = DrawingArea<SVGBackend<'a>, Shift>;

fn draw_lines(area: &Area<'_>, title: &str, lines: &[Line]) -> Result<(), crate::Error> {
    let points = || lines.iter().flat_map(|l| &l.points);
    let min = points().map(|p| p.0).fold(f64::INFINITY, f64::min);
    let max = points().map(|p| p.0).fold(0.0, f64::max);
    let top = points().map(|p| p.1.high).fold(0.0, f64::max) * HEADROOM;
    // A factor of two either side, so a single size still spans an axis.
    let x = (min / 2.0..max * 2.0).log_scale();
    let mut chart = ChartBuilder::on(area)
        .caption(title, ("sans-serif", 20))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(60)
        .build_cartesian_2d(x, 0.0..top.max(f64::MIN_POSITIVE))?;
    chart
        .configure_mesh()
        .x_desc("object size (MiB)")
        .y_desc("GB/s")
        .x_label_formatter(&|v| format!("{v}"))
        .draw()?;
    for (i, line) in lines.iter().enumerate() {
        let c = color(&line.label, i);
        chart
            .draw_series(LineSeries::new(
                line.points.iter().map(|&(x, y)| (x, y.value)),
                c.stroke_width(2),
            ))?
            .label(line.label.as_str())
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], c.stroke_width(2)));
        chart.draw_series(
            line.points
                .iter()
                .map(|&(x, y)| Circle::new((x, y.value), 3, c.filled())),
        )?;
        chart.draw_series(
            line.points
                .iter()
                .filter(|(_, y)| y.high > y.low)
                .map(|&(x, y)| {
                    ErrorBar::new_vertical(x, y.low, y.value, y.high, c.stroke_width(1), 8)
                }),
        )?;
    }
    draw_legend(&mut chart)
}

/// The series' labels in the upper left corner, on every panel alike.
fn draw_legend<'a, CT: CoordTranslate>(
    chart: &mut ChartContext<'a, SVGBackend<'a>, CT>,
) -> Result<(), crate::Error> {
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperLeft)
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .draw()?;
    Ok(())
}

fn draw_bars(area: &Area<'_>, bars: &Bars) -> Result<(), crate::Error> {
    let groups = bars.groups.len();
    let top = bars
        .groups
        .iter()
        .flat_map(|(_, v)| v.iter().flatten())
        .fold(0.0, |a: f64, b| a.max(b.high))
        * HEADROOM;
    let mut chart = ChartBuilder::on(area)
        .caption(&bars.title, ("sans-serif", 20))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(70)
        // plotters' integer ranges include their end: one segment a group.
        .build_cartesian_2d(
            (0..groups.saturating_sub(1)).into_segmented(),
            0.0..top.max(f64::MIN_POSITIVE),
        )?;
    let name = |v: &SegmentValue<usize>| match v {
        SegmentValue::CenterOf(g) => bars
            .groups
            .get(*g)
            .map_or_else(String::new, |(n, _)| n.clone()),
        _ => String::new(),
    };
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_label_formatter(&name)
        .y_desc(bars.y_desc)
        .y_label_formatter(&|v| format!("{v:.0}"))
        .draw()?;
    // The right edge of group `g`'s segment. The last group's is the
    // plot's edge: plotters maps a value past the range's end by
    // extrapolating from its span, which one group does not have (its
    // bars came out with negative widths).
    let right_of = |g: usize| {
        if g + 1 < groups {
            SegmentValue::Exact(g + 1)
        } else {
            SegmentValue::Last
        }
    };
    // A group's segment holds its bars side by side in its middle 80%: a
    // segment's coordinates have no point inside it, so each bar spans the
    // segment less margins in pixels.
    let segment = f64::from(chart.plotting_area().dim_in_pixel().0) / groups.max(1) as f64;
    let bar = 0.8 * segment / bars.series.len().max(1) as f64;
    // A rectangle in group `g`'s segment from `low` to `high`, `inset`
    // pixels in from the segment's left and right edges.
    let column = |g: usize, (low, high): (f64, f64), inset: (f64, f64), style: ShapeStyle| {
        let mut rect = Rectangle::new([(SegmentValue::Exact(g), low), (right_of(g), high)], style);
        rect.set_margin(0, 0, inset.0.round() as u32, inset.1.round() as u32);
        rect
    };
    for (s, series) in bars.series.iter().enumerate() {
        let c = color(series, s);
        let left = 0.1 * segment + s as f64 * bar;
        let right = segment - left - bar;
        let values: Vec<(usize, Spread)> = (bars.groups.iter().enumerate())
            .filter_map(|(g, (_, values))| Some((g, (*values.get(s)?)?)))
            .collect();
        // One pixel more on the left: a gap between neighbours.
        let rects = values
            .iter()
            .map(|&(g, v)| column(g, (0.0, v.value), (left + 1.0, right), c.filled()));
        chart
            .draw_series(rects)?
            .label(series.as_str())
            .legend(move |(x, y)| Rectangle::new([(x, y - 5), (x + 14, y + 5)], c.filled()));
        // The runs' range: a black line a few pixels wide up the bar's
        // middle.
        let middle = left + bar / 2.0;
        let inset = ((middle - 2.0).max(0.0), (segment - middle - 2.0).max(0.0));
        let whiskers = (values.iter())
            .filter(|(_, v)| v.high > v.low)
            .map(|&(g, v)| column(g, (v.low, v.high), inset, BLACK.filled()));
        chart.draw_series(whiskers)?;
    }
    draw_legend(&mut chart)
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use quick_xml::Reader;
    use quick_xml::events::Event;

    use super::*;
    use crate::report::{ChurnRow, Measure, SmallRow};

    fn measure(ms: u64) -> Measure {
        Measure {
            wall: Duration::from_millis(ms),
            cpu: Some(Duration::from_millis(ms / 2)),
            server_cpu: Some(Duration::from_millis(ms / 4)),
            ..Measure::default()
        }
    }

    fn large(runtime: &'static str, op: &'static str, size: usize, ms: u64) -> LargeRow {
        LargeRow {
            runtime,
            op,
            size,
            iterations: 2,
            measure: measure(ms),
            server_peak: None,
            baseline: None,
        }
    }

    /// A report with every kind of row, as two runtimes would fill it.
    fn report() -> Report {
        let mut report = Report::default();
        for (size, ms) in [(16 << 20, 20), (256 << 20, 300)] {
            report
                .large
                .push(large("baseline", "tcp copy + b3", size, ms));
            report
                .large
                .push(large("reference", "b3 hash, 1 thread", size, ms));
            for runtime in ["tokio", "smol"] {
                report.large.push(large(runtime, "put", size, 2 * ms));
                report.large.push(large(runtime, "get", size, 3 * ms / 2));
            }
        }
        report
            .files
            .push(large("baseline", "file copy + b3", 1 << 30, 900));
        report
            .files
            .push(large("tokio", "get, sink", 1 << 30, 1500));
        for runtime in ["tokio", "smol"] {
            for (op, ms) in [("put", 400), ("get", 300)] {
                report.small.push(SmallRow {
                    runtime,
                    op,
                    size: 1024,
                    inflight: 32,
                    objects: 20_000,
                    measure: measure(ms),
                });
            }
            report.churn.push(ChurnRow {
                runtime,
                connections: 200_000,
                threads: 8,
                measure: measure(20_000),
                server_peak: Some(300 << 20),
                reference: measure(8_000),
                runtime_reference: measure(12_000),
            });
        }
        report
    }

    /// The runs of `report` alone.
    fn one(report: Report) -> Runs {
        Runs::new(vec![report]).expect("one run")
    }

    /// [`report`] with its small puts, and tokio's 16 MiB puts, taking
    /// `ms`.
    fn with_puts_in(ms: u64) -> Report {
        let mut r = report();
        for row in r.small.iter_mut().filter(|row| row.op == "put") {
            row.measure = measure(ms);
        }
        let large = r.large.iter_mut().filter(|row| row.runtime == "tokio");
        for row in large.filter(|row| row.op == "put" && row.size == 16 << 20) {
            row.measure = measure(ms / 10);
        }
        r
    }

    /// Checks `svg` parses as XML with every element closed, and returns
    /// its text nodes.
    fn well_formed_texts(svg: &str) -> Vec<String> {
        let mut reader = Reader::from_str(svg);
        let (mut depth, mut roots, mut texts) = (0usize, 0, Vec::new());
        loop {
            match reader.read_event().expect("well-formed XML") {
                Event::Start(_) => {
                    roots += usize::from(depth == 0);
                    depth += 1;
                }
                Event::Empty(_) => roots += usize::from(depth == 0),
                Event::End(_) => depth = depth.checked_sub(1).expect("no stray end tag"),
                Event::Text(t) => texts.push(t.decode().expect("UTF-8 text").into_owned()),
                Event::Eof => break,
                _ => {}
            }
        }
        assert_eq!((depth, roots), (0, 1), "one root element, all closed");
        texts
    }

    #[test]
    fn the_chart_is_well_formed_svg_with_every_series_labelled() {
        let svg = svg(&one(report())).expect("chart");
        assert!(svg.trim_start().starts_with("<svg"), "{svg}");
        let texts = well_formed_texts(&svg);
        for label in [
            "baseline tcp copy + b3",
            "tokio put",
            "tokio get",
            "smol put",
            "smol get",
            "baseline file copy + b3",
            "tokio get, sink (file)",
            "put 1 KiB",
            "get 1 KiB",
            "gateway",
            "reference (plain TCP)",
            "reference on the runtime",
            "tokio",
            "smol",
            "objects/s",
            "connections/s",
        ] {
            assert!(
                texts.iter().any(|t| t.trim() == label),
                "no text `{label}` in {texts:?}"
            );
        }
        // Reference rows are no transfer: they get no line.
        assert!(!texts.iter().any(|t| t.contains("b3 hash")), "{texts:?}");
    }

    #[test]
    fn the_chart_has_only_the_panels_with_figures() {
        let mut only_churn = report();
        only_churn.large.clear();
        only_churn.files.clear();
        only_churn.small.clear();
        let panels = panels(&only_churn);
        assert_eq!(panels.len(), 1);
        let Panel::Bars(bars) = &panels[0] else {
            panic!("{panels:?}")
        };
        assert_eq!(
            bars.series,
            [
                "gateway",
                "reference (plain TCP)",
                "reference on the runtime"
            ]
        );
        // 200,000 connections in 20 s, 8 s and 12 s.
        let rates = [10_000.0, 25_000.0, 200_000.0 / 12.0].map(|r| Some(Spread::of(r)));
        assert_eq!(bars.groups[0], ("tokio".to_owned(), rates.to_vec()));

        let empty = svg(&one(Report::default())).expect("chart");
        assert!(
            well_formed_texts(&empty)
                .iter()
                .any(|t| t.contains("nothing to chart"))
        );
    }

    #[test]
    fn several_runs_draw_the_median_run_with_the_range_of_all() {
        let runs = Runs::new([400, 200, 800].map(with_puts_in).to_vec()).expect("runs");
        let panels = panels_of(&runs);
        let small = panels
            .iter()
            .find_map(|p| match p {
                Panel::Bars(b) if b.y_desc == "objects/s" => Some(b),
                _ => None,
            })
            .expect("the small objects' panel");
        // 20,000 puts in 0.4 s (the median), 0.2 s and 0.8 s.
        let puts = Spread {
            value: 50_000.0,
            low: 25_000.0,
            high: 100_000.0,
        };
        assert_eq!(small.groups[0].1[0], Some(puts));
        assert_eq!(small.groups[1].1[0], Some(puts));
        // The gets took as long in every run: no range.
        let gets = 20_000.0 / Duration::from_millis(300).as_secs_f64();
        assert_eq!(small.groups[0].1[1], Some(Spread::of(gets)));
        // tokio's 16 MiB puts: 32 MiB in 40, 20 and 80 ms.
        let Panel::Throughput { lines, .. } = &panels[0] else {
            panic!("{panels:?}")
        };
        let tokio_put = lines.iter().find(|l| l.label == "tokio put").expect("line");
        let gbps = |ms: u64| f64::from(32 << 20) / Duration::from_millis(ms).as_secs_f64() / 1e9;
        assert_eq!(tokio_put.points[0].1.value, gbps(40));
        assert_eq!(
            (tokio_put.points[0].1.low, tokio_put.points[0].1.high),
            (gbps(80), gbps(20))
        );

        let alone = svg(&one(report())).expect("chart");
        let three = svg(&runs).expect("chart");
        well_formed_texts(&three);
        // A whisker on each of the two put bars, and none elsewhere.
        assert_eq!(
            three.matches("<rect").count(),
            alone.matches("<rect").count() + 2
        );
    }

    #[test]
    fn one_runtime_gets_bars_as_wide_as_several_do() {
        let mut tokio_only = report();
        tokio_only.small.retain(|r| r.runtime == "tokio");
        tokio_only.churn.retain(|r| r.runtime == "tokio");
        let svg = svg(&one(tokio_only)).expect("chart");
        well_formed_texts(&svg);
        let widths: Vec<i64> = svg
            .split("<rect ")
            .skip(1)
            .map(|r| {
                let w = r.split("width=\"").nth(1).expect("a width");
                w[..w.find('"').expect("quoted")].parse().expect("a number")
            })
            .collect();
        // The background, two small and three churn bars, and the legends.
        assert!(widths.len() > 6, "{svg}");
        assert!(widths.iter().all(|&w| w > 0), "{widths:?}");
    }
}
