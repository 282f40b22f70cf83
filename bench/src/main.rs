//! `oap-bench`: the end-to-end and scale benchmarks of every runtime,
//! printed as Markdown tables, with the server in a child `oap-bench
//! serve` process.
//!
//! A binary of its own rather than an `oap` subcommand: measuring every
//! runtime links smol and async-std, which the `oap` command never runs.
//!
//! Exit codes: 0 success, 1 a benchmark failed (message on stderr), 2 usage
//! error (from clap).

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};
use oap_bench::churn::reference::Script;
use oap_bench::{Case, Launcher, Options, RuntimeKind};

/// Benchmark put/get end to end on every runtime against a hashed TCP
/// copy, small objects with 32 in flight, 1,000 connections and 200,000
/// short connections against a plain TCP server, and files of 1 GiB and
/// 4 GiB against a hashed copy between files; prints a Markdown table
/// (build with --release for meaningful figures).
#[derive(Debug, Parser)]
// `about` is the doc comment above (not the package's description): it
// says what a run measures.
#[command(name = "oap-bench", version, args_conflicts_with_subcommands = true)]
struct Cli {
    /// The child server instead of a run.
    #[command(subcommand)]
    command: Option<Command>,
    /// What to run.
    #[command(flatten)]
    run: RunArgs,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
enum Command {
    /// (Internal) the server process a run starts.
    #[command(hide = true)]
    Serve(ServeArgs),
}

/// What a run measures.
#[derive(Debug, Args)]
struct RunArgs {
    /// Smoke-sized run (1 MiB objects, 500 small objects, 50 connections,
    /// 2,000 short connections, 8 MiB files): checks every case works; its
    /// figures mean little.
    #[arg(long)]
    quick: bool,
    /// Only this runtime (repeatable): tokio, smol, async-std.
    #[arg(long = "runtime", value_name = "NAME")]
    runtimes: Vec<RuntimeKind>,
    /// Only this case (repeatable): large, small, scale, churn, files (the
    /// files case writes up to three times the largest file size, 12 GiB,
    /// in the system's temporary directory).
    #[arg(long = "case", value_name = "NAME")]
    cases: Vec<Case>,
    /// Also write the run as an SVG chart to FILE: throughput against
    /// object size next to the baselines, objects/s and connections/s per
    /// runtime next to the reference.
    #[arg(long, value_name = "FILE")]
    svg: Option<PathBuf>,
    /// Run the cases N times over, the runtimes taking turns in each run;
    /// then print the median run (each row from the run where its main
    /// figure is the median) and every figure's median, middle half and
    /// range. Single runs on a shared machine move by up to 2×.
    #[arg(long, value_name = "N", default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..))]
    repeat: u32,
}

/// `oap-bench serve`.
#[derive(Debug, Args)]
struct ServeArgs {
    /// The runtime to serve on.
    runtime: RuntimeKind,
    /// Store objects in this directory (a directory store) instead of in
    /// memory.
    #[arg(long = oap_bench::server::STORE_DIR_FLAG.trim_start_matches('-'), value_name = "DIR")]
    store_dir: Option<PathBuf>,
    /// Serve the scale case's plain TCP reference, answering as SCRIPT
    /// says, instead of a gateway.
    #[arg(
        long = oap_bench::server::REFERENCE_FLAG.trim_start_matches('-'),
        value_name = "SCRIPT",
        conflicts_with = "store_dir"
    )]
    reference: Option<Script>,
}

/// The subcommand that makes this binary the child server; the
/// [`Launcher`] puts it before the runtime's name.
const SERVE: &str = "serve";

/// Runs the benchmarks and prints the table on stdout (progress on stderr),
/// and writes the chart if asked; with `--repeat`, of the median run, and
/// the spread of every figure after it.
fn run(args: &RunArgs) -> Result<(), oap_bench::Error> {
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
        eprintln!("oap-bench: this is a debug build; use `cargo run --release -p oap-bench --`");
    }
    let launcher = Launcher::current_exe([SERVE])?;
    let runs = oap_bench::repeat::run(&options, &launcher, args.repeat as usize)?;
    let report = runs.median();
    if args.repeat > 1 {
        println!(
            "The median of {} runs: each row from the run where its main figure is the median.\n",
            args.repeat
        );
    }
    println!("{}", report.table());
    if args.repeat > 1 {
        println!("{}", runs.spread_table());
    }
    if let Some(path) = &args.svg {
        std::fs::write(path, oap_bench::chart::svg(&runs)?)
            .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    }
    Ok(())
}

fn main() -> ExitCode {
    // clap exits with 2 on usage errors and 0 for --help/--version.
    let cli = Cli::parse();
    let result = match &cli.command {
        Some(Command::Serve(a)) => match &a.reference {
            Some(script) => oap_bench::server::serve_reference_child(a.runtime, script.clone()),
            None => oap_bench::server::serve_child(a.runtime, a.store_dir.as_deref()),
        }
        .map_err(Into::into),
        None => run(&cli.run),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("oap-bench: error: {e}");
            ExitCode::FAILURE
        }
    }
}
