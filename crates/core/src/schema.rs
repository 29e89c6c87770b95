// @generated automatically by Diesel CLI.

pub mod sql_types {
    #[derive(diesel::query_builder::QueryId, Clone, diesel::sql_types::SqlType)]
    #[diesel(postgres_type(name = "tsvector", schema = "pg_catalog"))]
    pub struct Tsvector;
}

diesel::table! {
    jobs (id) {
        id -> Uuid,
        owner -> Text,
        status -> Text,
        language -> Text,
        formats -> Jsonb,
        published -> Bool,
        error -> Nullable<Text>,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        finished_at -> Nullable<Timestamptz>,
        reused_from -> Nullable<Uuid>,
        webhook_url -> Nullable<Text>,
        notify_email -> Nullable<Text>,
        force_ocr -> Bool,
    }
}

diesel::table! {
    notification_attempts (notification_id, attempt) {
        notification_id -> Int8,
        attempt -> Int4,
        at -> Timestamptz,
        status_code -> Nullable<Int4>,
        error -> Nullable<Text>,
    }
}

diesel::table! {
    notifications (id) {
        id -> Int8,
        job_id -> Uuid,
        kind -> Text,
        target -> Text,
        attempts -> Int4,
        next_attempt_at -> Timestamptz,
        delivered_at -> Nullable<Timestamptz>,
        abandoned_at -> Nullable<Timestamptz>,
        last_error -> Nullable<Text>,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use super::sql_types::Tsvector;

    pages (upload_id, number) {
        upload_id -> Uuid,
        number -> Int4,
        text -> Text,
        mean_confidence -> Nullable<Float4>,
        duration_ms -> Int8,
        rotation -> Int4,
        word_count -> Int4,
        created_at -> Timestamptz,
        search_config -> Text,
        search -> Tsvector,
        error_code -> Nullable<Text>,
        error -> Nullable<Text>,
    }
}

diesel::table! {
    uploads (id) {
        id -> Uuid,
        job_id -> Uuid,
        position -> Int4,
        file_name -> Text,
        storage_key -> Text,
        detected_type -> Text,
        size_bytes -> Int8,
        sha256 -> Text,
        page_count -> Nullable<Int4>,
        pages_done -> Int4,
        status -> Text,
        error_code -> Nullable<Text>,
        error -> Nullable<Text>,
        attempts -> Int4,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        started_at -> Nullable<Timestamptz>,
        finished_at -> Nullable<Timestamptz>,
        pages_at_claim -> Int4,
        pipeline -> Nullable<Text>,
    }
}

diesel::joinable!(notification_attempts -> notifications (notification_id));
diesel::joinable!(notifications -> jobs (job_id));
diesel::joinable!(pages -> uploads (upload_id));
diesel::joinable!(uploads -> jobs (job_id));

diesel::allow_tables_to_appear_in_same_query!(
    jobs,
    notification_attempts,
    notifications,
    pages,
    uploads,
);
