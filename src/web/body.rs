//! Reading request bodies: the content type, the size limit, UTF-8 and
//! syntax are checked here, each with its own precise error.

use actix_multipart::Multipart;
use actix_web::HttpRequest;
use actix_web::http::header;
use actix_web::web::{BytesMut, Payload};
use futures_util::StreamExt;
use serde_json::Value;

use super::error::ApiError;

/// A form body as name/value pairs, and whether a file was attached.
#[derive(Debug, Default)]
pub struct FormFields {
    /// Names and values, in order.
    pub pairs: Vec<(String, String)>,
    /// The name of a form part that carried a file, if any.
    pub file_part: Option<String>,
}

/// The media type of a request, lowercased, without parameters.
fn media_type(req: &HttpRequest) -> Option<String> {
    req.headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| {
            v.split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase()
        })
}

fn unsupported(req: &HttpRequest, expected: &'static str) -> ApiError {
    ApiError::UnsupportedMediaType {
        expected,
        got: media_type(req).map_or_else(|| "no Content-Type".to_owned(), |m| format!("`{m}`")),
    }
}

/// Refuse at once a body whose `Content-Length` is over `limit`.
fn refuse_declared_excess(req: &HttpRequest, limit: usize) -> Result<(), ApiError> {
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    match declared {
        Some(n) if n > limit => Err(ApiError::PayloadTooLarge { limit }),
        _ => Ok(()),
    }
}

/// The next piece of a body, or [`ApiError::BodyTimeout`] once the body's
/// time (`limits.body_timeout_seconds`, counted from the request head) is up.
async fn next_before<S: futures_util::Stream + Unpin>(
    stream: &mut S,
    deadline: &BodyDeadline,
) -> Result<Option<S::Item>, ApiError> {
    tokio::time::timeout_at(deadline.at, stream.next())
        .await
        .map_err(|_| ApiError::BodyTimeout {
            seconds: deadline.seconds,
        })
}

/// When a request's body must have arrived.
struct BodyDeadline {
    at: tokio::time::Instant,
    seconds: u64,
}

impl BodyDeadline {
    fn of(req: &HttpRequest) -> BodyDeadline {
        let seconds = req
            .app_data::<actix_web::web::Data<super::AppState>>()
            .expect("the app state is registered")
            .config
            .limits
            .body_timeout_seconds;
        BodyDeadline {
            at: tokio::time::Instant::now() + std::time::Duration::from_secs(seconds),
            seconds,
        }
    }
}

/// Read the whole body, refusing it as soon as it passes `limit`.
async fn read_limited(
    req: &HttpRequest,
    mut payload: Payload,
    limit: usize,
) -> Result<BytesMut, ApiError> {
    refuse_declared_excess(req, limit)?;
    let deadline = BodyDeadline::of(req);
    let mut body = BytesMut::new();
    while let Some(chunk) = next_before(&mut payload, &deadline).await? {
        let chunk = chunk.map_err(|e| {
            ApiError::BadRequest(format!("the request body could not be read: {e}"))
        })?;
        if body.len() + chunk.len() > limit {
            return Err(ApiError::PayloadTooLarge { limit });
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

fn utf8(bytes: &[u8]) -> Result<&str, ApiError> {
    std::str::from_utf8(bytes).map_err(|e| ApiError::InvalidUtf8 {
        offset: e.valid_up_to(),
    })
}

/// A JSON body (`application/json` or `+json`), parsed; also its raw bytes
/// for idempotency fingerprints.
pub async fn json(
    req: &HttpRequest,
    payload: Payload,
    limit: usize,
) -> Result<(Value, BytesMut), ApiError> {
    let is_json = media_type(req).is_some_and(|m| m == "application/json" || m.ends_with("+json"));
    if !is_json {
        return Err(unsupported(req, "`application/json`"));
    }
    let body = read_limited(req, payload, limit).await?;
    let text = utf8(&body)?;
    let value = serde_json::from_str(text).map_err(|e| ApiError::InvalidJson {
        what: match e.classify() {
            serde_json::error::Category::Eof => "the body ends too early",
            _ => "syntax error",
        },
        line: e.line(),
        column: e.column(),
    })?;
    Ok((value, body))
}

/// A form body: `application/x-www-form-urlencoded` or `multipart/form-data`.
pub async fn form(
    req: &HttpRequest,
    payload: Payload,
    limit: usize,
) -> Result<FormFields, ApiError> {
    match media_type(req).as_deref() {
        Some("application/x-www-form-urlencoded") => {
            let body = read_limited(req, payload, limit).await?;
            urlencoded(&body)
        }
        Some("multipart/form-data") => multipart(req, payload, limit).await,
        _ => Err(unsupported(
            req,
            "`application/x-www-form-urlencoded` or `multipart/form-data` (a form post)",
        )),
    }
}

/// Decode `a=b&c=d`, reporting which pair holds bytes that are not UTF-8.
fn urlencoded(body: &[u8]) -> Result<FormFields, ApiError> {
    let mut fields = FormFields::default();
    for (index, pair) in body.split(|b| *b == b'&').enumerate() {
        if pair.is_empty() {
            continue;
        }
        let (name, value) = match pair.iter().position(|b| *b == b'=') {
            Some(i) => (&pair[..i], &pair[i + 1..]),
            None => (pair, &b""[..]),
        };
        let decode = |part: &[u8]| -> Result<String, ApiError> {
            let plus: Vec<u8> = part
                .iter()
                .map(|b| if *b == b'+' { b' ' } else { *b })
                .collect();
            let bytes: Vec<u8> = percent_encoding::percent_decode(&plus).collect();
            String::from_utf8(bytes).map_err(|e| {
                ApiError::BadRequest(format!(
                    "form field number {} is not valid UTF-8 after decoding (first bad byte at offset {}); send the form as UTF-8",
                    index + 1,
                    e.utf8_error().valid_up_to()
                ))
            })
        };
        fields.pairs.push((decode(name)?, decode(value)?));
    }
    Ok(fields)
}

/// Read a multipart form. A part with a file name is a file: its content is
/// drained and dropped, and only the part's field name is kept to say why
/// the submission is refused.
async fn multipart(
    req: &HttpRequest,
    payload: Payload,
    limit: usize,
) -> Result<FormFields, ApiError> {
    refuse_declared_excess(req, limit)?;
    let deadline = BodyDeadline::of(req);
    let mut parts = Multipart::new(req.headers(), payload);
    let mut fields = FormFields::default();
    let mut total = 0usize;
    let malformed = |e: actix_multipart::MultipartError| {
        ApiError::BadRequest(format!("the multipart form could not be read: {e}"))
    };
    while let Some(part) = next_before(&mut parts, &deadline).await? {
        let mut part = part.map_err(malformed)?;
        let name = part.name().unwrap_or("").to_owned();
        let file_name = part
            .content_disposition()
            .and_then(|d| d.get_filename())
            .map(str::to_owned);
        let is_file = file_name.is_some();
        let mut value = Vec::new();
        let mut length = 0;
        while let Some(chunk) = next_before(&mut part, &deadline).await? {
            let chunk = chunk.map_err(malformed)?;
            total += chunk.len();
            length += chunk.len();
            if total > limit {
                return Err(ApiError::PayloadTooLarge { limit });
            }
            if !is_file {
                value.extend_from_slice(&chunk);
            }
        }
        if let Some(file_name) = file_name {
            // An empty file input (no file chosen) sends an empty, unnamed part.
            if length > 0 || !file_name.is_empty() {
                fields.file_part = Some(name);
            }
            continue;
        }
        let value = String::from_utf8(value).map_err(|e| {
            ApiError::BadRequest(format!(
                "form field {} is not valid UTF-8 (first bad byte at offset {}); send the form as UTF-8",
                handoff_intake::printable_name(&name),
                e.utf8_error().valid_up_to()
            ))
        })?;
        fields.pairs.push((name, value));
    }
    Ok(fields)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urlencoded_pairs_decode_plus_and_percent() {
        let fields = urlencoded(b"message=hi+there%21&consent=on&empty").unwrap();
        assert_eq!(
            fields.pairs,
            [
                ("message".to_owned(), "hi there!".to_owned()),
                ("consent".to_owned(), "on".to_owned()),
                ("empty".to_owned(), String::new()),
            ]
        );
    }

    #[test]
    fn urlencoded_invalid_utf8_names_the_pair_not_the_value() {
        let err = urlencoded(b"message=ok&deadline=%FF%FEsecret")
            .unwrap_err()
            .to_string();
        assert!(err.contains("field number 2"), "{err}");
        assert!(!err.contains("secret"), "{err}");
    }
}
