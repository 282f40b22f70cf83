//! `oap-chaos`: runs the seeded chaos scenarios over many seeds.
//!
//! ```text
//! cargo run --release -p oap-sim --bin oap-chaos -- [SEEDS] [FIRST_SEED]
//! ```
//!
//! Defaults: 10,000 seeds from 0. Prints each failing seed (replay it with
//! the same arguments `1 SEED`) and exits non-zero if any failed.

use std::process::ExitCode;

use oap_sim::scenarios;

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let seeds: u64 = args.next().and_then(|a| a.parse().ok()).unwrap_or(10_000);
    let first: u64 = args.next().and_then(|a| a.parse().ok()).unwrap_or(0);
    let mut failures = 0u64;
    for (name, build) in scenarios::ALL {
        let mut ok = 0u64;
        for seed in first..first + seeds {
            match build(seed).run() {
                Ok(_) => ok += 1,
                Err(v) => {
                    failures += 1;
                    eprintln!("FAIL {name}: {v}");
                }
            }
        }
        println!("{name}: {ok}/{seeds} seeds passed");
    }
    if failures == 0 {
        ExitCode::SUCCESS
    } else {
        eprintln!("{failures} failing runs");
        ExitCode::FAILURE
    }
}
