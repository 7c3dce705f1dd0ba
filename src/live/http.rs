//! Just enough HTTP/1.1 for a read-only endpoint: one `GET` per connection, answered and closed.
//!
//! Everything a client sends is bounded: the request head's size, the time it may take to
//! arrive, and the time the answer may take to leave. A client that stalls, trickles headers
//! forever or sends garbage costs one connection slot for at most [`REQUEST_DEADLINE`].

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

/// Largest request head read (request line and headers).
pub const MAX_HEAD: usize = 8 * 1024;
/// How long a request head may take to arrive, in all.
pub const REQUEST_DEADLINE: Duration = Duration::from_secs(2);
/// How long writing an answer may block.
pub const WRITE_TIMEOUT: Duration = Duration::from_secs(5);

/// A request we answer: the method and the path without its query.
#[derive(Debug, PartialEq, Eq)]
pub struct Request {
    /// `GET` or `HEAD` (others are answered 405 before this is made).
    pub head_only: bool,
    /// The path, without `?query`.
    pub path: String,
}

/// Why no request came.
#[derive(Debug, PartialEq, Eq)]
pub enum Refused {
    /// Nothing usable arrived in time, or the connection closed: close without an answer.
    Gone,
    /// An answer to send instead: status line text.
    Answer(&'static str),
}

/// Reads and parses one request head from `stream` within the bounds above.
pub fn read_request(stream: &mut TcpStream) -> Result<Request, Refused> {
    let deadline = Instant::now() + REQUEST_DEADLINE;
    let mut buf = [0u8; MAX_HEAD];
    let mut len = 0;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(Refused::Answer("408 Request Timeout"));
        }
        // Each read waits at most until the deadline, so trickled bytes cannot extend it.
        if stream.set_read_timeout(Some(left)).is_err() {
            return Err(Refused::Gone);
        }
        let n = match stream.read(&mut buf[len..]) {
            Ok(0) => return Err(Refused::Gone),
            Ok(n) => n,
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                return Err(Refused::Answer("408 Request Timeout"));
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(_) => return Err(Refused::Gone),
        };
        len += n;
        let mut headers = [httparse::EMPTY_HEADER; 32];
        let mut req = httparse::Request::new(&mut headers);
        match req.parse(&buf[..len]) {
            Ok(httparse::Status::Complete(_)) => {
                let method = req.method.unwrap_or("");
                let path = req.path.unwrap_or("/");
                let path = path.split('?').next().unwrap_or("/").to_string();
                return match method {
                    "GET" => Ok(Request {
                        head_only: false,
                        path,
                    }),
                    "HEAD" => Ok(Request {
                        head_only: true,
                        path,
                    }),
                    _ => Err(Refused::Answer("405 Method Not Allowed")),
                };
            }
            Ok(httparse::Status::Partial) if len == buf.len() => {
                return Err(Refused::Answer("431 Request Header Fields Too Large"));
            }
            Ok(httparse::Status::Partial) => {}
            Err(httparse::Error::TooManyHeaders) => {
                return Err(Refused::Answer("431 Request Header Fields Too Large"));
            }
            Err(_) => return Err(Refused::Answer("400 Bad Request")),
        }
    }
}

/// Writes a whole answer and closes the exchange (`Connection: close`).
pub fn respond(
    stream: &mut TcpStream,
    status: &str,
    content_type: &str,
    body: &[u8],
    head_only: bool,
) {
    let _ = stream.set_write_timeout(Some(WRITE_TIMEOUT));
    let head = format!(
        "HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n\
         Cache-Control: no-store\r\nConnection: close\r\n\r\n",
        body.len()
    );
    if stream.write_all(head.as_bytes()).is_err() {
        return;
    }
    if !head_only {
        let _ = stream.write_all(body);
    }
    let _ = stream.flush();
}

/// A short plain-text answer for errors.
pub fn respond_text(stream: &mut TcpStream, status: &str, text: &str) {
    respond(
        stream,
        status,
        "text/plain; charset=utf-8",
        text.as_bytes(),
        false,
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::TcpListener;

    /// Sends `bytes` (then keeps the connection open for `hold`) and returns what the reader made
    /// of them.
    fn parse(bytes: &'static [u8], hold: Duration) -> Result<Request, Refused> {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = l.local_addr().unwrap();
        let client = std::thread::spawn(move || {
            let mut c = TcpStream::connect(addr).unwrap();
            c.write_all(bytes).unwrap();
            std::thread::sleep(hold);
        });
        let (mut s, _) = l.accept().unwrap();
        let r = read_request(&mut s);
        client.join().unwrap();
        r
    }

    #[test]
    fn a_get_gives_its_path_without_the_query() {
        let r = parse(
            b"GET /metrics?x=1 HTTP/1.1\r\nHost: a\r\n\r\n",
            Duration::ZERO,
        );
        assert_eq!(
            r,
            Ok(Request {
                head_only: false,
                path: "/metrics".into()
            })
        );
    }

    #[test]
    fn other_methods_and_garbage_are_refused_with_an_answer() {
        assert_eq!(
            parse(b"POST / HTTP/1.1\r\n\r\n", Duration::ZERO),
            Err(Refused::Answer("405 Method Not Allowed"))
        );
        assert_eq!(
            parse(b"\x00\x01\x02 nonsense\r\n\r\n", Duration::ZERO),
            Err(Refused::Answer("400 Bad Request"))
        );
    }

    #[test]
    fn an_unfinished_head_times_out_at_the_deadline() {
        let t = Instant::now();
        let r = parse(
            b"GET / HTTP/1.1\r\nX-Slow: ",
            REQUEST_DEADLINE + Duration::from_secs(1),
        );
        assert_eq!(r, Err(Refused::Answer("408 Request Timeout")));
        let took = t.elapsed();
        assert!(
            took >= REQUEST_DEADLINE && took < REQUEST_DEADLINE * 2,
            "{took:?}"
        );
    }

    #[test]
    fn an_oversized_head_is_refused() {
        static BIG: [u8; MAX_HEAD + 100] = {
            let mut b = [b'a'; MAX_HEAD + 100];
            let start = b"GET / HTTP/1.1\r\nX: ";
            let mut i = 0;
            while i < start.len() {
                b[i] = start[i];
                i += 1;
            }
            b
        };
        let r = parse(&BIG, Duration::from_millis(100));
        assert_eq!(
            r,
            Err(Refused::Answer("431 Request Header Fields Too Large"))
        );
    }
}
