//! Fetching `/profile.json` from a running program's live endpoint.

use std::io::ErrorKind;
use std::path::Path;
use std::time::Duration;

use pipelinescope_core::Profile;
use pipelinescope_report::load;

/// The whole answer may take this long: the program serialises its profile so far while it runs,
/// and a busy program answers late, but a hung one must not freeze `--once`.
const TIMEOUT: Duration = Duration::from_secs(5);
/// A local endpoint that does not accept within this is not there.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);
/// Profiles of large programs (many functions, each with its histogram) run to tens of MiB; the
/// client's default limit (10 MB) would refuse them.
const BODY_LIMIT: u64 = 1 << 30;

/// Why a fetch gave no profile; `Display` is one line naming the URL.
#[derive(Debug, Clone, PartialEq)]
pub enum FetchError {
    /// Nothing answers at the address (refused, reset, unknown host): the program has ended, or
    /// never served there.
    Unreachable(String),
    /// Connected, but no whole answer in time (a stopped or very busy program).
    Timeout(String),
    /// An answer that is not a profile: an HTTP error status, JSON that does not parse.
    BadAnswer(String),
}

impl FetchError {
    /// Whether nothing answered at all (as opposed to a late or wrong answer).
    pub fn is_unreachable(&self) -> bool {
        matches!(self, FetchError::Unreachable(_))
    }
}

impl std::fmt::Display for FetchError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FetchError::Unreachable(s) | FetchError::Timeout(s) | FetchError::BadAnswer(s) => {
                f.write_str(s)
            }
        }
    }
}

/// Reads profiles from one URL.
pub struct Fetcher {
    agent: ureq::Agent,
    url: String,
}

impl Fetcher {
    /// A fetcher of `url` (the endpoint's `/profile.json`).
    pub fn new(url: String) -> Self {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .timeout_global(Some(TIMEOUT))
            .timeout_connect(Some(CONNECT_TIMEOUT))
            // Statuses are reported with the URL by `fetch` itself.
            .http_status_as_error(false)
            // The endpoint is local or reached through a tunnel: an HTTP_PROXY set for the web
            // must not capture 127.0.0.1.
            .proxy(None)
            .build()
            .into();
        Fetcher { agent, url }
    }

    /// One GET of the profile so far.
    pub fn fetch(&self) -> Result<Profile, FetchError> {
        let url = &self.url;
        let mut resp = self.agent.get(url).call().map_err(|e| classify(url, e))?;
        let status = resp.status().as_u16();
        if status != 200 {
            return Err(FetchError::BadAnswer(format!(
                "{url}: HTTP {status} (is this a PipelineScope live endpoint?)"
            )));
        }
        let bytes = resp
            .body_mut()
            .with_config()
            .limit(BODY_LIMIT)
            .read_to_vec()
            .map_err(|e| classify(url, e))?;
        load::parse_profile(Path::new(url), &bytes)
            .map_err(|e| FetchError::BadAnswer(e.to_string()))
    }
}

fn classify(url: &str, e: ureq::Error) -> FetchError {
    match &e {
        ureq::Error::Io(io) => match io.kind() {
            ErrorKind::ConnectionRefused
            | ErrorKind::ConnectionReset
            | ErrorKind::ConnectionAborted
            | ErrorKind::NotConnected
            | ErrorKind::AddrNotAvailable
            | ErrorKind::HostUnreachable
            | ErrorKind::NetworkUnreachable => {
                FetchError::Unreachable(format!("{url}: cannot connect: {io}"))
            }
            ErrorKind::TimedOut | ErrorKind::WouldBlock => {
                FetchError::Timeout(format!("{url}: no answer in time: {io}"))
            }
            _ => FetchError::BadAnswer(format!("{url}: {io}")),
        },
        ureq::Error::ConnectionFailed | ureq::Error::HostNotFound => {
            FetchError::Unreachable(format!("{url}: cannot connect: {e}"))
        }
        ureq::Error::Timeout(_) => {
            FetchError::Timeout(format!("{url}: no answer within {}s", TIMEOUT.as_secs()))
        }
        _ => FetchError::BadAnswer(format!("{url}: {e}")),
    }
}
