//! One error type for the HTTP layer, mapped to status codes in one place.
//! The JSON API answers `{"error": code, "message": text, "fields": {…}}`;
//! pages answer with a small HTML page. No message ever quotes a submitted value.

use std::collections::BTreeMap;

use actix_web::http::StatusCode;
use actix_web::http::header::{self, ContentType};
use actix_web::{HttpResponse, ResponseError};
use askama::Template;
use serde::Serialize;

use crate::deliver::EraseError;
use crate::store::StoreError;

/// What went wrong with a request.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// The body is not of a type this route reads.
    #[error("this endpoint accepts {expected}; the request was sent as {got}")]
    UnsupportedMediaType {
        /// What the route reads.
        expected: &'static str,
        /// The request's Content-Type (or "no Content-Type").
        got: String,
    },
    /// The body is over the configured limit.
    #[error(
        "the request body is larger than {limit} bytes; shorten the text (the limit is limits.body_bytes)"
    )]
    PayloadTooLarge {
        /// The limit in bytes.
        limit: usize,
    },
    /// The body is not UTF-8.
    #[error("the request body is not valid UTF-8: the first bad byte is at offset {offset}")]
    InvalidUtf8 {
        /// Byte offset of the first invalid byte.
        offset: usize,
    },
    /// The body is not well-formed JSON.
    #[error("the request body is not valid JSON: {what} at line {line}, column {column}")]
    InvalidJson {
        /// The kind of problem (syntax error, unexpected end …).
        what: &'static str,
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
    },
    /// The body is well-formed but not what the route expects.
    #[error("{0}")]
    BadRequest(String),
    /// The submission needs changes, by field.
    #[error("the submission was not accepted; see `fields` for what to change")]
    Unprocessable {
        /// Stable code: `invalid_intake` or `rejected`.
        code: &'static str,
        /// Field name → what to change.
        fields: BTreeMap<String, String>,
    },
    /// The same Idempotency-Key came with a different request.
    #[error(
        "this Idempotency-Key was already used with a different request; use a new key for a new intake"
    )]
    IdempotencyKeyReused,
    /// Too many requests from one client address.
    #[error("too many submissions from your address; try again in {retry_after} seconds")]
    RateLimited {
        /// Seconds until the next request is allowed.
        retry_after: u64,
    },
    /// The admin token is missing or wrong.
    #[error("this endpoint needs `Authorization: Bearer <admin token>`")]
    Unauthorized,
    /// Nothing is stored under that id.
    #[error("no intake with that id")]
    NotFound,
    /// A browser posted the form from a site that is not allowed to.
    #[error("this form can only be sent from this site or a site listed in embed.allowed_origins")]
    ForeignOrigin,
    /// No route at this path.
    #[error("there is nothing at this address; the form is at / and the API under /api/v1/")]
    NoRoute,
    /// The store failed.
    #[error(
        "the intake could not be stored right now; nothing was lost on your side, please try again shortly"
    )]
    Store(#[from] StoreError),
    /// The server itself failed: a page did not render, the worker pool
    /// did not answer. The cause is logged, not shown.
    #[error("something went wrong on our side ({what}); please try again")]
    Internal {
        /// What failed, in a few words.
        what: &'static str,
        /// Why, for the log (never user text).
        cause: String,
    },
    /// An erasure could not remove every copy.
    #[error("the intake could not be erased completely right now; please send the request again")]
    Erasure(#[from] EraseError),
    /// The body did not arrive in time.
    #[error(
        "the request body did not arrive within {seconds} seconds (limits.body_timeout_seconds); send it again"
    )]
    BodyTimeout {
        /// The limit in seconds.
        seconds: u64,
    },
    /// The client's address has too many connections open.
    #[error(
        "too many connections are open from your address (at most {cap}, limits.connections_per_ip); close some and try again"
    )]
    TooManyConnections {
        /// Connections allowed per address.
        cap: usize,
    },
}

impl ApiError {
    /// The stable machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            ApiError::UnsupportedMediaType { .. } => "unsupported_media_type",
            ApiError::PayloadTooLarge { .. } => "payload_too_large",
            ApiError::InvalidUtf8 { .. } => "invalid_utf8",
            ApiError::InvalidJson { .. } => "invalid_json",
            ApiError::BadRequest(_) => "bad_request",
            ApiError::Unprocessable { code, .. } => code,
            ApiError::IdempotencyKeyReused => "idempotency_key_reused",
            ApiError::RateLimited { .. } => "rate_limited",
            ApiError::Unauthorized => "unauthorized",
            ApiError::NotFound | ApiError::NoRoute => "not_found",
            ApiError::ForeignOrigin => "forbidden_origin",
            ApiError::Store(_) => "store_unavailable",
            ApiError::Internal { .. } => "internal_error",
            ApiError::Erasure(_) => "erasure_incomplete",
            ApiError::BodyTimeout { .. } => "request_timeout",
            ApiError::TooManyConnections { .. } => "too_many_connections",
        }
    }

    /// The user-facing message: the store's internal cause is logged, not shown.
    fn message(&self) -> String {
        self.to_string()
    }

    fn log(&self) {
        match self {
            ApiError::Store(cause) => tracing::error!(error = %cause, "store failure"),
            ApiError::Internal { what, cause } => tracing::error!(error = %cause, "{what}"),
            ApiError::Erasure(cause) => tracing::error!(error = %cause, "erasure failed"),
            _ => {}
        }
    }

    fn with_headers(
        &self,
        mut builder: actix_web::HttpResponseBuilder,
    ) -> actix_web::HttpResponseBuilder {
        match self {
            ApiError::RateLimited { retry_after } => {
                builder.insert_header((header::RETRY_AFTER, retry_after.to_string()));
            }
            ApiError::Unauthorized => {
                builder.insert_header((header::WWW_AUTHENTICATE, "Bearer"));
            }
            // The rest of the body (or the other requests) are not read.
            ApiError::BodyTimeout { .. } | ApiError::TooManyConnections { .. } => {
                builder.force_close();
            }
            _ => {}
        }
        builder
    }
}

/// Every error answer of the JSON API.
#[derive(Serialize, utoipa::ToSchema)]
pub struct ErrorBody<'a> {
    /// A stable code: `invalid_json`, `rejected`, `rate_limited` …
    error: &'a str,
    /// What happened and what to do, never quoting what was sent.
    message: String,
    /// For `invalid_intake` and `rejected`: what to change, by field.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<BTreeMap<String, String>>)]
    fields: Option<&'a BTreeMap<String, String>>,
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            ApiError::UnsupportedMediaType { .. } => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::PayloadTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::InvalidUtf8 { .. }
            | ApiError::InvalidJson { .. }
            | ApiError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ApiError::Unprocessable { .. } | ApiError::IdempotencyKeyReused => {
                StatusCode::UNPROCESSABLE_ENTITY
            }
            ApiError::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            ApiError::Unauthorized => StatusCode::UNAUTHORIZED,
            ApiError::NotFound | ApiError::NoRoute => StatusCode::NOT_FOUND,
            ApiError::ForeignOrigin => StatusCode::FORBIDDEN,
            ApiError::Store(_) | ApiError::Erasure(_) => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Internal { .. } => StatusCode::INTERNAL_SERVER_ERROR,
            ApiError::BodyTimeout { .. } => StatusCode::REQUEST_TIMEOUT,
            ApiError::TooManyConnections { .. } => StatusCode::TOO_MANY_REQUESTS,
        }
    }

    fn error_response(&self) -> HttpResponse {
        self.log();
        let fields = match self {
            ApiError::Unprocessable { fields, .. } => Some(fields),
            _ => None,
        };
        self.with_headers(HttpResponse::build(self.status_code()))
            .json(ErrorBody {
                error: self.code(),
                message: self.message(),
                fields,
            })
    }
}

/// The same errors, answered as an HTML page (for the form routes).
#[derive(Debug, thiserror::Error)]
#[error(transparent)]
pub struct PageError(#[from] pub ApiError);

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage<'a> {
    chrome: super::embed::Chrome,
    status: u16,
    title: &'a str,
    message: String,
}

impl ResponseError for PageError {
    fn status_code(&self) -> StatusCode {
        self.0.status_code()
    }

    fn error_response(&self) -> HttpResponse {
        self.0.log();
        let status = self.status_code();
        let page = ErrorPage {
            chrome: super::embed::Chrome::default(),
            status: status.as_u16(),
            title: status.canonical_reason().unwrap_or("Error"),
            message: self.0.message(),
        };
        let body = page
            .render()
            .unwrap_or_else(|_| "<!doctype html><title>Error</title>".to_owned());
        self.0
            .with_headers(HttpResponse::build(status))
            .content_type(ContentType::html())
            .body(body)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failure_of_our_own_is_a_500_that_does_not_show_its_cause() {
        let error = ApiError::Internal {
            what: "the page failed to render",
            cause: "template error: missing field".to_owned(),
        };
        assert_eq!(error.status_code(), StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(error.code(), "internal_error");
        assert!(!error.message().contains("template error"));
        let page = PageError(error);
        assert_eq!(
            page.error_response().status(),
            StatusCode::INTERNAL_SERVER_ERROR
        );
    }
}
