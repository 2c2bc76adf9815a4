//! Building the application: state, routes, middleware, listener.

use std::net::SocketAddr;
use std::sync::Arc;

use app::domain::municipality::Municipality;
use app::rate_limit::RateLimiter;
use app::receipt_keys::ReceiptKeys;
use app::state::{AppState, Clock};
use app::ui::PageContext;
use app::{shell, App};
use axum::middleware;
use axum::routing::{any, get, post};
use axum::Router;
use leptos::config::LeptosOptions;
use leptos::prelude::provide_context;
use leptos_axum::{generate_route_list_with_exclusions_and_ssg_and_context, LeptosRoutes};
use tokio::net::TcpListener;

use crate::config::Settings;
use crate::{api, caja, garbage, http, jobs, licences, pay, permits, receipts, reconciliation, security, staff};

#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error("no se pudo leer el archivo del municipio {path}")]
    MunicipalityRead {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("el archivo del municipio {path} no es válido")]
    Municipality {
        path: String,
        #[source]
        source: app::domain::municipality::MunicipalityError,
    },
    #[error("zona horaria desconocida «{0}» en el archivo del municipio")]
    TimeZone(String),
    #[error("no se pudo abrir la base de datos")]
    Store(#[from] app::store::StoreError),
    #[error("no se pudieron preparar las llaves de firma de los recibos")]
    ReceiptKeys(#[from] app::receipt_keys::KeyFileError),
    #[error("no se pudo escuchar en {addr}")]
    Bind {
        addr: SocketAddr,
        #[source]
        source: std::io::Error,
    },
}

/// Reads and validates the municipality file.
pub fn load_municipality(settings: &Settings) -> Result<Municipality, StartupError> {
    let path = settings.municipality.display().to_string();
    let text = std::fs::read_to_string(&settings.municipality)
        .map_err(|source| StartupError::MunicipalityRead { path: path.clone(), source })?;
    Municipality::from_toml_str(&text).map_err(|source| StartupError::Municipality { path, source })
}

/// Everything a request needs, built once at start-up.
pub async fn build_state(settings: &Settings) -> Result<AppState, StartupError> {
    let municipality = load_municipality(settings)?;
    let tz: chrono_tz::Tz =
        municipality.timezone.parse().map_err(|_| StartupError::TimeZone(municipality.timezone.clone()))?;
    let store = app::store::Store::connect(&settings.database_url).await?;
    let clock = Clock::new(tz, settings.today);
    // A missing key file with signed receipts in the database is refused:
    // a new key would make every one of them "unknown".
    let signed = store.count_signed_receipts().await?;
    let receipt_keys = ReceiptKeys::load_or_create(&settings.receipt_keys, clock.today(), signed)?;
    let csrf_secret = store.instance_secret("csrf").await?;
    let leptos_options = LeptosOptions::builder()
        .output_name("recauda")
        .site_root(settings.site_root.display().to_string())
        .site_pkg_dir("pkg")
        .site_addr(settings.addr)
        .build();
    Ok(AppState::new(app::state::Services {
        leptos_options,
        store,
        municipality: Arc::new(municipality),
        clock,
        rate_limiter: Arc::new(RateLimiter::per_minute(settings.lookup_limit)),
        trust_forwarded_for: settings.trust_forwarded_for,
        stripe_refresh: if settings.stripe.is_some() {
            app::stripe::StripeRefresh::new()
        } else {
            app::stripe::StripeRefresh::disabled()
        },
        stripe: settings.stripe.clone().map(Arc::new),
        demo_payments: settings.demo_payments && settings.stripe.is_none(),
        public_url: settings.public_url.clone(),
        receipt_keys: Arc::new(receipt_keys),
        csrf_key: app::csrf::CsrfKey::new(csrf_secret),
        cookies: app::csrf::Cookies::for_public_url(&settings.public_url),
    }))
}

/// The whole HTTP surface of the portal.
pub fn router(state: AppState) -> Router {
    // Listing the routes renders `App` once, outside any request: give it
    // the same context a request gets.
    let (routes, _) = generate_route_list_with_exclusions_and_ssg_and_context(App, None, {
        let state = state.clone();
        move || {
            provide_context(state.clone());
            provide_context(PageContext::from_request());
        }
    });
    let options = state.leptos_options.clone();
    let (api, _) = api::routes().split_for_parts();
    let router = Router::new()
        .merge(api)
        // Any other address under /api: the JSON 404, never the site's page.
        .route("/api", any(http::render::api_not_found))
        .route("/api/", any(http::render::api_not_found))
        .route("/api/{*rest}", any(http::render::api_not_found))
        .route("/recibo/{folio}/pdf", get(receipts::pdf))
        .route("/idioma", get(security::switch_language))
        .route("/orden", post(pay::create_order))
        .route("/orden/{token}/pagar", post(pay::pay_order))
        .route("/orden/{token}/cotizar", post(pay::requote_order))
        .route("/prueba/pago/{token}/accion", post(pay::demo_action))
        // The staff (`server::staff`: each route names its roles).
        .route("/personal", get(staff::home))
        .route("/personal/entrar", get(staff::login_form).post(staff::login))
        .route("/personal/entrar/codigo", post(staff::login_code))
        .route("/personal/cuenta/2fa", get(staff::totp).post(staff::totp_enable))
        .route("/personal/cuenta/2fa/desactivar", post(staff::totp_disable))
        .route("/personal/salir", post(staff::logout))
        .route("/personal/salir-todas", post(staff::logout_everywhere))
        .route("/personal/bitacora", get(staff::audit))
        .route("/personal/caja/verificar", get(staff::desk))
        .route("/personal/caja/canjear", post(staff::redeem))
        .route("/personal/caja", get(caja::home))
        .route("/personal/caja/abrir", post(caja::open))
        .route("/personal/caja/cobrar", get(caja::search))
        .route("/personal/caja/orden", post(caja::make_order))
        .route("/personal/caja/orden/{token}", get(caja::order_page))
        .route("/personal/caja/orden/{token}/cobrar", post(caja::take_payment))
        .route("/personal/caja/recibo/{folio}", get(caja::window_receipt))
        .route("/personal/caja/recibo/{folio}/ticket", get(caja::ticket))
        .route("/personal/caja/corte", get(caja::count_form).post(caja::count))
        .route("/personal/caja/corte/{id}", get(caja::corte))
        .route("/personal/caja/corte/{id}/explicacion", post(caja::explain))
        .route("/personal/caja/corte/{id}/pdf", get(caja::corte_pdf))
        .route("/personal/tesoreria/cortes", get(caja::cortes))
        .route("/personal/tesoreria/cortes/{id}/aprobar", post(caja::approve_corte))
        .route("/personal/tesoreria/cheques", get(caja::cheques).post(caja::bounce))
        .route("/personal/tesoreria/exportar", get(caja::export_page))
        .route("/personal/tesoreria/exportar.csv", get(caja::export_csv))
        // The reconciliation with Stripe (`server::reconciliation`).
        .route("/personal/tesoreria/conciliacion", get(reconciliation::index).post(reconciliation::fetch))
        .route("/personal/tesoreria/conciliacion/{payout_id}", get(reconciliation::payout))
        .route("/personal/tesoreria/conciliacion/{payout_id}/aplicar", post(reconciliation::heal))
        // Garbage collection: services and amounts set by staff (`server::garbage`).
        .route("/personal/tesoreria/basura", get(garbage::home))
        .route("/personal/tesoreria/basura/alta", post(garbage::register))
        .route("/personal/tesoreria/basura/multa", post(garbage::fine))
        .route("/personal/tesoreria/basura/servicio", post(garbage::per_service))
        .route("/personal/cancelaciones", get(caja::cancellations).post(caja::request_cancellation))
        .route("/personal/cancelaciones/{id}/aprobar", post(caja::approve_cancellation))
        .route("/personal/cancelaciones/{id}/rechazar", post(caja::reject_cancellation))
        .route("/personal/admin/personal", get(staff::admin).post(staff::admin_create))
        .route("/personal/admin/personal/{usuario}/roles", post(staff::admin_roles))
        .route("/personal/admin/personal/{usuario}/estado", post(staff::admin_state))
        .route("/personal/admin/personal/{usuario}/contrasena", post(staff::admin_password))
        .route("/personal/admin/personal/{usuario}/2fa", post(staff::admin_totp))
        // Alcohol licences: the lookup, the licence's page and its requests
        // (`server::licences`).
        .route("/licencias", get(licences::page))
        .route("/licencias/refrendo", post(licences::renew))
        .route("/licencias/domicilio", post(licences::change_address))
        .route("/licencias/horas-extra", post(licences::extra_hours))
        .route("/tramites/{slug}/solicitar", get(permits::request_form))
        .route("/tramites/solicitud/{token}", get(permits::request_page))
        .route("/tramites/solicitud/{token}/acceso", post(permits::proof))
        .route("/tramites/solicitud/{token}/documento", get(permits::applicant_document))
        .route("/tramites/solicitud/{token}/cancelar", post(permits::cancel))
        .route("/tramites/solicitud/{token}/permiso.pdf", get(permits::permit_pdf))
        .route("/p/{folio}", get(permits::verify))
        .route("/personal/revision", get(permits::queue))
        .route("/personal/revision/{token}", get(permits::review))
        .route("/personal/revision/{token}/documento", get(permits::staff_document))
        .route("/personal/revision/{token}/tomar", post(permits::take))
        .route("/personal/revision/{token}/corregir", post(permits::ask_correction))
        .route("/personal/revision/{token}/aprobar", post(permits::approve))
        .route("/personal/revision/{token}/rechazar", post(permits::reject))
        .leptos_routes_with_context(&state, routes, || {}, move || shell(options.clone()))
        // Every route above answers a method it does not have with the
        // error (JSON under /api, a page elsewhere), not an empty 405.
        .method_not_allowed_fallback(http::render::method_not_allowed)
        .fallback(leptos_axum::file_and_error_handler::<AppState, _>(shell));
    // The desk's photo of a receipt: the one route with a larger body limit
    // (every other route, the fallback included, keeps `MAX_BODY_BYTES`).
    let photo = Router::new()
        .route("/personal/caja/verificar/foto", post(staff::desk_photo))
        .method_not_allowed_fallback(http::render::method_not_allowed);
    // Permit requests and their corrections carry documents.
    let uploads = Router::new()
        .route("/tramites/{slug}/enviar", post(permits::file_request))
        .route("/tramites/solicitud/{token}/corregir", post(permits::resubmit))
        .method_not_allowed_fallback(http::render::method_not_allowed);
    let router = security::limit_bodies(router)
        .merge(security::limit_photo_bodies(photo))
        .merge(security::limit_upload_bodies(uploads, permits::MAX_REQUEST_BODY_BYTES));
    // Outermost: the boundary (id, span, rate limits, errors, headers).
    security::protect(router)
        .layer(middleware::from_fn_with_state(state.clone(), http::boundary::boundary))
        .with_state(state)
}

/// A bound server, ready to run (zero2prod's `Application`).
pub struct Application {
    listener: TcpListener,
    router: Router,
    /// The background jobs, stopped with the server.
    _jobs: jobs::Jobs,
}

impl Application {
    pub async fn build(settings: &Settings) -> Result<Self, StartupError> {
        let state = build_state(settings).await?;
        Self::with_state(settings.addr, state).await
    }

    /// Binds, catches up on what is due (orders past their day), and starts
    /// the background jobs.
    pub async fn with_state(addr: SocketAddr, state: AppState) -> Result<Self, StartupError> {
        let listener = TcpListener::bind(addr).await.map_err(|source| StartupError::Bind { addr, source })?;
        let jobs = jobs::start(&state).await;
        Ok(Self { listener, router: router(state), _jobs: jobs })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.listener.local_addr().expect("a bound listener has an address")
    }

    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        axum::serve(self.listener, self.router.into_make_service_with_connect_info::<SocketAddr>())
            .with_graceful_shutdown(shutdown_signal())
            .await
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = terminate => {} }
}
