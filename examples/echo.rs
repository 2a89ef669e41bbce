//! The framework's ceiling for `bench/throughput.sh`: actix-web answering
//! `POST /api/v1/intakes` with the JSON it was sent (parsed and written
//! back), nothing else. Built from the gateway's own lockfile, so both run
//! the same actix-web, tokio and serde_json.
//!
//! ```sh
//! cargo run --release --example echo -- 127.0.0.1:18081
//! ```

use actix_web::{App, HttpResponse, HttpServer, web};

async fn echo(body: web::Json<serde_json::Value>) -> HttpResponse {
    HttpResponse::Created().json(body.into_inner())
}

#[actix_web::main]
async fn main() -> std::io::Result<()> {
    let listen = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:18081".to_owned());
    // As many workers as the gateway starts by default.
    let workers = std::thread::available_parallelism().map_or(2, usize::from);
    HttpServer::new(|| App::new().route("/api/v1/intakes", web::post().to(echo)))
        .workers(workers)
        .bind(listen)?
        .run()
        .await
}
