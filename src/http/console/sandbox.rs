//! The phone simulator of `serve --sandbox`: type as a client or a staff member and see what the service
//! texts back. Texts go through the mock provider, signed like real ones; nothing leaves the machine.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::{Html, IntoResponse, Response};
use minijinja::context;
use serde::{Deserialize, Serialize};

use super::{ConsoleError, ConsoleSession, render};
use crate::domain::PhoneNumber;
use crate::http::AppState;
use crate::sandbox::people;
use crate::sandbox::serve::Phones;

fn phones(state: &AppState) -> Result<&Arc<Phones>, ConsoleError> {
    state
        .sandbox
        .as_ref()
        .ok_or(ConsoleError::NotFound("phone simulator (start with `serve --sandbox`)"))
}

pub async fn page(State(state): State<Arc<AppState>>, session: ConsoleSession) -> Result<Html<String>, ConsoleError> {
    phones(&state)?;
    let known: Vec<_> = [people::JORDAN, people::MAYA, people::SAM, people::RILEY, people::ALEX]
        .into_iter()
        .map(|phone| context! { phone, name => people::name_of(phone).unwrap_or(phone) })
        .collect();
    render(
        "sandbox.html",
        super::pages::with(
            super::pages::page(&session, "sandbox", "Phone simulator"),
            context! { known },
        ),
    )
}

#[derive(Deserialize)]
pub struct PhoneQuery {
    phone: String,
}

#[derive(Serialize)]
pub struct Bubble {
    /// `in`: typed on the phone; `out`: texted to the phone.
    direction: &'static str,
    body: String,
    at: String,
    #[serde(skip)]
    sort: jiff::Timestamp,
}

/// One phone's conversation with the service, oldest first.
pub async fn messages(
    State(state): State<Arc<AppState>>,
    session: ConsoleSession,
    Query(query): Query<PhoneQuery>,
) -> Result<Json<Vec<Bubble>>, ConsoleError> {
    let phones = phones(&state)?;
    // The simulated phones show every word; viewers never see words, even made-up ones.
    session.caller.check_write().map_err(ConsoleError::Forbidden)?;
    let phone = PhoneNumber::parse(&query.phone).map_err(|_| ConsoleError::NotFound("phone"))?;
    let mut bubbles: Vec<Bubble> = phones
        .mock
        .accepted()
        .into_iter()
        .filter(|t| t.to == phone.as_str())
        .map(|t| Bubble {
            direction: "out",
            body: t.body,
            at: t.at.strftime("%H:%M:%S").to_string(),
            sort: t.at,
        })
        .collect();
    bubbles.extend(
        phones
            .typed()
            .into_iter()
            .filter(|t| t.from == phone.as_str())
            .map(|t| Bubble {
                direction: "in",
                body: t.body,
                at: t.at.strftime("%H:%M:%S").to_string(),
                sort: t.at,
            }),
    );
    bubbles.sort_by_key(|b| b.sort);
    Ok(Json(bubbles))
}

#[derive(Deserialize)]
pub struct TypedText {
    from: String,
    body: String,
}

/// Texts the service as `from`.
pub async fn type_text(
    State(state): State<Arc<AppState>>,
    session: ConsoleSession,
    headers: HeaderMap,
    Json(text): Json<TypedText>,
) -> Result<Response, ConsoleError> {
    session.check_csrf(super::pages::csrf_header(&headers))?;
    let phones = phones(&state)?;
    let from = match PhoneNumber::parse(&text.from) {
        Ok(phone) => phone,
        Err(message) => {
            let error = serde_json::json!({ "error": { "field": "from", "message": message } });
            return Ok((axum::http::StatusCode::UNPROCESSABLE_ENTITY, Json(error)).into_response());
        }
    };
    phones
        .type_text(from.as_str(), &text.body, jiff::Timestamp::now())
        .await
        .map_err(ConsoleError::Internal)?;
    Ok(Json(serde_json::json!({ "sent": true })).into_response())
}
