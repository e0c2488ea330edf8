//! A local certificate authority for the dev stack and the tests: a CA certificate written to `ca.pem` (its key
//! stays in memory), and server or client certificates it issues, written next to it. Never for production.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::Context;
use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair, KeyUsagePurpose,
};

/// Names every local server certificate carries.
pub const LOOPBACK_NAMES: [&str; 3] = ["localhost", "127.0.0.1", "::1"];

/// A certificate and its key, as PEM files.
#[derive(Clone, Debug)]
pub struct ServerCert {
    pub cert_path: PathBuf,
    pub key_path: PathBuf,
}

/// A CA whose certificate is `dir/ca.pem`.
pub struct LocalCa {
    dir: PathBuf,
    ca_path: PathBuf,
    issuer: Issuer<'static, KeyPair>,
}

impl LocalCa {
    /// A new CA (ECDSA P-256) named `Pedigree dev CA`, its certificate written to `dir/ca.pem`.
    pub fn create(dir: &Path) -> anyhow::Result<Self> {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        let mut params = CertificateParams::new(Vec::<String>::new())?;
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.distinguished_name.push(DnType::CommonName, "Pedigree dev CA");
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let key = KeyPair::generate().context("generating the CA key")?;
        let certificate = params.self_signed(&key).context("signing the CA certificate")?;
        let ca_path = dir.join("ca.pem");
        std::fs::write(&ca_path, certificate.pem()).with_context(|| format!("writing {}", ca_path.display()))?;
        Ok(Self {
            dir: dir.to_path_buf(),
            ca_path,
            issuer: Issuer::new(params, key),
        })
    }

    /// The CA certificate (PEM): what clients check servers against (and servers clients, for mutual TLS).
    pub fn ca_path(&self) -> &Path {
        &self.ca_path
    }

    /// A certificate for `name` valid for `sans` (DNS names, or IP addresses such as `127.0.0.1`), usable by a
    /// server and as a client certificate: writes `dir/{name}.pem` and `dir/{name}-key.pem` (PKCS#8, mode 0600) and
    /// returns their paths (certificate, key).
    pub fn issue(&self, name: &str, sans: &[&str]) -> anyhow::Result<(PathBuf, PathBuf)> {
        let sans: Vec<String> = sans.iter().map(|s| s.to_string()).collect();
        let mut params = CertificateParams::new(sans).with_context(|| format!("subject names of {name}"))?;
        params.distinguished_name.push(DnType::CommonName, name);
        params.use_authority_key_identifier_extension = true;
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth, ExtendedKeyUsagePurpose::ClientAuth];
        let key = KeyPair::generate().with_context(|| format!("generating the key of {name}"))?;
        let certificate = params
            .signed_by(&key, &self.issuer)
            .with_context(|| format!("signing the certificate of {name}"))?;
        let cert_path = self.dir.join(format!("{name}.pem"));
        let key_path = self.dir.join(format!("{name}-key.pem"));
        std::fs::write(&cert_path, certificate.pem()).with_context(|| format!("writing {}", cert_path.display()))?;
        write_private(&key_path, key.serialize_pem().as_bytes())?;
        Ok((cert_path, key_path))
    }
}

impl LocalCa {
    /// A certificate for the loopback names ([`LOOPBACK_NAMES`]): what every server of a local stack presents.
    pub fn issue_loopback(&self, name: &str) -> anyhow::Result<ServerCert> {
        let (cert_path, key_path) = self.issue(name, &LOOPBACK_NAMES)?;
        Ok(ServerCert { cert_path, key_path })
    }
}

/// Writes a file only its owner can read.
fn write_private(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)
        .with_context(|| format!("creating {}", path.display()))?;
    file.write_all(bytes)
        .with_context(|| format!("writing {}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn issues_certificates_next_to_the_ca() {
        let dir = tempfile::tempdir().unwrap();
        let ca = LocalCa::create(dir.path()).unwrap();
        assert!(
            std::fs::read_to_string(ca.ca_path())
                .unwrap()
                .starts_with("-----BEGIN CERTIFICATE-----")
        );
        let (cert, key) = ca.issue("server", &["localhost", "127.0.0.1"]).unwrap();
        assert_eq!(cert, dir.path().join("server.pem"));
        assert!(std::fs::read_to_string(&key).unwrap().contains("PRIVATE KEY"));
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(std::fs::metadata(&key).unwrap().permissions().mode() & 0o777, 0o600);
    }
}
