//! A marketplace served by a local axum server: a signed index of real fixture libraries, and
//! artifacts that misbehave on purpose (cut halfway, a 2 GB `Content-Length`).

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Body;
use axum::extract::{Path as UrlPath, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use zoryx_market::artifact::sha256_hex;
use zoryx_market::{Artifact, Entry, Index, KeyPair};

use super::fixture;

/// What the server serves now.
#[derive(Default)]
struct Served {
    index: Vec<u8>,
    signature: Vec<u8>,
    files: BTreeMap<String, Vec<u8>>,
    /// Answer 503 to the index (the marketplace is down).
    down: bool,
}

/// A running marketplace.
pub struct MarketServer {
    pub addr: SocketAddr,
    served: Arc<Mutex<Served>>,
    pub key: KeyPair,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for MarketServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn serve_index(State(served): State<Arc<Mutex<Served>>>) -> Response {
    let served = served.lock().expect("lock");
    if served.down {
        return StatusCode::SERVICE_UNAVAILABLE.into_response();
    }
    served.index.clone().into_response()
}

async fn serve_signature(State(served): State<Arc<Mutex<Served>>>) -> Response {
    let served = served.lock().expect("lock");
    if served.down {
        return StatusCode::SERVICE_UNAVAILABLE.into_response();
    }
    served.signature.clone().into_response()
}

async fn file(
    State(served): State<Arc<Mutex<Served>>>,
    UrlPath(name): UrlPath<String>,
) -> Response {
    match served.lock().expect("lock").files.get(&name) {
        Some(bytes) => bytes.clone().into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

/// The whole length announced, half the bytes sent, then the connection fails.
async fn cut(State(served): State<Arc<Mutex<Served>>>, UrlPath(name): UrlPath<String>) -> Response {
    let Some(bytes) = served.lock().expect("lock").files.get(&name).cloned() else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let half = bytes[..bytes.len() / 2].to_vec();
    let stream = futures::stream::iter(vec![
        Ok::<_, std::io::Error>(bytes::Bytes::from(half)),
        Err(std::io::Error::other("connection lost")),
    ]);
    Response::builder()
        .header(header::CONTENT_LENGTH, bytes.len())
        .body(Body::from_stream(stream))
        .expect("response")
}

/// A 2 GB `Content-Length`, and a body that never comes.
async fn huge() -> Response {
    let stream = futures::stream::pending::<Result<bytes::Bytes, std::io::Error>>();
    Response::builder()
        .header(header::CONTENT_LENGTH, 2_u64 * 1024 * 1024 * 1024)
        .body(Body::from_stream(stream))
        .expect("response")
}

impl MarketServer {
    /// Serves nothing yet; [`MarketServer::publish`] puts an index up.
    pub async fn start() -> Self {
        let served = Arc::new(Mutex::new(Served::default()));
        let app = Router::new()
            .route("/market/index.json", get(serve_index))
            .route("/market/index.json.sig", get(serve_signature))
            .route("/market/files/{name}", get(file))
            .route("/market/cut/{name}", get(cut))
            .route("/market/huge/{name}", get(huge))
            .with_state(Arc::clone(&served));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("address");
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Self {
            addr,
            served,
            key: KeyPair::generate().expect("key"),
            task,
        }
    }

    /// The index's URL.
    pub fn index_url(&self) -> String {
        format!("http://{}/market/index.json", self.addr)
    }

    /// Serves a file at `files/NAME`.
    pub fn put_file(&self, name: &str, bytes: Vec<u8>) {
        self.served
            .lock()
            .expect("lock")
            .files
            .insert(name.to_owned(), bytes);
    }

    /// Serves `index`, signed by `key`.
    pub fn publish_signed_by(&self, index: &Index, key: &KeyPair) {
        let bytes = index.to_bytes();
        let signature = key.sign(&bytes).to_bytes();
        let mut served = self.served.lock().expect("lock");
        served.index = bytes;
        served.signature = signature;
    }

    /// Serves `index` signed by the server's key.
    pub fn publish(&self, index: &Index) {
        self.publish_signed_by(index, &self.key);
    }

    /// Serves raw index and signature bytes.
    pub fn publish_raw(&self, index: Vec<u8>, signature: Vec<u8>) {
        let mut served = self.served.lock().expect("lock");
        served.index = index;
        served.signature = signature;
    }

    /// Takes the marketplace down (503) or up.
    pub fn set_down(&self, down: bool) {
        self.served.lock().expect("lock").down = down;
    }
}

/// An index entry for fixture `fixture_name` served at `files/FILE` (or another `url`), with
/// the fixture's real size and SHA-256, for this host's target and plugin API.
pub fn entry(
    name: &str,
    version: &str,
    fixture_name: &str,
    dependencies: &[(&str, &str)],
) -> (Entry, Vec<u8>) {
    let bytes = std::fs::read(fixture(fixture_name)).expect("fixture");
    let api = zoryx_plugin_api::API_VERSION;
    let entry = Entry {
        name: name.to_owned(),
        version: semver::Version::parse(version).expect("version"),
        description: format!("{name}, a test plugin"),
        category: "Testing".to_owned(),
        author: "Zoryx tests".to_owned(),
        license: "MIT OR Apache-2.0".to_owned(),
        homepage: String::new(),
        api_version: semver::Version::new(
            u64::from(api.major),
            u64::from(api.minor),
            u64::from(api.patch),
        ),
        dependencies: dependencies
            .iter()
            .map(|(n, r)| ((*n).to_owned(), semver::VersionReq::parse(r).expect("req")))
            .collect(),
        artifacts: BTreeMap::from([(
            zoryx_market::HOST_TARGET.to_owned(),
            Artifact {
                url: format!("files/{name}-{version}.so"),
                size: bytes.len() as u64,
                sha256: sha256_hex(&bytes),
            },
        )]),
    };
    (entry, bytes)
}

/// An index of `entries` at `version`.
pub fn index(version: u64, entries: Vec<Entry>) -> Index {
    Index {
        format: zoryx_market::index::FORMAT,
        name: "Test market".to_owned(),
        version,
        plugins: entries,
    }
}

/// Every file of a folder and its bytes (sub-folders by their relative names).
pub fn snapshot(dir: &std::path::Path) -> BTreeMap<String, Vec<u8>> {
    let mut files = BTreeMap::new();
    let mut stack = vec![dir.to_owned()];
    while let Some(folder) = stack.pop() {
        for entry in std::fs::read_dir(&folder).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else {
                let name = path
                    .strip_prefix(dir)
                    .map(|p| p.display().to_string())
                    .unwrap_or_default();
                files.insert(name, std::fs::read(&path).unwrap_or_default());
            }
        }
    }
    files
}
