//! `cargo bench -p oap-bench`: the end-to-end and scale benchmarks of every
//! runtime, printed as a table.
//!
//! Arguments after `--`: `--quick` for the smoke-sized run, `--runtime
//! NAME` and `--case large|small|scale|churn|files` (each repeatable) to
//! run less.

use oap_bench::{Launcher, Options};

/// The flag that makes this binary the child server instead.
const SERVE: &str = "--oap-bench-serve";

fn main() -> Result<(), oap_bench::Error> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if let Some(pos) = args.iter().position(|a| a == SERVE) {
        let kind = args.get(pos + 1).ok_or("runtime missing")?.parse()?;
        let after = |flag: &str| {
            args.iter()
                .position(|a| a == flag)
                .map(|i| args.get(i + 1).ok_or(format!("nothing after {flag}")))
                .transpose()
        };
        if let Some(script) = after(oap_bench::server::REFERENCE_FLAG)? {
            oap_bench::server::serve_reference_child(kind, script.parse()?)?;
            return Ok(());
        }
        let store_dir = after(oap_bench::server::STORE_DIR_FLAG)?;
        oap_bench::server::serve_child(kind, store_dir.map(std::path::Path::new))?;
        return Ok(());
    }
    // `cargo test --benches` runs bench targets in test mode: nothing to do.
    if args.iter().any(|a| a == "--test") {
        return Ok(());
    }
    let mut options = if args.iter().any(|a| a == "--quick") {
        Options::quick()
    } else {
        Options::full()
    };
    let value = |flag: &str| -> Vec<String> {
        args.windows(2)
            .filter(|w| w[0] == flag)
            .map(|w| w[1].clone())
            .collect()
    };
    let runtimes = value("--runtime");
    if !runtimes.is_empty() {
        options.runtimes = runtimes
            .iter()
            .map(|r| r.parse())
            .collect::<Result<_, _>>()?;
    }
    let cases = value("--case");
    if !cases.is_empty() {
        options.cases = cases.iter().map(|c| c.parse()).collect::<Result<_, _>>()?;
    }
    let report = oap_bench::run(&options, &Launcher::current_exe([SERVE])?)?;
    println!("{}", report.table());
    Ok(())
}
