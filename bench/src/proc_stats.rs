//! CPU time and memory of a process, read from Linux's `/proc`, and the
//! CPU time of this process and of the calling thread, from their CPU
//! clocks.
//!
//! `None` wherever `/proc` (or the clock) is missing or unreadable, so the
//! benchmarks still run (without these columns) on other systems.

use std::collections::BTreeMap;
use std::time::Duration;

/// Linux reports `utime`/`stime` in USER_HZ ticks, fixed at 100 by the ABI.
const TICKS_PER_SEC: u64 = 100;

/// Which process to read.
#[derive(Debug, Clone, Copy)]
pub enum Pid {
    /// This process.
    Current,
    /// Another process (a child server).
    Other(u32),
}

impl Pid {
    fn path(self, file: &str) -> String {
        match self {
            Pid::Current => format!("/proc/self/{file}"),
            Pid::Other(pid) => format!("/proc/{pid}/{file}"),
        }
    }
}

/// User plus system CPU time of all the process's threads so far: for
/// this process from its CPU clock, to the nanosecond; for another from
/// `/proc`, in 10 ms ticks (a child server reports its own clock instead:
/// see [`crate::server::ServerProcess::cpu_time`]).
pub fn cpu_time(pid: Pid) -> Option<Duration> {
    match pid {
        Pid::Current => current_process_cpu_time()
            .or_else(|| parse_cpu(&std::fs::read_to_string(pid.path("stat")).ok()?)),
        Pid::Other(_) => parse_cpu(&std::fs::read_to_string(pid.path("stat")).ok()?),
    }
}

/// CPU time of this process so far, every thread's, the ended ones'
/// included, to the nanosecond. `/proc`'s 10 ms ticks are too coarse for
/// the small cases: 20,000 objects at 10 µs are 200 ms of CPU, so one
/// tick at each end of a window is up to 10% of it.
pub fn current_process_cpu_time() -> Option<Duration> {
    #[cfg(unix)]
    {
        clock(nix::time::ClockId::CLOCK_PROCESS_CPUTIME_ID)
    }
    #[cfg(not(unix))]
    {
        None
    }
}

/// CPU time of the calling thread so far, to the nanosecond: for a
/// server on the bench's own threads, whose few milliseconds each
/// [`thread_cpu_times`]' 10 ms ticks would round away.
pub fn current_thread_cpu_time() -> Option<Duration> {
    #[cfg(unix)]
    {
        clock(nix::time::ClockId::CLOCK_THREAD_CPUTIME_ID)
    }
    #[cfg(not(unix))]
    {
        None
    }
}

#[cfg(unix)]
fn clock(id: nix::time::ClockId) -> Option<Duration> {
    let t = nix::time::clock_gettime(id).ok()?;
    Some(Duration::new(
        u64::try_from(t.tv_sec()).ok()?,
        u32::try_from(t.tv_nsec()).ok()?,
    ))
}

/// CPU time of each of the process's threads so far, by thread id. A
/// thread that ends between listing and reading is left out.
pub fn thread_cpu_times(pid: Pid) -> Option<BTreeMap<u32, Duration>> {
    let mut times = BTreeMap::new();
    for entry in std::fs::read_dir(pid.path("task")).ok()? {
        let Ok(entry) = entry else { continue };
        let Some(tid) = entry.file_name().to_str().and_then(|n| n.parse().ok()) else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else {
            continue;
        };
        if let Some(cpu) = parse_cpu(&stat) {
            times.insert(tid, cpu);
        }
    }
    Some(times)
}

/// The most CPU any one thread used between two [`thread_cpu_times`]
/// readings (a thread born in between counts from zero). `None` if no
/// thread ran.
pub fn busiest_thread(
    before: &BTreeMap<u32, Duration>,
    after: &BTreeMap<u32, Duration>,
) -> Option<Duration> {
    after
        .iter()
        .map(|(tid, cpu)| cpu.saturating_sub(before.get(tid).copied().unwrap_or_default()))
        .max()
}

/// utime + stime from a `stat` file's text.
fn parse_cpu(stat: &str) -> Option<Duration> {
    // The command name (field 2) may hold spaces and parentheses; the
    // numeric fields start after its last ')'. utime and stime are fields
    // 14 and 15, i.e. the 12th and 13th after the name.
    let rest = &stat[stat.rfind(')')? + 1..];
    let mut fields = rest.split_whitespace().skip(11);
    let utime: u64 = fields.next()?.parse().ok()?;
    let stime: u64 = fields.next()?.parse().ok()?;
    Some(Duration::from_millis(
        (utime + stime) * 1000 / TICKS_PER_SEC,
    ))
}

/// Resident memory of a process, in bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Memory {
    /// Resident now (`VmRSS`).
    pub rss: u64,
    /// The highest resident size since start or the last
    /// [`reset_peak`] (`VmHWM`).
    pub peak: u64,
}

/// The process's resident and peak memory.
pub fn memory(pid: Pid) -> Option<Memory> {
    let status = std::fs::read_to_string(pid.path("status")).ok()?;
    let field = |name: &str| -> Option<u64> {
        let line = status.lines().find(|l| l.starts_with(name))?;
        let kib: u64 = line[name.len()..]
            .trim()
            .trim_end_matches("kB")
            .trim()
            .parse()
            .ok()?;
        Some(kib * 1024)
    };
    Some(Memory {
        rss: field("VmRSS:")?,
        peak: field("VmHWM:")?,
    })
}

/// Resets the process's peak resident size to its current size, so the next
/// [`memory`] reports the peak of what follows. `false` if the kernel
/// refused (the peak then covers the process's whole life).
pub fn reset_peak(pid: Pid) -> bool {
    // "5" is the kernel's documented value for resetting VmHWM.
    std::fs::write(pid.path("clear_refs"), "5").is_ok()
}
