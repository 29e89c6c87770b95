//! `scribe-web`: serve the API, or `scribe-web migrate`.

use std::path::PathBuf;

use anyhow::Context;
use clap::{Parser, Subcommand};
use scribe_core::settings::Settings;

#[derive(Parser)]
#[command(name = "scribe-web", version, about = "Scribe's web tier")]
struct Args {
    /// Configuration directory.
    #[arg(long, default_value = "config", global = true)]
    config: PathBuf,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the API (the default).
    Serve,
    /// Apply database migrations and exit.
    Migrate,
}

#[actix_web::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    scribe_core::telemetry::init();
    let settings = Settings::load(&args.config).context("loading settings")?;
    match args.command.unwrap_or(Command::Serve) {
        Command::Migrate => {
            let url = settings.database.url.clone();
            let applied = tokio::task::spawn_blocking(move || {
                use diesel::Connection;
                let mut conn = diesel::PgConnection::establish(&url)?;
                anyhow::Ok(scribe_core::db::migrate(&mut conn)?)
            })
            .await??;
            println!("migrations applied: {applied}");
        }
        Command::Serve => {
            let app = scribe_web::Application::build(settings).await?;
            println!("scribe-web listening on port {}", app.port());
            app.run().await?;
        }
    }
    Ok(())
}
