//! `oap watch TOPIC`: prints the bus events a subscription receives, one
//! JSON line each, until Ctrl-C (exit 0) or the node ends the subscription.

use std::io::{self, Write};

use anyhow::{Context, Result};
use kernel_core::wait_for_ctrl_c;
use oap_core::payload::ErrorCode;

use crate::args::WatchArgs;
use crate::connect::{client_error, connect};

/// Subscribes to `args.topic` and copies each message to stdout as one
/// line of compact JSON, flushed at once so a pipe sees it live.
pub(crate) async fn run(args: &WatchArgs) -> Result<()> {
    let client = connect(&args.server).await?;
    let mut sub = client
        .subscribe(&args.topic)
        .map_err(client_error)
        .context("cannot subscribe")?;
    let stop = wait_for_ctrl_c();
    tokio::pin!(stop);
    loop {
        let next = tokio::select! {
            message = sub.next() => Some(message),
            _ = &mut stop => None,
        };
        let Some(message) = next else {
            // Ctrl-C: the subscription ends with the connection.
            client.close();
            return Ok(());
        };
        let Some(message) = message else {
            return match sub.error() {
                None => Ok(()),
                Some(e) if e.code() == Some(ErrorCode::Unauthorized) => Err(client_error(e))
                    .context(
                        "subscribing needs the `subscribe` permission: a token whose \
                         tenant has it (--token-file or OAP_TOKEN), or `[auth] anonymous` \
                         including subscribe on the node",
                    ),
                Some(e) => Err(client_error(e)).context("the subscription ended"),
            };
        };
        print_line(&message)?;
    }
}

/// Writes one message as a single line: re-encoded compact, so a server's
/// bytes can never split a line or inject a terminal sequence raw.
fn print_line(message: &[u8]) -> Result<()> {
    let value: serde_json::Value = match serde_json::from_slice(message) {
        Ok(v) => v,
        Err(_) => {
            tracing::warn!(bytes = message.len(), "skipped a message that is not JSON");
            return Ok(());
        }
    };
    let mut out = io::stdout().lock();
    serde_json::to_writer(&mut out, &value).context("cannot write to stdout")?;
    out.write_all(b"\n").context("cannot write to stdout")?;
    out.flush().context("cannot write to stdout")
}
