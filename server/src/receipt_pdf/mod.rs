//! Server-side rendering of the official municipal payment receipt
//! ("recibo oficial de pago") as a PDF, in US-letter and 80 mm thermal-ticket
//! sizes.
//!
//! The caller passes already-formatted strings ([`ReceiptView`]); this crate
//! does layout only: no money or date formatting happens here.
//!
//! ```no_run
//! use server::receipt_pdf::{render_pdf, Paper, ReceiptView};
//! let view = ReceiptView::default(); // fill in the fields
//! let bytes = render_pdf(&view, Paper::Letter).unwrap();
//! assert!(bytes.starts_with(b"%PDF-"));
//! ```

mod fonts;
mod layout;
mod pdf;
pub mod qr;
pub mod report;

/// Millimetres per PostScript point.
pub(crate) const PT_TO_MM: f32 = 25.4 / 72.0;
/// Points per millimetre.
pub(crate) const MM_TO_PT: f32 = 72.0 / 25.4;

/// Paper size of the generated receipt.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Paper {
    /// US letter, 215.9 × 279.4 mm; long receipts flow onto more pages.
    Letter,
    /// 80 mm thermal roll (72 mm printable); one page whose height fits the content.
    Ticket80mm,
}

impl Paper {
    /// Page width in millimetres.
    pub fn width_mm(self) -> f32 {
        match self {
            Paper::Letter => 215.9,
            Paper::Ticket80mm => 80.0,
        }
    }
}

/// One line of the receipt's items table. All values are display strings;
/// an empty string leaves the cell blank (and, on the ticket, omits the line).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ReceiptLine {
    /// "Impuesto predial 2026"
    pub concept: String,
    /// "Ene–Dic 2026", may be empty.
    pub period: String,
    /// "$1,200.00"
    pub principal: String,
    /// "$34.90"; empty when not applicable.
    pub surcharges: String,
    /// "-$120.00"; empty when not applicable.
    pub discount: String,
    /// "$1,114.90" (line total)
    pub amount: String,
}

/// Receipt contents, already formatted for display (strings in, PDF out).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ReceiptView {
    /// "Municipio de Loreto"
    pub municipality: String,
    /// "Baja California Sur"
    pub state: String,
    /// "Dirección de Ingresos · Calle Salvatierra s/n, Centro"
    pub office: String,
    /// Municipality logo as PNG bytes (any colour type; alpha is kept).
    pub logo_png: Option<Vec<u8>>,
    /// "RECIBO OFICIAL DE PAGO"
    pub title: String,
    /// "A-2026-000123"
    pub folio: String,
    /// "22/11/2026 10:15 (hora de Loreto)"
    pub issued_at: String,
    /// "MARÍA GUADALUPE PÉREZ NÚÑEZ"
    pub payer_name: String,
    /// "P-000123"
    pub account: String,
    pub items: Vec<ReceiptLine>,
    /// Rounding line ("-$0.40"), `None` when the rounding is zero.
    pub rounding: Option<String>,
    /// "$1,234.50"
    pub total: String,
    /// "UN MIL DOSCIENTOS TREINTA Y CUATRO PESOS 50/100 M.N."
    pub total_in_words: String,
    /// "Tarjeta (Stripe)"
    pub payment_method: String,
    /// "pi_3MtwBwLkdIwHu7ix28a3tqPa"
    pub provider_reference: String,
    /// Encoded in the QR code and printed under it.
    pub verify_url: String,
    /// `Some(reason)` renders the receipt as cancelled.
    pub cancelled: Option<String>,
    pub labels: Labels,
}

/// Fixed texts of the receipt; `Default` is Spanish (Mexico).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Labels {
    pub folio: String,
    pub issued_at: String,
    pub payer: String,
    pub account: String,
    pub concept: String,
    pub period: String,
    pub principal: String,
    pub surcharges: String,
    pub discount: String,
    pub amount: String,
    pub rounding: String,
    pub total: String,
    pub total_in_words: String,
    pub payment_method: String,
    pub provider_reference: String,
    /// Followed by a space and the verification URL.
    pub verify_caption: String,
    /// The big cancellation mark.
    pub cancelled: String,
    /// Prefix of the cancellation reason.
    pub cancelled_reason: String,
    /// Marks continuation pages ("continuación").
    pub continued: String,
    /// "Página" … "de" … (page x of n, letter only).
    pub page: String,
    pub page_of: String,
    /// Small legal note at the bottom of every page; may be empty.
    pub footer_note: String,
}

impl Default for Labels {
    fn default() -> Self {
        Labels {
            folio: "Folio".into(),
            issued_at: "Fecha de emisión".into(),
            payer: "Contribuyente".into(),
            account: "Cuenta".into(),
            concept: "Concepto".into(),
            period: "Periodo".into(),
            principal: "Principal".into(),
            surcharges: "Recargos".into(),
            discount: "Descuento".into(),
            amount: "Importe".into(),
            rounding: "Redondeo".into(),
            total: "Total".into(),
            total_in_words: "Importe con letra".into(),
            payment_method: "Forma de pago".into(),
            provider_reference: "Referencia".into(),
            verify_caption: "Verifique este recibo escaneando el código o en:".into(),
            cancelled: "CANCELADO".into(),
            cancelled_reason: "Motivo".into(),
            continued: "continuación".into(),
            page: "Página".into(),
            page_of: "de".into(),
            footer_note: "Este documento es la representación impresa de un recibo oficial de pago.".into(),
        }
    }
}

/// Why a receipt could not be rendered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PdfError {
    /// `logo_png` is not a decodable PNG.
    Logo(String),
    /// The verification URL cannot be encoded as a QR code (far too long).
    Qr(String),
    /// Font subsetting failed (should not happen with the embedded fonts).
    Font(String),
}

impl std::fmt::Display for PdfError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PdfError::Logo(e) => write!(f, "invalid logo PNG: {e}"),
            PdfError::Qr(e) => write!(f, "cannot encode QR code: {e}"),
            PdfError::Font(e) => write!(f, "font embedding failed: {e}"),
        }
    }
}

impl std::error::Error for PdfError {}

/// Render the receipt as PDF bytes.
///
/// Output is deterministic (no timestamps or random ids), so identical input
/// gives identical bytes.
pub fn render_pdf(v: &ReceiptView, paper: Paper) -> Result<Vec<u8>, PdfError> {
    let logo = match &v.logo_png {
        Some(bytes) => Some(pdf::Logo::get(bytes)?),
        None => None,
    };
    let pages = match paper {
        Paper::Letter => layout::letter(v, logo.as_deref())?,
        Paper::Ticket80mm => layout::ticket(v, logo.as_deref())?,
    };
    let title = format!("{} {}", v.title, v.folio);
    pdf::write(&pages, logo.as_deref(), title.trim(), &v.municipality)
}
