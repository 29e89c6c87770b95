//! Messages on the broker: the OCR task a worker consumes and the status
//! events web replicas relay to browsers.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::job::Status;

pub const TASK_SCHEMA: u32 = 1;

/// OCR one uploaded file. Idempotent: keyed by the upload id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OcrTask {
    pub schema: u32,
    pub job_id: Uuid,
    pub upload_id: Uuid,
}

impl OcrTask {
    pub fn new(job_id: Uuid, upload_id: Uuid) -> Self {
        Self {
            schema: TASK_SCHEMA,
            job_id,
            upload_id,
        }
    }
}

/// A status change, published after it is committed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JobEvent {
    pub job_id: Uuid,
    pub upload_id: Option<Uuid>,
    pub job_status: Option<Status>,
    pub upload_status: Option<Status>,
    pub pages_done: Option<i32>,
    pub page_count: Option<i32>,
}
