//! One of Pedigree's service binaries (custody, sequencer, verifier) as a child process: started with its
//! environment, logging to a file (appended across restarts), ready once it listens on its port.

use std::fs::OpenOptions;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};

use crate::process::wait_for_port;
use crate::supervisor::Supervised;

/// How long a service may take to stop after SIGTERM before it is killed.
const STOP_GRACE: Duration = Duration::from_secs(10);
/// How long a service may take to listen after it starts.
const START_TIMEOUT: Duration = Duration::from_secs(60);

/// A service binary to run.
#[derive(Clone, Debug)]
pub struct ServiceSpec {
    /// The binary's file name (`pedigree-custody`, ...), found next to the running executable or in `bin_dir`.
    pub binary: String,
    pub bin_dir: PathBuf,
    pub env: Vec<(String, String)>,
    pub log: PathBuf,
    /// The port it listens on once ready (on 127.0.0.1).
    pub port: u16,
}

/// A running service child.
pub struct ServiceProcess {
    spec: ServiceSpec,
    child: Child,
}

/// The folder of the running executable, where cargo puts every binary of the workspace; for a test binary
/// (`target/debug/deps/x-hash`), its parent.
pub fn binaries_dir() -> anyhow::Result<PathBuf> {
    let exe = std::env::current_exe().context("finding the running executable")?;
    let dir = exe.parent().context("the executable has no folder")?;
    Ok(if dir.ends_with("deps") {
        dir.parent().unwrap_or(dir).to_path_buf()
    } else {
        dir.to_path_buf()
    })
}

impl ServiceProcess {
    /// Starts the service and waits until it listens.
    pub fn start(spec: ServiceSpec) -> anyhow::Result<Self> {
        let child = spawn(&spec)?;
        let mut service = Self { spec, child };
        service.wait_ready()?;
        Ok(service)
    }

    fn wait_ready(&mut self) -> anyhow::Result<()> {
        wait_for_port(self.spec.port, &mut self.child, START_TIMEOUT)
            .with_context(|| format!("{} did not start; see {}", self.spec.binary, self.spec.log.display()))
    }
}

fn binary_path(spec: &ServiceSpec) -> anyhow::Result<PathBuf> {
    let path = spec.bin_dir.join(&spec.binary);
    if !path.is_file() {
        bail!("{} not found (cargo build --bins)", path.display());
    }
    Ok(path)
}

fn spawn(spec: &ServiceSpec) -> anyhow::Result<Child> {
    let mut log = OpenOptions::new()
        .create(true)
        .append(true)
        .open(&spec.log)
        .with_context(|| format!("opening {}", spec.log.display()))?;
    let _ = writeln!(log, "--- starting {} ---", spec.binary);
    Command::new(binary_path(spec)?)
        .envs(spec.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .stdin(Stdio::null())
        .stdout(log.try_clone()?)
        .stderr(log)
        .spawn()
        .with_context(|| format!("starting {}", spec.binary))
}

/// Stops `child` with SIGTERM, then SIGKILL after `grace`.
pub(crate) fn terminate(child: &mut Child, grace: Duration) {
    if let Ok(Some(_)) = child.try_wait() {
        return;
    }
    let _ = crate::process::signal(child.id(), "TERM");
    let deadline = Instant::now() + grace;
    while Instant::now() < deadline {
        if let Ok(Some(_)) = child.try_wait() {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = child.kill();
    let _ = child.wait();
}

impl Supervised for ServiceProcess {
    fn pid(&self) -> u32 {
        self.child.id()
    }

    fn exited(&mut self) -> anyhow::Result<Option<ExitStatus>> {
        Ok(self.child.try_wait()?)
    }

    fn restart(&mut self) -> anyhow::Result<()> {
        terminate(&mut self.child, STOP_GRACE);
        self.child = spawn(&self.spec)?;
        self.wait_ready()
    }

    fn stop(&mut self) {
        terminate(&mut self.child, STOP_GRACE);
    }
}

impl Drop for ServiceProcess {
    fn drop(&mut self) {
        terminate(&mut self.child, STOP_GRACE);
    }
}

/// The log of a service, for error messages.
pub fn log_path(dir: &Path, binary: &str) -> PathBuf {
    dir.join(format!("{binary}.log"))
}
