//! HTTP routes, one module per resource.

pub mod archive;
pub mod downloads;
pub mod jobs;
pub mod live;
pub mod meta;
pub mod search;

use actix_web::web;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(jobs::create)
        .service(jobs::show)
        .service(jobs::cancel)
        .service(jobs::delete)
        .service(jobs::rerun)
        .service(jobs::list)
        .service(search::search)
        .service(live::events)
        .service(archive::archive)
        .service(downloads::results)
        .service(downloads::file)
        .service(downloads::preview)
        .service(meta::languages)
        .service(meta::healthz)
        .service(meta::readyz)
        .service(crate::openapi::document)
        .service(crate::api_docs::page)
        .service(crate::api_docs::file);
}
