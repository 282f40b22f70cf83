//! The connection's timer: the runtime's sleep until the next deadline,
//! polled only when it may have completed.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Wake, Waker};
use std::time::Instant;

use crate::{BoxFuture, Runtime};

/// A sleep armed for `deadline`.
///
/// The driver is polled for every input and command, and it asks its
/// timer each time. Polling a runtime's sleep is not free: tokio's
/// registers the waker with its timer again, 136 instructions a poll,
/// about ten polls per put with a thousand connections. A pending sleep
/// only needs polling once it woke the task, or once the task's waker
/// changed. So the sleep is polled through a waker that notes when the
/// sleep woke it.
pub(super) struct Timer {
    deadline: Instant,
    sleep: BoxFuture<'static, ()>,
    /// The waker of the sleep's last poll; `None` before its first.
    waker: Option<Arc<NotingWaker>>,
}

/// Wakes the task, and notes that the sleep did.
struct NotingWaker {
    woke: AtomicBool,
    task: Waker,
}

impl Wake for NotingWaker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.woke.store(true, Ordering::Release);
        self.task.wake_by_ref();
    }
}

impl Timer {
    /// A sleep on `runtime` until `deadline`.
    pub(super) fn new(runtime: &dyn Runtime, deadline: Instant) -> Self {
        Self {
            deadline,
            sleep: runtime.sleep_until(deadline),
            waker: None,
        }
    }

    /// When it is armed for.
    pub(super) fn deadline(&self) -> Instant {
        self.deadline
    }

    /// Whether the sleep has completed. Registers `cx`'s waker with it if
    /// it has not, unless it holds that waker already and has not woken
    /// it since: then it cannot have completed, whatever any clock says.
    pub(super) fn poll(&mut self, cx: &mut Context<'_>) -> bool {
        if let Some(w) = &self.waker {
            if !w.woke.load(Ordering::Acquire) && w.task.will_wake(cx.waker()) {
                return false;
            }
        }
        let noting = Arc::new(NotingWaker {
            woke: AtomicBool::new(false),
            task: cx.waker().clone(),
        });
        let waker = Waker::from(noting.clone());
        let done = self
            .sleep
            .as_mut()
            .poll(&mut Context::from_waker(&waker))
            .is_ready();
        self.waker = Some(noting);
        done
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::future::Future;
    use std::pin::Pin;
    use std::sync::Mutex;
    use std::sync::atomic::AtomicUsize;
    use std::task::Poll;

    /// A sleep completed by hand, counting its polls, keeping its waker.
    #[derive(Default)]
    struct Manual {
        done: AtomicBool,
        polls: AtomicUsize,
        waker: Mutex<Option<Waker>>,
    }

    struct ManualSleep(Arc<Manual>);

    impl Future for ManualSleep {
        type Output = ();
        fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
            self.0.polls.fetch_add(1, Ordering::SeqCst);
            *self.0.waker.lock().unwrap() = Some(cx.waker().clone());
            if self.0.done.load(Ordering::SeqCst) {
                Poll::Ready(())
            } else {
                Poll::Pending
            }
        }
    }

    /// Counts the task's wake-ups.
    #[derive(Default)]
    struct Task(AtomicUsize);

    impl Wake for Task {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    /// A timer on a manual sleep, and a task to poll it from.
    fn setup() -> (Arc<Manual>, Timer, Arc<Task>, Waker) {
        let manual = Arc::new(Manual::default());
        let timer = Timer {
            deadline: Instant::now(),
            sleep: Box::pin(ManualSleep(manual.clone())),
            waker: None,
        };
        let task = Arc::new(Task::default());
        let waker = Waker::from(task.clone());
        (manual, timer, task, waker)
    }

    #[test]
    fn a_sleep_is_polled_again_only_once_it_woke_the_task_or_the_task_changed() {
        let (manual, mut t, _task, waker) = setup();
        let mut cx = Context::from_waker(&waker);

        assert!(!t.poll(&mut cx));
        assert!(!t.poll(&mut cx));
        assert!(!t.poll(&mut cx));
        assert_eq!(manual.polls.load(Ordering::SeqCst), 1, "held this waker");

        // Another task's waker: the sleep must learn it.
        let other = Arc::new(Task::default());
        let other_waker = Waker::from(other.clone());
        assert!(!t.poll(&mut Context::from_waker(&other_waker)));
        assert_eq!(manual.polls.load(Ordering::SeqCst), 2);

        // The sleep completes and wakes whom it holds: that task is woken,
        // and the next poll asks the sleep, which is done.
        manual.done.store(true, Ordering::SeqCst);
        let held = manual.waker.lock().unwrap().take().expect("a waker");
        held.wake();
        assert_eq!(other.0.load(Ordering::SeqCst), 1);
        assert!(t.poll(&mut Context::from_waker(&other_waker)));
        assert_eq!(manual.polls.load(Ordering::SeqCst), 3);
    }

    #[test]
    fn a_wake_before_completion_costs_one_poll() {
        let (manual, mut t, task, waker) = setup();
        let mut cx = Context::from_waker(&waker);
        assert!(!t.poll(&mut cx));
        // A spurious wake (the sleep not done): polled again, still
        // pending, and polling stops again after that.
        manual
            .waker
            .lock()
            .unwrap()
            .clone()
            .expect("a waker")
            .wake();
        assert_eq!(task.0.load(Ordering::SeqCst), 1);
        assert!(!t.poll(&mut cx));
        assert!(!t.poll(&mut cx));
        assert_eq!(manual.polls.load(Ordering::SeqCst), 2);
    }
}
