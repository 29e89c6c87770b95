//! Stored bytes without a job row: what a replica killed in the middle of an
//! upload leaves behind (the request stores the file before it commits the row,
//! and a refusal's cleanup never runs). Every replica removes such bytes once
//! they are older than `web.orphan_after_secs`, far longer than an upload takes,
//! so an upload still arriving at another replica is never touched.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use chrono::{DateTime, Utc};
use futures_util::TryStreamExt;
use object_store::ObjectStoreExt;
use object_store::path::Path as Key;
use scribe_core::db::{self, queries};
use uuid::Uuid;

use crate::state::AppState;

/// The top-level prefixes every job's keys live under (`storage::keys`).
const PREFIXES: [&str; 2] = ["uploads", "results"];

/// Sweeps every `orphan_after_secs / 4` (1 s to 10 min); off when it is 0.
pub async fn sweep(state: Arc<AppState>) {
    let after = state.settings.web.orphan_after_secs;
    if after == 0 {
        return;
    }
    let every = Duration::from_secs((after / 4).clamp(1, 600));
    loop {
        tokio::time::sleep(every).await;
        match sweep_once(&state, Duration::from_secs(after)).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(jobs = n, "removed stored bytes that no job row owns"),
            Err(e) => tracing::warn!(error = %e, "orphan sweep failed; trying again later"),
        }
    }
}

/// Removes the stored bytes of job ids that have no row and were last written
/// before `older_than` ago; returns how many job ids were cleaned.
pub async fn sweep_once(state: &AppState, older_than: Duration) -> anyhow::Result<usize> {
    let cutoff = SystemTime::now() - older_than;
    let local = state.settings.storage.backend == "local";
    let mut ids = if local {
        let root = state.settings.storage.root.clone();
        tokio::task::spawn_blocking(move || local_job_ids(&root)).await??
    } else {
        let mut ids = Vec::new();
        for top in PREFIXES {
            let listed = state
                .store
                .list_with_delimiter(Some(&Key::from(top)))
                .await?;
            ids.extend(
                listed
                    .common_prefixes
                    .iter()
                    .filter_map(|p| p.filename().and_then(|name| Uuid::parse_str(name).ok())),
            );
        }
        ids
    };
    ids.sort_unstable();
    ids.dedup();
    let mut orphans = Vec::new();
    for chunk in ids.chunks(500) {
        let chunk = chunk.to_vec();
        let known = {
            let chunk = chunk.clone();
            db::run(&state.db, move |c| queries::existing_jobs(c, &chunk)).await?
        };
        orphans.extend(chunk.into_iter().filter(|id| !known.contains(id)));
    }
    let mut removed = 0;
    for job in orphans {
        let cleaned = if local {
            let root = state.settings.storage.root.clone();
            tokio::task::spawn_blocking(move || remove_local(&root, job, cutoff)).await??
        } else {
            remove_objects(state, job, cutoff.into()).await?
        };
        removed += usize::from(cleaned);
    }
    Ok(removed)
}

/// The job ids that have a folder under the local storage root.
fn local_job_ids(root: &Path) -> std::io::Result<Vec<Uuid>> {
    let mut ids = Vec::new();
    for top in PREFIXES {
        let entries = match std::fs::read_dir(root.join(top)) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => return Err(e),
        };
        for entry in entries {
            if let Some(id) = entry?
                .file_name()
                .to_str()
                .and_then(|n| Uuid::parse_str(n).ok())
            {
                ids.push(id);
            }
        }
    }
    Ok(ids)
}

/// On the local filesystem the job's folders are removed whole: they also hold
/// the staging files of writes cut off mid-way, which listing does not show.
fn remove_local(root: &Path, job: Uuid, cutoff: SystemTime) -> std::io::Result<bool> {
    let dirs: Vec<PathBuf> = PREFIXES
        .iter()
        .map(|top| root.join(top).join(job.to_string()))
        .filter(|d| d.exists())
        .collect();
    for dir in &dirs {
        if newest(dir)? > cutoff {
            return Ok(false);
        }
    }
    for dir in &dirs {
        match std::fs::remove_dir_all(dir) {
            // Another replica's sweep got there first.
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            other => other?,
        }
    }
    Ok(!dirs.is_empty())
}

/// The latest modification time of anything under `dir`, itself included.
fn newest(dir: &Path) -> std::io::Result<SystemTime> {
    let mut latest = std::fs::metadata(dir)?.modified()?;
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let when = if entry.file_type()?.is_dir() {
            newest(&entry.path())?
        } else {
            entry.metadata()?.modified()?
        };
        latest = latest.max(when);
    }
    Ok(latest)
}

/// On object storage, the job's objects, if none was written after `cutoff`.
/// (Multipart uploads that were never completed are not objects: an S3 bucket
/// needs a lifecycle rule, AbortIncompleteMultipartUpload, for those.)
async fn remove_objects(
    state: &AppState,
    job: Uuid,
    cutoff: DateTime<Utc>,
) -> anyhow::Result<bool> {
    let mut objects: HashMap<Key, DateTime<Utc>> = HashMap::new();
    for top in PREFIXES {
        let prefix = Key::from(format!("{top}/{job}"));
        let listed: Vec<_> = state.store.list(Some(&prefix)).try_collect().await?;
        objects.extend(listed.into_iter().map(|m| (m.location, m.last_modified)));
    }
    if objects.is_empty() || objects.values().any(|&when| when > cutoff) {
        return Ok(false);
    }
    for key in objects.keys() {
        state.store.delete(key).await?;
    }
    Ok(true)
}
