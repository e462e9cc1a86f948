//! Local receivers for what the product sends out: an SMTP sink that
//! keeps every message, and an HTTP receiver for webhooks that keeps every
//! request and answers the statuses it is told to.

use std::{
    collections::VecDeque,
    net::SocketAddr,
    sync::{Arc, Mutex},
    time::Duration,
};

use tokio::{
    io::{AsyncBufReadExt, AsyncWriteExt, BufReader},
    net::TcpListener,
};

/// One message as the SMTP sink received it.
#[derive(Debug, Clone)]
pub struct ReceivedMail {
    pub to: Vec<String>,
    /// Headers and body, as sent (dot-unstuffed).
    pub data: String,
}

impl ReceivedMail {
    /// The `Subject:` header (unfolded; lettre encodes non-ASCII ones).
    pub fn subject(&self) -> String {
        let mut subject = String::new();
        let mut inside = false;
        for line in self.data.lines() {
            if let Some(rest) = line.strip_prefix("Subject: ") {
                subject.push_str(rest);
                inside = true;
            } else if inside && line.starts_with([' ', '\t']) {
                subject.push_str(line.trim_start());
            } else if inside {
                break;
            }
        }
        subject
    }
}

/// A minimal SMTP server (no TLS, no auth) on a free loopback port.
pub struct SmtpSink {
    pub addr: SocketAddr,
    pub mails: Arc<Mutex<Vec<ReceivedMail>>>,
}

impl SmtpSink {
    pub async fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind the SMTP sink");
        let addr = listener.local_addr().expect("address");
        let mails = Arc::new(Mutex::new(Vec::new()));
        let kept = mails.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let kept = kept.clone();
                tokio::spawn(async move {
                    let _ = session(stream, kept).await;
                });
            }
        });
        Self { addr, mails }
    }

    pub fn url(&self) -> String {
        format!("smtp://{}", self.addr)
    }

    pub fn received(&self) -> Vec<ReceivedMail> {
        self.mails.lock().expect("mails").clone()
    }

    /// Waits up to `limit` for at least `count` messages.
    pub async fn wait_for(&self, count: usize, limit: Duration) -> Vec<ReceivedMail> {
        let deadline = tokio::time::Instant::now() + limit;
        while self.received().len() < count && tokio::time::Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        self.received()
    }
}

async fn session(stream: tokio::net::TcpStream, mails: Arc<Mutex<Vec<ReceivedMail>>>) -> std::io::Result<()> {
    let (read, mut write) = stream.into_split();
    let mut lines = BufReader::new(read).lines();
    write.write_all(b"220 sink ESMTP\r\n").await?;
    let mut to = Vec::new();
    while let Some(line) = lines.next_line().await? {
        let upper = line.to_ascii_uppercase();
        if upper.starts_with("EHLO") || upper.starts_with("HELO") {
            write.write_all(b"250-sink\r\n250 8BITMIME\r\n").await?;
        } else if upper.starts_with("MAIL FROM") {
            to.clear();
            write.write_all(b"250 OK\r\n").await?;
        } else if upper.starts_with("RCPT TO") {
            to.push(line[8..].trim().trim_start_matches(':').trim().trim_matches(['<', '>']).to_owned());
            write.write_all(b"250 OK\r\n").await?;
        } else if upper == "DATA" {
            write.write_all(b"354 go on\r\n").await?;
            let mut data = String::new();
            while let Some(line) = lines.next_line().await? {
                if line == "." {
                    break;
                }
                data.push_str(line.strip_prefix('.').unwrap_or(&line));
                data.push('\n');
            }
            mails.lock().expect("mails").push(ReceivedMail { to: to.clone(), data });
            write.write_all(b"250 kept\r\n").await?;
        } else if upper == "QUIT" {
            write.write_all(b"221 bye\r\n").await?;
            return Ok(());
        } else {
            write.write_all(b"250 OK\r\n").await?;
        }
    }
    Ok(())
}

/// One request the webhook receiver got.
#[derive(Debug, Clone)]
pub struct ReceivedCall {
    pub headers: axum::http::HeaderMap,
    pub body: Vec<u8>,
}

/// An HTTP receiver on a free loopback port: answers each request with
/// the next status queued (200 when none is), keeping every request.
pub struct WebhookReceiver {
    pub addr: SocketAddr,
    pub calls: Arc<Mutex<Vec<ReceivedCall>>>,
    answers: Arc<Mutex<VecDeque<u16>>>,
}

impl WebhookReceiver {
    pub async fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind the receiver");
        let addr = listener.local_addr().expect("address");
        let calls = Arc::new(Mutex::new(Vec::new()));
        let answers = Arc::new(Mutex::new(VecDeque::new()));
        let (kept, queue) = (calls.clone(), answers.clone());
        let app = axum::Router::new().fallback(move |headers: axum::http::HeaderMap, body: axum::body::Bytes| {
            let (kept, queue) = (kept.clone(), queue.clone());
            async move {
                kept.lock().expect("calls").push(ReceivedCall { headers, body: body.to_vec() });
                let status = queue.lock().expect("answers").pop_front().unwrap_or(200);
                axum::http::StatusCode::from_u16(status).expect("status")
            }
        });
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Self { addr, calls, answers }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// The statuses to answer the next requests with, in order.
    pub fn answer(&self, statuses: &[u16]) {
        self.answers.lock().expect("answers").extend(statuses);
    }

    pub fn received(&self) -> Vec<ReceivedCall> {
        self.calls.lock().expect("calls").clone()
    }
}

/// One request a [`FeedServer`] received: its path and query, and the
/// `apiKey` header if any.
#[derive(Debug, Clone)]
pub struct FeedRequest {
    pub path: String,
    pub query: String,
    pub api_key: Option<String>,
}

/// A local HTTP server that serves feed files by path, as a mirror of the
/// NVD, CISA and FIRST would: each path answers its queued failures first
/// (status, with `Retry-After: 0`), then its body; an NVD path answers the
/// page whose `startIndex` the query asks for.
pub struct FeedServer {
    pub addr: SocketAddr,
    pub requests: Arc<Mutex<Vec<FeedRequest>>>,
    /// Path → NVD pages by `startIndex`, or one body under index 0.
    bodies: Arc<Mutex<Bodies>>,
    /// (path, startIndex) → statuses to answer first.
    failures: Arc<Mutex<Failures>>,
}

type Bodies = std::collections::HashMap<String, std::collections::BTreeMap<u64, Vec<u8>>>;
type Failures = std::collections::HashMap<(String, u64), VecDeque<u16>>;

impl FeedServer {
    pub async fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind the feed server");
        let addr = listener.local_addr().expect("address");
        let requests = Arc::new(Mutex::new(Vec::new()));
        let bodies = Arc::new(Mutex::new(Bodies::new()));
        let failures = Arc::new(Mutex::new(Failures::new()));
        let (kept, served, failing) = (requests.clone(), bodies.clone(), failures.clone());
        let app = axum::Router::new().fallback(move |uri: axum::http::Uri, headers: axum::http::HeaderMap| {
            let (kept, served, failing) = (kept.clone(), served.clone(), failing.clone());
            async move {
                let path = uri.path().to_owned();
                let query = uri.query().unwrap_or_default().to_owned();
                let api_key = headers.get("apiKey").and_then(|v| v.to_str().ok()).map(str::to_owned);
                kept.lock().expect("requests").push(FeedRequest { path: path.clone(), query: query.clone(), api_key });
                let start = url::form_urlencoded::parse(query.as_bytes())
                    .find(|(k, _)| k == "startIndex")
                    .and_then(|(_, v)| v.parse::<u64>().ok())
                    .unwrap_or(0);
                let failure =
                    failing.lock().expect("failures").get_mut(&(path.clone(), start)).and_then(VecDeque::pop_front);
                if let Some(status) = failure {
                    let status = axum::http::StatusCode::from_u16(status).expect("status");
                    return (status, [("retry-after", "0")], Vec::new());
                }
                match served.lock().expect("bodies").get(&path).and_then(|pages| pages.get(&start)) {
                    Some(body) => (axum::http::StatusCode::OK, [("retry-after", "0")], body.clone()),
                    None => (axum::http::StatusCode::NOT_FOUND, [("retry-after", "0")], Vec::new()),
                }
            }
        });
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Self { addr, requests, bodies, failures }
    }

    pub fn url(&self, path: &str) -> url::Url {
        url::Url::parse(&format!("http://{}{path}", self.addr)).expect("url")
    }

    /// Serves `body` at `path` (for `startIndex` `start` of an NVD path).
    pub fn serve(&self, path: &str, start: u64, body: Vec<u8>) {
        self.bodies.lock().expect("bodies").entry(path.to_owned()).or_default().insert(start, body);
    }

    /// The next requests for `path` at `start` answer these statuses first.
    pub fn fail(&self, path: &str, start: u64, statuses: &[u16]) {
        self.failures.lock().expect("failures").entry((path.to_owned(), start)).or_default().extend(statuses);
    }

    pub fn requests(&self) -> Vec<FeedRequest> {
        self.requests.lock().expect("requests").clone()
    }
}
