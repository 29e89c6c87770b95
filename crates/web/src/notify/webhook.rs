//! Sending one webhook: `POST` of the JSON body, signed with
//! `X-Scribe-Signature: sha256=<hex HMAC-SHA256 of the body>`, through a
//! client that follows no redirect and, unless private targets are allowed,
//! connects only to public addresses.

use std::sync::Arc;
use std::time::Duration;

use hmac::{Hmac, Mac};
use reqwest::Url;
use sha2::Sha256;

use super::Failure;
use super::target::{self, PublicOnly};

pub const SIGNATURE_HEADER: &str = "X-Scribe-Signature";

pub struct Webhooks {
    client: reqwest::Client,
    secret: Vec<u8>,
    allow_private: bool,
}

impl Webhooks {
    pub fn new(secret: &str, allow_private: bool, timeout: Duration) -> reqwest::Result<Self> {
        let mut client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(timeout)
            .connect_timeout(timeout)
            .user_agent(concat!("Scribe-Webhook/", env!("CARGO_PKG_VERSION")));
        if !allow_private {
            client = client.dns_resolver(Arc::new(PublicOnly));
        }
        Ok(Self {
            client: client.build()?,
            secret: secret.as_bytes().to_vec(),
            allow_private,
        })
    }

    /// Posts `body` to `url`; a 2xx answer is a delivery, anything else a failure.
    pub async fn send(&self, url: &str, delivery: i64, body: Vec<u8>) -> Result<i32, Failure> {
        let url = target::parse(url).map_err(Failure::refused)?;
        if !self.allow_private {
            target::check_literal(&url).map_err(Failure::refused)?;
        }
        let answer = self.post(url, delivery, body).await.map_err(|e| Failure {
            code: None,
            // reqwest's own message names only the URL; the cause says why.
            error: chain(&e),
        })?;
        let code = i32::from(answer.status().as_u16());
        if answer.status().is_success() {
            Ok(code)
        } else {
            Err(Failure {
                code: Some(code),
                error: format!("the receiver answered {}", answer.status()),
            })
        }
    }

    async fn post(
        &self,
        url: Url,
        delivery: i64,
        body: Vec<u8>,
    ) -> reqwest::Result<reqwest::Response> {
        let signature = sign(&self.secret, &body);
        self.client
            .post(url)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .header(SIGNATURE_HEADER, signature)
            .header("X-Scribe-Event", "job.finished")
            .header("X-Scribe-Delivery", delivery.to_string())
            .body(body)
            .send()
            .await
    }
}

/// The header value: `sha256=` and the hex HMAC-SHA256 of `body` keyed by `secret`.
pub fn sign(secret: &[u8], body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).expect("HMAC accepts keys of any length");
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

fn chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut out = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        out.push_str(": ");
        out.push_str(&c.to_string());
        cause = c.source();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_signature_is_the_hex_hmac_sha256_of_the_body() {
        // RFC 4231, test case 2.
        assert_eq!(
            sign(b"Jefe", b"what do ya want for nothing?"),
            "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }
}
