//! End-to-end and scale benchmarks of OAP/1 (issue #9), each case next to
//! its baseline measured in the same run, so the ratio holds on a noisy
//! machine.
//!
//! * [`baseline`] — the physical limit: a plain loopback TCP copy of the
//!   same bytes with BLAKE3 hashed on both ends; and, to explain the
//!   ratios, hashing alone and copying into new memory.
//! * [`large`] — put and get of large objects over loopback TCP.
//! * [`small`] — 1 KiB objects with 32 requests in flight on one
//!   connection.
//! * [`scale`] — 1,000 connections: server memory per idle connection and
//!   per open request, and small puts on all of them at once.
//!
//! The server always runs in a child process (see [`server`]), so its CPU
//! time and peak memory are its own. Process figures come from Linux's
//! `/proc`; elsewhere they print as `n/a`.
//!
//! [`run`] does everything and returns a [`report::Report`]; `oap bench`
//! and `cargo bench -p oap-bench` both call it.

pub mod baseline;
pub mod large;
pub mod proc_stats;
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
}

impl Case {
    /// Every case, in run order.
    pub const ALL: [Case; 3] = [Case::Large, Case::Small, Case::Scale];
}

impl std::str::FromStr for Case {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "large" => Ok(Self::Large),
            "small" => Ok(Self::Small),
            "scale" => Ok(Self::Scale),
            _ => Err(format!("unknown case `{s}` (large, small, scale)")),
        }
    }
}

impl Options {
    /// The figures the issue asks for: 16 MiB and 256 MiB objects, 20,000
    /// small objects, 1,000 connections.
    pub fn full() -> Self {
        Self {
            runtimes: RuntimeKind::ALL.to_vec(),
            large: vec![(16 << 20, 8), (256 << 20, 2)],
            small_objects: 20_000,
            connections: 1_000,
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
    }
    Ok(report)
}
