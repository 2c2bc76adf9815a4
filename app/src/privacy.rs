//! What a public page may show about a taxpayer.
//!
//! Owners' names are masked to their initials ("José Pérez" → "J*** P****")
//! so a lookup by account number does not reveal who owns a property.

/// Masks every word of a name, keeping its first letter.
///
/// The number of asterisks follows the word's length (in characters, so
/// "Ñúñez" counts five), which keeps the masked name recognisable to its
/// owner without revealing it to anyone else.
pub fn mask_name(name: &str) -> String {
    name.split_whitespace()
        .map(|word| {
            let mut chars = word.chars();
            match chars.next() {
                Some(first) => {
                    let rest = chars.count();
                    let mut masked = String::with_capacity(word.len());
                    masked.extend(first.to_uppercase());
                    masked.extend(std::iter::repeat_n('*', rest));
                    masked
                }
                None => String::new(),
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_each_word_keeping_its_initial() {
        assert_eq!(mask_name("José Pérez López"), "J*** P**** L****");
        assert_eq!(mask_name("  ñoño   de la  Peña "), "Ñ*** D* L* P***");
        assert_eq!(mask_name(""), "");
    }

    #[test]
    fn never_shows_more_than_the_initials() {
        let masked = mask_name("Hotel Misión de Loreto S.A. de C.V.");
        assert!(!masked.contains("otel"));
        assert!(!masked.contains("isión"));
        assert_eq!(masked.chars().filter(|c| *c != '*' && *c != ' ').count(), 7);
    }
}
