//! The background writer: log lines go through a bounded channel to one thread that writes
//! them to the files, so logging never waits on the disk. If the channel is full (the disk is
//! stalled) lines are dropped and counted rather than blocking the async runtime.

use std::io::{self, Write};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, TrySendError};
use std::thread::JoinHandle;

use tracing_subscriber::fmt::MakeWriter;

/// Lines the channel holds before new ones are dropped.
const CAPACITY: usize = 65_536;

enum Msg {
    Line(Vec<u8>),
    Flush(SyncSender<()>),
    Stop,
}

/// The writing end, handed to the tracing formatter. Cheap to clone.
#[derive(Clone)]
pub struct NonBlocking {
    sender: SyncSender<Msg>,
    dropped: Arc<AtomicU64>,
}

impl std::fmt::Debug for NonBlocking {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NonBlocking")
            .field("dropped", &self.dropped.load(Ordering::Relaxed))
            .finish()
    }
}

impl Write for NonBlocking {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self.sender.try_send(Msg::Line(buf.to_vec())) {
            Ok(()) => {}
            Err(TrySendError::Full(_)) => {
                self.dropped.fetch_add(1, Ordering::Relaxed);
            }
            Err(TrySendError::Disconnected(_)) => {
                return Err(io::Error::new(
                    io::ErrorKind::BrokenPipe,
                    "the log writer has stopped",
                ));
            }
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for NonBlocking {
    type Writer = NonBlocking;

    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

/// Keeps the writer thread alive; dropping it writes out every queued line, flushes the files
/// and stops the thread. Keep it for the life of the process.
#[must_use = "dropping the guard stops the log writer"]
pub struct LogGuard {
    sender: SyncSender<Msg>,
    dropped: Arc<AtomicU64>,
    thread: Option<JoinHandle<()>>,
    /// Expired backups removed when logging started.
    pub expired_backups_removed: usize,
}

impl std::fmt::Debug for LogGuard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LogGuard")
            .field("dropped", &self.dropped())
            .finish()
    }
}

impl LogGuard {
    /// Waits until every line sent so far is written and the files are flushed.
    pub fn flush(&self) {
        self.flusher().flush();
    }

    /// A handle that can flush the files from anywhere, e.g. right before the process exits
    /// without dropping this guard.
    pub fn flusher(&self) -> LogFlusher {
        LogFlusher {
            sender: self.sender.clone(),
        }
    }

    /// Lines dropped because the writer fell behind.
    pub fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }
}

/// Flushes the log files on demand; see [`LogGuard::flusher`].
#[derive(Clone)]
pub struct LogFlusher {
    sender: SyncSender<Msg>,
}

impl std::fmt::Debug for LogFlusher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LogFlusher").finish_non_exhaustive()
    }
}

impl LogFlusher {
    /// Waits until every line sent so far is written and the files are flushed (at once if the
    /// writer has stopped).
    pub fn flush(&self) {
        let (ack, done) = std::sync::mpsc::sync_channel(1);
        if self.sender.send(Msg::Flush(ack)).is_ok() {
            let _ = done.recv();
        }
    }
}

impl Drop for LogGuard {
    fn drop(&mut self) {
        let _ = self.sender.send(Msg::Stop);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Starts the writer thread over `sinks`: every line goes to each of them.
pub fn spawn(sinks: Vec<Box<dyn Write + Send>>) -> io::Result<(NonBlocking, LogGuard)> {
    let (sender, receiver) = std::sync::mpsc::sync_channel(CAPACITY);
    let dropped = Arc::new(AtomicU64::new(0));
    let thread = std::thread::Builder::new()
        .name("zoryx-log-writer".to_owned())
        .spawn(move || run(&receiver, sinks))?;
    Ok((
        NonBlocking {
            sender: sender.clone(),
            dropped: Arc::clone(&dropped),
        },
        LogGuard {
            sender,
            dropped,
            thread: Some(thread),
            expired_backups_removed: 0,
        },
    ))
}

/// The thread: writes lines as they come, flushing whenever the queue runs dry.
fn run(receiver: &Receiver<Msg>, mut sinks: Vec<Box<dyn Write + Send>>) {
    let flush = |sinks: &mut Vec<Box<dyn Write + Send>>| {
        for sink in sinks.iter_mut() {
            let _ = sink.flush();
        }
    };
    while let Ok(message) = receiver.recv() {
        let mut next = Some(message);
        while let Some(message) = next.take() {
            match message {
                Msg::Line(line) => {
                    for sink in &mut sinks {
                        // A failing file must not stop the other, nor the process; the console
                        // output still carries every line.
                        let _ = sink.write_all(&line);
                    }
                }
                Msg::Flush(ack) => {
                    flush(&mut sinks);
                    let _ = ack.send(());
                }
                Msg::Stop => {
                    // Lines queued before the stop are already consumed in order; write
                    // anything still waiting, then end.
                    while let Ok(Msg::Line(line)) = receiver.try_recv() {
                        for sink in &mut sinks {
                            let _ = sink.write_all(&line);
                        }
                    }
                    flush(&mut sinks);
                    return;
                }
            }
            next = receiver.try_recv().ok();
        }
        flush(&mut sinks);
    }
    flush(&mut sinks);
}
