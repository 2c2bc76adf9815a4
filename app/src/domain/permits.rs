//! Permit requests (solicitudes de trámite): their states, who may move them
//! and where, and what the citizen is told in each.
//!
//! ```text
//!              ┌────────── ask_correction ──────────┐
//!              │                                    ▼
//! submitted ─ take ─▶ in_review ── ask_correction ─▶ needs_correction
//!    ▲ │                 │ │                            │ │
//!    │ │                 │ └─ reject ─▶ rejected ◀──────┘ │ (reject, expire)
//!    │ │                 └─ approve ─▶ approved ─ pay ─▶ paid ─ issue ─▶ issued
//!    │ └─ approve / reject                │
//!    └──────────── resubmit ─────────────────────────────┘ (from needs_correction)
//! cancel: the applicant, before payment; expire: the system, when a
//! correction or a payment is not made in time.
//! ```
//!
//! The review clock ([`crate::domain::working_days`]) runs while the office
//! has the request (submitted, in review), pauses while the citizen has it
//! (needs correction) and stops once it is decided.

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::domain::money::Centavos;
use crate::domain::working_days::Clock;

string_enum! {
    /// Where a request stands.
    pub enum RequestStatus {
        Submitted = "submitted",
        InReview = "in_review",
        NeedsCorrection = "needs_correction",
        Approved = "approved",
        Paid = "paid",
        Issued = "issued",
        Rejected = "rejected",
        Cancelled = "cancelled",
        Expired = "expired",
    }
}

impl RequestStatus {
    /// The state's name for the citizen ("Aprobada – por pagar").
    pub fn label_es(self) -> &'static str {
        match self {
            RequestStatus::Submitted => "Enviada",
            RequestStatus::InReview => "En revisión",
            RequestStatus::NeedsCorrection => "Requiere corrección",
            RequestStatus::Approved => "Aprobada – por pagar",
            RequestStatus::Paid => "Pagada",
            RequestStatus::Issued => "Expedida",
            RequestStatus::Rejected => "Rechazada",
            RequestStatus::Cancelled => "Cancelada",
            RequestStatus::Expired => "Vencida",
        }
    }

    pub fn label_en(self) -> &'static str {
        match self {
            RequestStatus::Submitted => "Submitted",
            RequestStatus::InReview => "Under review",
            RequestStatus::NeedsCorrection => "Needs correction",
            RequestStatus::Approved => "Approved – awaiting payment",
            RequestStatus::Paid => "Paid",
            RequestStatus::Issued => "Issued",
            RequestStatus::Rejected => "Rejected",
            RequestStatus::Cancelled => "Cancelled",
            RequestStatus::Expired => "Expired",
        }
    }

    /// What it means for the citizen, in plain words.
    pub fn explanation_es(self) -> &'static str {
        match self {
            RequestStatus::Submitted => {
                "Recibimos su solicitud. La Dirección de Ingresos la revisará; no tiene que hacer nada por ahora."
            }
            RequestStatus::InReview => {
                "Una persona de la Dirección de Ingresos está revisando su solicitud y sus documentos."
            }
            RequestStatus::NeedsCorrection => {
                "Falta algo o hay que corregir un documento. Lea los comentarios, corrija y vuelva a enviar. \
                 Mientras tanto, el plazo de respuesta se detiene."
            }
            RequestStatus::Approved => "Su solicitud fue aprobada. Pague el derecho para que se expida su permiso.",
            RequestStatus::Paid => "Recibimos su pago. Su permiso se está expidiendo.",
            RequestStatus::Issued => "Su permiso está expedido. Descárguelo e imprímalo o muéstrelo desde su teléfono.",
            RequestStatus::Rejected => "Su solicitud no fue aprobada. Abajo está el motivo.",
            RequestStatus::Cancelled => "La solicitud se canceló y ya no se atenderá.",
            RequestStatus::Expired => {
                "La solicitud venció porque no se corrigió o no se pagó a tiempo. Puede presentar una nueva."
            }
        }
    }

    pub fn explanation_en(self) -> &'static str {
        match self {
            RequestStatus::Submitted => {
                "We received your request. The revenue office will review it; nothing to do for now."
            }
            RequestStatus::InReview => "Someone at the revenue office is reviewing your request and its documents.",
            RequestStatus::NeedsCorrection => {
                "Something is missing or a document must be corrected. Read the comments, correct and send it \
                 again. Meanwhile the response time is paused."
            }
            RequestStatus::Approved => "Your request was approved. Pay the fee to have your permit issued.",
            RequestStatus::Paid => "We received your payment. Your permit is being issued.",
            RequestStatus::Issued => "Your permit is issued. Download it and print it or show it on your phone.",
            RequestStatus::Rejected => "Your request was not approved. The reason is below.",
            RequestStatus::Cancelled => "The request was cancelled and will not be processed.",
            RequestStatus::Expired => {
                "The request expired because it was not corrected or paid in time. You may file a new one."
            }
        }
    }

    /// Whether the office's response clock runs in this state.
    pub fn clock(self) -> Clock {
        match self {
            RequestStatus::Submitted | RequestStatus::InReview => Clock::Running,
            RequestStatus::NeedsCorrection => Clock::Paused,
            _ => Clock::Stopped,
        }
    }

    /// Whether the citizen must act.
    pub fn awaits_applicant(self) -> bool {
        matches!(self, RequestStatus::NeedsCorrection | RequestStatus::Approved)
    }

    /// Whether a revisor can still decide it (the review queue).
    pub fn in_queue(self) -> bool {
        matches!(self, RequestStatus::Submitted | RequestStatus::InReview)
    }

    /// Whether it ended without a permit (rejected, cancelled, expired):
    /// it leaves room for a new request of the same thing (a licence's
    /// renewal of the year; the partial unique index of migration 0019
    /// says the same in SQL).
    pub fn ended_without_permit(self) -> bool {
        matches!(self, RequestStatus::Rejected | RequestStatus::Cancelled | RequestStatus::Expired)
    }
}

string_enum! {
    /// What moves a request.
    pub enum RequestAction {
        /// A revisor takes it from the queue.
        Take = "take",
        /// A revisor asks for corrections (with comments per document).
        AskCorrection = "ask_correction",
        /// The applicant sends it again, corrected.
        Resubmit = "resubmit",
        /// A revisor approves it: the fee becomes payable.
        Approve = "approve",
        /// A revisor rejects it, with a reason.
        Reject = "reject",
        /// The applicant withdraws it.
        Cancel = "cancel",
        /// Its payment was applied.
        Pay = "pay",
        /// Its permit was issued.
        Issue = "issue",
        /// A correction or the payment was not made in time.
        Expire = "expire",
    }
}

string_enum! {
    /// Who may take an action.
    pub enum RequestActor {
        Applicant = "applicant",
        Revisor = "revisor",
        System = "system",
    }
}

impl RequestAction {
    /// The one kind of actor allowed to take it.
    pub fn actor(self) -> RequestActor {
        match self {
            RequestAction::Take | RequestAction::AskCorrection | RequestAction::Approve | RequestAction::Reject => {
                RequestActor::Revisor
            }
            RequestAction::Resubmit | RequestAction::Cancel => RequestActor::Applicant,
            RequestAction::Pay | RequestAction::Issue | RequestAction::Expire => RequestActor::System,
        }
    }

    /// Whether it needs a written comment (a reason, the corrections).
    pub fn needs_comment(self) -> bool {
        matches!(self, RequestAction::AskCorrection | RequestAction::Reject)
    }

    pub fn label_es(self) -> &'static str {
        match self {
            RequestAction::Take => "Tomada para revisión",
            RequestAction::AskCorrection => "Se pidió corrección",
            RequestAction::Resubmit => "Reenviada con correcciones",
            RequestAction::Approve => "Aprobada",
            RequestAction::Reject => "Rechazada",
            RequestAction::Cancel => "Cancelada por el solicitante",
            RequestAction::Pay => "Pago recibido",
            RequestAction::Issue => "Permiso expedido",
            RequestAction::Expire => "Vencida",
        }
    }

    pub fn label_en(self) -> &'static str {
        match self {
            RequestAction::Take => "Taken for review",
            RequestAction::AskCorrection => "Correction requested",
            RequestAction::Resubmit => "Sent again, corrected",
            RequestAction::Approve => "Approved",
            RequestAction::Reject => "Rejected",
            RequestAction::Cancel => "Cancelled by the applicant",
            RequestAction::Pay => "Payment received",
            RequestAction::Issue => "Permit issued",
            RequestAction::Expire => "Expired",
        }
    }
}

/// Why a request cannot move.
#[derive(Debug, thiserror::Error, PartialEq, Eq, Clone, Copy)]
pub enum RequestTransitionError {
    #[error("{action} is not possible from {from}")]
    NotFrom { from: RequestStatus, action: RequestAction },
    #[error("{action} is for the {allowed}, not the {actor}")]
    WrongActor { action: RequestAction, allowed: RequestActor, actor: RequestActor },
    #[error("{0} needs a written comment")]
    CommentRequired(RequestAction),
}

impl RequestTransitionError {
    pub fn message_es(&self) -> String {
        match self {
            RequestTransitionError::NotFrom { from, .. } => {
                format!("La solicitud está «{}»; esa acción ya no es posible. Actualice la página.", from.label_es())
            }
            RequestTransitionError::WrongActor { allowed, .. } => match allowed {
                RequestActor::Revisor => "Solo el personal revisor puede hacer esto.".into(),
                RequestActor::Applicant => "Solo el solicitante puede hacer esto.".into(),
                RequestActor::System => "Esto lo hace el sistema al recibir el pago.".into(),
            },
            RequestTransitionError::CommentRequired(RequestAction::Reject) => "Escriba el motivo del rechazo.".into(),
            RequestTransitionError::CommentRequired(_) => "Escriba qué hay que corregir.".into(),
        }
    }

    pub fn message_en(&self) -> String {
        match self {
            RequestTransitionError::NotFrom { from, .. } => {
                format!("The request is “{}”; that action is no longer possible. Reload the page.", from.label_en())
            }
            RequestTransitionError::WrongActor { allowed, .. } => match allowed {
                RequestActor::Revisor => "Only the reviewing staff can do this.".into(),
                RequestActor::Applicant => "Only the applicant can do this.".into(),
                RequestActor::System => "The system does this when the payment is received.".into(),
            },
            RequestTransitionError::CommentRequired(RequestAction::Reject) => {
                "Write the reason for rejecting it.".into()
            }
            RequestTransitionError::CommentRequired(_) => "Write what must be corrected.".into(),
        }
    }
}

/// The state a request moves to when `actor` takes `action` from `from`
/// (`comment` is the reason or the corrections asked for).
pub fn next_status(
    from: RequestStatus,
    action: RequestAction,
    actor: RequestActor,
    comment: &str,
) -> Result<RequestStatus, RequestTransitionError> {
    use RequestAction as A;
    use RequestStatus as S;
    if action.actor() != actor {
        return Err(RequestTransitionError::WrongActor { action, allowed: action.actor(), actor });
    }
    if action.needs_comment() && comment.trim().is_empty() {
        return Err(RequestTransitionError::CommentRequired(action));
    }
    let to = match (from, action) {
        (S::Submitted, A::Take) => S::InReview,
        (S::Submitted | S::InReview, A::AskCorrection) => S::NeedsCorrection,
        (S::NeedsCorrection, A::Resubmit) => S::Submitted,
        (S::Submitted | S::InReview, A::Approve) => S::Approved,
        (S::Submitted | S::InReview | S::NeedsCorrection, A::Reject) => S::Rejected,
        (S::Submitted | S::InReview | S::NeedsCorrection | S::Approved, A::Cancel) => S::Cancelled,
        (S::Approved, A::Pay) => S::Paid,
        (S::Paid, A::Issue) => S::Issued,
        (S::NeedsCorrection | S::Approved, A::Expire) => S::Expired,
        _ => return Err(RequestTransitionError::NotFrom { from, action }),
    };
    Ok(to)
}

/// The state a request moves to when the system approves it as it is
/// filed: a renewal of an alcohol licence that changes nothing (the
/// treasury granted the licence already; only the year's fee is due) goes
/// straight to payment. Only a request just submitted can be.
pub fn system_approval(from: RequestStatus) -> Result<RequestStatus, RequestTransitionError> {
    match from {
        RequestStatus::Submitted => Ok(RequestStatus::Approved),
        _ => Err(RequestTransitionError::NotFrom { from, action: RequestAction::Approve }),
    }
}

/// One fee of a request: a tariff, the quantity given, the factor staff set
/// for a range tariff, and the fee once quoted.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequestLine {
    pub tariff: String,
    #[serde(with = "crate::domain::money::decimal_exact")]
    pub quantity: Decimal,
    /// The factor in UMA a revisor set (range tariffs only).
    #[serde(default, skip_serializing_if = "Option::is_none", with = "opt_decimal")]
    pub staff_factor: Option<Decimal>,
    /// The fee, once quoted (at filing for fixed tariffs; at approval for
    /// range tariffs).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fee: Option<Centavos>,
}

mod opt_decimal {
    use rust_decimal::Decimal;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(d: &Option<Decimal>, s: S) -> Result<S::Ok, S::Error> {
        match d {
            Some(d) => s.serialize_str(&d.to_string()),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Decimal>, D::Error> {
        let s: Option<String> = Option::deserialize(d)?;
        s.map(|s| s.parse::<Decimal>().map_err(serde::de::Error::custom)).transpose()
    }
}

/// What a permit allows, which its signature covers: the holder, where,
/// when, how much and on which conditions. The verify page shows it, so a
/// printed permit with an altered date or a stretched area does not match.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PermitScope {
    /// The procedure (`anuncios`) and the main tariff (`ANU-I-A`).
    pub procedure: String,
    pub tariff: String,
    pub holder: String,
    /// The address or place.
    pub location: String,
    pub starts_on: NaiveDate,
    pub ends_on: NaiveDate,
    /// Hours, as the applicant gave them ("20:00 a 02:00").
    #[serde(default)]
    pub hours: String,
    /// The measure and its unit as charged ("13 m²", "6 m lineales",
    /// "3 días").
    pub measure: String,
    /// What it is (the advert's text, the event's kind).
    #[serde(default)]
    pub description: String,
    /// The conditions the revisor set.
    #[serde(default)]
    pub conditions: String,
    /// The expected attendance of an event (procedures whose file entry
    /// says `asks_attendance`); none for everything else. Signed only when
    /// present, so permits issued before the field existed still verify.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attendance: Option<u32>,
    /// The alcohol licence a new licence's permit registered
    /// (`ALC-2026-0001`), set as the permit is issued. Absent from every
    /// other scope, and then from the signed text too, so the permits
    /// issued before it existed still verify.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub licence: Option<String>,
}

/// The version tag of a permit's signed text.
pub const PERMIT_VERSION_TAG: &str = "recauda-permiso-v1";

impl PermitScope {
    /// The exact text a permit's signature covers: the version tag, the
    /// folio and every field of the scope, one per line, as `name=value`
    /// with line breaks in values replaced by spaces; the licence, last, only
    /// when there is one. The permit row keeps these bytes; verification
    /// recomputes them from the stored scope, so a changed field (a date,
    /// an area, the licence's number) no longer verifies.
    pub fn signed_text(&self, folio: &str) -> String {
        let clean = |s: &str| s.replace(['\r', '\n'], " ").trim().to_string();
        let fields = [
            ("folio", folio.to_string()),
            ("procedure", clean(&self.procedure)),
            ("tariff", clean(&self.tariff)),
            ("holder", clean(&self.holder)),
            ("location", clean(&self.location)),
            ("starts_on", self.starts_on.format("%Y-%m-%d").to_string()),
            ("ends_on", self.ends_on.format("%Y-%m-%d").to_string()),
            ("hours", clean(&self.hours)),
            ("measure", clean(&self.measure)),
            ("description", clean(&self.description)),
            ("conditions", clean(&self.conditions)),
        ];
        // Fields added after the first permits were issued: signed only
        // when present, so those permits' text is unchanged.
        let optional =
            [("attendance", self.attendance.map(|n| n.to_string())), ("licence", self.licence.as_deref().map(clean))];
        let present = optional.into_iter().filter_map(|(name, value)| Some((name, value?)));
        let mut text = String::from(PERMIT_VERSION_TAG);
        for (name, value) in fields.into_iter().chain(present) {
            text.push('\n');
            text.push_str(name);
            text.push('=');
            text.push_str(&value);
        }
        text
    }
}

/// The days a permit spans, both ends included.
pub fn days_spanned(starts_on: NaiveDate, ends_on: NaiveDate) -> Option<u32> {
    let days = (ends_on - starts_on).num_days();
    (days >= 0).then(|| u32::try_from(days + 1).ok()).flatten()
}

#[cfg(test)]
mod tests {
    use super::*;
    use RequestAction as A;
    use RequestActor as W;
    use RequestStatus as S;

    #[test]
    fn the_happy_path_with_one_correction() {
        let mut s = S::Submitted;
        for (action, actor, comment, expected) in [
            (A::Take, W::Revisor, "", S::InReview),
            (A::AskCorrection, W::Revisor, "El croquis no se lee.", S::NeedsCorrection),
            (A::Resubmit, W::Applicant, "", S::Submitted),
            (A::Approve, W::Revisor, "", S::Approved),
            (A::Pay, W::System, "", S::Paid),
            (A::Issue, W::System, "", S::Issued),
        ] {
            s = next_status(s, action, actor, comment).unwrap();
            assert_eq!(s, expected);
        }
    }

    #[test]
    fn only_the_right_actor_moves_a_request() {
        assert_eq!(
            next_status(S::Submitted, A::Approve, W::Applicant, ""),
            Err(RequestTransitionError::WrongActor { action: A::Approve, allowed: W::Revisor, actor: W::Applicant })
        );
        assert!(next_status(S::NeedsCorrection, A::Resubmit, W::Revisor, "").is_err());
        assert!(next_status(S::Approved, A::Pay, W::Revisor, "").is_err());
        assert!(next_status(S::Approved, A::Cancel, W::Revisor, "x").is_err());
    }

    #[test]
    fn reasons_are_required_and_decided_requests_stay_decided() {
        assert_eq!(
            next_status(S::InReview, A::Reject, W::Revisor, "  "),
            Err(RequestTransitionError::CommentRequired(A::Reject))
        );
        assert_eq!(next_status(S::InReview, A::Reject, W::Revisor, "No procede."), Ok(S::Rejected));
        for from in [S::Rejected, S::Cancelled, S::Expired, S::Issued, S::Paid] {
            for action in RequestAction::ALL {
                if from == S::Paid && action == A::Issue {
                    continue;
                }
                assert!(next_status(from, action, action.actor(), "motivo").is_err(), "{from} {action}");
            }
        }
        // Paid requests cannot be cancelled by the applicant any more.
        assert!(next_status(S::Paid, A::Cancel, W::Applicant, "").is_err());
    }

    #[test]
    fn the_system_approves_only_what_was_just_filed() {
        assert_eq!(system_approval(S::Submitted), Ok(S::Approved));
        for from in RequestStatus::ALL.into_iter().filter(|s| *s != S::Submitted) {
            assert_eq!(system_approval(from), Err(RequestTransitionError::NotFrom { from, action: A::Approve }));
        }
    }

    #[test]
    fn the_clock_follows_who_has_the_request() {
        assert_eq!(S::Submitted.clock(), Clock::Running);
        assert_eq!(S::NeedsCorrection.clock(), Clock::Paused);
        assert_eq!(S::Approved.clock(), Clock::Stopped);
        assert!(S::InReview.in_queue() && !S::NeedsCorrection.in_queue());
    }

    /// A scope stored before the licence's field existed reads back without
    /// it, is stored again as it was and signs the very same text.
    #[test]
    fn a_scope_without_a_licence_signs_as_before() {
        let stored = r#"{"procedure":"anuncios","tariff":"ANU-II-A","holder":"Ana","location":"Centro","starts_on":"2026-12-01","ends_on":"2026-12-30","hours":"","measure":"3 m²","description":"","conditions":""}"#;
        let scope: PermitScope = serde_json::from_str(stored).unwrap();
        assert_eq!(scope.licence, None);
        assert_eq!(serde_json::to_string(&scope).unwrap(), stored);
        assert_eq!(
            scope.signed_text("PER-2026-000001"),
            "recauda-permiso-v1\nfolio=PER-2026-000001\nprocedure=anuncios\ntariff=ANU-II-A\nholder=Ana\n\
             location=Centro\nstarts_on=2026-12-01\nends_on=2026-12-30\nhours=\nmeasure=3 m²\ndescription=\n\
             conditions="
        );
    }

    #[test]
    fn the_signed_text_changes_with_any_field() {
        let d = |m, day| NaiveDate::from_ymd_opt(2026, m, day).unwrap();
        let scope = PermitScope {
            procedure: "anuncios".into(),
            tariff: "ANU-II-A".into(),
            holder: "Panadería La Espiga".into(),
            location: "Calle Salvatierra 12,\nCentro".into(),
            starts_on: d(12, 1),
            ends_on: d(12, 30),
            hours: String::new(),
            measure: "3 m²".into(),
            description: "Manta \"Pan de muerto\"".into(),
            conditions: String::new(),
            attendance: None,
            licence: None,
        };
        let text = scope.signed_text("P-2026-000001");
        assert!(text.starts_with("recauda-permiso-v1\nfolio=P-2026-000001\n"));
        assert!(text.contains("location=Calle Salvatierra 12, Centro\n"), "{text}");
        let mut later = scope.clone();
        later.ends_on = d(12, 31);
        assert_ne!(later.signed_text("P-2026-000001"), text);
        let mut bigger = scope.clone();
        bigger.measure = "4 m²".into();
        assert_ne!(bigger.signed_text("P-2026-000001"), text);
        assert_ne!(scope.signed_text("P-2026-000002"), text);
        // The attendance is signed when there is one, and absent otherwise
        // (the text of permits issued before it existed is unchanged).
        assert!(!text.contains("attendance"), "{text}");
        let mut crowd = scope.clone();
        crowd.attendance = Some(300);
        let crowd_text = crowd.signed_text("P-2026-000001");
        assert!(crowd_text.ends_with("\nattendance=300"), "{crowd_text}");
        let mut bigger_crowd = crowd.clone();
        bigger_crowd.attendance = Some(3000);
        assert_ne!(bigger_crowd.signed_text("P-2026-000001"), crowd_text);
        let mut licensed = scope.clone();
        licensed.licence = Some("ALC-2026-0001".into());
        assert_eq!(licensed.signed_text("P-2026-000001"), format!("{text}\nlicence=ALC-2026-0001"));
        assert_eq!(days_spanned(d(12, 1), d(12, 30)), Some(30));
        assert_eq!(days_spanned(d(12, 2), d(12, 1)), None);
    }
}
