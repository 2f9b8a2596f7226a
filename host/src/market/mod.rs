//! The plugin marketplace, host side.
//!
//! - [`client`]: the owner's side, one entry point ([`Marketplace::handle`]) for list, search,
//!   info, install, update, pin, remove and refresh, used by the `marketplace` plugin (through
//!   the plugin API's `Action::Market`, owner-only) and by `zoryx market install|update|...`;
//! - the publisher's tools behind `zoryx market keygen|index|sign|verify`: a key pair, an
//!   index built from plugin libraries (their manifests read by the host's own loader
//!   checks), its signature, and a verification of a published folder as a host would do it.
//!
//! The index format and the trust chain live in the `zoryx-market` crate.

pub mod client;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use clap::{Args, Subcommand};
use zoryx_market::artifact::sha256_hex;
use zoryx_market::{Artifact, Entry, Index, KeyPair, PublicKey, SignatureFile};

pub use client::{MarketError, MarketOptions, Marketplace, Progress};

/// `zoryx market ...`.
#[derive(Debug, Subcommand)]
pub enum MarketCommand {
    /// Create a signing key pair: writes the secret key file (owner-only permissions) and
    /// prints the public key that hosts trust (`marketplace.trusted_keys`).
    Keygen {
        /// Where to write the secret key; refused if the file exists.
        #[arg(long)]
        secret: PathBuf,
    },
    /// Add plugin libraries to a marketplace folder: each is checked like `plugins check`,
    /// copied as `NAME-VERSION-TARGET.EXT`, and listed in the folder's `index.json` (other
    /// versions already listed are kept; the index's version goes up by one).
    Index(IndexArgs),
    /// Sign a folder's `index.json` (writes `index.json.sig` beside it).
    Sign {
        /// The secret key file.
        #[arg(long)]
        secret: PathBuf,
        /// The index file.
        index: PathBuf,
    },
    /// Verify a folder as a host would: the signature by a trusted key, the index's rules, and
    /// each artifact beside it (size and SHA-256).
    Verify {
        /// A trusted public key (`zoryx-ed25519:...`); repeat for several.
        #[arg(long = "key", required = true)]
        keys: Vec<String>,
        /// The index file.
        index: PathBuf,
    },
    /// Install a plugin from `marketplace.index_url` with the dependencies it lacks, every
    /// check passed first, into the extensions folder (a running host's watcher loads it).
    Install {
        /// The plugin.
        name: String,
        /// A version or requirement (`1.2.0`, `^1.2`); the newest by default.
        #[arg(long)]
        version: Option<String>,
    },
    /// Update a plugin the marketplace installed to the newest version within its pin.
    Update {
        /// The plugin.
        name: String,
    },
    /// Remove a plugin the marketplace installed (refused while others need it).
    Remove {
        /// The plugin.
        name: String,
    },
    /// The index's plugins, installed or not.
    List,
    /// Plugins whose name, description or category contains a text.
    Search {
        /// The text.
        query: String,
    },
    /// Every version of one plugin, with its dependencies and licence.
    Info {
        /// The plugin.
        name: String,
    },
    /// Pin a plugin to a version or requirement (`update` stays within it).
    Pin {
        /// The plugin.
        name: String,
        /// The version (`1.2.0` means exactly it) or requirement (`~1.2`).
        version: String,
    },
    /// Remove a plugin's pin.
    Unpin {
        /// The plugin.
        name: String,
    },
    /// Fetch the index now, whatever the cache's age.
    Refresh,
}

impl MarketCommand {
    /// The owner's request this command makes, if it is one (not a publisher's tool).
    pub fn request(&self) -> Option<zoryx_plugin_api::market::MarketRequest> {
        use zoryx_plugin_api::market::MarketRequest as R;
        Some(match self {
            Self::Keygen { .. } | Self::Index(_) | Self::Sign { .. } | Self::Verify { .. } => {
                return None;
            }
            Self::Install { name, version } => R::Install {
                name: name.clone(),
                version: version.clone(),
            },
            Self::Update { name } => R::Update { name: name.clone() },
            Self::Remove { name } => R::Remove { name: name.clone() },
            Self::List => R::List,
            Self::Search { query } => R::Search {
                query: query.clone(),
            },
            Self::Info { name } => R::Info { name: name.clone() },
            Self::Pin { name, version } => R::Pin {
                name: name.clone(),
                version: Some(version.clone()),
            },
            Self::Unpin { name } => R::Pin {
                name: name.clone(),
                version: None,
            },
            Self::Refresh => R::Refresh,
        })
    }
}

/// Runs an owner's request from the command line, progress on the log; what to print.
pub async fn run_request(
    market: &Marketplace,
    request: zoryx_plugin_api::market::MarketRequest,
) -> Result<String, MarketError> {
    let progress = |step: Progress| tracing::info!("{step}");
    let report = market.handle(request, &progress).await?;
    Ok(render(&report))
}

/// A report as text for the console.
pub fn render(report: &zoryx_plugin_api::market::MarketReport) -> String {
    let mut lines = Vec::new();
    if !report.index_name.is_empty() || report.index_version > 0 {
        lines.push(format!(
            "index `{}` version {}{}",
            report.index_name,
            report.index_version,
            if report.offline {
                " (offline: from the cache)"
            } else {
                ""
            }
        ));
    }
    for plugin in &report.plugins {
        let state = match (&plugin.installed, plugin.compatible) {
            (Some(have), _) if *have == plugin.version => "installed".to_owned(),
            (Some(have), _) => format!("{have} installed"),
            (None, true) => "available".to_owned(),
            (None, false) => "not for this host".to_owned(),
        };
        let pin = plugin
            .pinned
            .as_ref()
            .map(|p| format!(", pinned {p}"))
            .unwrap_or_default();
        lines.push(format!(
            "{} {} [{}] ({state}{pin}): {}",
            plugin.name, plugin.version, plugin.category, plugin.description
        ));
        let deps: Vec<String> = plugin
            .dependencies
            .iter()
            .map(|(n, r)| format!("{n} {r}"))
            .collect();
        if !deps.is_empty() || !plugin.license.is_empty() {
            lines.push(format!(
                "  licence: {}; needs: {}",
                if plugin.license.is_empty() {
                    "-"
                } else {
                    &plugin.license
                },
                if deps.is_empty() {
                    "-".to_owned()
                } else {
                    deps.join(", ")
                }
            ));
        }
    }
    if !report.message.is_empty() {
        lines.push(report.message.clone());
    }
    lines.join("\n")
}

/// `zoryx market index`.
#[derive(Debug, Args)]
pub struct IndexArgs {
    /// The marketplace folder (created if missing).
    #[arg(long)]
    pub out: PathBuf,
    /// The marketplace's name, shown to owners.
    #[arg(long)]
    pub name: Option<String>,
    /// Category of the plugins added (`Utility` if not given).
    #[arg(long)]
    pub category: Option<String>,
    /// Their licence (an SPDX expression).
    #[arg(long)]
    pub license: Option<String>,
    /// Their homepage.
    #[arg(long)]
    pub homepage: Option<String>,
    /// The plugin libraries.
    #[arg(required = true)]
    pub libraries: Vec<PathBuf>,
}

/// Why a tool failed; one line for the operator.
#[derive(Debug, thiserror::Error)]
pub enum MarketToolError {
    /// A file could not be read or written.
    #[error("{path}: {error}")]
    Io {
        /// The file.
        path: PathBuf,
        /// What happened.
        error: std::io::Error,
    },
    /// A library the loader refuses.
    #[error("{path}: not published: {reason}")]
    Library {
        /// The library.
        path: PathBuf,
        /// The loader's reason.
        reason: String,
    },
    /// A key, signature or index problem.
    #[error(transparent)]
    Signing(#[from] zoryx_market::SigningError),
    /// The index breaks a rule.
    #[error(transparent)]
    Index(#[from] zoryx_market::IndexError),
    /// An artifact beside the index does not match it.
    #[error("{entry}: {problem}")]
    Artifact {
        /// `name version`.
        entry: String,
        /// What is wrong.
        problem: String,
    },
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> MarketToolError + '_ {
    move |error| MarketToolError::Io {
        path: path.to_owned(),
        error,
    }
}

/// Runs a tool; what it prints on success.
pub fn run(command: &MarketCommand) -> Result<String, MarketToolError> {
    match command {
        MarketCommand::Keygen { secret } => keygen(secret),
        MarketCommand::Index(args) => index(args),
        MarketCommand::Sign { secret, index } => sign(secret, index),
        MarketCommand::Verify { keys, index } => verify(keys, index),
        _ => Err(MarketToolError::Artifact {
            entry: "zoryx market".to_owned(),
            problem: "an owner's request runs with `run_request`".to_owned(),
        }),
    }
}

fn keygen(secret: &Path) -> Result<String, MarketToolError> {
    let keys = KeyPair::generate()?;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    let mut file = options.open(secret).map_err(io(secret))?;
    std::io::Write::write_all(&mut file, keys.secret_text().as_bytes()).map_err(io(secret))?;
    file.sync_all().map_err(io(secret))?;
    Ok(format!(
        "secret key written to {} (keep it private)\npublic key: {}",
        secret.display(),
        keys.public()
    ))
}

fn index(args: &IndexArgs) -> Result<String, MarketToolError> {
    std::fs::create_dir_all(&args.out).map_err(io(&args.out))?;
    let index_path = args.out.join("index.json");
    let mut index = match std::fs::read(&index_path) {
        Ok(bytes) => Index::parse(&bytes)?,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Index {
            format: zoryx_market::index::FORMAT,
            name: String::new(),
            version: 0,
            plugins: Vec::new(),
        },
        Err(error) => return Err(io(&index_path)(error)),
    };
    if let Some(name) = &args.name {
        index.name.clone_from(name);
    }
    let target = zoryx_market::HOST_TARGET;
    let mut added = Vec::new();
    for library in &args.libraries {
        let refused = |reason: String| MarketToolError::Library {
            path: library.clone(),
            reason,
        };
        let (api, description) =
            crate::loader::check_file(library).map_err(|e| refused(e.to_string()))?;
        let manifest = &description.manifest;
        let version = semver::Version::parse(&manifest.version)
            .map_err(|e| refused(format!("version `{}`: {e}", manifest.version)))?;
        let mut dependencies = BTreeMap::new();
        for (name, requirement) in &manifest.dependencies {
            let requirement = semver::VersionReq::parse(requirement)
                .map_err(|e| refused(format!("dependency {name} `{requirement}`: {e}")))?;
            dependencies.insert(name.clone(), requirement);
        }
        let bytes = std::fs::read(library).map_err(io(library))?;
        let extension = library.extension().and_then(|e| e.to_str()).unwrap_or("so");
        let file_name = format!("{}-{version}-{target}.{extension}", manifest.name);
        let published = args.out.join(&file_name);
        publish(&published, &bytes)?;
        let artifact = Artifact {
            url: file_name,
            size: bytes.len() as u64,
            sha256: sha256_hex(&bytes),
        };
        let existing = index
            .plugins
            .iter_mut()
            .find(|e| e.name == manifest.name && e.version == version);
        match existing {
            Some(entry) => {
                entry.artifacts.insert(target.to_owned(), artifact);
            }
            None => index.plugins.push(Entry {
                name: manifest.name.clone(),
                version: version.clone(),
                description: manifest.description.clone(),
                category: args
                    .category
                    .clone()
                    .unwrap_or_else(|| "Utility".to_owned()),
                author: manifest.author.clone(),
                license: args.license.clone().unwrap_or_default(),
                homepage: args.homepage.clone().unwrap_or_default(),
                api_version: semver::Version::new(
                    u64::from(api.major),
                    u64::from(api.minor),
                    u64::from(api.patch),
                ),
                dependencies,
                artifacts: BTreeMap::from([(target.to_owned(), artifact)]),
            }),
        }
        added.push(format!("{} {version}", manifest.name));
    }
    index
        .plugins
        .sort_by(|a, b| a.name.cmp(&b.name).then(a.version.cmp(&b.version)));
    index.version += 1;
    index.check()?;
    publish(&index_path, &index.to_bytes())?;
    Ok(format!(
        "{}: index version {}, added {} (sign it with `zoryx market sign`)",
        index_path.display(),
        index.version,
        added.join(", ")
    ))
}

/// The one atomic write: a reader of the folder sees the old file or the new one.
fn publish(path: &Path, bytes: &[u8]) -> Result<(), MarketToolError> {
    crate::storage::atomic::write_bytes(path, bytes).map_err(|e| MarketToolError::Io {
        path: path.to_owned(),
        error: std::io::Error::other(e.to_string()),
    })
}

fn signature_path(index: &Path) -> PathBuf {
    let mut name = index.as_os_str().to_owned();
    name.push(".sig");
    PathBuf::from(name)
}

fn sign(secret: &Path, index_path: &Path) -> Result<String, MarketToolError> {
    let keys = KeyPair::parse(&std::fs::read_to_string(secret).map_err(io(secret))?)?;
    let bytes = std::fs::read(index_path).map_err(io(index_path))?;
    let index = Index::parse(&bytes)?;
    let signature = keys.sign(&bytes);
    let path = signature_path(index_path);
    publish(&path, &signature.to_bytes())?;
    Ok(format!(
        "{}: index version {} signed by {}",
        path.display(),
        index.version,
        keys.public()
    ))
}

fn verify(keys: &[String], index_path: &Path) -> Result<String, MarketToolError> {
    let trusted = keys
        .iter()
        .map(|k| PublicKey::parse(k))
        .collect::<Result<Vec<_>, _>>()?;
    let bytes = std::fs::read(index_path).map_err(io(index_path))?;
    let signature_file = signature_path(index_path);
    let signature =
        SignatureFile::parse(&std::fs::read(&signature_file).map_err(io(&signature_file))?)?;
    let verified = zoryx_market::signing::verify(&bytes, &signature, &trusted, None)?;
    let folder = index_path.parent().unwrap_or(Path::new("."));
    let mut checked = 0;
    for entry in &verified.index.plugins {
        for artifact in entry.artifacts.values() {
            if artifact.url.contains("://") {
                continue; // hosted elsewhere: checked when a host downloads it
            }
            let label = format!("{} {}", entry.name, entry.version);
            let path = folder.join(&artifact.url);
            let bytes = std::fs::read(&path).map_err(|e| MarketToolError::Artifact {
                entry: label.clone(),
                problem: format!("{}: {e}", path.display()),
            })?;
            let mut check = zoryx_market::ArtifactCheck::new(artifact);
            check
                .update(&bytes)
                .and_then(|()| check.finish())
                .map_err(|e| MarketToolError::Artifact {
                    entry: label,
                    problem: e.to_string(),
                })?;
            checked += 1;
        }
    }
    Ok(format!(
        "{}: valid, index version {}, {} plugins, signed by {}, {checked} artifacts match",
        index_path.display(),
        verified.index.version,
        verified.index.plugins.len(),
        verified.key
    ))
}
