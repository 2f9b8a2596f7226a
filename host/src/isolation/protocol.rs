//! The frames between the host and an isolated plugin's worker.
//!
//! A frame is a little-endian `u32` length, then that many bytes of postcard (a compact binary
//! serde encoding). Calls and service requests carry ids, so many are in flight at once in both
//! directions. JSON values (hook payloads, `emit` payloads) travel as JSON text.

use std::io::{Read, Write};
use std::sync::Mutex;

use serde::{Deserialize, Serialize, de::DeserializeOwned};
use zoryx_plugin_api::ffi::types::Description;
use zoryx_plugin_api::{
    Action, ApiVersion, Args, CallAction, Event, Interaction, Invocation, Message, Outcome,
    PluginError,
};

use crate::runtime::services::{StorageOp, StorageValue};

/// The largest frame either side accepts.
pub const MAX_FRAME: usize = 64 << 20;

/// Why a frame could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum FrameError {
    /// The socket failed.
    #[error("{0}")]
    Io(#[from] std::io::Error),
    /// The bytes are not a frame of this protocol.
    #[error("malformed frame: {0}")]
    Malformed(String),
    /// A frame over [`MAX_FRAME`].
    #[error("frame of {0} bytes is over the limit")]
    TooLarge(usize),
}

/// What the worker needs to start, sent first.
#[derive(Debug, Serialize, Deserialize)]
pub struct Start {
    /// The plugin's name (for logs and storage namespaces).
    pub plugin: String,
    /// The private copy of the library to load.
    pub library: String,
    /// The host's `config.json`, as JSON text, for the plugin's config reads.
    pub config: String,
    /// Plugin threads at most.
    pub max_threads: usize,
    /// A poll longer than this is reported as blocking its thread.
    pub blocked_ms: u64,
    /// The worker's address-space limit in MB (0: none).
    pub memory_mb: u64,
    /// The most detailed log level forwarded (1 error … 5 trace).
    pub log_level: u8,
}

/// One call into the plugin.
#[derive(Debug, Serialize, Deserialize)]
pub enum CallKind {
    /// The plugin's `init`, under its manifest's (normalised) name.
    Init {
        /// The name its storage and logs go under.
        plugin: String,
    },
    /// The plugin's `shutdown`.
    Shutdown,
    /// A command handler.
    Command {
        /// Handler index.
        index: u32,
        /// Who, where.
        invocation: Invocation,
        /// Parsed arguments.
        args: Args,
    },
    /// A component handler.
    Component {
        /// Handler index.
        index: u32,
        /// Who, where.
        invocation: Invocation,
        /// The click or choice.
        interaction: Interaction,
    },
    /// An event listener.
    Event {
        /// Listener index.
        index: u32,
        /// The event.
        event: Event,
    },
    /// A hook.
    Hook {
        /// Hook index.
        index: u32,
        /// The framework event's name.
        name: String,
        /// Its payload as JSON text.
        payload: String,
    },
    /// A scheduled task.
    Task {
        /// Task index.
        index: u32,
    },
    /// A handler of 1.3's JSON path (autocomplete, modal, context menu).
    Extra {
        /// Its kind (`zoryx_plugin_api::ffi::extra::kind`).
        kind: String,
        /// Handler index within the kind.
        index: u32,
        /// Its input as JSON text.
        input: String,
        /// Whether it answers through a reply route (its requests name this call).
        replies: bool,
    },
}

/// Host → worker.
#[derive(Debug, Serialize, Deserialize)]
pub enum ToWorker {
    /// Load the library (first frame).
    Start(Start),
    /// Run a call; answered by [`FromWorker::Done`] with the same id.
    Call {
        /// Call id.
        id: u64,
        /// What to run.
        call: CallKind,
    },
    /// The host gave up on a call: drop its future.
    Cancel {
        /// Call id.
        id: u64,
    },
    /// The answer to a [`FromWorker::Request`].
    Answer {
        /// Request id.
        id: u64,
        /// The value, or the error text the plugin sees.
        result: Result<Answer, String>,
    },
    /// Free the plugin instance, close the library and exit.
    Stop,
}

/// A host service the plugin called.
#[derive(Debug, Serialize, Deserialize)]
pub enum Request {
    /// Reply to the invocation of call `call`.
    Reply {
        /// The command's or component's call id.
        call: u64,
        /// The reply.
        message: Message,
    },
    /// Send a message to a channel.
    Send {
        /// Channel id.
        channel: u64,
        /// The message.
        message: Message,
    },
    /// Emit a framework event to every hook.
    Emit {
        /// Event name.
        name: String,
        /// Payload as JSON text.
        payload: String,
    },
    /// Key-value, SQL or file storage.
    Storage(StorageOp),
    /// A request to Discord (plugin-api 1.3).
    Act(Action),
    /// A request about call `call`'s own replies (plugin-api 1.3).
    CallAct {
        /// The command's or component's call id.
        call: u64,
        /// What to do.
        action: CallAction,
    },
}

/// The value of a [`Request`].
#[derive(Debug, Serialize, Deserialize)]
pub enum Answer {
    /// A message id (`Reply`, `Send`).
    Id(u64),
    /// How many hooks ran (`Emit`).
    Count(u32),
    /// A storage value.
    Storage(StorageValue),
    /// What an `Act` or `CallAct` came to; its error as the plugin sees it.
    Acted(Result<Outcome, PluginError>),
}

/// Worker → host.
#[derive(Debug, Serialize, Deserialize)]
pub enum FromWorker {
    /// The library is loaded and checked; its description.
    Ready {
        /// The plugin-api it was built against.
        api_version: ApiVersion,
        /// Manifest and registrations.
        description: Box<Description>,
    },
    /// The library was refused (the loader's message); the worker exits.
    Refused {
        /// Why.
        error: String,
    },
    /// A call finished.
    Done {
        /// Call id.
        id: u64,
        /// The plugin's result.
        result: Result<(), PluginError>,
        /// Whether the plugin has let go of the call's reply handle (otherwise a
        /// [`FromWorker::Release`] follows when it does).
        released: bool,
    },
    /// The plugin let go of the reply handle of a call that already finished.
    Release {
        /// Call id.
        call: u64,
    },
    /// The plugin called a host service; answered by [`ToWorker::Answer`].
    Request {
        /// Request id.
        id: u64,
        /// What.
        request: Request,
    },
    /// A log line (the plugin's, or the worker's own).
    Log {
        /// 1 error, 2 warn, 3 info, 4 debug, 5 trace.
        level: u8,
        /// The message and its fields.
        text: String,
    },
    /// A poll held a plugin thread past the threshold.
    Blocked {
        /// What was running (`command spin`).
        what: String,
        /// For how long, so far.
        held_ms: u64,
    },
}

/// Encodes `message` as one frame.
pub fn encode<T: Serialize>(message: &T) -> Result<Vec<u8>, FrameError> {
    let frame = postcard::to_extend(message, vec![0_u8; 4])
        .map_err(|e| FrameError::Malformed(e.to_string()))?;
    let len = frame.len() - 4;
    if len > MAX_FRAME {
        return Err(FrameError::TooLarge(len));
    }
    let mut frame = frame;
    frame[..4].copy_from_slice(&u32::try_from(len).unwrap_or(u32::MAX).to_le_bytes());
    Ok(frame)
}

/// Reads one frame; `None` at a clean end of input (the other side closed the socket).
pub fn read<T: DeserializeOwned>(reader: &mut impl Read) -> Result<Option<T>, FrameError> {
    let mut len = [0_u8; 4];
    match reader.read_exact(&mut len) {
        Ok(()) => {}
        Err(error) if error.kind() == std::io::ErrorKind::UnexpectedEof => return Ok(None),
        Err(error) => return Err(error.into()),
    }
    let len = u32::from_le_bytes(len) as usize;
    if len > MAX_FRAME {
        return Err(FrameError::TooLarge(len));
    }
    let mut payload = vec![0_u8; len];
    reader.read_exact(&mut payload)?;
    postcard::from_bytes(&payload)
        .map(Some)
        .map_err(|e| FrameError::Malformed(e.to_string()))
}

/// How long a reader that finds its socket empty keeps looking before it blocks.
///
/// Frames come in runs (a call, the plugin's reply request, its answer, the next call): the
/// next one is usually microseconds away. A thread that blocks in `read` and is woken for it
/// pays a scheduler wake-up each time, which on virtual machines with idle cores is tens of
/// microseconds; looking a little longer (yielding the core to anyone runnable) takes the next
/// frame at once. After this the thread blocks until data comes.
pub const SPIN_FOR: std::time::Duration = std::time::Duration::from_micros(100);

/// The reading half of a socket that looks for data for [`SPIN_FOR`] before it blocks.
#[derive(Debug)]
pub struct SpinReader {
    socket: std::os::unix::net::UnixStream,
}

impl SpinReader {
    /// Reads from `socket` (a clone of the writer's is fine: it never changes the socket's
    /// blocking mode, which the clones share).
    pub fn new(socket: std::os::unix::net::UnixStream) -> Self {
        Self { socket }
    }

    /// One non-blocking read: `None` if nothing is there yet.
    fn try_read(&self, buf: &mut [u8]) -> Option<std::io::Result<usize>> {
        match recv_now(&self.socket, buf) {
            Err(error)
                if matches!(
                    error.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::Interrupted
                ) =>
            {
                None
            }
            read => Some(read),
        }
    }
}

/// Reads what `socket` holds now into `buf`, without waiting and without changing the socket's
/// blocking mode (which its clones share): `WouldBlock` if nothing is there.
fn recv_now(socket: &std::os::unix::net::UnixStream, buf: &mut [u8]) -> std::io::Result<usize> {
    use std::os::fd::AsRawFd as _;
    // SAFETY: `buf` is valid for writes of `buf.len()` bytes and the descriptor is owned by
    // `socket`, open for the duration of the call.
    let read = unsafe {
        libc::recv(
            socket.as_raw_fd(),
            buf.as_mut_ptr().cast(),
            buf.len(),
            libc::MSG_DONTWAIT,
        )
    };
    usize::try_from(read).map_err(|_| std::io::Error::last_os_error())
}

impl Read for SpinReader {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        if let Some(read) = self.try_read(buf) {
            return read;
        }
        let until = std::time::Instant::now() + SPIN_FOR;
        while std::time::Instant::now() < until {
            std::thread::yield_now();
            if let Some(read) = self.try_read(buf) {
                return read;
            }
        }
        self.socket.read(buf)
    }
}

/// The writing half of a socket, shared by every thread that sends: each frame is written
/// whole under the lock.
#[derive(Debug)]
pub struct Writer<W> {
    out: Mutex<W>,
}

impl<W: Write> Writer<W> {
    /// Frames are written to `out`.
    pub fn new(out: W) -> Self {
        Self {
            out: Mutex::new(out),
        }
    }

    /// Sends one message.
    pub fn send<T: Serialize>(&self, message: &T) -> Result<(), FrameError> {
        let frame = encode(message)?;
        let mut out = self
            .out
            .lock()
            .map_err(|_| FrameError::Malformed("writer poisoned".into()))?;
        out.write_all(&frame)?;
        Ok(())
    }

    /// Runs `f` on the underlying writer (e.g. to shut the socket down).
    pub fn with<R>(&self, f: impl FnOnce(&mut W) -> R) -> Option<R> {
        self.out.lock().ok().map(|mut out| f(&mut out))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;
    use zoryx_plugin_api::{ChannelId, Source, User, UserId};

    #[test]
    fn frames_round_trip() {
        let call = ToWorker::Call {
            id: 7,
            call: CallKind::Command {
                index: 2,
                invocation: Invocation {
                    command: "echo".into(),
                    author: User {
                        id: UserId(1),
                        name: "a".into(),
                        bot: false,
                    },
                    guild_id: None,
                    channel_id: ChannelId(3),
                    message_id: None,
                    is_owner: true,
                    source: Source::Console,
                },
                args: Args::new(vec![("n".into(), zoryx_plugin_api::ArgValue::Float(1.5))]),
            },
        };
        let mut bytes = encode(&call).expect("encode");
        bytes.extend(encode(&ToWorker::Stop).expect("encode"));
        let mut reader = bytes.as_slice();
        match read::<ToWorker>(&mut reader).expect("read") {
            Some(ToWorker::Call {
                id: 7,
                call: CallKind::Command { index: 2, args, .. },
            }) => assert_eq!(args.get::<f64>("n").ok(), Some(1.5)),
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            read::<ToWorker>(&mut reader),
            Ok(Some(ToWorker::Stop))
        ));
        assert!(matches!(read::<ToWorker>(&mut reader), Ok(None)));
    }

    #[test]
    fn files_and_disabled_menus_cross_as_they_are() {
        // Binary frames carry file contents as bytes, and `files` even when empty (postcard
        // reads fields by position).
        let with = Message::text("r")
            .file("a.bin", vec![0_u8, 255, 7])
            .select(zoryx_plugin_api::SelectMenu::new("s", "p").disabled());
        for message in [with, Message::text("no files")] {
            let request = Request::Reply {
                call: 3,
                message: message.clone(),
            };
            let bytes = encode(&request).expect("encode");
            match read::<Request>(&mut bytes.as_slice()).expect("read") {
                Some(Request::Reply {
                    call: 3,
                    message: back,
                }) => assert_eq!(back, message),
                other => panic!("{other:?}"),
            }
        }
    }

    #[test]
    fn a_frame_over_the_limit_is_refused() {
        let bytes = u32::MAX.to_le_bytes();
        assert!(matches!(
            read::<ToWorker>(&mut bytes.as_slice()),
            Err(FrameError::TooLarge(_))
        ));
    }

    #[test]
    fn a_spinning_reader_takes_frames_soon_and_late_and_sees_the_end() {
        let (ours, theirs) = std::os::unix::net::UnixStream::pair().expect("pair");
        let writer = std::thread::spawn(move || {
            let out = Writer::new(theirs);
            for (n, pause) in [0_u64, 0, 20, 0].into_iter().enumerate() {
                // Some frames come while the reader spins, some after it has blocked.
                std::thread::sleep(Duration::from_millis(pause));
                out.send(&ToWorker::Cancel { id: n as u64 }).expect("send");
            }
            out.with(|socket| socket.shutdown(std::net::Shutdown::Write));
        });
        let mut reader = std::io::BufReader::new(SpinReader::new(ours));
        let mut ids = Vec::new();
        while let Some(frame) = read::<ToWorker>(&mut reader).expect("frame") {
            match frame {
                ToWorker::Cancel { id } => ids.push(id),
                other => panic!("unexpected {other:?}"),
            }
        }
        writer.join().expect("writer");
        assert_eq!(ids, [0, 1, 2, 3]);
    }

    #[test]
    fn a_plugins_settings_cross_with_their_defaults() {
        let setting = zoryx_plugin_api::Setting::integer("limit")
            .range(1, 10)
            .default(3)
            .secret();
        let bytes = postcard::to_allocvec(&setting).expect("postcard");
        assert_eq!(
            postcard::from_bytes::<zoryx_plugin_api::Setting>(&bytes).expect("back"),
            setting
        );
        let json = serde_json::to_string(&setting).expect("json");
        assert_eq!(
            serde_json::from_str::<zoryx_plugin_api::Setting>(&json).expect("back"),
            setting
        );
    }
}
