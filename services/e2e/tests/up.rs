//! `pedigree up` as an init: a service SIGKILLed under it is restarted (and said so), and a SIGTERM to it stops the
//! broker, Redis and the three services, freeing their ports for the next run.

use std::io::{BufRead, BufReader};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use pedigree_devstack::{free_port, signal};

fn pedigree() -> PathBuf {
    pedigree_devstack::binaries_dir()
        .expect("binaries dir")
        .join("pedigree")
}

/// The pids of `parent`'s children, by command name.
fn children(parent: u32) -> Vec<(u32, String)> {
    let out = Command::new("ps")
        .args(["-o", "pid=,comm=", "--ppid", &parent.to_string()])
        .output()
        .expect("ps");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| {
            let mut it = l.split_whitespace();
            Some((it.next()?.parse().ok()?, it.next()?.to_string()))
        })
        .collect()
}

fn child_pid(parent: u32, comm_prefix: &str) -> Option<u32> {
    children(parent)
        .into_iter()
        .find(|(_, c)| c.starts_with(comm_prefix))
        .map(|(p, _)| p)
}

fn listening(port: u16) -> bool {
    TcpStream::connect(("127.0.0.1", port)).is_ok()
}

fn wait_line(lines: &mpsc::Receiver<String>, needle: &str, timeout: Duration) -> Vec<String> {
    let deadline = Instant::now() + timeout;
    let mut seen = Vec::new();
    while Instant::now() < deadline {
        if let Ok(line) = lines.recv_timeout(Duration::from_millis(200)) {
            let hit = line.contains(needle);
            seen.push(line);
            if hit {
                return seen;
            }
        }
    }
    // A service that did not start names its log: show its end (the log goes with the test's temporary folder).
    let logs: Vec<String> = seen
        .iter()
        .filter_map(|l| l.split("; see ").nth(1))
        .filter_map(|path| {
            let text = std::fs::read_to_string(path.trim()).ok()?;
            let tail: Vec<&str> = text.lines().rev().take(40).collect();
            Some(format!(
                "{}:\n{}",
                path.trim(),
                tail.into_iter().rev().collect::<Vec<_>>().join("\n")
            ))
        })
        .collect();
    panic!(
        "no line containing {needle:?} within {timeout:?}; saw: {seen:#?}\n{}",
        logs.join("\n")
    );
}

/// A port `p` with `p`, `p + 1` and `p + 2` free on 127.0.0.1 when asked.
fn free_run_of_three() -> u16 {
    loop {
        let p = free_port();
        let free = |port: u16| std::net::TcpListener::bind(("127.0.0.1", port)).is_ok();
        if p < u16::MAX - 2 && free(p + 1) && free(p + 2) {
            return p;
        }
    }
}

#[test]
fn up_restarts_a_killed_service_and_stops_everything_on_sigterm() {
    let dir = tempfile::tempdir().expect("tempdir");
    let ports = [free_port(), free_port(), free_port(), free_port()];
    // Custody's metrics on this port, the sequencer's and the verifier's on the next two: all three free now (a
    // service that cannot bind its metrics port exits before it listens).
    let metrics = free_run_of_three();
    let mut up = Command::new(pedigree())
        .arg("up")
        .arg("--dir")
        .arg(dir.path().join("stack"))
        .args(["--custody-port", &ports[0].to_string()])
        .args(["--verifier-grpc-port", &ports[1].to_string()])
        .args(["--verifier-http-port", &ports[2].to_string()])
        .args(["--sequencer-health-port", &ports[3].to_string()])
        .args(["--metrics-port", &metrics.to_string()])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("starting pedigree up");
    let (tx, lines) = mpsc::channel();
    for stream in [
        Box::new(up.stdout.take().expect("stdout")) as Box<dyn std::io::Read + Send>,
        Box::new(up.stderr.take().expect("stderr")),
    ] {
        let tx = tx.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stream).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
    }
    wait_line(
        &lines,
        "Ctrl-C (or SIGTERM, SIGHUP) stops everything",
        Duration::from_secs(180),
    );
    let pid = up.id();
    let before = children(pid);
    assert_eq!(before.len(), 5, "broker, redis and three services: {before:?}");
    let metrics_ports = [metrics, metrics + 1, metrics + 2];
    for port in metrics_ports {
        assert!(listening(port), "no metrics on port {port}");
    }

    let verifier = child_pid(pid, "pedigree-verif").expect("the verifier runs under pedigree up");
    signal(verifier, "KILL").expect("SIGKILL the verifier");
    wait_line(&lines, "pedigree-verifier restarted", Duration::from_secs(60));
    let again = child_pid(pid, "pedigree-verif").expect("a new verifier");
    assert_ne!(again, verifier);
    assert!(listening(ports[1]), "the new verifier serves on its port");

    signal(pid, "TERM").expect("SIGTERM pedigree up");
    let deadline = Instant::now() + Duration::from_secs(60);
    let status = loop {
        if let Some(status) = up.try_wait().expect("wait") {
            break status;
        }
        assert!(
            Instant::now() < deadline,
            "pedigree up did not stop within 60 s of SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(100));
    };
    assert!(status.success(), "pedigree up exited with {status}");
    for (child, name) in before.into_iter().chain([(again, "verifier".into())]) {
        assert!(
            signal(child, "0").is_err(),
            "{name} ({child}) still runs after pedigree up stopped"
        );
    }
    for port in ports.into_iter().chain(metrics_ports) {
        assert!(!listening(port), "port {port} still served after pedigree up stopped");
    }
}
