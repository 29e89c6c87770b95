//! The email sent when a job finishes: its status, its files and a link to
//! its page, as plain text and HTML (askama escapes the HTML part, so a file
//! named `<b>.png` is text there too), over SMTP.

use std::time::Duration;

use askama::Template;
use lettre::message::{Mailbox, MultiPart};
use lettre::transport::smtp::Error as SmtpError;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use super::Failure;
use crate::views::JobView;

pub struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    public_url: String,
}

#[derive(Debug, thiserror::Error)]
pub enum MailerError {
    #[error("configuration key `notify.smtp_url` is invalid: {0}")]
    Url(SmtpError),
    #[error("configuration key `notify.from` is not an address: {0}")]
    From(lettre::address::AddressError),
}

#[derive(Debug, thiserror::Error)]
enum ComposeError {
    #[error(transparent)]
    Template(#[from] askama::Error),
    #[error("the recipient is not an address: {0}")]
    To(#[from] lettre::address::AddressError),
    #[error(transparent)]
    Message(#[from] lettre::error::Error),
}

pub struct FileLine {
    pub name: String,
    pub status: &'static str,
}

#[derive(Template)]
#[template(path = "email/finished.txt")]
struct Text<'a> {
    status: &'a str,
    files: &'a [FileLine],
    link: &'a str,
}

#[derive(Template)]
#[template(path = "email/finished.html")]
struct Html<'a> {
    status: &'a str,
    files: &'a [FileLine],
    link: &'a str,
}

impl Mailer {
    pub fn new(
        smtp_url: &str,
        from: &str,
        public_url: &str,
        timeout: Duration,
    ) -> Result<Self, MailerError> {
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(smtp_url)
            .map_err(MailerError::Url)?
            .timeout(Some(timeout))
            .build();
        Ok(Self {
            transport,
            from: from.parse().map_err(MailerError::From)?,
            public_url: public_url.trim_end_matches('/').to_owned(),
        })
    }

    pub async fn send(&self, to: &str, job: &JobView) -> Result<i32, Failure> {
        let message = self.compose(to, job).map_err(|e| Failure {
            code: None,
            error: format!("the email could not be written: {e}"),
        })?;
        match self.transport.send(message).await {
            Ok(answer) => Ok(reply_code(answer.code())),
            Err(e) => Err(Failure {
                code: e.status().map(reply_code),
                error: format!("SMTP: {e}"),
            }),
        }
    }

    fn compose(&self, to: &str, job: &JobView) -> Result<Message, ComposeError> {
        let status = status_word(job);
        let files: Vec<FileLine> = job
            .files
            .iter()
            .map(|f| FileLine {
                name: f.file_name.clone(),
                status: label(f.status),
            })
            .collect();
        let link = format!("{}/jobs/{}", self.public_url, job.id);
        let text = Text {
            status,
            files: &files,
            link: &link,
        }
        .render()?;
        let html = Html {
            status,
            files: &files,
            link: &link,
        }
        .render()?;
        let subject = match files.as_slice() {
            [one] => format!("Scribe: {} is {status}", one.name),
            _ => format!("Scribe: your job of {} files is {status}", files.len()),
        };
        Ok(Message::builder()
            .from(self.from.clone())
            .to(to.parse()?)
            .subject(subject)
            .multipart(MultiPart::alternative_plain_html(text, html))?)
    }
}

fn status_word(job: &JobView) -> &'static str {
    if job.partly_failed() {
        "complete (some files failed)"
    } else {
        label(job.status)
    }
}

fn label(status: scribe_core::job::Status) -> &'static str {
    use scribe_core::job::Status;
    match status {
        Status::Pending => "pending",
        Status::Processing => "processing",
        Status::Complete => "complete",
        Status::Error => "failed",
        Status::Cancelled => "cancelled",
    }
}

fn reply_code(code: lettre::transport::smtp::response::Code) -> i32 {
    code.to_string().parse().unwrap_or(0)
}
