//! CSRF protection of the state-changing forms: a token bound to the
//! browser's session.
//!
//! The session is a random 128-bit id in a cookie ([`Cookies::csrf_name`]:
//! `__Host-recauda_csrf` under https, so no other host — not even a
//! subdomain — can set or overwrite it; HttpOnly, SameSite=Strict,
//! Path=/). A page with a form echoes, in the hidden field [`CSRF_FIELD`],
//! not the id itself but its HMAC-SHA256 under the installation's secret
//! ([`CsrfKey`], shared by every server through the database). The POST
//! handler recomputes it from the cookie and compares in constant time; a
//! mismatch is answered 403 and changes nothing. So a token is worth only
//! with the session it was made for: one planted next to another cookie,
//! or copied from another browser's page, is refused. The JSON API is
//! exempt: it reads no cookie and requires a JSON content type, which a
//! cross-site form cannot send.

/// The cookie's name over plain http (development, tests).
pub const CSRF_COOKIE: &str = "recauda_csrf";
/// The hidden form field that carries the token.
pub const CSRF_FIELD: &str = "csrf";

/// How the portal's cookies are named and flagged: under https (the
/// public URL says so) they carry `Secure` and the `__Host-` prefix.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Cookies {
    pub secure: bool,
}

impl Cookies {
    /// For a portal served at `public_url`.
    pub fn for_public_url(public_url: &str) -> Cookies {
        Cookies { secure: public_url.starts_with("https://") }
    }

    /// `name`, prefixed with `__Host-` under https.
    pub fn name(self, name: &str) -> String {
        if self.secure {
            format!("__Host-{name}")
        } else {
            name.to_string()
        }
    }

    /// The CSRF session cookie's name.
    pub fn csrf_name(self) -> String {
        self.name(CSRF_COOKIE)
    }

    /// A `Set-Cookie` value: host-only, `Path=/`, HttpOnly, with
    /// `same_site`, `Secure` under https, and `Max-Age` when given.
    pub fn set_cookie(self, name: &str, value: &str, same_site: &str, max_age: Option<u64>) -> String {
        let mut cookie = format!("{}={value}; Path=/; HttpOnly; SameSite={same_site}", self.name(name));
        if let Some(age) = max_age {
            cookie.push_str(&format!("; Max-Age={age}"));
        }
        if self.secure {
            cookie.push_str("; Secure");
        }
        cookie
    }

    /// The browser session of a request (its CSRF cookie, any `Cookie`
    /// header), if it brought a well-formed one.
    #[cfg(feature = "ssr")]
    pub fn session_of(self, headers: &axum::http::HeaderMap) -> Option<String> {
        headers
            .get_all(axum::http::header::COOKIE)
            .iter()
            .filter_map(|c| c.to_str().ok())
            .find_map(|c| self.session_in(c))
            .map(str::to_string)
    }

    /// A new browser session: its id and the `Set-Cookie` value that starts it.
    #[cfg(feature = "ssr")]
    pub fn new_session(self) -> (String, String) {
        let session = crate::tokens::random_token();
        let set = self.set_cookie(CSRF_COOKIE, &session, "Strict", None);
        (session, set)
    }

    /// The CSRF session id in a `Cookie` header value, if well formed
    /// (only the cookie of this policy's name counts).
    pub fn session_in(self, header: &str) -> Option<&str> {
        let wanted = self.csrf_name();
        header.split(';').find_map(|pair| {
            let (name, value) = pair.split_once('=')?;
            let value = value.trim();
            (name.trim() == wanted && is_session_id(value)).then_some(value)
        })
    }
}

/// A well-formed session id (and token): 32 lowercase hex digits.
pub fn is_session_id(s: &str) -> bool {
    s.len() == 32 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// The installation's key for CSRF tokens (`Store::instance_secret("csrf")`).
#[derive(Clone)]
pub struct CsrfKey([u8; 32]);

impl std::fmt::Debug for CsrfKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CsrfKey(***)")
    }
}

impl CsrfKey {
    pub fn new(secret: [u8; 32]) -> CsrfKey {
        CsrfKey(secret)
    }

    /// 32 bytes derived from the installation's secret for `purpose` and
    /// `input` (HMAC-SHA256; e.g. the TOTP secret offered to one person in
    /// one session, the same on every reload without storing it).
    #[cfg(feature = "ssr")]
    pub fn derive(&self, purpose: &str, input: &str) -> [u8; 32] {
        use hmac::{Hmac, Mac};
        let mut mac = Hmac::<sha2::Sha256>::new_from_slice(&self.0).expect("HMAC takes keys of any length");
        mac.update(b"recauda-derive-v1:");
        mac.update(purpose.as_bytes());
        mac.update(b":");
        mac.update(input.as_bytes());
        mac.finalize().into_bytes().into()
    }

    /// The token a form carries for session `session_id`: the first 128
    /// bits of HMAC-SHA256(key, "recauda-csrf-v1:" ‖ id), in hex.
    #[cfg(feature = "ssr")]
    pub fn token_for(&self, session_id: &str) -> String {
        use hmac::{Hmac, Mac};
        let mut mac = Hmac::<sha2::Sha256>::new_from_slice(&self.0).expect("HMAC takes keys of any length");
        mac.update(b"recauda-csrf-v1:");
        mac.update(session_id.as_bytes());
        mac.finalize().into_bytes()[..16].iter().map(|b| format!("{b:02x}")).collect()
    }

    /// Whether `sent` is the token of `session_id`, compared in time
    /// independent of where they differ.
    #[cfg(feature = "ssr")]
    pub fn accepts(&self, session_id: &str, sent: &str) -> bool {
        if !is_session_id(session_id) || !is_session_id(sent) {
            return false;
        }
        let expected = self.token_for(session_id);
        expected.bytes().zip(sent.bytes()).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
    }
}

/// The token for the form of the page being rendered: bound to the
/// request's session cookie, or to a new session set on the response.
#[cfg(feature = "ssr")]
pub fn page_token(key: &CsrfKey, cookies: Cookies) -> String {
    use axum::http::{header, HeaderValue};
    use leptos::prelude::use_context;
    let existing = use_context::<axum::http::request::Parts>().and_then(|p| cookies.session_of(&p.headers));
    if let Some(session) = existing {
        return key.token_for(&session);
    }
    let response = use_context::<leptos_axum::ResponseOptions>();
    // A page may render its form more than once: one session per response.
    let already_set = response.as_ref().and_then(|r| {
        let parts = r.0.read().ok()?;
        parts.headers.get_all(header::SET_COOKIE).iter().find_map(|v| {
            let v = v.to_str().ok()?;
            cookies.session_in(v.split(';').next()?).map(str::to_string)
        })
    });
    if let Some(session) = already_set {
        return key.token_for(&session);
    }
    let (session, value) = cookies.new_session();
    if let (Some(response), Ok(value)) = (response, HeaderValue::from_str(&value)) {
        response.append_header(header::SET_COOKIE, value);
        response.insert_header(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    key.token_for(&session)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookies_are_host_only_and_secure_under_https() {
        let plain = Cookies::for_public_url("http://127.0.0.1:3000");
        let https = Cookies::for_public_url("https://pagos.loreto.gob.mx");
        assert_eq!(
            plain.set_cookie("recauda_csrf", "x", "Strict", None),
            "recauda_csrf=x; Path=/; HttpOnly; SameSite=Strict"
        );
        assert_eq!(
            https.set_cookie("recauda_lang", "en", "Lax", Some(60)),
            "__Host-recauda_lang=en; Path=/; HttpOnly; SameSite=Lax; Max-Age=60; Secure"
        );
        let t = "0123456789abcdef0123456789abcdef";
        assert_eq!(plain.session_in(&format!("a=1; recauda_csrf={t}")), Some(t));
        assert_eq!(https.session_in(&format!("a=1; recauda_csrf={t}")), None, "under https only __Host- counts");
        assert_eq!(https.session_in(&format!("__Host-recauda_csrf={t}")), Some(t));
        assert_eq!(plain.session_in("recauda_csrf=nope"), None);
    }

    #[cfg(feature = "ssr")]
    #[test]
    fn a_token_is_worth_only_with_its_session() {
        let key = CsrfKey::new([7; 32]);
        let a = "0123456789abcdef0123456789abcdef";
        let b = "fedcba9876543210fedcba9876543210";
        let token = key.token_for(a);
        assert!(is_session_id(&token) && token != a);
        assert!(key.accepts(a, &token));
        assert!(!key.accepts(b, &token), "another session");
        assert!(!key.accepts(a, a), "the plain double-submit (field = cookie) is refused");
        assert!(!CsrfKey::new([8; 32]).accepts(a, &token), "another installation");
        assert!(!key.accepts(a, ""));
        assert!(!key.accepts("", &key.token_for("")));
        assert_eq!(format!("{key:?}"), "CsrfKey(***)");
    }
}
