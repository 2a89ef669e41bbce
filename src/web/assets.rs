//! Static assets compiled into the binary: the stylesheet, the form's
//! progressive enhancement, the scrubber compiled to WebAssembly (built by
//! `scripts/build-wasm.sh`, committed under `assets/wasm/`) with its
//! wrapper, and the embed loader.

use actix_web::HttpResponse;
use actix_web::http::header;

fn asset(content_type: &'static str, body: &'static str) -> HttpResponse {
    HttpResponse::Ok()
        .content_type(content_type)
        .insert_header((header::CACHE_CONTROL, "public, max-age=300"))
        .body(body)
}

/// `GET /assets/gate.css`
pub async fn stylesheet() -> HttpResponse {
    asset(
        "text/css; charset=utf-8",
        include_str!("../../assets/gate.css"),
    )
}

/// `GET /assets/inbox.css`: the inbox's additions to the stylesheet.
pub async fn inbox_stylesheet() -> HttpResponse {
    asset(
        "text/css; charset=utf-8",
        include_str!("../../assets/inbox.css"),
    )
}

/// `GET /assets/form.js`: focus the error summary, warn before sending,
/// report the page height to the framing page.
pub async fn form_script() -> HttpResponse {
    asset(
        "text/javascript; charset=utf-8",
        include_str!("../../assets/form.js"),
    )
}

/// `GET /assets/detect.js`: the thin wrapper around the WebAssembly
/// scrubber that the warnings run on (string offsets, loading once).
pub async fn detect_script() -> HttpResponse {
    asset(
        "text/javascript; charset=utf-8",
        include_str!("../../assets/detect.js"),
    )
}

/// `GET /assets/wasm/scrub.js`: the wasm-bindgen glue of the scrubber.
pub async fn scrub_glue() -> HttpResponse {
    asset(
        "text/javascript; charset=utf-8",
        include_str!("../../assets/wasm/scrub.js"),
    )
}

/// `GET /assets/wasm/scrub_bg.wasm`: the scrubber as WebAssembly, served as
/// `application/wasm` so browsers compile it while it streams in.
pub async fn scrub_module() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/wasm")
        .insert_header((header::CACHE_CONTROL, "public, max-age=300"))
        .body(&include_bytes!("../../assets/wasm/scrub_bg.wasm")[..])
}

/// `GET /embed.js`: the one-line loader a contact page includes.
pub async fn embed_script() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/javascript; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "public, max-age=300"))
        // Host pages load it cross-origin.
        .insert_header((header::ACCESS_CONTROL_ALLOW_ORIGIN, "*"))
        .body(include_str!("../../assets/embed.js"))
}

/// `GET /assets/favicon.svg` and `GET /favicon.ico` (which browsers ask
/// for unprompted): the gateway's icon, so no page load ends in a 404.
pub async fn favicon() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("image/svg+xml")
        .insert_header((header::CACHE_CONTROL, "public, max-age=86400"))
        .body(include_str!("../../assets/favicon.svg"))
}
