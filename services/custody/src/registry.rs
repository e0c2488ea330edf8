//! Following the registry as the sequencer seals changes to it.

use std::sync::Arc;
use std::time::Duration;

use pedigree_core::participant::Registry;
use pedigree_store::{RegistryView, Store};
use tokio::sync::watch;

/// Reads the registry once, then every `every` in the background; the receiver always holds the latest read. When
/// Redis cannot be read, the last registry stays in force (the sequencer re-checks every event anyway).
pub async fn follow(genesis: Registry, store: Store, every: Duration) -> watch::Receiver<Arc<Registry>> {
    let mut view = RegistryView::new(genesis);
    if let Err(e) = view.refresh(&store).await {
        tracing::warn!(error = %e, "cannot read the registry from redis yet: using the genesis participants");
    }
    let (tx, rx) = watch::channel(view.current());
    tokio::spawn(async move {
        let mut ticks = tokio::time::interval(every);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = ticks.tick() => {}
                () = tx.closed() => return,
            }
            match view.refresh(&store).await {
                Ok(registry) => {
                    tx.send_if_modified(|current| {
                        let moved = !Arc::ptr_eq(current, &registry);
                        if moved {
                            tracing::info!(participants = registry.len(), "registry changed");
                            *current = registry;
                        }
                        moved
                    });
                }
                Err(e) => tracing::warn!(error = %e, "reading the registry from redis failed; keeping the last one"),
            }
        }
    });
    rx
}
