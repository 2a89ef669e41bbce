//! Embedding over HTTP: who may frame what, CORS, the form token for own
//! markup, origin checks, theming, the browser rules. (The widget itself is
//! driven in Chromium by `browser.rs`.)

use serde_json::Value;

use crate::support::TestApp;

const HOST: &str = "https://shop.example";

async fn embedding_app() -> TestApp {
    TestApp::spawn(|c| c.embed.allowed_origins = vec![HOST.parse().unwrap()]).await
}

/// askama writes `&` as `&#38;`; compare in the usual `&amp;` form.
fn entities(html: &str) -> String {
    html.replace("&#38;", "&amp;")
}

fn header(response: &reqwest::Response, name: &str) -> String {
    response
        .headers()
        .get(name)
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default()
}

#[tokio::test]
async fn only_the_embed_routes_may_be_framed_and_only_by_allowed_origins() {
    let app = embedding_app().await;
    let page = app.get("/").await;
    assert!(header(&page, "content-security-policy").contains("frame-ancestors 'none'"));
    assert_eq!(header(&page, "x-frame-options"), "DENY");

    let query = "origin=https%3A%2F%2Fshop.example&page=https%3A%2F%2Fshop.example%2Fcontact%3Fgclid%3DCj0KCQiA4L67BhDUARIsADWrl7Ep9nT%26utm_source%3Dyoutube%26email%3Djane%40acme.test&accent=%23aa3300&theme=dark";
    let embed = app.get(&format!("/embed?{query}")).await;
    assert_eq!(embed.status(), 200);
    let csp = header(&embed, "content-security-policy");
    assert!(
        csp.contains("frame-ancestors https://shop.example"),
        "{csp}"
    );
    assert!(
        csp.contains("script-src 'self' 'wasm-unsafe-eval';")
            && !csp.contains("unsafe-inline")
            && !csp.contains("'unsafe-eval'"),
        "{csp}"
    );
    assert_eq!(header(&embed, "x-frame-options"), "");
    let html = entities(&embed.text().await.unwrap());
    assert!(html.contains("data-parent-origin=\"https://shop.example\""));
    assert!(
        html.contains("href=\"/assets/theme.css?accent=%23aa3300&amp;theme=dark\""),
        "{html}"
    );
    assert!(
        html.contains(
            "<input type=\"hidden\" name=\"page\" value=\"https://shop.example/contact?utm_source=youtube\">"
        ),
        "the host page travels as data, its click id and other parameters dropped: {html}"
    );
    assert!(
        html.contains("name=\"source_path\" rows=\"2\" data-check aria-describedby=\"source_path-help\"></textarea>"),
        "nothing is prefilled in a field the person sees: {html}"
    );
    assert!(
        !html.contains("<details open"),
        "the optional sections stay closed"
    );
    assert!(html.contains("name=\"embed\""));

    let stranger = app
        .get("/embed?origin=https%3A%2F%2Fevil.example")
        .await
        .text()
        .await
        .unwrap();
    assert!(
        !stranger.contains("data-parent-origin"),
        "no messages to an origin not allowed"
    );
    app.stop().await;
}

#[tokio::test]
async fn every_response_carries_the_security_headers() {
    let app = embedding_app().await;
    for path in [
        "/",
        "/embed",
        "/assets/wasm/scrub_bg.wasm",
        "/healthz",
        "/nowhere",
        "/assets/gate.css",
    ] {
        let response = app.get(path).await;
        assert!(
            header(&response, "content-security-policy").contains("default-src 'none'"),
            "{path}"
        );
        assert_eq!(
            header(&response, "x-content-type-options"),
            "nosniff",
            "{path}"
        );
        assert_eq!(
            header(&response, "referrer-policy"),
            "strict-origin-when-cross-origin",
            "{path}"
        );
        assert!(
            header(&response, "permissions-policy").contains("camera=()"),
            "{path}"
        );
    }
    app.stop().await;
}

#[tokio::test]
async fn the_api_answers_cors_preflights_from_allowed_origins_only() {
    let app = embedding_app().await;
    let preflight = |origin: &'static str| {
        app.client
            .request(reqwest::Method::OPTIONS, app.url("/api/v1/intakes"))
            .header("Origin", origin)
            .header("Access-Control-Request-Method", "POST")
            .header(
                "Access-Control-Request-Headers",
                "content-type, idempotency-key",
            )
            .send()
    };
    let allowed = preflight(HOST).await.unwrap();
    assert!(allowed.status().is_success(), "{}", allowed.status());
    assert_eq!(header(&allowed, "access-control-allow-origin"), HOST);
    assert!(header(&allowed, "access-control-allow-headers").contains("idempotency-key"));
    let refused = preflight("https://evil.example").await.unwrap();
    assert_eq!(header(&refused, "access-control-allow-origin"), "");

    let post = app
        .client
        .post(app.url("/api/v1/intakes"))
        .header("Origin", HOST)
        .json(&serde_json::json!({"message": "Kajabi tag missing after Stripe checkout"}))
        .send()
        .await
        .unwrap();
    assert_eq!(post.status(), 201);
    assert_eq!(header(&post, "access-control-allow-origin"), HOST);
    app.stop().await;
}

#[tokio::test]
async fn own_markup_posts_with_a_fetched_token_from_allowed_origins_only() {
    let app = embedding_app().await;
    let token: Value = app
        .client
        .get(app.url("/api/v1/form-token"))
        .header("Origin", HOST)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(token["honeypot_field"], "website");
    assert_eq!(token["min_fill_seconds"], 0);
    let token = token["form_token"].as_str().unwrap().to_owned();
    let post = |origin: &'static str| {
        app.client
            .post(app.url("/intake"))
            .header("Origin", origin)
            .form(&[
                ("message", "Our Webflow form does not reach ActiveCampaign"),
                ("form_token", token.as_str()),
            ])
            .send()
    };
    let ok = post(HOST).await.unwrap();
    assert_eq!(ok.status(), 303);
    let foreign = post("https://evil.example").await.unwrap();
    assert_eq!(foreign.status(), 403);
    assert!(
        foreign
            .text()
            .await
            .unwrap()
            .contains("embed.allowed_origins")
    );
    let referred = app
        .client
        .post(app.url("/intake"))
        .header("Referer", "https://evil.example/contact")
        .form(&[("message", "x"), ("form_token", token.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(referred.status(), 403);
    assert_eq!(app.intake_count().await, 1);
    app.stop().await;
}

#[tokio::test]
async fn an_embedded_submission_stays_in_the_widget() {
    let app = embedding_app().await;
    let token = app.form_token().await;
    let response = app
        .client
        .post(app.url("/intake"))
        .header("Origin", HOST)
        .form(&[
            (
                "message",
                "Calendly booking never moves the HubSpot deal stage",
            ),
            ("form_token", token.as_str()),
            ("embed", "origin=https%3A%2F%2Fshop.example&theme=auto"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 303);
    let location = header(&response, "location");
    assert!(location.starts_with("/embed/thanks/"), "{location}");
    assert!(
        location.ends_with("?origin=https%3A%2F%2Fshop.example&theme=auto"),
        "{location}"
    );
    let thanks = app.get(&location).await;
    assert!(
        header(&thanks, "content-security-policy").contains("frame-ancestors https://shop.example")
    );
    let html = entities(&thanks.text().await.unwrap());
    assert!(html.contains("class=\"embed\""));
    assert!(
        html.contains("href=\"/embed?origin=https%3A%2F%2Fshop.example&amp;theme=auto\""),
        "{html}"
    );
    app.stop().await;
}

#[tokio::test]
async fn theme_css_takes_only_colours_fonts_and_modes() {
    let app = embedding_app().await;
    let css = app
        .get("/assets/theme.css?accent=%230a7&font=Inter%2C%20Arial&theme=auto")
        .await;
    assert!(header(&css, "content-type").starts_with("text/css"));
    let css = css.text().await.unwrap();
    assert!(css.contains("--accent: #0a7;"));
    assert!(css.contains("font-family: Inter, Arial, system-ui"));
    assert!(css.contains("prefers-color-scheme: dark"));
    let hostile = app
        .get("/assets/theme.css?accent=red%7Dbody%7Bdisplay:none&font=x%3Burl(evil)")
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(hostile, ":root {\n}\n");
    app.stop().await;
}

#[tokio::test]
async fn the_scripts_and_the_webassembly_scrubber_are_served() {
    let app = embedding_app().await;
    for path in [
        "/embed.js",
        "/assets/form.js",
        "/assets/detect.js",
        "/assets/wasm/scrub.js",
    ] {
        let script = app.get(path).await;
        assert_eq!(script.status(), 200, "{path}");
        assert!(
            header(&script, "content-type").starts_with("text/javascript"),
            "{path}"
        );
    }
    // Browsers compile a module while it streams in only when it is served
    // as application/wasm; gzip brings it to well under half.
    let module = app
        .client
        .get(app.url("/assets/wasm/scrub_bg.wasm"))
        .header("accept-encoding", "gzip")
        .send()
        .await
        .unwrap();
    assert_eq!(module.status(), 200);
    assert_eq!(header(&module, "content-type"), "application/wasm");
    assert_eq!(header(&module, "content-encoding"), "gzip");
    let gzipped = module.bytes().await.unwrap();
    assert!(gzipped.starts_with(&[0x1f, 0x8b]), "gzip");
    let plain = app.get("/assets/wasm/scrub_bg.wasm").await;
    assert_eq!(header(&plain, "content-type"), "application/wasm");
    let bytes = plain.bytes().await.unwrap();
    assert!(bytes.starts_with(b"\0asm"), "a WebAssembly module");
    assert!(
        gzipped.len() < bytes.len() / 2,
        "{} of {}",
        gzipped.len(),
        bytes.len()
    );
    // The rules are no longer exported as JavaScript patterns.
    assert_eq!(app.get("/api/v1/rules.json").await.status(), 404);
    app.stop().await;
}
