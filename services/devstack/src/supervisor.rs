//! A small init for the local stack: it watches its children, restarts one that exits (saying so), lets a chaos run
//! signal one by name, and stops them all, in reverse start order, when asked.
//!
//! Each child sits behind its own lock, so that a restart (which waits for the child to listen again) holds up
//! nothing but that child.

use std::fmt;
use std::process::ExitStatus;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};

/// A child process the supervisor can watch, restart and stop.
pub trait Supervised: Send {
    /// Its process id (the current one: it changes on restart).
    fn pid(&self) -> u32;
    /// `Some` once it has exited (reaped).
    fn exited(&mut self) -> anyhow::Result<Option<ExitStatus>>;
    /// Starts it again, as configured, and waits until it serves.
    fn restart(&mut self) -> anyhow::Result<()>;
    /// Stops it for good (gracefully where it has a graceful stop).
    fn stop(&mut self);
}

/// What the supervisor saw, for the console or a chaos report.
#[derive(Clone, Debug)]
pub enum Notice {
    Exited { name: String, status: String },
    Restarted { name: String, took: Duration },
    RestartFailed { name: String, error: String },
}

impl fmt::Display for Notice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Notice::Exited { name, status } => write!(f, "{name} exited ({status}); restarting it"),
            Notice::Restarted { name, took } => write!(f, "{name} restarted in {took:.1?}"),
            Notice::RestartFailed { name, error } => {
                write!(f, "{name} did not restart: {error}; trying again in a second")
            }
        }
    }
}

struct Slot {
    name: String,
    child: Mutex<Box<dyn Supervised>>,
    restarts: AtomicU32,
}

impl Slot {
    fn lock(&self) -> MutexGuard<'_, Box<dyn Supervised>> {
        // A panic while holding the lock leaves the child as it was: keep supervising it.
        self.child.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// Children, watched by a thread until [`Supervisor::stop`].
pub struct Supervisor {
    slots: Arc<Vec<Slot>>,
    stopping: Arc<AtomicBool>,
    watcher: Option<JoinHandle<()>>,
}

/// Signals and queries the supervised children (cloned freely; calls block while the child is being restarted).
#[derive(Clone)]
pub struct Handle {
    slots: Arc<Vec<Slot>>,
}

impl Handle {
    fn slot(&self, name: &str) -> anyhow::Result<&Slot> {
        self.slots
            .iter()
            .find(|s| s.name == name)
            .with_context(|| format!("no supervised child named {name}"))
    }

    /// The current process id of `name` (waits while it is being restarted).
    pub fn pid(&self, name: &str) -> anyhow::Result<u32> {
        Ok(self.slot(name)?.lock().pid())
    }

    /// How many times `name` was restarted.
    pub fn restarts(&self, name: &str) -> anyhow::Result<u32> {
        Ok(self.slot(name)?.restarts.load(Ordering::Relaxed))
    }

    /// Sends `signal` (`KILL`, `STOP`, `CONT`, ...) to `name`'s current process; returns the pid it went to.
    pub fn signal(&self, name: &str, signal: &str) -> anyhow::Result<u32> {
        let pid = self.pid(name)?;
        crate::process::signal(pid, signal)?;
        Ok(pid)
    }

    /// Waits until `name` runs again under a process id other than `old` (after a kill), up to `timeout`.
    pub fn wait_replaced(&self, name: &str, old: u32, timeout: Duration) -> anyhow::Result<u32> {
        let deadline = Instant::now() + timeout;
        loop {
            let pid = self.pid(name)?;
            if pid != old {
                return Ok(pid);
            }
            if Instant::now() > deadline {
                bail!("{name} was not restarted within {timeout:?}");
            }
            std::thread::sleep(POLL);
        }
    }
}

/// How often exits are looked for.
const POLL: Duration = Duration::from_millis(100);

impl Supervisor {
    /// Supervises `children` (already started), telling `notify` what happens.
    pub fn new(children: Vec<(String, Box<dyn Supervised>)>, notify: impl Fn(Notice) + Send + Sync + 'static) -> Self {
        let slots: Arc<Vec<Slot>> = Arc::new(
            children
                .into_iter()
                .map(|(name, child)| Slot {
                    name,
                    child: Mutex::new(child),
                    restarts: AtomicU32::new(0),
                })
                .collect(),
        );
        let stopping = Arc::new(AtomicBool::new(false));
        let watcher = {
            let (slots, stopping) = (slots.clone(), stopping.clone());
            std::thread::spawn(move || watch(&slots, &stopping, &notify))
        };
        Self {
            slots,
            stopping,
            watcher: Some(watcher),
        }
    }

    /// A handle to signal and query the children from elsewhere (another thread, a blocking task).
    pub fn handle(&self) -> Handle {
        Handle {
            slots: self.slots.clone(),
        }
    }

    /// Stops watching, then stops every child, the last started first.
    pub fn stop(mut self) {
        self.shutdown();
    }

    fn shutdown(&mut self) {
        self.stopping.store(true, Ordering::SeqCst);
        if let Some(w) = self.watcher.take() {
            let _ = w.join();
        }
        for slot in self.slots.iter().rev() {
            slot.lock().stop();
        }
    }
}

impl Drop for Supervisor {
    fn drop(&mut self) {
        if self.watcher.is_some() {
            self.shutdown();
        }
    }
}

fn watch(slots: &[Slot], stopping: &AtomicBool, notify: &(impl Fn(Notice) + Send + Sync)) {
    // A child whose restart failed is retried after a pause, not in a tight loop.
    let mut retry_at: Vec<Option<Instant>> = vec![None; slots.len()];
    while !stopping.load(Ordering::SeqCst) {
        for (i, slot) in slots.iter().enumerate() {
            if stopping.load(Ordering::SeqCst) {
                return;
            }
            if retry_at[i].is_some_and(|t| Instant::now() < t) {
                continue;
            }
            let mut child = slot.lock();
            let due = match retry_at[i] {
                Some(_) => true,
                None => match child.exited() {
                    Ok(Some(status)) => {
                        notify(Notice::Exited {
                            name: slot.name.clone(),
                            status: status.to_string(),
                        });
                        true
                    }
                    Ok(None) => false,
                    Err(e) => {
                        notify(Notice::RestartFailed {
                            name: slot.name.clone(),
                            error: format!("{e:#}"),
                        });
                        false
                    }
                },
            };
            if !due {
                continue;
            }
            let started = Instant::now();
            match child.restart() {
                Ok(()) => {
                    retry_at[i] = None;
                    slot.restarts.fetch_add(1, Ordering::Relaxed);
                    notify(Notice::Restarted {
                        name: slot.name.clone(),
                        took: started.elapsed(),
                    });
                }
                Err(e) => {
                    retry_at[i] = Some(Instant::now() + Duration::from_secs(1));
                    notify(Notice::RestartFailed {
                        name: slot.name.clone(),
                        error: format!("{e:#}"),
                    });
                }
            }
        }
        std::thread::sleep(POLL);
    }
}

#[cfg(test)]
mod tests {
    use std::process::{Child, Command};

    use super::*;

    /// `sleep 60` as a supervised child.
    struct Sleeper(Child);

    impl Sleeper {
        fn start() -> Self {
            Self(Command::new("sleep").arg("60").spawn().expect("sleep"))
        }
    }

    impl Supervised for Sleeper {
        fn pid(&self) -> u32 {
            self.0.id()
        }
        fn exited(&mut self) -> anyhow::Result<Option<ExitStatus>> {
            Ok(self.0.try_wait()?)
        }
        fn restart(&mut self) -> anyhow::Result<()> {
            *self = Self::start();
            Ok(())
        }
        fn stop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }

    #[test]
    fn a_killed_child_is_restarted_and_stop_ends_all() {
        let notices = Arc::new(Mutex::new(Vec::new()));
        let seen = notices.clone();
        let sup = Supervisor::new(
            vec![
                ("a".into(), Box::new(Sleeper::start())),
                ("b".into(), Box::new(Sleeper::start())),
            ],
            move |n| seen.lock().unwrap().push(n.to_string()),
        );
        let h = sup.handle();
        let old = h.signal("a", "KILL").unwrap();
        let new = h.wait_replaced("a", old, Duration::from_secs(5)).unwrap();
        assert_ne!(old, new);
        assert_eq!(h.restarts("a").unwrap(), 1);
        assert_eq!(h.restarts("b").unwrap(), 0);
        let b = h.pid("b").unwrap();
        let notices = notices.lock().unwrap().clone();
        assert!(notices[0].starts_with("a exited ("), "{notices:?}");
        assert!(notices[1].starts_with("a restarted in"), "{notices:?}");
        sup.stop();
        // Both children are gone: signalling them fails.
        assert!(crate::process::signal(new, "0").is_err());
        assert!(crate::process::signal(b, "0").is_err());
    }

    #[test]
    fn an_unknown_name_is_an_error() {
        let sup = Supervisor::new(vec![], |_| {});
        assert!(sup.handle().signal("nobody", "KILL").is_err());
    }
}
