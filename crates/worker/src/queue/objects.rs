//! Moving objects between storage and the worker's scratch space without
//! holding large ones in memory: originals stream down into a file, assembled
//! outputs stream up from one, in parts when they are large.

use std::path::Path;

use futures_util::StreamExt;
use object_store::path::Path as Key;
use object_store::{ObjectStoreExt, PutPayload, WriteMultipart};
use scribe_core::storage::Store;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::failure::TaskError;

/// Objects up to this size go up in one PUT; larger ones as a multipart
/// upload of parts this size, so a 1 GB searchable PDF never sits in memory.
const PART_BYTES: usize = 8 * 1024 * 1024;
/// Parts in flight at once for one multipart upload.
const PARTS_IN_FLIGHT: usize = 4;

/// A stored object's bytes, or `None` when there is no such object.
pub async fn fetch(store: &Store, key: &Key) -> Result<Option<bytes::Bytes>, TaskError> {
    match store.get(key).await {
        Ok(r) => Ok(Some(r.bytes().await?)),
        Err(object_store::Error::NotFound { .. }) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// Streams an object into a temporary file.
pub async fn download(store: &Store, key: &Key) -> Result<tempfile::NamedTempFile, TaskError> {
    let file = tempfile::NamedTempFile::new().map_err(TaskError::transient)?;
    // Writes go through tokio's file so a large original never blocks an executor thread.
    let mut out = tokio::fs::File::from_std(file.reopen().map_err(TaskError::transient)?);
    let mut stream = match store.get(key).await {
        Ok(r) => r.into_stream(),
        Err(object_store::Error::NotFound { .. }) => {
            return Err(TaskError::Permanent {
                code: "missing_original".into(),
                message: "the uploaded file is no longer in storage".to_owned(),
            });
        }
        Err(e) => return Err(e.into()),
    };
    while let Some(chunk) = stream.next().await {
        out.write_all(&chunk?).await.map_err(TaskError::transient)?;
    }
    out.flush().await.map_err(TaskError::transient)?;
    Ok(file)
}

/// Stores a file under `key`: one PUT when small, a multipart upload (aborted
/// on failure, so no parts are left behind) when large.
pub async fn upload(store: &Store, key: &Key, path: &Path) -> Result<(), TaskError> {
    let mut file = tokio::fs::File::open(path)
        .await
        .map_err(TaskError::transient)?;
    let size = file.metadata().await.map_err(TaskError::transient)?.len();
    if size <= PART_BYTES as u64 {
        let mut bytes = Vec::with_capacity(size as usize);
        file.read_to_end(&mut bytes)
            .await
            .map_err(TaskError::transient)?;
        store.put(key, PutPayload::from(bytes)).await?;
        return Ok(());
    }
    let mut writer =
        WriteMultipart::new_with_chunk_size(store.put_multipart(key).await?, PART_BYTES);
    let mut buf = vec![0; 1024 * 1024];
    let written: Result<(), TaskError> = async {
        loop {
            let n = file.read(&mut buf).await.map_err(TaskError::transient)?;
            if n == 0 {
                return Ok(());
            }
            writer.wait_for_capacity(PARTS_IN_FLIGHT).await?;
            writer.write(&buf[..n]);
        }
    }
    .await;
    match written {
        Ok(()) => {
            writer.finish().await?;
            Ok(())
        }
        Err(e) => {
            if let Err(abort) = writer.abort().await {
                tracing::warn!(error = %abort, "a failed multipart upload could not be aborted");
            }
            Err(e)
        }
    }
}
