//! Time-based one-time passwords (RFC 6238), the staff's optional second
//! factor: HMAC-SHA1 (RFC 4226's HOTP) over the number of 30-second steps
//! since the Unix epoch, 6 digits, a code of the step before or after
//! accepted too (clocks drift, people type slowly). The same parameters
//! every authenticator app uses by default (Google Authenticator, FreeOTP,
//! Aegis, 1Password…), described to it by an `otpauth://` URI.
//!
//! A code is worth once: the caller keeps the last step accepted for each
//! person and [`verify`] refuses that step and any earlier one.

use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};

/// Seconds per time step (RFC 6238's X).
pub const STEP_SECONDS: i64 = 30;
/// Digits of a code.
pub const DIGITS: u32 = 6;
/// Steps accepted either side of the current one.
pub const WINDOW: i64 = 1;
/// Bytes of a secret (160 bits: RFC 4226's recommendation, SHA-1's output).
pub const SECRET_BYTES: usize = 20;

/// A fresh random secret.
pub fn new_secret() -> [u8; SECRET_BYTES] {
    crate::tokens::random_bytes::<SECRET_BYTES>()
}

/// A secret as people type it and apps read it: base32 (RFC 4648), upper
/// case, without padding (20 bytes are exactly 32 characters).
pub fn encode_secret(secret: &[u8]) -> String {
    data_encoding::BASE32_NOPAD.encode(secret)
}

/// Reads [`encode_secret`]'s text (spaces and case ignored); `None` when it
/// is not base32.
pub fn decode_secret(text: &str) -> Option<Vec<u8>> {
    let clean: String = text.chars().filter(|c| !c.is_whitespace()).collect::<String>().to_ascii_uppercase();
    let clean = clean.trim_end_matches('=');
    data_encoding::BASE32_NOPAD.decode(clean.as_bytes()).ok().filter(|s| !s.is_empty())
}

/// The base32 secret in groups of four, easier to copy by hand.
pub fn grouped(secret_b32: &str) -> String {
    secret_b32.as_bytes().chunks(4).map(|c| String::from_utf8_lossy(c).into_owned()).collect::<Vec<_>>().join(" ")
}

/// RFC 4226's HOTP: HMAC-SHA1 of the counter (8 bytes, big endian),
/// dynamically truncated to 31 bits, the last `digits` decimal digits.
pub fn hotp(secret: &[u8], counter: u64, digits: u32) -> u32 {
    let mut mac = Hmac::<sha1::Sha1>::new_from_slice(secret).expect("HMAC takes keys of any length");
    mac.update(&counter.to_be_bytes());
    let hash = mac.finalize().into_bytes();
    let offset = usize::from(hash[hash.len() - 1] & 0x0f);
    let binary = u32::from_be_bytes([hash[offset] & 0x7f, hash[offset + 1], hash[offset + 2], hash[offset + 3]]);
    binary % 10u32.pow(digits)
}

/// The time step of instant `unix` (seconds since the epoch).
pub fn step_of(unix: i64) -> i64 {
    unix.div_euclid(STEP_SECONDS)
}

/// The time step of `now`.
pub fn step_at(now: DateTime<Utc>) -> i64 {
    step_of(now.timestamp())
}

/// The code of time step `step`, zero-padded to [`DIGITS`].
pub fn code_at_step(secret: &[u8], step: i64) -> String {
    let code = hotp(secret, u64::try_from(step).unwrap_or(0), DIGITS);
    format!("{code:0width$}", width = DIGITS as usize)
}

/// The code an authenticator app shows at `now`.
pub fn code_at(secret: &[u8], now: DateTime<Utc>) -> String {
    code_at_step(secret, step_at(now))
}

/// What [`verify`] decided about a code.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Check {
    /// The code of this step (within the window, later than the last one used).
    Accepted(i64),
    /// The code of a step already used (or earlier): refused.
    Replayed,
    /// Not the code of any step in the window (or not 6 digits).
    Wrong,
}

/// Checks `typed` (spaces ignored: apps show "123 456") against the codes of
/// the steps around `now`; `last_step` is the last step accepted for this
/// secret, whose code and every earlier one are refused. Comparisons take the
/// same time wherever the digits differ.
pub fn verify(secret: &[u8], typed: &str, now: DateTime<Utc>, last_step: Option<i64>) -> Check {
    let typed: String = typed.chars().filter(|c| !c.is_whitespace()).collect();
    if typed.len() != DIGITS as usize || !typed.bytes().all(|b| b.is_ascii_digit()) {
        return Check::Wrong;
    }
    let current = step_at(now);
    let mut found = None;
    for step in current - WINDOW..=current + WINDOW {
        if step >= 0 && constant_time_eq(code_at_step(secret, step).as_bytes(), typed.as_bytes()) && found.is_none() {
            found = Some(step);
        }
    }
    match found {
        None => Check::Wrong,
        Some(step) if last_step.is_some_and(|last| step <= last) => Check::Replayed,
        Some(step) => Check::Accepted(step),
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The `otpauth://` URI (Key Uri Format) that an authenticator app reads
/// from the QR code: issuer and account name in the label and the issuer
/// again as a parameter, the algorithm, digits and period spelled out.
pub fn otpauth_uri(issuer: &str, account: &str, secret_b32: &str) -> String {
    let (issuer, account) = (percent_encode(issuer), percent_encode(account));
    format!(
        "otpauth://totp/{issuer}:{account}?secret={secret_b32}&issuer={issuer}&algorithm=SHA1&digits={DIGITS}&period={STEP_SECONDS}"
    )
}

/// Percent-encodes everything but RFC 3986's unreserved characters (a
/// space is `%20`, as the Key Uri Format asks, not `+`).
fn percent_encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => char::from(b).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    /// RFC 6238's SHA-1 seed: the ASCII string "12345678901234567890".
    const RFC_SECRET: &[u8] = b"12345678901234567890";

    fn at(unix: i64) -> DateTime<Utc> {
        Utc.timestamp_opt(unix, 0).single().unwrap()
    }

    #[test]
    fn rfc_6238_appendix_b_sha1_vectors() {
        // (time, T in hex, TOTP with 8 digits), from RFC 6238, Appendix B.
        let vectors: [(i64, u64, u32); 6] = [
            (59, 0x1, 94287082),
            (1111111109, 0x23523EC, 7081804),
            (1111111111, 0x23523ED, 14050471),
            (1234567890, 0x273EF07, 89005924),
            (2000000000, 0x3F940AA, 69279037),
            (20000000000, 0x27BC86AA, 65353130),
        ];
        for (time, t, expected) in vectors {
            assert_eq!(step_of(time) as u64, t, "T at {time}");
            assert_eq!(hotp(RFC_SECRET, t, 8), expected, "TOTP at {time}");
            // Six digits are the last six of the eight.
            assert_eq!(code_at(RFC_SECRET, at(time)), format!("{:06}", expected % 1_000_000), "{time}");
        }
    }

    #[test]
    fn rfc_4226_appendix_d_hotp_vectors() {
        let expected = [755224, 287082, 359152, 969429, 338314, 254676, 287922, 162583, 399871, 520489];
        for (counter, code) in expected.into_iter().enumerate() {
            assert_eq!(hotp(RFC_SECRET, counter as u64, 6), code, "counter {counter}");
        }
    }

    #[test]
    fn a_code_is_accepted_one_step_either_side_and_only_once() {
        let now = at(1111111111);
        let step = step_at(now);
        let code = code_at(RFC_SECRET, now);
        assert_eq!(code, "050471");
        assert_eq!(verify(RFC_SECRET, &code, now, None), Check::Accepted(step));
        assert_eq!(verify(RFC_SECRET, "050 471", now, None), Check::Accepted(step), "spaces ignored");
        assert_eq!(verify(RFC_SECRET, &code, at(1111111111 + 30), None), Check::Accepted(step), "one step late");
        assert_eq!(verify(RFC_SECRET, &code, at(1111111111 - 30), None), Check::Accepted(step), "one step early");
        assert_eq!(verify(RFC_SECRET, &code, at(1111111111 + 60), None), Check::Wrong, "two steps late");
        assert_eq!(verify(RFC_SECRET, &code, now, Some(step)), Check::Replayed, "the same step again");
        assert_eq!(verify(RFC_SECRET, &code, now, Some(step + 1)), Check::Replayed, "an earlier step");
        assert_eq!(verify(RFC_SECRET, &code, now, Some(step - 1)), Check::Accepted(step));
        for bad in ["", "05047", "0504711", "abcdef", "05047a", "٠٥٠٤٧١"] {
            assert_eq!(verify(RFC_SECRET, bad, now, None), Check::Wrong, "{bad:?}");
        }
        let wrong = if code == "000000" { "000001" } else { "000000" };
        assert_eq!(verify(RFC_SECRET, wrong, now, None), Check::Wrong);
    }

    #[test]
    fn secrets_are_random_base32_and_described_by_an_otpauth_uri() {
        let (a, b) = (new_secret(), new_secret());
        assert_ne!(a, b);
        let text = encode_secret(&a);
        assert_eq!(text.len(), 32);
        assert!(text.bytes().all(|c| c.is_ascii_uppercase() || (b'2'..=b'7').contains(&c)), "{text}");
        assert_eq!(decode_secret(&text).as_deref(), Some(&a[..]));
        assert_eq!(decode_secret(&grouped(&text).to_lowercase()).as_deref(), Some(&a[..]));
        assert_eq!(grouped("ABCDEFGH"), "ABCD EFGH");
        assert_eq!(decode_secret("not base32!"), None);
        assert_eq!(decode_secret(""), None);
        assert_eq!(encode_secret(RFC_SECRET), "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ");
        assert_eq!(
            otpauth_uri("Recauda Loreto", "tesorera", "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"),
            "otpauth://totp/Recauda%20Loreto:tesorera?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ\
             &issuer=Recauda%20Loreto&algorithm=SHA1&digits=6&period=30"
        );
    }
}
