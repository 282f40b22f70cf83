//! Result rows and the Markdown table they print as.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::time::{Duration, Instant};

use crate::proc_stats::{self, Pid};
use crate::server::ServerProcess;

/// Wall and CPU time of one measured phase.
#[derive(Debug, Clone, Copy, Default)]
pub struct Measure {
    /// Elapsed time.
    pub wall: Duration,
    /// CPU time of the client and the server together (`None` without
    /// `/proc`).
    pub cpu: Option<Duration>,
    /// The server's share of `cpu` (`None` without `/proc` or without a
    /// server process).
    pub server_cpu: Option<Duration>,
    /// The CPU time of this process's busiest thread (`None` without
    /// `/proc`): near `wall`, that one thread was the limit.
    pub busiest_client: Option<Duration>,
    /// The same for the server's busiest thread.
    pub busiest_server: Option<Duration>,
    /// This process's (the client's) peak resident memory during the
    /// phase (`None` without `/proc` or if the kernel refused to reset the
    /// peak when the phase began).
    pub client_peak: Option<u64>,
}

impl Measure {
    /// Starts timing, counting this process's CPU and `server`'s, and
    /// starts a new peak-memory window for this process.
    pub fn start(server: Option<&ServerProcess>) -> Stopwatch<'_> {
        Stopwatch {
            server,
            peak_reset: proc_stats::reset_peak(Pid::Current),
            cpu0: Cpu::read(server),
            threads0: Threads::read(server),
            t0: Instant::now(),
        }
    }

    /// How busy the busiest thread of the client and of the server were,
    /// as fractions of the wall time.
    pub fn busiest_shares(&self) -> (Option<f64>, Option<f64>) {
        let share = |d: Option<Duration>| d.map(|d| d.as_secs_f64() / self.wall.as_secs_f64());
        (share(self.busiest_client), share(self.busiest_server))
    }

    /// `count` operations over this measure's wall time, per second.
    pub fn per_second(&self, count: usize) -> f64 {
        count as f64 / self.wall.as_secs_f64()
    }

    /// CPU time per operation over `count` operations, in µs, of both
    /// sides together and of each. The client's share is this process's:
    /// the total less the server's; without the server's figure neither
    /// share is known.
    pub fn cpu_us_per(&self, count: usize) -> CpuPerOp {
        let us = |d: Duration| d.as_secs_f64() * 1e6 / count as f64;
        let client = self
            .cpu
            .zip(self.server_cpu)
            .map(|(all, server)| all.saturating_sub(server));
        CpuPerOp {
            total: self.cpu.map(us),
            client: client.map(us),
            server: self.server_cpu.map(us),
        }
    }

    /// Adds `other`, a phase measured after this one (the same kind of
    /// work against the same server, in rounds): times and CPU times add
    /// up (unknown if either is), the busiest threads' too (so their share
    /// of the wall time is the rounds' average), and the peak memory is the
    /// higher.
    pub fn add(&mut self, other: &Measure) {
        let sum = |a: Option<Duration>, b: Option<Duration>| Some(a? + b?);
        self.wall += other.wall;
        self.cpu = sum(self.cpu, other.cpu);
        self.server_cpu = sum(self.server_cpu, other.server_cpu);
        self.busiest_client = sum(self.busiest_client, other.busiest_client);
        self.busiest_server = sum(self.busiest_server, other.busiest_server);
        self.client_peak = higher(self.client_peak, other.client_peak);
    }

    /// Times `f` (see [`Measure::start`]).
    pub fn of<T>(server: Option<&ServerProcess>, f: impl FnOnce() -> T) -> (T, Measure) {
        let watch = Measure::start(server);
        let out = f();
        (out, watch.stop())
    }
}

/// The higher of two peaks, unknown if either is.
fn higher(a: Option<u64>, b: Option<u64>) -> Option<u64> {
    Some(a?.max(b?))
}

/// CPU µs per operation of a [`Measure`] (see [`Measure::cpu_us_per`]);
/// `None` where a figure is unknown.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct CpuPerOp {
    /// Client and server together.
    pub total: Option<f64>,
    /// The client (this process).
    pub client: Option<f64>,
    /// The server process.
    pub server: Option<f64>,
}

/// A phase being timed; [`Stopwatch::stop`] ends it.
pub struct Stopwatch<'a> {
    server: Option<&'a ServerProcess>,
    peak_reset: bool,
    cpu0: Cpu,
    threads0: Threads,
    t0: Instant,
}

/// CPU times of the client (this process) and the server so far.
struct Cpu {
    client: Option<Duration>,
    server: Option<Duration>,
}

impl Cpu {
    fn read(server: Option<&ServerProcess>) -> Self {
        Self {
            client: proc_stats::cpu_time(Pid::Current),
            server: server.and_then(ServerProcess::cpu_time),
        }
    }
}

/// Per-thread CPU times of the client and the server.
struct Threads {
    client: Option<BTreeMap<u32, Duration>>,
    server: Option<BTreeMap<u32, Duration>>,
}

impl Threads {
    fn read(server: Option<&ServerProcess>) -> Self {
        Self {
            client: proc_stats::thread_cpu_times(Pid::Current),
            server: server.and_then(ServerProcess::thread_cpu_times),
        }
    }
}

impl Stopwatch<'_> {
    /// The time since [`Measure::start`].
    pub fn stop(self) -> Measure {
        let wall = self.t0.elapsed();
        let cpu1 = Cpu::read(self.server);
        let used = |a: Option<Duration>, b: Option<Duration>| Some(b?.saturating_sub(a?));
        let client_cpu = used(self.cpu0.client, cpu1.client);
        let server_cpu = used(self.cpu0.server, cpu1.server);
        // Without a server, the client's CPU is all there is; with one
        // whose figures are missing, the total is unknown.
        let cpu = match self.server {
            None => client_cpu,
            Some(_) => client_cpu.zip(server_cpu).map(|(c, s)| c + s),
        };
        let threads = Threads::read(self.server);
        let client_peak = self
            .peak_reset
            .then(|| proc_stats::memory(Pid::Current))
            .flatten()
            .map(|m| m.peak);
        let busiest = |before: Option<BTreeMap<u32, Duration>>, after| {
            proc_stats::busiest_thread(&before?, &after?)
        };
        Measure {
            wall,
            cpu,
            server_cpu,
            busiest_client: busiest(self.threads0.client, threads.client),
            busiest_server: busiest(self.threads0.server, threads.server),
            client_peak,
        }
    }
}

/// One large-object or file case: a baseline copy, a put or a get.
#[derive(Debug, Clone)]
pub struct LargeRow {
    /// `baseline`, `reference` or the runtime's name.
    pub runtime: &'static str,
    /// What was measured: `tcp copy + b3`, `put` or `get` (large
    /// objects), `file copy + b3`, `put`, `get` or `get, sink` (files).
    pub op: &'static str,
    /// Object size in bytes.
    pub size: usize,
    /// Objects moved.
    pub iterations: u32,
    /// Time taken for all of them.
    pub measure: Measure,
    /// The server's peak resident memory during the case.
    pub server_peak: Option<u64>,
    /// The baseline copy of the same bytes, measured right before.
    pub baseline: Option<Measure>,
}

impl LargeRow {
    fn bytes(&self) -> f64 {
        self.size as f64 * f64::from(self.iterations)
    }

    /// Throughput in GB/s (10^9 bytes).
    pub fn gbps(&self) -> f64 {
        self.gbps_of(&self.measure)
    }

    /// CPU seconds per GB moved.
    pub fn cpu_per_gb(&self) -> Option<f64> {
        self.cpu_per_gb_of(&self.measure)
    }

    /// Throughput relative to the adjacent baseline.
    pub fn ratio(&self) -> Option<f64> {
        Some(self.gbps() / self.gbps_of(self.baseline.as_ref()?))
    }

    fn gbps_of(&self, m: &Measure) -> f64 {
        self.bytes() / m.wall.as_secs_f64() / 1e9
    }

    fn cpu_per_gb_of(&self, m: &Measure) -> Option<f64> {
        Some(m.cpu?.as_secs_f64() / (self.bytes() / 1e9))
    }

    /// One line for progress output.
    pub fn line(&self) -> String {
        format!(
            "{:<9} {:<14} {:>5} x{:<2} {:>6.2} GB/s{}",
            self.runtime,
            self.op,
            size_label(self.size),
            self.iterations,
            self.gbps(),
            self.ratio()
                .map_or(String::new(), |r| format!(" ({r:.2}x the baseline)"))
        )
    }

    /// [`LargeRow::line`] with the client's and the server's peak memory.
    pub fn line_with_peaks(&self) -> String {
        let peak = |p: Option<u64>| p.map_or_else(na, mib);
        format!(
            "{}, peak {} client / {} server",
            self.line(),
            peak(self.measure.client_peak),
            peak(self.server_peak)
        )
    }
}

/// Small objects on one connection with many requests in flight.
#[derive(Debug, Clone)]
pub struct SmallRow {
    /// The runtime's name.
    pub runtime: &'static str,
    /// `put` or `get`.
    pub op: &'static str,
    /// Object size in bytes.
    pub size: usize,
    /// Requests in flight.
    pub inflight: usize,
    /// Objects moved.
    pub objects: usize,
    /// Time taken.
    pub measure: Measure,
}

impl SmallRow {
    /// Objects per second.
    pub fn rate(&self) -> f64 {
        self.measure.per_second(self.objects)
    }

    /// One line for progress output.
    pub fn line(&self) -> String {
        format!(
            "{:<9} {:<14} {:>5} x{} in flight: {:>8.0} objects/s",
            self.runtime,
            self.op,
            size_label(self.size),
            self.inflight,
            self.rate()
        )
    }
}

/// Many connections to one server, and the same puts against the plain TCP
/// reference.
#[derive(Debug, Clone)]
pub struct ScaleRow {
    /// The runtime's name.
    pub runtime: &'static str,
    /// Connections open at once.
    pub connections: usize,
    /// Server memory per connection right after HELLO, in bytes.
    pub fresh_per_connection: Option<i64>,
    /// Server memory per idle connection that has done a put, in bytes:
    /// what a connection keeps once its buffers have been used.
    pub idle_per_connection: Option<i64>,
    /// Server memory per open put request (START accepted, part of the
    /// object sent), in bytes.
    pub per_open_request: Option<i64>,
    /// Small puts completed in the timed round, one per connection, all
    /// at once.
    pub puts: usize,
    /// Time taken by those puts from the SDK's client, in the median of
    /// the rounds ([`crate::scale::ROUNDS`]; `server_cpu` is the gateway
    /// process's).
    pub measure: Measure,
    /// The same puts against a fresh gateway from the reference's client
    /// (pre-encoded bytes), measured right after: the gateway next to the
    /// reference with the same client.
    pub same_client: Measure,
    /// The same for as many puts on as many connections against the
    /// reference, measured right after (`server_cpu` is the reference
    /// process's).
    pub reference: Measure,
}

/// A row timed against the gateway and against a plain TCP reference:
/// [`AgainstReference::count`] operations on each. The churn case times
/// both with the same clients; the scale case's gateway measure is from
/// the SDK's client, its [`ScaleRow::same_client`] from the reference's.
pub trait AgainstReference {
    /// Operations timed on each side (puts, connections).
    fn count(&self) -> usize;
    /// The gateway's measure.
    fn gateway(&self) -> &Measure;
    /// The reference's measure.
    fn reference_measure(&self) -> &Measure;

    /// Operations per second against the gateway.
    fn rate(&self) -> f64 {
        self.gateway().per_second(self.count())
    }

    /// Operations per second against the reference.
    fn reference_rate(&self) -> f64 {
        self.reference_measure().per_second(self.count())
    }

    /// The gateway's rate relative to the reference's.
    fn ratio(&self) -> f64 {
        self.rate() / self.reference_rate()
    }
}

impl AgainstReference for ScaleRow {
    fn count(&self) -> usize {
        self.puts
    }

    fn gateway(&self) -> &Measure {
        &self.measure
    }

    fn reference_measure(&self) -> &Measure {
        &self.reference
    }
}

impl ScaleRow {
    /// Puts per second against the gateway from the reference's client.
    pub fn same_client_rate(&self) -> f64 {
        self.same_client.per_second(self.puts)
    }

    /// That rate relative to the reference's: the two servers compared
    /// with the same client.
    pub fn same_client_ratio(&self) -> f64 {
        self.same_client_rate() / self.reference_rate()
    }

    /// The three timed runs, in the table's order: what put to what, its
    /// measure, and its rate relative to the reference's (`None` for the
    /// reference itself).
    pub fn runs(&self) -> [(&'static str, &Measure, Option<f64>); 3] {
        [
            ("SDK's client → gateway", &self.measure, Some(self.ratio())),
            (
                "reference's client → gateway",
                &self.same_client,
                Some(self.same_client_ratio()),
            ),
            ("reference's client → reference", &self.reference, None),
        ]
    }

    /// One line for progress output: rates and memory.
    pub fn line(&self) -> String {
        format!(
            "{:<9} {} connections: {} per idle connection, {} per open request, {:.0} puts/s from the SDK ({:.2}x the reference's {:.0}), {:.0} from the reference's client ({:.2}x)",
            self.runtime,
            self.connections,
            opt_bytes(self.idle_per_connection),
            opt_bytes(self.per_open_request),
            self.rate(),
            self.ratio(),
            self.reference_rate(),
            self.same_client_rate(),
            self.same_client_ratio(),
        )
    }
}

/// Connection churn: many short connections, one put each, against a
/// gateway, next to the plain TCP reference with the same clients.
#[derive(Debug, Clone)]
pub struct ChurnRow {
    /// The runtime's name.
    pub runtime: &'static str,
    /// Connections opened, one after the other on each client thread.
    pub connections: usize,
    /// Client threads.
    pub threads: usize,
    /// All the connections against the gateway, the sum of its turns
    /// (`server_cpu` is the gateway process's).
    pub measure: Measure,
    /// The gateway's peak resident memory during them, the stored
    /// objects included.
    pub server_peak: Option<u64>,
    /// As many connections against the reference server, in turns with
    /// the gateway's (`server_cpu` is the reference's threads').
    pub reference: Measure,
    /// As many connections against the async reference on the gateway's
    /// runtime, in turns with the gateway's (`server_cpu` is its
    /// process's).
    pub runtime_reference: Measure,
}

impl AgainstReference for ChurnRow {
    fn count(&self) -> usize {
        self.connections
    }

    fn gateway(&self) -> &Measure {
        &self.measure
    }

    fn reference_measure(&self) -> &Measure {
        &self.reference
    }
}

impl ChurnRow {
    /// The gateway's CPU time per connection, in µs.
    pub fn server_cpu_us(&self) -> Option<f64> {
        self.cpu_us_of(&self.measure)
    }

    /// The reference's CPU time per connection, in µs.
    pub fn reference_cpu_us(&self) -> Option<f64> {
        self.cpu_us_of(&self.reference)
    }

    /// The async reference's CPU time per connection, in µs.
    pub fn runtime_reference_cpu_us(&self) -> Option<f64> {
        self.cpu_us_of(&self.runtime_reference)
    }

    fn cpu_us_of(&self, m: &Measure) -> Option<f64> {
        m.cpu_us_per(self.connections).server
    }

    /// Connections per second against the async reference on the
    /// gateway's runtime.
    pub fn runtime_reference_rate(&self) -> f64 {
        self.runtime_reference.per_second(self.connections)
    }

    /// The gateway's rate relative to the async reference's.
    pub fn runtime_ratio(&self) -> f64 {
        self.rate() / self.runtime_reference_rate()
    }

    /// One line for progress output.
    pub fn line(&self) -> String {
        format!(
            "{:<9} churn x{:<6} {:>8.0} connections/s ({:.2}x the reference, {:.2}x the one on {}), server CPU {} µs/connection (references {}, {})",
            self.runtime,
            self.connections,
            self.rate(),
            self.ratio(),
            self.runtime_ratio(),
            self.runtime,
            tenths(self.server_cpu_us()),
            tenths(self.reference_cpu_us()),
            tenths(self.runtime_reference_cpu_us()),
        )
    }
}

/// `97% / 64%`: the busiest thread's CPU as a share of the wall time, for
/// the client and the server (only the client's for in-process rows).
fn busiest_label(m: &Measure) -> String {
    let pct = |x: Option<f64>| x.map_or_else(|| "n/a".to_owned(), |x| format!("{:.0}%", x * 100.0));
    match m.busiest_shares() {
        (client, None) => pct(client),
        (client, server) => format!("{} / {}", pct(client), pct(server)),
    }
}

/// Everything one run measured.
#[derive(Debug, Clone, Default)]
pub struct Report {
    /// Large objects, baselines first.
    pub large: Vec<LargeRow>,
    /// Small objects.
    pub small: Vec<SmallRow>,
    /// Scale.
    pub scale: Vec<ScaleRow>,
    /// Connection churn (its table is printed only when the case ran).
    pub churn: Vec<ChurnRow>,
    /// Files of any size: baselines first, then put, get into a file and
    /// get into a sink per runtime (their table is printed only when the
    /// case ran).
    pub files: Vec<LargeRow>,
}

impl Report {
    /// The results as Markdown tables; large-object ratios are against the
    /// baseline measured right before each case.
    pub fn table(&self) -> String {
        let mut s = String::new();
        let _ = writeln!(
            s,
            "| runtime | case | size × n | GB/s | baseline GB/s | vs. baseline | CPU s/GB | baseline CPU s/GB | server peak | busiest thread, client / server |\n|---|---|---|---|---|---|---|---|---|---|"
        );
        for r in &self.large {
            let _ = writeln!(
                s,
                "| {} | {} | {} × {} | {} | {} | {} |",
                r.runtime,
                r.op,
                size_label(r.size),
                r.iterations,
                rate_cells(r),
                r.server_peak.map_or_else(na, mib),
                busiest_label(&r.measure),
            );
        }
        if !self.files.is_empty() {
            let _ = writeln!(
                s,
                "\n| runtime | case | file size | GB/s | baseline GB/s | vs. baseline | CPU s/GB | baseline CPU s/GB | client peak | server peak | busiest thread, client / server |\n|---|---|---|---|---|---|---|---|---|---|---|"
            );
        }
        for r in &self.files {
            let _ = writeln!(
                s,
                "| {} | {} | {} | {} | {} | {} | {} |",
                r.runtime,
                r.op,
                size_label(r.size),
                rate_cells(r),
                r.measure.client_peak.map_or_else(na, mib),
                r.server_peak.map_or_else(na, mib),
                busiest_label(&r.measure),
            );
        }
        let _ = writeln!(
            s,
            "\n| runtime | case | objects | in flight | objects/s | CPU µs/object | client CPU µs/object | server CPU µs/object |\n|---|---|---|---|---|---|---|---|"
        );
        for r in &self.small {
            let cpu = r.measure.cpu_us_per(r.objects);
            let _ = writeln!(
                s,
                "| {} | {} {} | {} | {} | {:.0} | {} | {} | {} |",
                r.runtime,
                r.op,
                size_label(r.size),
                r.objects,
                r.inflight,
                r.rate(),
                tenths(cpu.total),
                tenths(cpu.client),
                tenths(cpu.server),
            );
        }
        let _ = writeln!(
            s,
            "\n| runtime | connections | server memory per fresh connection | per idle connection after a put | per open request |\n|---|---|---|---|---|"
        );
        for r in &self.scale {
            let _ = writeln!(
                s,
                "| {} | {} | {} | {} | {} |",
                r.runtime,
                r.connections,
                opt_bytes(r.fresh_per_connection),
                opt_bytes(r.idle_per_connection),
                opt_bytes(r.per_open_request),
            );
        }
        let _ = writeln!(
            s,
            "\n| runtime | connections | 1 KiB puts, one per connection at once | puts/s (median of {} rounds) | vs. reference | client CPU µs/put | server CPU µs/put |\n|---|---|---|---|---|---|---|",
            crate::scale::ROUNDS
        );
        for r in &self.scale {
            for (what, m, ratio) in r.runs() {
                let cpu = m.cpu_us_per(r.puts);
                let _ = writeln!(
                    s,
                    "| {} | {} | {what} | {:.0} | {} | {} | {} |",
                    r.runtime,
                    r.connections,
                    m.per_second(r.puts),
                    ratio.map_or_else(|| "—".to_owned(), bold_ratio),
                    tenths(cpu.client),
                    tenths(cpu.server),
                );
            }
        }
        if !self.churn.is_empty() {
            let _ = writeln!(
                s,
                "\n| runtime | connections × client threads | connections/s | reference connections/s | vs. reference | async reference on the runtime, connections/s | vs. it | server CPU µs/connection | reference CPU µs/connection | async reference CPU µs/connection | server peak |\n|---|---|---|---|---|---|---|---|---|---|---|"
            );
        }
        for r in &self.churn {
            let _ = writeln!(
                s,
                "| {} | {} × {} | {:.0} | {:.0} | **{:.2}×** | {:.0} | **{:.2}×** | {} | {} | {} | {} |",
                r.runtime,
                r.connections,
                r.threads,
                r.rate(),
                r.reference_rate(),
                r.ratio(),
                r.runtime_reference_rate(),
                r.runtime_ratio(),
                tenths(r.server_cpu_us()),
                tenths(r.reference_cpu_us()),
                tenths(r.runtime_reference_cpu_us()),
                r.server_peak.map_or_else(na, mib),
            );
        }
        s
    }
}

fn na() -> String {
    "n/a".to_owned()
}

/// `x` to one decimal (µs figures), or `n/a`.
fn tenths(x: Option<f64>) -> String {
    x.map_or_else(na, |x| format!("{x:.1}"))
}

/// A ratio to its baseline or reference, in bold: `**0.52×**`.
fn bold_ratio(x: f64) -> String {
    format!("**{x:.2}×**")
}

/// GB/s, the baseline's GB/s, the ratio, CPU s/GB and the baseline's, as
/// five table cells.
fn rate_cells(r: &LargeRow) -> String {
    format!(
        "{:.2} | {} | {} | {} | {}",
        r.gbps(),
        r.baseline
            .map_or_else(na, |b| format!("{:.2}", r.gbps_of(&b))),
        r.ratio().map_or_else(na, bold_ratio),
        r.cpu_per_gb().map_or_else(na, |c| format!("{c:.2}")),
        r.baseline
            .and_then(|b| r.cpu_per_gb_of(&b))
            .map_or_else(na, |c| format!("{c:.2}")),
    )
}

/// `1 KiB`, `16 MiB`: a size as the tables print it.
pub(crate) fn size_label(size: usize) -> String {
    match size {
        s if s >= 1 << 20 && s % (1 << 20) == 0 => format!("{} MiB", s >> 20),
        s if s >= 1 << 10 && s % (1 << 10) == 0 => format!("{} KiB", s >> 10),
        s => format!("{s} B"),
    }
}

fn mib(bytes: u64) -> String {
    format!("{:.0} MiB", bytes as f64 / f64::from(1 << 20))
}

fn opt_bytes(bytes: Option<i64>) -> String {
    kib(bytes).map_or("n/a".to_owned(), |k| format!("{k:.1} KiB"))
}

/// Bytes in KiB, as the memory figures print.
pub(crate) fn kib(bytes: Option<i64>) -> Option<f64> {
    bytes.map(|b| b as f64 / 1024.0)
}
