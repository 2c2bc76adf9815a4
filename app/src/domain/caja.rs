//! The caja (the treasury's window): how a payment is taken there, the
//! blind corte de caja that closes a till session, and the reasons a
//! receipt may be cancelled. Pure: the store persists what these decide.
//!
//! * A till ([`Till`], from the municipality file) has a code that is also
//!   its folio series (`C1` → `C1-2026-000001`).
//! * A payment at the window ([`WindowTender`]) is cash (what was handed
//!   over; the change due is [`change_due`]), a card terminal (its
//!   authorisation number), a cheque (bank and number) or a transfer (its
//!   tracking key). It always pays the order's whole total.
//! * The corte is blind: the cajero enters the cash by denomination
//!   ([`CashCount`]) and the other methods' totals before seeing what the
//!   system expects; then [`Corte`] compares them, method by method.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::domain::folio::{Folio, DEMO_PERMIT_SERIES, DEMO_SERIES, ONLINE_SERIES, PERMIT_SERIES, REQUEST_SERIES};
use crate::domain::licences::LICENCE_SERIES;
use crate::domain::money::{Centavos, MAX_INPUT};
use crate::domain::payment::Method;

/// A till of the treasury (municipality file, `[[tills]]`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Till {
    /// Its code, which is also the folio series of its receipts (`C1`).
    pub code: String,
    /// Where it is, as the staff call it ("Caja 1 — Palacio Municipal").
    pub name: String,
}

impl Till {
    /// Whether the code can be a till's folio series: a valid series that
    /// is none of the portal's own (online, demonstration, requests,
    /// permits, new licences' counter).
    pub fn code_is_valid(code: &str) -> bool {
        let reserved = [ONLINE_SERIES, DEMO_SERIES, REQUEST_SERIES, PERMIT_SERIES, DEMO_PERMIT_SERIES, LICENCE_SERIES];
        Folio::new(code, 2026, 1).is_ok_and(|f| f.series() == code && !reserved.contains(&code))
    }
}

string_enum! {
    /// Where a till session stands.
    pub enum TillStatus {
        /// Taking payments.
        Open = "open",
        /// The blind count is in: the till is locked until a tesorero
        /// approves the corte (a difference explained by the cajero first).
        Counted = "counted",
        /// A tesorero approved the corte.
        Closed = "closed",
    }
}

impl TillStatus {
    pub fn label_es(self) -> &'static str {
        match self {
            TillStatus::Open => "abierta",
            TillStatus::Counted => "corte por aprobar",
            TillStatus::Closed => "cerrada",
        }
    }
}

/// How a payment at the window was made, with what identifies it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum WindowTender {
    /// Cash: what the payer handed over (at least the total).
    Cash { tendered: Centavos },
    /// A card on the bank's terminal: the authorisation it printed.
    Card { authorization: String },
    /// A cheque: the bank and the cheque's number.
    Cheque { bank: String, number: String },
    /// A bank transfer (SPEI): its tracking key (clave de rastreo).
    Transfer { tracking_key: String },
}

/// Why a window payment cannot be taken as entered.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TenderError {
    #[error("the cash handed over ({tendered}) is less than the total ({total})")]
    NotEnoughCash { total: Centavos, tendered: Centavos },
    #[error("the amount handed over is not a valid amount")]
    BadAmount,
    #[error("the card terminal's authorisation is missing or malformed")]
    Authorization,
    #[error("the cheque's bank is missing")]
    ChequeBank,
    #[error("the cheque's number is missing or malformed")]
    ChequeNumber,
    #[error("the transfer's tracking key is missing or malformed")]
    TrackingKey,
    #[error("unknown payment method")]
    Method,
}

impl TenderError {
    pub fn message_es(&self) -> String {
        match self {
            TenderError::NotEnoughCash { total, tendered } => format!(
                "El efectivo recibido ({}) es menor que el total a pagar ({}).",
                tendered.display_mxn(),
                total.display_mxn()
            ),
            TenderError::BadAmount => "Escriba el efectivo recibido en pesos, por ejemplo 500 o 1,250.50.".into(),
            TenderError::Authorization => {
                "Escriba el número de autorización que imprimió la terminal (4 a 12 letras o dígitos).".into()
            }
            TenderError::ChequeBank => "Escriba el banco del cheque.".into(),
            TenderError::ChequeNumber => "Escriba el número del cheque (solo dígitos, hasta 12).".into(),
            TenderError::TrackingKey => {
                "Escriba la clave de rastreo de la transferencia (6 a 30 letras o dígitos).".into()
            }
            TenderError::Method => "Elija la forma de pago: efectivo, tarjeta, cheque o transferencia.".into(),
        }
    }

    /// The form field to fix.
    pub fn field(&self) -> &'static str {
        match self {
            TenderError::NotEnoughCash { .. } | TenderError::BadAmount => "recibido",
            TenderError::Authorization => "autorizacion",
            TenderError::ChequeBank => "banco",
            TenderError::ChequeNumber => "cheque",
            TenderError::TrackingKey => "rastreo",
            TenderError::Method => "forma",
        }
    }
}

fn alnum(s: &str, min: usize, max: usize) -> Option<String> {
    let s = s.trim().to_uppercase();
    (s.len() >= min && s.len() <= max && s.bytes().all(|b| b.is_ascii_alphanumeric())).then_some(s)
}

impl WindowTender {
    /// Reads what the cajero entered: the method (`efectivo`, `tarjeta`,
    /// `cheque`, `transferencia`) and its fields.
    pub fn parse(
        method: &str,
        tendered: &str,
        authorization: &str,
        bank: &str,
        cheque: &str,
        tracking_key: &str,
    ) -> Result<WindowTender, TenderError> {
        match method.trim() {
            "efectivo" => {
                let tendered = Centavos::parse_printed(tendered).map_err(|_| TenderError::BadAmount)?;
                if tendered.0 <= 0 || tendered > MAX_INPUT {
                    return Err(TenderError::BadAmount);
                }
                Ok(WindowTender::Cash { tendered })
            }
            "tarjeta" => {
                Ok(WindowTender::Card { authorization: alnum(authorization, 4, 12).ok_or(TenderError::Authorization)? })
            }
            "cheque" => {
                let bank = bank.trim();
                if bank.is_empty() || bank.chars().count() > 60 || bank.chars().any(char::is_control) {
                    return Err(TenderError::ChequeBank);
                }
                let number = cheque.trim();
                if number.is_empty() || number.len() > 12 || !number.bytes().all(|b| b.is_ascii_digit()) {
                    return Err(TenderError::ChequeNumber);
                }
                Ok(WindowTender::Cheque { bank: bank.to_string(), number: number.to_string() })
            }
            "transferencia" => {
                Ok(WindowTender::Transfer { tracking_key: alnum(tracking_key, 6, 30).ok_or(TenderError::TrackingKey)? })
            }
            _ => Err(TenderError::Method),
        }
    }

    /// The method a receipt prints.
    pub fn method(&self) -> Method {
        match self {
            WindowTender::Cash { .. } => Method::Cash,
            WindowTender::Card { .. } => Method::Card,
            WindowTender::Cheque { .. } => Method::Cheque,
            WindowTender::Transfer { .. } => Method::Transfer,
        }
    }

    /// The identifier the receipt prints as the payment's reference
    /// (authorisation, cheque number, tracking key; none for cash).
    pub fn reference(&self) -> Option<String> {
        match self {
            WindowTender::Cash { .. } => None,
            WindowTender::Card { authorization } => Some(authorization.clone()),
            WindowTender::Cheque { number, .. } => Some(number.clone()),
            WindowTender::Transfer { tracking_key } => Some(tracking_key.clone()),
        }
    }

    /// The bank of a cheque.
    pub fn bank(&self) -> Option<&str> {
        match self {
            WindowTender::Cheque { bank, .. } => Some(bank),
            _ => None,
        }
    }
}

/// The change due when `tendered` pays `total` in cash.
pub fn change_due(total: Centavos, tendered: Centavos) -> Result<Centavos, TenderError> {
    if tendered < total {
        return Err(TenderError::NotEnoughCash { total, tendered });
    }
    Ok(tendered - total)
}

/// The denominations of Mexican cash a till counts, highest first, in
/// centavos (the $20 note and coin share a line).
pub const DENOMINATIONS: [i64; 12] = [100_000, 50_000, 20_000, 10_000, 5_000, 2_000, 1_000, 500, 200, 100, 50, 10];

/// How a denomination is written on the count form.
pub fn denomination_label(centavos: i64) -> String {
    let kind = if centavos >= 5_000 {
        "billete"
    } else if centavos == 2_000 {
        "billete o moneda"
    } else {
        "moneda"
    };
    format!("{} ({kind})", Centavos(centavos).display_mxn())
}

/// Cash counted by denomination: pieces of each.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CashCount(pub BTreeMap<i64, u32>);

/// Why a count cannot be taken as entered.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("bad count for {field}")]
pub struct CountError {
    /// The form field (`d50000`, `tarjeta`, …).
    pub field: String,
    pub label: String,
}

impl CountError {
    pub fn message_es(&self) -> String {
        format!("Revise «{}»: escriba un número entero de piezas o un importe en pesos.", self.label)
    }
}

/// The most pieces of one denomination a till may hold.
const MAX_PIECES: u32 = 100_000;

impl CashCount {
    /// Reads the pieces entered per denomination (`field(d)` gives the
    /// text entered for denomination `d`; empty counts as 0).
    pub fn parse(field: impl Fn(i64) -> String) -> Result<CashCount, CountError> {
        let mut pieces = BTreeMap::new();
        for d in DENOMINATIONS {
            let text = field(d);
            let text = text.trim();
            let n: u32 = if text.is_empty() {
                0
            } else {
                match text.parse::<u32>() {
                    Ok(n) if n <= MAX_PIECES => n,
                    _ => return Err(CountError { field: format!("d{d}"), label: denomination_label(d) }),
                }
            };
            if n > 0 {
                pieces.insert(d, n);
            }
        }
        Ok(CashCount(pieces))
    }

    pub fn total(&self) -> Centavos {
        Centavos(self.0.iter().map(|(d, n)| d * i64::from(*n)).sum())
    }
}

/// What a cajero counted: the cash by denomination, and the totals of the
/// card vouchers, cheques and transfers.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TillCount {
    pub cash: CashCount,
    pub card: Centavos,
    pub cheque: Centavos,
    pub transfer: Centavos,
}

impl TillCount {
    pub fn by_method(&self) -> ByMethod {
        ByMethod { cash: self.cash.total(), card: self.card, cheque: self.cheque, transfer: self.transfer }
    }
}

/// An amount entered on the count form for a method other than cash.
pub fn parse_counted_amount(text: &str, field: &str, label: &str) -> Result<Centavos, CountError> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(Centavos(0));
    }
    match Centavos::parse_printed(text) {
        Ok(c) if c.0 >= 0 && c <= MAX_INPUT => Ok(c),
        _ => Err(CountError { field: field.into(), label: label.into() }),
    }
}

/// Amounts per window method.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ByMethod {
    pub cash: Centavos,
    pub card: Centavos,
    pub cheque: Centavos,
    pub transfer: Centavos,
}

impl ByMethod {
    pub fn total(&self) -> Centavos {
        self.cash + self.card + self.cheque + self.transfer
    }

    /// The rows of a corte, in the order it prints them.
    pub fn rows(&self) -> [(Method, Centavos); 4] {
        [
            (Method::Cash, self.cash),
            (Method::Card, self.card),
            (Method::Cheque, self.cheque),
            (Method::Transfer, self.transfer),
        ]
    }

    pub fn add(&mut self, method: Method, amount: Centavos) {
        match method {
            Method::Cash => self.cash = self.cash + amount,
            Method::Cheque => self.cheque = self.cheque + amount,
            Method::Transfer => self.transfer = self.transfer + amount,
            // Online methods never reach a till; a card is the terminal's.
            Method::Card | Method::Oxxo | Method::Spei => self.card = self.card + amount,
        }
    }
}

/// A corte: what was counted against what the system expected (the cash
/// expected includes the opening float).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Corte {
    pub counted: ByMethod,
    pub expected: ByMethod,
}

impl Corte {
    /// Counted minus expected, per method: negative is a shortage
    /// (faltante), positive a surplus (sobrante).
    pub fn differences(&self) -> ByMethod {
        ByMethod {
            cash: self.counted.cash - self.expected.cash,
            card: self.counted.card - self.expected.card,
            cheque: self.counted.cheque - self.expected.cheque,
            transfer: self.counted.transfer - self.expected.transfer,
        }
    }

    /// Every method matches to the centavo (a shortage in cash is not
    /// made good by a surplus in cheques).
    pub fn balances(&self) -> bool {
        self.differences().rows().iter().all(|(_, d)| d.0 == 0)
    }

    /// The overall difference.
    pub fn difference(&self) -> Centavos {
        self.counted.total() - self.expected.total()
    }
}

/// How a difference is written: "faltante de $50.00", "sobrante de …".
pub fn difference_words(d: Centavos) -> String {
    match d.0.cmp(&0) {
        std::cmp::Ordering::Less => format!("faltante de {}", Centavos(-d.0).display_mxn()),
        std::cmp::Ordering::Equal => "sin diferencia".into(),
        std::cmp::Ordering::Greater => format!("sobrante de {}", d.display_mxn()),
    }
}

string_enum! {
    /// Why a receipt is cancelled (the list a request picks from; the
    /// request adds its own words).
    pub enum CancelReason {
        /// The cajero applied the payment to the wrong account or charges.
        WrongCapture = "error_captura",
        /// The same charges were paid twice.
        DuplicatePayment = "pago_duplicado",
        /// The money was given back to the payer.
        MoneyReturned = "devolucion",
        /// The payer's or the receipt's data are wrong.
        WrongData = "datos_incorrectos",
        /// Anything else, explained in the text.
        Other = "otro",
    }
}

impl CancelReason {
    pub fn label_es(self) -> &'static str {
        match self {
            CancelReason::WrongCapture => "Error de captura (cuenta o adeudos equivocados)",
            CancelReason::DuplicatePayment => "Pago duplicado",
            CancelReason::MoneyReturned => "Devolución del dinero al contribuyente",
            CancelReason::WrongData => "Datos del recibo incorrectos",
            CancelReason::Other => "Otro motivo",
        }
    }
}

/// The reason a receipt prints once cancelled: the list's label and the
/// request's words.
pub fn cancellation_text(reason: CancelReason, detail: &str) -> String {
    format!("{}: {}", reason.label_es(), detail.trim())
}

/// What a cancellation request's text must be: 10 to 500 characters, no
/// control characters.
pub fn valid_cancel_detail(detail: &str) -> bool {
    let d = detail.trim();
    (10..=500).contains(&d.chars().count()) && !d.chars().any(|c| c.is_control() && c != '\n' && c != '\r')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn till_codes_are_folio_series_other_than_online_and_demo() {
        assert!(Till::code_is_valid("C1"));
        assert!(Till::code_is_valid("CAJ2"));
        for bad in ["A", "DEMO", "ALC", "c1", "1C", "", "CAJA1", "C-1"] {
            assert!(!Till::code_is_valid(bad), "{bad}");
        }
    }

    #[test]
    fn cash_needs_at_least_the_total_and_gives_change() {
        assert_eq!(change_due(Centavos(123_450), Centavos(150_000)), Ok(Centavos(26_550)));
        assert_eq!(change_due(Centavos(100), Centavos(100)), Ok(Centavos(0)));
        assert_eq!(
            change_due(Centavos(100), Centavos(99)),
            Err(TenderError::NotEnoughCash { total: Centavos(100), tendered: Centavos(99) })
        );
    }

    #[test]
    fn tenders_are_read_strictly() {
        let p = |m: &str, a: &str, b: &str, c: &str, d: &str, e: &str| WindowTender::parse(m, a, b, c, d, e);
        assert_eq!(p("efectivo", "1,500.00", "", "", "", ""), Ok(WindowTender::Cash { tendered: Centavos(150_000) }));
        assert_eq!(p("efectivo", "", "", "", "", ""), Err(TenderError::BadAmount));
        assert_eq!(p("efectivo", "-5", "", "", "", ""), Err(TenderError::BadAmount));
        assert_eq!(p("tarjeta", "", " ab12c9 ", "", "", ""), Ok(WindowTender::Card { authorization: "AB12C9".into() }));
        assert_eq!(p("tarjeta", "", "12", "", "", ""), Err(TenderError::Authorization));
        assert_eq!(p("tarjeta", "", "12 34 56", "", "", ""), Err(TenderError::Authorization));
        assert_eq!(
            p("cheque", "", "", "BBVA México", "0012345", ""),
            Ok(WindowTender::Cheque { bank: "BBVA México".into(), number: "0012345".into() })
        );
        assert_eq!(p("cheque", "", "", "", "0012345", ""), Err(TenderError::ChequeBank));
        assert_eq!(p("cheque", "", "", "Banorte", "12A", ""), Err(TenderError::ChequeNumber));
        assert_eq!(
            p("transferencia", "", "", "", "", "MBAN01002611250001"),
            Ok(WindowTender::Transfer { tracking_key: "MBAN01002611250001".into() })
        );
        assert_eq!(p("transferencia", "", "", "", "", "x"), Err(TenderError::TrackingKey));
        assert_eq!(p("bitcoin", "", "", "", "", ""), Err(TenderError::Method));
        for e in [TenderError::BadAmount, TenderError::Method, TenderError::ChequeBank] {
            assert!(!e.message_es().is_empty() && !e.field().is_empty());
        }
    }

    #[test]
    fn a_count_adds_denominations_exactly() {
        let entered = |d: i64| match d {
            50_000 => "3".to_string(),
            2_000 => " 7 ".to_string(),
            50 => "5".to_string(),
            10 => "3".to_string(),
            _ => String::new(),
        };
        let count = CashCount::parse(entered).unwrap();
        assert_eq!(count.total(), Centavos(150_000 + 14_000 + 250 + 30));
        let bad = CashCount::parse(|d| if d == 100 { "dos".into() } else { String::new() }).unwrap_err();
        assert_eq!(bad.field, "d100");
        assert!(bad.message_es().contains("$1.00"), "{}", bad.message_es());
        assert!(CashCount::parse(|_| "-1".into()).is_err());
        assert!(CashCount::parse(|_| "1.5".into()).is_err());
        assert_eq!(parse_counted_amount("", "tarjeta", "Tarjeta"), Ok(Centavos(0)));
        assert_eq!(parse_counted_amount("2,000.50", "tarjeta", "Tarjeta"), Ok(Centavos(200_050)));
        assert!(parse_counted_amount("-1", "tarjeta", "Tarjeta").is_err());
    }

    #[test]
    fn a_corte_balances_only_method_by_method() {
        let expected =
            ByMethod { cash: Centavos(150_000), card: Centavos(20_000), cheque: Centavos(0), transfer: Centavos(0) };
        let even = Corte { counted: expected, expected };
        assert!(even.balances());
        assert_eq!(even.difference(), Centavos(0));
        // $50 short in cash, $50 over in card: the totals agree, the corte does not.
        let swapped =
            Corte { counted: ByMethod { cash: Centavos(145_000), card: Centavos(25_000), ..expected }, expected };
        assert!(!swapped.balances());
        assert_eq!(swapped.difference(), Centavos(0));
        assert_eq!(swapped.differences().cash, Centavos(-5_000));
        assert_eq!(difference_words(Centavos(-5_000)), "faltante de $50.00");
        assert_eq!(difference_words(Centavos(10)), "sobrante de $0.10");
        assert_eq!(difference_words(Centavos(0)), "sin diferencia");
    }

    #[test]
    fn cancellation_reasons_and_text() {
        for r in CancelReason::ALL {
            assert_eq!(CancelReason::parse(r.as_str()), Some(r));
            assert!(!r.label_es().is_empty());
        }
        assert!(valid_cancel_detail("Se cobró a la cuenta equivocada"));
        assert!(!valid_cancel_detail("corto"));
        assert!(!valid_cancel_detail(&"x".repeat(501)));
        assert_eq!(
            cancellation_text(CancelReason::DuplicatePayment, " pagó dos veces en ventanilla "),
            "Pago duplicado: pagó dos veces en ventanilla"
        );
    }
}
