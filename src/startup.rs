//! Building the application: database, state, routes and middleware, and serving them.

use std::{future::Future, io, net::SocketAddr, sync::Arc, time::Duration};

use anyhow::Context;
use poem::{
    Endpoint, EndpointExt, Route,
    middleware::{CatchPanic, SetHeader},
    web::Redirect,
};
use tokio::sync::watch;

use crate::{
    config::Config,
    delivery::{Engine, Shared},
    domain::store::{Quotas, Store},
    http::{
        problems::{AllowedMethods, problem_errors},
        state::AppState,
    },
    infra::{
        cipher::SecretBox,
        db,
        metrics::Metrics,
        targets::{Lookup, system_lookup},
        wake::Wake,
    },
};

/// A gateway ready to serve: migrated database, bound socket, delivery engine.
pub struct Application {
    listener: tokio::net::TcpListener,
    state: Arc<AppState>,
    /// `None` for the `api` role, which never sends.
    engine: Option<Engine>,
}

impl Application {
    /// Connects, migrates and binds `config.bind` (port 0 picks a free port).
    pub async fn build(config: Config) -> anyhow::Result<Self> {
        Self::build_with_lookup(config, system_lookup()).await
    }

    /// `build`, with host names resolved by `lookup` (webhook URLs at save and at delivery).
    pub async fn build_with_lookup(config: Config, lookup: Lookup) -> anyhow::Result<Self> {
        config.check()?;
        crate::catalog::install(&config)?;
        // Bound first: a port in use stops the start before the database is touched.
        let listener = tokio::net::TcpListener::bind(config.bind)
            .await
            .with_context(|| format!("cannot listen on {} (KAANHA_BIND)", config.bind))?;
        let db = db::open_to_serve(&config).await?;
        db::migrate(&db).await?;
        let secrets = Arc::new(SecretBox::from_config(&config.security)?);
        let resealed = crate::domain::reseal::reseal_secrets(&db, &secrets).await?;
        if resealed > 0 {
            tracing::info!(
                secrets = resealed,
                "webhook secrets sealed under the current encryption key"
            );
        }
        let (wake, metrics) = (Wake::new(), Arc::<Metrics>::default());
        let engine = if config.role.delivers() {
            let shared = Shared {
                wake: wake.clone(),
                metrics: metrics.clone(),
                lookup: lookup.clone(),
                secrets: secrets.clone(),
            };
            Some(Engine::new(db.clone(), &config, shared)?)
        } else {
            None
        };
        let store = Store {
            db,
            wake,
            secrets,
            quotas: Quotas {
                webhooks: config.limits.max_webhooks_per_org,
                api_keys: config.limits.max_api_keys_per_org,
            },
        };
        let handoff = engine.as_ref().map(Engine::handoff);
        let state = Arc::new(AppState::new(store, config, lookup, handoff, metrics)?);
        Ok(Self {
            listener,
            state,
            engine,
        })
    }

    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// Serves and delivers until `shutdown` resolves; then requests in flight finish (up to
    /// 10 s) and deliveries in flight finish or are given back.
    pub async fn run_until(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> io::Result<()> {
        tracing::info!(addr = ?self.listener.local_addr()?, "kaanha-gateway listening");
        let (stop, stopped) = watch::channel(false);
        let checkpoints = tokio::spawn(crate::infra::checkpoint::run(
            self.state.db.clone(),
            self.state.metrics.clone(),
            stopped.clone(),
        ));
        let limits = self.state.config.limits.clone();
        let trusted_proxies = self.state.config.security.trusted_proxies.clone();
        let server = crate::http::server::serve(
            self.listener,
            routes(self.state, stopped.clone()),
            &limits,
            trusted_proxies,
            stopped.clone(),
            Duration::from_secs(10),
        );
        let engine = self.engine.map(|engine| tokio::spawn(engine.run(stopped)));
        let signal = async move {
            shutdown.await;
            let _ = stop.send(true);
        };
        let (served, ()) = tokio::join!(server, signal);
        if let Some(engine) = engine {
            let _ = engine.await;
        }
        let _ = checkpoints.await;
        served
    }
}

/// Every route of this instance's role, with the middleware that makes all errors
/// problem+json. `/mcp` answers in its own protocol's terms, outside that middleware; its event
/// streams end when `stop` turns true.
pub fn routes(state: Arc<AppState>, stop: watch::Receiver<bool>) -> impl Endpoint {
    let (route, spec) = if state.config.role.serves_api() {
        let api = crate::http::routes::service();
        let spec = api.spec();
        let route = Route::new()
            .at(
                "/",
                poem::get(poem::endpoint::make_sync(|_| Redirect::see_other("/docs"))),
            )
            .at("/api/openapi.json", api.spec_endpoint())
            .nest(
                "/docs",
                api.swagger_ui().with(SetHeader::new().overriding(
                    "content-security-policy",
                    docs_policy(&state.config.security.frame_ancestors),
                )),
            )
            .nest("/console", crate::http::console::routes(&state.config))
            .nest("/", api);
        (route, spec)
    } else {
        let operations = crate::http::routes::operations_service();
        let spec = operations.spec();
        (Route::new().nest("/", operations), spec)
    };
    // The early Content-Length check uses the largest limit; each body type then holds its own.
    let max_body = state
        .config
        .max_body_bytes
        .max(state.config.max_batch_bytes);
    let allowed = Arc::new(AllowedMethods::from_spec(&spec));
    let route = route
        // Inside the problem middleware, so a panic's 500 is answered as a problem too.
        .with(CatchPanic::new())
        .around(move |next, req| problem_errors(next, req, max_body, allowed.clone()));
    let route = if state.config.role.serves_api() {
        let mcp = crate::http::mcp::endpoint(state.clone(), stop).with(CatchPanic::new());
        Route::new()
            .at(crate::apps::describe::MCP_PATH, mcp)
            .nest("/", route)
            .boxed()
    } else {
        route.boxed()
    };
    route
        .around(crate::http::access_log::access_log)
        .data(state)
}

/// The browsable API page inlines its script, style and the spec (no way around
/// `'unsafe-inline'` there), but loads nothing from elsewhere and is framed only where the
/// console may be.
fn docs_policy(frame_ancestors: &str) -> String {
    format!(
        "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; \
         img-src 'self' data:; font-src 'self' data:; connect-src 'self'; base-uri 'none'; \
         form-action 'none'; frame-ancestors {frame_ancestors}"
    )
}
