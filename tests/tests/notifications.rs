//! Telling people a job is over: signed webhooks retried until accepted, the
//! SSRF guard at accept time, emails through a real SMTP server, and that no
//! delivery ever holds a job back.

mod support;

use std::time::Duration;

use hmac::{Hmac, Mac};
use reqwest::multipart::{Form, Part};
use scribe_core::settings::Settings;
use serde_json::Value;
use sha2::Sha256;
use support::plain::{PlainBrowser, location_of};
use support::receiver::{Received, Receiver};
use support::smtp::SmtpSink;
use support::*;

const LIMIT: Duration = Duration::from_secs(120);
const DELIVERY: Duration = Duration::from_secs(30);

/// Retries after 1 s, then 1 s: three attempts in about two seconds.
fn fast(s: &mut Settings) {
    s.notify.retry_delays_secs = vec![1, 1];
    s.notify.poll_interval_ms = 100;
}

/// Checks the signature as a receiver should: HMAC-SHA256 of the raw body,
/// compared in constant time.
fn signature_verifies(request: &Received) -> bool {
    let Some(hex_mac) = request
        .header("x-scribe-signature")
        .and_then(|v| v.strip_prefix("sha256="))
    else {
        return false;
    };
    let Ok(mac_bytes) = hex::decode(hex_mac) else {
        return false;
    };
    let mut mac = Hmac::<Sha256>::new_from_slice(WEBHOOK_SECRET.as_bytes()).expect("key");
    mac.update(&request.body);
    mac.verify_slice(&mac_bytes).is_ok()
}

/// Polls a count until it reaches `want`; panics after `limit`.
async fn wait_for_count(app: &TestApp, sql: &str, want: i64, limit: Duration) {
    eventually(limit, Duration::from_millis(100), || match app.count(sql) {
        n if n == want => Ok(()),
        n => Err(format!("`{sql}` is {n}, not {want}")),
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_webhook_is_retried_until_accepted_and_its_signature_verifies() {
    let receiver = Receiver::start(vec![500, 200]).await;
    let app = TestApp::spawn(fast).await;
    let (png, _) = page_png(71);
    let hook = receiver.url("/hooks/scribe?source=test");
    let id = app
        .submit_ok(vec![("hook.png", png)], &[("webhook_url", &hook)])
        .await;
    let job = app.wait_for_job(&id, LIMIT).await;
    assert_eq!(job["status"], "complete", "{job}");

    let got = receiver.wait_for(2, DELIVERY).await;
    wait_for_count(
        &app,
        "SELECT count(*) AS n FROM notifications WHERE delivered_at IS NOT NULL",
        1,
        DELIVERY,
    )
    .await;
    assert_eq!(got.len(), 2, "no attempt after the 200");
    let (_, now) = app.get_json(ALICE, &format!("/api/v1/jobs/{id}")).await;
    for request in &got {
        assert_eq!(request.method, "POST");
        assert_eq!(request.path, "/hooks/scribe?source=test");
        assert_eq!(request.header("content-type"), Some("application/json"));
        assert!(signature_verifies(request), "{:?}", request.headers);
        let body: Value = serde_json::from_slice(&request.body).expect("JSON body");
        assert_eq!(body["event"], "job.finished", "{body}");
        // The job's status JSON, exactly as `GET /api/v1/jobs/{id}` answers it.
        assert_eq!(body["job"], now, "{body}");
        assert_eq!(body["job"]["files"][0]["file_name"], "hook.png");
    }
    let mut tampered = got[1].clone();
    tampered.body.push(b' ');
    assert!(
        !signature_verifies(&tampered),
        "a changed body fails the check"
    );

    let attempts = "SELECT count(*) AS n FROM notification_attempts a \
                    JOIN notifications n ON n.id = a.notification_id WHERE n.kind = 'webhook'";
    assert_eq!(app.count(attempts), 2);
    assert_eq!(
        app.count(&format!(
            "{attempts} AND a.attempt = 1 AND a.status_code = 500 AND a.error IS NOT NULL"
        )),
        1
    );
    assert_eq!(
        app.count(&format!(
            "{attempts} AND a.attempt = 2 AND a.status_code = 200 AND a.error IS NULL"
        )),
        1
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webhooks_to_private_addresses_are_refused_at_accept_unless_allowed() {
    let app = TestApp::web_only(|s| s.web.webhook_allow_private = false).await;
    let (png, _) = page_png(72);
    // Only parsed and classified: nothing is ever sent to these.
    for url in [
        "http://127.0.0.1:9/hook",
        "http://localhost:8080/",
        "http://[::1]/",
        "http://[::ffff:10.0.0.1]/",
        "http://169.254.169.254/latest/meta-data/",
        "http://2130706433/",
    ] {
        let r = app
            .submit(ALICE, vec![("a.png", png.clone())], &[("webhook_url", url)])
            .await;
        assert_eq!(r.status().as_u16(), 400, "{url}");
        let body: Value = r.json().await.expect("json");
        assert_eq!(
            body["error"]["code"], "webhook_target_refused",
            "{url}: {body}"
        );
    }
    for url in ["ftp://example.org/", "not a url", "file:///etc/passwd"] {
        let r = app
            .submit(ALICE, vec![("a.png", png.clone())], &[("webhook_url", url)])
            .await;
        assert_eq!(r.status().as_u16(), 400, "{url}");
        let body: Value = r.json().await.expect("json");
        assert_eq!(body["error"]["code"], "bad_webhook_url", "{url}: {body}");
    }
    let r = app
        .submit(
            ALICE,
            vec![("a.png", png)],
            &[("notify_email", "nobody@example.org")],
        )
        .await;
    let body: Value = r.json().await.expect("json");
    assert_eq!(
        body["error"]["code"], "email_disabled",
        "no SMTP is configured: {body}"
    );
    assert_eq!(app.count("SELECT count(*) AS n FROM jobs"), 0);
    assert!(app.stored_files().is_empty(), "a refusal keeps no byte");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_job_completes_when_its_webhook_target_is_down_and_delivery_gives_up() {
    // A port nothing listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("port")
        .port();
    let app = TestApp::spawn(fast).await;
    let (png, _) = page_png(73);
    let hook = format!("http://127.0.0.1:{port}/down");
    let id = app
        .submit_ok(vec![("down.png", png)], &[("webhook_url", &hook)])
        .await;
    let job = app.wait_for_job(&id, LIMIT).await;
    assert_eq!(job["status"], "complete", "{job}");
    assert!(job["error"].is_null(), "{job}");

    wait_for_count(
        &app,
        "SELECT count(*) AS n FROM notifications WHERE abandoned_at IS NOT NULL AND delivered_at IS NULL",
        1,
        DELIVERY,
    )
    .await;
    // One attempt, then one after each wait of the schedule; none answered.
    assert_eq!(
        app.count(
            "SELECT count(*) AS n FROM notification_attempts \
             WHERE status_code IS NULL AND error IS NOT NULL"
        ),
        3
    );
    assert_eq!(
        app.count(
            "SELECT count(*) AS n FROM notifications WHERE attempts = 3 AND last_error IS NOT NULL"
        ),
        1
    );
    let (_, after) = app.get_json(ALICE, &format!("/api/v1/jobs/{id}")).await;
    assert_eq!(after["status"], "complete", "{after}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_upload_form_sends_an_email_with_status_files_and_link_when_the_job_ends() {
    let smtp = SmtpSink::start();
    let smtp_url = smtp.url();
    let app = TestApp::spawn(|s| {
        fast(s);
        s.notify.smtp_url = smtp_url;
        s.notify.from = "Scribe <scribe@example.org>".to_owned();
        s.web.public_url = "https://scribe.example.org/".to_owned();
    })
    .await;
    let browser = PlainBrowser::visit(&app).await;
    let page = browser.html(&app, "/").await;
    assert!(
        page.contains("name=\"notify_email\""),
        "the form offers the email"
    );
    let (png, _) = page_png(74);
    let form = Form::new()
        .text("csrf", browser.csrf.clone())
        .part("file", Part::bytes(png).file_name("scan & notes.png"))
        .text("notify_email", "alice@example.org");
    let r = browser.post_form(&app, form).await;
    assert_eq!(r.status().as_u16(), 303);
    let id = location_of(&r).trim_start_matches("/jobs/").to_owned();
    let finished =
        format!("SELECT count(*) AS n FROM jobs WHERE id = '{id}' AND status = 'complete'");
    wait_for_count(&app, &finished, 1, LIMIT).await;

    let mail = smtp.wait_for(1, DELIVERY).await.remove(0);
    assert_eq!(
        mail["rcpt_tos"],
        serde_json::json!(["alice@example.org"]),
        "{mail}"
    );
    assert_eq!(mail["mail_from"], "scribe@example.org", "{mail}");
    assert_eq!(mail["content_type"], "multipart/alternative", "{mail}");
    let subject = mail["subject"].as_str().expect("subject");
    assert!(
        subject.contains("scan & notes.png") && subject.contains("complete"),
        "{subject}"
    );
    let link = format!("https://scribe.example.org/jobs/{id}");
    let text = mail["text"].as_str().expect("a plain-text part");
    for want in [link.as_str(), "complete", "scan & notes.png"] {
        assert!(text.contains(want), "text part lacks {want:?}: {text}");
    }
    let html = mail["html"].as_str().expect("an HTML part");
    for want in [format!("href=\"{link}\""), "complete".to_owned()] {
        assert!(html.contains(&want), "HTML part lacks {want:?}: {html}");
    }
    assert!(
        html.contains("scan &amp; notes.png") || html.contains("scan &#38; notes.png"),
        "HTML part lacks the escaped file name: {html}"
    );
    assert!(
        !html.contains("scan & notes"),
        "file names are escaped in HTML: {html}"
    );
    wait_for_count(
        &app,
        "SELECT count(*) AS n FROM notification_attempts WHERE status_code = 250 AND error IS NULL",
        1,
        DELIVERY,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancelling_a_job_sends_its_webhook_and_its_email() {
    let receiver = Receiver::start(vec![204]).await;
    let smtp = SmtpSink::start();
    let smtp_url = smtp.url();
    // No worker: the job stays pending until it is cancelled.
    let app = TestApp::web_only(|s| {
        fast(s);
        s.notify.smtp_url = smtp_url;
    })
    .await;
    let (png, _) = page_png(75);
    let hook = receiver.url("/cancelled");
    let id = app
        .submit_ok(
            vec![("never-read.png", png)],
            &[("webhook_url", &hook), ("notify_email", "bob@example.org")],
        )
        .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(
        receiver.received().is_empty(),
        "nothing is sent before the job ends"
    );
    assert_eq!(app.count("SELECT count(*) AS n FROM notifications"), 0);

    let r = app.cancel(ALICE, &id).await;
    assert_eq!(r.status().as_u16(), 200);
    let got = receiver.wait_for(1, DELIVERY).await;
    assert!(signature_verifies(&got[0]));
    let body: Value = serde_json::from_slice(&got[0].body).expect("JSON body");
    assert_eq!(body["job"]["id"], id.as_str(), "{body}");
    assert_eq!(body["job"]["status"], "cancelled", "{body}");
    let mail = smtp.wait_for(1, DELIVERY).await.remove(0);
    assert_eq!(
        mail["rcpt_tos"],
        serde_json::json!(["bob@example.org"]),
        "{mail}"
    );
    let text = mail["text"].as_str().expect("text");
    assert!(
        text.contains("cancelled") && text.contains("never-read.png"),
        "{text}"
    );

    // Deleting the job takes its notification rows with it.
    let r = app.delete(ALICE, &id).await;
    assert_eq!(r.status().as_u16(), 204);
    assert_eq!(app.count("SELECT count(*) AS n FROM notifications"), 0);
    assert_eq!(
        app.count("SELECT count(*) AS n FROM notification_attempts"),
        0
    );
}
