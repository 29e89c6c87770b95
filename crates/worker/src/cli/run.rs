//! `scribe-worker run`: the queue consumer, with one graceful stop on SIGTERM/SIGINT.

use std::path::Path;

use anyhow::Context;
use scribe_core::settings::Settings;
use scribe_worker::queue::Worker;
use tokio::signal::unix::{SignalKind, signal};

pub fn run(config: &Path) -> anyhow::Result<()> {
    let mut settings = Settings::load(config).context("loading settings")?;
    settings.limits.pdf_trial_parser = scribe_worker::trial_parser();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        let worker = Worker::build(settings)?;
        let (stop, stopped) = tokio::sync::watch::channel(false);
        let mut term = signal(SignalKind::terminate())?;
        let mut int = signal(SignalKind::interrupt())?;
        tokio::spawn(async move {
            tokio::select! {
                _ = term.recv() => {}
                _ = int.recv() => {}
            }
            let _ = stop.send(true);
        });
        worker.run(stopped).await
    })
}
