//! `recauda`: the portal's single binary.
//!
//! ```text
//! recauda [serve]                 run the portal
//! recauda import padron FILE.csv  import a padrón (all or nothing)
//! recauda licencias importar FILE.csv
//!                                 load the alcohol licences' registry (all or nothing)
//! recauda demo [--accounts N]     import the demo padrón, then serve
//! recauda precompress DIR         write brotli copies of static assets
//! recauda verify URL [--total T --fecha F --cuenta C] [--llaves FILE]
//!                                 check a receipt's QR code (online, or offline)
//! recauda llaves rotar            retire the receipt signing key, start a new one
//! recauda ajustes                 list refunds, disputes and unapplied money to refund
//! recauda recibo cancelar FOLIO MOTIVO --admin USUARIO
//!                                       emergency cancellation under an admin's name (the folio stays)
//! recauda staff create --user NAME --role ROLE… [--nombre NAME] --password-stdin
//!                                  create a staff account (the first admin)
//! recauda basura alta CUENTA TARIFA --desde AAAA-MM-DD [--factor UMA] [--motivo TEXTO]
//!                                  register a business's monthly garbage collection (the factor:
//!                                  a range tariff's monthly factor, within its range)
//! recauda basura baja CUENTA --hasta AAAA-MM-DD
//!                                  end it (its last day served)
//! recauda cargos generar basura --mes AAAA-MM
//!                                  the month's garbage charges (idempotent, all or nothing)
//! recauda audit verify             check the audit trail's hash chain (exit 1 names the first bad entry)
//! recauda audit list [N]           the last N entries of the audit trail
//! ```

/// The production allocator (see server/Cargo.toml).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::path::PathBuf;
use std::process::ExitCode;

use server::config::Settings;
use server::startup::{build_state, Application};

const USAGE: &str = "uso:
  recauda [serve]                  inicia el portal
  recauda import padron ARCHIVO    importa un padrón CSV (todo o nada)
  recauda licencias importar ARCHIVO
                                   carga el registro de licencias de alcoholes (CSV: number,rfc,name,giro,
                                   address,hours,status; todo o nada)
  recauda demo [--accounts N]      carga el padrón de demostración e inicia el portal
  recauda precompress DIR          comprime (brotli) los archivos estáticos de DIR
  recauda verify URL               verifica el código QR de un recibo con el portal que lo emitió
      [--total 1234.50 --fecha 2026-11-22 --cuenta P-000123 --llaves llaves.json]
                                   … o sin red, con los datos impresos y las llaves publicadas
  recauda llaves rotar             retira la llave de firma de recibos y crea una nueva
  recauda ajustes                  lista reembolsos, contracargos y pagos no aplicados por reembolsar
  recauda recibo cancelar FOLIO MOTIVO --admin USUARIO
                                        cancelación de emergencia a nombre de un administrador (el folio
                                        se conserva; lo normal es /personal/cancelaciones, con dos personas)
  recauda staff create --user NOMBRE --role ROL [--role ROL…] [--nombre «Nombre Apellido»] --password-stdin
                                   crea una cuenta del personal (roles: cajero, revisor, tesorero, admin);
                                   la contraseña se lee de la entrada estándar, nunca de los argumentos
  recauda basura alta CUENTA TARIFA --desde AAAA-MM-DD [--factor UMA] [--motivo TEXTO]
                                   registra el servicio mensual de recolección de basura de un establecimiento
                                   (tarifas mensuales del archivo del municipio: BAS-A-2S … BAS-F-2S, y BAS-I
                                   con el factor mensual que fija la tesorería dentro de su rango)
  recauda basura baja CUENTA --hasta AAAA-MM-DD
                                   da de baja el servicio (la fecha es su último día)
  recauda cargos generar basura --mes AAAA-MM
                                   genera los cargos del mes de cada servicio activo (todo o nada; repetirlo
                                   no crea nada nuevo)
  recauda audit verify             verifica la bitácora de auditoría (sale con error si fue alterada)
  recauda audit list [N]           muestra las últimas N entradas de la bitácora (50)";

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("RECAUDA_LOG").unwrap_or_else(|_| "info,sqlx=warn".into()),
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
            let store = app::store::Store::connect(&settings.database_url).await?;
            Ok(import_outcome(server::import::run_import(&store, &PathBuf::from(file)).await))
        }
        ["licencias", "importar", file] | ["import", "licencias", file] => {
            let settings = Settings::load()?;
            let municipality = server::startup::load_municipality(&settings)?;
            let store = app::store::Store::connect(&settings.database_url).await?;
            let path = PathBuf::from(file);
            Ok(import_outcome(
                server::licence_import::run_licence_import(&store, &municipality, &path, &cli_actor()).await,
            ))
        }
        ["demo", rest @ ..] => {
            let accounts = match rest {
                [] => 300,
                ["--accounts", n] => n.parse().map_err(|_| format!("--accounts espera un número, no «{n}»"))?,
                _ => return usage(),
            };
            let mut settings = Settings::load()?;
            // The demonstration takes "payments" that move no money (unless
            // Stripe's test keys are configured).
            settings.demo_payments = settings.stripe.is_none();
            let state = build_state(&settings).await?;
            let rows = server::demo::demo_padron(accounts, 2026, state.clock.today());
            let summary = state.store.import_padron(&rows, &|_| {}).await?;
            println!("Padrón de demostración: {summary}");
            println!("Pruebe con estas cuentas y RFC:");
            for line in server::demo::demo_showcase(&rows) {
                println!("  {line}");
            }
            let licences = server::demo::demo_licences(&rows, &state.municipality);
            let summary = state.store.import_licences(&licences, "demo", chrono::Utc::now()).await?;
            println!("Licencias de alcoholes de demostración: {summary}");
            println!("Refrende una en /licencias con su número y RFC:");
            for line in server::demo::licence_showcase(&licences, &rows, &state.municipality, state.clock.today()) {
                println!("  {line}");
            }
            serve(&settings, state).await
        }
        ["precompress", dir] => {
            let (files, raw, br) = server::precompress::precompress_dir(&PathBuf::from(dir))?;
            println!("{files} archivos: {raw} bytes → {br} bytes brotli");
            Ok(ExitCode::SUCCESS)
        }
        ["verify", url, rest @ ..] => {
            let mut options = server::verify_cli::Options::parse(rest)?;
            // Pinned in the configuration: the portal and, when set, its keyring.
            let settings = Settings::load()?;
            options.portal = options.portal.or(Some(settings.public_url.clone()));
            options.keys = options.keys.or(settings.verify_keys.as_ref().map(|p| p.display().to_string()));
            let client = reqwest::Client::builder().timeout(std::time::Duration::from_secs(20)).build()?;
            let outcome = server::verify_cli::run(url, &options, &client).await?;
            if let Some(facts) = &outcome.facts {
                println!(
                    "Folio {}  total {}  fecha {}  cuenta {}",
                    facts.folio(),
                    facts.total().display_mxn(),
                    facts.issue_date(),
                    facts.account()
                );
            }
            if let Some(portal) = &outcome.portal {
                println!("Portal: {portal}");
            }
            println!("Firma: {}", outcome.verdict.message_es());
            println!("Resultado: {}", outcome.conclusion_es());
            Ok(if outcome.accepted() { ExitCode::SUCCESS } else { ExitCode::FAILURE })
        }
        ["ajustes"] => {
            // The treasury's list: refunds and disputes Stripe reported, and
            // money received that was never applied (to refund).
            let settings = Settings::load()?;
            let store = app::store::Store::connect(&settings.database_url).await?;
            let adjustments = store.adjustments().await?;
            println!("Reembolsos y contracargos ({}):", adjustments.len());
            for a in &adjustments {
                println!(
                    "  {}  orden {}  {}  {}  {}  recibo {} ({})  {}",
                    a.created_at.format("%Y-%m-%d %H:%M"),
                    a.reference,
                    a.kind.label_es(),
                    a.amount.display_mxn(),
                    a.provider_ref,
                    a.folio.as_deref().unwrap_or("—"),
                    a.receipt_status.as_deref().unwrap_or("sin recibo"),
                    a.detail.as_deref().unwrap_or("")
                );
            }
            let mut pending = store.overpayments_to_refund(app::domain::payment::Provider::Stripe).await?;
            pending.extend(store.overpayments_to_refund(app::domain::payment::Provider::Demo).await?);
            println!("Pagos no aplicados por reembolsar ({}):", pending.len());
            for o in &pending {
                println!(
                    "  {}  orden #{}  {}  {}  {}  {}",
                    o.created_at.format("%Y-%m-%d %H:%M"),
                    o.order_id,
                    o.reason,
                    o.amount.display_mxn(),
                    o.payment_intent.as_deref().unwrap_or("—"),
                    o.refund_error.as_deref().unwrap_or("")
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        ["llaves", "rotar"] => {
            let settings = Settings::load()?;
            let today = match settings.today {
                Some(d) => d,
                None => {
                    let m = server::startup::load_municipality(&settings)?;
                    let tz: chrono_tz::Tz = m.timezone.parse().map_err(|_| format!("zona horaria «{}»", m.timezone))?;
                    chrono::Utc::now().with_timezone(&tz).date_naive()
                }
            };
            let (old, new) = app::receipt_keys::ReceiptKeys::rotate(&settings.receipt_keys, today)?;
            println!("Llave {old} retirada (vigente hasta {today}); los recibos nuevos se firman con {new}.");
            let details =
                serde_json::json!({ "retired": old.to_string(), "new": new.to_string(), "valid_until": today });
            let recorded = match app::store::Store::connect(&settings.database_url).await {
                Ok(store) => store
                    .record_audit(&cli_actor(), app::store::AuditAction::KeysRotated, details, chrono::Utc::now())
                    .await
                    .map(|_| ()),
                Err(e) => Err(e),
            };
            if let Err(e) = recorded {
                eprintln!("Aviso: la rotación no quedó en la bitácora de auditoría ({}).", e.message_es());
            }
            println!(
                "Los servidores que usan este archivo la toman solos en unos segundos, sin reiniciar. \
                 Los recibos anteriores siguen verificándose."
            );
            Ok(ExitCode::SUCCESS)
        }
        ["recibo", "cancelar", folio, rest @ ..] => {
            // The emergency path: the workflow (/personal/cancelaciones)
            // needs two people; this one names the admin who answers for it.
            let admin_at = rest.iter().position(|a| *a == "--admin");
            let (reason, admin) = match admin_at {
                Some(i) if i + 1 < rest.len() => {
                    let mut words: Vec<&str> = rest[..i].to_vec();
                    words.extend_from_slice(&rest[i + 2..]);
                    (words.join(" "), rest[i + 1])
                }
                _ => {
                    return Err("falta --admin USUARIO: la cancelación de emergencia se hace a nombre de un \
                                 administrador activo (lo normal es solicitarla en /personal/cancelaciones)"
                        .into())
                }
            };
            if reason.trim().chars().count() < 10 {
                return Err("escriba el motivo de la cancelación (al menos 10 caracteres)".into());
            }
            let settings = Settings::load()?;
            let store = app::store::Store::connect(&settings.database_url).await?;
            let folio = app::domain::folio::Folio::parse(folio).map_err(|e| e.message_es().to_string())?;
            let username = app::domain::staff::Username::parse(admin).map_err(|e| e.to_string())?;
            let is_admin = store
                .staff_by_username(&username)
                .await?
                .is_some_and(|u| u.active && u.roles.contains(app::domain::staff::Role::Admin));
            if !is_admin {
                return Err(format!("«{username}» no es un administrador activo").into());
            }
            let actor = format!("staff:{username} ({})", cli_actor());
            if store.cancel_receipt(&folio, reason.trim(), &actor, chrono::Utc::now()).await? {
                println!("Recibo {folio} cancelado: {}", reason.trim());
                Ok(ExitCode::SUCCESS)
            } else {
                eprintln!("No hay un recibo vigente con el folio {folio}.");
                Ok(ExitCode::FAILURE)
            }
        }
        ["staff", "create", flags @ ..] | ["personal", "crear", flags @ ..] => {
            let args = StaffArgs::parse(flags)?;
            let mut password = String::new();
            std::io::stdin().read_line(&mut password).map_err(|e| format!("no se pudo leer la contraseña: {e}"))?;
            let password = password.trim_end_matches(['\n', '\r']).to_string();
            let settings = Settings::load()?;
            let store = app::store::Store::connect(&settings.database_url).await?;
            let display_name = args.display_name.clone().unwrap_or_else(|| args.username.to_string());
            let roles = args.roles.iter().map(|r| r.label_es()).collect::<Vec<_>>().join(", ");
            let roles_set = app::domain::staff::Roles::new(args.roles.iter().copied());
            match app::staff::create_staff(
                &store,
                &args.username,
                &display_name,
                roles_set,
                password,
                &cli_actor(),
                chrono::Utc::now(),
            )
            .await
            {
                Ok(id) => {
                    println!("Usuario «{}» creado (núm. {id}) con los roles: {roles}.", args.username);
                    Ok(ExitCode::SUCCESS)
                }
                Err(e) => {
                    eprintln!("No se creó el usuario: {e}.");
                    Ok(ExitCode::FAILURE)
                }
            }
        }
        ["basura", rest @ ..] => server::garbage::cli_service(rest, &cli_actor()).await,
        ["cargos", "generar", "basura", rest @ ..] => server::garbage::cli_generate(rest, &cli_actor()).await,
        ["audit", "verify"] | ["auditoria", "verificar"] => {
            let settings = Settings::load()?;
            let store = app::store::Store::connect(&settings.database_url).await?;
            let check = store.verify_audit().await?;
            match check.first_bad {
                None => {
                    println!("Bitácora íntegra: {} entradas, encadenadas sin alteraciones.", check.entries);
                    Ok(ExitCode::SUCCESS)
                }
                Some((seq, why)) => {
                    eprintln!("Bitácora ALTERADA: la primera entrada con problema es la {seq}: {why}.");
                    Ok(ExitCode::FAILURE)
                }
            }
        }
        ["audit", "list", rest @ ..] | ["auditoria", "ver", rest @ ..] if rest.len() <= 1 => {
            let settings = Settings::load()?;
            let limit: i64 = match rest.first() {
                Some(n) => n.parse().map_err(|_| format!("«{n}» no es un número de entradas"))?,
                None => 50,
            };
            let store = app::store::Store::connect(&settings.database_url).await?;
            for e in store.latest_audit(limit).await? {
                println!("{:>8}  {}  {:<12}  {:<20}  {}", e.seq, e.at, e.actor, e.action, e.details);
            }
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
        payments = state.online_provider().map_or("none (pay at the window)", |p| p.as_str()),
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

/// Who an operator's command acts as in the audit trail: `cli:` and the
/// system user running it.
fn cli_actor() -> String {
    let user = std::env::var("SUDO_USER").or_else(|_| std::env::var("USER")).unwrap_or_else(|_| "desconocido".into());
    format!("cli:{user}")
}

/// The flags of `recauda staff create`.
struct StaffArgs {
    username: app::domain::staff::Username,
    display_name: Option<String>,
    roles: Vec<app::domain::staff::Role>,
}

impl StaffArgs {
    fn parse(flags: &[&str]) -> Result<StaffArgs, String> {
        let (mut username, mut display_name, mut role_names, mut stdin) = (None, None, Vec::new(), false);
        let mut it = flags.iter();
        while let Some(flag) = it.next() {
            let mut value = |name: &str| it.next().copied().ok_or_else(|| format!("falta el valor de {name}"));
            match *flag {
                "--user" | "--usuario" => username = Some(value(flag)?),
                "--role" | "--rol" => role_names.push(value(flag)?),
                "--nombre" | "--name" => display_name = Some(value(flag)?.to_string()),
                "--password-stdin" => stdin = true,
                "--password" => {
                    return Err("la contraseña no se acepta como argumento (quedaría en el historial): \
                                escríbala en la entrada estándar con --password-stdin"
                        .into())
                }
                other => return Err(format!("opción desconocida «{other}»")),
            }
        }
        if !stdin {
            return Err("indique --password-stdin: la contraseña se lee de la entrada estándar".into());
        }
        let username =
            app::domain::staff::Username::parse(username.ok_or("falta --user NOMBRE")?).map_err(|e| e.to_string())?;
        let roles = app::domain::staff::parse_roles(role_names).map_err(|e| e.to_string())?;
        Ok(StaffArgs { username, display_name, roles: roles.iter().collect() })
    }
}

/// An import's end, all or nothing: its summary, or why nothing was
/// imported (exit code 1).
fn import_outcome(result: Result<impl std::fmt::Display, impl std::fmt::Display>) -> ExitCode {
    match result {
        Ok(summary) => {
            println!("{summary}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("{e}");
            eprintln!("No se importó nada.");
            ExitCode::FAILURE
        }
    }
}
