//! The dev stack's redis-server: TLS only (a certificate from a [`LocalCa`], no plaintext port), and the ACL users
//! of [`pedigree_store::acl_file`] with random passwords, plus an `admin` user for tests and operators of the dev
//! stack. Keeps no data on disk.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use anyhow::Context;
use pedigree_store::{RedisConfig, RedisUser, acl_file};

use crate::process::{free_port, wait_for_port, which};
use crate::tls::LocalCa;

/// The user with every permission (tests empty the database or forge state with it). Dev stack only.
pub const ADMIN_USER: &str = "admin";

/// Whether the server asks clients for a certificate.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ClientCerts {
    /// Server-authenticated TLS only (`--tls-auth-clients no`).
    #[default]
    NotRequired,
    /// Mutual TLS (`--tls-auth-clients yes`): clients need a certificate from the stack's CA.
    Required,
}

/// A redis-server child on a free 127.0.0.1 TLS port, killed when dropped.
pub struct Redis {
    child: Child,
    /// The TLS port (there is no plaintext one).
    pub port: u16,
    ca: LocalCa,
    passwords: BTreeMap<RedisUser, String>,
    admin_password: String,
    /// The client certificate and key every user presents when the server requires one.
    client_cert: Option<(PathBuf, PathBuf)>,
    /// How it was started, to start it again.
    command: (PathBuf, Vec<String>),
    _dir: Option<tempfile::TempDir>,
}

fn random_password() -> anyhow::Result<String> {
    let mut bytes = [0u8; 24];
    getrandom::fill(&mut bytes).map_err(|e| anyhow::anyhow!("random password: {e}"))?;
    Ok(hex::encode(bytes))
}

impl Redis {
    /// Starts one with its certificates and ACL file in a temporary folder.
    pub fn start() -> anyhow::Result<Self> {
        Self::start_with(ClientCerts::NotRequired)
    }

    /// Starts one in a temporary folder, asking clients for certificates or not.
    pub fn start_with(client_certs: ClientCerts) -> anyhow::Result<Self> {
        let dir = tempfile::tempdir().context("creating a folder for redis")?;
        let mut redis = Self::start_in(dir.path(), client_certs)?;
        redis._dir = Some(dir);
        Ok(redis)
    }

    /// Starts one with its CA, certificates and ACL file written to `dir` (kept: `ca.pem` is what clients need).
    pub fn start_in(dir: &Path, client_certs: ClientCerts) -> anyhow::Result<Self> {
        let ca = LocalCa::create(dir)?;
        let (cert, key) = ca.issue("redis", &["localhost", "127.0.0.1"])?;
        let passwords = RedisUser::ALL
            .into_iter()
            .map(|u| Ok((u, random_password()?)))
            .collect::<anyhow::Result<BTreeMap<_, _>>>()?;
        let admin_password = random_password()?;
        let mut acl = acl_file(|u| format!(">{}", passwords[&u]));
        acl.push_str(&format!("user {ADMIN_USER} on >{admin_password} ~* &* +@all\n"));
        let acl_path = dir.join("users.acl");
        std::fs::write(&acl_path, acl).with_context(|| format!("writing {}", acl_path.display()))?;
        let port = free_port();
        let bin = which("redis-server", "PEDIGREE_REDIS_SERVER");
        let auth_clients = match client_certs {
            ClientCerts::NotRequired => "no",
            ClientCerts::Required => "yes",
        };
        let path = |p: &Path| p.display().to_string();
        let args: Vec<String> = [
            "--port",
            "0",
            "--tls-port",
            &port.to_string(),
            "--bind",
            "127.0.0.1",
            "--tls-cert-file",
            &path(&cert),
            "--tls-key-file",
            &path(&key),
            "--tls-ca-cert-file",
            &path(ca.ca_path()),
            "--tls-auth-clients",
            auth_clients,
            "--aclfile",
            &path(&acl_path),
            "--save",
            "",
            "--appendonly",
            "no",
            "--maxmemory-policy",
            "noeviction",
        ]
        .into_iter()
        .map(String::from)
        .collect();
        let child = spawn(&bin, &args, port)?;
        let client_cert = match client_certs {
            ClientCerts::NotRequired => None,
            ClientCerts::Required => Some(ca.issue("client", &["localhost"])?),
        };
        Ok(Self {
            child,
            port,
            ca,
            passwords,
            admin_password,
            client_cert,
            command: (bin, args),
            _dir: None,
        })
    }

    /// Kills it (SIGKILL, as a crash would) and starts it again on the same port, empty (it keeps nothing on disk).
    pub fn restart_empty(&mut self) -> anyhow::Result<()> {
        self.kill();
        self.start_again()
    }

    /// Kills it (SIGKILL): clients see connections reset and refused until [`Redis::start_again`].
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Starts it again after [`Redis::kill`], empty.
    pub fn start_again(&mut self) -> anyhow::Result<()> {
        self.child = spawn(&self.command.0, &self.command.1, self.port)?;
        Ok(())
    }

    /// The process id of the server (to pause it with SIGSTOP, say).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// `rediss://127.0.0.1:{port}/0`, without credentials.
    pub fn url(&self) -> String {
        format!("rediss://127.0.0.1:{}/0", self.port)
    }

    /// The CA that signed the server's certificate (and client certificates).
    pub fn ca(&self) -> &LocalCa {
        &self.ca
    }

    fn config(&self, user: &str, password: &str) -> RedisConfig {
        let mut config = RedisConfig::tls(self.url(), self.ca.ca_path(), user, password);
        if let Some((cert, key)) = &self.client_cert {
            config.client_cert = Some(cert.clone());
            config.client_key = Some(key.clone());
        }
        config
    }

    /// How `user`'s service connects (TLS checked against the stack's CA, its ACL user and password).
    pub fn config_for(&self, user: RedisUser) -> RedisConfig {
        self.config(user.name(), &self.passwords[&user])
    }

    /// As the `admin` user, which may do anything (tests only).
    pub fn admin_config(&self) -> RedisConfig {
        self.config(ADMIN_USER, &self.admin_password)
    }

    /// The folder of the CA, certificates and ACL file.
    pub fn dir(&self) -> PathBuf {
        self.ca.ca_path().parent().map(Path::to_path_buf).unwrap_or_default()
    }
}

/// Starts redis-server with `args` and waits for its TLS port.
fn spawn(bin: &Path, args: &[String], port: u16) -> anyhow::Result<Child> {
    let mut child = Command::new(bin)
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .with_context(|| format!("starting {} (apt-get install redis-server)", bin.display()))?;
    wait_for_port(port, &mut child, Duration::from_secs(10))
        .context("redis-server did not start (built without TLS, or an ACL file error?)")?;
    Ok(child)
}

/// Supervised, a Redis that exits comes back empty, as a pod without a volume would.
impl crate::supervisor::Supervised for Redis {
    fn pid(&self) -> u32 {
        self.child.id()
    }

    fn exited(&mut self) -> anyhow::Result<Option<std::process::ExitStatus>> {
        Ok(self.child.try_wait()?)
    }

    fn restart(&mut self) -> anyhow::Result<()> {
        self.restart_empty()
    }

    fn stop(&mut self) {
        self.kill();
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
