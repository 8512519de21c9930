//! Misbehaving answers for the requests of one path ([`super::ApiServer::fault`]),
//! to test that every request is bounded in time and size and that server
//! text never reaches the terminal raw.

use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

/// What the double answers instead of the real thing.
#[derive(Debug, Clone)]
pub enum Fault {
    /// A 200 whose JSON body arrives one byte every `every`, forever.
    Trickle(Duration),
    /// 429 Too Many Requests with this `Retry-After`, for the first `times`
    /// requests (then the real answer).
    TooMany { retry_after: String, times: usize },
    /// A 200 that starts like an object and goes on for `bytes` bytes.
    Huge(u64),
    /// A `Status` with this code and message (the reason follows the code:
    /// 403 Forbidden, 409 Conflict, 500 InternalError, 503
    /// ServiceUnavailable, 504 Timeout).
    Status { code: u16, message: String },
    /// Exactly this status, content type and body: an HTML error page from a
    /// proxy, a body that is not JSON, JSON cut short or of the wrong shape.
    Raw {
        code: u16,
        content_type: &'static str,
        body: &'static str,
    },
    /// The real answers for the first `skip` requests, then `then`.
    Later { skip: usize, then: Box<Fault> },
}

/// The answer for a fault (`None`: answer normally), given how many
/// requests it already answered.
pub fn answer(fault: &Fault, served: usize) -> Option<Response> {
    match fault {
        Fault::Trickle(every) => {
            let every = *every;
            const HEAD: &[u8] = b"{\"kind\":\"Deployment\",\"metadata\":{\"name\":\"";
            let stream = futures::stream::unfold(0usize, move |i| async move {
                if i > 0 {
                    tokio::time::sleep(every).await;
                }
                let byte = HEAD.get(i).copied().unwrap_or(b'a');
                Some((Ok::<_, std::io::Error>(Bytes::from(vec![byte])), i + 1))
            });
            Some(
                (
                    StatusCode::OK,
                    [("content-type", "application/json")],
                    Body::from_stream(stream),
                )
                    .into_response(),
            )
        }
        Fault::TooMany { retry_after, times } => (served < *times).then(|| {
            let mut r = super::status(
                429,
                "TooManyRequests",
                "the server has received too many requests and has asked us to try again later"
                    .into(),
                serde_json::json!({}),
            );
            if let Ok(v) = retry_after.parse() {
                r.headers_mut().insert("retry-after", v);
            }
            r
        }),
        Fault::Huge(bytes) => {
            let total = *bytes;
            const CHUNK: usize = 1 << 16;
            let stream = futures::stream::unfold(0u64, move |sent| async move {
                if sent >= total {
                    return None;
                }
                let chunk = if sent == 0 {
                    let mut c = b"{\"kind\":\"Deployment\",\"metadata\":{\"name\":\"".to_vec();
                    c.resize(CHUNK, b'a');
                    c
                } else {
                    vec![b'a'; CHUNK]
                };
                Some((
                    Ok::<_, std::io::Error>(Bytes::from(chunk)),
                    sent + CHUNK as u64,
                ))
            });
            Some(
                (
                    StatusCode::OK,
                    [("content-type", "application/json")],
                    Body::from_stream(stream),
                )
                    .into_response(),
            )
        }
        Fault::Later { skip, then } => match served.checked_sub(*skip) {
            Some(n) => answer(then, n),
            None => None,
        },
        Fault::Status { code, message } => Some(super::status(
            *code,
            match code {
                409 => "Conflict",
                500 => "InternalError",
                503 => "ServiceUnavailable",
                504 => "Timeout",
                _ => "Forbidden",
            },
            message.clone(),
            serde_json::json!({}),
        )),
        Fault::Raw {
            code,
            content_type,
            body,
        } => Some(
            (
                StatusCode::from_u16(*code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
                [("content-type", *content_type)],
                *body,
            )
                .into_response(),
        ),
    }
}
