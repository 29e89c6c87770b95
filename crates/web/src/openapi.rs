//! `GET /api/openapi.json`: the API's OpenAPI 3.1 contract, derived from the
//! handlers' `#[utoipa::path]` attributes and the views' types, so it cannot
//! drift from what the server does.

use actix_web::{HttpResponse, get};
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::{Modify, OpenApi};

use crate::error::{ErrorDetail, ErrorEnvelope};
use crate::routes::{archive, downloads, jobs, live, meta, search};
use crate::views;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Scribe",
        description = "Asynchronous OCR: upload documents, follow the job, download text, hOCR, JSON and searchable PDFs."
    ),
    paths(
        jobs::create,
        jobs::list,
        jobs::show,
        jobs::cancel,
        jobs::delete,
        jobs::rerun,
        downloads::results,
        downloads::file,
        downloads::preview,
        archive::archive,
        live::events,
        search::search,
        meta::languages,
        meta::healthz,
        meta::readyz,
    ),
    components(schemas(ErrorEnvelope, ErrorDetail, views::JobView, views::AcceptedView)),
    modifiers(&BearerAuth),
    tags((name = "jobs"), (name = "search"), (name = "meta"))
)]
pub struct ApiDoc;

/// The scheme named by every route's `security(("bearer" = []))`.
struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        let components = doc.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)),
        );
    }
}

#[get("/api/openapi.json")]
pub async fn document() -> HttpResponse {
    HttpResponse::Ok().json(ApiDoc::openapi())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The route modules' sources: their actix attributes are what the app serves.
    const ROUTES: &[&str] = &[
        include_str!("routes/jobs.rs"),
        include_str!("routes/downloads.rs"),
        include_str!("routes/archive.rs"),
        include_str!("routes/live.rs"),
        include_str!("routes/search.rs"),
        include_str!("routes/meta.rs"),
    ];

    /// `(method, path)` of every `#[get("…")]`-style attribute in the route modules.
    fn served() -> Vec<(String, String)> {
        let mut routes = Vec::new();
        for source in ROUTES {
            for line in source.lines().map(str::trim) {
                for method in ["get", "post", "put", "patch", "delete"] {
                    if let Some(rest) = line.strip_prefix(&format!("#[{method}(\"")) {
                        let path = rest.split('"').next().unwrap_or_default();
                        routes.push((method.to_owned(), path.to_owned()));
                    }
                }
            }
        }
        routes
    }

    fn document() -> serde_json::Value {
        serde_json::to_value(ApiDoc::openapi()).expect("the document serialises")
    }

    #[test]
    fn the_document_is_openapi_3_1_and_lists_every_served_route() {
        let doc = document();
        assert!(
            doc["openapi"]
                .as_str()
                .unwrap_or_default()
                .starts_with("3.1")
        );
        let served = served();
        assert!(served.iter().any(|(_, p)| p == "/api/v1/jobs/{id}/rerun"));
        for (method, path) in &served {
            assert!(
                doc["paths"][path][method].is_object(),
                "{method} {path} is served but not in the OpenAPI document"
            );
        }
        let documented: usize = doc["paths"]
            .as_object()
            .map(|paths| {
                paths
                    .values()
                    .filter_map(|p| p.as_object())
                    .map(|p| p.len())
                    .sum()
            })
            .unwrap_or(0);
        assert_eq!(
            documented,
            served.len(),
            "the document lists a route nobody serves"
        );
        // And every route module's handlers are registered with the app.
        let configure = include_str!("routes/mod.rs");
        for handler in [
            "jobs::create",
            "jobs::show",
            "jobs::list",
            "jobs::cancel",
            "jobs::delete",
            "jobs::rerun",
            "downloads::results",
            "downloads::file",
            "downloads::preview",
            "archive::archive",
            "live::events",
            "search::search",
            "meta::languages",
            "meta::healthz",
            "meta::readyz",
        ] {
            assert!(
                configure.contains(&format!("{handler})")),
                "{handler} is not registered"
            );
        }
    }

    #[test]
    fn every_error_response_is_the_envelope_and_api_routes_need_a_bearer_key() {
        let doc = document();
        assert_eq!(
            doc["components"]["securitySchemes"]["bearer"]["scheme"],
            "bearer"
        );
        let envelope = &doc["components"]["schemas"]["ErrorEnvelope"];
        assert!(envelope["properties"]["error"].is_object());
        let mut errors = 0;
        for (path, item) in doc["paths"].as_object().into_iter().flatten() {
            for (method, op) in item.as_object().into_iter().flatten() {
                if path.starts_with("/api/v1/") && path != "/api/v1/languages" {
                    assert!(
                        op["security"][0]["bearer"].is_array(),
                        "{method} {path} has no security"
                    );
                }
                for (status, response) in op["responses"].as_object().into_iter().flatten() {
                    if status.starts_with('4') || status.starts_with('5') {
                        errors += 1;
                        assert_eq!(
                            response["content"]["application/json"]["schema"]["$ref"],
                            "#/components/schemas/ErrorEnvelope",
                            "{method} {path} {status}"
                        );
                    }
                }
            }
        }
        assert!(errors > 20);
    }

    #[test]
    fn the_upload_form_documents_its_fields() {
        let doc = document();
        let form = &doc["paths"]["/api/v1/jobs"]["post"]["requestBody"]["content"]["multipart/form-data"]
            ["schema"];
        let form = match form["$ref"].as_str() {
            Some(r) => &doc["components"]["schemas"][r.rsplit('/').next().unwrap_or_default()],
            None => form,
        };
        for field in [
            "file",
            "language",
            "outputs",
            "webhook_url",
            "notify_email",
            "force_ocr",
        ] {
            assert!(form["properties"][field].is_object(), "{field}");
        }
        assert_eq!(form["properties"]["file"]["type"], "array");
    }
}
