//! The threads plugin code runs on, apart from the host's runtime.
//!
//! A plugin future is opaque: it may call `std::thread::sleep`, spin, or block on a lock inside
//! a single `poll`. If that poll ran on a worker of the host's tokio runtime, the gateway's
//! heartbeats, the built-in commands and every other plugin would stop with it. So every plugin
//! future is polled here instead:
//!
//! - a pool of plain threads takes scheduled futures from one queue; a worker that finds nobody
//!   idle when it hands off work starts another thread (up to `max_threads`), so a blocked
//!   thread never holds up the next call; idle threads above the minimum exit after a while;
//! - each worker enters the host runtime's context, so host services a plugin awaits (timers,
//!   sockets, HTTP) are driven by the host runtime as before;
//! - a watchdog reports a poll that holds its thread longer than the threshold, once per poll,
//!   naming the plugin and what it was running, and counts it per plugin;
//! - a [`PoolCall`] dropped before its future is done cancels it: the future is dropped at once
//!   if no thread is polling it, or as soon as the poll that holds it returns.

use std::collections::{HashMap, VecDeque};
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU8, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, Weak};
use std::task::{Context, Poll, Wake, Waker};
use std::time::{Duration, Instant};

use futures::future::BoxFuture;
use tokio::sync::oneshot;

/// How long an idle thread above the minimum waits for work before it exits.
const IDLE_EXIT: Duration = Duration::from_secs(30);
/// How often the watchdog looks at the workers.
const WATCH_EVERY: Duration = Duration::from_millis(10);
/// A poll running longer than this counts as stalled: its thread is not there for other calls,
/// so the watchdog adds one while calls wait (when `max_threads` stopped `push` from adding
/// one at once).
const STALLED_AFTER: Duration = Duration::from_millis(20);

/// What a plugin call is, for reports: the plugin and the command, event, hook or task.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CallLabel {
    /// The plugin's name.
    pub plugin: Arc<str>,
    /// What it runs, e.g. `command sleepy`, `listener MessageCreate`, `hook command_executed`.
    pub what: String,
}

/// Counters of one plugin's calls.
#[derive(Debug, Default)]
pub struct PluginCounters {
    calls: AtomicU64,
    blocked: AtomicU64,
    timed_out: AtomicU64,
}

/// A snapshot of [`PluginCounters`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CallStats {
    /// Calls started.
    pub calls: u64,
    /// Polls that held a thread past the blocked-thread threshold.
    pub blocked: u64,
    /// Calls that ran past their time limit.
    pub timed_out: u64,
}

impl PluginCounters {
    fn snapshot(&self) -> CallStats {
        CallStats {
            calls: self.calls.load(Ordering::Relaxed),
            blocked: self.blocked.load(Ordering::Relaxed),
            timed_out: self.timed_out.load(Ordering::Relaxed),
        }
    }
}

/// Settings of the pool.
#[derive(Clone, Copy, Debug)]
pub struct PoolOptions {
    /// Threads kept even when idle.
    pub min_threads: usize,
    /// Threads at most; past it, calls wait in the queue.
    pub max_threads: usize,
    /// A poll longer than this is reported as a blocked thread.
    pub blocked_after: Duration,
}

impl Default for PoolOptions {
    fn default() -> Self {
        Self {
            min_threads: std::thread::available_parallelism().map_or(2, |n| n.get().max(2)),
            max_threads: 256,
            blocked_after: Duration::from_secs(1),
        }
    }
}

// Task states.
const IDLE: u8 = 0;
const SCHEDULED: u8 = 1;
const RUNNING: u8 = 2;
const NOTIFIED: u8 = 3;
const DONE: u8 = 4;

struct Task {
    future: Mutex<Option<BoxFuture<'static, ()>>>,
    state: AtomicU8,
    cancelled: AtomicBool,
    label: Arc<CallLabel>,
    counters: Arc<PluginCounters>,
    pool: Weak<Inner>,
}

impl Task {
    fn schedule(self: &Arc<Self>) {
        let mut state = self.state.load(Ordering::Acquire);
        loop {
            let next = match state {
                IDLE => SCHEDULED,
                RUNNING => NOTIFIED,
                _ => return,
            };
            match self
                .state
                .compare_exchange_weak(state, next, Ordering::AcqRel, Ordering::Acquire)
            {
                Ok(_) if next == SCHEDULED => {
                    if let Some(pool) = self.pool.upgrade() {
                        pool.push(Arc::clone(self));
                    }
                    return;
                }
                Ok(_) => return,
                Err(actual) => state = actual,
            }
        }
    }
}

impl Wake for Task {
    fn wake(self: Arc<Self>) {
        self.schedule();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.schedule();
    }
}

/// What the watchdog sees of one worker.
#[derive(Default)]
struct WorkerSlot {
    /// Nanoseconds since the pool's epoch when the current poll began; 0 when not polling.
    polling_since: AtomicU64,
    /// Increases with every poll.
    poll_seq: AtomicU64,
    /// The poll already reported as blocked.
    reported_seq: AtomicU64,
    task: Mutex<Option<Arc<Task>>>,
}

struct Queue {
    tasks: VecDeque<Arc<Task>>,
    /// Workers waiting for work.
    idle: usize,
    /// Wake-ups sent to waiting workers and not yet taken: an idle worker is only free for new
    /// work if `idle > signals`.
    signals: usize,
    threads: usize,
    shutdown: bool,
}

struct Inner {
    queue: Mutex<Queue>,
    available: Condvar,
    options: PoolOptions,
    runtime: tokio::runtime::Handle,
    epoch: Instant,
    slots: Mutex<Vec<Arc<WorkerSlot>>>,
    counters: Mutex<HashMap<Arc<str>, Arc<PluginCounters>>>,
    next_thread: AtomicUsize,
    peak_threads: AtomicUsize,
    /// Told of every blocked poll the watchdog reports (an isolated plugin's worker forwards it
    /// to the host).
    on_blocked: std::sync::OnceLock<BlockedObserver>,
}

/// See [`PluginPool::on_blocked`].
type BlockedObserver = Box<dyn Fn(&CallLabel, Duration) + Send + Sync>;

impl Inner {
    fn now_nanos(&self) -> u64 {
        u64::try_from(self.epoch.elapsed().as_nanos())
            .unwrap_or(u64::MAX)
            .max(1)
    }

    fn push(self: &Arc<Self>, task: Arc<Task>) {
        let spawn = {
            let Ok(mut queue) = self.queue.lock() else {
                return;
            };
            if queue.shutdown {
                return;
            }
            queue.tasks.push_back(task);
            if queue.idle > queue.signals {
                queue.signals += 1;
                false
            } else if queue.threads < self.options.max_threads {
                // Everyone busy (or blocked): another thread, so this call does not wait.
                queue.threads += 1;
                true
            } else {
                return;
            }
        };
        if spawn {
            self.spawn_worker();
        } else {
            self.available.notify_one();
        }
    }

    fn spawn_worker(self: &Arc<Self>) {
        let pool = Arc::clone(self);
        let slot = Arc::new(WorkerSlot::default());
        if let Ok(mut slots) = self.slots.lock() {
            slots.push(Arc::clone(&slot));
        }
        let n = self.next_thread.fetch_add(1, Ordering::Relaxed);
        let spawned = std::thread::Builder::new()
            .name(format!("zoryx-plugin-{n}"))
            .spawn(move || pool.work(&slot));
        if let Err(error) = spawned {
            tracing::error!(%error, "could not start a plugin thread");
            if let Ok(mut queue) = self.queue.lock() {
                queue.threads = queue.threads.saturating_sub(1);
            }
        }
    }

    fn work(self: Arc<Self>, slot: &Arc<WorkerSlot>) {
        let _runtime = self.runtime.enter();
        {
            let threads = self.queue.lock().map_or(0, |q| q.threads);
            self.peak_threads.fetch_max(threads, Ordering::Relaxed);
        }
        while let Some(task) = self.next_task() {
            self.run(slot, task);
        }
        if let Ok(mut slots) = self.slots.lock() {
            slots.retain(|s| !Arc::ptr_eq(s, slot));
        }
    }

    /// The next task, or `None` when this thread should exit.
    fn next_task(&self) -> Option<Arc<Task>> {
        let mut queue = self.queue.lock().ok()?;
        loop {
            if let Some(task) = queue.tasks.pop_front() {
                return Some(task);
            }
            if queue.shutdown {
                queue.threads -= 1;
                return None;
            }
            queue.idle += 1;
            let (next, timeout) = self.available.wait_timeout(queue, IDLE_EXIT).ok()?;
            queue = next;
            queue.idle -= 1;
            queue.signals = queue.signals.saturating_sub(1);
            if timeout.timed_out()
                && queue.tasks.is_empty()
                && queue.threads > self.options.min_threads
            {
                queue.threads -= 1;
                return None;
            }
        }
    }

    fn run(&self, slot: &WorkerSlot, task: Arc<Task>) {
        loop {
            if task.state.swap(RUNNING, Ordering::AcqRel) == DONE {
                task.state.store(DONE, Ordering::Release);
                return;
            }
            let Ok(mut future) = task.future.lock() else {
                return;
            };
            if task.cancelled.load(Ordering::Acquire) {
                future.take();
                task.state.store(DONE, Ordering::Release);
                return;
            }
            let Some(inner) = future.as_mut() else {
                task.state.store(DONE, Ordering::Release);
                return;
            };
            if let Ok(mut current) = slot.task.lock() {
                *current = Some(Arc::clone(&task));
            }
            slot.poll_seq.fetch_add(1, Ordering::AcqRel);
            slot.polling_since
                .store(self.now_nanos(), Ordering::Release);
            let waker = Waker::from(Arc::clone(&task));
            let mut cx = Context::from_waker(&waker);
            let ready = inner.as_mut().poll(&mut cx).is_ready();
            slot.polling_since.store(0, Ordering::Release);
            if let Ok(mut current) = slot.task.lock() {
                current.take();
            }
            if ready || task.cancelled.load(Ordering::Acquire) {
                future.take();
                task.state.store(DONE, Ordering::Release);
                return;
            }
            drop(future);
            match task
                .state
                .compare_exchange(RUNNING, IDLE, Ordering::AcqRel, Ordering::Acquire)
            {
                Ok(_) => return,
                // Woken while it ran: poll again at once (it is still ours to run).
                Err(_) => continue,
            }
        }
    }

    /// Adds threads while calls wait and fewer than `min_threads` workers are free of a stalled
    /// poll (one that has run past [`STALLED_AFTER`]).
    fn grow(self: &Arc<Self>) {
        let stalled_after = u64::try_from(STALLED_AFTER.as_nanos()).unwrap_or(u64::MAX);
        let now = self.now_nanos();
        let stalled = self.slots.lock().map_or(0, |slots| {
            slots
                .iter()
                .filter(|slot| {
                    let since = slot.polling_since.load(Ordering::Acquire);
                    since != 0 && now.saturating_sub(since) >= stalled_after
                })
                .count()
        });
        let add = {
            let Ok(mut queue) = self.queue.lock() else {
                return;
            };
            if queue.tasks.is_empty() || queue.shutdown || queue.idle > queue.signals {
                return;
            }
            let working = queue.threads.saturating_sub(stalled);
            let wanted = self
                .options
                .min_threads
                .saturating_sub(working)
                .min(queue.tasks.len())
                .min(self.options.max_threads.saturating_sub(queue.threads));
            queue.threads += wanted;
            wanted
        };
        for _ in 0..add {
            self.spawn_worker();
        }
    }

    /// Reports polls that have held their thread past the threshold; once per poll.
    fn watch(&self) {
        let threshold = u64::try_from(self.options.blocked_after.as_nanos()).unwrap_or(u64::MAX);
        let now = self.now_nanos();
        let slots = self.slots.lock().map(|s| s.clone()).unwrap_or_default();
        for slot in slots {
            let since = slot.polling_since.load(Ordering::Acquire);
            if since == 0 || now.saturating_sub(since) < threshold {
                continue;
            }
            let seq = slot.poll_seq.load(Ordering::Acquire);
            if slot.reported_seq.swap(seq, Ordering::AcqRel) == seq {
                continue;
            }
            let task = slot.task.lock().ok().and_then(|t| t.clone());
            if let Some(task) = task {
                task.counters.blocked.fetch_add(1, Ordering::Relaxed);
                let held = Duration::from_nanos(now.saturating_sub(since));
                tracing::warn!(
                    plugin = %task.label.plugin,
                    call = %task.label.what,
                    held_ms = u64::try_from(held.as_millis()).unwrap_or(u64::MAX),
                    "plugin call is blocking its thread (a blocking call or a busy loop inside async code); the host keeps serving on other threads"
                );
                if let Some(observer) = self.on_blocked.get() {
                    observer(&task.label, held);
                }
            }
        }
    }
}

/// The pool plugin futures are polled on. Cloning shares it.
#[derive(Clone)]
pub struct PluginPool {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for PluginPool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PluginPool")
            .field("options", &self.inner.options)
            .finish_non_exhaustive()
    }
}

/// The result of a pool call that did not finish.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PoolError {
    /// The call ran past its time limit and was cancelled.
    #[error("took longer than {}s", .0.as_secs_f64())]
    TimedOut(Duration),
    /// The pool stopped before the call finished.
    #[error("the plugin threads have stopped")]
    Stopped,
}

impl PluginPool {
    /// A pool whose threads enter `runtime` (the host's), with its watchdog on that runtime.
    pub fn new(runtime: tokio::runtime::Handle, options: PoolOptions) -> Self {
        let options = PoolOptions {
            min_threads: options.min_threads.max(1),
            max_threads: options.max_threads.max(options.min_threads.max(1)),
            ..options
        };
        let inner = Arc::new(Inner {
            queue: Mutex::new(Queue {
                tasks: VecDeque::new(),
                idle: 0,
                signals: 0,
                threads: 0,
                shutdown: false,
            }),
            available: Condvar::new(),
            options,
            runtime: runtime.clone(),
            epoch: Instant::now(),
            slots: Mutex::new(Vec::new()),
            counters: Mutex::new(HashMap::new()),
            next_thread: AtomicUsize::new(0),
            peak_threads: AtomicUsize::new(0),
            on_blocked: std::sync::OnceLock::new(),
        });
        if let Ok(mut queue) = inner.queue.lock() {
            queue.threads = options.min_threads;
        }
        for _ in 0..options.min_threads {
            inner.spawn_worker();
        }
        let weak = Arc::downgrade(&inner);
        runtime.spawn(async move {
            let mut ticker = tokio::time::interval(WATCH_EVERY);
            ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
            loop {
                ticker.tick().await;
                let Some(inner) = weak.upgrade() else { break };
                inner.grow();
                inner.watch();
            }
        });
        Self { inner }
    }

    /// The pool of the current tokio runtime's host: a new one with default options.
    pub fn current() -> Self {
        Self::new(tokio::runtime::Handle::current(), PoolOptions::default())
    }

    /// The options in force.
    pub fn options(&self) -> PoolOptions {
        self.inner.options
    }

    fn counters(&self, plugin: &Arc<str>) -> Arc<PluginCounters> {
        let Ok(mut counters) = self.inner.counters.lock() else {
            return Arc::default();
        };
        Arc::clone(counters.entry(Arc::clone(plugin)).or_default())
    }

    /// The counters of `plugin` (zeros if it never ran).
    pub fn stats(&self, plugin: &str) -> CallStats {
        self.inner
            .counters
            .lock()
            .ok()
            .and_then(|c| c.get(plugin).map(|c| c.snapshot()))
            .unwrap_or_default()
    }

    /// Counts calls, blocked threads and time-outs of `plugin` that ran elsewhere (in an
    /// isolated plugin's worker), so `list` and `info` show them like in-process ones.
    pub fn record(&self, plugin: &str, calls: u64, blocked: u64, timed_out: u64) {
        let counters = self.counters(&Arc::from(plugin));
        counters.calls.fetch_add(calls, Ordering::Relaxed);
        counters.blocked.fetch_add(blocked, Ordering::Relaxed);
        counters.timed_out.fetch_add(timed_out, Ordering::Relaxed);
    }

    /// Calls `observer` with every blocked poll the watchdog reports (set once).
    pub fn on_blocked(&self, observer: impl Fn(&CallLabel, Duration) + Send + Sync + 'static) {
        let _ = self.inner.on_blocked.set(Box::new(observer));
    }

    /// Threads alive now, and the most there have been.
    pub fn threads(&self) -> (usize, usize) {
        let now = self.inner.queue.lock().map_or(0, |q| q.threads);
        (now, self.inner.peak_threads.load(Ordering::Relaxed))
    }

    /// Starts `future` on the pool. The returned call resolves to its output; dropping it
    /// cancels the future.
    pub fn spawn<T, F>(&self, label: CallLabel, future: F) -> PoolCall<T>
    where
        T: Send + 'static,
        F: Future<Output = T> + Send + 'static,
    {
        let label = Arc::new(label);
        let counters = self.counters(&label.plugin);
        counters.calls.fetch_add(1, Ordering::Relaxed);
        let (tx, rx) = oneshot::channel();
        let task = Arc::new(Task {
            future: Mutex::new(Some(Box::pin(async move {
                let _ = tx.send(future.await);
            }))),
            state: AtomicU8::new(IDLE),
            cancelled: AtomicBool::new(false),
            label,
            counters,
            pool: Arc::downgrade(&self.inner),
        });
        task.schedule();
        PoolCall { task, result: rx }
    }

    /// Runs `future` on the pool with a time limit; past it, the future is cancelled and the
    /// call counted as timed out.
    pub async fn run<T, F>(
        &self,
        label: CallLabel,
        limit: Duration,
        future: F,
    ) -> Result<T, PoolError>
    where
        T: Send + 'static,
        F: Future<Output = T> + Send + 'static,
    {
        let call = self.spawn(label, future);
        let counters = Arc::clone(&call.task.counters);
        match tokio::time::timeout(limit, call).await {
            Ok(result) => result,
            Err(_) => {
                counters.timed_out.fetch_add(1, Ordering::Relaxed);
                Err(PoolError::TimedOut(limit))
            }
        }
    }

    /// Stops the threads once the queue is empty; calls still queued after that are dropped.
    pub fn shutdown(&self) {
        if let Ok(mut queue) = self.inner.queue.lock() {
            queue.shutdown = true;
        }
        self.inner.available.notify_all();
    }
}

/// A future started on the pool; cancels it when dropped unfinished.
pub struct PoolCall<T> {
    task: Arc<Task>,
    result: oneshot::Receiver<T>,
}

impl<T> Future for PoolCall<T> {
    type Output = Result<T, PoolError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        Pin::new(&mut self.result)
            .poll(cx)
            .map(|r| r.map_err(|_| PoolError::Stopped))
    }
}

impl<T> Drop for PoolCall<T> {
    fn drop(&mut self) {
        if self.task.state.load(Ordering::Acquire) == DONE {
            return;
        }
        // The future is dropped on a pool thread: at once if nobody polls it, else as soon as
        // the poll that holds it returns. Plugin code never runs on the caller's thread.
        self.task.cancelled.store(true, Ordering::Release);
        self.task.schedule();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn label(plugin: &str) -> CallLabel {
        CallLabel {
            plugin: plugin.into(),
            what: "command test".to_owned(),
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_blocked_thread_does_not_hold_up_other_calls() {
        let pool = PluginPool::new(
            tokio::runtime::Handle::current(),
            PoolOptions {
                min_threads: 1,
                max_threads: 16,
                blocked_after: Duration::from_millis(50),
            },
        );
        let (release, wait) = std::sync::mpsc::channel::<()>();
        let wait = Arc::new(Mutex::new(wait));
        let blockers: Vec<_> = (0..4)
            .map(|_| {
                let wait = Arc::clone(&wait);
                pool.spawn(label("blocker"), async move {
                    // Holds its thread until released (a blocking call inside async code).
                    if let Ok(rx) = wait.lock() {
                        let _ = rx.recv_timeout(Duration::from_secs(20));
                    }
                })
            })
            .collect();
        // Another plugin's call, which awaits a host timer, finishes while they block.
        let quick = pool
            .run(label("quick"), Duration::from_secs(10), async {
                tokio::time::sleep(Duration::from_millis(5)).await;
                7
            })
            .await;
        assert_eq!(quick, Ok(7));
        // The watchdog reports the blocker.
        let deadline = Instant::now() + Duration::from_secs(10);
        while pool.stats("blocker").blocked == 0 && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        assert!(pool.stats("blocker").blocked >= 1);
        assert_eq!(pool.stats("quick").blocked, 0);
        for _ in 0..4 {
            let _ = release.send(());
        }
        for blocker in blockers {
            assert_eq!(blocker.await, Ok(()));
        }
        assert!(pool.threads().1 >= 2, "{:?}", pool.threads());
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_call_past_its_limit_is_cancelled() {
        let pool = PluginPool::current();
        struct Flag(Arc<AtomicBool>);
        impl Drop for Flag {
            fn drop(&mut self) {
                self.0.store(true, Ordering::SeqCst);
            }
        }
        let dropped = Arc::new(AtomicBool::new(false));
        let flag = Flag(Arc::clone(&dropped));
        let result = pool
            .run(label("never"), Duration::from_millis(100), async move {
                let _flag = flag;
                std::future::pending::<()>().await;
            })
            .await;
        assert_eq!(result, Err(PoolError::TimedOut(Duration::from_millis(100))));
        // The future is dropped on a pool thread, just after the limit.
        let deadline = Instant::now() + Duration::from_secs(10);
        while !dropped.load(Ordering::SeqCst) && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        assert!(dropped.load(Ordering::SeqCst), "the future was dropped");
        assert_eq!(pool.stats("never").timed_out, 1);
    }
}
