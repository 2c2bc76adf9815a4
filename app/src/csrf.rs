//! CSRF protection of the citizen's forms (double-submit cookie).
//!
//! A page with a state-changing form reuses the random token of the
//! `recauda_csrf` cookie or makes a new one (HttpOnly, SameSite=Strict,
//! Path=/), and echoes it in a hidden field named [`CSRF_FIELD`]. The POST
//! handler compares field and cookie in constant time ([`tokens_match`]); a
//! mismatch is answered 403. The JSON API is exempt: it reads no cookie and
//! requires a JSON content type, which a cross-site form cannot send.

/// The cookie that carries the token.
pub const CSRF_COOKIE: &str = "recauda_csrf";
/// The hidden form field that echoes it.
pub const CSRF_FIELD: &str = "csrf";

/// A well-formed token: 32 lowercase hex digits.
pub fn is_token(s: &str) -> bool {
    s.len() == 32 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// The token in a `Cookie` header, if well formed.
pub fn from_cookie_header(header: &str) -> Option<&str> {
    header.split(';').find_map(|pair| {
        let (name, value) = pair.split_once('=')?;
        let value = value.trim();
        (name.trim() == CSRF_COOKIE && is_token(value)).then_some(value)
    })
}

/// Compares two tokens in time independent of where they differ.
pub fn tokens_match(a: &str, b: &str) -> bool {
    if a.len() != b.len() || !is_token(a) {
        return false;
    }
    a.bytes().zip(b.bytes()).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The `Set-Cookie` value for `token`.
pub fn set_cookie_value(token: &str) -> String {
    format!("{CSRF_COOKIE}={token}; Path=/; HttpOnly; SameSite=Strict")
}

/// The token for the page being rendered: the request's cookie, or a new
/// one set on the response.
#[cfg(feature = "ssr")]
pub fn page_token() -> String {
    use axum::http::{header, HeaderValue};
    use leptos::prelude::use_context;
    let existing = use_context::<axum::http::request::Parts>().and_then(|p| {
        p.headers
            .get_all(header::COOKIE)
            .iter()
            .filter_map(|c| c.to_str().ok())
            .find_map(from_cookie_header)
            .map(str::to_string)
    });
    if let Some(token) = existing {
        return token;
    }
    let response = use_context::<leptos_axum::ResponseOptions>();
    // A page may render its form more than once: one token per response.
    let already_set = response.as_ref().and_then(|r| {
        let parts = r.0.read().ok()?;
        parts.headers.get_all(header::SET_COOKIE).iter().find_map(|v| {
            let v = v.to_str().ok()?;
            from_cookie_header(v.split(';').next()?).map(str::to_string)
        })
    });
    if let Some(token) = already_set {
        return token;
    }
    let token = crate::tokens::random_token();
    if let (Some(response), Ok(value)) = (response, HeaderValue::from_str(&set_cookie_value(&token))) {
        response.append_header(header::SET_COOKIE, value);
        response.insert_header(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    token
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens() {
        let t = "0123456789abcdef0123456789abcdef";
        assert!(is_token(t));
        assert!(!is_token("0123"));
        assert!(tokens_match(t, t));
        assert!(!tokens_match(t, "0123456789abcdef0123456789abcdee"));
        assert!(!tokens_match("", ""));
        assert_eq!(from_cookie_header(&format!("a=1; recauda_csrf={t}")), Some(t));
        assert_eq!(from_cookie_header("recauda_csrf=nope"), None);
    }
}
