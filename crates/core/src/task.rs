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
    /// First and last page (1-based, inclusive) for a share of a large document;
    /// `None` for the whole upload, which the worker may split further.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pages: Option<[u32; 2]>,
}

impl OcrTask {
    pub fn new(job_id: Uuid, upload_id: Uuid) -> Self {
        Self {
            schema: TASK_SCHEMA,
            job_id,
            upload_id,
            pages: None,
        }
    }

    pub fn range(job_id: Uuid, upload_id: Uuid, first: u32, last: u32) -> Self {
        Self {
            pages: Some([first, last]),
            ..Self::new(job_id, upload_id)
        }
    }
}

/// Splits pages `1..=count` into ranges of at most `per_task` pages.
pub fn page_ranges(count: u32, per_task: u32) -> Vec<[u32; 2]> {
    if per_task == 0 || count <= per_task {
        return vec![[1, count.max(1)]];
    }
    (0..count.div_ceil(per_task))
        .map(|i| [i * per_task + 1, ((i + 1) * per_task).min(count)])
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_cover_every_page_once() {
        assert_eq!(page_ranges(5, 10), vec![[1, 5]]);
        assert_eq!(page_ranges(25, 10), vec![[1, 10], [11, 20], [21, 25]]);
        assert_eq!(page_ranges(20, 10), vec![[1, 10], [11, 20]]);
        assert_eq!(page_ranges(7, 0), vec![[1, 7]]);
    }

    #[test]
    fn old_messages_without_a_range_still_parse() {
        let t: OcrTask = serde_json::from_str(
            r#"{"schema":1,"job_id":"00000000-0000-0000-0000-000000000001","upload_id":"00000000-0000-0000-0000-000000000002"}"#,
        )
        .expect("parses");
        assert_eq!(t.pages, None);
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

impl JobEvent {
    /// The job as a whole moved to `status` (a claim, a cancel, its end).
    pub fn job(job_id: Uuid, status: Status) -> Self {
        Self {
            job_id,
            upload_id: None,
            job_status: Some(status),
            upload_status: None,
            pages_done: None,
            page_count: None,
        }
    }
}
