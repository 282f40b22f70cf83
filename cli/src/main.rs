//! `oap`: run an OAP/1 node, put and get content-addressed objects, print
//! object ids, or run the one-command demo.
//!
//! Exit codes: 0 success, 1 operational failure (message on stderr),
//! 2 usage error (from clap).

mod accepting;
mod admin;
mod args;
mod cert;
mod connect;
mod demo;
mod get;
mod id;
mod pem;
mod progress;
mod put;
mod reload;
mod serve;
mod signals;
mod token;
mod watch;

use std::process::ExitCode;

use clap::Parser;
use tracing_subscriber::EnvFilter;

use args::{Cli, Command};

/// Structured logs on stderr (stdout carries command output), filtered by
/// `RUST_LOG`. Without it a server logs at `info` (bus events, start and
/// stop) and the one-shot commands only warn, so `put`/`get` stay quiet.
fn init_logging(command: &Command) {
    let default = match command {
        Command::Serve(_) => "info",
        _ => "warn",
    };
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default));
    // Colours only for a person at a terminal, never in a file or journal.
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(ansi)
        .init();
}

fn main() -> ExitCode {
    // clap exits with 2 on usage errors and 0 for --help/--version.
    let cli = Cli::parse();
    init_logging(&cli.command);
    let result = match &cli.command {
        // Hashing is synchronous file I/O: no runtime needed.
        Command::Id(a) => id::run(a),
        Command::Token(args::TokenCommand::New(a)) => token::new(a),
        // Certificates are made from files alone: no runtime needed.
        Command::Cert(c) => cert::run(c),
        command => tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .map_err(anyhow::Error::from)
            .and_then(|rt| {
                rt.block_on(async {
                    match command {
                        Command::Serve(a) => serve::run(a).await,
                        Command::Put(a) => put::run(a).await,
                        Command::Get(a) => get::run(a).await,
                        Command::Watch(a) => watch::run(a).await,
                        Command::Demo => demo::run().await,
                        Command::Id(_) | Command::Token(_) | Command::Cert(_) => {
                            unreachable!("handled above")
                        }
                    }
                })
            }),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            // `{:#}` prints the whole context chain on one line.
            eprintln!("oap: error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
