//! `recauda`: the portal's single binary.
//!
//! ```text
//! recauda [serve]                 run the portal
//! recauda import padron FILE.csv  import a padrón (all or nothing)
//! recauda demo [--accounts N]     import the demo padrón, then serve
//! recauda precompress DIR         write brotli copies of static assets
//! ```

use std::path::PathBuf;
use std::process::ExitCode;

use server::config::Settings;
use server::startup::{build_state, Application};

const USAGE: &str = "uso:
  recauda [serve]                  inicia el portal
  recauda import padron ARCHIVO    importa un padrón CSV (todo o nada)
  recauda demo [--accounts N]      carga el padrón de demostración e inicia el portal
  recauda precompress DIR          comprime (brotli) los archivos estáticos de DIR";

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("RECAUDA_LOG")
                .unwrap_or_else(|_| "info,sqlx=warn".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let args: Vec<String> = std::env::args().skip(1).collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    match run(&args).await {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e}");
            let mut source = std::error::Error::source(e.as_ref());
            while let Some(cause) = source {
                eprintln!("  causa: {cause}");
                source = cause.source();
            }
            ExitCode::FAILURE
        }
    }
}

type AnyError = Box<dyn std::error::Error + Send + Sync>;

async fn run(args: &[&str]) -> Result<ExitCode, AnyError> {
    match args {
        [] | ["serve"] => {
            let settings = Settings::load()?;
            serve(&settings, build_state(&settings).await?).await
        }
        ["import", "padron", file] => {
            let settings = Settings::load()?;
            let store = app::store::connect(&settings.database_url).await?;
            match server::import::run_import(store.as_ref(), &PathBuf::from(file)).await {
                Ok(summary) => {
                    println!("{summary}");
                    Ok(ExitCode::SUCCESS)
                }
                Err(e) => {
                    eprintln!("{e}");
                    eprintln!("No se importó nada.");
                    Ok(ExitCode::FAILURE)
                }
            }
        }
        ["demo", rest @ ..] => {
            let accounts = match rest {
                [] => 300,
                ["--accounts", n] => n.parse().map_err(|_| format!("--accounts espera un número, no «{n}»"))?,
                _ => return usage(),
            };
            let settings = Settings::load()?;
            let state = build_state(&settings).await?;
            let rows = server::demo::demo_padron(accounts, 2026, state.clock.today());
            let summary = state.store.import_padron(&rows, &|_| {}).await?;
            println!("Padrón de demostración: {summary}");
            println!("Pruebe con estas cuentas y RFC:");
            for line in server::demo::demo_showcase(&rows) {
                println!("  {line}");
            }
            serve(&settings, state).await
        }
        ["precompress", dir] => {
            let (files, raw, br) = server::precompress::precompress_dir(&PathBuf::from(dir))?;
            println!("{files} archivos: {raw} bytes → {br} bytes brotli");
            Ok(ExitCode::SUCCESS)
        }
        ["--help" | "-h" | "help"] => {
            println!("{USAGE}");
            Ok(ExitCode::SUCCESS)
        }
        _ => usage(),
    }
}

fn usage() -> Result<ExitCode, AnyError> {
    eprintln!("{USAGE}");
    Ok(ExitCode::from(2))
}

async fn serve(settings: &Settings, state: app::state::AppState) -> Result<ExitCode, AnyError> {
    tracing::info!(
        database = %settings.database_url_for_logs(),
        municipality = %settings.municipality.display(),
        today = %state.clock.today(),
        payments = if state.stripe.is_some() { "stripe" } else { "demo" },
        "starting Recauda"
    );
    if state.stripe.as_ref().is_some_and(|s| s.webhook_secret.is_none()) {
        tracing::warn!("RECAUDA_STRIPE_WEBHOOK_SECRET is not set: every Stripe webhook will be refused");
    }
    let app = Application::with_state(settings.addr, state).await?;
    println!("Recauda escuchando en http://{}", app.local_addr());
    app.run_until_stopped().await?;
    Ok(ExitCode::SUCCESS)
}
