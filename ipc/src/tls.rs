//! Optional TLS (rustls, with the ring provider) around the IPC's TCP connections.
//!
//! The server presents a certificate chain and its private key ([`ServerTls`]); a client
//! trusts the certificates of a PEM file (a private CA, or the server's own self-signed
//! certificate) and checks that the server's certificate names [`ClientTls`]'s server name.
//! Both sides still run the HMAC challenge-response inside the encrypted channel: TLS keeps
//! the figures and broadcasts private and proves the server to the client, the shared secret
//! proves each side to the other.
//!
//! TLS is all or nothing: a TLS server refuses a plaintext client (it never gets the TLS
//! handshake it waits for) and a TLS client refuses a plaintext server.

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use tokio::net::TcpStream;
use tokio_rustls::rustls::pki_types::pem::{self, PemObject};
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use tokio_rustls::rustls::{self, RootCertStore};
use tokio_rustls::{TlsAcceptor, TlsConnector};

use crate::io::Stream;

/// TLS settings that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// A PEM file could not be read.
    #[error("cannot read {}: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: io::Error,
    },
    /// The certificate file (or text) holds no PEM certificate.
    #[error("{what} holds no PEM certificate (-----BEGIN CERTIFICATE-----)")]
    NoCertificate {
        /// The file, or which text.
        what: String,
    },
    /// The key file (or text) holds no PEM private key.
    #[error("{what} holds no PEM private key (PKCS#8, PKCS#1 or SEC1)")]
    NoKey {
        /// The file, or which text.
        what: String,
    },
    /// A PEM section is malformed.
    #[error("{what} is not valid PEM: {message}")]
    Pem {
        /// The file, or which text.
        what: String,
        /// The parser's complaint.
        message: String,
    },
    /// rustls refused a certificate or key (malformed, unsupported, or a key that is not the
    /// certificate's).
    #[error("{what}: {message}")]
    Refused {
        /// The file(s), or which text.
        what: String,
        /// rustls' complaint.
        message: String,
    },
    /// The server name is neither a DNS name nor an IP address.
    #[error("invalid TLS server name {0:?}: a DNS name or an IP address")]
    ServerName(String),
}

/// The TLS side of an IPC server: its certificate chain and private key.
#[derive(Clone)]
pub struct ServerTls {
    acceptor: TlsAcceptor,
}

impl fmt::Debug for ServerTls {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServerTls").finish_non_exhaustive()
    }
}

impl ServerTls {
    /// From PEM files: `cert` the server's certificate (then any intermediates), `key` its
    /// private key.
    pub fn from_pem_files(cert: &Path, key: &Path) -> Result<Self, TlsError> {
        let cert_pem = read(cert)?;
        let key_pem = read(key)?;
        Self::build(
            &cert_pem,
            &cert.display().to_string(),
            &key_pem,
            &key.display().to_string(),
        )
    }

    /// From PEM text, as [`ServerTls::from_pem_files`] reads it.
    pub fn from_pem(cert: &[u8], key: &[u8]) -> Result<Self, TlsError> {
        Self::build(cert, "the certificate PEM", key, "the key PEM")
    }

    fn build(cert: &[u8], cert_what: &str, key: &[u8], key_what: &str) -> Result<Self, TlsError> {
        let chain = certificates(cert, cert_what)?;
        let key = match PrivateKeyDer::from_pem_slice(key) {
            Ok(key) => key,
            Err(pem::Error::NoItemsFound) => {
                return Err(TlsError::NoKey {
                    what: key_what.to_owned(),
                });
            }
            Err(error) => return Err(pem_error(key_what, &error)),
        };
        let config = rustls::ServerConfig::builder_with_provider(provider())
            .with_safe_default_protocol_versions()
            .map_err(|e| refused(cert_what, &e))?
            .with_no_client_auth()
            .with_single_cert(chain, key)
            .map_err(|e| refused(&format!("{cert_what} with {key_what}"), &e))?;
        Ok(Self {
            acceptor: TlsAcceptor::from(Arc::new(config)),
        })
    }

    /// The TLS handshake of an accepted connection.
    pub(crate) async fn accept(&self, stream: TcpStream) -> io::Result<Stream> {
        Ok(Box::new(self.acceptor.accept(stream).await?))
    }
}

/// The TLS side of an IPC client: the certificates it trusts and the name the server's
/// certificate must carry.
#[derive(Clone)]
pub struct ClientTls {
    connector: TlsConnector,
    server_name: ServerName<'static>,
}

impl fmt::Debug for ClientTls {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientTls")
            .field("server_name", &self.server_name)
            .finish_non_exhaustive()
    }
}

impl ClientTls {
    /// Trusting the certificates of the PEM file `ca` (a CA's, or the server's self-signed
    /// one), for a server whose certificate names `server_name` (a DNS name or an IP address).
    pub fn from_pem_file(ca: &Path, server_name: &str) -> Result<Self, TlsError> {
        let pem = read(ca)?;
        Self::build(&pem, &ca.display().to_string(), server_name)
    }

    /// From PEM text, as [`ClientTls::from_pem_file`] reads it.
    pub fn from_pem(ca: &[u8], server_name: &str) -> Result<Self, TlsError> {
        Self::build(ca, "the CA PEM", server_name)
    }

    fn build(ca: &[u8], what: &str, server_name: &str) -> Result<Self, TlsError> {
        let mut roots = RootCertStore::empty();
        for cert in certificates(ca, what)? {
            roots.add(cert).map_err(|e| refused(what, &e))?;
        }
        let server_name = ServerName::try_from(server_name.trim().to_owned())
            .map_err(|_| TlsError::ServerName(server_name.to_owned()))?;
        let config = rustls::ClientConfig::builder_with_provider(provider())
            .with_safe_default_protocol_versions()
            .map_err(|e| refused(what, &e))?
            .with_root_certificates(roots)
            .with_no_client_auth();
        Ok(Self {
            connector: TlsConnector::from(Arc::new(config)),
            server_name,
        })
    }

    /// The TLS handshake of a new connection to the server.
    pub(crate) async fn connect(&self, stream: TcpStream) -> io::Result<Stream> {
        Ok(Box::new(
            self.connector
                .connect(self.server_name.clone(), stream)
                .await?,
        ))
    }
}

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

fn read(path: &Path) -> Result<Vec<u8>, TlsError> {
    std::fs::read(path).map_err(|source| TlsError::Read {
        path: path.to_owned(),
        source,
    })
}

fn certificates(pem: &[u8], what: &str) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let certs = CertificateDer::pem_slice_iter(pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| pem_error(what, &e))?;
    if certs.is_empty() {
        return Err(TlsError::NoCertificate {
            what: what.to_owned(),
        });
    }
    Ok(certs)
}

fn pem_error(what: &str, error: &pem::Error) -> TlsError {
    TlsError::Pem {
        what: what.to_owned(),
        message: error.to_string(),
    }
}

fn refused(what: &str, error: &rustls::Error) -> TlsError {
    TlsError::Refused {
        what: what.to_owned(),
        message: error.to_string(),
    }
}
