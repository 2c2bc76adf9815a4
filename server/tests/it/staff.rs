//! Staff accounts: `recauda staff create` (the first admin, password on
//! standard input), argon2id hashes, logins with a lockout after repeated
//! failures, and every step in the audit trail — on SQLite and PostgreSQL.

use std::io::Write;
use std::process::{Command, Stdio};

use app::domain::staff::{Role, Roles, Username};
use app::staff::{authenticate, create_staff, CreateStaffError, LoginError, LOCK_AFTER_FAILURES, LOCK_MINUTES};
use app::store::Store;
use chrono::Duration;
use sqlx::Connection;

const PASSWORD: &str = "caballo correcto batería grapa";

/// Runs `recauda staff create ARGS` with `stdin` on a database.
fn staff_create(url: &str, dir: &std::path::Path, args: &[&str], stdin: &str) -> (bool, String, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_recauda"))
        .args(["staff", "create"])
        .args(args)
        .current_dir(dir)
        .env("RECAUDA_DATABASE_URL", url)
        .env_remove("RECAUDA_CONFIG")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(stdin.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    (out.status.success(), String::from_utf8_lossy(&out.stdout).into(), String::from_utf8_lossy(&out.stderr).into())
}

#[tokio::test]
async fn the_first_admin_is_created_from_the_command_line_with_the_password_on_stdin() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("staff.db").display());
    let store = Store::connect(&url).await.unwrap();
    let admin = ["--user", "Admin.Loreto", "--role", "admin", "--nombre", "Ana Admin", "--password-stdin"];

    let (ok, out, err) = staff_create(&url, dir.path(), &admin, &format!("{PASSWORD}\n"));
    assert!(ok, "{out}{err}");
    assert!(out.contains("Usuario «admin.loreto» creado") && out.contains("Administrador(a)"), "{out}");
    let user = store.staff_by_username(&Username::parse("admin.loreto").unwrap()).await.unwrap().unwrap();
    assert_eq!(
        (user.display_name.as_str(), user.roles.to_stored().as_str(), user.active),
        ("Ana Admin", "admin", true)
    );
    assert!(user.password_hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{}", user.password_hash);
    assert!(!user.password_hash.contains(PASSWORD));

    // Refused, and nothing changes: the same name, a short password, a
    // password as an argument, no --password-stdin, an unknown role.
    let (ok, _, err) = staff_create(&url, dir.path(), &admin, &format!("{PASSWORD}\n"));
    assert!(!ok && err.contains("ya existe un usuario «admin.loreto»"), "{err}");
    let (ok, _, err) =
        staff_create(&url, dir.path(), &["--user", "caja1", "--role", "cajero", "--password-stdin"], "corta\n");
    assert!(!ok && err.contains("al menos 12 caracteres"), "{err}");
    let (ok, _, err) =
        staff_create(&url, dir.path(), &["--user", "caja1", "--role", "cajero", "--password", PASSWORD], "");
    assert!(!ok && err.contains("no se acepta como argumento"), "{err}");
    let (ok, _, err) = staff_create(&url, dir.path(), &["--user", "caja1", "--role", "cajero"], "");
    assert!(!ok && err.contains("--password-stdin"), "{err}");
    let (ok, _, err) =
        staff_create(&url, dir.path(), &["--user", "caja1", "--role", "jefe", "--password-stdin"], "x\n");
    assert!(!ok && err.contains("rol desconocido «jefe»"), "{err}");
    assert_eq!(store.count_staff().await.unwrap(), 1);
    let entries = store.latest_audit(10).await.unwrap();
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0].action, "staff.created");
    assert!(entries[0].actor.starts_with("cli:"), "{}", entries[0].actor);
}

/// Logins: right and wrong passwords, an unknown user (hashed against a
/// dummy, recorded too), the lockout after five failures in a row (even
/// the right password is refused until it ends), and the trail.
async fn logins(store: &Store) {
    let now = chrono::Utc::now();
    let cajera = Username::parse("cajera1").unwrap();
    create_staff(store, &cajera, "Carla Caja", Roles::new([Role::Cajero]), PASSWORD.into(), "cli:test", now)
        .await
        .unwrap();
    let taken = create_staff(store, &cajera, "Otra", Roles::new([Role::Admin]), PASSWORD.into(), "cli:test", now).await;
    assert!(matches!(taken, Err(CreateStaffError::Taken(_))), "{taken:?}");

    let user = authenticate(store, "  Cajera1 ", PASSWORD.into(), "203.0.113.5", now).await.unwrap();
    assert!(user.roles.contains(Role::Cajero) && !user.roles.contains(Role::Admin));
    assert_eq!(authenticate(store, "nadie", PASSWORD.into(), "203.0.113.5", now).await, Err(LoginError::Invalid));
    assert_eq!(authenticate(store, "x", PASSWORD.into(), "203.0.113.5", now).await, Err(LoginError::Invalid));

    for _ in 1..LOCK_AFTER_FAILURES {
        assert_eq!(
            authenticate(store, "cajera1", "adivina".into(), "198.51.100.9", now).await,
            Err(LoginError::Invalid)
        );
    }
    let until = now + Duration::minutes(LOCK_MINUTES);
    assert_eq!(
        authenticate(store, "cajera1", "adivina".into(), "198.51.100.9", now).await,
        Err(LoginError::Locked { until })
    );
    let later = now + Duration::minutes(5);
    assert!(matches!(
        authenticate(store, "cajera1", PASSWORD.into(), "203.0.113.5", later).await,
        Err(LoginError::Locked { .. })
    ));
    let after = now + Duration::minutes(LOCK_MINUTES + 1);
    authenticate(store, "cajera1", PASSWORD.into(), "203.0.113.5", after).await.expect("unlocked after the lockout");
    let user = store.staff_by_username(&cajera).await.unwrap().unwrap();
    assert_eq!((user.failed_logins, user.locked_until), (0, None), "a success starts the count again");

    let actions: Vec<String> = store.latest_audit(50).await.unwrap().into_iter().rev().map(|e| e.action).collect();
    let count = |a: &str| actions.iter().filter(|x| *x == a).count();
    assert_eq!(count("staff.created"), 1);
    assert_eq!(count("staff.login"), 2);
    assert_eq!(count("staff.login_failed"), 2 + LOCK_AFTER_FAILURES as usize);
    assert_eq!(store.verify_audit().await.unwrap().first_bad, None);
}

#[tokio::test]
async fn logins_lock_after_repeated_failures_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::connect(&format!("sqlite://{}", dir.path().join("staff.db").display())).await.unwrap();
    logins(&store).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logins_lock_after_repeated_failures_on_postgres() {
    let Ok(admin_url) = std::env::var("RECAUDA_TEST_POSTGRES_URL") else {
        assert!(std::env::var("CI").is_err(), "CI is set but RECAUDA_TEST_POSTGRES_URL is not");
        return;
    };
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos();
    let db = format!("recauda_staff_{}_{}", std::process::id(), nanos);
    let mut admin = sqlx::PgConnection::connect(&admin_url).await.unwrap();
    sqlx::query(&format!("CREATE DATABASE \"{db}\"")).execute(&mut admin).await.unwrap();
    let url = crate::store_story::with_database(&admin_url, &db);
    let outcome = tokio::spawn(async move { logins(&Store::connect(&url).await.unwrap()).await }).await;
    sqlx::query(&format!("DROP DATABASE IF EXISTS \"{db}\" WITH (FORCE)")).execute(&mut admin).await.unwrap();
    admin.close().await.unwrap();
    if let Err(e) = outcome {
        std::panic::resume_unwind(e.into_panic());
    }
}
