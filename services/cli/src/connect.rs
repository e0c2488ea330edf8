//! How the command line reaches the servers: TLS checked against `--ca` (or the CA `pedigree up` wrote), from the
//! global flags.

use std::path::PathBuf;
use std::sync::OnceLock;

use std::path::Path;

use anyhow::Context;
use pedigree_core::keys::KeyPair;
use pedigree_runtime::sign_in::{Bearer, sign_in};
use pedigree_runtime::tls::{ClientTls, ClientTlsConfig};
use tonic::service::interceptor::InterceptedService;
use tonic::transport::Channel;

static FLAGS: OnceLock<ClientTlsConfig> = OnceLock::new();
static DEFAULT_CA: OnceLock<PathBuf> = OnceLock::new();

/// Remembers the global flags (read at each connection: `pedigree up` writes its CA after parsing them).
pub fn init(ca: Option<PathBuf>, insecure_plaintext: bool) {
    let _ = FLAGS.set(ClientTlsConfig { ca, insecure_plaintext });
}

/// Whether `--insecure-plaintext` was given (http:// endpoints allowed).
pub fn insecure_plaintext() -> bool {
    FLAGS.get().is_some_and(|f| f.insecure_plaintext)
}

/// Makes `path` the CA trusted when `--ca` is not given (`pedigree up`, once it made its CA).
pub fn default_ca(path: PathBuf) {
    let _ = DEFAULT_CA.set(path);
}

/// The CA: `--ca`, else the one [`default_ca`] set, else `{PEDIGREE_DIR or .pedigree}/tls/ca.pem` when that file exists, else the system roots.
pub fn client_tls() -> anyhow::Result<ClientTls> {
    let flags = FLAGS.get().cloned().unwrap_or_default();
    let ca = flags.ca.or_else(|| DEFAULT_CA.get().cloned()).or_else(|| {
        let dir = std::env::var_os("PEDIGREE_DIR").map_or_else(|| PathBuf::from(".pedigree"), PathBuf::from);
        Some(dir.join("tls").join("ca.pem")).filter(|p| p.is_file())
    });
    ClientTls::load(&ClientTlsConfig {
        ca,
        insecure_plaintext: flags.insecure_plaintext,
    })
}

/// Who the command line signs in to the verifier as.
pub struct Credentials {
    pub id: String,
    pub key: KeyPair,
    /// The chain a sign-in is bound to (the genesis hash).
    pub chain_id: pedigree_core::Hash,
}

impl Credentials {
    /// `id` with `key`, on the chain of the genesis file in `dir`.
    pub fn new(id: &str, key: KeyPair, dir: &Path) -> anyhow::Result<Self> {
        let genesis = dir.join("genesis.json");
        let registry = pedigree_runtime::load_registry(&genesis)
            .with_context(|| format!("reading the chain id from {}", genesis.display()))?;
        Ok(Self {
            id: id.to_string(),
            key,
            chain_id: registry.chain_id,
        })
    }

    /// `id` with the key in `key_path` (default `{dir}/{id}.pem`), on the chain of the genesis file in `dir`.
    pub fn load(id: &str, key_path: Option<&Path>, dir: &Path) -> anyhow::Result<Self> {
        let key_path = key_path.map_or_else(|| dir.join(format!("{id}.pem")), Path::to_path_buf);
        let pem = std::fs::read_to_string(&key_path).with_context(|| format!("reading key {}", key_path.display()))?;
        Self::new(id, KeyPair::from_pem(&pem)?, dir)
    }
}

/// A connection to the verifier at `endpoint` whose calls carry a session of `who`.
pub async fn signed_in(endpoint: &str, who: &Credentials) -> anyhow::Result<InterceptedService<Channel, Bearer>> {
    let channel = client_tls()?.connect(endpoint).await?;
    let session = sign_in(channel.clone(), &who.key, &who.chain_id, &who.id).await?;
    Ok(InterceptedService::new(channel, Bearer::new(&session.token)?))
}
