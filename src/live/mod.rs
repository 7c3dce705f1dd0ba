//! The live endpoint: while a run lasts, its figures so far over HTTP on an address the user
//! chose (config key `live`, environment `PIPELINESCOPE_LIVE`).
//!
//! - `/profile.json`: the run's profile so far, the schema of `profile_data.json`;
//! - `/metrics`: the same figures in Prometheus text format (`export::prometheus`);
//! - `/`: the HTML report of the run so far, reloading itself every few seconds.
//!
//! It never touches the hot path: a snapshot is taken only when a request asks for one, on the
//! endpoint's own threads. One thread waits for connections; each connection gets a thread of
//! its own, at most [`MAX_CONNECTIONS`] at once (others are told 503 and closed), and each
//! request is bounded in size and time (`http`). It only reads. When the run ends the listener
//! closes, so a client learns that the program is done by a refused connection.

mod http;

use crate::run::RunInfo;
use std::io::Write;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

/// Connections served at once; more are answered 503 without being read.
pub const MAX_CONNECTIONS: usize = 4;

/// Seconds between reloads of the live HTML report.
const HTML_REFRESH_S: u32 = 5;

/// A running endpoint; [`Server::stop`] closes it.
pub struct Server {
    addr: SocketAddr,
    stopping: Arc<AtomicBool>,
}

impl Server {
    /// Binds `addr` and starts answering. The error says what could not be done, for one
    /// warning; the run goes on without an endpoint.
    pub fn start(addr: SocketAddr, run: Arc<RunInfo>) -> Result<Server, String> {
        let listener =
            TcpListener::bind(addr).map_err(|e| format!("cannot serve live on {addr}: {e}"))?;
        let bound = listener
            .local_addr()
            .map_err(|e| format!("cannot serve live on {addr}: {e}"))?;
        let stopping = Arc::new(AtomicBool::new(false));
        let flag = stopping.clone();
        std::thread::Builder::new()
            .name("pipelinescope-live".into())
            .spawn(move || accept_loop(listener, run, flag))
            .map_err(|e| format!("cannot start the live endpoint's thread: {e}"))?;
        Ok(Server {
            addr: bound,
            stopping,
        })
    }

    /// The address actually bound (the port chosen when 0 was asked for).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Closes the listener: the accepting thread wakes on a connection of our own, sees the
    /// flag and returns, dropping it. Answers in progress finish on their own threads. Never
    /// waits for a thread, so a stuck client cannot delay the program's exit.
    pub fn stop(&self) {
        if self.stopping.swap(true, Ordering::AcqRel) {
            return;
        }
        let mut wake = self.addr;
        if wake.ip().is_unspecified() {
            wake.set_ip(match wake {
                SocketAddr::V4(_) => std::net::Ipv4Addr::LOCALHOST.into(),
                SocketAddr::V6(_) => std::net::Ipv6Addr::LOCALHOST.into(),
            });
        }
        let _ = TcpStream::connect_timeout(&wake, std::time::Duration::from_millis(200));
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop();
    }
}

fn accept_loop(listener: TcpListener, run: Arc<RunInfo>, stopping: Arc<AtomicBool>) {
    let busy = Arc::new(AtomicUsize::new(0));
    for conn in listener.incoming() {
        if stopping.load(Ordering::Acquire) {
            return;
        }
        let Ok(mut stream) = conn else {
            // Out of descriptors, a reset before accept: wait a moment rather than spin.
            std::thread::sleep(std::time::Duration::from_millis(10));
            continue;
        };
        if busy.fetch_add(1, Ordering::AcqRel) >= MAX_CONNECTIONS {
            busy.fetch_sub(1, Ordering::AcqRel);
            let _ = stream.set_write_timeout(Some(http::WRITE_TIMEOUT));
            let _ = stream.write_all(
                b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nRetry-After: 1\r\n\
                  Connection: close\r\n\r\n",
            );
            continue;
        }
        let run = run.clone();
        let slot = busy.clone();
        let spawned = std::thread::Builder::new()
            .name("pipelinescope-live-conn".into())
            .spawn(move || {
                // A bug of ours must not take the program down: contain it to this connection.
                let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    serve(&mut stream, &run)
                }));
                slot.fetch_sub(1, Ordering::AcqRel);
            });
        if spawned.is_err() {
            busy.fetch_sub(1, Ordering::AcqRel);
        }
    }
}

/// Answers one request.
fn serve(stream: &mut TcpStream, run: &RunInfo) {
    let req = match http::read_request(stream) {
        Ok(r) => r,
        Err(http::Refused::Gone) => return,
        Err(http::Refused::Answer(status)) => {
            http::respond_text(stream, status, status);
            return;
        }
    };
    match req.path.as_str() {
        "/profile.json" => {
            let profile = run.profile_so_far();
            match pipelinescope_report::json::to_string(&profile) {
                Ok(body) => http::respond(
                    stream,
                    "200 OK",
                    "application/json",
                    body.as_bytes(),
                    req.head_only,
                ),
                Err(e) => http::respond_text(stream, "500 Internal Server Error", &e.to_string()),
            }
        }
        "/metrics" => {
            let profile = run.profile_so_far();
            let body = pipelinescope_report::export::prometheus(&profile);
            http::respond(
                stream,
                "200 OK",
                "text/plain; version=0.0.4; charset=utf-8",
                body.as_bytes(),
                req.head_only,
            );
        }
        "/" | "/index.html" => {
            let profile = run.profile_so_far();
            let html = crate::report_hook::render_html(&profile, run.settings());
            let refresh = format!("<meta http-equiv=\"refresh\" content=\"{HTML_REFRESH_S}\">");
            let body = match html.find("<head>") {
                Some(i) => format!("{}{refresh}{}", &html[..i + 6], &html[i + 6..]),
                None => html,
            };
            http::respond(
                stream,
                "200 OK",
                "text/html; charset=utf-8",
                body.as_bytes(),
                req.head_only,
            );
        }
        _ => http::respond_text(
            stream,
            "404 Not Found",
            "not found; this endpoint serves /profile.json, /metrics and /\n",
        ),
    }
}
