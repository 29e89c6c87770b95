//! A browser without JavaScript over plain HTTP: keeps its cookie and its
//! CSRF token, follows no redirect by itself.

use reqwest::header::{COOKIE, LOCATION, SET_COOKIE};
use reqwest::multipart::Form;

use super::TestApp;

/// A browser without JavaScript: keeps its cookie, follows nothing by itself.
pub struct PlainBrowser {
    pub http: reqwest::Client,
    pub cookie: String,
    pub csrf: String,
}

impl PlainBrowser {
    pub async fn visit(app: &TestApp) -> Self {
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("client");
        let r = http.get(app.url("/")).send().await.expect("GET /");
        assert_eq!(r.status().as_u16(), 200);
        let set = r
            .headers()
            .get(SET_COOKIE)
            .and_then(|v| v.to_str().ok())
            .expect("a first visit gets a cookie")
            .to_owned();
        assert!(set.contains("HttpOnly"), "{set}");
        assert!(set.contains("SameSite=Lax"), "{set}");
        let cookie = set.split(';').next().expect("name=value").to_owned();
        let html = r.text().await.expect("html");
        Self {
            http,
            cookie,
            csrf: field_value(&html, "csrf").expect("the form carries a CSRF token"),
        }
    }

    pub async fn get(&self, app: &TestApp, path: &str) -> reqwest::Response {
        self.http
            .get(app.url(path))
            .header(COOKIE, &self.cookie)
            .send()
            .await
            .expect("GET")
    }

    pub async fn post_form(&self, app: &TestApp, form: Form) -> reqwest::Response {
        self.http
            .post(app.url("/upload"))
            .header(COOKIE, &self.cookie)
            .multipart(form)
            .send()
            .await
            .expect("POST /upload")
    }
}

pub fn location_of(r: &reqwest::Response) -> String {
    r.headers()
        .get(LOCATION)
        .and_then(|v| v.to_str().ok())
        .expect("Location")
        .to_owned()
}

pub fn field_value(html: &str, name: &str) -> Option<String> {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html.find(&marker)? + marker.len();
    Some(html[start..].split('"').next()?.to_owned())
}

impl PlainBrowser {
    /// Posts a portal form (`application/x-www-form-urlencoded`) with this browser's token.
    pub async fn post(
        &self,
        app: &TestApp,
        path: &str,
        fields: &[(&str, &str)],
    ) -> reqwest::Response {
        let mut all = vec![("csrf", self.csrf.as_str())];
        all.extend_from_slice(fields);
        self.http
            .post(app.url(path))
            .header(COOKIE, &self.cookie)
            .form(&all)
            .send()
            .await
            .expect("POST form")
    }

    /// The page's HTML.
    pub async fn html(&self, app: &TestApp, path: &str) -> String {
        self.get(app, path).await.text().await.expect("html")
    }
}
