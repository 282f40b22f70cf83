//! The sleeps of the async-io runtimes: one ordered map and one thread.
//!
//! async-io notifies its reactor of every timer it is given (an eventfd
//! write, unless one is pending already), so the reactor turns once more
//! (a `timerfd_settime` and two `epoll_ctl` calls), often on another
//! thread than the one that armed the timer. The connection driver arms a timer for each connection, so
//! under connection churn most connections cost a reactor wake-up
//! (`docs/PERFORMANCE.md`, "Sleeps on one thread").
//!
//! Here a sleep waits in one map ordered by deadline, and one thread
//! sleeps until the earliest deadline and wakes what is due. A sleep that
//! ends after the earliest (every new connection's first deadline does,
//! the timeouts being the same for all) takes the map's lock and nothing
//! else; only a sleep that ends before every other wakes the thread, so
//! that it waits less. Dropping a sleep removes it.
//!
//! If the thread cannot be started, sleeps fall back to async-io's
//! timers: a system short of threads still has working timeouts.

use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, OnceLock, PoisonError};
use std::task::{Context, Poll, Waker, ready};
use std::thread;
use std::time::Instant;

/// A set of sleeps served by one thread, started at the first sleep.
pub(crate) struct Timers {
    shared: Arc<Shared>,
}

struct Shared {
    state: Mutex<State>,
    /// Signalled when the thread must look at the map again: a new
    /// earliest sleep, or `stop`.
    changed: Condvar,
}

#[derive(Default)]
struct State {
    /// Pending sleeps by deadline, then by arrival (ids are unique).
    sleeps: BTreeMap<(Instant, u64), Waker>,
    next_id: u64,
    /// What the thread waits for: `None` while it waits for a first
    /// sleep (or is not running). A sleep ending before it wakes the
    /// thread; one ending at or after it does not need to.
    waiting_until: Option<Instant>,
    thread: ThreadState,
    /// The owner is gone: the thread ends.
    stop: bool,
    /// How many sleeps woke the thread (for tests).
    nudges: u64,
}

#[derive(Default, Clone, Copy, PartialEq, Eq)]
enum ThreadState {
    #[default]
    NotStarted,
    Running,
    /// It could not be started: sleeps use async-io's timers.
    Unavailable,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        // Nothing panics while holding the lock but a waker's clone; the
        // map stays consistent either way.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Timers {
    fn new() -> Self {
        Self {
            shared: Arc::new(Shared {
                state: Mutex::new(State::default()),
                changed: Condvar::new(),
            }),
        }
    }

    /// The process's timers, which every async-io runtime uses.
    pub(crate) fn global() -> &'static Timers {
        static GLOBAL: OnceLock<Timers> = OnceLock::new();
        GLOBAL.get_or_init(Timers::new)
    }

    /// A future that completes at `deadline` (at once if it has passed).
    pub(crate) fn sleep_until(&self, deadline: Instant) -> Sleep {
        Sleep {
            shared: self.shared.clone(),
            deadline,
            state: SleepState::New,
        }
    }

    /// Timers whose thread could not be started.
    #[cfg(test)]
    fn without_thread() -> Self {
        let timers = Self::new();
        timers.shared.lock().thread = ThreadState::Unavailable;
        timers
    }

    #[cfg(test)]
    fn pending(&self) -> usize {
        self.shared.lock().sleeps.len()
    }

    #[cfg(test)]
    fn nudges(&self) -> u64 {
        self.shared.lock().nudges
    }
}

impl Drop for Timers {
    fn drop(&mut self) {
        self.shared.lock().stop = true;
        self.shared.changed.notify_one();
    }
}

/// The thread: wakes the sleeps that are due, then waits until the next
/// deadline or until a sleep ending sooner arrives.
fn run(shared: &Shared) {
    let mut due = Vec::new();
    let mut state = shared.lock();
    loop {
        if state.stop {
            return;
        }
        let now = Instant::now();
        while let Some(entry) = state.sleeps.first_entry() {
            if entry.key().0 > now {
                break;
            }
            due.push(entry.remove());
        }
        if !due.is_empty() {
            // Woken without the lock: a woken task may poll its sleep on
            // another thread at once.
            drop(state);
            due.drain(..).for_each(Waker::wake);
            state = shared.lock();
            continue;
        }
        let next = state.sleeps.first_key_value().map(|(key, _)| key.0);
        state.waiting_until = next;
        state = match next {
            None => shared
                .changed
                .wait(state)
                .unwrap_or_else(PoisonError::into_inner),
            Some(at) => {
                let wait = at.saturating_duration_since(now);
                let woke = shared.changed.wait_timeout(state, wait);
                woke.unwrap_or_else(PoisonError::into_inner).0
            }
        };
    }
}

/// A sleep until a deadline ([`Timers::sleep_until`]).
pub(crate) struct Sleep {
    shared: Arc<Shared>,
    deadline: Instant,
    state: SleepState,
}

enum SleepState {
    /// Not polled yet.
    New,
    /// In the map under this id.
    Waiting(u64),
    /// On async-io's timer, the thread being unavailable.
    Fallback(async_io::Timer),
    /// Completed.
    Done,
}

impl Sleep {
    /// Puts this sleep in the map, waking the thread if it ends before
    /// whatever the thread waits for. `None`: the thread is unavailable.
    fn enter(&self, state: &mut State, waker: &Waker) -> Option<u64> {
        if state.thread == ThreadState::NotStarted {
            let shared = self.shared.clone();
            let started = thread::Builder::new()
                .name("oap-timers".into())
                .spawn(move || run(&shared));
            state.thread = match started {
                Ok(_) => ThreadState::Running,
                Err(_) => ThreadState::Unavailable,
            };
        }
        if state.thread == ThreadState::Unavailable {
            return None;
        }
        let id = state.next_id;
        state.next_id += 1;
        state.sleeps.insert((self.deadline, id), waker.clone());
        if state.waiting_until.is_none_or(|at| self.deadline < at) {
            // Until the thread looks again, it is as good as waiting for
            // this sleep: later ones need not wake it a second time.
            state.waiting_until = Some(self.deadline);
            state.nudges += 1;
            self.shared.changed.notify_one();
        }
        Some(id)
    }
}

impl Future for Sleep {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = &mut *self;
        if let SleepState::Fallback(timer) = &mut this.state {
            ready!(Pin::new(timer).poll(cx));
            this.state = SleepState::Done;
            return Poll::Ready(());
        }
        if matches!(this.state, SleepState::Done) || Instant::now() >= this.deadline {
            this.leave();
            this.state = SleepState::Done;
            return Poll::Ready(());
        }
        let mut state = this.shared.lock();
        match this.state {
            SleepState::Waiting(id) => match state.sleeps.get_mut(&(this.deadline, id)) {
                Some(waker) => waker.clone_from(cx.waker()),
                // The thread took it out: it is due.
                None => {
                    drop(state);
                    this.state = SleepState::Done;
                    return Poll::Ready(());
                }
            },
            _ => {
                this.state = match this.enter(&mut state, cx.waker()) {
                    Some(id) => SleepState::Waiting(id),
                    None => SleepState::Fallback(async_io::Timer::at(this.deadline)),
                };
                drop(state);
                if matches!(this.state, SleepState::Fallback(_)) {
                    return Pin::new(this).poll(cx);
                }
            }
        }
        Poll::Pending
    }
}

impl Sleep {
    /// Takes this sleep out of the map, if it is there.
    fn leave(&mut self) {
        if let SleepState::Waiting(id) = self.state {
            self.shared.lock().sleeps.remove(&(self.deadline, id));
            self.state = SleepState::Done;
        }
    }
}

impl Drop for Sleep {
    fn drop(&mut self) {
        self.leave();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::task::Wake;
    use std::time::Duration;

    struct Noop;
    impl Wake for Noop {
        fn wake(self: Arc<Self>) {}
    }

    fn poll_once(sleep: &mut Sleep) -> Poll<()> {
        let waker = Waker::from(Arc::new(Noop));
        Pin::new(sleep).poll(&mut Context::from_waker(&waker))
    }

    /// Runs `work` to completion unless a 10-second guard on async-io's
    /// own timer ends first: a broken thread fails the test, not hangs it.
    fn within_guard(work: impl Future<Output = ()>) -> bool {
        let guard = async {
            async_io::Timer::after(Duration::from_secs(10)).await;
            false
        };
        smol::block_on(smol::future::or(
            async {
                work.await;
                true
            },
            guard,
        ))
    }

    #[test]
    fn sleeps_end_in_deadline_order_and_never_before_their_deadline() {
        let timers = Timers::new();
        let start = Instant::now();
        let ends = [30u64, 10, 20].map(|ms| start + Duration::from_millis(ms));
        let done = Arc::new(Mutex::new(Vec::new()));
        let finished = within_guard(async {
            let tasks: Vec<_> = ends
                .iter()
                .map(|&end| {
                    let sleep = timers.sleep_until(end);
                    let done = done.clone();
                    smol::spawn(async move {
                        sleep.await;
                        done.lock().unwrap().push((end, Instant::now()));
                    })
                })
                .collect();
            for task in tasks {
                task.await;
            }
        });
        assert!(finished, "the sleeps did not end");
        let done = done.lock().unwrap();
        let order: Vec<Instant> = done.iter().map(|(end, _)| *end).collect();
        assert_eq!(order, vec![ends[1], ends[2], ends[0]]);
        assert!(done.iter().all(|(end, at)| at >= end));
        assert_eq!(timers.pending(), 0);
    }

    #[test]
    fn many_sleeps_from_several_threads_all_end_and_none_early() {
        // Four threads, each running its own executor, arm, poll and drop
        // sleeps at once, with deadlines in no order: a lost wake-up (an
        // entry the thread never sees, a nudge it misses) would leave a
        // task waiting, and the guard would fail the test.
        let timers = Arc::new(Timers::new());
        let start = Instant::now();
        let threads: Vec<_> = (0..4u64)
            .map(|t| {
                let timers = timers.clone();
                thread::spawn(move || {
                    let local = smol::LocalExecutor::new();
                    let mut kept = Vec::new();
                    for i in 0..250u64 {
                        // 0-49 ms, interleaved across threads.
                        let end = start + Duration::from_millis((i * 37 + t * 11) % 50);
                        let sleep = timers.sleep_until(end);
                        let task = local.spawn(async move {
                            sleep.await;
                            assert!(Instant::now() >= end, "ended before its deadline");
                        });
                        // A quarter is dropped while it waits.
                        if i % 4 == 0 {
                            local
                                .spawn(async move {
                                    task.cancel().await;
                                })
                                .detach();
                        } else {
                            kept.push(task);
                        }
                    }
                    within_guard(local.run(async move {
                        for task in kept {
                            task.await;
                        }
                    }))
                })
            })
            .collect();
        for t in threads {
            assert!(t.join().expect("no panic"), "a sleep never ended");
        }
        assert_eq!(timers.pending(), 0, "every sleep left the map");
    }

    #[test]
    fn only_a_sleep_ending_before_every_other_wakes_the_thread() {
        let timers = Timers::new();
        let far = Instant::now() + Duration::from_secs(3600);
        let mut later: Vec<Sleep> = (0..100)
            .map(|i| timers.sleep_until(far + Duration::from_millis(i)))
            .collect();
        for sleep in &mut later {
            assert!(poll_once(sleep).is_pending());
        }
        assert_eq!(timers.nudges(), 1, "only the first of increasing deadlines");
        assert_eq!(timers.pending(), 100);

        let mut sooner = timers.sleep_until(far - Duration::from_secs(60));
        assert!(poll_once(&mut sooner).is_pending());
        assert_eq!(timers.nudges(), 2);

        drop(later);
        drop(sooner);
        assert_eq!(timers.pending(), 0, "a dropped sleep leaves the map");
    }

    #[test]
    fn a_sooner_sleep_ends_while_a_later_one_still_waits() {
        let timers = Timers::new();
        let later_end = Instant::now() + Duration::from_secs(3600);
        let mut later = timers.sleep_until(later_end);
        assert!(poll_once(&mut later).is_pending());
        let sooner = timers.sleep_until(Instant::now() + Duration::from_millis(20));
        assert!(
            within_guard(sooner),
            "the thread waited for the later sleep"
        );
        assert!(poll_once(&mut later).is_pending());
        assert_eq!(timers.pending(), 1);
    }

    #[test]
    fn without_the_thread_sleeps_end_on_async_io_timers() {
        let timers = Timers::without_thread();
        let end = Instant::now() + Duration::from_millis(20);
        let mut sleep = timers.sleep_until(end);
        assert!(poll_once(&mut sleep).is_pending());
        assert!(matches!(sleep.state, SleepState::Fallback(_)));
        assert!(within_guard(sleep), "the fallback timer did not fire");
        assert!(Instant::now() >= end);
        assert_eq!(timers.pending(), 0);
    }

    #[test]
    fn a_passed_deadline_ends_at_once_without_the_map() {
        let timers = Timers::new();
        let mut sleep = timers.sleep_until(Instant::now());
        assert!(poll_once(&mut sleep).is_ready());
        assert_eq!(timers.pending(), 0);
        assert_eq!(timers.nudges(), 0);
    }
}
