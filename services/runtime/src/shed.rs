//! Load shedding: a process admits at most [`crate::limits::LimitsConfig::max_in_flight`] requests at once, over
//! all its servers; one more is refused at once (gRPC RESOURCE_EXHAUSTED, HTTP 503, both saying when to retry)
//! instead of waiting in a queue that turns an overload into seconds of latency for everyone.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::http::{HeaderValue, Request, Response, StatusCode, header};
use prometheus_client::metrics::counter::Counter;
use tokio::sync::Semaphore;
use tower::{Layer, Service};

use crate::limits::SHED_RETRY_AFTER_SECS;

/// The requests in progress in one process, shared by its gRPC and HTTP servers.
#[derive(Clone, Debug)]
pub struct InFlight {
    permits: Arc<Semaphore>,
    /// Requests refused, as a metric the service registers (`shed_counter`).
    shed: Counter,
}

impl InFlight {
    pub fn new(max: usize) -> Self {
        Self {
            permits: Arc::new(Semaphore::new(max)),
            shed: Counter::default(),
        }
    }

    /// How many requests were refused so far.
    pub fn shed_total(&self) -> u64 {
        self.shed.get()
    }

    /// The count of refused requests, shared, for the service's metrics registry.
    pub fn shed_counter(&self) -> Counter {
        self.shed.clone()
    }

    /// The layer for a gRPC server, which also ends a call that runs longer than `timeout` with DEADLINE_EXCEEDED.
    pub fn grpc(&self, timeout: Duration) -> ShedLayer<Grpc> {
        ShedLayer {
            in_flight: self.clone(),
            answer: Grpc { timeout },
        }
    }

    /// The layer for an HTTP server, which also ends a request that runs longer than `timeout` with 503.
    pub fn http(&self, timeout: Duration) -> ShedLayer<Http> {
        ShedLayer {
            in_flight: self.clone(),
            answer: Http { timeout },
        }
    }
}

/// How a server says "too busy" (and, for HTTP, "too slow").
pub trait Answer: Clone + Send + Sync + 'static {
    type Body: Send + 'static;

    fn busy(&self) -> Response<Self::Body>;

    /// The longest the server lets a request run, if it enforces it here.
    fn timeout(&self) -> Option<Duration>;

    fn too_slow(&self) -> Response<Self::Body>;
}

/// Adds when to retry (`retry-after`, whole seconds) to a gRPC refusal: every service's refusals that say so.
pub fn set_retry_after(status: &mut tonic::Status, secs: u64) {
    status
        .metadata_mut()
        .insert("retry-after", tonic::metadata::MetadataValue::from(secs));
}

/// gRPC's answers: RESOURCE_EXHAUSTED with a `retry-after` entry (seconds); DEADLINE_EXCEEDED for a call that
/// outlives the server's request timeout (tonic's own server timeout would answer a bare CANCELLED "Timeout
/// expired", which clients read as their own cancellation; it stays in place, a little later, to honour a shorter
/// `grpc-timeout` the client sends).
#[derive(Clone, Copy, Debug)]
pub struct Grpc {
    timeout: Duration,
}

impl Answer for Grpc {
    type Body = tonic::body::Body;

    fn busy(&self) -> Response<Self::Body> {
        let mut status = tonic::Status::resource_exhausted("server busy: too many requests in progress, retry shortly");
        set_retry_after(&mut status, SHED_RETRY_AFTER_SECS);
        status.into_http()
    }

    fn timeout(&self) -> Option<Duration> {
        Some(self.timeout)
    }

    fn too_slow(&self) -> Response<Self::Body> {
        let message = format!(
            "the request took longer than the server's {} ms limit",
            self.timeout.as_millis()
        );
        tonic::Status::deadline_exceeded(message).into_http()
    }
}

/// HTTP's answers: 503 with `Retry-After` and a JSON error, like every other refusal of the HTTP servers.
#[derive(Clone, Copy, Debug)]
pub struct Http {
    timeout: Duration,
}

fn http_error(status: StatusCode, message: &str, retry: bool) -> Response<axum::body::Body> {
    let body = serde_json::json!({ "error": message }).to_string();
    let mut response = Response::new(axum::body::Body::from(body));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    if retry {
        headers.insert(header::RETRY_AFTER, HeaderValue::from(SHED_RETRY_AFTER_SECS));
    }
    response
}

impl Answer for Http {
    type Body = axum::body::Body;

    fn busy(&self) -> Response<Self::Body> {
        http_error(
            StatusCode::SERVICE_UNAVAILABLE,
            "server busy: too many requests in progress, retry shortly",
            true,
        )
    }

    fn timeout(&self) -> Option<Duration> {
        Some(self.timeout)
    }

    fn too_slow(&self) -> Response<Self::Body> {
        http_error(
            StatusCode::SERVICE_UNAVAILABLE,
            "the request took too long, retry shortly",
            true,
        )
    }
}

#[derive(Clone, Debug)]
pub struct ShedLayer<A> {
    in_flight: InFlight,
    answer: A,
}

impl<S, A: Clone> Layer<S> for ShedLayer<A> {
    type Service = Shed<S, A>;

    fn layer(&self, inner: S) -> Self::Service {
        Shed {
            inner,
            in_flight: self.in_flight.clone(),
            answer: self.answer.clone(),
        }
    }
}

/// A service behind [`InFlight`]: each request holds a permit until its response (headers) is ready.
#[derive(Clone, Debug)]
pub struct Shed<S, A> {
    inner: S,
    in_flight: InFlight,
    answer: A,
}

impl<S, A, B> Service<Request<B>> for Shed<S, A>
where
    A: Answer,
    S: Service<Request<B>, Response = Response<A::Body>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    B: Send + 'static,
{
    type Response = Response<A::Body>;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Self::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<B>) -> Self::Future {
        let Ok(permit) = self.in_flight.permits.clone().try_acquire_owned() else {
            self.in_flight.shed.inc();
            let busy = self.answer.busy();
            return Box::pin(async move { Ok(busy) });
        };
        // The clone is the ready one (tower's rule: call the service poll_ready was called on).
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let answer = self.answer.clone();
        Box::pin(async move {
            let response = inner.call(request);
            let result = match answer.timeout() {
                Some(limit) => match tokio::time::timeout(limit, response).await {
                    Ok(result) => result,
                    Err(_) => Ok(answer.too_slow()),
                },
                None => response.await,
            };
            drop(permit);
            result
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::convert::Infallible;
    use tower::ServiceExt;

    type Reply = Response<axum::body::Body>;

    /// A service whose responses each wait for one permit of `release`.
    fn held(
        release: Arc<Semaphore>,
    ) -> impl Service<Request<()>, Response = Reply, Error = Infallible, Future: Send> + Clone + Send + 'static {
        tower::service_fn(move |_req: Request<()>| {
            let release = release.clone();
            async move {
                release.acquire().await.unwrap().forget();
                Ok::<_, Infallible>(Response::new(axum::body::Body::empty()))
            }
        })
    }

    async fn until_full(in_flight: &InFlight) {
        while in_flight.permits.available_permits() > 0 {
            tokio::task::yield_now().await;
        }
    }

    #[tokio::test]
    async fn one_request_beyond_the_limit_is_refused_at_once_and_admitted_once_one_ends() {
        let in_flight = InFlight::new(2);
        let release = Arc::new(Semaphore::new(0));
        let service = in_flight.http(Duration::from_secs(60)).layer(held(release.clone()));
        let first = tokio::spawn(service.clone().oneshot(Request::new(())));
        let second = tokio::spawn(service.clone().oneshot(Request::new(())));
        until_full(&in_flight).await;
        let refused = service.clone().oneshot(Request::new(())).await.unwrap();
        assert_eq!(refused.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(refused.headers()[header::RETRY_AFTER], "1");
        assert_eq!(in_flight.shed_total(), 1);
        release.add_permits(1);
        let done = tokio::select! {
            r = first => r,
            r = second => r,
        };
        assert_eq!(done.unwrap().unwrap().status(), StatusCode::OK);
        // A permit is free again: the next request is admitted.
        let next = tokio::spawn(service.clone().oneshot(Request::new(())));
        until_full(&in_flight).await;
        release.add_permits(2);
        assert_eq!(next.await.unwrap().unwrap().status(), StatusCode::OK);
        assert_eq!(in_flight.shed_total(), 1);
    }

    #[tokio::test]
    async fn an_http_request_longer_than_the_timeout_ends_with_503() {
        let in_flight = InFlight::new(4);
        let release = Arc::new(Semaphore::new(0));
        let service = in_flight.http(Duration::from_millis(200)).layer(held(release));
        let slow = service.oneshot(Request::new(())).await.unwrap();
        assert_eq!(slow.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(in_flight.permits.available_permits(), 4, "the permit is given back");
    }

    #[test]
    fn grpc_refusal_is_resource_exhausted_with_retry_after() {
        let busy = Grpc {
            timeout: Duration::from_secs(1),
        }
        .busy();
        assert_eq!(busy.headers()["grpc-status"], "8");
        assert_eq!(busy.headers()["retry-after"], "1");
    }
}
