//! The audit trail: written by the actions themselves (payments, receipts,
//! cancellations, refunds, imports, key rotations), hash-chained, and
//! checked by `recauda audit verify`, which names the first entry edited,
//! deleted or moved — on SQLite and on PostgreSQL.

use std::process::Command;

use app::store::{AuditAction, Store};
use serde_json::json;

use crate::common::{order_id, pay_as_stripe, spawn_app};

/// Actions leave their entries: an import, a payment and its receipt, a
/// cancellation; the chain verifies.
#[tokio::test]
async fn payments_receipts_cancellations_and_imports_are_in_the_trail() {
    let app = spawn_app().await;
    let (status, order) = app.post_json("/api/v1/orders", &json!({ "account": "P-000002" })).await;
    assert_eq!(status, 201, "{order}");
    let token = order["id"].as_str().unwrap().to_string();
    pay_as_stripe(&app, &token).await;
    let id = order_id(&app, &token).await;
    let receipt = app.store.receipt_of_order(id).await.unwrap().unwrap();
    app.store.cancel_receipt(&receipt.folio, "Pago duplicado", "cli:tesoreria", app.state.clock.now()).await.unwrap();

    let entries = app.store.latest_audit(10).await.unwrap();
    let actions: Vec<(&str, &str)> = entries.iter().rev().map(|e| (e.actor.as_str(), e.action.as_str())).collect();
    assert_eq!(
        actions,
        [
            ("cli", "padron.imported"),
            ("stripe", "payment.applied"),
            ("stripe", "receipt.issued"),
            ("cli:tesoreria", "payment.annulled"),
            ("cli:tesoreria", "receipt.cancelled")
        ]
    );
    let applied: serde_json::Value = serde_json::from_str(&entries[3].details).unwrap();
    assert_eq!(applied["order_id"], id);
    assert_eq!(applied["amount_centavos"], 64_000);
    let issued: serde_json::Value = serde_json::from_str(&entries[2].details).unwrap();
    assert_eq!(issued["folio"], receipt.folio.to_string());
    let annulled: serde_json::Value = serde_json::from_str(&entries[1].details).unwrap();
    assert_eq!((annulled["order_id"].as_i64(), annulled["reason"].as_str()), (Some(id), Some("Pago duplicado")));
    let cancelled: serde_json::Value = serde_json::from_str(&entries[0].details).unwrap();
    assert_eq!(cancelled["reason"], "Pago duplicado");
    let check = app.store.verify_audit().await.unwrap();
    assert_eq!((check.entries, check.first_bad), (5, None));
}

/// A fresh trail of `n` entries.
async fn trail(store: &Store, n: usize) {
    for i in 0..n {
        store.record_audit("cli:test", AuditAction::KeysRotated, json!({ "n": i }), chrono::Utc::now()).await.unwrap();
    }
    assert_eq!(store.verify_audit().await.unwrap().first_bad, None);
}

async fn exec(store: &Store, sql: &str) {
    sqlx::query(sql).execute(store.pool()).await.unwrap_or_else(|e| panic!("{sql}: {e}"));
}

/// Edit, delete, reorder and a deleted last entry: each found, naming the
/// first bad entry; undone, the chain verifies again.
async fn tampering_is_found(store: &Store) {
    trail(store, 6).await;
    let first_bad = |store: &Store| {
        let store = store.clone();
        async move { store.verify_audit().await.unwrap().first_bad }
    };

    // Edited.
    exec(store, "UPDATE audit_log SET details = '{\"n\":99}' WHERE seq = 3").await;
    let (seq, why) = first_bad(store).await.expect("an edit is found");
    assert_eq!(seq, 3, "{why}");
    assert!(why.contains("alterado"), "{why}");
    exec(store, "UPDATE audit_log SET details = '{\"n\":2}' WHERE seq = 3").await;
    assert_eq!(first_bad(store).await, None);

    // Deleted (in the middle).
    exec(store, "DELETE FROM audit_log WHERE seq = 4").await;
    let (seq, why) = first_bad(store).await.expect("a deletion is found");
    assert_eq!(seq, 5, "{why}");
    assert!(why.contains("falta la entrada 4"), "{why}");

    // Reordered: entries 2 and 3 swap places.
    exec(store, "UPDATE audit_log SET seq = -2 WHERE seq = 2").await;
    exec(store, "UPDATE audit_log SET seq = 2 WHERE seq = 3").await;
    exec(store, "UPDATE audit_log SET seq = 3 WHERE seq = -2").await;
    let (seq, why) = first_bad(store).await.expect("a reordering is found");
    assert_eq!(seq, 2, "{why}");
    exec(store, "UPDATE audit_log SET seq = -2 WHERE seq = 2").await;
    exec(store, "UPDATE audit_log SET seq = 2 WHERE seq = 3").await;
    exec(store, "UPDATE audit_log SET seq = 3 WHERE seq = -2").await;

    // The last entry deleted: the head still names it.
    exec(store, "DELETE FROM audit_log WHERE seq >= 4").await;
    let (seq, why) = first_bad(store).await.expect("a deleted tail is found");
    assert_eq!(seq, 4, "{why}");
    assert!(why.contains("termina en la entrada 3"), "{why}");
}

#[tokio::test]
async fn tampering_is_found_on_sqlite_and_named_by_the_cli() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("audit.db").display());
    let store = Store::connect(&url).await.unwrap();
    let verify = || {
        Command::new(env!("CARGO_BIN_EXE_recauda"))
            .args(["audit", "verify"])
            .current_dir(dir.path())
            .env("RECAUDA_DATABASE_URL", &url)
            .env_remove("RECAUDA_CONFIG")
            .output()
            .unwrap()
    };
    trail(&store, 3).await;
    let clean = verify();
    assert!(clean.status.success(), "{}", String::from_utf8_lossy(&clean.stderr));
    assert!(String::from_utf8_lossy(&clean.stdout).contains("Bitácora íntegra: 3 entradas"));
    exec(&store, "UPDATE audit_log SET actor = 'cli:otro' WHERE seq = 2").await;
    let tampered = verify();
    assert_eq!(tampered.status.code(), Some(1));
    let said = String::from_utf8_lossy(&tampered.stderr);
    assert!(said.contains("la primera entrada con problema es la 2"), "{said}");
    exec(&store, "UPDATE audit_log SET actor = 'cli:test' WHERE seq = 2").await;
    exec(&store, "DELETE FROM audit_log").await;
    exec(
        &store,
        "UPDATE audit_head SET seq = 0, hash = '0000000000000000000000000000000000000000000000000000000000000000'",
    )
    .await;
    tampering_is_found(&store).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tampering_is_found_on_postgres_and_concurrent_appends_stay_one_chain() {
    crate::store_story::on_fresh_postgres("audit", |url| async move {
        let store = Store::connect(&url).await.unwrap();
        // Sixteen appends at once: one chain, numbered 1..=16.
        let mut tasks = Vec::new();
        for i in 0..16 {
            let store = store.clone();
            tasks.push(tokio::spawn(async move {
                store.record_audit("stripe", AuditAction::PaymentApplied, json!({ "i": i }), chrono::Utc::now()).await
            }));
        }
        for t in tasks {
            t.await.unwrap().unwrap();
        }
        let check = store.verify_audit().await.unwrap();
        assert_eq!((check.entries, check.first_bad), (16, None));
        exec(&store, "DELETE FROM audit_log").await;
        exec(
            &store,
            "UPDATE audit_head SET seq = 0, hash = '0000000000000000000000000000000000000000000000000000000000000000'",
        )
        .await;
        tampering_is_found(&store).await;
    })
    .await;
}
