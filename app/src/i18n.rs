//! Interface language: Spanish (es-MX) first, English second.
//!
//! Every text a page shows lives in [`Texts`], once per language, so a missing
//! translation is a compile error rather than a blank on the page.

use serde::{Deserialize, Serialize};

/// The language of a page. Spanish unless the citizen chose English.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum Lang {
    #[default]
    Es,
    En,
}

/// Name of the cookie that remembers the chosen language.
pub const LANG_COOKIE: &str = "recauda_lang";

impl Lang {
    pub fn code(self) -> &'static str {
        match self {
            Lang::Es => "es",
            Lang::En => "en",
        }
    }

    /// The `lang` attribute of the page.
    pub fn html_lang(self) -> &'static str {
        match self {
            Lang::Es => "es-MX",
            Lang::En => "en",
        }
    }

    pub fn parse(code: &str) -> Option<Lang> {
        match code.trim().to_ascii_lowercase().as_str() {
            "es" | "es-mx" => Some(Lang::Es),
            "en" => Some(Lang::En),
            _ => None,
        }
    }

    pub fn other(self) -> Lang {
        match self {
            Lang::Es => Lang::En,
            Lang::En => Lang::Es,
        }
    }

    /// Reads the language from a `Cookie` header value.
    pub fn from_cookie_header(header: &str) -> Option<Lang> {
        header.split(';').find_map(|pair| {
            let (name, value) = pair.split_once('=')?;
            let name = name.trim();
            (name == LANG_COOKIE || name.strip_prefix("__Host-") == Some(LANG_COOKIE))
                .then(|| Lang::parse(value))
                .flatten()
        })
    }

    pub fn texts(self) -> &'static Texts {
        match self {
            Lang::Es => &ES,
            Lang::En => &EN,
        }
    }

    /// Picks the Spanish or the English variant of a message.
    pub fn pick<'a>(self, es: &'a str, en: &'a str) -> &'a str {
        match self {
            Lang::Es => es,
            Lang::En => en,
        }
    }
}

/// All the fixed texts of the interface.
pub struct Texts {
    pub portal_tagline: &'static str,
    pub skip_to_content: &'static str,
    pub switch_language: &'static str,
    pub switch_language_label: &'static str,
    pub nav_home: &'static str,
    pub nav_lookup: &'static str,
    pub home_title: &'static str,
    pub home_intro: &'static str,
    pub home_cta: &'static str,
    pub home_what_title: &'static str,
    pub home_what: [&'static str; 4],
    pub office_hours_title: &'static str,
    pub office_address: &'static str,
    pub office_phone: &'static str,
    pub discounts_title: &'static str,
    pub discounts_none: &'static str,
    pub discount_valid_until: &'static str,
    pub discount_on: &'static str,
    pub lookup_title: &'static str,
    pub lookup_intro: &'static str,
    pub by_account_title: &'static str,
    pub account_label: &'static str,
    pub account_help: &'static str,
    pub by_rfc_title: &'static str,
    pub rfc_label: &'static str,
    pub rfc_help: &'static str,
    pub search: &'static str,
    pub searching: &'static str,
    pub error_summary_title: &'static str,
    pub result_title: &'static str,
    pub computed_on: &'static str,
    pub account: &'static str,
    pub owner: &'static str,
    pub colonia: &'static str,
    pub col_concept: &'static str,
    pub col_period: &'static str,
    pub col_due_date: &'static str,
    pub col_principal: &'static str,
    pub col_recargos: &'static str,
    pub col_discount: &'static str,
    pub col_total: &'static str,
    pub months_late: &'static str,
    pub account_total: &'static str,
    pub no_debts: &'static str,
    pub pay_these: &'static str,
    pub include_charge: &'static str,
    pub order_title: &'static str,
    pub order_intro: &'static str,
    pub order_reference: &'static str,
    pub order_expires: &'static str,
    pub order_status: &'static str,
    pub order_total: &'static str,
    pub pay_online: &'static str,
    /// No online provider: the slip is paid at the window.
    pub online_unavailable: &'static str,
    /// The order's total is under the online minimum (Stripe's, for MXN).
    pub below_online_minimum: &'static str,
    pub requote: &'static str,
    pub print_hint: &'static str,
    pub status_created: &'static str,
    pub status_pending: &'static str,
    pub status_succeeded: &'static str,
    pub status_failed: &'static str,
    pub status_expired: &'static str,
    pub status_cancelled: &'static str,
    pub status_refunded: &'static str,
    pub status_annulled: &'static str,
    pub paid_note: &'static str,
    pub pending_note: &'static str,
    pub oxxo_voucher: &'static str,
    pub processing_title: &'static str,
    pub processing_note: &'static str,
    pub refresh_status: &'static str,
    pub oxxo_title: &'static str,
    pub oxxo_note: &'static str,
    pub pay_before: &'static str,
    pub amount_to_pay: &'static str,
    pub oxxo_voucher_link: &'static str,
    pub spei_title: &'static str,
    pub spei_note: &'static str,
    pub spei_clabe: &'static str,
    pub spei_bank: &'static str,
    pub spei_reference: &'static str,
    pub spei_link: &'static str,
    pub failed_note: &'static str,
    pub expired_note: &'static str,
    pub demo_title: &'static str,
    pub demo_banner: &'static str,
    pub demo_pay_card: &'static str,
    pub demo_fail: &'static str,
    pub demo_oxxo_pending: &'static str,
    pub demo_oxxo_paid: &'static str,
    pub back_to_order: &'static str,
    pub subtotal: &'static str,
    pub rounding_line: &'static str,
    pub grand_total: &'static str,
    pub amounts_note: &'static str,
    pub new_search: &'static str,
    pub rate_limited_title: &'static str,
    pub not_found_title: &'static str,
    pub not_found_body: &'static str,
    pub kinds_fisica: &'static str,
    pub kinds_moral: &'static str,
    pub footer: &'static str,
}

pub static ES: Texts = Texts {
    portal_tagline: "Pagos y consultas de la Tesorería Municipal",
    skip_to_content: "Saltar al contenido",
    switch_language: "English",
    switch_language_label: "Read this page in English",
    nav_home: "Inicio",
    nav_lookup: "Consultar adeudos",
    home_title: "Consulte y pague sus contribuciones municipales",
    home_intro: "Con su número de cuenta o su RFC vea lo que debe, con recargos y los descuentos autorizados, desde su teléfono.",
    home_cta: "Consultar mis adeudos",
    home_what_title: "¿Qué puede hacer aquí?",
    home_what: [
        "Consultar adeudos de predial, agua, basura y licencias por número de cuenta o RFC.",
        "Ver los recargos al día de hoy y los descuentos que autorizó el Cabildo.",
        "Conocer el total a pagar, redondeado conforme al artículo 20 del Código Fiscal de la Federación.",
        "Acudir a la caja con su consulta impresa o guardada en el teléfono.",
    ],
    office_hours_title: "Horario de atención",
    office_address: "Domicilio",
    office_phone: "Teléfono",
    discounts_title: "Descuentos autorizados vigentes",
    discounts_none: "Hoy no hay programas de descuento vigentes.",
    discount_valid_until: "Vigente hasta el",
    discount_on: "sobre",
    lookup_title: "Consultar adeudos",
    lookup_intro: "Busque por número de cuenta (viene en su recibo anterior) o por RFC.",
    by_account_title: "Por número de cuenta",
    account_label: "Número de cuenta",
    account_help: "Por ejemplo: P-000123",
    by_rfc_title: "Por RFC",
    rfc_label: "RFC",
    rfc_help: "12 caracteres (persona moral) o 13 (persona física), sin espacios.",
    search: "Consultar",
    searching: "Consultando…",
    error_summary_title: "Hay un problema con su consulta",
    result_title: "Resultado de la consulta",
    computed_on: "Importes calculados al",
    account: "Cuenta",
    owner: "Titular",
    colonia: "Colonia",
    col_concept: "Concepto",
    col_period: "Periodo",
    col_due_date: "Vencimiento",
    col_principal: "Importe",
    col_recargos: "Recargos",
    col_discount: "Descuento",
    col_total: "Total",
    months_late: "meses de atraso",
    account_total: "Total de la cuenta",
    no_debts: "Esta cuenta no tiene adeudos.",
    pay_these: "Pagar estos adeudos",
    include_charge: "Incluir",
    order_title: "Formato de pago",
    order_intro: "Presente la referencia en ventanilla o pague en línea. Este formato es válido hasta la fecha indicada.",
    order_reference: "Referencia de pago",
    order_expires: "Vigente hasta",
    order_status: "Estado",
    order_total: "Total a pagar",
    pay_online: "Pagar en línea",
    online_unavailable: "El pago en línea no está disponible por ahora. Imprima este formato de pago y páguelo en las cajas de la tesorería antes de la fecha límite.",
    below_online_minimum: "El pago en línea requiere un total de al menos $10.00. Imprima este formato de pago y páguelo en las cajas de la tesorería antes de la fecha límite.",
    requote: "Volver a cotizar",
    print_hint: "Puede imprimir esta página como comprobante de su orden.",
    status_created: "Por pagar",
    status_pending: "Pago en proceso",
    status_succeeded: "Pago recibido",
    status_failed: "Pago rechazado",
    status_expired: "Orden vencida",
    status_cancelled: "Orden cancelada",
    status_refunded: "Pago reembolsado",
    status_annulled: "Pago anulado por la tesorería: el recibo fue cancelado y los adeudos vuelven a estar pendientes",
    paid_note: "Gracias. Sus adeudos quedaron pagados.",
    pending_note: "Su pago está en proceso: esta página se actualiza cuando se confirme.",
    oxxo_voucher: "Referencia de la ficha OXXO",
    processing_title: "Pago en proceso",
    processing_note: "Estamos esperando la confirmación de su pago. No vuelva a pagar: esta página se actualiza sola en unos segundos.",
    refresh_status: "Actualizar estado",
    oxxo_title: "Pague en efectivo en cualquier tienda OXXO",
    oxxo_note: "Muestre en caja la referencia de su ficha y pague el importe exacto. OXXO confirma el pago hasta un día hábil después; entonces el adeudo desaparece de su consulta.",
    pay_before: "Pague antes de",
    amount_to_pay: "Importe a pagar",
    oxxo_voucher_link: "Ver e imprimir la ficha OXXO",
    spei_title: "Pague con una transferencia SPEI",
    spei_note: "Desde la banca en línea de su banco, transfiera el importe exacto a esta CLABE con esta referencia. El pago se confirma cuando llega la transferencia.",
    spei_clabe: "CLABE",
    spei_bank: "Banco",
    spei_reference: "Referencia",
    spei_link: "Ver las instrucciones de transferencia",
    failed_note: "El pago no se realizó. Vuelva a consultar sus adeudos para intentarlo de nuevo.",
    expired_note: "Esta orden venció sin pagarse. Puede volver a cotizarla con las cifras de hoy.",
    demo_title: "Pago de prueba",
    demo_banner: "MODO DE PRUEBA — no se cobra dinero real",
    demo_pay_card: "Pagar con tarjeta",
    demo_fail: "Rechazar el pago",
    demo_oxxo_pending: "OXXO: generar ficha (pago pendiente)",
    demo_oxxo_paid: "OXXO: pagado después",
    back_to_order: "Volver a la orden de pago",
    subtotal: "Suma de conceptos",
    rounding_line: "Ajuste por redondeo",
    grand_total: "Total a pagar",
    amounts_note: "Los recargos se calculan por cada mes o fracción de atraso. El total se redondea al peso (CFF art. 20).",
    new_search: "Nueva consulta",
    rate_limited_title: "Demasiadas consultas",
    not_found_title: "Página no encontrada",
    not_found_body: "La dirección que abrió no existe en este portal.",
    kinds_fisica: "Persona física",
    kinds_moral: "Persona moral",
    footer: "Recauda — portal de la Tesorería Municipal. Software libre.",
};

pub static EN: Texts = Texts {
    portal_tagline: "Municipal Treasury payments and enquiries",
    skip_to_content: "Skip to content",
    switch_language: "Español",
    switch_language_label: "Ver esta página en español",
    nav_home: "Home",
    nav_lookup: "Look up what I owe",
    home_title: "Look up and pay your municipal taxes and fees",
    home_intro: "With your account number or your RFC, see what you owe, with surcharges and the authorized discounts, from your phone.",
    home_cta: "Look up what I owe",
    home_what_title: "What can I do here?",
    home_what: [
        "Look up property tax (predial), water, garbage and licence debts by account number or RFC.",
        "See today's surcharges (recargos) and the discounts approved by the town council.",
        "See the total payable, rounded as article 20 of the Federal Tax Code requires.",
        "Take your printed or saved lookup to the cashier's window.",
    ],
    office_hours_title: "Office hours",
    office_address: "Address",
    office_phone: "Phone",
    discounts_title: "Authorized discounts in force",
    discounts_none: "No discount programs are in force today.",
    discount_valid_until: "Valid until",
    discount_on: "on",
    lookup_title: "Look up what I owe",
    lookup_intro: "Search by account number (printed on your last receipt) or by RFC.",
    by_account_title: "By account number",
    account_label: "Account number",
    account_help: "For example: P-000123",
    by_rfc_title: "By RFC",
    rfc_label: "RFC (tax ID)",
    rfc_help: "12 characters (company) or 13 (individual), no spaces.",
    search: "Look up",
    searching: "Looking up…",
    error_summary_title: "There is a problem with your lookup",
    result_title: "Lookup result",
    computed_on: "Amounts computed as of",
    account: "Account",
    owner: "Owner",
    colonia: "Neighbourhood (colonia)",
    col_concept: "Concept",
    col_period: "Period",
    col_due_date: "Due date",
    col_principal: "Amount",
    col_recargos: "Surcharges",
    col_discount: "Discount",
    col_total: "Total",
    months_late: "months late",
    account_total: "Account total",
    no_debts: "This account owes nothing.",
    pay_these: "Pay these charges",
    include_charge: "Include",
    order_title: "Payment slip",
    order_intro: "Show the reference at the cashier's window or pay online. This slip is valid until the date shown.",
    order_reference: "Payment reference",
    order_expires: "Valid until",
    order_status: "Status",
    order_total: "Total to pay",
    pay_online: "Pay online",
    online_unavailable: "Online payment is not available right now. Print this payment slip and pay it at the treasury's cashier windows before the deadline.",
    below_online_minimum: "Online payment needs a total of at least $10.00. Print this payment slip and pay it at the treasury's cashier windows before the deadline.",
    requote: "Quote again",
    print_hint: "You can print this page as a record of your order.",
    status_created: "Awaiting payment",
    status_pending: "Payment in process",
    status_succeeded: "Payment received",
    status_failed: "Payment declined",
    status_expired: "Order expired",
    status_cancelled: "Order cancelled",
    status_refunded: "Payment refunded",
    status_annulled: "Payment annulled by the treasury: the receipt was cancelled and the charges are pending again",
    paid_note: "Thank you. Your charges are paid.",
    pending_note: "Your payment is in process: this page changes when it is confirmed.",
    oxxo_voucher: "OXXO voucher reference",
    processing_title: "Payment in process",
    processing_note: "We are waiting for your payment to be confirmed. Do not pay again: this page refreshes by itself in a few seconds.",
    refresh_status: "Refresh status",
    oxxo_title: "Pay cash at any OXXO store",
    oxxo_note: "Show the voucher reference at the till and pay the exact amount. OXXO confirms the payment up to one business day later; then the debt leaves your lookup.",
    pay_before: "Pay before",
    amount_to_pay: "Amount to pay",
    oxxo_voucher_link: "View and print the OXXO voucher",
    spei_title: "Pay by SPEI bank transfer",
    spei_note: "From your bank's online banking, transfer the exact amount to this CLABE with this reference. The payment is confirmed when the transfer arrives.",
    spei_clabe: "CLABE",
    spei_bank: "Bank",
    spei_reference: "Reference",
    spei_link: "View the transfer instructions",
    failed_note: "The payment did not go through. Look up your debts again to try again.",
    expired_note: "This order expired unpaid. You can quote it again at today's figures.",
    demo_title: "Test payment",
    demo_banner: "TEST MODE — no real money is charged",
    demo_pay_card: "Pay by card",
    demo_fail: "Decline the payment",
    demo_oxxo_pending: "OXXO: issue a voucher (payment pending)",
    demo_oxxo_paid: "OXXO: paid later",
    back_to_order: "Back to the payment order",
    subtotal: "Sum of items",
    rounding_line: "Rounding adjustment",
    grand_total: "Total payable",
    amounts_note: "Surcharges accrue for each month or part of a month late. The total is rounded to the peso (Federal Tax Code art. 20).",
    new_search: "New lookup",
    rate_limited_title: "Too many lookups",
    not_found_title: "Page not found",
    not_found_body: "The address you opened does not exist on this portal.",
    kinds_fisica: "Individual",
    kinds_moral: "Company",
    footer: "Recauda — Municipal Treasury portal. Free software.",
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_language_cookie() {
        assert_eq!(Lang::from_cookie_header("a=1; recauda_lang=en"), Some(Lang::En));
        assert_eq!(Lang::from_cookie_header("recauda_lang=es"), Some(Lang::Es));
        assert_eq!(Lang::from_cookie_header("a=1; __Host-recauda_lang=en"), Some(Lang::En), "its name under https");
        assert_eq!(Lang::from_cookie_header("recauda_lang=fr"), None);
        assert_eq!(Lang::from_cookie_header(""), None);
    }

    #[test]
    fn the_online_minimum_in_words_is_the_constant() {
        let minimum = crate::domain::payment::ONLINE_MINIMUM.display_mxn();
        for t in [&ES, &EN] {
            assert!(t.below_online_minimum.contains(&minimum), "{}", t.below_online_minimum);
        }
    }
}
