//! Building the application: database, state, routes and middleware, and serving them.

use std::{future::Future, io, net::SocketAddr, sync::Arc, time::Duration};

use poem::{
    Endpoint, EndpointExt, IntoResponse, Request, Response, Route, Server,
    http::{StatusCode, header},
    listener::{Acceptor, TcpAcceptor},
    middleware::{CatchPanic, Tracing},
    web::Redirect,
};
use sea_orm::DatabaseConnection;

use crate::{auth::Authenticator, config::Config, db, error::ApiError, targets::TargetPolicy};

/// What every request handler can reach.
pub struct AppState {
    pub db: DatabaseConnection,
    pub config: Config,
    pub auth: Authenticator,
    pub targets: TargetPolicy,
}

impl AppState {
    pub fn new(db: DatabaseConnection, config: Config) -> Self {
        Self {
            auth: Authenticator::new(db.clone(), config.jwt_secret.as_deref()),
            targets: TargetPolicy {
                allow_private: config.allow_private_targets,
            },
            db,
            config,
        }
    }
}

/// A gateway ready to serve: migrated database, bound socket.
pub struct Application {
    listener: tokio::net::TcpListener,
    state: Arc<AppState>,
}

impl Application {
    /// Connects, migrates and binds `config.bind` (port 0 picks a free port).
    pub async fn build(config: Config) -> anyhow::Result<Self> {
        let db = db::connect(&config).await?;
        db::migrate(&db).await?;
        let listener = tokio::net::TcpListener::bind(config.bind).await?;
        Ok(Self {
            listener,
            state: Arc::new(AppState::new(db, config)),
        })
    }

    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// Serves until `shutdown` resolves, then lets requests in flight finish (up to 10 s).
    pub async fn run_until(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> io::Result<()> {
        let acceptor = TcpAcceptor::from_tokio(self.listener)?;
        tracing::info!(addr = ?acceptor.local_addr(), "kaanha-gateway listening");
        Server::new_with_acceptor(acceptor)
            .run_with_graceful_shutdown(routes(self.state), shutdown, Some(Duration::from_secs(10)))
            .await
    }
}

/// Every route, with the middleware that makes all errors problem+json.
pub fn routes(state: Arc<AppState>) -> impl Endpoint {
    let api = crate::api::service();
    let max_body = state.config.max_body_bytes;
    Route::new()
        .at(
            "/",
            poem::get(poem::endpoint::make_sync(|_| Redirect::see_other("/docs"))),
        )
        .at("/api/openapi.json", api.spec_endpoint())
        .nest("/docs", api.swagger_ui())
        .nest("/", api)
        .around(move |next, req| problem_errors(next, req, max_body))
        .with(CatchPanic::new())
        .with(Tracing)
        .data(state)
}

/// Answers every error — ours, the framework's, a route that does not exist, an oversized
/// body — as `application/problem+json`, so clients parse one error shape.
async fn problem_errors<E: Endpoint>(
    next: Arc<E>,
    req: Request,
    max_body: usize,
) -> poem::Result<Response> {
    let declared_len = req
        .header(header::CONTENT_LENGTH)
        .and_then(|v| v.parse::<u64>().ok());
    if declared_len.is_some_and(|len| len > max_body as u64) {
        return Ok(ApiError::payload_too_large(max_body).into_response());
    }
    let route = format!("{} {}", req.method(), req.uri().path());
    let response = match next.call(req).await {
        Ok(output) => output.into_response(),
        Err(err) => err.into_response(),
    };
    let status = response.status();
    let is_problem = response
        .content_type()
        .is_some_and(|ct| ct.starts_with("application/problem+json"));
    if !(status.is_client_error() || status.is_server_error()) || is_problem {
        return Ok(response);
    }
    let text = response.into_body().into_string().await.unwrap_or_default();
    Ok(problem_for(status, text.trim(), &route))
}

fn problem_for(status: StatusCode, text: &str, route: &str) -> Response {
    let detail = match status {
        StatusCode::NOT_FOUND => format!("There is no route `{route}`; see /docs."),
        StatusCode::METHOD_NOT_ALLOWED => format!("`{route}`: this method is not allowed here."),
        StatusCode::UNAUTHORIZED => {
            "This operation needs `Authorization: Bearer <API key or service JWT>`.".to_owned()
        }
        StatusCode::PAYLOAD_TOO_LARGE => "The request body is larger than the limit.".to_owned(),
        status if status.is_server_error() => {
            tracing::error!(%status, body = text, "unexpected server error");
            "The gateway failed to handle this request; the cause is in its log.".to_owned()
        }
        _ if text.is_empty() => status.canonical_reason().unwrap_or("Error").to_owned(),
        _ => text.to_owned(),
    };
    let status = if status.is_server_error() && status != StatusCode::SERVICE_UNAVAILABLE {
        StatusCode::INTERNAL_SERVER_ERROR
    } else {
        status
    };
    let body = serde_json::json!({
        "type": "about:blank",
        "title": status.canonical_reason().unwrap_or("Error"),
        "status": status.as_u16(),
        "detail": detail,
    });
    let mut response = Response::builder()
        .status(status)
        .content_type("application/problem+json")
        .body(body.to_string());
    if status == StatusCode::UNAUTHORIZED {
        response.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            header::HeaderValue::from_static("Bearer"),
        );
    }
    response
}
