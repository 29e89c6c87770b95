//! Page outputs to object storage and the database, from the OCR run's thread.
//! Each page is stored, then committed, then announced, before the next is taken.

use object_store::{ObjectStoreExt, PutPayload};
use scribe_core::db::{self, DbPool, models, queries};
use scribe_core::storage::{Store, keys};
use scribe_core::task::JobEvent;
use tokio::runtime::Handle;
use uuid::Uuid;

use super::events::Events;
use crate::ocr::assemble::Assembled;
use crate::ocr::page::PageArtifacts;
use crate::ocr::{ResultSink, SinkError};

pub struct StorageSink {
    pub metrics: std::sync::Arc<super::metrics::WorkerMetrics>,
    pub health: std::sync::Arc<super::health::Health>,
    pub runtime: Handle,
    pub store: Store,
    pub db: DbPool,
    pub events: Events,
    pub job_id: Uuid,
    pub upload_id: Uuid,
    pub page_count: i32,
}

impl StorageSink {
    async fn store_page(&self, page: &PageArtifacts) -> Result<(), SinkError> {
        let failed = |e: &dyn std::fmt::Display| SinkError::Failed(e.to_string());
        let (job, upload, n) = (self.job_id, self.upload_id, page.result.number);
        if db::run(&self.db, move |c| queries::is_cancelled(c, job))
            .await
            .map_err(|e| failed(&e))?
        {
            return Err(SinkError::Cancelled);
        }
        let mut puts: Vec<(object_store::path::Path, Vec<u8>)> = vec![
            (
                keys::page(job, upload, n, "txt"),
                page.result.text.clone().into_bytes(),
            ),
            (
                keys::page(job, upload, n, "json"),
                serde_json::to_vec(&page.result).map_err(|e| failed(&e))?,
            ),
        ];
        if let Some(h) = &page.hocr {
            puts.push((keys::page(job, upload, n, "hocr"), h.clone().into_bytes()));
        }
        if let Some(p) = &page.preview_png {
            puts.push((keys::page(job, upload, n, "png"), p.clone()));
        }
        if let Some(pdf) = &page.pdf_page {
            puts.push((
                keys::page(job, upload, n, "pdf"),
                tokio::fs::read(pdf).await.map_err(|e| failed(&e))?,
            ));
        }
        // A page's few objects go up together: on S3 each is a round trip.
        futures_util::future::try_join_all(puts.into_iter().map(|(key, bytes)| async move {
            self.store.put(&key, PutPayload::from(bytes)).await
        }))
        .await
        .map_err(|e| failed(&e))?;
        let row = models::Page {
            upload_id: upload,
            number: n as i32,
            text: page.result.text.clone(),
            mean_confidence: page.result.mean_confidence,
            duration_ms: (page.result.timings.render_ms
                + page.result.timings.preprocess_ms
                + page.result.timings.recognize_ms
                + page.result.timings.output_ms) as i64,
            rotation: i32::from(page.result.rotation_applied),
            word_count: page.result.words.len() as i32,
            error_code: page.result.error.as_ref().map(|e| e.code.clone()),
            error: page.result.error.as_ref().map(|e| e.message.clone()),
        };
        let seconds = row.duration_ms as f64 / 1000.0;
        let Some(done) = db::run(&self.db, move |c| queries::record_page(c, &row))
            .await
            .map_err(|e| failed(&e))?
        else {
            // The job was deleted while this page was read: take back what
            // was just stored, which the delete may have missed.
            if let Err(e) = scribe_core::storage::delete_job(&self.store, job).await {
                tracing::warn!(error = %e, "objects of a deleted job not removed");
            }
            return Err(SinkError::Cancelled);
        };
        self.health.progress();
        super::fail_points::abort_at("after_page");
        self.metrics.pages_done.inc();
        self.metrics.ocr_seconds.observe(seconds);
        self.events
            .publish(&JobEvent {
                job_id: job,
                upload_id: Some(upload),
                job_status: None,
                upload_status: None,
                pages_done: Some(done),
                page_count: Some(self.page_count),
            })
            .await;
        Ok(())
    }
}

impl ResultSink for StorageSink {
    fn page(&mut self, page: &PageArtifacts) -> Result<(), SinkError> {
        let runtime = self.runtime.clone();
        runtime.block_on(self.store_page(page))
    }

    fn finish(&mut self, _assembled: &Assembled) -> Result<(), SinkError> {
        // Assembly reads every page back from storage (pages may come from
        // earlier attempts and other workers), so the queue never assembles here.
        Ok(())
    }
}
