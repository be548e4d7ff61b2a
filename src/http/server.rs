//! Serving connections with the limits a shared gateway needs: a client that sends half a
//! request, or opens thousands of connections, must not keep anyone else from being answered.
//!
//! - Each connection must send its request headers within `header_read_timeout` (hyper's timer
//!   also closes a keep-alive connection that waits longer than that for its next request).
//! - A connection with no bytes either way for `idle_timeout` is closed (slow bodies, HTTP/2).
//! - At most `max_connections` are open; one more is answered 503 at once and closed, so the
//!   process never runs out of open files and the backlog never fills behind idle sockets.
//! - One client address holds at most `max_connections_per_client` connections (a trusted
//!   proxy's, which carry many clients, are not counted) and as many requests in flight
//!   (counted by the address the proxy forwards); past either it gets 429.

use std::{
    future::Future,
    io,
    net::SocketAddr,
    pin::Pin,
    sync::Arc,
    task::{Context, Poll},
    time::Duration,
};

use http_body_util::combinators::BoxBody;
use hyper::body::Bytes;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use poem::{
    Endpoint, EndpointExt, Request,
    endpoint::BoxEndpoint,
    web::{LocalAddr, RemoteAddr},
};
use tokio::{
    io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadBuf},
    net::{TcpListener, TcpStream},
    sync::{Semaphore, watch},
    time::{Instant, Sleep},
};

use ipnet::IpNet;

use super::{
    client_ip::client_ip,
    per_client::{ClientSlot, PerClient},
};
use crate::config::Limits;

/// The gateway has no connection to spare.
const OVER_CAPACITY: (u16, &str, &str) = (
    503,
    "Service Unavailable",
    "The gateway has too many open connections; try again shortly.",
);
/// This client holds its share of connections or requests already.
const CLIENT_OVER_SHARE: (u16, &str, &str) = (
    429,
    "Too Many Requests",
    "Too many connections or requests in flight from your address; finish some first.",
);

fn problem_body((status, title, detail): (u16, &str, &str)) -> String {
    format!(r#"{{"type":"about:blank","title":"{title}","status":{status},"detail":"{detail}"}}"#)
}

/// What an over-limit connection is told before it is closed.
fn refusal(problem: (u16, &str, &str)) -> Vec<u8> {
    let body = problem_body(problem);
    format!(
        "HTTP/1.1 {} {}\r\ncontent-type: application/problem+json\r\n\
         retry-after: 1\r\nconnection: close\r\ncontent-length: {}\r\n\r\n{body}",
        problem.0,
        problem.1,
        body.len()
    )
    .into_bytes()
}

/// Serves `endpoint` on `listener` until `stop` turns true; then lets requests in flight finish
/// for up to `grace`.
pub async fn serve(
    listener: TcpListener,
    endpoint: impl Endpoint + 'static,
    limits: &Limits,
    trusted_proxies: Vec<IpNet>,
    mut stop: watch::Receiver<bool>,
    grace: Duration,
) -> io::Result<()> {
    let endpoint: Arc<BoxEndpoint<'static>> = Arc::new(endpoint.map_to_response().boxed());
    let local = LocalAddr(poem::Addr::SocketAddr(listener.local_addr()?));
    let max = limits.max_connections.max(1);
    let open = Arc::new(Semaphore::new(max));
    let mut http = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new());
    http.http1()
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout);
    let http = Arc::new(http);
    let clients = Clients {
        connections: PerClient::new(limits.max_connections_per_client),
        requests: PerClient::new(limits.max_connections_per_client),
        trusted_proxies: Arc::new(trusted_proxies),
    };
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                // Out of file descriptors or a connection reset before accept: keep serving.
                Err(err) => {
                    tracing::warn!(error = %err, "accepting a connection failed");
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    continue;
                }
            },
            _ = stop.changed() => break,
        };
        let Ok(permit) = open.clone().try_acquire_owned() else {
            tokio::spawn(refuse(stream, OVER_CAPACITY));
            continue;
        };
        let is_proxy = clients
            .trusted_proxies
            .iter()
            .any(|net| net.contains(&peer.ip()));
        let client_slot = if is_proxy {
            None
        } else {
            let Some(slot) = clients.connections.take(peer.ip()) else {
                tokio::spawn(refuse(stream, CLIENT_OVER_SHARE));
                continue;
            };
            Some(slot)
        };
        let _ = stream.set_nodelay(true);
        let connection = Connection {
            endpoint: endpoint.clone(),
            local: local.clone(),
            peer,
            idle_timeout: limits.idle_timeout,
            stop: stop.clone(),
            grace,
            clients: clients.clone(),
        };
        let http = http.clone();
        tokio::spawn(async move {
            connection.serve(stream, &http).await;
            drop((permit, client_slot));
        });
    }
    // Every permit back means every connection has ended.
    let _ = tokio::time::timeout(grace, open.acquire_many(max as u32)).await;
    Ok(())
}

/// Tells a connection over the limit why and closes it: once its request head has arrived (an
/// answer before the request confuses clients), or after a moment if it never does. Whatever
/// else it sent is read and dropped: closing with unread bytes would reset the connection
/// before the client could read the answer.
async fn refuse(mut stream: TcpStream, problem: (u16, &str, &str)) {
    let mut head = Vec::with_capacity(1024);
    let mut buf = [0u8; 1024];
    let _ = tokio::time::timeout(Duration::from_millis(500), async {
        while head.len() < 16 * 1024 && !head.windows(4).any(|w| w == b"\r\n\r\n") {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => head.extend_from_slice(&buf[..n]),
            }
        }
    })
    .await;
    let _ = tokio::time::timeout(Duration::from_secs(1), async {
        stream.write_all(&refusal(problem)).await?;
        stream.shutdown().await?;
        while stream.read(&mut buf).await? > 0 {}
        Ok::<_, io::Error>(())
    })
    .await;
}

/// What is counted per client address, and whose word about the address is believed.
#[derive(Clone)]
struct Clients {
    connections: PerClient,
    requests: PerClient,
    trusted_proxies: Arc<Vec<IpNet>>,
}

impl Clients {
    /// A place for one more request from the client this request comes from.
    fn take_request(&self, peer: SocketAddr, request: &Request) -> Option<ClientSlot> {
        let forwarded = request.header("x-forwarded-for");
        let client = client_ip(Some(peer.ip()), forwarded, &self.trusted_proxies)?;
        self.requests.take(client)
    }
}

fn over_share() -> poem::Response {
    poem::Response::builder()
        .status(poem::http::StatusCode::TOO_MANY_REQUESTS)
        .content_type("application/problem+json")
        .header("retry-after", "1")
        .body(problem_body(CLIENT_OVER_SHARE))
}

struct Connection {
    endpoint: Arc<BoxEndpoint<'static>>,
    clients: Clients,
    local: LocalAddr,
    peer: SocketAddr,
    idle_timeout: Duration,
    stop: watch::Receiver<bool>,
    grace: Duration,
}

impl Connection {
    async fn serve(
        mut self,
        stream: TcpStream,
        http: &hyper_util::server::conn::auto::Builder<TokioExecutor>,
    ) {
        let (endpoint, local) = (self.endpoint.clone(), self.local.clone());
        let (peer, clients) = (self.peer, self.clients.clone());
        let remote = RemoteAddr(poem::Addr::SocketAddr(self.peer));
        let service =
            hyper::service::service_fn(move |req: hyper::Request<hyper::body::Incoming>| {
                let request = Request::from((
                    req,
                    local.clone(),
                    remote.clone(),
                    poem::http::uri::Scheme::HTTP,
                ));
                let endpoint = endpoint.clone();
                // Held until the answer is ready, body read and all.
                let slot = clients.take_request(peer, &request);
                async move {
                    let response = match slot {
                        Some(_slot) => endpoint.get_response(request).await,
                        None => over_share(),
                    };
                    let response: hyper::Response<BoxBody<Bytes, io::Error>> = response.into();
                    Ok::<_, std::convert::Infallible>(response)
                }
            });
        let io = TokioIo::new(Idle::new(stream, self.idle_timeout));
        let conn = http.serve_connection_with_upgrades(io, service);
        tokio::pin!(conn);
        tokio::select! {
            _ = conn.as_mut() => return,
            _ = self.stop.changed() => {}
        }
        conn.as_mut().graceful_shutdown();
        let _ = tokio::time::timeout(self.grace, conn).await;
    }
}

/// A stream that fails with `TimedOut` once nothing has been read or written for `timeout`.
struct Idle {
    inner: TcpStream,
    timeout: Duration,
    deadline: Pin<Box<Sleep>>,
}

impl Idle {
    fn new(inner: TcpStream, timeout: Duration) -> Self {
        Self {
            inner,
            timeout,
            deadline: Box::pin(tokio::time::sleep(timeout)),
        }
    }

    /// Pushes the deadline back after progress, or reports that it has passed.
    fn check<T>(
        &mut self,
        cx: &mut Context<'_>,
        polled: Poll<io::Result<T>>,
    ) -> Poll<io::Result<T>> {
        match polled {
            Poll::Ready(result) => {
                self.deadline.as_mut().reset(Instant::now() + self.timeout);
                Poll::Ready(result)
            }
            Poll::Pending => match self.deadline.as_mut().poll(cx) {
                Poll::Ready(()) => Poll::Ready(Err(io::Error::new(
                    io::ErrorKind::TimedOut,
                    "connection idle for too long",
                ))),
                Poll::Pending => Poll::Pending,
            },
        }
    }
}

impl AsyncRead for Idle {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let polled = Pin::new(&mut this.inner).poll_read(cx, buf);
        this.check(cx, polled)
    }
}

impl AsyncWrite for Idle {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let polled = Pin::new(&mut this.inner).poll_write(cx, buf);
        this.check(cx, polled)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let polled = Pin::new(&mut this.inner).poll_write_vectored(cx, bufs);
        this.check(cx, polled)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }
}
