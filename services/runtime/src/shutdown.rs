//! Shutdown: the signals that start it in the binaries, and the one flag every task of a service waits on.

use std::future::Future;

use tokio::sync::watch;

/// Resolves on SIGTERM or Ctrl-C (SIGINT).
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => tracing::info!("interrupt received, shutting down"),
        _ = term => tracing::info!("sigterm received, shutting down"),
    }
}

/// A service's shutdown as each of its tasks sees it. A service's `run_until` takes a future (the signal in the
/// binary, a test's switch in-process) and turns it into this, so that every server and loop it starts stops on
/// the same event however many wait for it.
#[derive(Clone, Debug)]
pub struct Shutdown {
    started: watch::Receiver<bool>,
}

impl Shutdown {
    /// Starts shutdown when `trigger` resolves (a task waits for it).
    pub fn on(trigger: impl Future<Output = ()> + Send + 'static) -> Self {
        let (tx, started) = watch::channel(false);
        tokio::spawn(async move {
            trigger.await;
            let _ = tx.send(true);
        });
        Self { started }
    }

    /// Resolves once shutdown has started (at once if it already had). Also resolves if the trigger's task is gone
    /// without firing (the runtime shutting down), as nothing could start shutdown any more.
    pub fn started(&self) -> impl Future<Output = ()> + Send + 'static {
        let mut started = self.started.clone();
        async move {
            let _ = started.wait_for(|s| *s).await;
        }
    }

    /// The flag itself (`true` once shutdown started), for loops that check it between steps.
    pub fn watch(&self) -> watch::Receiver<bool> {
        self.started.clone()
    }
}
