//! The trámites catalogue: each procedure of the revenue office as the
//! municipality file describes it (what it is, who needs it, the documents,
//! the response time, whether it can be requested online), with its tariff
//! groups. The public catalogue pages and the request forms' checklists are
//! generated from it.

use std::collections::HashSet;

use serde::{Deserialize, Serialize};

string_enum! {
    /// When a document is asked for.
    #[derive(Default)]
    pub enum DocumentWhen {
        /// On every request.
        #[default]
        Always = "always",
        /// Only for a new permit or licence.
        New = "new",
        /// Only for a renewal (refrendo).
        Renewal = "renewal",
    }
}

impl DocumentWhen {
    pub fn label_es(self) -> &'static str {
        match self {
            DocumentWhen::Always => "Siempre",
            DocumentWhen::New => "Solo trámite nuevo",
            DocumentWhen::Renewal => "Solo refrendo",
        }
    }

    pub fn label_en(self) -> &'static str {
        match self {
            DocumentWhen::Always => "Always",
            DocumentWhen::New => "New permits only",
            DocumentWhen::Renewal => "Renewals only",
        }
    }
}

/// A document of a procedure's checklist.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RequiredDocument {
    /// Stable code (`medidas`), lowercase letters, digits and hyphens.
    pub code: String,
    pub name: String,
    #[serde(default)]
    pub when: DocumentWhen,
    /// `false` for a document asked for only in some cases (a company's
    /// articles of incorporation).
    #[serde(default = "yes")]
    pub required: bool,
}

fn yes() -> bool {
    true
}

/// A procedure (trámite) of the catalogue.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Procedure {
    /// URL segment (`anuncios`): lowercase letters, digits and hyphens.
    pub slug: String,
    /// Its name as the office words it.
    pub name: String,
    /// What it is.
    pub description: String,
    /// Who needs it.
    pub who: String,
    #[serde(default)]
    pub documents: Vec<RequiredDocument>,
    /// Office hours for this procedure; the municipality's by default.
    #[serde(default)]
    pub office_hours: Option<String>,
    /// The response time as the office states it.
    pub response_time: String,
    /// The legal response time in working days, which the review queue
    /// counts down; none when the law does not fix one.
    #[serde(default)]
    pub response_days: Option<u32>,
    /// Whether the printed form of another office is needed ("Formato
    /// Coordinación de Espectáculos Públicos").
    #[serde(default)]
    pub form: Option<String>,
    /// Whether it can be requested on this portal.
    #[serde(default)]
    pub online: bool,
    /// Whether its request form asks for the expected attendance (events:
    /// the Coordinación de Espectáculos plans safety by it).
    #[serde(default)]
    pub asks_attendance: bool,
    /// Extra words a citizen may search it by ("publicidad", "bar").
    #[serde(default)]
    pub keywords: Vec<String>,
    /// When no tariff applies (the cost is set elsewhere), what to say.
    #[serde(default)]
    pub cost_note: Option<String>,
}

impl Procedure {
    /// The documents asked for a new permit (`renewal == false`) or a
    /// renewal.
    pub fn documents_for(&self, renewal: bool) -> impl Iterator<Item = &RequiredDocument> {
        self.documents.iter().filter(move |d| match d.when {
            DocumentWhen::Always => true,
            DocumentWhen::New => !renewal,
            DocumentWhen::Renewal => renewal,
        })
    }
}

fn is_slug(s: &str) -> bool {
    (1..=60).contains(&s.len())
        && s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !s.starts_with('-')
}

/// Why the procedures of a municipality file were refused (operator-facing).
#[derive(Debug, thiserror::Error, PartialEq, Eq, Clone)]
pub enum ProcedureError {
    #[error("procedure {0:?}: the slug must be lowercase letters, digits and hyphens, and unique")]
    Slug(String),
    #[error("procedure {0}: name, description, who and response_time must not be empty")]
    Text(String),
    #[error("procedure {procedure}: document code {code:?} must be lowercase letters, digits and hyphens, once")]
    Document { procedure: String, code: String },
    #[error("tariff group {group} names procedure {procedure}, which is not declared")]
    UnknownProcedure { group: String, procedure: String },
}

/// Checks the procedures, and that every tariff group names one of them.
pub fn validate<'a>(
    procedures: &[Procedure],
    group_procedures: impl Iterator<Item = (&'a str, &'a str)>,
) -> Result<(), ProcedureError> {
    let mut slugs = HashSet::new();
    for p in procedures {
        if !is_slug(&p.slug) || !slugs.insert(p.slug.as_str()) {
            return Err(ProcedureError::Slug(p.slug.clone()));
        }
        if [&p.name, &p.description, &p.who, &p.response_time].iter().any(|s| s.trim().is_empty()) {
            return Err(ProcedureError::Text(p.slug.clone()));
        }
        let mut codes = HashSet::new();
        for d in &p.documents {
            if !is_slug(&d.code) || !codes.insert(d.code.as_str()) || d.name.trim().is_empty() {
                return Err(ProcedureError::Document { procedure: p.slug.clone(), code: d.code.clone() });
            }
        }
    }
    for (group, procedure) in group_procedures {
        if !slugs.contains(procedure) {
            return Err(ProcedureError::UnknownProcedure { group: group.into(), procedure: procedure.into() });
        }
    }
    Ok(())
}

/// Folds text for search: lowercase, without accents (a citizen types
/// "via publica" or "espectaculos" on a phone keyboard).
pub fn fold(s: &str) -> String {
    s.chars()
        .flat_map(char::to_lowercase)
        .map(|c| match c {
            'á' | 'à' | 'ä' | 'â' => 'a',
            'é' | 'è' | 'ë' | 'ê' => 'e',
            'í' | 'ì' | 'ï' | 'î' => 'i',
            'ó' | 'ò' | 'ö' | 'ô' => 'o',
            'ú' | 'ù' | 'ü' | 'û' => 'u',
            'ñ' => 'n',
            c if c.is_alphanumeric() => c,
            _ => ' ',
        })
        .collect()
}

/// Whether every word of `query` is found in `haystack` (both folded).
pub fn matches(query: &str, haystack: &str) -> bool {
    let hay = fold(haystack);
    fold(query).split_whitespace().all(|w| hay.contains(w))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn procedure(slug: &str) -> Procedure {
        Procedure {
            slug: slug.into(),
            name: "Anuncios".into(),
            description: "d".into(),
            who: "w".into(),
            documents: vec![
                RequiredDocument {
                    code: "medidas".into(),
                    name: "Medidas".into(),
                    when: DocumentWhen::Always,
                    required: true,
                },
                RequiredDocument { code: "alta".into(), name: "Alta".into(), when: DocumentWhen::New, required: true },
                RequiredDocument {
                    code: "previa".into(),
                    name: "Licencia previa".into(),
                    when: DocumentWhen::Renewal,
                    required: true,
                },
            ],
            office_hours: None,
            response_time: "5 días".into(),
            response_days: Some(5),
            form: None,
            online: true,
            asks_attendance: false,
            keywords: vec![],
            cost_note: None,
        }
    }

    #[test]
    fn documents_by_new_or_renewal() {
        let p = procedure("anuncios");
        let codes = |renewal| p.documents_for(renewal).map(|d| d.code.as_str()).collect::<Vec<_>>();
        assert_eq!(codes(false), ["medidas", "alta"]);
        assert_eq!(codes(true), ["medidas", "previa"]);
    }

    #[test]
    fn search_ignores_case_and_accents() {
        assert!(matches("via publica", "Ocupación de la Vía Pública"));
        assert!(matches("ESPECTÁCULOS  públicos", "diversiones y espectaculos publicos"));
        assert!(!matches("anuncio taxi", "Anuncios luminosos"));
        assert!(matches("", "anything"));
        assert_eq!(fold("Año<script>"), "ano script ");
    }

    #[test]
    fn validation() {
        let ok = [procedure("anuncios")];
        assert_eq!(validate(&ok, [("g", "anuncios")].into_iter()), Ok(()));
        assert!(validate(&ok, [("g", "otro")].into_iter()).is_err());
        assert!(validate(&[procedure("Anuncios")], std::iter::empty()).is_err());
        assert!(validate(&[procedure("a"), procedure("a")], std::iter::empty()).is_err());
        let mut twice = procedure("a");
        twice.documents.push(twice.documents[0].clone());
        assert!(validate(&[twice], std::iter::empty()).is_err());
    }
}
