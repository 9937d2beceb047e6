//! The API's OpenAPI description, generated from the code. Each module's router is a utoipa-axum
//! `OpenApiRouter` whose routes are registered only through `routes!`, from handlers carrying their
//! `#[utoipa::path]` (`clippy.toml` refuses `OpenApiRouter::route`), so a route cannot be served without
//! being described. What every `/api/v1` operation shares (the bearer token, the error answers) is added
//! here, once, from what the router knows: the `authenticate` layer covers exactly those routes.
//!
//! Served at `/api/v1/openapi.json`, and browsable at `/api/v1/docs` with Swagger UI, whose files are
//! built into the binary.

use axum::Router;
use axum::http::{HeaderValue, header};
use axum::middleware;
use axum::response::Response;
use utoipa::OpenApi;
use utoipa::openapi::path::{HttpMethod, Operation, ParameterIn};
use utoipa::openapi::security::{ApiKey, ApiKeyValue, Http, HttpAuthScheme, SecurityRequirement, SecurityScheme};
use utoipa::openapi::{ContentBuilder, OpenApi as Document, Ref, RefOr, ResponseBuilder};
use utoipa_swagger_ui::SwaggerUi;

use super::error::ErrorBody;

/// Where the description and its browsable form are served.
pub const DOCUMENT_PATH: &str = "/api/v1/openapi.json";
pub const DOCS_PATH: &str = "/api/v1/docs";

const BEARER: &str = "bearer";
const TWILIO_SIGNATURE: &str = "twilio_signature";

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Tether",
        description = "Caring-contact texts, replies and crisis escalation for people leaving treatment. \
            Every `/api/v1` call takes a bearer token (an API token from `tether token create`, or \
            `TETHER_ADMIN_TOKEN`); its role decides what it may see and change. Errors always answer \
            with `error.code`, `error.message`, the `error.field` at fault when there is one, and (under \
            `/api/`) the `error.request_id` of the request's log line.",
        license(name = "Apache-2.0", identifier = "Apache-2.0"),
    ),
    tags(
        (name = "clients", description = "People discharged from care: their record, enrolments, thread and relays"),
        (name = "safety plans", description = "Each client's safety plan, versioned"),
        (name = "staff", description = "Peers and on-call staff"),
        (name = "catalog", description = "Message schedules and templates, versioned"),
        (name = "on call", description = "Rotations, overrides and the escalation policy"),
        (name = "escalations", description = "The escalation board and concern notices"),
        (name = "reminders", description = "Appointments, medication reminders, staff tasks and disengagement signals"),
        (name = "audit", description = "Who did what"),
        (name = "webhooks", description = "Called by the SMS provider, signed with its auth token"),
        (name = "health", description = "For supervisors and load balancers"),
    ),
    servers((url = "/", description = "This service")),
    components(schemas(ErrorBody)),
)]
struct ApiDoc;

/// The description's start: its info, tags and shared schemas, before any route is added.
pub fn base() -> Document {
    ApiDoc::openapi()
}

/// Names the two ways a caller proves who it is (a bearer token; the provider's webhook signature), and
/// adds to every `/api/v1` operation the token it needs and the errors any of them can answer, each with
/// the one error body.
pub fn describe_api_access(document: &mut Document) {
    let components = document.components.get_or_insert_with(Default::default);
    components.security_schemes.insert(
        BEARER.into(),
        SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)).into(),
    );
    components.security_schemes.insert(
        TWILIO_SIGNATURE.into(),
        SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
            "X-Twilio-Signature",
            "The provider's HMAC-SHA1 over TETHER_PUBLIC_URL with the path and query it called, and the form",
        )))
        .into(),
    );
    for (path, item) in document.paths.paths.iter_mut() {
        if !path.starts_with("/api/v1/") {
            continue;
        }
        let has_id = path.contains('{');
        for (method, operation) in [
            (HttpMethod::Get, &mut item.get),
            (HttpMethod::Put, &mut item.put),
            (HttpMethod::Post, &mut item.post),
            (HttpMethod::Patch, &mut item.patch),
            (HttpMethod::Delete, &mut item.delete),
        ] {
            if let Some(operation) = operation {
                describe_operation(operation, &method, has_id);
            }
        }
    }
}

fn describe_operation(operation: &mut Operation, method: &HttpMethod, has_id: bool) {
    operation.security = Some(vec![SecurityRequirement::new(BEARER, Vec::<String>::new())]);
    let takes_query = operation.parameters.iter().flatten().any(
        |parameter| matches!(parameter, RefOr::T(parameter) if !matches!(parameter.parameter_in, ParameterIn::Path)),
    );
    let takes_body = operation.request_body.is_some();
    // Reads are open to every role (the audit log says its own 403); changes are refused to viewers, and
    // some to staff. A 409 is described by each operation that can answer one, with what it means there.
    let writes = !matches!(method, HttpMethod::Get);
    let errors = [
        (true, "401", "No bearer token, or one that is wrong or revoked"),
        (writes, "403", "The token's role may not do this"),
        (has_id, "404", "No such resource, or one the caller may not see"),
        (
            true,
            "408",
            "The request took longer than TETHER_HTTP_REQUEST_TIMEOUT_SECONDS",
        ),
        (takes_body, "413", "The body is larger than 64 KiB"),
        (takes_body, "415", "The body is not sent as application/json"),
        (
            takes_body || takes_query || has_id,
            "422",
            "A field is invalid (`error.field` names it, `error.message` says why)",
        ),
        (
            true,
            "500",
            "Something failed inside the service; the request id finds it in the log",
        ),
        (
            true,
            "503",
            "Too many requests at once; try again after the `Retry-After` seconds",
        ),
    ];
    for (applies, status, description) in errors {
        if applies {
            operation
                .responses
                .responses
                .entry(status.to_owned())
                .or_insert_with(|| error_response(description).into());
        }
    }
}

fn error_response(description: &str) -> utoipa::openapi::Response {
    ResponseBuilder::new()
        .description(description)
        .content(
            "application/json",
            ContentBuilder::new()
                .schema(Some(Ref::from_schema_name("ErrorBody")))
                .build(),
        )
        .build()
}

/// Swagger UI over `document`, with the description at [`DOCUMENT_PATH`].
pub fn docs<S: Clone + Send + Sync + 'static>(document: Document) -> Router<S> {
    Router::from(SwaggerUi::new(DOCS_PATH).url(DOCUMENT_PATH, document))
        .layer(middleware::map_response(allow_swagger_ui))
}

/// Swagger UI sets inline styles and draws its icons from `data:` images; the rest of the policy stays.
async fn allow_swagger_ui(mut response: Response) -> Response {
    response.headers_mut().insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; \
             connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'",
        ),
    );
    response
}
