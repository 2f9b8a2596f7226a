//! `marketplace`: the plugin marketplace for the bot owners, with the seed's names and flow.
//!
//! - `marketplace` / `marketplace browse [category]`: the index's plugins five a page, a
//!   category select menu and Previous / Next;
//! - `marketplace search <query>`, `marketplace info <name>` (every version, dependencies,
//!   licence, whether it runs here);
//! - `marketplace install <name> [version]`: the plugin's card with a Confirm button; the
//!   click starts the install and a progress embed is edited in place (download, checks, load);
//! - `marketplace update <name>`, `marketplace remove <name>`, `marketplace pin <name>
//!   [version]` (no version: unpin), `marketplace refresh`.
//!
//! Everything goes through [`Host::market`], which the host refuses unless the member is a
//! bot owner, and which runs every check (signature, SHA-256, target, plugin API, library
//! checks, dependencies) before a library reaches `extensions/`.

mod panel;

use std::time::Duration;

use zoryx_plugin_api::market::{MarketPlugin, MarketReport, MarketRequest};
use zoryx_plugin_api::prelude::*;
use zoryx_plugin_api::{SelectOption, palette};

/// Plugins on one page of the browser.
pub const PER_PAGE: usize = 5;
/// How long the browser's and the confirmation's components work.
pub const MENU_TIMEOUT: Duration = Duration::from_secs(300);
/// The select menu's "every category" value.
const ALL: &str = "*";

/// The plugin (no state: every page is computed from the host's cached index).
pub struct Marketplace;

fn name_arg() -> Arg {
    Arg::text("name")
        .description("The plugin's name")
        .length(1, 64)
}

impl Plugin for Marketplace {
    fn manifest() -> Manifest {
        Manifest::new("marketplace", env!("CARGO_PKG_VERSION"))
            .author("Zoryx")
            .description("The plugin marketplace: browse, install, update and remove plugins")
    }

    fn register(plugin: &mut Registrar<Self>) {
        plugin
            .command(
                CommandSpec::new("marketplace")
                    .description("Browse and install plugins from the signed marketplace")
                    .category("Owner")
                    .alias("mp")
                    .alias("mkt")
                    .permission(Permission::Owner)
                    .kind(CommandKind::Hybrid)
                    .cooldown(1, Duration::from_secs(5))
                    .subcommand(
                        CommandSpec::new("browse")
                            .description("Every plugin, by category")
                            .arg(Arg::rest("category").description("A category").optional()),
                    )
                    .subcommand(
                        CommandSpec::new("search")
                            .description("Plugins whose name, description or category matches")
                            .arg(Arg::rest("query").description("What to look for")),
                    )
                    .subcommand(
                        CommandSpec::new("info")
                            .description("A plugin's versions, dependencies and licence")
                            .arg(name_arg()),
                    )
                    .subcommand(
                        CommandSpec::new("install")
                            .description("Install a plugin and what it needs (asks to confirm)")
                            .arg(name_arg())
                            .arg(
                                Arg::text("version")
                                    .description("A version or requirement (newest if none)")
                                    .optional(),
                            ),
                    )
                    .subcommand(
                        CommandSpec::new("update")
                            .description("Update a plugin to its newest version")
                            .arg(name_arg()),
                    )
                    .subcommand(
                        CommandSpec::new("remove")
                            .description("Unload and remove a plugin the marketplace installed")
                            .arg(name_arg()),
                    )
                    .subcommand(
                        CommandSpec::new("pin")
                            .description("Pin a plugin to a version (none: unpin)")
                            .arg(name_arg())
                            .arg(
                                Arg::text("version")
                                    .description("e.g. 1.2.0 or ~1.2")
                                    .optional(),
                            ),
                    )
                    .subcommand(
                        CommandSpec::new("refresh").description("Fetch the index again now"),
                    ),
                |ctx: CommandContext<Self>| async move { browse_command(&ctx, None).await },
            )
            .subcommand(
                "marketplace browse",
                |ctx: CommandContext<Self>| async move {
                    let category: Option<String> = ctx.arg("category").ok();
                    browse_command(&ctx, category).await
                },
            )
            .subcommand("marketplace search", search)
            .subcommand("marketplace info", info)
            .subcommand("marketplace install", install)
            .subcommand(
                "marketplace update",
                |ctx: CommandContext<Self>| async move {
                    let name: String = ctx.arg("name")?;
                    let me = ctx.invocation();
                    run_in(
                        &ctx,
                        me.author.id,
                        me.channel_id,
                        MarketRequest::Update { name },
                    )
                    .await
                },
            )
            .subcommand(
                "marketplace remove",
                |ctx: CommandContext<Self>| async move {
                    let name: String = ctx.arg("name")?;
                    let report = ctx
                        .market(
                            ctx.invocation().author.id,
                            MarketRequest::Remove { name },
                            None,
                        )
                        .await?;
                    ctx.reply(Embed::success("Marketplace", &report.message))
                        .await?;
                    Ok(())
                },
            )
            .subcommand("marketplace pin", |ctx: CommandContext<Self>| async move {
                let name: String = ctx.arg("name")?;
                let version: Option<String> = ctx.arg("version").ok();
                let report = ctx
                    .market(
                        ctx.invocation().author.id,
                        MarketRequest::Pin { name, version },
                        None,
                    )
                    .await?;
                ctx.reply(Embed::success("Marketplace", &report.message))
                    .await?;
                Ok(())
            })
            .subcommand(
                "marketplace refresh",
                |ctx: CommandContext<Self>| async move {
                    let report = ctx
                        .market(ctx.invocation().author.id, MarketRequest::Refresh, None)
                        .await?;
                    ctx.reply(Embed::success("Marketplace refreshed", &report.message))
                        .await?;
                    Ok(())
                },
            )
            .component("mkt:", navigate)
            .panel("marketplace", "Marketplace", panel::show);
    }

    async fn init(_host: Host) -> PluginResult<Self> {
        Ok(Self)
    }
}

/// `mkt:{owner}:{view}`: views `page:{category}:{page}`, `pick`, `confirm:{name}:{version}`,
/// `cancel`.
fn id(owner: UserId, view: &str) -> String {
    format!("mkt:{}:{view}", owner.0)
}

fn clip(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let mut out: String = text.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

fn state_of(plugin: &MarketPlugin) -> String {
    match (&plugin.installed, plugin.compatible) {
        (Some(have), _) if *have == plugin.version => "✅ installed".to_owned(),
        (Some(have), _) => format!("⬆️ {have} installed, {} available", plugin.version),
        (None, true) => "📦 available".to_owned(),
        (None, false) => "⛔ not for this host".to_owned(),
    }
}

fn size_text(bytes: Option<u64>) -> String {
    match bytes {
        Some(b) if b >= 1024 * 1024 => format!("{:.1} MiB", b as f64 / 1024.0 / 1024.0),
        Some(b) => format!("{:.1} KiB", b as f64 / 1024.0),
        None => "-".to_owned(),
    }
}

fn footer(report: &MarketReport) -> String {
    let mut text = format!("{} · index v{}", report.index_name, report.index_version);
    if report.offline {
        text.push_str(" · offline (cached)");
    }
    text
}

fn categories(report: &MarketReport) -> Vec<String> {
    let mut names: Vec<String> = report.plugins.iter().map(|p| p.category.clone()).collect();
    names.sort();
    names.dedup();
    names
}

/// A browser page: `category` (`*`: all), five plugins a page, the category menu, paging.
fn page(report: &MarketReport, owner: UserId, category: &str, page: usize) -> Message {
    let shown: Vec<&MarketPlugin> = report
        .plugins
        .iter()
        .filter(|p| category == ALL || p.category.eq_ignore_ascii_case(category))
        .collect();
    let pages = shown.len().div_ceil(PER_PAGE).max(1);
    let page = page.min(pages - 1);
    let title = if category == ALL {
        "🛒 Marketplace".to_owned()
    } else {
        format!("🛒 Marketplace · {category}")
    };
    let mut embed = Embed::new()
        .title(title)
        .description(format!(
            "```Plugins: {} | Page {}/{pages}```Install with `marketplace install <name>`.",
            shown.len(),
            page + 1
        ))
        .colour(palette::INFO)
        .footer(footer(report));
    for plugin in shown.iter().skip(page * PER_PAGE).take(PER_PAGE) {
        embed = embed.field(
            format!("{} {}", plugin.name, plugin.version),
            clip(
                &format!(
                    "{}\n{} · {} · {}",
                    if plugin.description.is_empty() {
                        "No description."
                    } else {
                        &plugin.description
                    },
                    plugin.category,
                    state_of(plugin),
                    size_text(plugin.size)
                ),
                1000,
            ),
            false,
        );
    }
    let mut message = Message::new().embed(embed);
    let mut menu = SelectMenu::new(id(owner, "pick"), "📂 Pick a category…");
    menu.options.push(SelectOption {
        label: "Every category".to_owned(),
        value: ALL.to_owned(),
        description: format!("{} plugin(s)", report.plugins.len()),
    });
    for name in categories(report).into_iter().take(24) {
        let count = report.plugins.iter().filter(|p| p.category == name).count();
        menu.options.push(SelectOption {
            label: clip(&name, 100),
            value: clip(&name, 100),
            description: format!("{count} plugin(s)"),
        });
    }
    message = message.select(menu);
    if pages > 1 {
        message = message
            .button(
                Button::new(
                    id(
                        owner,
                        &format!("page:{category}:{}", page.saturating_sub(1)),
                    ),
                    "◀ Previous",
                )
                .style(ButtonStyle::Secondary),
            )
            .button(
                Button::new(
                    id(
                        owner,
                        &format!("page:{category}:{}", (page + 1).min(pages - 1)),
                    ),
                    "Next ▶",
                )
                .style(ButtonStyle::Secondary),
            );
    }
    message.expire_components(MENU_TIMEOUT)
}

/// One plugin's card: every version, dependencies, licence.
fn card(report: &MarketReport) -> Embed {
    let Some(newest) = report.plugins.first() else {
        return Embed::error("Marketplace", "No such plugin.");
    };
    let dependencies = if newest.dependencies.is_empty() {
        "none".to_owned()
    } else {
        newest
            .dependencies
            .iter()
            .map(|(n, r)| format!("`{n}` {r}"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let versions: Vec<String> = report
        .plugins
        .iter()
        .map(|p| {
            format!(
                "{}{}",
                p.version,
                if p.compatible {
                    ""
                } else {
                    " (not for this host)"
                }
            )
        })
        .collect();
    let mut embed = Embed::new()
        .title(format!("📦 {} {}", newest.name, newest.version))
        .description(if newest.description.is_empty() {
            "No description.".to_owned()
        } else {
            newest.description.clone()
        })
        .colour(palette::INFO)
        .field("Category", clip(&newest.category, 100), true)
        .field("Author", clip(&newest.author, 100), true)
        .field(
            "Licence",
            if newest.license.is_empty() {
                "unknown".to_owned()
            } else {
                clip(&newest.license, 100)
            },
            true,
        )
        .field("Dependencies", clip(&dependencies, 1000), false)
        .field("Versions", clip(&versions.join(", "), 1000), false)
        .field("Here", state_of(newest), true)
        .field("Size", size_text(newest.size), true)
        .field("Plugin API", newest.api_version.clone(), true)
        .footer(footer(report));
    if let Some(pin) = &newest.pinned {
        embed = embed.field("Pinned", pin.clone(), true);
    }
    if !newest.homepage.is_empty() {
        embed = embed.field("Homepage", clip(&newest.homepage, 1000), false);
    }
    embed
}

async fn browse_command(
    ctx: &CommandContext<Marketplace>,
    category: Option<String>,
) -> PluginResult {
    let owner = ctx.invocation().author.id;
    let report = ctx.market(owner, MarketRequest::List, None).await?;
    let category = category
        .map(|c| c.trim().to_owned())
        .filter(|c| !c.is_empty())
        .unwrap_or_else(|| ALL.to_owned());
    ctx.reply(page(&report, owner, &category, 0)).await?;
    Ok(())
}

async fn search(ctx: CommandContext<Marketplace>) -> PluginResult {
    let query: String = ctx.arg("query")?;
    let owner = ctx.invocation().author.id;
    let report = ctx
        .market(
            owner,
            MarketRequest::Search {
                query: query.clone(),
            },
            None,
        )
        .await?;
    if report.plugins.is_empty() {
        ctx.reply(Embed::warning(
            "Marketplace",
            &format!("Nothing matches `{}`.", clip(&query, 100)),
        ))
        .await?;
        return Ok(());
    }
    ctx.reply(page(&report, owner, ALL, 0)).await?;
    Ok(())
}

async fn info(ctx: CommandContext<Marketplace>) -> PluginResult {
    let name: String = ctx.arg("name")?;
    let report = ctx
        .market(
            ctx.invocation().author.id,
            MarketRequest::Info { name },
            None,
        )
        .await?;
    ctx.reply(card(&report)).await?;
    Ok(())
}

/// `install`: the card of the version that would be installed, with Confirm and Cancel.
async fn install(ctx: CommandContext<Marketplace>) -> PluginResult {
    let name: String = ctx.arg("name")?;
    let version: Option<String> = ctx.arg("version").ok();
    let owner = ctx.invocation().author.id;
    let report = ctx
        .market(owner, MarketRequest::Info { name: name.clone() }, None)
        .await?;
    let chosen = match &version {
        Some(v) => report
            .plugins
            .iter()
            .find(|p| p.version == v.trim_start_matches('='))
            .cloned(),
        None => report.plugins.iter().find(|p| p.compatible).cloned(),
    };
    let Some(chosen) = chosen else {
        ctx.reply(Embed::error(
            "Marketplace",
            &format!("No version of `{name}` to install here."),
        ))
        .await?;
        return Ok(());
    };
    let mut shown = report.clone();
    shown.plugins.retain(|p| p.version == chosen.version);
    let message = Message::new()
        .embed(card(&shown).field(
            "Install?",
            "The library is downloaded, checked (signature, SHA-256, target, plugin API, the host's library checks) and loaded with any dependencies it lacks.",
            false,
        ))
        .button(
            Button::new(
                id(owner, &format!("confirm:{}:{}", chosen.name, chosen.version)),
                "✅ Confirm install",
            )
            .style(ButtonStyle::Success),
        )
        .button(Button::new(id(owner, "cancel"), "Cancel").style(ButtonStyle::Secondary))
        .expire_components(MENU_TIMEOUT);
    ctx.reply(message).await?;
    Ok(())
}

/// Sends a progress message, runs `request` with the host editing it in place; the host's
/// last edit says what happened.
async fn run_in(
    host: &Host,
    owner: UserId,
    channel: ChannelId,
    request: MarketRequest,
) -> PluginResult {
    let progress = host
        .send(
            channel,
            Message::new().embed(Embed::info("Marketplace: working…", "Starting…")),
        )
        .await?;
    match host.market(owner, request, Some((channel, progress))).await {
        Ok(report) => {
            host.info(format!("marketplace: {}", report.message));
            Ok(())
        }
        // The progress message says why already.
        Err(error) => {
            host.warn(format!("marketplace: {error}"));
            Ok(())
        }
    }
}

async fn navigate(ctx: ComponentContext<Marketplace>) -> PluginResult {
    let interaction = ctx.interaction().clone();
    let mut parts = interaction.name.splitn(3, ':').skip(1);
    let (Some(owner), Some(view)) = (parts.next(), parts.next()) else {
        return Err(PluginError::user(
            "this button does not belong to the marketplace",
        ));
    };
    if !ctx.only_for(owner.parse().unwrap_or_default()).await? {
        return Ok(());
    }
    let user = interaction.user.id;
    let mut words = view.split(':');
    match words.next() {
        Some("page") => {
            let category = words.next().unwrap_or(ALL).to_owned();
            let number = words.next().and_then(|n| n.parse().ok()).unwrap_or(0);
            let report = ctx.market(user, MarketRequest::List, None).await?;
            ctx.update(page(&report, user, &category, number)).await
        }
        Some("pick") => {
            let category = interaction
                .values
                .first()
                .cloned()
                .unwrap_or_else(|| ALL.to_owned());
            let report = ctx.market(user, MarketRequest::List, None).await?;
            ctx.update(page(&report, user, &category, 0)).await
        }
        Some("confirm") => {
            let (Some(name), Some(version)) = (words.next(), words.next()) else {
                return Err(PluginError::user(
                    "this confirmation is from another version",
                ));
            };
            ctx.update(
                Message::new().embed(
                    Embed::new()
                        .title(format!("📦 Installing {name} {version}"))
                        .description("Confirmed: the progress follows below.")
                        .colour(palette::INFO),
                ),
            )
            .await?;
            let request = MarketRequest::Install {
                name: name.to_owned(),
                version: Some(format!("={version}")),
            };
            run_in(&ctx, user, interaction.channel_id, request).await
        }
        Some("cancel") => {
            ctx.update(Message::new().embed(Embed::info("Marketplace", "Install cancelled.")))
                .await
        }
        _ => Err(PluginError::user(
            "this marketplace menu is from another version",
        )),
    }
}

zoryx_plugin_api::export_plugin!(Marketplace);
