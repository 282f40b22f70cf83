//! `wait_for_ctrl_c`: runtime-neutral Ctrl-C (SIGINT) future.
//!
//! The `ctrlc` crate runs the handler on its own thread; the handler bumps a generation
//! counter and wakes every parked waiter. Each waiter keeps its own waker slot, so no
//! waiter's wake-up can be overwritten by another's.

use std::collections::HashMap;
use std::future::poll_fn;
use std::io;
use std::sync::{Mutex, OnceLock, PoisonError};
use std::task::{Poll, Waker};

#[derive(Default)]
struct Signals {
    generation: u64,
    next_waiter: u64,
    waiters: HashMap<u64, Waker>,
}

static SIGNALS: Mutex<Option<Signals>> = Mutex::new(None);
static INSTALLED: OnceLock<Result<(), String>> = OnceLock::new();

fn install() -> io::Result<()> {
    let result = INSTALLED.get_or_init(|| {
        ctrlc::set_handler(|| {
            let wakers: Vec<Waker> = {
                let mut guard = SIGNALS.lock().unwrap_or_else(PoisonError::into_inner);
                let signals = guard.get_or_insert_with(Signals::default);
                signals.generation += 1;
                signals.waiters.drain().map(|(_, w)| w).collect()
            };
            for waker in wakers {
                waker.wake();
            }
        })
        .map_err(|e| e.to_string())
    });
    result.clone().map_err(io::Error::other)
}

/// Completes at the next Ctrl-C (SIGINT; on Windows, the console Ctrl-C event) received
/// after its first poll. Works under any executor; publishes nothing on the bus (the
/// caller decides whether to publish `KernelEvent::Shutdown`).
///
/// The first call in the process installs the handler; every later call shares it.
///
/// # Errors
/// When the handler cannot be installed, e.g. another part of the process already set
/// its own Ctrl-C handler through `ctrlc`.
pub async fn wait_for_ctrl_c() -> io::Result<()> {
    install()?;
    let (id, start) = {
        let mut guard = SIGNALS.lock().unwrap_or_else(PoisonError::into_inner);
        let signals = guard.get_or_insert_with(Signals::default);
        signals.next_waiter += 1;
        (signals.next_waiter, signals.generation)
    };
    let _unregister = Unregister(id);
    poll_fn(|cx| {
        let mut guard = SIGNALS.lock().unwrap_or_else(PoisonError::into_inner);
        let signals = guard.get_or_insert_with(Signals::default);
        if signals.generation > start {
            Poll::Ready(Ok(()))
        } else {
            signals.waiters.insert(id, cx.waker().clone());
            Poll::Pending
        }
    })
    .await
}

/// Removes a cancelled waiter's waker slot.
struct Unregister(u64);

impl Drop for Unregister {
    fn drop(&mut self) {
        let mut guard = SIGNALS.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(signals) = guard.as_mut() {
            signals.waiters.remove(&self.0);
        }
    }
}
