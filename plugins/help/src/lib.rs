//! `help`: the interactive help menu. A select menu of categories (ten a page), each category's
//! commands five a page with how they can be invoked (slash and prefix, prefix only, prefix
//! only because the slash limit is reached, slash only), Previous / Next / Back and a Credits
//! button. Only commands the member may run are listed, and only the member who asked may use
//! the menu; its components grey out after 180 seconds. `help COMMAND` explains one command
//! (usage, aliases, cooldown, who may run it) and `help CATEGORY` opens that category.
//!
//! It is an ordinary plugin: what it shows comes from [`Host::catalogue_for`], which asks the
//! host's command gate about each command for the member.

use std::collections::BTreeMap;
use std::time::Duration;

use zoryx_plugin_api::prelude::*;
use zoryx_plugin_api::{Catalogue, CommandInfo, SelectOption, palette};

/// Commands on one page of a category.
pub const COMMANDS_PER_PAGE: usize = 5;
/// Categories in one page of the select menu.
pub const CATEGORIES_PER_PAGE: usize = 10;
/// How long the menu's components work.
pub const MENU_TIMEOUT: Duration = Duration::from_secs(180);

/// The plugin (no state: every page is computed from the catalogue when it is shown).
pub struct Help;

impl Plugin for Help {
    fn manifest() -> Manifest {
        Manifest::new("help", env!("CARGO_PKG_VERSION"))
            .author("Zoryx")
            .description("The interactive help menu")
    }

    fn register(plugin: &mut Registrar<Self>) {
        plugin
            .command(
                CommandSpec::new("help")
                    .description("Browse the commands you can run, or explain one")
                    .category("Core")
                    .arg(
                        Arg::rest("query")
                            .description("A command or a category")
                            .optional(),
                    )
                    .kind(CommandKind::Hybrid),
                help,
            )
            .component("help:", navigate);
    }

    async fn init(_host: Host) -> PluginResult<Self> {
        Ok(Self)
    }
}

/// Commands grouped by category, sorted; only those the member may run.
struct Categories(BTreeMap<String, Vec<CommandInfo>>);

impl Categories {
    fn of(catalogue: &Catalogue) -> Self {
        let mut map: BTreeMap<String, Vec<CommandInfo>> = BTreeMap::new();
        for info in catalogue.commands.iter().filter(|c| c.available) {
            map.entry(category_of(info)).or_default().push(info.clone());
        }
        for commands in map.values_mut() {
            commands.sort_by(|a, b| a.spec.name.cmp(&b.spec.name));
        }
        Self(map)
    }

    fn names(&self) -> Vec<&String> {
        self.0.keys().collect()
    }

    fn find(&self, name: &str) -> Option<(usize, &String)> {
        self.0
            .keys()
            .enumerate()
            .find(|(_, k)| k.eq_ignore_ascii_case(name))
    }

    fn at(&self, index: usize) -> Option<(&String, &Vec<CommandInfo>)> {
        self.0.iter().nth(index)
    }

    fn pages(&self) -> usize {
        self.0.len().div_ceil(CATEGORIES_PER_PAGE).max(1)
    }
}

/// A command's category, capitalised: the one it declares, else its plugin's name, else
/// "Core".
fn category_of(info: &CommandInfo) -> String {
    let declared = info.spec.category.trim();
    let name = if !declared.is_empty() {
        declared
    } else {
        info.plugin.as_deref().unwrap_or("Core")
    };
    let mut chars = name.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => "Core".to_owned(),
    }
}

/// How a command can be invoked, as a marker and words.
fn marker(info: &CommandInfo) -> (&'static str, &'static str) {
    match (info.spec.kind, info.slash) {
        (CommandKind::Hybrid, true) => ("⚡", "Slash & Prefix"),
        (CommandKind::Slash, true) => ("✨", "Slash only"),
        (CommandKind::Prefix, _) => ("🔸", "Prefix only"),
        (_, false) => ("🔹", "Prefix only - slash limit reached"),
    }
}

const LEGEND: &str =
    "⚡ = Slash & Prefix | 🔸 = Prefix only | 🔹 = Prefix only (slash limit) | ✨ = Slash only";

/// The menu's owner and what to show, in a `custom_id`:
/// `help:{author}:{view}` with view `home:{category page}`, `cat:{index}:{page}` or `credits`.
fn id(author: UserId, view: &str) -> String {
    format!("help:{}:{view}", author.0)
}

fn home(catalogue: &Catalogue, author: &User, category_page: usize) -> Message {
    let categories = Categories::of(catalogue);
    let pages = categories.pages();
    let page = category_page.min(pages - 1);
    let names = categories.names();
    let prefix_info = if catalogue.mention_prefix {
        format!("{} or @{}", catalogue.prefix, catalogue.bot_name)
    } else {
        catalogue.prefix.clone()
    };
    let mut embed = Embed::new()
        .title("📚 Help Menu")
        .description(format!(
            "**Select a category from the menu below**\n```Available categories: {}\nCurrent prefix: {prefix_info}\nCategory page: {}/{pages}```",
            names.len(),
            page + 1
        ))
        .colour(palette::INFO)
        .footer(format!("Requested by {}", author.name));
    if names.len() > CATEGORIES_PER_PAGE {
        embed = embed.field(
            "ℹ️ Navigation",
            format!("Use ◀ ▶ to turn the category pages ({CATEGORIES_PER_PAGE} a page)."),
            false,
        );
    }
    let mut menu = SelectMenu::new(
        id(author.id, &format!("pick:{page}")),
        format!("📂 Select a category (page {})…", page + 1),
    );
    for name in names
        .iter()
        .skip(page * CATEGORIES_PER_PAGE)
        .take(CATEGORIES_PER_PAGE)
    {
        let count = categories.0.get(*name).map_or(0, Vec::len);
        menu.options.push(SelectOption {
            label: clip(name, 100),
            value: clip(name, 100),
            description: format!("{count} command(s) available"),
        });
    }
    let mut message = Message::new().embed(embed);
    if menu.options.is_empty() {
        message = message.embed(Embed::warning(
            "Nothing to show",
            "There are no commands you can run here.",
        ));
    } else {
        message = message.select(menu);
    }
    if pages > 1 {
        message = message
            .button(
                Button::new(
                    id(author.id, &format!("home:{}", page.saturating_sub(1))),
                    "◀ Prev categories",
                )
                .style(ButtonStyle::Secondary),
            )
            .button(
                Button::new(
                    id(author.id, &format!("home:{}", (page + 1).min(pages - 1))),
                    "Next categories ▶",
                )
                .style(ButtonStyle::Secondary),
            );
    }
    message
        .button(Button::new(id(author.id, "credits"), "ℹ️ Credits").style(ButtonStyle::Secondary))
        .expire_components(MENU_TIMEOUT)
}

fn category_page(catalogue: &Catalogue, author: &User, index: usize, page: usize) -> Message {
    let categories = Categories::of(catalogue);
    let Some((name, commands)) = categories.at(index) else {
        return home(catalogue, author, 0);
    };
    let pages = commands.len().div_ceil(COMMANDS_PER_PAGE).max(1);
    let page = page.min(pages - 1);
    let mut embed = Embed::new()
        .title(format!("📂 {name}"))
        .description(format!(
            "```Commands: {} | Page {}/{pages}```",
            commands.len(),
            page + 1
        ))
        .colour(palette::INFO)
        .footer(format!("Category: {name}"));
    for info in commands
        .iter()
        .skip(page * COMMANDS_PER_PAGE)
        .take(COMMANDS_PER_PAGE)
    {
        let (mark, how) = marker(info);
        let description = if info.spec.description.is_empty() {
            "No description."
        } else {
            info.spec.description.as_str()
        };
        embed = embed.field(
            format!("{mark} {}{} ({how})", catalogue.prefix, info.spec.name),
            clip(description, 1000),
            false,
        );
    }
    embed = embed.field("📚 Legend", LEGEND, false);
    let mut message = Message::new().embed(embed);
    if pages > 1 {
        message = message
            .button(
                Button::new(
                    id(
                        author.id,
                        &format!("cat:{index}:{}", page.saturating_sub(1)),
                    ),
                    "◀ Previous",
                )
                .style(ButtonStyle::Secondary),
            )
            .button(
                Button::new(
                    id(
                        author.id,
                        &format!("cat:{index}:{}", (page + 1).min(pages - 1)),
                    ),
                    "Next ▶",
                )
                .style(ButtonStyle::Secondary),
            );
    }
    message
        .button(Button::new(id(author.id, "home:0"), "🏠 Back to main"))
        .expire_components(MENU_TIMEOUT)
}

/// `help COMMAND`: usage, aliases, cooldown, who may run it, and whether the member may.
fn command_page(catalogue: &Catalogue, info: &CommandInfo) -> Message {
    let spec = &info.spec;
    let (mark, how) = marker(info);
    let mut embed = Embed::new()
        .title(format!("{mark} {}{}", catalogue.prefix, spec.name))
        .description(if spec.description.is_empty() {
            "No description.".to_owned()
        } else {
            spec.description.clone()
        })
        .colour(if info.available {
            palette::INFO
        } else {
            palette::WARNING
        })
        .field(
            "Usage",
            format!("`{}`", spec.usage(&catalogue.prefix)),
            false,
        )
        .field("Invoked", how, true)
        .field("Category", category_of(info), true);
    if !spec.aliases.is_empty() {
        embed = embed.field("Aliases", spec.aliases.join(", "), true);
    }
    if let Some(cooldown) = &spec.cooldown {
        embed = embed.field(
            "Cooldown",
            format!(
                "{} use(s) per {}s ({:?})",
                cooldown.rate,
                cooldown.per.as_secs_f64(),
                cooldown.bucket
            ),
            true,
        );
    }
    embed = embed.field("Who may run it", who(info), false);
    embed = embed.field(
        "You",
        match &info.refusal {
            None => "✅ You can run it here.".to_owned(),
            Some(why) => format!("⛔ {why}"),
        },
        false,
    );
    if let Some(plugin) = &info.plugin {
        embed = embed.footer(format!("From the plugin {plugin}"));
    } else {
        embed = embed.footer("Built into the host");
    }
    Message::new().embed(embed)
}

fn who(info: &CommandInfo) -> String {
    let spec = &info.spec;
    let mut rules = vec![match spec.permission {
        Permission::Everyone => "Everyone".to_owned(),
        Permission::Moderator => "Moderators (Manage Messages or Manage Server)".to_owned(),
        Permission::Administrator => "Administrators".to_owned(),
        Permission::Owner => "The bot owners only".to_owned(),
    }];
    if let Some(permissions) = spec.default_permissions
        && !permissions.is_empty()
    {
        rules.push(format!("with {}", permissions.names().join(", ")));
    }
    if !info.roles.is_empty() {
        let roles: Vec<String> = info.roles.iter().map(|r| format!("<@&{r}>")).collect();
        rules.push(format!("restricted here to {}", roles.join(", ")));
    }
    if !spec.dm {
        rules.push("in servers only".to_owned());
    }
    rules.join("; ")
}

fn credits(catalogue: &Catalogue) -> Message {
    Message::new()
        .embed(
            Embed::new()
                .title("✨ Credits & system")
                .description(format!(
                    "**{}** runs on Zoryx, a Discord bot framework in Rust whose plugins are native libraries loaded and reloaded while the bot runs.",
                    catalogue.bot_name
                ))
                .field(
                    "🔧 Features",
                    "```• Plugins hot-loaded as shared libraries\n• Reload under load, nothing dropped\n• Plugins on their own threads, or isolated in a process\n• Hybrid commands (prefix & slash)\n• Role-based command permissions\n• Per-guild prefix and @mention prefix\n• Interactive help menu\n• SQLite per guild, atomic files\n• Slash command limit protection```",
                    false,
                )
                .colour(palette::SUCCESS),
        )
        .ephemeral()
}

fn clip(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let mut out: String = text.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

async fn catalogue(
    host: &Host,
    user: UserId,
    guild: Option<GuildId>,
    channel: ChannelId,
) -> PluginResult<Catalogue> {
    host.catalogue_for(user, guild, channel).await
}

async fn help(ctx: CommandContext<Help>) -> PluginResult {
    let invocation = ctx.invocation();
    let author = invocation.author.clone();
    let catalogue = catalogue(
        ctx.host(),
        author.id,
        invocation.guild_id,
        invocation.channel_id,
    )
    .await?;
    let query: Option<String> = ctx
        .arg("query")
        .ok()
        .filter(|q: &String| !q.trim().is_empty());
    let Some(query) = query else {
        ctx.reply(home(&catalogue, &author, 0)).await?;
        return Ok(());
    };
    let wanted = query
        .trim()
        .trim_start_matches(catalogue.prefix.as_str())
        .trim_start_matches('/')
        .to_lowercase();
    let command = catalogue.commands.iter().find(|c| {
        c.spec.name == wanted
            || c.spec
                .aliases
                .iter()
                .any(|a| a.eq_ignore_ascii_case(&wanted))
    });
    if let Some(info) = command {
        ctx.reply(command_page(&catalogue, info)).await?;
        return Ok(());
    }
    let categories = Categories::of(&catalogue);
    if let Some((index, _)) = categories.find(query.trim()) {
        ctx.reply(category_page(&catalogue, &author, index, 0))
            .await?;
        return Ok(());
    }
    ctx.reply(
        Message::new()
            .embed(Embed::error(
                "Not found",
                &format!(
                    "There is no command or category `{}`. Try `{}help`.",
                    query.trim(),
                    catalogue.prefix
                ),
            ))
            .ephemeral(),
    )
    .await?;
    Ok(())
}

async fn navigate(ctx: ComponentContext<Help>) -> PluginResult {
    let interaction = ctx.interaction().clone();
    let mut parts = interaction.name.splitn(3, ':').skip(1);
    let (Some(owner), Some(view)) = (parts.next(), parts.next()) else {
        return Err(PluginError::user(
            "this button does not belong to a help menu",
        ));
    };
    if !ctx.only_for(owner.parse().unwrap_or_default()).await? {
        return Ok(());
    }
    let catalogue = catalogue(
        &ctx,
        interaction.user.id,
        interaction.guild_id,
        interaction.channel_id,
    )
    .await?;
    let user = &interaction.user;
    let number = |text: Option<&str>| text.and_then(|t| t.parse::<usize>().ok()).unwrap_or(0);
    let mut words = view.split(':');
    let page = match words.next() {
        Some("home") => home(&catalogue, user, number(words.next())),
        Some("pick") => {
            let categories = Categories::of(&catalogue);
            let chosen = interaction
                .values
                .first()
                .map(String::as_str)
                .unwrap_or_default();
            match categories.find(chosen) {
                Some((index, _)) => category_page(&catalogue, user, index, 0),
                None => home(&catalogue, user, number(words.next())),
            }
        }
        Some("cat") => {
            let index = number(words.next());
            category_page(&catalogue, user, index, number(words.next()))
        }
        Some("credits") => {
            ctx.reply(credits(&catalogue)).await?;
            return Ok(());
        }
        _ => return Err(PluginError::user("this help menu is from another version")),
    };
    ctx.update(page).await
}

zoryx_plugin_api::export_plugin!(Help);
