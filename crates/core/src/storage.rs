//! Object storage: the local filesystem by default, S3-compatible (MinIO) with
//! the `s3` feature, so workers on other machines read the same keys. Keys come
//! from ids only, never from file names.

use std::sync::Arc;

use futures_util::{StreamExt, TryStreamExt};
use object_store::local::LocalFileSystem;
use object_store::{ObjectStore, ObjectStoreExt};
use uuid::Uuid;

use crate::settings::StorageSettings;

mod direct;

pub type Store = Arc<dyn ObjectStore>;

#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    #[error("storage is misconfigured: {0}")]
    Config(String),
    #[error("storage: {0}")]
    Store(#[from] object_store::Error),
}

pub fn open(settings: &StorageSettings) -> Result<Store, StorageError> {
    match settings.backend.as_str() {
        "local" => {
            std::fs::create_dir_all(&settings.root).map_err(|e| {
                StorageError::Config(format!("storage.root {}: {e}", settings.root.display()))
            })?;
            // fsync: an accepted upload (a 202) must survive a power cut, and so
            // must every page result committed after it is stored.
            // Automatic cleanup removes the directories a deleted job leaves empty.
            Ok(Arc::new(
                LocalFileSystem::new_with_prefix(&settings.root)?
                    .with_fsync(true)
                    .with_automatic_cleanup(true),
            ))
        }
        #[cfg(feature = "s3")]
        "s3" => {
            let retry = object_store::RetryConfig {
                retry_timeout: std::time::Duration::from_secs(settings.retry_timeout_secs),
                ..object_store::RetryConfig::default()
            };
            let mut b = object_store::aws::AmazonS3Builder::from_env()
                .with_bucket_name(&settings.bucket)
                .with_retry(retry);
            if let Some(endpoint) = &settings.endpoint {
                b = b
                    .with_endpoint(endpoint)
                    .with_allow_http(endpoint.starts_with("http://"));
            }
            Ok(Arc::new(b.build()?))
        }
        other => Err(StorageError::Config(format!(
            "storage.backend `{other}` is not available in this build (use `local`, or build with --features s3)"
        ))),
    }
}

/// Where uploads are written as they arrive: straight to the local disk
/// ([`direct`]), or as a multipart upload to the object store.
#[derive(Clone)]
pub enum Writer {
    Disk(direct::Disk),
    Store(Store),
}

impl Writer {
    pub fn open(settings: &StorageSettings, store: &Store) -> Self {
        match settings.backend.as_str() {
            "local" => Self::Disk(direct::Disk::new(&settings.root)),
            _ => Self::Store(store.clone()),
        }
    }

    pub async fn create(
        &self,
        key: &object_store::path::Path,
    ) -> Result<NewObject, object_store::Error> {
        Ok(match self {
            Self::Disk(disk) => NewObject::Disk(disk.create(key.as_ref())),
            Self::Store(store) => NewObject::Store(object_store::WriteMultipart::new(
                store.put_multipart(key).await?,
            )),
        })
    }
}

/// An object being written by a [`Writer`]; dropped or aborted, it leaves nothing.
pub enum NewObject {
    Disk(direct::DiskFile),
    Store(object_store::WriteMultipart),
}

impl NewObject {
    pub async fn write(&mut self, bytes: &[u8]) -> Result<(), object_store::Error> {
        match self {
            Self::Disk(file) => file.write(bytes).await.map_err(io_error),
            Self::Store(upload) => {
                upload.wait_for_capacity(4).await?;
                upload.write(bytes);
                Ok(())
            }
        }
    }

    /// Makes the object durable: synced to disk, or its upload completed.
    pub async fn finish(self) -> Result<(), object_store::Error> {
        match self {
            Self::Disk(file) => file.finish().await.map(drop).map_err(io_error),
            Self::Store(upload) => upload.finish().await.map(drop),
        }
    }

    pub async fn abort(self) {
        match self {
            Self::Disk(file) => file.abort().await,
            Self::Store(upload) => drop(upload.abort().await),
        }
    }
}

/// Disk errors as the object store reports them, so that callers see one kind
/// (and a full disk is still recognisable by its source).
fn io_error(e: std::io::Error) -> object_store::Error {
    object_store::Error::Generic {
        store: "LocalFileSystem",
        source: Box::new(e),
    }
}

/// Deletes every stored object of a job (its originals and its results) and
/// returns how many there were. Objects already gone count as deleted, so a
/// repeat after a partial failure finishes the work.
pub async fn delete_job(store: &Store, job: Uuid) -> Result<usize, object_store::Error> {
    let mut deleted = 0;
    for prefix in keys::job_prefix(job) {
        deleted += delete_under(store, &prefix).await?;
    }
    Ok(deleted)
}

/// Deletes every object under `prefix`, as [`delete_job`] does.
pub async fn delete_under(
    store: &Store,
    prefix: &object_store::path::Path,
) -> Result<usize, object_store::Error> {
    let mut deleted = 0;
    let locations = store
        .list(Some(prefix))
        .map_ok(|meta| meta.location)
        .boxed();
    let mut results = store.delete_stream(locations);
    while let Some(result) = results.next().await {
        match result {
            Ok(_) | Err(object_store::Error::NotFound { .. }) => deleted += 1,
            Err(e) => return Err(e),
        }
    }
    Ok(deleted)
}

/// Where everything lives, by id.
pub mod keys {
    use object_store::path::Path;

    use super::Uuid;

    pub fn original(job: Uuid, upload: Uuid) -> Path {
        Path::from(format!("uploads/{job}/{upload}/original"))
    }
    /// Where an upload's row says its original is.
    pub fn stored(key: &str) -> Path {
        Path::from(key)
    }
    pub fn page(job: Uuid, upload: Uuid, number: usize, ext: &str) -> Path {
        Path::from(format!("results/{job}/{upload}/page-{number:04}.{ext}"))
    }
    pub fn upload_file(job: Uuid, upload: Uuid, name: &str) -> Path {
        Path::from(format!("results/{job}/{upload}/{name}"))
    }
    /// Everything stored for one upload's results: pages, outputs, its `results.json`.
    pub fn upload_results(job: Uuid, upload: Uuid) -> Path {
        Path::from(format!("results/{job}/{upload}"))
    }
    pub fn job_results(job: Uuid) -> Path {
        Path::from(format!("results/{job}/results.json"))
    }
    pub fn job_prefix(job: Uuid) -> [Path; 2] {
        [
            Path::from(format!("uploads/{job}")),
            Path::from(format!("results/{job}")),
        ]
    }
}
