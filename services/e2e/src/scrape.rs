//! Reading the services' Prometheus metrics as a scraper does: `GET /metrics` over TLS with the stack's CA.

use std::net::SocketAddr;
use std::time::Duration;

use crate::Stack;

/// The value of the sample `series` (its name and labels exactly as rendered, e.g.
/// `pedigree_custody_submissions_total{outcome="accepted"}`), if present.
pub fn sample(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find_map(|line| line.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
}

impl Stack {
    /// What `https://{addr}/metrics` serves (Prometheus text format 0.0.4), checked against the stack's CA.
    pub async fn scrape(&self, addr: SocketAddr) -> String {
        let response = self
            .http_client()
            .get(format!("https://{addr}/metrics"))
            .send()
            .await
            .unwrap_or_else(|e| panic!("scraping {addr}: {e}"));
        assert!(response.status().is_success(), "{addr}: {}", response.status());
        let content_type = response.headers()[reqwest::header::CONTENT_TYPE]
            .to_str()
            .expect("an ascii content type")
            .to_string();
        assert!(content_type.starts_with("text/plain; version=0.0.4"), "{content_type}");
        response.text().await.expect("the metrics text")
    }

    /// Scrapes `addr` until `check` holds on what it serves (at most 20 s), and returns that.
    pub async fn scrape_until(&self, addr: SocketAddr, what: &str, check: impl Fn(&str) -> bool) -> String {
        for _ in 0..100 {
            let text = self.scrape(addr).await;
            if check(&text) {
                return text;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        panic!("{what}: not seen within 20 s at {addr}:\n{}", self.scrape(addr).await);
    }
}
