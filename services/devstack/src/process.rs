//! Child processes: the broker, and what the Redis child shares with it (free ports, finding binaries).

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};

/// A free TCP port on 127.0.0.1 (free when asked; the caller binds it soon after).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("binding 127.0.0.1:0")
}

/// Waits until something accepts connections on 127.0.0.1:`port`.
pub fn wait_for_port(port: u16, child: &mut Child, timeout: Duration) -> anyhow::Result<()> {
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let started = Instant::now();
    while started.elapsed() < timeout {
        if TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok() {
            return Ok(());
        }
        if let Some(status) = child.try_wait()? {
            bail!("process exited with {status} before listening on {addr}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    bail!("nothing listens on {addr} after {timeout:?}")
}

pub(crate) fn which(name: &str, env: &str) -> PathBuf {
    if let Some(p) = std::env::var_os(env) {
        return PathBuf::from(p);
    }
    let in_path = std::env::var_os("PATH")
        .into_iter()
        .flat_map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .map(|d| d.join(name))
        .find(|p| p.is_file());
    let cargo_home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| Path::new(&h).join(".cargo")));
    in_path
        .or_else(|| cargo_home.map(|c| c.join("bin").join(name)).filter(|p| p.is_file()))
        .unwrap_or_else(|| PathBuf::from(name))
}

/// Sends `signal` (`STOP`, `CONT`, `KILL`, `TERM`...) to process `pid` with kill(1): pausing a dependency as a
/// hung host would, without unsafe code.
pub fn signal(pid: u32, signal: &str) -> anyhow::Result<()> {
    let out = Command::new("kill")
        .arg(format!("-{signal}"))
        .arg(pid.to_string())
        .stdin(Stdio::null())
        .output()
        .context("running kill")?;
    if !out.status.success() {
        let why = String::from_utf8_lossy(&out.stderr);
        bail!("kill -{signal} {pid} exited with {}: {}", out.status, why.trim());
    }
    Ok(())
}

/// Where the broker keeps its data.
#[derive(Clone, Debug)]
pub enum Storage {
    Memory,
    /// A SQLite file: survives broker restarts.
    Sqlite(PathBuf),
}

/// A tansu (Kafka-compatible) broker child on a free port.
pub struct Broker {
    child: Child,
    pub port: u16,
    storage: Storage,
    /// Whether clients must authenticate (SASL/SCRAM).
    authentication: bool,
}

impl Broker {
    pub fn start(storage: Storage) -> anyhow::Result<Self> {
        Self::start_on(free_port(), storage)
    }

    /// Starts on a given port (to restart a broker where clients expect it).
    pub fn start_on(port: u16, storage: Storage) -> anyhow::Result<Self> {
        Self::spawn(port, storage, false)
    }

    /// A broker that requires SASL/SCRAM authentication (tansu's `--authentication`; its listener stays plaintext:
    /// tansu 0.6.0 has no TLS listener), with `users` (name, password) as SCRAM-SHA-512 users, kept in the SQLite
    /// file `db`. tansu's `user create` does not authenticate itself, so the users are made before authentication is
    /// switched on.
    pub fn start_scram(db: &Path, users: &[(&str, &str)]) -> anyhow::Result<Self> {
        let port = free_port();
        let mut open = Self::spawn(port, Storage::Sqlite(db.to_path_buf()), false)?;
        let bin = which("tansu", "PEDIGREE_TANSU");
        for (name, password) in users {
            let status = Command::new(&bin)
                .args(["user", "create", "--broker", &format!("tcp://127.0.0.1:{port}")])
                .args(["--mechanism", "scram512", name, password])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .with_context(|| format!("running {} user create", bin.display()))?;
            if !status.success() {
                bail!("tansu user create {name} exited with {status}");
            }
        }
        open.kill();
        Self::spawn(port, Storage::Sqlite(db.to_path_buf()), true)
    }

    fn spawn(port: u16, storage: Storage, authentication: bool) -> anyhow::Result<Self> {
        let url = format!("tcp://127.0.0.1:{port}");
        let bin = which("tansu", "PEDIGREE_TANSU");
        let mut command = Command::new(&bin);
        // tansu resolves a sqlite path against its working directory (an absolute one gets mangled), so run it in
        // the file's folder with a relative name.
        let engine = match &storage {
            Storage::Memory => "memory://tansu/".to_string(),
            Storage::Sqlite(path) => {
                let dir = path
                    .parent()
                    .filter(|d| !d.as_os_str().is_empty())
                    .unwrap_or(Path::new("."));
                command.current_dir(dir);
                let file = path
                    .file_name()
                    .map(|f| f.to_string_lossy().into_owned())
                    .unwrap_or_default();
                format!("sqlite://{file}")
            }
        };
        let mut child = command
            .args([
                "broker",
                "--listener-url",
                &url,
                "--advertised-listener-url",
                &url,
                "--storage-engine",
                &engine,
            ])
            .args(authentication.then_some("--authentication"))
            // Its output goes nowhere, but at `info` (inherited from a RUST_LOG meant for Pedigree) tansu formats a
            // line per request: a quarter of its CPU under load, taken from the services it shares the machine with.
            .env(
                "RUST_LOG",
                std::env::var("PEDIGREE_TANSU_LOG").unwrap_or_else(|_| "warn".to_string()),
            )
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .with_context(|| format!("starting {} (cargo install tansu, see README)", bin.display()))?;
        wait_for_port(port, &mut child, Duration::from_secs(30))?;
        Ok(Self {
            child,
            port,
            storage,
            authentication,
        })
    }

    pub fn brokers(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// Stops the broker (as a crash would: SIGKILL).
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// The broker's process id (to pause it with SIGSTOP, say).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Starts it again on the same port and storage.
    pub fn restart(&mut self) -> anyhow::Result<()> {
        self.kill();
        *self = Self::spawn(self.port, self.storage.clone(), self.authentication)?;
        Ok(())
    }
}

impl crate::supervisor::Supervised for Broker {
    fn pid(&self) -> u32 {
        self.child.id()
    }

    fn exited(&mut self) -> anyhow::Result<Option<std::process::ExitStatus>> {
        Ok(self.child.try_wait()?)
    }

    fn restart(&mut self) -> anyhow::Result<()> {
        Broker::restart(self)
    }

    fn stop(&mut self) {
        self.kill();
    }
}

impl Drop for Broker {
    fn drop(&mut self) {
        self.kill();
    }
}
