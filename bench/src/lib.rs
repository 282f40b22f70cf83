//! End-to-end and scale benchmarks of OAP/1 (issue #9), each case next to
//! its baseline measured in the same run, so the ratio holds on a noisy
//! machine.
//!
//! * [`baseline`] — the physical limit: a plain loopback TCP copy of the
//!   same bytes with BLAKE3 hashed on both ends, from memory into nothing
//!   or from a file into a file; and, to explain the ratios, hashing alone
//!   and copying into new memory.
//! * [`large`] — put and get of large objects over loopback TCP.
//! * [`files`] — objects of any size (1 GiB and 4 GiB): put from a file,
//!   get into a file and get into a sink that keeps nothing, against a
//!   directory store, with the peak memory of the client and the server.
//! * [`small`] — 1 KiB objects with 32 requests in flight on one
//!   connection, with the CPU time per object of both sides together and
//!   of each.
//! * [`scale`] — 1,000 connections: server memory per idle connection and
//!   per open request, and small puts on all of them at once, next to a
//!   plain TCP server on the same runtime that moves the same bytes, with
//!   the client's and the server's CPU time per put.
//! * [`churn`] — 200,000 short connections from 8 threads, one 1 KiB put
//!   each: connections per second, the server's CPU time per connection
//!   and its peak memory, next to two plain TCP servers that move the same
//!   bytes (blocking threads, and tasks on the gateway's runtime), the
//!   three taking turns.
//!
//! [`chart`] draws a run as an SVG chart; [`repeat`] runs the cases many
//! times over and gives each figure's median and spread.
//!
//! The server always runs in a child process (see [`server`]), so its CPU
//! time and peak memory are its own; the client's are the bench
//! process's. Process figures come from Linux's
//! `/proc`; elsewhere they print as `n/a`.
//!
//! [`run`] does everything and returns a [`report::Report`]; the
//! `oap-bench` binary and `cargo bench -p oap-bench` both call it.
//!
//! One reference row, measured and printed as the report prints it:
//!
//! ```
//! let row = oap_bench::baseline::hash_only(1 << 20, 4);
//! assert_eq!((row.size, row.iterations), (1 << 20, 4));
//! assert!(row.gbps() > 0.0);
//! println!("{}", row.line());
//! ```

pub mod baseline;
pub mod chart;
pub mod churn;
pub mod files;
pub mod large;
pub mod proc_stats;
pub mod repeat;
pub mod report;
pub mod rt;
pub mod scale;
pub mod server;
pub mod small;

pub use report::Report;
pub use rt::RuntimeKind;
pub use server::Launcher;

/// What to measure.
#[derive(Debug, Clone)]
pub struct Options {
    /// The runtimes to run on (client and server on the same one).
    pub runtimes: Vec<RuntimeKind>,
    /// Large object sizes, each with its iteration count.
    pub large: Vec<(usize, u32)>,
    /// Small objects put (and got) per runtime.
    pub small_objects: usize,
    /// Connections opened at once by the scale case.
    pub connections: usize,
    /// File sizes of the files case (one object each).
    pub files: Vec<usize>,
    /// Connections opened by the churn case, one put each.
    pub churn_connections: usize,
    /// Client threads of the churn case.
    pub churn_threads: usize,
    /// The cases to run.
    pub cases: Vec<Case>,
}

/// A group of benchmarks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Case {
    /// Large objects and their baseline.
    Large,
    /// Small objects with many in flight.
    Small,
    /// Many connections.
    Scale,
    /// Objects of any size, from and into files, with a directory store.
    Files,
    /// Many short connections, one small put each.
    Churn,
}

impl Case {
    /// Every case, in run order.
    pub const ALL: [Case; 5] = [
        Case::Large,
        Case::Small,
        Case::Scale,
        Case::Churn,
        Case::Files,
    ];
}

impl std::str::FromStr for Case {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "large" => Ok(Self::Large),
            "small" => Ok(Self::Small),
            "scale" => Ok(Self::Scale),
            "files" => Ok(Self::Files),
            "churn" => Ok(Self::Churn),
            _ => Err(format!(
                "unknown case `{s}` (large, small, scale, files, churn)"
            )),
        }
    }
}

impl Options {
    /// The figures the issues ask for: 16 MiB and 256 MiB objects, 20,000
    /// small objects, 1,000 connections, files of 1 GiB and 4 GiB, 200,000
    /// short connections from 8 threads.
    pub fn full() -> Self {
        Self {
            runtimes: RuntimeKind::ALL.to_vec(),
            large: vec![(16 << 20, 8), (256 << 20, 2)],
            small_objects: 20_000,
            connections: 1_000,
            files: vec![1 << 30, 4 << 30],
            churn_connections: 200_000,
            churn_threads: churn::THREADS,
            cases: Case::ALL.to_vec(),
        }
    }

    /// A minute-sized smoke run of every case (CI checks the command works;
    /// its figures mean little).
    pub fn quick() -> Self {
        Self {
            runtimes: RuntimeKind::ALL.to_vec(),
            large: vec![(1 << 20, 2)],
            small_objects: 500,
            connections: 50,
            files: vec![8 << 20],
            churn_connections: 2_000,
            churn_threads: churn::THREADS,
            cases: Case::ALL.to_vec(),
        }
    }
}

/// Why a benchmark could not run.
pub type Error = Box<dyn std::error::Error + Send + Sync>;

/// Runs every case of `options`, starting servers with `launcher`, and
/// prints each row to stderr as it is measured.
pub fn run(options: &Options, launcher: &Launcher) -> Result<Report, Error> {
    let mut report = Report::default();
    let large = options.cases.contains(&Case::Large);
    if large {
        for &(size, iterations) in &options.large {
            for row in [
                baseline::hashed_tcp_copy(size, iterations)?,
                baseline::hash_only(size, iterations),
                baseline::copy_to_new_memory(size, iterations),
            ] {
                eprintln!("{}", row.line());
                report.large.push(row);
            }
        }
    }
    for &kind in &options.runtimes {
        if large {
            for &(size, iterations) in &options.large {
                for row in large::run(kind, launcher, size, iterations)? {
                    eprintln!("{}", row.line());
                    report.large.push(row);
                }
            }
        }
        if options.cases.contains(&Case::Small) {
            for row in small::run(kind, launcher, options.small_objects)? {
                eprintln!("{}", row.line());
                report.small.push(row);
            }
        }
        if options.cases.contains(&Case::Scale) {
            let row = scale::run(kind, launcher, options.connections)?;
            eprintln!("{}", row.line());
            report.scale.push(row);
        }
        if options.cases.contains(&Case::Churn) {
            let row = churn::run(
                kind,
                launcher,
                options.churn_connections,
                options.churn_threads,
            )?;
            eprintln!("{}", row.line());
            report.churn.push(row);
        }
    }
    if options.cases.contains(&Case::Files) {
        // One source file per size, shared by every runtime.
        for &size in &options.files {
            let source = files::SourceFile::create(size)?;
            let mut push = |row: report::LargeRow| {
                eprintln!("{}", row.line_with_peaks());
                report.files.push(row);
            };
            push(files::file_copy_baseline(&source)?);
            push(baseline::hashed_tcp_copy(size, 1)?);
            for &kind in &options.runtimes {
                for row in files::run(kind, launcher, &source)? {
                    push(row);
                }
            }
        }
    }
    Ok(report)
}
