//! Which class of public route a request belongs to ([`RouteClass`]),
//! each with its own budget per minute and address. The boundary
//! ([`super::boundary`]) answers a request past its budget 429 with
//! `Retry-After` (JSON under `/api`, a page elsewhere) before it reaches its
//! handler.

use app::rate_limit::RouteClass;
use axum::http::Method;

/// The class of a request, `None` for what is not limited (static files,
/// the home page, the language switch, health, the keyring, the OpenAPI
/// document, Stripe's webhook).
pub fn classify(method: &Method, path: &str, query: Option<&str>) -> Option<RouteClass> {
    let has = |names: &[&str]| {
        query.is_some_and(|q| {
            form_urlencoded::parse(q.as_bytes()).any(|(k, v)| names.contains(&k.as_ref()) && !v.is_empty())
        })
    };
    // Up to six segments, on the stack (no route here has more).
    let mut segments = [""; 6];
    let mut n = 0;
    for part in path.trim_start_matches('/').split('/') {
        if n == segments.len() {
            return None;
        }
        segments[n] = part;
        n += 1;
    }
    let post = method == Method::POST;
    match &segments[..n] {
        // What is owed.
        ["consulta"] if has(&["cuenta", "rfc"]) => Some(RouteClass::Lookup),
        ["api", "v1", "debts"] => Some(RouteClass::Lookup),
        ["api", "sf", "lookup"] => Some(RouteClass::Lookup),
        // Payment orders.
        ["orden"] if post => Some(RouteClass::Orders),
        ["api", "v1", "orders"] if post => Some(RouteClass::Orders),
        ["orden", _, "cotizar"] | ["api", "v1", "orders", _, "requote"] if post => Some(RouteClass::Orders),
        ["orden", _, "pagar"] | ["api", "v1", "orders", _, "checkout"] if post => Some(RouteClass::Checkout),
        ["prueba", "pago", _, "accion"] if post => Some(RouteClass::Checkout),
        ["orden", _] | ["api", "v1", "orders", _] | ["prueba", "pago", _] => Some(RouteClass::OrderReads),
        // Receipts.
        ["recibo", _] | ["recibo", _, "pdf"] => Some(RouteClass::Receipts),
        ["recibos"] if has(&["cuenta", "folio"]) => Some(RouteClass::Receipts),
        ["v", _] | ["p", _] | ["api", "v1", "receipts", _, "verify"] => Some(RouteClass::Verify),
        ["verificar"] if has(&["url"]) => Some(RouteClass::Verify),
        // Permit requests: filing one, its page and documents, and the
        // applicant's proof (checked like a login).
        ["tramites", _, "enviar"] if post => Some(RouteClass::Orders),
        ["tramites", "solicitud", _, "acceso"] if post => Some(RouteClass::Login),
        ["tramites", "solicitud", _, ..] => Some(RouteClass::OrderReads),
        // Alcohol licences: a licence's page (found by number and RFC,
        // like a lookup) and the requests filed from it.
        ["licencias"] if has(&["licencia", "rfc"]) => Some(RouteClass::Lookup),
        ["licencias", _] if post => Some(RouteClass::Orders),
        // The tariffs and a fee's quote.
        ["api", "v1", "tariffs"] | ["api", "v1", "quotes"] => Some(RouteClass::Tariffs),
        // Staff logins, their TOTP code, and the forms that check a code.
        ["personal", "entrar"] | ["personal", "entrar", "codigo"] if post => Some(RouteClass::Login),
        ["personal", "cuenta", "2fa"] | ["personal", "cuenta", "2fa", "desactivar"] if post => Some(RouteClass::Login),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_public_route_class() {
        let get = Method::GET;
        let post = Method::POST;
        let cases = [
            (&post, "/personal/entrar", None, Some(RouteClass::Login)),
            (&get, "/personal/entrar", None, None),
            (&post, "/personal/entrar/codigo", None, Some(RouteClass::Login)),
            (&post, "/personal/cuenta/2fa", None, Some(RouteClass::Login)),
            (&post, "/personal/cuenta/2fa/desactivar", None, Some(RouteClass::Login)),
            (&get, "/personal/cuenta/2fa", None, None),
            (&post, "/tramites/anuncios/enviar", None, Some(RouteClass::Orders)),
            (&post, "/tramites/solicitud/0123/acceso", None, Some(RouteClass::Login)),
            (&get, "/tramites/solicitud/0123", None, Some(RouteClass::OrderReads)),
            (&post, "/tramites/solicitud/0123/corregir", None, Some(RouteClass::OrderReads)),
            (&get, "/tramites/anuncios", None, None),
            (&get, "/licencias", None, None),
            (&get, "/licencias", Some("licencia=ALC-1&rfc=GODE561231GR8"), Some(RouteClass::Lookup)),
            (&get, "/licencias", Some("rfc=GODE561231GR8"), Some(RouteClass::Lookup)),
            (&post, "/licencias/refrendo", None, Some(RouteClass::Orders)),
            (&post, "/licencias/horas-extra", None, Some(RouteClass::Orders)),
            (&get, "/p/PER-2026-000001", Some("s=x"), Some(RouteClass::Verify)),
            (&get, "/consulta", Some("cuenta=P-1"), Some(RouteClass::Lookup)),
            (&get, "/consulta", Some("rfc=GODE561231GR8"), Some(RouteClass::Lookup)),
            (&get, "/consulta", None, None),
            (&get, "/api/v1/debts", Some("account=P-1"), Some(RouteClass::Lookup)),
            (&post, "/api/sf/lookup", None, Some(RouteClass::Lookup)),
            (&post, "/orden", None, Some(RouteClass::Orders)),
            (&post, "/api/v1/orders", None, Some(RouteClass::Orders)),
            (&post, "/orden/1234/cotizar", None, Some(RouteClass::Orders)),
            (&post, "/api/v1/orders/7/requote", None, Some(RouteClass::Orders)),
            (&post, "/orden/1234/pagar", None, Some(RouteClass::Checkout)),
            (&post, "/api/v1/orders/7/checkout", None, Some(RouteClass::Checkout)),
            (&post, "/prueba/pago/3/accion", None, Some(RouteClass::Checkout)),
            (&get, "/orden/1234", Some("pago=stripe"), Some(RouteClass::OrderReads)),
            (&get, "/api/v1/orders/7", None, Some(RouteClass::OrderReads)),
            (&get, "/recibo/A-2026-000001", Some("s=x"), Some(RouteClass::Receipts)),
            (&get, "/recibo/A-2026-000001/pdf", Some("s=x"), Some(RouteClass::Receipts)),
            (&get, "/recibos", Some("cuenta=P-1&folio=A-2026-000001"), Some(RouteClass::Receipts)),
            (&get, "/recibos", None, None),
            (&get, "/v/A-2026-000001", Some("s=x"), Some(RouteClass::Verify)),
            (&get, "/api/v1/receipts/A-2026-000001/verify", Some("s=x"), Some(RouteClass::Verify)),
            (&get, "/verificar", Some("url=x"), Some(RouteClass::Verify)),
            (&get, "/api/v1/tariffs", None, Some(RouteClass::Tariffs)),
            (&get, "/api/v1/tariffs", Some("date=2026-03-01"), Some(RouteClass::Tariffs)),
            (&post, "/api/v1/quotes", None, Some(RouteClass::Tariffs)),
            (&get, "/", None, None),
            (&get, "/pkg/recauda.wasm", None, None),
            (&post, "/api/v1/stripe/webhook", None, None),
            (&get, "/api/v1/receipts/keys", None, None),
            (&get, "/healthz", None, None),
        ];
        for (method, path, query, class) in cases {
            assert_eq!(classify(method, path, query), class, "{method} {path}?{query:?}");
        }
    }
}
