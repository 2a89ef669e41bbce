//! The HTTP shell (actix-web): the intake form, the JSON API, health checks.
//!
//! [`build_app`] wires configuration, store, mailer and outbox into a bound
//! server; `handoff-gate serve` and the integration tests both use it.
//!
//! ```no_run
//! # async fn example() -> Result<(), Box<dyn std::error::Error>> {
//! use handoff_gate::config::Config;
//! use handoff_gate::web::build_app;
//!
//! let app = build_app(Config::load(None)?).await?;
//! println!("listening on {}", app.address());
//! app.run().await?;
//! # Ok(()) }
//! ```

mod api;
mod assets;
mod body;
mod embed;
mod error;
mod guard;
mod health;
mod held;
pub mod inbox;
mod openapi;
mod pages;
mod submit;
mod thanks;
mod token;

use std::net::{SocketAddr, TcpListener};
use std::path::Path;
use std::time::Duration;

use actix_web::middleware::from_fn;
use actix_web::{App as ActixApp, HttpServer, web};

pub use api::{NEXT_STEP_FALLBACK, ROTATE};
pub use error::ApiError;
pub(crate) use held::rfc3339;
pub use openapi::ApiDoc;
pub use token::{TokenCheck, TokenKey};

use crate::config::{Config, Secret};
use crate::deliver::autoresponse::{Autoresponder, AutoresponseError};
use crate::deliver::webhook::{WebhookError, Webhooks};
use crate::deliver::{DeliverError, Mailer, Outbox};
use crate::metrics::Metrics;
use crate::pipeline::{Pipeline, PipelineError};
use crate::store::{Store, StoreError, StoreOptions};

/// Why the gateway could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// A detector or triage rules file is wrong.
    #[error(transparent)]
    Pipeline(#[from] PipelineError),
    /// The store could not be opened.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The mailer could not be set up.
    #[error(transparent)]
    Deliver(#[from] DeliverError),
    /// The autoresponse could not be set up.
    #[error(transparent)]
    Autoresponse(#[from] AutoresponseError),
    /// The webhooks could not be set up.
    #[error(transparent)]
    Webhooks(#[from] WebhookError),
    /// The listen address is taken or not ours.
    #[error("cannot listen on {address}: {source}")]
    Listen {
        /// The configured address.
        address: SocketAddr,
        /// What the OS said.
        source: std::io::Error,
    },
    /// A generated secret could not be kept.
    #[error("cannot keep the generated secret {path}: {source}")]
    Secret {
        /// The file.
        path: String,
        /// What went wrong.
        source: std::io::Error,
    },
}

/// Everything a request handler needs.
pub struct AppState {
    /// The configuration.
    pub config: Config,
    /// Scrub and triage, as every channel does.
    pub pipeline: Pipeline,
    /// The store.
    pub store: Store,
    /// The outbox worker (woken after each stored intake).
    pub outbox: Outbox,
    /// The webhook worker (woken after each stored intake; idle without endpoints).
    pub webhooks: Webhooks,
    /// The autoresponse worker (idle while `autoresponse.enabled` is off).
    pub autoresponder: Autoresponder,
    /// Signs form tokens.
    pub token_key: TokenKey,
    /// The admin bearer token.
    pub admin_token: Secret,
    /// The per-address limiter on POST routes.
    pub limiter: Option<guard::Limiter>,
    /// The Prometheus metrics.
    pub metrics: Metrics,
    /// The Content-Security-Policies, built once.
    pub policies: embed::Policies,
    /// Refused framing origins logged within the hour.
    pub refused_framers: embed::RefusedFramers,
    /// The consultant's inbox: sessions, sign-in limits, the model in use.
    pub inbox: inbox::InboxState,
}

/// A bound, ready-to-run gateway.
pub struct App {
    address: SocketAddr,
    server: actix_web::dev::Server,
    state: web::Data<AppState>,
}

impl App {
    /// The address it listens on (the real port when 0 was asked for).
    pub fn address(&self) -> SocketAddr {
        self.address
    }

    /// The shared state: store, outbox, counters.
    pub fn state(&self) -> web::Data<AppState> {
        self.state.clone()
    }

    /// A handle that stops the server gracefully.
    pub fn handle(&self) -> actix_web::dev::ServerHandle {
        self.server.handle()
    }

    /// Serve until stopped, delivering the outbox in the background; at the
    /// end, the outbox finishes the email it is sending.
    pub async fn run(self) -> std::io::Result<()> {
        let worker = tokio::spawn(self.state.outbox.clone().run());
        let hooks = tokio::spawn(self.state.webhooks.clone().run());
        let autoresponses = tokio::spawn(self.state.autoresponder.clone().run());
        let forgetting = tokio::spawn(forget_quiet_clients(self.state.clone()));
        let result = self.server.await;
        // Let the worker finish the email it is sending, so a stop never
        // repeats one; a relay that hangs is cut off after its timeout.
        self.state.outbox.stop();
        self.state.webhooks.stop();
        self.state.autoresponder.stop();
        let grace = Duration::from_secs(self.state.config.smtp.timeout_seconds + 5);
        let mut worker = worker;
        if tokio::time::timeout(grace, &mut worker).await.is_err() {
            worker.abort();
        }
        forgetting.abort();
        let grace = Duration::from_secs(self.state.config.webhooks.timeout_seconds + 1);
        let mut hooks = hooks;
        if tokio::time::timeout(grace, &mut hooks).await.is_err() {
            hooks.abort();
            tracing::warn!(
                "a webhook delivery was cut off at the stop; it is retried after its lease"
            );
        }
        let grace = Duration::from_secs(self.state.config.smtp.timeout_seconds + 1);
        let mut autoresponses = autoresponses;
        if tokio::time::timeout(grace, &mut autoresponses)
            .await
            .is_err()
        {
            autoresponses.abort();
        }
        self.state.store.close().await;
        result
    }
}

/// Every minute, drop the rate limiters' state for addresses whose quota
/// has refilled, so many one-off clients do not grow it without bound.
async fn forget_quiet_clients(state: web::Data<AppState>) {
    let mut tick = tokio::time::interval(std::time::Duration::from_secs(60));
    loop {
        tick.tick().await;
        if let Some(limiter) = &state.limiter {
            limiter.retain_recent();
            limiter.shrink_to_fit();
        }
        state.inbox.forget_quiet_clients();
    }
}

/// Open the store, set up the mailer and the outbox, bind the listener.
pub async fn build_app(config: Config) -> Result<App, StartError> {
    let pipeline = Pipeline::load(&config.pipeline_sources())?;
    let store = Store::open_with(
        &config.store.url,
        StoreOptions {
            max_bytes: (config.store.max_size_mb > 0)
                .then(|| config.store.max_size_mb.saturating_mul(1024 * 1024)),
        },
    )
    .await?;
    let mailer = Mailer::from_config(&config)?;
    let metrics = Metrics::new();
    let autoresponse_mailer = mailer.clone();
    let outbox = Outbox::new(
        &config,
        store.clone(),
        mailer,
        pipeline.rules().clone(),
        metrics.clone(),
    )?;
    let webhooks = Webhooks::start(&config, store.clone(), metrics.clone()).await?;
    let autoresponder = Autoresponder::start(
        &config,
        store.clone(),
        autoresponse_mailer,
        pipeline.rules().clone(),
        metrics.clone(),
    )
    .await?;
    let key_hex = keep_secret(&config.data_dir, "form-token.key", || {
        TokenKey::random().to_hex()
    })
    .await?;
    // Replicas must share this key: a bad file stops the start rather than
    // signing with a key of this process's own.
    let token_key = TokenKey::from_hex(&key_hex).ok_or_else(|| StartError::Secret {
        path: config.data_dir.join("form-token.key").display().to_string(),
        source: std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            "expected 64 hex characters (32 bytes); fix it, or delete it to generate a new key",
        ),
    })?;
    let admin_token = match &config.admin.token {
        Some(token) => token.clone(),
        None => Secret::new(
            keep_secret(&config.data_dir, "admin-token", || {
                TokenKey::random().to_hex()
            })
            .await?,
        ),
    };
    let inbox = inbox::InboxState::open(&config, &store, &pipeline, &key_hex).await?;
    let listener =
        TcpListener::bind(config.server.listen).map_err(|source| StartError::Listen {
            address: config.server.listen,
            source,
        })?;
    let address = listener.local_addr().map_err(|source| StartError::Listen {
        address: config.server.listen,
        source,
    })?;
    let workers = match config.server.workers {
        0 => std::thread::available_parallelism().map_or(2, usize::from),
        n => n,
    };
    let state = web::Data::new(AppState {
        limiter: guard::limiter(config.limits.per_ip_per_minute),
        pipeline,
        store,
        outbox,
        webhooks,
        autoresponder,
        token_key,
        admin_token,
        metrics,
        policies: embed::Policies::new(&config.embed.allowed_origins),
        refused_framers: embed::RefusedFramers::default(),
        inbox,
        config,
    });
    let shared = state.clone();
    let limits = &state.config.limits;
    let slots = guard::ConnectionSlots::new(
        limits.connections_per_ip,
        state.config.server.trusted_proxies.clone(),
    );
    let server = HttpServer::new(move || {
        ActixApp::new()
            .app_data(shared.clone())
            .wrap(from_fn(guard::rate_limit))
            .wrap(from_fn(guard::connection_cap))
            .wrap(from_fn(embed::security_headers))
            .wrap(from_fn(guard::request_log))
            .configure(|cfg| routes(cfg, &shared))
    })
    .client_request_timeout(Duration::from_secs(limits.header_timeout_seconds))
    .on_connect(move |connection, data| slots.admit(connection, data))
    .workers(workers)
    .listen(listener)
    .map_err(|source| StartError::Listen { address, source })?
    .run();
    Ok(App {
        address,
        server,
        state,
    })
}

fn routes(cfg: &mut web::ServiceConfig, state: &AppState) {
    let allowed = &state.config.embed.allowed_origins;
    inbox::routes(cfg, state);
    cfg.route("/", web::get().to(pages::form))
        .route("/intake", web::post().to(pages::submit))
        .route("/thanks/{id}", web::get().to(thanks::thanks))
        .route("/embed", web::get().to(pages::embed))
        .route("/embed/thanks/{id}", web::get().to(thanks::embed_thanks))
        .route("/embed.js", web::get().to(assets::embed_script))
        .route("/assets/gate.css", web::get().to(assets::stylesheet))
        .route("/assets/inbox.css", web::get().to(assets::inbox_stylesheet))
        .route("/assets/theme.css", web::get().to(embed::theme_css))
        .route("/assets/form.js", web::get().to(assets::form_script))
        .route("/assets/detect.js", web::get().to(assets::detect_script))
        .route("/assets/wasm/scrub.js", web::get().to(assets::scrub_glue))
        .service(
            web::resource("/assets/wasm/scrub_bg.wasm")
                .wrap(actix_web::middleware::Compress::default())
                .get(assets::scrub_module),
        )
        .route("/assets/favicon.svg", web::get().to(assets::favicon))
        .route("/favicon.ico", web::get().to(assets::favicon))
        .service(
            web::scope("/api/v1")
                .wrap(embed::cors(allowed))
                .route("/intakes", web::post().to(api::create_intake))
                .route("/intakes/{id}", web::delete().to(api::erase_intake))
                .route("/held", web::get().to(held::list))
                .route("/held/{id}/release", web::post().to(held::release))
                .route("/triage", web::post().to(api::triage_batch))
                .route("/form-token", web::get().to(api::form_token))
                .route("/openapi.json", web::get().to(openapi::document))
                .default_service(web::to(pages::not_found)),
        )
        .route("/healthz", web::get().to(health::alive))
        .route("/readyz", web::get().to(health::ready))
        .route("/metrics", web::get().to(health::metrics))
        .default_service(web::to(pages::not_found));
}

/// Read a generated secret from `dir/name`, creating it (mode 0600) first
/// if absent. Replicas starting together on one folder agree: the file is
/// created exclusively, and whoever loses the race reads the winner's value.
async fn keep_secret(
    dir: &Path,
    name: &str,
    generate: impl FnOnce() -> String,
) -> Result<String, StartError> {
    use std::io::Write;
    let path = dir.join(name);
    let fail = |source| StartError::Secret {
        path: path.display().to_string(),
        source,
    };
    crate::private_files::create_dir_all(dir).map_err(fail)?;
    let mut options = crate::private_files::file_options();
    options.create_new(true);
    match options.open(&path) {
        Ok(mut file) => {
            let value = generate();
            file.write_all(value.as_bytes()).map_err(fail)?;
            file.sync_all().map_err(fail)?;
            tracing::info!(path = %path.display(), "generated a secret");
            Ok(value)
        }
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            // It may be being written right now: give the writer a moment.
            for _ in 0..50 {
                let text = std::fs::read_to_string(&path).map_err(fail)?;
                if !text.trim().is_empty() {
                    return Ok(text.trim().to_owned());
                }
                tokio::time::sleep(std::time::Duration::from_millis(20)).await;
            }
            Err(fail(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                "the file is empty; delete it to generate a new secret",
            )))
        }
        Err(e) => Err(fail(e)),
    }
}
