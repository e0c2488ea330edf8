//! Whether the verifier may be sent traffic: Redis answers and holds the ledger state, at most the configured lag
//! behind a replay in progress. Checked every [`EVERY`] for gRPC health (and the chart's readiness probe); scans
//! and status queries check the same on every answer, so none is given from a Redis that lost its state between
//! two checks.

use std::time::Duration;

use tokio::sync::watch;

use crate::verify::Verifier;

/// How often readiness is checked.
pub const EVERY: Duration = Duration::from_millis(500);

/// A switch that follows readiness until every receiver is dropped.
pub fn watch_readiness(verifier: Verifier) -> watch::Receiver<bool> {
    let (tx, rx) = watch::channel(false);
    tokio::spawn(async move {
        let mut ticks = tokio::time::interval(EVERY);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = ticks.tick() => {}
                () = tx.closed() => return,
            }
            let ready = match verifier.ensure_fresh().await {
                Ok(_) => true,
                Err(e) => {
                    if *tx.borrow() {
                        tracing::warn!(error = %e, "not ready");
                    }
                    false
                }
            };
            verifier.metrics.ready(ready);
            tx.send_if_modified(|current| {
                let moved = *current != ready;
                if moved && ready {
                    tracing::info!("ready");
                }
                *current = ready;
                moved
            });
        }
    });
    rx
}
