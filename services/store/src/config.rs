//! How a service reaches Redis: [`RedisConfig`], flattened into each service's settings, and the client it builds.
//!
//! TLS (`rediss://`) is the norm: the server's certificate is checked against `--redis-ca` (else the system roots),
//! with a client certificate when the server asks for one (`tls-auth-clients yes`). Each service logs in as its own
//! ACL user (see [`crate::acl`]). A plaintext `redis://` URL is refused unless `--redis-insecure-plaintext` says so.

use std::fmt;
use std::path::{Path, PathBuf};

use redis::{ClientTlsConfig, ConnectionAddr, ConnectionInfo, IntoConnectionInfo, TlsCertificates};

use crate::error::{Result, StoreError};

/// Redis connection settings (flatten into a service's clap settings with `#[command(flatten)]`).
#[derive(Clone, PartialEq, Eq, clap::Args)]
pub struct RedisConfig {
    /// Redis URL: `rediss://[USER[:PASSWORD]@]HOST:PORT/DB` (TLS). A `redis://` URL (no TLS) also needs
    /// --redis-insecure-plaintext.
    #[arg(
        long = "redis-url",
        env = "PEDIGREE_REDIS_URL",
        default_value = "rediss://127.0.0.1:6379/0"
    )]
    pub url: String,
    /// ACL user to log in as (overrides the URL's).
    #[arg(long = "redis-user", env = "PEDIGREE_REDIS_USER")]
    pub user: Option<String>,
    /// Password of the ACL user (overrides the URL's); an environment variable rather than a flag, so that it does
    /// not show in the process list.
    #[arg(long = "redis-password", env = "PEDIGREE_REDIS_PASSWORD", hide_env_values = true)]
    pub password: Option<String>,
    /// PEM bundle of the CA(s) the server's certificate is checked against (default: the system's roots).
    #[arg(long = "redis-ca", env = "PEDIGREE_REDIS_CA")]
    pub ca: Option<PathBuf>,
    /// PEM client certificate (chain), for a server that requires one (`tls-auth-clients yes`).
    #[arg(
        long = "redis-client-cert",
        env = "PEDIGREE_REDIS_CLIENT_CERT",
        requires = "client_key"
    )]
    pub client_cert: Option<PathBuf>,
    /// PEM private key of --redis-client-cert.
    #[arg(
        long = "redis-client-key",
        env = "PEDIGREE_REDIS_CLIENT_KEY",
        requires = "client_cert"
    )]
    pub client_key: Option<PathBuf>,
    /// Accept a plaintext `redis://` URL: passwords and ledger data then cross the network unencrypted. For a
    /// Redis on the same host or in tests only.
    #[arg(long = "redis-insecure-plaintext", env = "PEDIGREE_REDIS_INSECURE_PLAINTEXT")]
    pub insecure_plaintext: bool,
}

impl fmt::Debug for RedisConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisConfig")
            .field("url", &self.target())
            .field("user", &self.user)
            .field("password", &self.password.as_ref().map(|_| "<redacted>"))
            .field("ca", &self.ca)
            .field("client_cert", &self.client_cert)
            .field("client_key", &self.client_key)
            .field("insecure_plaintext", &self.insecure_plaintext)
            .finish()
    }
}

impl RedisConfig {
    /// TLS to `url`, the server checked against the CA in `ca`, as `user` with `password`.
    pub fn tls(url: impl Into<String>, ca: impl Into<PathBuf>, user: &str, password: &str) -> Self {
        Self {
            url: url.into(),
            user: Some(user.to_string()),
            password: Some(password.to_string()),
            ca: Some(ca.into()),
            client_cert: None,
            client_key: None,
            insecure_plaintext: false,
        }
    }

    /// The environment variables that give a service these settings (for spawning one).
    pub fn to_env(&self) -> Vec<(&'static str, String)> {
        let path = |p: &Option<PathBuf>| p.as_deref().map(|p| p.display().to_string());
        let mut env = vec![("PEDIGREE_REDIS_URL", self.url.clone())];
        let optional = [
            ("PEDIGREE_REDIS_USER", self.user.clone()),
            ("PEDIGREE_REDIS_PASSWORD", self.password.clone()),
            ("PEDIGREE_REDIS_CA", path(&self.ca)),
            ("PEDIGREE_REDIS_CLIENT_CERT", path(&self.client_cert)),
            ("PEDIGREE_REDIS_CLIENT_KEY", path(&self.client_key)),
        ];
        env.extend(optional.into_iter().filter_map(|(k, v)| v.map(|v| (k, v))));
        if self.insecure_plaintext {
            env.push(("PEDIGREE_REDIS_INSECURE_PLAINTEXT", "1".to_string()));
        }
        env
    }

    /// Whether the connection is plaintext (allowed only with `insecure_plaintext`).
    pub fn is_plaintext(&self) -> bool {
        !self.url.starts_with("rediss://")
    }

    /// Where and as whom, for messages: scheme, host, port, database and user, never the password.
    pub fn target(&self) -> String {
        match self.url.as_str().into_connection_info() {
            Ok(info) => {
                let user = self
                    .user
                    .as_deref()
                    .or(info.redis_settings().username())
                    .unwrap_or("default");
                let db = info.redis_settings().db();
                match info.addr() {
                    ConnectionAddr::TcpTls { host, port, .. } => format!("rediss://{host}:{port}/{db} as '{user}'"),
                    ConnectionAddr::Tcp(host, port) => format!("redis://{host}:{port}/{db} as '{user}'"),
                    other => format!("{other} as '{user}'"),
                }
            }
            Err(_) => "an unparsable redis url".to_string(),
        }
    }

    /// The client these settings describe; refuses a plaintext URL without `insecure_plaintext`, and TLS settings
    /// with a plaintext URL (they would be ignored).
    pub fn client(&self) -> Result<redis::Client> {
        let info = self.connection_info()?;
        match info.addr() {
            ConnectionAddr::TcpTls { insecure: true, .. } => Err(StoreError::Config(
                "the redis url asks not to check the server's certificate (#insecure): refused".into(),
            )),
            ConnectionAddr::TcpTls { .. } => {
                install_crypto_provider();
                Ok(redis::Client::build_with_tls(info, self.certificates()?)?)
            }
            _ if !self.insecure_plaintext => Err(StoreError::Config(format!(
                "{} is plaintext: use a rediss:// url (TLS), or set --redis-insecure-plaintext \
                 (PEDIGREE_REDIS_INSECURE_PLAINTEXT=1) to accept sending passwords and data unencrypted",
                self.target()
            ))),
            _ if self.ca.is_some() || self.client_cert.is_some() => Err(StoreError::Config(format!(
                "{} is plaintext, but a CA or client certificate is set: use a rediss:// url",
                self.target()
            ))),
            _ => Ok(redis::Client::open(info)?),
        }
    }

    fn connection_info(&self) -> Result<ConnectionInfo> {
        let info = self.url.as_str().into_connection_info()?;
        let mut settings = info.redis_settings().clone().set_skip_set_lib_name();
        if let Some(user) = &self.user {
            settings = settings.set_username(user);
        }
        if let Some(password) = &self.password {
            settings = settings.set_password(password);
        }
        Ok(info.set_redis_settings(settings))
    }

    fn certificates(&self) -> Result<TlsCertificates> {
        let client_tls = match (&self.client_cert, &self.client_key) {
            (Some(cert), Some(key)) => Some(ClientTlsConfig {
                client_cert: read(cert)?,
                client_key: read(key)?,
            }),
            (None, None) => None,
            _ => {
                return Err(StoreError::Config(
                    "a redis client certificate needs its key, and a key its certificate".into(),
                ));
            }
        };
        let root_cert = self.ca.as_deref().map(read).transpose()?;
        Ok(TlsCertificates { client_tls, root_cert })
    }
}

fn read(path: &Path) -> Result<Vec<u8>> {
    std::fs::read(path).map_err(|source| StoreError::Read {
        path: path.to_path_buf(),
        source,
    })
}

/// rustls needs one process-wide crypto provider; the workspace may enable more than one (then none is the
/// default), so the store installs ring unless something installed one already.
fn install_crypto_provider() {
    if rustls::crypto::CryptoProvider::get_default().is_none() {
        // Err means another thread installed one meanwhile: fine.
        let _ = rustls::crypto::ring::default_provider().install_default();
    }
}

#[cfg(test)]
mod tests {
    use clap::{Args, Command};

    use super::*;

    fn parse(args: &[&str]) -> std::result::Result<RedisConfig, clap::Error> {
        let matches = RedisConfig::augment_args(Command::new("t")).try_get_matches_from(args)?;
        <RedisConfig as clap::FromArgMatches>::from_arg_matches(&matches)
    }

    #[test]
    fn plaintext_needs_the_explicit_setting() {
        let plain = parse(&["t", "--redis-url", "redis://127.0.0.1:6379/0"]).unwrap();
        let refused = plain.client().unwrap_err().to_string();
        assert!(refused.contains("is plaintext"), "{refused}");
        assert!(refused.contains("--redis-insecure-plaintext"), "{refused}");
        let allowed = parse(&[
            "t",
            "--redis-url",
            "redis://127.0.0.1:6379/0",
            "--redis-insecure-plaintext",
        ])
        .unwrap();
        assert!(allowed.is_plaintext());
        allowed.client().unwrap();
        let mixed = RedisConfig {
            ca: Some("/ca.pem".into()),
            ..allowed
        };
        assert!(
            mixed
                .client()
                .unwrap_err()
                .to_string()
                .contains("a CA or client certificate")
        );
    }

    #[test]
    fn tls_is_the_default_and_refuses_skipping_the_certificate_check() {
        let default = parse(&["t"]).unwrap();
        assert_eq!(default.url, "rediss://127.0.0.1:6379/0");
        assert!(!default.is_plaintext());
        default.client().unwrap();
        let insecure = parse(&["t", "--redis-url", "rediss://127.0.0.1:6379/0#insecure"]).unwrap();
        assert!(insecure.client().unwrap_err().to_string().contains("#insecure"));
    }

    #[test]
    fn a_missing_ca_file_is_named() {
        let config = parse(&["t", "--redis-ca", "/nonexistent/ca.pem"]).unwrap();
        let error = config.client().unwrap_err().to_string();
        assert!(error.contains("/nonexistent/ca.pem"), "{error}");
    }

    #[test]
    fn a_client_certificate_needs_its_key() {
        assert!(parse(&["t", "--redis-client-cert", "/c.pem"]).is_err());
        assert!(parse(&["t", "--redis-client-cert", "/c.pem", "--redis-client-key", "/k.pem"]).is_ok());
    }

    #[test]
    fn the_password_never_shows() {
        let config = RedisConfig::tls("rediss://u:urlsecret@host:6380/2", "/ca.pem", "verifier", "flagsecret");
        let shown = format!("{config:?} {}", config.target());
        assert!(!shown.contains("secret"), "{shown}");
        assert!(shown.contains("rediss://host:6380/2 as 'verifier'"), "{shown}");
    }

    #[test]
    fn env_names_are_the_flags_ones() {
        let config = RedisConfig {
            client_cert: Some("/c.pem".into()),
            client_key: Some("/k.pem".into()),
            insecure_plaintext: true,
            ..RedisConfig::tls("rediss://h:1/0", "/ca.pem", "u", "p")
        };
        let declared: Vec<String> = RedisConfig::augment_args(Command::new("t"))
            .get_arguments()
            .filter_map(|a| a.get_env().map(|e| e.to_string_lossy().into_owned()))
            .collect();
        let env = config.to_env();
        assert_eq!(env.len(), declared.len());
        for (name, _) in env {
            assert!(declared.iter().any(|d| d == name), "{name}");
        }
    }
}
