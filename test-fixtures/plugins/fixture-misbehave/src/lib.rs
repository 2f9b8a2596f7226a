//! Test fixture: a plugin that misbehaves on command — blocks its thread, spins, never
//! finishes, replies late, crashes, exits, hangs or allocates without bound — beside a command
//! that behaves, to show the host keeps serving.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use zoryx_plugin_api::prelude::*;

/// The fixture's state (none).
pub struct Misbehave;

/// How many `never` futures have been dropped (cancelled by the host).
static NEVER_DROPPED: AtomicU64 = AtomicU64::new(0);

/// How many `block`/`spin` calls have run to their end (after trying to reply).
static FINISHED: AtomicU64 = AtomicU64::new(0);

/// Counts its own drop.
struct DropCount;

impl Drop for DropCount {
    fn drop(&mut self) {
        NEVER_DROPPED.fetch_add(1, Ordering::SeqCst);
    }
}

impl Plugin for Misbehave {
    fn manifest() -> Manifest {
        Manifest::new("misbehave", "1.0.0")
            .author("Zoryx tests")
            .description("Commands that block, spin, hang, crash and exit")
    }

    fn register(r: &mut Registrar<Self>) {
        r.command(
            CommandSpec::new("fine"),
            |ctx: CommandContext<Misbehave>| async move {
                ctx.reply("fine").await?;
                Ok(())
            },
        )
        // Blocks its thread (a blocking call inside async code), then replies.
        .command(CommandSpec::new("block").arg(Arg::integer("ms")), block)
        // Spins on its thread (a busy loop), then replies.
        .command(CommandSpec::new("spin").arg(Arg::integer("ms")), spin)
        // A future that never completes.
        .command(
            CommandSpec::new("never"),
            |_ctx: CommandContext<Misbehave>| async move {
                let _count = DropCount;
                std::future::pending::<()>().await;
                Ok(())
            },
        )
        // How many `block`/`spin` calls have run to their end.
        .command(
            CommandSpec::new("finished"),
            |ctx: CommandContext<Misbehave>| async move {
                ctx.reply(FINISHED.load(Ordering::SeqCst).to_string())
                    .await?;
                Ok(())
            },
        )
        // How many `never` calls were cancelled (their futures dropped).
        .command(
            CommandSpec::new("cancelled"),
            |ctx: CommandContext<Misbehave>| async move {
                ctx.reply(NEVER_DROPPED.load(Ordering::SeqCst).to_string())
                    .await?;
                Ok(())
            },
        )
        // Awaits a host timer, then replies (late, if the limit is shorter).
        .command(CommandSpec::new("late").arg(Arg::integer("ms")), late)
        .command(
            CommandSpec::new("segfault"),
            |_ctx: CommandContext<Misbehave>| async move {
                // SAFETY: none — this crashes on purpose, to test that only an isolated worker
                // dies. A volatile write through a null pointer is a segmentation fault.
                unsafe { std::ptr::write_volatile(std::ptr::null_mut::<u64>(), 1) };
                Ok(())
            },
        )
        .command(CommandSpec::new("abort"), abort)
        .command(CommandSpec::new("exit"), exit)
        .command(
            CommandSpec::new("hog"),
            |ctx: CommandContext<Misbehave>| async move {
                // Allocates and touches memory until the allocation fails.
                let mut kept: Vec<Vec<u8>> = Vec::new();
                loop {
                    let mut chunk = vec![0_u8; 64 << 20];
                    for i in (0..chunk.len()).step_by(4096) {
                        chunk[i] = 1;
                    }
                    kept.push(chunk);
                    if kept.len() > 4096 {
                        break;
                    }
                }
                ctx.reply(format!("kept {}", kept.len())).await?;
                Ok(())
            },
        )
        .listen(
            EventKind::MessageCreate,
            |_ctx: PluginContext<Misbehave>, event| async move {
                if let Event::MessageCreate(message) = event
                    && message.content == "block-listener"
                {
                    std::thread::sleep(Duration::from_secs(2));
                }
                Ok(())
            },
        );
    }

    async fn init(_host: Host) -> PluginResult<Self> {
        Ok(Misbehave)
    }
}

async fn block(ctx: CommandContext<Misbehave>) -> PluginResult {
    let ms: i64 = ctx.arg("ms")?;
    std::thread::sleep(Duration::from_millis(ms.max(0).unsigned_abs()));
    let replied = ctx.reply("blocked").await;
    FINISHED.fetch_add(1, Ordering::SeqCst);
    replied?;
    Ok(())
}

async fn spin(ctx: CommandContext<Misbehave>) -> PluginResult {
    let ms: i64 = ctx.arg("ms")?;
    let until = Instant::now() + Duration::from_millis(ms.max(0).unsigned_abs());
    let mut spins = 0_u64;
    while Instant::now() < until {
        spins = std::hint::black_box(spins.wrapping_add(1));
    }
    let replied = ctx.reply("spun").await;
    FINISHED.fetch_add(1, Ordering::SeqCst);
    replied?;
    Ok(())
}

async fn abort(_ctx: CommandContext<Misbehave>) -> PluginResult {
    std::process::abort()
}

async fn exit(_ctx: CommandContext<Misbehave>) -> PluginResult {
    std::process::exit(3)
}

async fn late(ctx: CommandContext<Misbehave>) -> PluginResult {
    let ms: i64 = ctx.arg("ms")?;
    ctx.sleep(Duration::from_millis(ms.max(0).unsigned_abs()))
        .await;
    ctx.reply("late").await?;
    Ok(())
}

zoryx_plugin_api::export_plugin!(Misbehave);
