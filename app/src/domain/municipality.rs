//! The municipality file (`config/municipalities/<slug>.toml`): everything
//! that differs between treasuries — identity, office hours, the UMA table,
//! the recargos rule, CFF art. 20 rounding, the catalogue of concepts, the
//! discount programs authorised by the Cabildo and the staff's rules (which
//! roles must log in with a second factor).
//!
//! Decimals (UMA values, rates, percentages) are written as strings in the
//! file (`monthly_rate = "0.0147"`) so that they are read exactly; floating
//! point numbers are refused. Dates may be native TOML dates
//! (`valid_from = 2026-01-01`) or strings.

use std::collections::HashSet;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::domain::discounts::{validate_programs, Component, DiscountError, DiscountProgram, ALL_CONCEPTS};
use crate::domain::procedures::{Procedure, ProcedureError};
use crate::domain::reference::MAX_PREFIX;
use crate::domain::staff::{Role, Roles};
use crate::domain::tariffs::{TariffError, TariffGroup, TariffSchedule};
use crate::domain::uma::{UmaEntry, UmaError, UmaTable};

/// Highest monthly recargos rate accepted (10 % a month).
const MAX_MONTHLY_RATE: Decimal = Decimal::from_parts(1, 0, 0, false, 1);
/// Highest cap accepted, in months (ten years).
const MAX_CAP_MONTHS: u32 = 120;

/// A municipality's configuration.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Municipality {
    /// URL-safe identifier, e.g. `loreto`.
    pub slug: String,
    pub name: String,
    pub state: String,
    /// IANA time zone of the treasury (e.g. `America/Mazatlan`): "today" for
    /// recargos is the date there.
    pub timezone: String,
    /// Path of the logo under `public/`, e.g. `/img/loreto.svg`.
    pub logo: String,
    pub colors: Colors,
    pub office_hours: String,
    pub address: String,
    pub phone: String,
    /// First two digits of every payment reference (00–99), so a bank or a
    /// cashier can tell this treasury's references apart. Default 1.
    #[serde(default = "default_reference_prefix")]
    pub reference_prefix: u8,
    pub uma: Vec<UmaEntry>,
    pub recargos: RecargosRule,
    pub rounding: RoundingRule,
    pub concepts: Vec<Concept>,
    #[serde(default)]
    pub discounts: Vec<DiscountProgram>,
    /// The treasury's tills (cajas): each code is also the folio series of
    /// the receipts it issues.
    #[serde(default)]
    pub tills: Vec<crate::domain::caja::Till>,
    /// Where collections go in the accounts (CONAC's Clasificador por
    /// Rubros de Ingresos), besides each concept's own code.
    #[serde(default)]
    pub accounting: Accounting,
    /// The staff's rules (`[staff]`); none when the section is absent.
    #[serde(default)]
    pub staff: StaffRules,
    /// The trámites catalogue.
    #[serde(default)]
    pub procedures: Vec<Procedure>,
    /// The giros of alcohol licences (their tariffs name them).
    #[serde(default)]
    pub giros: Vec<Giro>,
    /// How the law groups the tariffs, each under a concept and procedure.
    #[serde(default)]
    pub tariff_groups: Vec<TariffGroup>,
    /// The tariffs, in dated schedules (a new law adds one).
    #[serde(default)]
    pub tariff_schedules: Vec<TariffSchedule>,
    /// Days the office is closed besides weekends (the review clock skips
    /// them).
    #[serde(default)]
    pub holidays: Vec<Holiday>,
    /// The alcohol licences' rules (`[licences]`).
    #[serde(default)]
    pub licences: LicenceRules,
}

/// The `[licences]` section: `paid_up_concepts = ["predial",
/// "refrendo_alcoholes"]` keeps a licence from being renewed (or its
/// renewal paid) while its holder's RFC owes an open charge of these
/// concepts already due, on any account.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LicenceRules {
    #[serde(default)]
    pub paid_up_concepts: Vec<String>,
}

/// A day the office is closed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Holiday {
    #[serde(with = "crate::domain::config_date")]
    pub date: chrono::NaiveDate,
    pub name: String,
}

/// A giro (line of business) of an alcohol licence.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Giro {
    /// Stable code (`BAR-DISCO`), as the tariffs name it.
    pub code: String,
    pub name: String,
}

/// The CRI codes of what is not a concept of its own: recargos and the
/// CFF art. 20 rounding adjustment.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Accounting {
    /// CRI of recargos (e.g. `1.7.1`).
    #[serde(default)]
    pub recargos_cri: Option<String>,
    /// CRI of the rounding adjustment (e.g. `6.9.1`, otros aprovechamientos).
    #[serde(default)]
    pub rounding_cri: Option<String>,
}

/// Whether `code` is written as a CRI code: numbers joined by dots
/// (`1.2.1`, `4.3.1.2`), at most six levels.
pub fn is_cri_code(code: &str) -> bool {
    let parts: Vec<&str> = code.split('.').collect();
    (1..=6).contains(&parts.len())
        && parts.iter().all(|p| !p.is_empty() && p.len() <= 4 && p.bytes().all(|b| b.is_ascii_digit()))
}

/// The `[staff]` section: `require_totp_for = ["tesorero", "admin"]` makes
/// a person holding any of these roles enrol a TOTP second factor before
/// doing anything else, and keeps them from turning it off.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StaffRules {
    #[serde(default)]
    pub require_totp_for: Vec<Role>,
}

impl StaffRules {
    /// Whether a person with `roles` must use TOTP.
    pub fn requires_totp(&self, roles: &Roles) -> bool {
        roles.any_of(&self.require_totp_for)
    }
}

fn default_reference_prefix() -> u8 {
    1
}

/// Brand colours as `#rrggbb`; both must reach WCAG AA contrast on white.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Colors {
    pub primary: String,
    pub accent: String,
}

/// Recargos: monthly rate and the cap in months (CFF art. 21: five years).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecargosRule {
    /// E.g. `0.0147` for 1.47 % a month.
    #[serde(with = "crate::domain::money::decimal_exact")]
    pub monthly_rate: Decimal,
    pub cap_months: u32,
}

/// Rounding of the total payable.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RoundingRule {
    /// Round the total to the peso per CFF art. 20.
    pub cff_art20: bool,
}

/// An entry of the concept catalogue (what a charge is for).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Concept {
    pub code: String,
    pub name_es: String,
    pub name_en: String,
    /// `principal` (default) or `multas`.
    #[serde(default)]
    pub component: Component,
    /// Its CRI code (CONAC), for the accounting export (e.g. `1.2.1`).
    #[serde(default)]
    pub cri: Option<String>,
}

impl Municipality {
    /// Parses and validates a municipality file.
    #[cfg(feature = "ssr")]
    pub fn from_toml_str(s: &str) -> Result<Municipality, MunicipalityError> {
        let m: Municipality = toml::from_str(s).map_err(|e| MunicipalityError::Parse(e.to_string()))?;
        m.validate()?;
        Ok(m)
    }

    /// Checks the rules a parsed file must satisfy.
    pub fn validate(&self) -> Result<(), MunicipalityError> {
        for (field, value) in [("name", &self.name), ("state", &self.state), ("timezone", &self.timezone)] {
            if value.trim().is_empty() {
                return Err(MunicipalityError::Empty(field));
            }
        }
        let slug_ok = !self.slug.is_empty()
            && self.slug.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        if !slug_ok {
            return Err(MunicipalityError::Slug(self.slug.clone()));
        }
        for (field, value) in [("primary", &self.colors.primary), ("accent", &self.colors.accent)] {
            if !is_hex_color(value) {
                return Err(MunicipalityError::Color(field));
            }
        }
        if self.reference_prefix > MAX_PREFIX {
            return Err(MunicipalityError::ReferencePrefix(self.reference_prefix));
        }
        self.uma_table()?;
        let rate = self.recargos.monthly_rate;
        if rate < Decimal::ZERO || rate > MAX_MONTHLY_RATE {
            return Err(MunicipalityError::Rate);
        }
        if !(1..=MAX_CAP_MONTHS).contains(&self.recargos.cap_months) {
            return Err(MunicipalityError::Cap);
        }
        let mut codes = HashSet::new();
        for c in &self.concepts {
            if c.code.trim().is_empty() || c.code == ALL_CONCEPTS {
                return Err(MunicipalityError::ConceptCode(c.code.clone()));
            }
            if c.name_es.trim().is_empty() || c.name_en.trim().is_empty() {
                return Err(MunicipalityError::ConceptName(c.code.clone()));
            }
            if c.component == Component::Recargos {
                return Err(MunicipalityError::ConceptComponent(c.code.clone()));
            }
            if !codes.insert(c.code.as_str()) {
                return Err(MunicipalityError::DuplicateConcept(c.code.clone()));
            }
        }
        for c in &self.concepts {
            if c.cri.as_deref().is_some_and(|cri| !is_cri_code(cri)) {
                return Err(MunicipalityError::Cri(c.code.clone()));
            }
        }
        for (field, cri) in
            [("recargos_cri", &self.accounting.recargos_cri), ("rounding_cri", &self.accounting.rounding_cri)]
        {
            if cri.as_deref().is_some_and(|cri| !is_cri_code(cri)) {
                return Err(MunicipalityError::Cri(format!("accounting.{field}")));
            }
        }
        let mut tills = HashSet::new();
        for t in &self.tills {
            if !crate::domain::caja::Till::code_is_valid(&t.code) {
                return Err(MunicipalityError::TillCode(t.code.clone()));
            }
            if t.name.trim().is_empty() {
                return Err(MunicipalityError::TillName(t.code.clone()));
            }
            if !tills.insert(t.code.as_str()) {
                return Err(MunicipalityError::DuplicateTill(t.code.clone()));
            }
        }
        validate_programs(&self.discounts)?;
        for p in &self.discounts {
            if let Some(unknown) = p.concepts.iter().find(|c| *c != ALL_CONCEPTS && !codes.contains(c.as_str())) {
                return Err(MunicipalityError::UnknownConcept { program: p.id.clone(), concept: unknown.clone() });
            }
        }
        crate::domain::tariffs::validate(&self.tariff_groups, &self.tariff_schedules, &codes)?;
        crate::domain::procedures::validate(
            &self.procedures,
            self.tariff_groups.iter().map(|g| (g.code.as_str(), g.procedure.as_str())),
        )?;
        if let Some(unknown) = self.licences.paid_up_concepts.iter().find(|c| !codes.contains(c.as_str())) {
            return Err(MunicipalityError::LicenceConcept(unknown.clone()));
        }
        let mut giros = HashSet::new();
        for g in &self.giros {
            let valid = crate::domain::tariffs::Tariff::code_is_valid(&g.code) && !g.name.trim().is_empty();
            if !valid || !giros.insert(g.code.as_str()) {
                return Err(MunicipalityError::Giro(g.code.clone()));
            }
        }
        for t in self.tariff_schedules.iter().flat_map(|s| &s.tariffs) {
            if let Some(giro) = t.giro.as_deref().filter(|g| !giros.contains(g)) {
                return Err(MunicipalityError::Giro(format!("{giro} (tariff {})", t.code)));
            }
        }
        Ok(())
    }

    /// The tariff group of a code.
    pub fn tariff_group(&self, code: &str) -> Option<&TariffGroup> {
        self.tariff_groups.iter().find(|g| g.code == code)
    }

    /// A procedure of the catalogue by its slug.
    pub fn procedure(&self, slug: &str) -> Option<&Procedure> {
        self.procedures.iter().find(|p| p.slug == slug)
    }

    /// Working days: weekends and the file's holidays excluded.
    pub fn calendar(&self) -> crate::domain::working_days::WorkingCalendar {
        crate::domain::working_days::WorkingCalendar::new(self.holidays.iter().map(|h| h.date))
    }

    /// A giro by its code.
    pub fn giro(&self, code: &str) -> Option<&Giro> {
        self.giros.iter().find(|g| g.code == code)
    }

    /// The dated UMA table of the file.
    pub fn uma_table(&self) -> Result<UmaTable, UmaError> {
        UmaTable::new(self.uma.clone())
    }

    /// The catalogue entry for a concept code.
    pub fn concept(&self, code: &str) -> Option<&Concept> {
        self.concepts.iter().find(|c| c.code == code)
    }

    /// The component a charge of `concept` belongs to: `Multas` if the
    /// catalogue declares it so, otherwise `Principal` (also for unknown
    /// codes).
    pub fn component_of(&self, concept: &str) -> Component {
        match self.concept(concept) {
            Some(c) if c.component == Component::Multas => Component::Multas,
            _ => Component::Principal,
        }
    }
}

fn is_hex_color(s: &str) -> bool {
    s.len() == 7 && s.starts_with('#') && s.bytes().skip(1).all(|b| b.is_ascii_hexdigit())
}

/// Why a municipality file was refused (operator-facing).
#[derive(Debug, thiserror::Error, PartialEq, Eq, Clone)]
pub enum MunicipalityError {
    #[error("the municipality file is not valid TOML for this schema: {0}")]
    Parse(String),
    #[error("{0} must not be empty")]
    Empty(&'static str),
    #[error("slug {0:?} must be lowercase letters, digits and hyphens")]
    Slug(String),
    #[error("colors.{0} must be written as #rrggbb")]
    Color(&'static str),
    #[error("reference_prefix {0} must be between 0 and 99")]
    ReferencePrefix(u8),
    #[error("UMA table: {0}")]
    Uma(#[from] UmaError),
    #[error("recargos.monthly_rate must be between 0 and 0.1")]
    Rate,
    #[error("recargos.cap_months must be between 1 and 120")]
    Cap,
    #[error("concept code {0:?} is not valid")]
    ConceptCode(String),
    #[error("concept {0}: name_es and name_en must not be empty")]
    ConceptName(String),
    #[error("concept {0}: component must be principal or multas")]
    ConceptComponent(String),
    #[error("concept code {0} is declared twice")]
    DuplicateConcept(String),
    #[error(transparent)]
    Discount(#[from] DiscountError),
    #[error("discount program {program} names concept {concept}, which is not in the catalogue")]
    UnknownConcept { program: String, concept: String },
    #[error("{0}: the CRI code must be numbers joined by dots, e.g. 1.2.1")]
    Cri(String),
    #[error("till code {0:?} must be a folio series (1 to 4 capital letters or digits, starting with a letter), not A or DEMO")]
    TillCode(String),
    #[error("till {0}: name must not be empty")]
    TillName(String),
    #[error("till code {0} is declared twice")]
    DuplicateTill(String),
    #[error(transparent)]
    Tariff(#[from] TariffError),
    #[error(transparent)]
    Procedure(#[from] ProcedureError),
    #[error("giro {0:?}: a code of capital letters, digits and hyphens, a name, declared once in [[giros]]")]
    Giro(String),
    #[error("licences.paid_up_concepts names concept {0}, which is not in the catalogue")]
    LicenceConcept(String),
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use chrono::NaiveDate;
    use rust_decimal_macros::dec;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    fn concept(code: &str, component: Component) -> Concept {
        Concept {
            code: code.into(),
            name_es: format!("{code} (es)"),
            name_en: format!("{code} (en)"),
            component,
            cri: None,
        }
    }

    fn program(
        id: &str,
        concepts: &[&str],
        component: Component,
        percent: Decimal,
        from: NaiveDate,
        until: NaiveDate,
    ) -> DiscountProgram {
        DiscountProgram {
            id: id.into(),
            name: format!("Programa {id}"),
            legal_basis: "Acuerdo de Cabildo".into(),
            valid_from: from,
            valid_until: until,
            concepts: concepts.iter().map(|c| c.to_string()).collect(),
            component,
            percent,
            stacks: false,
        }
    }

    /// A municipality shaped like the shipped Loreto file (for tests that
    /// must not depend on the `ssr` feature).
    pub(crate) fn sample() -> Municipality {
        Municipality {
            slug: "loreto".into(),
            name: "Loreto".into(),
            state: "Baja California Sur".into(),
            timezone: "America/Mazatlan".into(),
            logo: "/img/loreto.svg".into(),
            colors: Colors { primary: "#0b5563".into(), accent: "#9a3412".into() },
            office_hours: "Lunes a viernes de 8:00 a 15:00 h".into(),
            address: "Palacio Municipal, Loreto, B.C.S.".into(),
            phone: String::new(),
            reference_prefix: 1,
            uma: vec![
                UmaEntry { valid_from: d(2024, 2, 1), daily_value: dec!(108.57) },
                UmaEntry { valid_from: d(2025, 2, 1), daily_value: dec!(113.14) },
                UmaEntry { valid_from: d(2026, 2, 1), daily_value: dec!(117.31) },
            ],
            recargos: RecargosRule { monthly_rate: dec!(0.0147), cap_months: 60 },
            rounding: RoundingRule { cff_art20: true },
            tills: vec![crate::domain::caja::Till { code: "C1".into(), name: "Caja 1".into() }],
            accounting: Accounting::default(),
            concepts: vec![
                concept("predial", Component::Principal),
                concept("agua", Component::Principal),
                concept("basura", Component::Principal),
                concept("licencia_comercial", Component::Principal),
                concept("multa_basura", Component::Multas),
                concept("multa_reglamentos", Component::Multas),
            ],
            discounts: vec![
                program(
                    "predial-recargos-2026",
                    &["predial"],
                    Component::Recargos,
                    dec!(50),
                    d(2026, 1, 1),
                    d(2026, 12, 31),
                ),
                program(
                    "multas-regularizacion-2026",
                    &["multa_basura", "multa_reglamentos"],
                    Component::Multas,
                    dec!(30),
                    d(2026, 7, 1),
                    d(2026, 12, 31),
                ),
                program(
                    "agua-recargos-noviembre",
                    &["agua"],
                    Component::Recargos,
                    dec!(100),
                    d(2026, 11, 1),
                    d(2026, 11, 30),
                ),
            ],
            staff: StaffRules::default(),
            procedures: vec![],
            giros: vec![],
            tariff_groups: vec![],
            tariff_schedules: vec![],
            holidays: vec![],
            licences: LicenceRules::default(),
        }
    }

    #[test]
    fn sample_is_valid_and_helpers_work() {
        let m = sample();
        assert_eq!(m.validate(), Ok(()));
        assert_eq!(m.component_of("multa_basura"), Component::Multas);
        assert_eq!(m.component_of("predial"), Component::Principal);
        assert_eq!(m.component_of("no_such_concept"), Component::Principal);
        assert_eq!(m.concept("agua").map(|c| c.name_es.as_str()), Some("agua (es)"));
        assert!(m.concept("nope").is_none());
        assert_eq!(m.uma_table().unwrap().value_on(d(2026, 2, 1)), Some(dec!(117.31)));
    }

    #[test]
    fn validation_errors() {
        let check = |f: fn(&mut Municipality), expected: MunicipalityError| {
            let mut m = sample();
            f(&mut m);
            assert_eq!(m.validate(), Err(expected));
        };
        check(|m| m.timezone = " ".into(), MunicipalityError::Empty("timezone"));
        check(|m| m.name.clear(), MunicipalityError::Empty("name"));
        check(|m| m.slug = "Loreto BCS".into(), MunicipalityError::Slug("Loreto BCS".into()));
        check(|m| m.colors.accent = "red".into(), MunicipalityError::Color("accent"));
        check(|m| m.uma.clear(), MunicipalityError::Uma(UmaError::Empty));
        check(|m| m.recargos.monthly_rate = dec!(0.1001), MunicipalityError::Rate);
        check(|m| m.recargos.monthly_rate = dec!(-0.01), MunicipalityError::Rate);
        check(|m| m.reference_prefix = 100, MunicipalityError::ReferencePrefix(100));
        check(|m| m.recargos.cap_months = 0, MunicipalityError::Cap);
        check(|m| m.recargos.cap_months = 121, MunicipalityError::Cap);
        check(|m| m.concepts[0].code = "*".into(), MunicipalityError::ConceptCode("*".into()));
        check(|m| m.concepts[0].name_en.clear(), MunicipalityError::ConceptName("predial".into()));
        check(|m| m.concepts[0].component = Component::Recargos, MunicipalityError::ConceptComponent("predial".into()));
        check(|m| m.concepts[1].code = "predial".into(), MunicipalityError::DuplicateConcept("predial".into()));
        check(
            |m| m.discounts[0].percent = dec!(0),
            MunicipalityError::Discount(DiscountError::Percent("predial-recargos-2026".into())),
        );
        check(
            |m| m.licences.paid_up_concepts = vec!["predial".into(), "cementerio".into()],
            MunicipalityError::LicenceConcept("cementerio".into()),
        );
        check(
            |m| m.discounts[0].concepts.push("cementerio".into()),
            MunicipalityError::UnknownConcept { program: "predial-recargos-2026".into(), concept: "cementerio".into() },
        );
        let mut m = sample();
        m.recargos.monthly_rate = dec!(0.1);
        m.recargos.cap_months = 120;
        m.discounts[0].concepts = vec!["*".into()];
        assert_eq!(m.validate(), Ok(()));
    }

    #[cfg(feature = "ssr")]
    mod files {
        use super::*;

        const LORETO: &str = include_str!("../../../config/municipalities/loreto.toml");
        const OCOTLAN: &str = include_str!("../../../config/municipalities/ocotlan.toml");

        #[test]
        fn loreto_file() {
            let m = Municipality::from_toml_str(LORETO).unwrap();
            assert_eq!(m.slug, "loreto");
            assert_eq!(m.name, "Loreto");
            assert_eq!(m.state, "Baja California Sur");
            assert_eq!(m.timezone, "America/Mazatlan");
            assert_eq!(m.logo, "/img/loreto.svg");
            assert_eq!(m.office_hours, "Lunes a viernes de 8:00 a 15:00 h");
            assert_eq!(m.recargos, RecargosRule { monthly_rate: dec!(0.0147), cap_months: 60 });
            assert!(m.rounding.cff_art20);
            let uma = m.uma_table().unwrap();
            assert_eq!(uma.value_on(d(2025, 1, 31)), Some(dec!(108.57)));
            assert_eq!(uma.value_on(d(2025, 2, 1)), Some(dec!(113.14)));
            assert_eq!(uma.value_on(d(2026, 2, 1)), Some(dec!(117.31)));
            let codes: Vec<&str> = m.concepts.iter().map(|c| c.code.as_str()).collect();
            assert_eq!(
                codes,
                [
                    "predial",
                    "agua",
                    "basura",
                    "licencia_comercial",
                    "refrendo_alcoholes",
                    "anuncios",
                    "via_publica",
                    "espectaculos",
                    "alcoholes",
                    "multa_basura",
                    "multa_reglamentos"
                ]
            );
            // Every tariff of the directorate's catalogue (seed 004), once.
            assert_eq!(m.tariff_schedules.len(), 1);
            assert_eq!(m.tariff_schedules[0].tariffs.len(), 114);
            assert_eq!(m.giros.len(), 17);
            assert_eq!(m.licences.paid_up_concepts, ["predial", "refrendo_alcoholes"]);
            let reached_from_a_licence: Vec<&str> =
                m.tariff_groups.iter().filter(|g| g.requires_licence()).map(|g| g.code.as_str()).collect();
            assert_eq!(reached_from_a_licence, ["alcoholes-refrendo", "alcoholes-domicilio", "alcoholes-horas-extra"]);
            let cabildo: Vec<&str> =
                m.tariff_groups.iter().filter(|g| g.requires_cabildo).map(|g| g.code.as_str()).collect();
            assert_eq!(cabildo, ["alcoholes-expedicion"]);
            let online: Vec<&str> = m.procedures.iter().filter(|p| p.online).map(|p| p.slug.as_str()).collect();
            assert_eq!(online, ["espectaculos", "anuncios", "via-publica", "alcoholes"]);
            assert_eq!(m.component_of("multa_basura"), Component::Multas);
            assert_eq!(m.component_of("multa_reglamentos"), Component::Multas);
            assert_eq!(m.component_of("predial"), Component::Principal);
            let ids: Vec<&str> = m.discounts.iter().map(|p| p.id.as_str()).collect();
            assert_eq!(ids, ["predial-recargos-2026", "multas-regularizacion-2026", "agua-recargos-noviembre"]);
            // End-to-end tests rely on these concepts never being discounted.
            for p in &m.discounts {
                assert!(!p.covers("licencia_comercial") && !p.covers("basura"), "{}", p.id);
            }
            // Same programs as the hand-built sample used by the quote tests.
            assert_eq!(
                m.discounts
                    .iter()
                    .map(|p| (&p.id, p.percent, p.component, p.valid_from, p.valid_until, &p.concepts))
                    .collect::<Vec<_>>(),
                sample()
                    .discounts
                    .iter()
                    .map(|p| (&p.id, p.percent, p.component, p.valid_from, p.valid_until, &p.concepts))
                    .collect::<Vec<_>>()
            );
        }

        #[test]
        fn ocotlan_file() {
            let m = Municipality::from_toml_str(OCOTLAN).unwrap();
            assert_eq!(m.slug, "ocotlan");
            assert_eq!(m.state, "Jalisco");
            assert_eq!(m.timezone, "America/Mexico_City");
            assert_eq!(m.reference_prefix, 2);
            // The prefix is optional: 1 when the file leaves it out.
            let without = OCOTLAN.replace("reference_prefix = 2\n", "");
            assert_eq!(Municipality::from_toml_str(&without).unwrap().reference_prefix, 1);
            assert_eq!(m.recargos.monthly_rate, dec!(0.0147));
            let p = &m.discounts[0];
            assert_eq!(p.id, "cartera-vencida-2026");
            assert_eq!(p.percent, dec!(75));
            assert_eq!(p.component, Component::Recargos);
            assert!(p.covers("predial") && p.covers("agua"));
            assert!(p.applies_on(d(2026, 3, 31)) && !p.applies_on(d(2026, 4, 1)));
        }

        #[test]
        fn the_staff_section_names_the_roles_that_must_use_totp() {
            let m = Municipality::from_toml_str(LORETO).unwrap();
            assert!(m.staff.require_totp_for.is_empty(), "none by default");
            assert!(!m.staff.requires_totp(&Roles::new([Role::Admin])));
            let with = format!("{LORETO}\n[staff]\nrequire_totp_for = [\"tesorero\", \"admin\"]\n");
            let m = Municipality::from_toml_str(&with).unwrap();
            assert_eq!(m.staff.require_totp_for, [Role::Tesorero, Role::Admin]);
            assert!(m.staff.requires_totp(&Roles::new([Role::Cajero, Role::Tesorero])));
            assert!(!m.staff.requires_totp(&Roles::new([Role::Cajero, Role::Revisor])));
            let unknown_role = format!("{LORETO}\n[staff]\nrequire_totp_for = [\"jefe\"]\n");
            assert!(matches!(Municipality::from_toml_str(&unknown_role), Err(MunicipalityError::Parse(_))));
            let unknown_key = format!("{LORETO}\n[staff]\nrequire_2fa = true\n");
            assert!(matches!(Municipality::from_toml_str(&unknown_key), Err(MunicipalityError::Parse(_))));
        }

        #[test]
        fn parse_errors() {
            let float_rate = LORETO.replace("monthly_rate = \"0.0147\"", "monthly_rate = 0.0147");
            assert!(matches!(Municipality::from_toml_str(&float_rate), Err(MunicipalityError::Parse(_))));
            let unknown_field = format!("colour = \"x\"\n{LORETO}");
            assert!(matches!(Municipality::from_toml_str(&unknown_field), Err(MunicipalityError::Parse(_))));
            let bad_tz = LORETO.replace("timezone = \"America/Mazatlan\"", "timezone = \"\"");
            assert_eq!(Municipality::from_toml_str(&bad_tz), Err(MunicipalityError::Empty("timezone")));
        }
    }
}
