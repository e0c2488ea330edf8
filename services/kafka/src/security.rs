//! How clients authenticate to the cluster and protect the connection: [`KafkaSecurity`], flattened into the
//! settings of every service that talks to Kafka, checked and turned into librdkafka properties here (and set on
//! every client in `client_config.rs`).
//!
//! librdkafka is built with OpenSSL (TLS, SASL/PLAIN, SASL/SCRAM); GSSAPI (Kerberos) and OAUTHBEARER over OIDC are
//! not built in.

use std::fmt;
use std::path::{Path, PathBuf};

use crate::error::{KafkaError, Result};

/// `security.protocol`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum SecurityProtocol {
    /// No TLS, no authentication (librdkafka's default; a dev broker only).
    #[default]
    Plaintext,
    /// TLS, optionally with a client certificate (mutual TLS).
    Ssl,
    /// SASL authentication without TLS: the password crosses the network in the clear with PLAIN.
    #[value(name = "sasl_plaintext", alias = "sasl-plaintext")]
    SaslPlaintext,
    /// SASL authentication over TLS.
    #[value(name = "sasl_ssl", alias = "sasl-ssl")]
    SaslSsl,
}

impl SecurityProtocol {
    fn property(self) -> &'static str {
        match self {
            SecurityProtocol::Plaintext => "plaintext",
            SecurityProtocol::Ssl => "ssl",
            SecurityProtocol::SaslPlaintext => "sasl_plaintext",
            SecurityProtocol::SaslSsl => "sasl_ssl",
        }
    }

    fn tls(self) -> bool {
        matches!(self, SecurityProtocol::Ssl | SecurityProtocol::SaslSsl)
    }

    fn sasl(self) -> bool {
        matches!(self, SecurityProtocol::SaslPlaintext | SecurityProtocol::SaslSsl)
    }
}

/// `sasl.mechanism`: the ones this build of librdkafka supports with a username and password.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum SaslMechanism {
    #[value(name = "PLAIN")]
    Plain,
    #[value(name = "SCRAM-SHA-256")]
    ScramSha256,
    #[value(name = "SCRAM-SHA-512")]
    ScramSha512,
}

impl SaslMechanism {
    fn property(self) -> &'static str {
        match self {
            SaslMechanism::Plain => "PLAIN",
            SaslMechanism::ScramSha256 => "SCRAM-SHA-256",
            SaslMechanism::ScramSha512 => "SCRAM-SHA-512",
        }
    }
}

/// Kafka security settings (flatten into a service's clap settings with `#[command(flatten)]`).
#[derive(Clone, Default, PartialEq, Eq, clap::Args)]
pub struct KafkaSecurity {
    /// security.protocol: plaintext, ssl, sasl_plaintext or sasl_ssl.
    #[arg(
        long = "kafka-security-protocol",
        env = "PEDIGREE_KAFKA_SECURITY_PROTOCOL",
        value_enum,
        default_value_t
    )]
    pub protocol: SecurityProtocol,
    /// ssl.ca.location: PEM bundle of the CA(s) the brokers' certificates are checked against (default: the
    /// system's roots).
    #[arg(long = "kafka-ssl-ca", env = "PEDIGREE_KAFKA_SSL_CA")]
    pub ssl_ca: Option<PathBuf>,
    /// ssl.certificate.location: PEM client certificate, for brokers that authenticate clients by TLS.
    #[arg(
        long = "kafka-ssl-certificate",
        env = "PEDIGREE_KAFKA_SSL_CERTIFICATE",
        requires = "ssl_key"
    )]
    pub ssl_certificate: Option<PathBuf>,
    /// ssl.key.location: PEM private key of --kafka-ssl-certificate.
    #[arg(long = "kafka-ssl-key", env = "PEDIGREE_KAFKA_SSL_KEY", requires = "ssl_certificate")]
    pub ssl_key: Option<PathBuf>,
    /// ssl.key.password: passphrase of an encrypted --kafka-ssl-key.
    #[arg(
        long = "kafka-ssl-key-password",
        env = "PEDIGREE_KAFKA_SSL_KEY_PASSWORD",
        hide_env_values = true
    )]
    pub ssl_key_password: Option<String>,
    /// sasl.mechanism: PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512 (needed with the sasl_* protocols).
    #[arg(long = "kafka-sasl-mechanism", env = "PEDIGREE_KAFKA_SASL_MECHANISM", value_enum)]
    pub sasl_mechanism: Option<SaslMechanism>,
    /// sasl.username.
    #[arg(long = "kafka-sasl-username", env = "PEDIGREE_KAFKA_SASL_USERNAME")]
    pub sasl_username: Option<String>,
    /// sasl.password (or --kafka-sasl-password-file).
    #[arg(
        long = "kafka-sasl-password",
        env = "PEDIGREE_KAFKA_SASL_PASSWORD",
        hide_env_values = true,
        conflicts_with = "sasl_password_file"
    )]
    pub sasl_password: Option<String>,
    /// File holding sasl.password (a mounted Secret; one trailing newline is ignored).
    #[arg(long = "kafka-sasl-password-file", env = "PEDIGREE_KAFKA_SASL_PASSWORD_FILE")]
    pub sasl_password_file: Option<PathBuf>,
    /// More librdkafka properties, `ssl.*` or `sasl.*` only, as KEY=VALUE (repeat the flag, or separate them with
    /// `;` in the environment variable), e.g. `ssl.endpoint.identification.algorithm=none`.
    #[arg(long = "kafka-property", env = "PEDIGREE_KAFKA_PROPERTIES", value_delimiter = ';', value_parser = parse_property)]
    pub properties: Vec<(String, String)>,
}

/// Whether a librdkafka property holds a secret (never printed).
pub(crate) fn is_secret(key: &str) -> bool {
    key.contains("password") || key.contains("secret") || key.ends_with(".pem") || key.ends_with("key")
}

impl fmt::Debug for KafkaSecurity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let redacted = |s: &Option<String>| s.as_ref().map(|_| "<redacted>");
        let properties: Vec<(&str, &str)> = self
            .properties
            .iter()
            .map(|(k, v)| (k.as_str(), if is_secret(k) { "<redacted>" } else { v.as_str() }))
            .collect();
        f.debug_struct("KafkaSecurity")
            .field("protocol", &self.protocol)
            .field("ssl_ca", &self.ssl_ca)
            .field("ssl_certificate", &self.ssl_certificate)
            .field("ssl_key", &self.ssl_key)
            .field("ssl_key_password", &redacted(&self.ssl_key_password))
            .field("sasl_mechanism", &self.sasl_mechanism)
            .field("sasl_username", &self.sasl_username)
            .field("sasl_password", &redacted(&self.sasl_password))
            .field("sasl_password_file", &self.sasl_password_file)
            .field("properties", &properties)
            .finish()
    }
}

fn parse_property(raw: &str) -> std::result::Result<(String, String), String> {
    let (key, value) = raw.split_once('=').ok_or_else(|| format!("'{raw}' is not KEY=VALUE"))?;
    let key = key.trim();
    if !(key.starts_with("ssl.") || key.starts_with("sasl.")) {
        return Err(format!(
            "'{key}': only ssl.* and sasl.* properties may be set here (the rest is tuned in pedigree-kafka)"
        ));
    }
    Ok((key.to_string(), value.to_string()))
}

fn invalid(reason: impl Into<String>) -> KafkaError {
    KafkaError::Security(reason.into())
}

fn path(p: &Path) -> String {
    p.display().to_string()
}

impl KafkaSecurity {
    /// TLS, the brokers checked against `ca`.
    pub fn tls(ca: impl Into<PathBuf>) -> Self {
        Self {
            protocol: SecurityProtocol::Ssl,
            ssl_ca: Some(ca.into()),
            ..Self::default()
        }
    }

    /// The librdkafka properties these settings stand for, checked for consistency (TLS files only with a TLS
    /// protocol, SASL credentials only and always with a SASL one; every extra key `ssl.*`/`sasl.*`, none twice).
    /// Reads --kafka-sasl-password-file.
    pub fn properties(&self) -> Result<Vec<(String, String)>> {
        let p = self.protocol;
        let mut out: Vec<(String, String)> = vec![("security.protocol".into(), p.property().into())];
        let mut set = |key: &str, value: String| out.push((key.to_string(), value));
        let tls_files = [
            ("ssl.ca.location", self.ssl_ca.as_deref().map(path)),
            ("ssl.certificate.location", self.ssl_certificate.as_deref().map(path)),
            ("ssl.key.location", self.ssl_key.as_deref().map(path)),
            ("ssl.key.password", self.ssl_key_password.clone()),
        ];
        for (key, value) in tls_files {
            if let Some(value) = value {
                if !p.tls() {
                    return Err(invalid(format!(
                        "{key} is set but security.protocol {} has no TLS",
                        p.property()
                    )));
                }
                set(key, value);
            }
        }
        let password = match (&self.sasl_password, &self.sasl_password_file) {
            (Some(password), _) => Some(password.clone()),
            (None, Some(file)) => Some(read_secret(file)?),
            (None, None) => None,
        };
        if p.sasl() {
            let mechanism = self
                .sasl_mechanism
                .ok_or_else(|| invalid(format!("security.protocol {} needs sasl.mechanism", p.property())))?;
            let username = self
                .sasl_username
                .clone()
                .ok_or_else(|| invalid("sasl.username is not set"))?;
            let password = password.ok_or_else(|| invalid("sasl.password is not set"))?;
            set("sasl.mechanism", mechanism.property().into());
            set("sasl.username", username);
            set("sasl.password", password);
        } else if self.sasl_mechanism.is_some() || self.sasl_username.is_some() || password.is_some() {
            return Err(invalid(format!(
                "SASL credentials are set but security.protocol {} is not sasl_ssl or sasl_plaintext",
                p.property()
            )));
        }
        for (key, value) in &self.properties {
            parse_property(&format!("{key}={value}")).map_err(invalid)?;
            if out.iter().any(|(k, _)| k == key) {
                return Err(invalid(format!("{key} is set twice")));
            }
            out.push((key.clone(), value.clone()));
        }
        Ok(out)
    }
}

fn read_secret(file: &Path) -> Result<String> {
    let raw = std::fs::read_to_string(file)
        .map_err(|e| invalid(format!("reading sasl.password from {}: {e}", file.display())))?;
    let secret = raw.strip_suffix('\n').unwrap_or(&raw);
    Ok(secret.strip_suffix('\r').unwrap_or(secret).to_string())
}

#[cfg(test)]
mod tests {
    use clap::{Args, Command, FromArgMatches};

    use super::*;

    fn parse(args: &[&str]) -> std::result::Result<KafkaSecurity, clap::Error> {
        let mut all = vec!["t"];
        all.extend_from_slice(args);
        let matches = KafkaSecurity::augment_args(Command::new("t")).try_get_matches_from(all)?;
        KafkaSecurity::from_arg_matches(&matches)
    }

    fn properties(args: &[&str]) -> Result<Vec<(String, String)>> {
        parse(args).expect("flags parse").properties()
    }

    fn get<'a>(props: &'a [(String, String)], key: &str) -> Option<&'a str> {
        props.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
    }

    #[test]
    fn plaintext_by_default() {
        assert_eq!(
            properties(&[]).unwrap(),
            vec![("security.protocol".into(), "plaintext".into())]
        );
    }

    #[test]
    fn sasl_over_tls_with_scram() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("password");
        std::fs::write(&file, "s3cret\n").unwrap();
        let props = properties(&[
            "--kafka-security-protocol",
            "sasl_ssl",
            "--kafka-ssl-ca",
            "/etc/kafka/ca.pem",
            "--kafka-sasl-mechanism",
            "SCRAM-SHA-512",
            "--kafka-sasl-username",
            "sequencer",
            "--kafka-sasl-password-file",
            file.to_str().unwrap(),
            "--kafka-property",
            "ssl.endpoint.identification.algorithm=https",
        ])
        .unwrap();
        assert_eq!(get(&props, "security.protocol"), Some("sasl_ssl"));
        assert_eq!(get(&props, "ssl.ca.location"), Some("/etc/kafka/ca.pem"));
        assert_eq!(get(&props, "sasl.mechanism"), Some("SCRAM-SHA-512"));
        assert_eq!(get(&props, "sasl.username"), Some("sequencer"));
        assert_eq!(get(&props, "sasl.password"), Some("s3cret"));
        assert_eq!(get(&props, "ssl.endpoint.identification.algorithm"), Some("https"));
    }

    #[test]
    fn inconsistent_settings_are_refused() {
        let no_tls = properties(&["--kafka-ssl-ca", "/ca.pem"]).unwrap_err().to_string();
        assert!(no_tls.contains("has no TLS"), "{no_tls}");
        let no_mechanism = properties(&["--kafka-security-protocol", "sasl-ssl"])
            .unwrap_err()
            .to_string();
        assert!(no_mechanism.contains("needs sasl.mechanism"), "{no_mechanism}");
        let no_password = properties(&[
            "--kafka-security-protocol",
            "sasl_plaintext",
            "--kafka-sasl-mechanism",
            "PLAIN",
            "--kafka-sasl-username",
            "u",
        ])
        .unwrap_err();
        assert!(no_password.to_string().contains("sasl.password"));
        let stray = properties(&["--kafka-sasl-username", "u"]).unwrap_err().to_string();
        assert!(stray.contains("SASL credentials are set"), "{stray}");
        let twice = properties(&[
            "--kafka-security-protocol",
            "ssl",
            "--kafka-ssl-ca",
            "/a",
            "--kafka-property",
            "ssl.ca.location=/b",
        ]);
        assert!(twice.unwrap_err().to_string().contains("set twice"));
    }

    #[test]
    fn only_ssl_and_sasl_properties_pass_through() {
        let error = parse(&["--kafka-property", "enable.idempotence=false"])
            .unwrap_err()
            .to_string();
        assert!(error.contains("only ssl.* and sasl.*"), "{error}");
        assert!(parse(&["--kafka-property", "nonsense"]).is_err());
        let many = parse(&["--kafka-property", "ssl.a=1;sasl.b=2"]).unwrap();
        assert_eq!(many.properties.len(), 2);
    }

    #[test]
    fn secrets_never_show() {
        let security = KafkaSecurity {
            ssl_key_password: Some("keysecret".into()),
            sasl_password: Some("saslsecret".into()),
            properties: vec![("sasl.oauthbearer.client.secret".into(), "oauthsecret".into())],
            ..KafkaSecurity::default()
        };
        let shown = format!("{security:?}");
        assert!(!shown.contains("keysecret") && !shown.contains("saslsecret") && !shown.contains("oauthsecret"));
    }
}
