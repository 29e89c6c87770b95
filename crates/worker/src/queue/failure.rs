//! Every failure is transient (retry with backoff) or permanent (the upload is
//! Error with a sentence a person can read). Nothing is acked unrecorded.

use std::borrow::Cow;

#[derive(Debug, thiserror::Error)]
pub enum TaskError {
    /// The input itself is at fault; retrying gives the same answer.
    #[error("{message}")]
    Permanent {
        /// A file error's code (`corrupt_file`…), or, when no page of the
        /// file could be read, the code its first page's failure recorded.
        code: Cow<'static, str>,
        message: String,
    },
    /// Infrastructure hiccup: database, storage, broker.
    #[error("{0}")]
    Transient(String),
    /// The job was cancelled while this task ran.
    #[error("cancelled")]
    Cancelled,
    /// The worker is stopping; the task goes back to the queue unfinished, as
    /// this page range when it had already been split off.
    #[error("the worker is stopping")]
    Stopped(Option<[u32; 2]>),
}

impl TaskError {
    pub fn transient(e: impl std::fmt::Display) -> Self {
        Self::Transient(e.to_string())
    }
}

impl From<scribe_core::db::DbError> for TaskError {
    fn from(e: scribe_core::db::DbError) -> Self {
        Self::transient(e)
    }
}

impl From<object_store::Error> for TaskError {
    fn from(e: object_store::Error) -> Self {
        Self::transient(e)
    }
}

impl From<scribe_core::document::DocumentError> for TaskError {
    fn from(e: scribe_core::document::DocumentError) -> Self {
        if e.is_permanent() {
            Self::Permanent {
                code: e.code().into(),
                message: e.to_string(),
            }
        } else {
            Self::transient(e)
        }
    }
}

impl From<crate::ocr::RunError> for TaskError {
    fn from(e: crate::ocr::RunError) -> Self {
        if matches!(
            e,
            crate::ocr::RunError::Sink(crate::ocr::SinkError::Cancelled)
        ) {
            return Self::Cancelled;
        }
        if matches!(e, crate::ocr::RunError::Stopped) {
            return Self::Stopped(None);
        }
        if e.is_permanent() {
            // A page the document itself refused says why in its own code
            // (`too_many_pixels`, `corrupt_file`), as a whole-file refusal does.
            let code: Cow<'static, str> = match &e {
                crate::ocr::RunError::Page { source, .. } => source.code().into(),
                crate::ocr::RunError::NothingRead { failure, .. } => failure.code.clone().into(),
                _ => "ocr_failed".into(),
            };
            Self::Permanent {
                code,
                message: e.to_string(),
            }
        } else {
            Self::transient(e)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ocr::RunError;
    use crate::ocr::page::PageError;
    use scribe_core::document::DocumentError;

    #[test]
    fn a_page_the_document_refuses_keeps_the_documents_code() {
        let refused = RunError::Page {
            page: 3,
            source: PageError::Document(DocumentError::Corrupt(
                "the TIFF file is truncated".to_owned(),
            )),
        };
        match TaskError::from(refused) {
            TaskError::Permanent { code, message } => {
                assert_eq!(code, "corrupt_file");
                assert_eq!(message, "page 3: the TIFF file is truncated");
            }
            other => panic!("expected a permanent failure, got {other:?}"),
        }
        let engine = RunError::Page {
            page: 1,
            source: PageError::Engine(crate::ocr::tesseract::TesseractError::Recognize),
        };
        assert!(matches!(
            TaskError::from(engine),
            TaskError::Permanent { code, .. } if code == "ocr_failed"
        ));
    }
}
