//! `wait_for_ctrl_c` completes on a real SIGINT, under two different executors. Its own
//! test binary, so the installed handler affects no other test.
#![cfg(unix)]

use std::pin::pin;
use std::process::Command;
use std::time::Duration;

use async_io::Timer;
use futures_lite::future::{self, poll_once};
use kernel_core::wait_for_ctrl_c;

fn send_sigint_to_self() {
    // The shell's built-in `kill`, so no procps package is needed.
    let status = Command::new("sh")
        .args(["-c", &format!("kill -s INT {}", std::process::id())])
        .status()
        .expect("run sh");
    assert!(status.success());
}

/// Parks a waiter, delivers SIGINT, and expects the waiter to finish within 10 s.
async fn one_signal() {
    let mut waiter = pin!(wait_for_ctrl_c());
    // The first poll installs the handler and parks the waiter; nothing has arrived yet.
    assert!(poll_once(waiter.as_mut()).await.is_none());
    send_sigint_to_self();
    let outcome = future::or(async { Some(waiter.await) }, async {
        Timer::after(Duration::from_secs(10)).await;
        None
    })
    .await;
    let result = outcome.expect("SIGINT did not complete wait_for_ctrl_c");
    assert!(result.is_ok(), "{result:?}");

    // A waiter created after the signal waits for the next one.
    let mut later = pin!(wait_for_ctrl_c());
    assert!(poll_once(later.as_mut()).await.is_none());
}

#[test]
fn sigint_completes_the_future_under_smol_and_tokio() {
    smol::block_on(one_signal());
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(one_signal());
}
