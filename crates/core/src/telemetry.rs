//! Logging: readable lines locally, JSON when `SCRIBE_LOG_FORMAT=json`.

use tracing_subscriber::EnvFilter;

pub fn init() {
    // lopdf logs each damaged object of a user's file as an error of ours;
    // what that damage means for the file is logged where it is judged.
    // Unless lopdf is named, at whatever level the rest is logged.
    let wanted = std::env::var("SCRIBE_LOG").unwrap_or_else(|_| "warn".to_owned());
    let wanted = if wanted.contains("lopdf") {
        wanted
    } else {
        format!("{wanted},lopdf=off")
    };
    let filter = EnvFilter::try_new(wanted).unwrap_or_else(|_| EnvFilter::new("warn,lopdf=off"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = if std::env::var("SCRIBE_LOG_FORMAT").is_ok_and(|v| v == "json") {
        builder.json().try_init()
    } else {
        builder.try_init()
    };
}
