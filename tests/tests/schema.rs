//! The committed `schema.rs` matches what the migrations create.

use diesel::{Connection, PgConnection, RunQueryDsl};

#[derive(diesel::QueryableByName, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Column {
    #[diesel(sql_type = diesel::sql_types::Text)]
    table_name: String,
    #[diesel(sql_type = diesel::sql_types::Text)]
    column_name: String,
    #[diesel(sql_type = diesel::sql_types::Text)]
    is_nullable: String,
}

/// `(table, column, nullable)` from the `diesel::table!` blocks.
fn declared() -> Vec<(String, String, bool)> {
    let source = include_str!("../../crates/core/src/schema.rs");
    let mut out = Vec::new();
    let mut table = None;
    for line in source.lines().map(str::trim) {
        if let Some(rest) = line.strip_suffix('{')
            && let Some((name, _)) = rest.trim().split_once(" (")
        {
            table = Some(name.trim().to_owned());
        } else if let (Some(t), Some((col, ty))) = (&table, line.split_once(" -> ")) {
            out.push((
                t.clone(),
                col.trim().to_owned(),
                ty.starts_with("Nullable<"),
            ));
        } else if line == "}" {
            table = None;
        }
    }
    out.sort();
    out
}

#[test]
fn committed_schema_matches_the_migrations() {
    let name = format!("scribe_schema_{}", uuid::Uuid::new_v4().simple());
    let mut admin =
        PgConnection::establish("postgres://postgres@127.0.0.1:5432/postgres").expect("PostgreSQL");
    diesel::sql_query(format!("CREATE DATABASE {name}"))
        .execute(&mut admin)
        .expect("create");
    let result = std::panic::catch_unwind(|| {
        let mut conn =
            PgConnection::establish(&format!("postgres://postgres@127.0.0.1:5432/{name}"))
                .expect("connect");
        scribe_core::db::migrate(&mut conn).expect("migrate");
        let mut live: Vec<Column> = diesel::sql_query(
            "SELECT table_name::text, column_name::text, is_nullable::text FROM information_schema.columns \
             WHERE table_schema = 'public' AND table_name <> '__diesel_schema_migrations'",
        )
        .load(&mut conn)
        .expect("columns");
        live.sort();
        let live: Vec<(String, String, bool)> = live
            .into_iter()
            .map(|c| (c.table_name, c.column_name, c.is_nullable == "YES"))
            .collect();
        assert_eq!(
            live,
            declared(),
            "run `diesel print-schema` and commit crates/core/src/schema.rs"
        );
    });
    let _ = diesel::sql_query(format!("DROP DATABASE {name} WITH (FORCE)")).execute(&mut admin);
    if let Err(panic) = result {
        std::panic::resume_unwind(panic);
    }
}

#[test]
fn two_migrations_at_once_take_turns_and_both_succeed() {
    let name = format!("scribe_race_{}", uuid::Uuid::new_v4().simple());
    let mut admin =
        PgConnection::establish("postgres://postgres@127.0.0.1:5432/postgres").expect("PostgreSQL");
    diesel::sql_query(format!("CREATE DATABASE {name}"))
        .execute(&mut admin)
        .expect("create");
    let url = format!("postgres://postgres@127.0.0.1:5432/{name}");
    let runs: Vec<_> = (0..2)
        .map(|_| {
            let url = url.clone();
            std::thread::spawn(move || {
                let mut conn = PgConnection::establish(&url).expect("connect");
                scribe_core::db::migrate(&mut conn).map_err(|e| e.to_string())
            })
        })
        .collect();
    let outcomes: Vec<Result<usize, String>> = runs
        .into_iter()
        .map(|r| r.join().unwrap_or_else(|_| Err("panicked".to_owned())))
        .collect();
    let current = PgConnection::establish(&url)
        .map_err(|e| e.to_string())
        .and_then(|mut c| scribe_core::db::schema_is_current(&mut c).map_err(|e| e.to_string()));
    let _ = diesel::sql_query(format!("DROP DATABASE {name} WITH (FORCE)")).execute(&mut admin);
    assert!(outcomes.iter().all(Result::is_ok), "{outcomes:?}");
    // One applied everything; the other, waiting on the lock, found nothing left.
    let applied: Vec<usize> = outcomes.into_iter().flatten().collect();
    assert!(
        applied.contains(&0) && applied.iter().any(|&n| n > 0),
        "{applied:?}"
    );
    assert_eq!(current, Ok(true));
}

#[test]
fn an_empty_database_is_not_current() {
    let name = format!("scribe_empty_{}", uuid::Uuid::new_v4().simple());
    let mut admin =
        PgConnection::establish("postgres://postgres@127.0.0.1:5432/postgres").expect("PostgreSQL");
    diesel::sql_query(format!("CREATE DATABASE {name}"))
        .execute(&mut admin)
        .expect("create");
    let current = PgConnection::establish(&format!("postgres://postgres@127.0.0.1:5432/{name}"))
        .map_err(|e| e.to_string())
        .and_then(|mut c| scribe_core::db::schema_is_current(&mut c).map_err(|e| e.to_string()));
    let _ = diesel::sql_query(format!("DROP DATABASE {name} WITH (FORCE)")).execute(&mut admin);
    assert_eq!(
        current,
        Ok(false),
        "readyz must answer 503 before `migrate`"
    );
}
