//! Who may seal, and with which epoch.
//!
//! # Design
//!
//! A sequencer seals only while it holds a *term*: an epoch and, for a lease, a deadline. Two sources of terms:
//!
//! - `static` (`PEDIGREE_LEADERSHIP=static`, the default, outside Kubernetes): always leader, with the fixed epoch
//!   `PEDIGREE_STATIC_EPOCH` (default 1) and no deadline.
//! - `lease` ([`crate::lease`]): campaign for a `coordination.k8s.io/v1` Lease. The epoch of a term is the Lease's
//!   `leaseTransitions` after the acquisition, which every acquisition increments (to above any epoch already seen
//!   in the chain, so a deleted and recreated Lease cannot hand out an old epoch again). The leader renews every
//!   third of the lease duration; its deadline is the start of the last successful acquire/renew call plus the
//!   duration minus a safety margin (a fifth of it), and it stops sealing at that deadline whatever the renewal is
//!   doing. On shutdown it releases the Lease (empty holderIdentity, leaseTransitions kept) so a standby takes over
//!   at once.
//!
//! A lease does not fence anything by itself (a paused leader wakes up believing it still leads), so safety does not
//! rest on it: the blocks topic decides ([`crate::chain`]). Every block carries its sealer's epoch; a block is
//! canonical only if it extends the canonical tip and its epoch is not below the tip's; a leader reads its block back
//! and writes Redis (fenced on `head`) only once it is canonical; a sequencer that sees a higher epoch at the tip
//! steps down. Two sequencers that both believe they lead therefore waste work, never fork the chain. The lease only
//! makes that rare and lets a standby take over quickly.
//!
//! A standby keeps its gRPC health SERVING: it is healthy, just not leading. Transitions are logged at `info`.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use anyhow::Context;
use tokio::sync::{mpsc, oneshot, watch};
use tokio::task::JoinHandle;

use crate::config::{LeadershipConfig, LeadershipMode};
use crate::lease::Elector;
use crate::role::Role;

/// The running leadership: roles to watch, and the way to step down and to shut down.
pub struct Leadership {
    role: watch::Receiver<Role>,
    /// Highest epoch seen in the chain: an acquisition takes an epoch above it.
    floor: Arc<AtomicU64>,
    step_down: Option<mpsc::UnboundedSender<u64>>,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
    /// Keeps a static role's channel open.
    _static: Option<watch::Sender<Role>>,
}

impl Leadership {
    /// Starts leadership as configured; for a lease, the Kubernetes client is set up here (and fails here).
    pub async fn start(config: &LeadershipConfig) -> anyhow::Result<Self> {
        let floor = Arc::new(AtomicU64::new(0));
        match config.leadership {
            LeadershipMode::Static => {
                let epoch = config.static_epoch.max(1);
                tracing::info!(epoch, "static leadership: leading");
                let (tx, rx) = watch::channel(Role::Leader { epoch, until: None });
                Ok(Self {
                    role: rx,
                    floor,
                    step_down: None,
                    stop: None,
                    task: None,
                    _static: Some(tx),
                })
            }
            LeadershipMode::Lease => {
                let duration = Duration::from_secs(config.lease_duration_secs.max(1));
                let client = crate::lease::client(config.kubeconfig.as_deref())
                    .await
                    .context("setting up the kubernetes client for lease leadership")?;
                let holder = config.holder();
                tracing::info!(
                    lease = %format!("{}/{}", config.lease_namespace, config.lease_name),
                    %holder,
                    ?duration,
                    "lease leadership: campaigning"
                );
                let (role_tx, role_rx) = watch::channel(Role::Standby);
                let (step_tx, step_rx) = mpsc::unbounded_channel();
                let (stop_tx, stop_rx) = oneshot::channel();
                let elector = Elector::new(
                    client,
                    &config.lease_namespace,
                    &config.lease_name,
                    holder,
                    duration,
                    role_tx,
                    floor.clone(),
                );
                let task = tokio::spawn(elector.run(step_rx, stop_rx));
                Ok(Self {
                    role: role_rx,
                    floor,
                    step_down: Some(step_tx),
                    stop: Some(stop_tx),
                    task: Some(task),
                    _static: None,
                })
            }
        }
    }

    pub fn subscribe(&self) -> watch::Receiver<Role> {
        self.role.clone()
    }

    /// Records an epoch seen in the chain: later acquisitions take a higher one.
    pub fn observe_epoch(&self, epoch: u64) {
        self.floor.fetch_max(epoch, Ordering::SeqCst);
    }

    /// Gives up the term `epoch` (superseded by a higher epoch in the chain); a lease is released and campaigned
    /// for again. Static leadership cannot campaign: it stands by.
    pub fn step_down(&self, epoch: u64) {
        match &self.step_down {
            Some(tx) => {
                let _ = tx.send(epoch);
            }
            None => tracing::warn!(
                epoch,
                "static leadership superseded by a higher epoch: standing by for good"
            ),
        }
    }

    /// Stops campaigning and releases the lease if held (waits at most a few seconds for the API server).
    pub async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take()
            && tokio::time::timeout(Duration::from_secs(5), task).await.is_err()
        {
            tracing::warn!("lease release did not finish in time");
        }
    }
}

impl Drop for Leadership {
    fn drop(&mut self) {
        if let Some(task) = &self.task {
            task.abort();
        }
    }
}
