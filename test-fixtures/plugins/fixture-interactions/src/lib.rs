//! Test fixture: plugin-api 1.3's interactions — option rules, subcommands, default
//! permissions, autocomplete, modals and context menu commands. Built with
//! `--features too-many-choices` it declares a slash command past Discord's 25 choices.

use std::time::Duration;

use zoryx_plugin_api::prelude::*;
use zoryx_plugin_api::{
    Choice, ChoiceValue, ContextMenu, MessageCommandContext, Modal, ModalContext, TextInput,
    UserCommandContext,
};

/// The fixture's state.
#[derive(Default)]
pub struct Interactions;

const FRUITS: [&str; 6] = [
    "apple",
    "apricot",
    "avocado",
    "banana",
    "blueberry",
    "cherry",
];

impl Plugin for Interactions {
    fn manifest() -> Manifest {
        Manifest::new("interactions", "1.0.0")
            .author("Zoryx tests")
            .description("Options, subcommands, autocomplete, modals and context menus")
    }

    fn register(plugin: &mut Registrar<Self>) {
        plugin
            .command(
                CommandSpec::new("paint")
                    .description("Paint something")
                    .arg(Arg::text("colour").description("Which colour").choices([
                        ("Red", "red"),
                        ("Blue", "blue"),
                        ("Green", "green"),
                    ]))
                    .arg(
                        Arg::integer("coats")
                            .description("How many coats")
                            .range(1, 3)
                            .optional(),
                    )
                    .arg(
                        Arg::text("name")
                            .description("A name for it")
                            .length(2, 10)
                            .optional(),
                    ),
                paint,
            )
            .command_with(CommandSpec::new("mix").description("Mix two paints"), mix)
            .command(
                CommandSpec::new("setup")
                    .description("Server settings")
                    .default_permissions(Permissions::MANAGE_GUILD)
                    .dm(false)
                    .subcommand(CommandSpec::new("show").description("Show the settings"))
                    .subcommand(
                        CommandSpec::new("set")
                            .description("Change a setting")
                            .arg(Arg::text("key").choices(["colour", "size"]))
                            .arg(Arg::rest("value")),
                    )
                    .subcommand(
                        CommandSpec::new("role")
                            .description("Roles")
                            // Its arguments come from `RoleAdd`.
                            .subcommand(CommandSpec::new("add").description("Add a role")),
                    ),
                |ctx: CommandContext<Interactions>| async move {
                    ctx.reply("setup: show, set or role add").await?;
                    Ok(())
                },
            )
            .subcommand(
                "setup show",
                |ctx: CommandContext<Interactions>| async move {
                    ctx.reply(format!("{}: colour=red", ctx.invocation().command))
                        .await?;
                    Ok(())
                },
            )
            .subcommand(
                "setup set",
                |ctx: CommandContext<Interactions>| async move {
                    let key: String = ctx.arg("key")?;
                    let value: String = ctx.arg("value")?;
                    ctx.reply(format!("set {key}={value}")).await?;
                    Ok(())
                },
            )
            .subcommand_with(
                "setup role add",
                |ctx: CommandContext<Interactions>, args: RoleAdd| async move {
                    let _ = args.note;
                    ctx.reply(format!("role added: {}", args.role.0)).await?;
                    Ok(())
                },
            )
            .command(
                CommandSpec::new("buy")
                    .description("Buy fruit")
                    .arg(Arg::text("fruit").description("Which fruit"))
                    .arg(
                        Arg::integer("limit")
                            .description("Suggest at most")
                            .optional(),
                    ),
                |ctx: CommandContext<Interactions>| async move {
                    let fruit: String = ctx.arg("fruit")?;
                    ctx.reply(format!("bought {fruit}")).await?;
                    Ok(())
                },
            )
            .autocomplete("buy", "fruit", suggest)
            .command(
                CommandSpec::new("feedback")
                    .description("Send feedback")
                    .arg(Arg::text("size").choices(["ok", "long-title"]).optional()),
                feedback,
            )
            .command(
                CommandSpec::new("form").description("A button that opens a form"),
                |ctx: CommandContext<Interactions>| async move {
                    ctx.reply(
                        Message::text("Open the form").button(Button::new("form:open", "Open")),
                    )
                    .await?;
                    Ok(())
                },
            )
            .component("form:", |ctx: ComponentContext<Interactions>| async move {
                ctx.modal(
                    Modal::new("feedback:button", "Quick form").input(
                        TextInput::short("topic", "Topic")
                            .length(2, 20)
                            .value("general"),
                    ),
                )
                .await
            })
            .modal("feedback:", submitted)
            .user_command("Inspect", inspect)
            .message_command(ContextMenu::from("Quote").dm(false), quote);
        #[cfg(feature = "too-many-choices")]
        plugin.command(
            CommandSpec::new("pick").arg(Arg::integer("n").choices(0..26)),
            |_ctx: CommandContext<Interactions>| async { Ok(()) },
        );
    }

    async fn init(_host: Host) -> PluginResult<Self> {
        Ok(Self)
    }
}

/// `paint COLOUR [COATS] [NAME]`: replies `colour|coats|name`.
async fn paint(ctx: CommandContext<Interactions>) -> PluginResult {
    let colour: String = ctx.arg("colour")?;
    let coats: Option<i64> = ctx.arg("coats")?;
    let name: Option<String> = ctx.arg("name")?;
    ctx.reply(format!(
        "{colour}|{}|{}",
        coats.map(|c| c.to_string()).unwrap_or_default(),
        name.unwrap_or_default()
    ))
    .await?;
    Ok(())
}

/// `mix`'s arguments: rules declared by attributes.
#[derive(CommandArgs)]
struct Mix {
    /// The first paint.
    #[arg(choices("red", "blue"))]
    first: String,
    /// How much of it, in percent.
    #[arg(min = 1, max = 99)]
    percent: i64,
}

async fn mix(ctx: CommandContext<Interactions>, args: Mix) -> PluginResult {
    ctx.reply(format!("{}% {}", args.percent, args.first))
        .await?;
    Ok(())
}

/// `setup role add`'s arguments.
#[derive(CommandArgs)]
struct RoleAdd {
    /// The role.
    role: RoleId,
    /// Why.
    #[arg(rest)]
    note: Option<String>,
}

/// Fruits starting with what is typed (at most `limit` when filled); `many` offers 30,
/// `slow` takes 3.5 s (past Discord's 3), `fail` fails.
async fn suggest(ctx: AutocompleteContext<Interactions>) -> PluginResult<Vec<Choice>> {
    let typed = ctx.value().to_lowercase();
    match typed.as_str() {
        "many" => {
            return Ok((0..30)
                .map(|n| Choice::from(format!("fruit {n}")))
                .collect());
        }
        "slow" => {
            ctx.sleep(Duration::from_millis(3500)).await;
            return Ok(vec![Choice::from("late")]);
        }
        "fail" => return Err(PluginError::internal("no suggestions on purpose")),
        _ => {}
    }
    let limit: Option<i64> = ctx.arg("limit")?;
    let limit = usize::try_from(limit.unwrap_or(25)).unwrap_or(25);
    Ok(FRUITS
        .iter()
        .filter(|f| f.starts_with(&typed))
        .take(limit)
        .map(|f| Choice::new(f.to_uppercase(), ChoiceValue::Text((*f).to_owned())))
        .collect())
}

/// `feedback [size]`: shows the feedback form; `long-title` tries a title past Discord's
/// limit and replies with the refusal.
async fn feedback(ctx: CommandContext<Interactions>) -> PluginResult {
    let size: Option<String> = ctx.arg("size")?;
    let title = if size.as_deref() == Some("long-title") {
        "x".repeat(46)
    } else {
        "Feedback".to_owned()
    };
    let form = Modal::new("feedback:command", title)
        .input(TextInput::short("topic", "Topic").placeholder("What about?"))
        .input(
            TextInput::paragraph("body", "Details")
                .required(false)
                .length(0, 200),
        );
    if let Err(error) = ctx.modal(form).await {
        ctx.reply(format!("refused: {error}")).await?;
    }
    Ok(())
}

/// A submitted form: from the button, updates its message; from the command, replies.
async fn submitted(ctx: ModalContext<Interactions>) -> PluginResult {
    let topic = ctx.value("topic").unwrap_or_default().to_owned();
    let body = ctx.value("body").unwrap_or_default().to_owned();
    let submission = ctx.submission();
    if submission.message_id.is_some() {
        ctx.update(format!("form closed: {topic}")).await
    } else {
        ctx.reply(
            Message::text(format!(
                "{}: topic={topic} body={body}",
                submission.custom_id
            ))
            .ephemeral(),
        )
        .await?;
        Ok(())
    }
}

async fn inspect(ctx: UserCommandContext<Interactions>) -> PluginResult {
    let target = ctx.target();
    ctx.reply(format!(
        "{} is {} (member: {})",
        ctx.invocation().author.name,
        target.user.name,
        target.member.is_some()
    ))
    .await?;
    Ok(())
}

async fn quote(ctx: MessageCommandContext<Interactions>) -> PluginResult {
    let message = ctx.target();
    ctx.reply(format!(
        "> {} (by {})",
        message.content, message.author.name
    ))
    .await?;
    Ok(())
}

zoryx_plugin_api::export_plugin!(Interactions);
