//! `GET /api/docs`: interactive API documentation (Swagger UI) reading
//! `/api/openapi.json`. The UI's files are vendored and compiled in, so the
//! docs work offline; the page's CSP differs from the portal's only by
//! allowing `data:` images, which Swagger UI's stylesheet uses for its icons.

use actix_web::{HttpResponse, get, web};

use crate::error::ApiError;

/// The portal's policy with `data:` images; scripts still only from us.
const DOCS_CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; \
     style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; \
     frame-ancestors 'none'; base-uri 'none'";

const PAGE: &str = r#"<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Scribe API</title>
<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">
<link rel="stylesheet" href="/api/docs/swagger-ui.css">
</head>
<body>
<noscript>The interactive docs need JavaScript; the contract itself is at <a href="/api/openapi.json">/api/openapi.json</a>.</noscript>
<div id="swagger-ui"></div>
<script src="/api/docs/swagger-ui-bundle.js"></script>
<script src="/api/docs/api-docs.js"></script>
</body>
</html>
"#;

const FILES: &[(&str, &str, &str)] = &[
    (
        "swagger-ui-bundle.js",
        "text/javascript; charset=utf-8",
        include_str!("../assets/vendor/swagger-ui/swagger-ui-bundle.js"),
    ),
    (
        "swagger-ui.css",
        "text/css; charset=utf-8",
        include_str!("../assets/vendor/swagger-ui/swagger-ui.css"),
    ),
    (
        "api-docs.js",
        "text/javascript; charset=utf-8",
        include_str!("../assets/api-docs.js"),
    ),
    (
        "LICENSE",
        "text/plain; charset=utf-8",
        include_str!("../assets/vendor/swagger-ui/LICENSE"),
    ),
];

#[get("/api/docs")]
pub async fn page() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .insert_header(("Content-Security-Policy", DOCS_CONTENT_SECURITY_POLICY))
        .body(PAGE)
}

#[get("/api/docs/{name}")]
pub async fn file(name: web::Path<String>) -> Result<HttpResponse, ApiError> {
    // Versioned with the binary; an hour keeps an upgrade visible soon.
    crate::portal::assets::serve(FILES, &name, "public, max-age=3600")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_page_loads_only_vendored_files_that_exist() {
        for src in PAGE
            .split("src=\"/api/docs/")
            .skip(1)
            .chain(PAGE.split("href=\"/api/docs/").skip(1))
        {
            let name = src.split('"').next().unwrap_or_default();
            assert!(
                FILES.iter().any(|(n, _, _)| *n == name),
                "{name} is not served"
            );
        }
    }

    #[test]
    fn the_docs_policy_relaxes_only_images() {
        let portal = crate::security::CONTENT_SECURITY_POLICY;
        assert_eq!(
            DOCS_CONTENT_SECURITY_POLICY.replace("img-src 'self' data:", "img-src 'self'"),
            portal
        );
    }
}
