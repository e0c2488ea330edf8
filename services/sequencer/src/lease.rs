//! Campaigning for a `coordination.k8s.io/v1` Lease (see [`crate::leadership`] for the design).
//!
//! Only `get`, `create` and `update` (replace) on the one named Lease are used, so RBAC can restrict every verb but
//! `create` by `resourceNames`. Updates carry the `resourceVersion` read just before: a 409 Conflict means another
//! candidate wrote first, and the attempt is lost. The Lease can be taken when it does not exist, when its
//! holderIdentity is empty (released) or ours from an earlier life of this holder, or when it expired
//! (renewTime + leaseDurationSeconds < now, by this machine's clock: clocks must agree to within the safety margin
//! for the lease to avoid overlaps; the chain's fencing does not depend on it).

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use anyhow::Context;
use k8s_openapi::api::coordination::v1::{Lease, LeaseSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{MicroTime, ObjectMeta};
use k8s_openapi::jiff::Timestamp;
use kube::api::{Api, PostParams};
use kube::config::{KubeConfigOptions, Kubeconfig};
use tokio::sync::{mpsc, oneshot, watch};
use tokio::time::Instant;

use crate::role::Role;

/// A client from `kubeconfig`, else the inferred configuration (in-cluster, $KUBECONFIG, ~/.kube/config).
pub async fn client(kubeconfig: Option<&Path>) -> anyhow::Result<kube::Client> {
    let config = match kubeconfig {
        Some(path) => {
            let file = Kubeconfig::read_from(path).with_context(|| format!("reading kubeconfig {}", path.display()))?;
            kube::Config::from_custom_kubeconfig(file, &KubeConfigOptions::default())
                .await
                .with_context(|| format!("loading kubeconfig {}", path.display()))?
        }
        None => kube::Config::infer()
            .await
            .context("inferring the kubernetes configuration")?,
    };
    kube::Client::try_from(config).context("building the kubernetes client")
}

/// A term held: its epoch and when the call that last acquired or renewed it started.
#[derive(Clone, Copy, Debug)]
struct Term {
    epoch: u64,
    renewed: Instant,
}

/// Whether a Lease held as `spec` may be taken by `me` at `now_ms` (Unix milliseconds).
pub fn available(spec: &LeaseSpec, me: &str, now_ms: i64) -> bool {
    let holder = spec.holder_identity.as_deref().unwrap_or("");
    if holder.is_empty() || holder == me {
        return true;
    }
    let Some(renewed) = spec.renew_time.as_ref().or(spec.acquire_time.as_ref()) else {
        return true;
    };
    let duration_ms = i64::from(spec.lease_duration_seconds.unwrap_or(0).max(0)) * 1000;
    renewed.0.as_millisecond() + duration_ms < now_ms
}

/// The epoch an acquisition of a Lease with `transitions` takes: one above both it and any epoch seen in the chain.
pub fn next_epoch(transitions: Option<i32>, floor: u64) -> u64 {
    u64::try_from(transitions.unwrap_or(0)).unwrap_or(0).max(floor) + 1
}

fn is_conflict(e: &kube::Error) -> bool {
    matches!(e, kube::Error::Api(s) if s.is_conflict() || s.is_already_exists())
}

/// The campaign loop's state.
pub struct Elector {
    api: Api<Lease>,
    name: String,
    holder: String,
    duration: Duration,
    margin: Duration,
    role: watch::Sender<Role>,
    floor: Arc<AtomicU64>,
}

impl Elector {
    pub fn new(
        client: kube::Client,
        namespace: &str,
        name: &str,
        holder: String,
        duration: Duration,
        role: watch::Sender<Role>,
        floor: Arc<AtomicU64>,
    ) -> Self {
        Self {
            api: Api::namespaced(client, namespace),
            name: name.to_string(),
            holder,
            duration,
            margin: duration / 5,
            role,
            floor,
        }
    }

    fn period(&self) -> Duration {
        self.duration / 3
    }

    fn until(&self, term: Term) -> Instant {
        term.renewed + self.duration - self.margin
    }

    fn spec(&self, epoch: u64, acquired: Option<MicroTime>, now: Timestamp) -> LeaseSpec {
        LeaseSpec {
            holder_identity: Some(self.holder.clone()),
            lease_duration_seconds: Some(i32::try_from(self.duration.as_secs()).unwrap_or(i32::MAX)),
            lease_transitions: Some(i32::try_from(epoch).unwrap_or(i32::MAX)),
            acquire_time: Some(acquired.unwrap_or(MicroTime(now))),
            renew_time: Some(MicroTime(now)),
            ..LeaseSpec::default()
        }
    }

    /// Campaigns until `stop`; releases the Lease if held when stopping.
    pub async fn run(self, mut step_down: mpsc::UnboundedReceiver<u64>, mut stop: oneshot::Receiver<()>) {
        let mut term: Option<Term> = None;
        let mut next_attempt = Instant::now();
        let mut last_holder = None::<String>;
        loop {
            tokio::select! {
                _ = &mut stop => break,
                Some(epoch) = step_down.recv() => {
                    if let Some(t) = term.filter(|t| t.epoch == epoch) {
                        tracing::warn!(epoch = t.epoch, "stepping down: a higher epoch sealed; releasing the lease");
                        term = None;
                        self.role.send_replace(Role::Standby);
                        self.release(t.epoch).await;
                        next_attempt = Instant::now() + self.period();
                    }
                    continue;
                }
                () = tokio::time::sleep_until(next_attempt) => {}
            }
            let started = Instant::now();
            let period = self.period();
            match term {
                None => match tokio::time::timeout(period, self.try_acquire()).await {
                    Ok(Ok(Ok(epoch))) => {
                        let t = Term {
                            epoch,
                            renewed: started,
                        };
                        term = Some(t);
                        tracing::info!(epoch, holder = %self.holder, "lease acquired: leading");
                        self.role.send_replace(Role::Leader {
                            epoch,
                            until: Some(self.until(t)),
                        });
                        next_attempt = started + period;
                    }
                    Ok(Ok(Err(holder))) => {
                        if last_holder.as_deref() != Some(holder.as_str()) {
                            tracing::info!(leader = %holder, "lease held by another sequencer: standing by");
                            last_holder = Some(holder);
                        }
                        next_attempt = started + period;
                    }
                    Ok(Err(e)) => {
                        tracing::warn!(error = %format!("{e:#}"), "lease campaign failed, retrying");
                        next_attempt = started + period;
                    }
                    Err(_) => {
                        tracing::warn!("lease campaign timed out, retrying");
                        next_attempt = Instant::now();
                    }
                },
                Some(t) => {
                    let until = self.until(t);
                    let budget = until.saturating_duration_since(started).min(period);
                    let outcome = tokio::time::timeout(budget, self.renew(t.epoch)).await;
                    let renewed_now = matches!(outcome, Ok(Ok(true)));
                    match outcome {
                        Ok(Ok(true)) => {
                            let renewed = Term { renewed: started, ..t };
                            term = Some(renewed);
                            self.role.send_replace(Role::Leader {
                                epoch: t.epoch,
                                until: Some(self.until(renewed)),
                            });
                            next_attempt = started + period;
                        }
                        Ok(Ok(false)) => {
                            tracing::warn!(epoch = t.epoch, "lease lost to another holder: standing by");
                            term = None;
                            self.role.send_replace(Role::Standby);
                            next_attempt = Instant::now() + period;
                        }
                        Ok(Err(e)) => {
                            tracing::warn!(epoch = t.epoch, error = %format!("{e:#}"), "lease renewal failed");
                            next_attempt = Instant::now() + period / 4;
                        }
                        Err(_) => {
                            tracing::warn!(epoch = t.epoch, "lease renewal timed out");
                            next_attempt = Instant::now();
                        }
                    }
                    if term.is_some() && Instant::now() >= until && !renewed_now {
                        tracing::warn!(epoch = t.epoch, "lease not renewed before its deadline: standing by");
                        term = None;
                        self.role.send_replace(Role::Standby);
                    }
                }
            }
        }
        self.role.send_replace(Role::Standby);
        if let Some(t) = term {
            self.release(t.epoch).await;
        }
    }

    /// One attempt: `Ok(epoch)` when acquired, `Err(holder)` when someone else holds it (or won the race).
    async fn try_acquire(&self) -> anyhow::Result<Result<u64, String>> {
        let now = Timestamp::now();
        let floor = self.floor.load(Ordering::SeqCst);
        let current = self.api.get_opt(&self.name).await.context("reading the lease")?;
        let Some(mut lease) = current else {
            let epoch = next_epoch(None, floor);
            let lease = Lease {
                metadata: ObjectMeta {
                    name: Some(self.name.clone()),
                    ..ObjectMeta::default()
                },
                spec: Some(self.spec(epoch, None, now)),
            };
            return match self.api.create(&PostParams::default(), &lease).await {
                Ok(_) => Ok(Ok(epoch)),
                Err(e) if is_conflict(&e) => Ok(Err("another candidate (created first)".into())),
                Err(e) => Err(e).context("creating the lease"),
            };
        };
        let spec = lease.spec.clone().unwrap_or_default();
        if !available(&spec, &self.holder, now.as_millisecond()) {
            return Ok(Err(spec.holder_identity.unwrap_or_default()));
        }
        let epoch = next_epoch(spec.lease_transitions, floor);
        lease.spec = Some(self.spec(epoch, None, now));
        match self.api.replace(&self.name, &PostParams::default(), &lease).await {
            Ok(_) => Ok(Ok(epoch)),
            Err(e) if is_conflict(&e) => Ok(Err("another candidate (updated first)".into())),
            Err(e) => Err(e).context("taking the lease"),
        }
    }

    /// `Ok(true)` when renewed, `Ok(false)` when the Lease is no longer this term's.
    async fn renew(&self, epoch: u64) -> anyhow::Result<bool> {
        let Some(mut lease) = self.api.get_opt(&self.name).await.context("reading the lease")? else {
            return Ok(false);
        };
        let spec = lease.spec.clone().unwrap_or_default();
        if !self.holds(&spec, epoch) {
            return Ok(false);
        }
        lease.spec = Some(self.spec(epoch, spec.acquire_time, Timestamp::now()));
        // A conflict is an error, not a loss: the next attempt reads the Lease again and tells.
        self.api
            .replace(&self.name, &PostParams::default(), &lease)
            .await
            .context("renewing the lease")?;
        Ok(true)
    }

    fn holds(&self, spec: &LeaseSpec, epoch: u64) -> bool {
        spec.holder_identity.as_deref() == Some(self.holder.as_str())
            && spec.lease_transitions.and_then(|t| u64::try_from(t).ok()) == Some(epoch)
    }

    /// Clears holderIdentity (keeping leaseTransitions) if the Lease is still this term's.
    async fn release(&self, epoch: u64) {
        let result = async {
            let Some(mut lease) = self.api.get_opt(&self.name).await? else {
                return Ok(false);
            };
            let mut spec = lease.spec.clone().unwrap_or_default();
            if !self.holds(&spec, epoch) {
                return Ok(false);
            }
            spec.holder_identity = None;
            lease.spec = Some(spec);
            self.api.replace(&self.name, &PostParams::default(), &lease).await?;
            Ok::<_, kube::Error>(true)
        };
        match tokio::time::timeout(self.period().max(Duration::from_secs(1)), result).await {
            Ok(Ok(true)) => tracing::info!(epoch, "lease released"),
            Ok(Ok(false)) => tracing::info!(epoch, "lease already taken by another holder, nothing to release"),
            Ok(Err(e)) => tracing::warn!(epoch, error = %e, "releasing the lease failed; it will expire"),
            Err(_) => tracing::warn!(epoch, "releasing the lease timed out; it will expire"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(holder: Option<&str>, renewed_ms: i64, duration: i32) -> LeaseSpec {
        LeaseSpec {
            holder_identity: holder.map(str::to_string),
            renew_time: Some(MicroTime(Timestamp::from_millisecond(renewed_ms).unwrap())),
            lease_duration_seconds: Some(duration),
            lease_transitions: Some(4),
            ..LeaseSpec::default()
        }
    }

    #[test]
    fn a_lease_is_available_when_released_expired_or_ours() {
        let now = 1_000_000;
        assert!(available(&spec(None, now, 15), "a", now));
        assert!(available(&spec(Some(""), now, 15), "a", now));
        assert!(available(&spec(Some("a"), now, 15), "a", now));
        assert!(!available(&spec(Some("b"), now - 14_000, 15), "a", now));
        assert!(available(&spec(Some("b"), now - 15_001, 15), "a", now));
        assert!(available(&LeaseSpec::default(), "a", now));
    }

    #[test]
    fn epochs_start_at_one_and_stay_above_the_chain() {
        assert_eq!(next_epoch(None, 0), 1);
        assert_eq!(next_epoch(Some(0), 0), 1);
        assert_eq!(next_epoch(Some(4), 0), 5);
        assert_eq!(next_epoch(Some(1), 7), 8);
        assert_eq!(next_epoch(Some(-3), 0), 1);
    }
}
