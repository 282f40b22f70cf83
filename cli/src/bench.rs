//! `oap bench`: the end-to-end and scale benchmarks of `oap-bench`, with
//! the server in a child `oap bench-server` process.

use anyhow::{Result, anyhow};
use oap_bench::{Launcher, Options};

use crate::args::{BenchArgs, BenchServerArgs};

/// Runs the benchmarks and prints the table on stdout (progress on stderr).
pub(crate) fn run(args: &BenchArgs) -> Result<()> {
    let mut options = if args.quick {
        Options::quick()
    } else {
        Options::full()
    };
    if !args.runtimes.is_empty() {
        options.runtimes = args.runtimes.clone();
    }
    if !args.cases.is_empty() {
        options.cases = args.cases.clone();
    }
    if cfg!(debug_assertions) {
        eprintln!("oap bench: this is a debug build; use `cargo run --release -p cli -- bench`");
    }
    let launcher = Launcher::current_exe(["bench-server"])?;
    let report = oap_bench::run(&options, &launcher).map_err(|e| anyhow!(e))?;
    println!("{}", report.table());
    Ok(())
}

/// The child side of [`run`]: serves until stdin closes.
pub(crate) fn serve(args: &BenchServerArgs) -> Result<()> {
    oap_bench::server::serve_child(args.runtime, args.store_dir.as_deref())?;
    Ok(())
}
