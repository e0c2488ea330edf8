//! A local certificate authority for a dev stack or a test: `ca.pem` (what clients trust) and server certificates it
//! issues for loopback names. `pedigree up` keeps its CA under `.pedigree/tls/`; tests make one per stack.

use std::path::{Path, PathBuf};

use anyhow::Context;
use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair, KeyUsagePurpose,
};

/// Names every local server certificate carries.
pub const LOOPBACK_NAMES: [&str; 3] = ["localhost", "127.0.0.1", "::1"];

/// A CA whose certificate is written to `ca.pem` in its folder.
pub struct LocalCa {
    dir: PathBuf,
    issuer: Issuer<'static, KeyPair>,
    pub ca_path: PathBuf,
}

/// A certificate and its key, as PEM files.
#[derive(Clone, Debug)]
pub struct ServerCert {
    pub cert_path: PathBuf,
    pub key_path: PathBuf,
}

impl LocalCa {
    /// A new CA in `dir` (created if missing): writes `ca.pem` and `ca.key` (owner-only).
    pub fn create(dir: &Path) -> anyhow::Result<Self> {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        let key = KeyPair::generate().context("generating the CA key")?;
        let mut params = CertificateParams::default();
        params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
        params
            .distinguished_name
            .push(DnType::CommonName, "Pedigree local development CA");
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let cert = params.self_signed(&key).context("signing the CA certificate")?;
        let ca_path = dir.join("ca.pem");
        std::fs::write(&ca_path, cert.pem()).with_context(|| format!("writing {}", ca_path.display()))?;
        write_secret(&dir.join("ca.key"), key.serialize_pem().as_bytes())?;
        Ok(Self {
            dir: dir.to_path_buf(),
            issuer: Issuer::new(params, key),
            ca_path,
        })
    }

    /// Issues a server certificate named `name` for `sans` (DNS names or IP addresses), written to
    /// `{name}.pem` and `{name}.key` next to the CA.
    pub fn issue(&self, name: &str, sans: &[&str]) -> anyhow::Result<ServerCert> {
        let key = KeyPair::generate().context("generating a server key")?;
        let mut params = CertificateParams::new(sans.iter().map(|s| s.to_string()).collect::<Vec<_>>())
            .context("server certificate names")?;
        params.distinguished_name.push(DnType::CommonName, name);
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        let cert = params
            .signed_by(&key, &self.issuer)
            .context("signing the server certificate")?;
        let cert_path = self.dir.join(format!("{name}.pem"));
        let key_path = self.dir.join(format!("{name}.key"));
        std::fs::write(&cert_path, cert.pem()).with_context(|| format!("writing {}", cert_path.display()))?;
        write_secret(&key_path, key.serialize_pem().as_bytes())?;
        Ok(ServerCert { cert_path, key_path })
    }

    /// A server certificate for the loopback names ([`LOOPBACK_NAMES`]).
    pub fn issue_loopback(&self, name: &str) -> anyhow::Result<ServerCert> {
        self.issue(name, &LOOPBACK_NAMES)
    }
}

/// Writes a private key readable by its owner only.
fn write_secret(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)
        .with_context(|| format!("writing {}", path.display()))?;
    file.write_all(bytes)
        .with_context(|| format!("writing {}", path.display()))
}
