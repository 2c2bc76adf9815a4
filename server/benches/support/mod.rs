//! What the fixed-work benchmarks share (`webhooks`, `receipts`): a bare
//! axum baseline and a closed-loop HTTP/1.1 driver over keep-alive
//! connections (hyper, loopback only).

#![allow(dead_code)]

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;

/// One request of a run.
#[derive(Clone)]
pub struct Request {
    pub method: hyper::Method,
    pub path: String,
    pub headers: Vec<(&'static str, String)>,
    pub body: Bytes,
}

impl Request {
    pub fn get(path: impl Into<String>) -> Self {
        Request { method: hyper::Method::GET, path: path.into(), headers: Vec::new(), body: Bytes::new() }
    }

    pub fn post(path: impl Into<String>, headers: Vec<(&'static str, String)>, body: impl Into<Bytes>) -> Self {
        Request { method: hyper::Method::POST, path: path.into(), headers, body: body.into() }
    }
}

/// A run's result: every request was answered 200.
pub struct Run {
    pub requests: usize,
    pub elapsed: Duration,
    /// The 200 bodies, in request order (when asked for).
    pub bodies: Vec<Bytes>,
    pub latencies_us: Vec<u32>,
}

impl Run {
    pub fn per_second(&self) -> f64 {
        as_f64(self.requests) / self.elapsed.as_secs_f64()
    }

    pub fn percentile_ms(&self, permille: usize) -> f64 {
        let mut sorted = self.latencies_us.clone();
        sorted.sort_unstable();
        if sorted.is_empty() {
            return 0.0;
        }
        let i = (sorted.len() - 1) * permille / 1000;
        f64::from(sorted[i]) / 1000.0
    }
}

pub fn as_f64(n: usize) -> f64 {
    f64::from(u32::try_from(n).unwrap_or(u32::MAX))
}

pub fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    match std::env::var(name) {
        Ok(v) => v.trim().parse().unwrap_or_else(|_| panic!("{name}: cannot parse «{v}»")),
        Err(_) => default,
    }
}

/// `12345.6` → `"12,346"`.
pub fn thousands(n: f64) -> String {
    let s = format!("{:.0}", n.max(0.0));
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A bare axum handler on 127.0.0.1:0 that reads the body and answers a
/// small static JSON (`GET` and `POST /baseline`): the baseline.
pub async fn spawn_baseline() -> SocketAddr {
    use axum::http::header;
    use axum::routing::get;
    async fn handler(_body: Bytes) -> impl axum::response::IntoResponse {
        ([(header::CONTENT_TYPE, "application/json")], r#"{"status":"ok"}"#)
    }
    let router = axum::Router::new().route("/baseline", get(handler).post(handler));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind baseline");
    let addr = listener.local_addr().expect("baseline address");
    tokio::spawn(async move { axum::serve(listener, router).await });
    addr
}

type Sender = hyper::client::conn::http1::SendRequest<Full<Bytes>>;

async fn connect(addr: SocketAddr) -> Sender {
    let stream = TcpStream::connect(addr).await.expect("connect");
    stream.set_nodelay(true).expect("nodelay");
    let (sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await.expect("handshake");
    tokio::spawn(async move {
        let _ = conn.await;
    });
    sender
}

async fn send(sender: &mut Sender, addr: SocketAddr, r: &Request) -> Result<Bytes, String> {
    sender.ready().await.map_err(|e| format!("connection: {e}"))?;
    let mut builder =
        hyper::Request::builder().method(r.method.clone()).uri(&r.path).header(hyper::header::HOST, addr.to_string());
    for (name, value) in &r.headers {
        builder = builder.header(*name, value);
    }
    let req = builder.body(Full::new(r.body.clone())).expect("request");
    let response = sender.send_request(req).await.map_err(|e| format!("send: {e}"))?;
    let status = response.status();
    let body = response.into_body().collect().await.map_err(|e| format!("body: {e}"))?.to_bytes();
    if status != hyper::StatusCode::OK {
        return Err(format!("{}: HTTP {status}: {}", r.path, String::from_utf8_lossy(&body[..body.len().min(300)])));
    }
    Ok(body)
}

/// Sends every request once, `concurrency` at a time (each worker on its
/// own keep-alive connection takes the next request as soon as its answer
/// is read). Panics on any answer other than 200.
pub async fn drive(addr: SocketAddr, requests: Arc<Vec<Request>>, concurrency: usize, keep_bodies: bool) -> Run {
    let next = Arc::new(AtomicUsize::new(0));
    let start = Instant::now();
    let mut workers = Vec::new();
    for _ in 0..concurrency {
        let (next, requests) = (next.clone(), requests.clone());
        workers.push(tokio::spawn(async move {
            let mut sender = connect(addr).await;
            let mut done = Vec::new();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(r) = requests.get(i) else { break };
                let t = Instant::now();
                let body = send(&mut sender, addr, r).await.unwrap_or_else(|e| panic!("request {i} failed: {e}"));
                let us = u32::try_from(t.elapsed().as_micros()).unwrap_or(u32::MAX);
                done.push((i, us, if keep_bodies { body } else { Bytes::new() }));
            }
            done
        }));
    }
    let mut all = Vec::with_capacity(requests.len());
    for w in workers {
        all.extend(w.await.expect("worker"));
    }
    let elapsed = start.elapsed();
    all.sort_by_key(|(i, _, _)| *i);
    Run {
        requests: all.len(),
        elapsed,
        latencies_us: all.iter().map(|(_, us, _)| *us).collect(),
        bodies: all.into_iter().map(|(_, _, b)| b).collect(),
    }
}
