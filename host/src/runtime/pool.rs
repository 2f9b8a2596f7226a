//! The threads plugin code runs on, apart from the host's runtime.
//!
//! A plugin future is opaque: it may call `std::thread::sleep`, spin, or block on a lock inside
//! a single `poll`. If that poll ran on a worker of the host's tokio runtime, the gateway's
//! heartbeats, the built-in commands and every other plugin would stop with it. So every plugin
//! future is polled here instead:
//!
//! - a pool of plain threads (one per core at least) takes scheduled futures from one queue;
//!   a call that finds every thread busy and some of them stalled (in one poll for over
//!   2 ms) starts another thread (up to `max_threads`), and so does the watchdog
//!   while calls wait, so a blocked thread never holds up the next call for long; threads that
//!   are merely busy are not added to (more threads than cores only take turns on them);
//! - a thread never ends while the process runs, not when idle, not when the pool shuts down (it
//!   parks for good instead): a thread that ends runs the thread-local destructors registered on
//!   it, and those of plugin code (the plugin's own `std`, e.g. after `std::thread::current()`)
//!   point into a library that may have been unloaded since. Ending would crash the host;
//! - each worker enters the host runtime's context, so host services a plugin awaits (timers,
//!   sockets, HTTP) are driven by the host runtime as before;
//! - a watchdog reports a poll that holds its thread longer than the threshold, once per poll,
//!   naming the plugin and what it was running, and counts it per plugin;
//! - a [`PoolCall`] dropped before its future is done cancels it: the future is dropped at once
//!   if no thread is polling it, or as soon as the poll that holds it returns;
//! - calls started together ([`PluginPool::run_all`], e.g. every listener of one event) are
//!   handed to the threads as one job: one thread runs their first polls one after another, so
//!   the hand-off between the host's runtime and the pool is paid once, not once per call. If
//!   one of them stalls that thread, the watchdog hands the rest to another.

use std::collections::{HashMap, VecDeque};
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU8, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, Weak};
use std::task::{Context, Poll, Wake, Waker};
use std::time::{Duration, Instant};

use futures::future::BoxFuture;
use tokio::sync::oneshot;

/// How long a worker out of work looks for more before it sleeps.
const SPIN_FOR: Duration = Duration::from_micros(200);
/// Workers looking for work at once, at most; the others sleep at once (one per core is too
/// few: a burst hands out jobs faster than one thread takes them).
const MAX_SPINNING: usize = 16;
/// How often the watchdog looks at the workers.
const WATCH_EVERY: Duration = Duration::from_millis(5);
/// A poll running longer than this counts as stalled: its thread is not there for other calls,
/// so the next call finds another thread started for it (by `push`, or by the watchdog while
/// calls wait).
const STALLED_AFTER: Duration = Duration::from_millis(2);

/// What a plugin call is, for reports: the plugin and the command, event, hook or task.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CallLabel {
    /// The plugin's name.
    pub plugin: Arc<str>,
    /// What it runs, e.g. `command sleepy`, `listener MessageCreate`, `hook command_executed`.
    pub what: String,
}

/// Buckets of the call-time histogram: bucket `i` holds calls of `2^(i/2)` µs and up (each
/// bucket √2 wider than the one before), the last one everything longer.
const TIME_BUCKETS: usize = 64;

/// The bucket of a call that took `micros`.
fn time_bucket(micros: u64) -> usize {
    if micros < 1 {
        return 0;
    }
    // floor(2 · log2(micros)), from the position of the top bit and the next one.
    let top = 63 - micros.leading_zeros() as usize;
    let half = if top > 0 {
        usize::from((micros >> (top - 1)) & 1 == 1)
    } else {
        0
    };
    (2 * top + half).min(TIME_BUCKETS - 1)
}

/// The lower bound of bucket `i` in µs.
fn bucket_floor(i: usize) -> f64 {
    2_f64.powf(i as f64 / 2.0)
}

/// Counters of one plugin's calls.
#[derive(Debug)]
pub struct PluginCounters {
    calls: AtomicU64,
    blocked: AtomicU64,
    timed_out: AtomicU64,
    errors: AtomicU64,
    times: [AtomicU64; TIME_BUCKETS],
}

impl Default for PluginCounters {
    fn default() -> Self {
        Self {
            calls: AtomicU64::new(0),
            blocked: AtomicU64::new(0),
            timed_out: AtomicU64::new(0),
            errors: AtomicU64::new(0),
            times: std::array::from_fn(|_| AtomicU64::new(0)),
        }
    }
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
    /// Calls that ended in an error (time-outs included).
    pub errors: u64,
    /// Calls finished and timed.
    pub timed: u64,
    /// The median call time in µs (`0` before any call finished), within √2.
    pub p50_us: u64,
    /// The 99th percentile call time in µs, within √2.
    pub p99_us: u64,
}

impl PluginCounters {
    fn snapshot(&self) -> CallStats {
        let times: Vec<u64> = self
            .times
            .iter()
            .map(|b| b.load(Ordering::Relaxed))
            .collect();
        let timed: u64 = times.iter().sum();
        let quantile = |q: f64| -> u64 {
            if timed == 0 {
                return 0;
            }
            let rank = ((timed as f64) * q).ceil().max(1.0) as u64;
            let mut seen = 0;
            for (i, count) in times.iter().enumerate() {
                seen += count;
                if seen >= rank {
                    // The middle of the bucket (geometric), as good a guess as any in it.
                    return (bucket_floor(i) * 2_f64.powf(0.25)) as u64;
                }
            }
            0
        };
        CallStats {
            calls: self.calls.load(Ordering::Relaxed),
            blocked: self.blocked.load(Ordering::Relaxed),
            timed_out: self.timed_out.load(Ordering::Relaxed),
            errors: self.errors.load(Ordering::Relaxed),
            timed,
            p50_us: quantile(0.5),
            p99_us: quantile(0.99),
        }
    }

    fn time(&self, took: Duration) {
        let micros = u64::try_from(took.as_micros()).unwrap_or(u64::MAX);
        if let Some(bucket) = self.times.get(time_bucket(micros)) {
            bucket.fetch_add(1, Ordering::Relaxed);
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
    /// When the call was started, for its time.
    created: Instant,
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
                        pool.push(Job::Task(Arc::clone(self)));
                    }
                    return;
                }
                Ok(_) => return,
                Err(actual) => state = actual,
            }
        }
    }
}

impl Task {
    /// Cancels it unless done. The future is dropped on a pool thread: at once if nobody polls
    /// it, else as soon as the poll that holds it returns (a task still waiting in its group:
    /// when the group reaches it). Plugin code never runs on the caller's thread.
    fn cancel(self: &Arc<Self>) {
        if self.state.load(Ordering::Acquire) == DONE {
            return;
        }
        self.cancelled.store(true, Ordering::Release);
        self.schedule();
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

/// The calling thread's id, for [`cpu_wait_nanos`] (0 where there is none to read).
fn thread_id() -> i32 {
    #[cfg(target_os = "linux")]
    {
        // SAFETY: gettid takes no arguments, touches no memory and cannot fail.
        unsafe { libc::gettid() }
    }
    #[cfg(not(target_os = "linux"))]
    {
        0
    }
}

/// How long thread `tid` of this process has waited for a CPU while runnable, in nanoseconds
/// (`/proc/self/task/TID/schedstat`, second field); `None` where that cannot be read.
fn cpu_wait_nanos(tid: i32) -> Option<u64> {
    if tid <= 0 {
        return None;
    }
    let stat = std::fs::read_to_string(format!("/proc/self/task/{tid}/schedstat")).ok()?;
    stat.split_ascii_whitespace().nth(1)?.parse().ok()
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
    /// The group the current task was taken from, while its first poll runs.
    group: Mutex<Option<Arc<Group>>>,
    /// The poll whose group was handed to another thread.
    handed_seq: AtomicU64,
    /// The thread's id (Linux), to read how long it waited for a CPU.
    tid: std::sync::atomic::AtomicI32,
    /// Whether the current poll has stalled its thread (see [`Inner::judge_stalls`]).
    stalled: AtomicBool,
    /// The watchdog's first look at a long poll: its number, when, and how long the thread
    /// had waited for a CPU until then.
    seen: Mutex<(u64, u64, Option<u64>)>,
}

/// Calls started together, not yet polled; threads take them one at a time.
struct Group {
    tasks: Mutex<VecDeque<Arc<Task>>>,
}

impl Group {
    fn next(&self) -> Option<Arc<Task>> {
        self.tasks.lock().ok()?.pop_front()
    }

    fn is_empty(&self) -> bool {
        self.tasks.lock().map_or(true, |t| t.is_empty())
    }
}

/// What a thread takes from the queue.
enum Job {
    /// A task to poll (new, or woken).
    Task(Arc<Task>),
    /// Tasks to poll for the first time, in order.
    Group(Arc<Group>),
}

struct Queue {
    tasks: VecDeque<Job>,
    /// Workers waiting for work.
    idle: usize,
    /// Wake-ups sent to waiting workers and not yet taken: an idle worker is only free for new
    /// work if `idle > signals`.
    signals: usize,
    threads: usize,
    /// Workers looking for work before they sleep (see [`SPIN_FOR`]).
    spinning: usize,
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
    /// `queue.tasks.len()`, for workers looking for work without the lock.
    queued: AtomicUsize,
    /// Groups started without a waiter, by deadline (nanoseconds since `epoch`) and a number
    /// that tells groups with the same deadline apart; a group leaves when it finishes.
    deadlines: Mutex<std::collections::BTreeMap<(u64, u64), Weak<dyn Expire>>>,
    /// The next group's number in `deadlines`.
    next_group: AtomicU64,
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

    fn push(self: &Arc<Self>, job: Job) {
        let Some(job) = Batch::take(self, job) else {
            return;
        };
        let spawn = {
            let Ok(mut queue) = self.queue.lock() else {
                return;
            };
            if queue.shutdown {
                return;
            }
            queue.tasks.push_back(job);
            self.queued.store(queue.tasks.len(), Ordering::Release);
            if queue.tasks.len() <= queue.spinning {
                // A thread looking for work takes it without being woken.
                return;
            } else if queue.idle > queue.signals {
                queue.signals += 1;
                false
            } else if queue.threads < self.options.max_threads
                && queue.threads < self.options.min_threads + self.stalled_workers()
            {
                // Everyone busy and some of them stalled (a blocking call or a busy loop in a
                // plugin): another thread, so this call does not wait behind them. Threads that
                // are merely busy take the call when their polls return; more threads than
                // cores would only take turns on them.
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

    /// Workers whose poll has stalled them (as the watchdog last judged).
    fn stalled_workers(&self) -> usize {
        self.slots.lock().map_or(0, |slots| {
            slots
                .iter()
                .filter(|slot| slot.stalled.load(Ordering::Acquire))
                .count()
        })
    }

    /// Judges which polls have stalled their threads: held them for [`STALLED_AFTER`], busy or
    /// blocked, not counting the time the thread waited for a CPU. On a machine with every core
    /// busy, a thread that was merely preempted in a short poll has not stalled, and another
    /// thread for its queue would only add to the wait. Where the wait cannot be read (not
    /// Linux), a poll stalls after [`STALLED_AFTER`] of wall time.
    fn judge_stalls(&self) {
        let stalled_after = u64::try_from(STALLED_AFTER.as_nanos()).unwrap_or(u64::MAX);
        let now = self.now_nanos();
        let slots = self.slots.lock().map(|s| s.clone()).unwrap_or_default();
        for slot in slots {
            let since = slot.polling_since.load(Ordering::Acquire);
            if since == 0 || now.saturating_sub(since) < stalled_after {
                slot.stalled.store(false, Ordering::Release);
                continue;
            }
            let seq = slot.poll_seq.load(Ordering::Acquire);
            let waited = cpu_wait_nanos(slot.tid.load(Ordering::Relaxed));
            let Ok(mut seen) = slot.seen.lock() else {
                continue;
            };
            let stalled = match (*seen, waited) {
                // Seen before, waits known: the time since then that was not spent waiting.
                ((seen_seq, seen_at, Some(seen_wait)), Some(wait)) if seen_seq == seq => {
                    let held = now
                        .saturating_sub(seen_at)
                        .saturating_sub(wait.saturating_sub(seen_wait));
                    held >= stalled_after
                }
                // Waits unknown: wall time.
                (_, None) => true,
                // First look at this poll: the baseline.
                _ => {
                    *seen = (seq, now, waited);
                    false
                }
            };
            slot.stalled.store(stalled, Ordering::Release);
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
            .spawn(move || pool.worker_thread(&slot));
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
        while let Some(job) = self.next_job() {
            match job {
                Job::Task(task) => self.run(slot, task),
                Job::Group(group) => {
                    while let Some(task) = group.next() {
                        if let Ok(mut current) = slot.group.lock() {
                            *current = Some(Arc::clone(&group));
                        }
                        self.run(slot, task);
                    }
                    if let Ok(mut current) = slot.group.lock() {
                        current.take();
                    }
                }
            }
        }
        if let Ok(mut slots) = self.slots.lock() {
            slots.retain(|s| !Arc::ptr_eq(s, slot));
        }
    }

    /// Runs a worker thread: its jobs until the pool shuts down, then it parks for good (see
    /// the module's notes: ending the thread could call into an unloaded library).
    fn worker_thread(self: Arc<Self>, slot: &Arc<WorkerSlot>) {
        slot.tid.store(thread_id(), Ordering::Relaxed);
        self.work(slot);
        loop {
            std::thread::park();
        }
    }

    /// The next job, or `None` when this thread should exit.
    fn next_job(&self) -> Option<Job> {
        let mut queue = self.queue.lock().ok()?;
        let mut spun = false;
        loop {
            if let Some(job) = queue.tasks.pop_front() {
                self.queued.store(queue.tasks.len(), Ordering::Release);
                return Some(job);
            }
            if queue.shutdown {
                queue.threads -= 1;
                return None;
            }
            if !spun && queue.spinning < MAX_SPINNING {
                // Under load the next job comes within microseconds: look for it a little
                // before sleeping, so that handing it over needs no wake-up.
                spun = true;
                queue.spinning += 1;
                drop(queue);
                let until = Instant::now() + SPIN_FOR;
                while self.queued.load(Ordering::Acquire) == 0 && Instant::now() < until {
                    std::thread::yield_now();
                }
                queue = self.queue.lock().ok()?;
                queue.spinning -= 1;
                continue;
            }
            queue.idle += 1;
            queue = self.available.wait(queue).ok()?;
            queue.idle -= 1;
            queue.signals = queue.signals.saturating_sub(1);
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
            slot.stalled.store(false, Ordering::Release);
            if let Ok(mut current) = slot.task.lock() {
                current.take();
            }
            if ready {
                task.counters.time(task.created.elapsed());
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
        let stalled = self.stalled_workers();
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

    /// Expires the groups started without a waiter that are past their deadline (the finished
    /// ones have left already).
    fn expire_groups(&self) {
        let now = self.now_nanos();
        let mut expired = Vec::new();
        if let Ok(mut deadlines) = self.deadlines.lock() {
            while let Some(entry) = deadlines.first_entry() {
                if entry.key().0 > now {
                    break;
                }
                if let Some(group) = entry.remove().upgrade() {
                    expired.push(group);
                }
            }
        }
        // Outside the lock: cancelling may finish a group, whose `done` runs here.
        for group in expired {
            group.expire();
        }
    }

    /// Hands the calls left in a group to another thread when the poll of one of them has
    /// stalled the thread running the group (once per poll).
    fn hand_off_groups(self: &Arc<Self>) {
        let slots = self.slots.lock().map(|s| s.clone()).unwrap_or_default();
        for slot in slots {
            if !slot.stalled.load(Ordering::Acquire) {
                continue;
            }
            let Some(group) = slot.group.lock().ok().and_then(|g| g.clone()) else {
                continue;
            };
            let seq = slot.poll_seq.load(Ordering::Acquire);
            if group.is_empty() || slot.handed_seq.swap(seq, Ordering::AcqRel) == seq {
                continue;
            }
            self.push(Job::Group(group));
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

/// Calls started on this thread while a [`Batch`] lives are queued as one job when it ends.
///
/// A message that runs a command and is delivered to listeners starts calls twice within one
/// synchronous step of the host; batched, one pool thread takes them all with one hand-off (the
/// command's call first), instead of waking a thread for each.
pub struct Batch {
    _not_send: std::marker::PhantomData<*const ()>,
}

/// The calls of the [`Batch`] open on this thread, and the pool they are for.
struct Batched {
    pool: Arc<Inner>,
    tasks: Vec<Arc<Task>>,
}

thread_local! {
    /// `None`: no batch open; `Some(None)`: open and empty.
    static BATCH: std::cell::RefCell<Option<Option<Batched>>> = const { std::cell::RefCell::new(None) };
}

impl Batch {
    /// Opens a batch on this thread (one at a time: a nested one joins the outer one).
    pub fn open() -> Option<Self> {
        BATCH.with(|batch| {
            let mut batch = batch.borrow_mut();
            if batch.is_some() {
                return None;
            }
            *batch = Some(None);
            Some(Self {
                _not_send: std::marker::PhantomData,
            })
        })
    }

    /// Keeps `job` for the open batch if it is for the same pool (the first job's); gives it
    /// back to be queued now otherwise.
    fn take(pool: &Arc<Inner>, job: Job) -> Option<Job> {
        BATCH.with(|batch| {
            let Ok(mut batch) = batch.try_borrow_mut() else {
                return Some(job);
            };
            let Some(open) = batch.as_mut() else {
                return Some(job);
            };
            let batched = open.get_or_insert_with(|| Batched {
                pool: Arc::clone(pool),
                tasks: Vec::new(),
            });
            if !Arc::ptr_eq(&batched.pool, pool) {
                return Some(job);
            }
            match job {
                Job::Task(task) => batched.tasks.push(task),
                Job::Group(group) => {
                    if let Ok(mut tasks) = group.tasks.lock() {
                        batched.tasks.extend(tasks.drain(..));
                    }
                }
            }
            None
        })
    }
}

impl Drop for Batch {
    fn drop(&mut self) {
        let batched = BATCH.with(|batch| batch.borrow_mut().take().flatten());
        if let Some(Batched { pool, mut tasks }) = batched {
            let job = match tasks.len() {
                0 => return,
                1 => match tasks.pop() {
                    Some(task) => Job::Task(task),
                    None => return,
                },
                _ => Job::Group(Arc::new(Group {
                    tasks: Mutex::new(tasks.into()),
                })),
            };
            pool.push(job);
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
                spinning: 0,
                shutdown: false,
            }),
            available: Condvar::new(),
            options,
            runtime: runtime.clone(),
            epoch: Instant::now(),
            slots: Mutex::new(Vec::new()),
            counters: Mutex::new(HashMap::new()),
            next_thread: AtomicUsize::new(0),
            queued: AtomicUsize::new(0),
            deadlines: Mutex::new(std::collections::BTreeMap::new()),
            next_group: AtomicU64::new(0),
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
                inner.expire_groups();
                inner.judge_stalls();
                inner.hand_off_groups();
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

    /// Counts a call of `plugin` that ended in an error.
    pub fn record_error(&self, plugin: &str) {
        self.counters(&Arc::from(plugin))
            .errors
            .fetch_add(1, Ordering::Relaxed);
    }

    /// Times a call of `plugin` that ran elsewhere (in an isolated plugin's worker, timed by
    /// the host: the frames' round trip included).
    pub fn record_time(&self, plugin: &str, took: Duration) {
        self.counters(&Arc::from(plugin)).time(took);
    }

    /// Every plugin's counters, by name.
    pub fn all_stats(&self) -> Vec<(String, CallStats)> {
        let mut all: Vec<(String, CallStats)> = self
            .inner
            .counters
            .lock()
            .map(|c| {
                c.iter()
                    .map(|(name, counters)| (name.to_string(), counters.snapshot()))
                    .collect()
            })
            .unwrap_or_default();
        all.sort_by(|a, b| a.0.cmp(&b.0));
        all
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
        let (tx, rx) = oneshot::channel();
        let task = self.task(
            label,
            Box::pin(async move {
                let _ = tx.send(future.await);
            }),
            IDLE,
        );
        task.schedule();
        PoolCall { task, result: rx }
    }

    /// A task of `label`'s plugin (counted as a call), in `state`.
    fn task(&self, label: CallLabel, future: BoxFuture<'static, ()>, state: u8) -> Arc<Task> {
        let label = Arc::new(label);
        let counters = self.counters(&label.plugin);
        counters.calls.fetch_add(1, Ordering::Relaxed);
        Arc::new(Task {
            future: Mutex::new(Some(future)),
            created: Instant::now(),
            state: AtomicU8::new(state),
            cancelled: AtomicBool::new(false),
            label,
            counters,
            pool: Arc::downgrade(&self.inner),
        })
    }

    /// Runs `calls` on the pool together, each with the time limit `limit` (from now), and
    /// returns their results in order. They are handed to the threads as one job: one thread
    /// runs their first polls one after another (a call that stalls it leaves the rest to
    /// another thread), and the caller is woken once, when the last one finishes. Calls past
    /// the limit are cancelled and counted as timed out; dropping the returned future cancels
    /// the unfinished ones.
    pub async fn run_all<T, F>(
        &self,
        calls: Vec<(CallLabel, F)>,
        limit: Duration,
    ) -> Vec<Result<T, PoolError>>
    where
        T: Send + 'static,
        F: Future<Output = T> + Send + 'static,
    {
        if calls.is_empty() {
            return Vec::new();
        }
        let group = self.start_group(calls, limit, None);
        let cancel = CancelGroup(Arc::clone(&group));
        if tokio::time::timeout(limit, group.finished()).await.is_err() {
            group.expire();
        }
        let outputs = group.outputs();
        drop(cancel);
        outputs
    }

    /// As [`run_all`](Self::run_all), without waiting: `done` gets the results on the pool
    /// thread that finishes the last call or, at the limit, on the watchdog's (the calls not
    /// done by then time out). Nothing on the host's runtime waits for the calls.
    pub fn start_all<T, F>(
        &self,
        calls: Vec<(CallLabel, F)>,
        limit: Duration,
        done: impl FnOnce(Vec<Result<T, PoolError>>) + Send + 'static,
    ) where
        T: Send + 'static,
        F: Future<Output = T> + Send + 'static,
    {
        if calls.is_empty() {
            done(Vec::new());
            return;
        }
        self.start_group(calls, limit, Some(Box::new(done)));
    }

    /// Queues `calls` as one group job; one with `on_done` (nobody waits for it) is given to
    /// the watchdog with its deadline before it is queued.
    fn start_group<T, F>(
        &self,
        calls: Vec<(CallLabel, F)>,
        limit: Duration,
        on_done: Option<OnDone<T>>,
    ) -> Arc<GroupState<T>>
    where
        T: Send + 'static,
        F: Future<Output = T> + Send + 'static,
    {
        let group = Arc::new(GroupState {
            slots: calls.iter().map(|_| Mutex::new(None)).collect(),
            remaining: AtomicUsize::new(calls.len()),
            done: tokio::sync::Notify::new(),
            tasks: std::sync::OnceLock::new(),
            limit,
            timed_out: AtomicBool::new(false),
            deadline: std::sync::OnceLock::new(),
            pool: Arc::downgrade(&self.inner),
            on_done: Mutex::new(on_done),
        });
        let tasks: Vec<Arc<Task>> = calls
            .into_iter()
            .enumerate()
            .map(|(index, (label, future))| {
                let finish = Finish(Arc::clone(&group));
                let future = Box::pin(async move {
                    let output = future.await;
                    if let Some(Ok(mut slot)) = finish.0.slots.get(index).map(Mutex::lock) {
                        *slot = Some(output);
                    }
                    drop(finish);
                });
                // Scheduled already: the group below is what gets queued.
                self.task(label, future, SCHEDULED)
            })
            .collect();
        let _ = group.tasks.set(tasks.clone());
        if group.on_done.lock().is_ok_and(|d| d.is_some()) {
            let deadline = self
                .inner
                .now_nanos()
                .saturating_add(u64::try_from(limit.as_nanos()).unwrap_or(u64::MAX));
            let key = (
                deadline,
                self.inner.next_group.fetch_add(1, Ordering::Relaxed),
            );
            let expire: Arc<dyn Expire> = Arc::clone(&group) as Arc<dyn Expire>;
            if let Ok(mut deadlines) = self.inner.deadlines.lock() {
                deadlines.insert(key, Arc::downgrade(&expire));
                let _ = group.deadline.set(key);
            }
        }
        self.inner.push(Job::Group(Arc::new(Group {
            tasks: Mutex::new(tasks.into()),
        })));
        group
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

/// What a finished group gives its `done` callback.
type OnDone<T> = Box<dyn FnOnce(Vec<Result<T, PoolError>>) + Send>;

/// The outputs of a group of calls ([`PluginPool::run_all`], [`PluginPool::start_all`]), and how
/// many of them are still running.
struct GroupState<T> {
    slots: Vec<Mutex<Option<T>>>,
    remaining: AtomicUsize,
    done: tokio::sync::Notify,
    /// Its tasks: they live until done even if nothing else holds them (a future that never
    /// wakes runs until the limit). Each task's future holds the group in turn; the cycle ends
    /// when the future completes or is cancelled.
    tasks: std::sync::OnceLock<Vec<Arc<Task>>>,
    limit: Duration,
    timed_out: AtomicBool,
    /// Its key in the pool's deadlines, when the watchdog keeps its limit.
    deadline: std::sync::OnceLock<(u64, u64)>,
    pool: Weak<Inner>,
    on_done: Mutex<Option<OnDone<T>>>,
}

impl<T> GroupState<T> {
    /// Returns once every call has finished or been dropped.
    async fn finished(&self) {
        while self.remaining.load(Ordering::Acquire) > 0 {
            // `notify_one` keeps a permit when nobody waits yet, so a call that finishes
            // between the check and this await is not missed.
            self.done.notified().await;
        }
    }

    /// Cancels the calls not done yet.
    fn cancel(&self) {
        for task in self.tasks.get().into_iter().flatten() {
            task.cancel();
        }
    }

    /// Takes the results: a call without an output timed out (counted) or was dropped.
    fn outputs(&self) -> Vec<Result<T, PoolError>> {
        let timed_out = self.timed_out.load(Ordering::Acquire);
        let tasks = self.tasks.get().map(Vec::as_slice).unwrap_or_default();
        self.slots
            .iter()
            .enumerate()
            .map(
                |(index, slot)| match slot.lock().ok().and_then(|mut s| s.take()) {
                    Some(output) => Ok(output),
                    None if timed_out => {
                        if let Some(task) = tasks.get(index) {
                            task.counters.timed_out.fetch_add(1, Ordering::Relaxed);
                        }
                        Err(PoolError::TimedOut(self.limit))
                    }
                    None => Err(PoolError::Stopped),
                },
            )
            .collect()
    }
}

/// A group past its limit: its unfinished calls are cancelled and count as timed out.
trait Expire: Send + Sync {
    fn expire(&self);
}

impl<T: Send> Expire for GroupState<T> {
    fn expire(&self) {
        self.timed_out.store(true, Ordering::Release);
        self.cancel();
        // A group started without a waiter hears at its limit, not when a poll that holds its
        // thread past it returns (what that call gives then is dropped).
        let done = self.on_done.lock().ok().and_then(|mut d| d.take());
        if let Some(done) = done {
            done(self.outputs());
        }
    }
}

/// Counts one call of a group as finished when its future completes or is dropped; the last
/// one wakes the waiter or calls `done`.
struct Finish<T>(Arc<GroupState<T>>);

impl<T> Drop for Finish<T> {
    fn drop(&mut self) {
        if self.0.remaining.fetch_sub(1, Ordering::AcqRel) != 1 {
            return;
        }
        if let Some(key) = self.0.deadline.get()
            && let Some(pool) = self.0.pool.upgrade()
            && let Ok(mut deadlines) = pool.deadlines.lock()
        {
            deadlines.remove(key);
        }
        self.0.done.notify_one();
        let done = self.0.on_done.lock().ok().and_then(|mut d| d.take());
        if let Some(done) = done {
            done(self.0.outputs());
        }
    }
}

/// Cancels a group's unfinished calls when dropped.
struct CancelGroup<T>(Arc<GroupState<T>>);

impl<T> Drop for CancelGroup<T> {
    fn drop(&mut self) {
        self.0.cancel();
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
        self.task.cancel();
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

    /// A group whose first call blocks its thread: the watchdog hands the rest of the group to
    /// another thread, so they finish while it blocks; the results come back in order.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_blocked_call_hands_the_rest_of_its_group_on() {
        let pool = PluginPool::new(
            tokio::runtime::Handle::current(),
            PoolOptions {
                min_threads: 1,
                max_threads: 8,
                blocked_after: Duration::from_secs(5),
            },
        );
        let (release, wait) = std::sync::mpsc::channel::<()>();
        let others_done = Arc::new(AtomicUsize::new(0));
        let mut calls: Vec<(CallLabel, BoxFuture<'static, usize>)> = vec![(
            label("blocker"),
            Box::pin(async move {
                let _ = wait.recv_timeout(Duration::from_secs(20));
                0
            }),
        )];
        for n in 1..=3 {
            let others_done = Arc::clone(&others_done);
            calls.push((
                label("quick"),
                Box::pin(async move {
                    tokio::time::sleep(Duration::from_millis(1)).await;
                    others_done.fetch_add(1, Ordering::SeqCst);
                    n
                }),
            ));
        }
        let group = tokio::spawn({
            let pool = pool.clone();
            async move { pool.run_all(calls, Duration::from_secs(30)).await }
        });
        let deadline = Instant::now() + Duration::from_secs(10);
        while others_done.load(Ordering::SeqCst) < 3 {
            assert!(Instant::now() < deadline, "the rest of the group waited");
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        let _ = release.send(());
        let results = group.await.expect("join");
        assert_eq!(results, vec![Ok(0), Ok(1), Ok(2), Ok(3)]);
        assert_eq!(pool.stats("quick").calls, 3);
    }

    /// `start_all`: nobody waits; `done` gets every result, and a call that never finishes is
    /// cancelled at the limit by the watchdog and reported as timed out.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_started_group_reports_its_results_and_time_outs() {
        let pool = PluginPool::current();
        let (tx, rx) = oneshot::channel();
        let calls: Vec<(CallLabel, BoxFuture<'static, u8>)> = vec![
            (label("fine"), Box::pin(async { 1 })),
            (label("never"), Box::pin(std::future::pending())),
        ];
        pool.start_all(calls, Duration::from_millis(100), move |results| {
            let _ = tx.send(results);
        });
        let results = tokio::time::timeout(Duration::from_secs(10), rx)
            .await
            .expect("done was called")
            .expect("results");
        assert_eq!(
            results,
            vec![Ok(1), Err(PoolError::TimedOut(Duration::from_millis(100)))]
        );
        assert_eq!(pool.stats("never").timed_out, 1);
        assert_eq!(pool.stats("fine").timed_out, 0);
    }
}
