//! `recauda licencias importar ARCHIVO.csv`: the alcohol licences' registry,
//! read and validated like the padrón (`server::import`) and loaded all or
//! nothing by `Store::import_licences`.
//!
//! The file is UTF-8 (an optional BOM is accepted; LF, CRLF or CR line
//! ends) with exactly this header:
//!
//! ```text
//! number,rfc,name,giro,address,hours,status
//! ```
//!
//! * `number`: the licence's number as printed (letters, digits, `-`, `/`;
//!   read in uppercase), once in the file;
//! * `rfc`: the holder's RFC (12 or 13 characters), required;
//! * `name`: the holder's name or company name;
//! * `giro`: a code of the municipality file's `[[giros]]` (`BAR-DISCO`…);
//! * `address`: the establishment's address; `hours`: its opening hours
//!   (may be empty);
//! * `status`: `vigente` (or empty), `suspendida` or `revocada`.
//!
//! Every problem is reported with its line number in Spanish; with any
//! problem nothing is written. A number already in the registry takes the
//! file's values (importing the same file again changes nothing).

use std::collections::HashMap;
use std::io::{self, Read};
use std::path::{Path, PathBuf};

use app::domain::licences::{parse_licence_number, LicenceStatus, MAX_LICENCE_NUMBER_LEN};
use app::domain::municipality::Municipality;
use app::domain::rfc::Rfc;
use app::store::{LicenceImportSummary, LicenceRow, Store, StoreError};

use crate::import::{group_thousands, has_control_chars, CsvFile, ImportErrors};

/// The exact header line.
pub const LICENCES_HEADER: [&str; 7] = ["number", "rfc", "name", "giro", "address", "hours", "status"];

/// Largest file accepted (64 MB: a registry of hundreds of thousands of
/// licences).
pub const MAX_LICENCES_BYTES: u64 = 64 * 1024 * 1024;

const MAX_NAME_CHARS: usize = 200;
const MAX_ADDRESS_CHARS: usize = 200;
const MAX_HOURS_CHARS: usize = 60;

/// Why nothing was imported. Display is Spanish (operator-facing).
#[derive(Debug, thiserror::Error)]
pub enum LicenceImportError {
    #[error("no se pudo leer el archivo {}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("el archivo {} mide {size} bytes; el máximo es 64 MB", path.display())]
    TooLarge { path: PathBuf, size: u64 },
    #[error(
        "el archivo de licencias tiene {count} error(es); no se importó nada:\n{errors}",
        count = group_thousands(.0.len()),
        errors = .0
    )]
    Invalid(ImportErrors),
    #[error("{}", .0.message_es())]
    Store(#[source] StoreError),
}

/// Reads and validates a licences file against the municipality's giros.
/// Returns every row, or every problem (the first ones listed).
pub fn parse_licences(reader: impl Read, m: &Municipality) -> Result<Vec<LicenceRow>, ImportErrors> {
    let mut errors = ImportErrors::default();
    let mut rows: Vec<LicenceRow> = Vec::new();
    let mut first_line: HashMap<String, usize> = HashMap::new();
    let file = CsvFile { header: &LICENCES_HEADER, max_bytes: MAX_LICENCES_BYTES, max_words: "64 MB" };
    file.read(reader, &mut errors, |line, fields, errors| match validate_row(line, fields, m) {
        Ok(row) => match first_line.get(&row.number) {
            Some(first) => {
                errors.push(line, format!("licencia repetida: «{}» ya aparece en la línea {first}", row.number))
            }
            None => {
                first_line.insert(row.number.clone(), line);
                rows.push(row);
            }
        },
        Err(reasons) => {
            for r in reasons {
                errors.push(line, r);
            }
        }
    })?;
    if errors.is_empty() {
        Ok(rows)
    } else {
        errors.keep_first();
        Err(errors)
    }
}

fn text_field(value: &str, what: &str, max: usize, required: bool, errs: &mut Vec<String>) {
    if value.is_empty() {
        if required {
            errs.push(format!("falta {what}"));
        }
    } else if value.chars().count() > max {
        errs.push(format!("{what} excede {max} caracteres"));
    } else if has_control_chars(value) {
        errs.push(format!("{what} contiene saltos de línea o caracteres de control"));
    }
}

/// Validates one row (fields already trimmed); every problem of the row.
fn validate_row(line: usize, f: &[&str], m: &Municipality) -> Result<LicenceRow, Vec<String>> {
    let [number, rfc, name, giro, address, hours, status] = f else {
        unreachable!("field count checked by the caller")
    };
    let mut errs = Vec::new();
    let number = match parse_licence_number(number) {
        Some(n) => Some(n),
        None if number.is_empty() => {
            errs.push("falta el número de licencia".into());
            None
        }
        None => {
            errs.push(format!(
                "número de licencia inválido «{number}» (de 1 a {MAX_LICENCE_NUMBER_LEN} caracteres: letras, dígitos, \
                 «-» o «/»)"
            ));
            None
        }
    };
    let rfc = match Rfc::parse(rfc) {
        Ok(r) => Some(r),
        Err(_) if rfc.is_empty() => {
            errs.push("falta el RFC del titular".into());
            None
        }
        Err(e) => {
            errs.push(format!("RFC inválido «{rfc}»: {}", e.message_es()));
            None
        }
    };
    text_field(name, "el nombre del titular", MAX_NAME_CHARS, true, &mut errs);
    if m.giro(giro).is_none() {
        let known: Vec<&str> = m.giros.iter().map(|g| g.code.as_str()).collect();
        errs.push(format!("giro desconocido «{giro}» (válidos: {})", known.join(", ")));
    }
    text_field(address, "el domicilio", MAX_ADDRESS_CHARS, true, &mut errs);
    text_field(hours, "el horario", MAX_HOURS_CHARS, false, &mut errs);
    let status = match status.to_lowercase().as_str() {
        "" | "vigente" => Some(LicenceStatus::Active),
        "suspendida" => Some(LicenceStatus::Suspended),
        "revocada" => Some(LicenceStatus::Revoked),
        _ => {
            errs.push(format!("estado inválido «{status}» (válidos: vigente, suspendida, revocada; vacío es vigente)"));
            None
        }
    };
    match (number, rfc, status) {
        (Some(number), Some(rfc), Some(status)) if errs.is_empty() => Ok(LicenceRow {
            line,
            number,
            rfc,
            name: name.to_string(),
            giro: giro.to_string(),
            address: address.to_string(),
            hours: hours.to_string(),
            status,
        }),
        _ => Err(errs),
    }
}

/// `recauda licencias importar ARCHIVO.csv`: validates the whole file, then
/// loads it in one transaction under `actor`. On any problem nothing is
/// written.
pub async fn run_licence_import(
    store: &Store,
    m: &Municipality,
    path: &Path,
    actor: &str,
) -> Result<LicenceImportSummary, LicenceImportError> {
    let read_err = |source| LicenceImportError::Read { path: path.to_path_buf(), source };
    let size = std::fs::metadata(path).map_err(read_err)?.len();
    if size > MAX_LICENCES_BYTES {
        return Err(LicenceImportError::TooLarge { path: path.to_path_buf(), size });
    }
    let file = std::fs::File::open(path).map_err(read_err)?;
    let rows = parse_licences(io::BufReader::new(file), m).map_err(LicenceImportError::Invalid)?;
    store.import_licences(&rows, actor, chrono::Utc::now()).await.map_err(LicenceImportError::Store)
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEADER: &str = "number,rfc,name,giro,address,hours,status\n";

    fn loreto() -> Municipality {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../config/municipalities/loreto.toml");
        Municipality::from_toml_str(&std::fs::read_to_string(path).unwrap()).unwrap()
    }

    fn parse(body: &str) -> Result<Vec<LicenceRow>, ImportErrors> {
        parse_licences(format!("{HEADER}{body}").as_bytes(), &loreto())
    }

    #[test]
    fn a_good_file() {
        let rows = parse(
            "alc-0001,GODE561231GR8,Emilio Gómez Díaz,BAR-DISCO,\"Calle Salvatierra 12, Centro\",20:00 a 02:00,\n\
             ALC-0002,BLG100315K73,\"Bebidas La Giganta, S.A. de C.V.\",AGENCIA,Calle Madero 8,,suspendida\r\n",
        )
        .unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!((rows[0].number.as_str(), rows[0].line), ("ALC-0001", 2));
        assert_eq!(rows[0].address, "Calle Salvatierra 12, Centro");
        assert_eq!(rows[0].status, LicenceStatus::Active);
        assert_eq!((rows[1].hours.as_str(), rows[1].status), ("", LicenceStatus::Suspended));
        assert_eq!(rows[1].name, "Bebidas La Giganta, S.A. de C.V.");
    }

    #[test]
    fn every_problem_with_its_line() {
        let errors = parse(
            "ALC-1,GODE561231GR8,Emilio,BAR-DISCO,Calle 1,,\n\
             ALC 2,GODE561231GR,Emilio,BAR,Calle 1,,\n\
             ALC-1,GODE561231GR8,Emilio,CANTINA,Calle 2,,cerrada\n\
             ALC-4,,,CANTINA,,,\n\
             ALC-5,GODE561231GR8\n",
        )
        .unwrap_err();
        let text = errors.to_string();
        for expected in [
            "línea 3: número de licencia inválido «ALC 2»",
            "línea 3: RFC inválido «GODE561231GR»",
            "línea 3: giro desconocido «BAR»",
            "línea 4: estado inválido «cerrada»",
            "línea 5: falta el RFC del titular",
            "línea 5: falta el nombre del titular",
            "línea 5: falta el domicilio",
            "línea 6: se esperaban 7 campos y la línea tiene 2",
        ] {
            assert!(text.contains(expected), "{expected}\n{text}");
        }
        // The repeated number is reported once its line is valid otherwise.
        let dup =
            parse("ALC-1,GODE561231GR8,Emilio,BAR-DISCO,Calle 1,,\nalc-1,GODE561231GR8,Emilio,CANTINA,Calle 2,,\n")
                .unwrap_err()
                .to_string();
        assert_eq!(dup, "línea 3: licencia repetida: «ALC-1» ya aparece en la línea 2");
    }

    #[test]
    fn the_end_to_end_fixture_is_valid() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../end2end/fixtures/licencias.csv");
        let rows = parse_licences(std::fs::File::open(path).unwrap(), &loreto()).unwrap_or_else(|e| panic!("{e}"));
        let numbers: Vec<&str> = rows.iter().map(|r| r.number.as_str()).collect();
        assert_eq!(numbers, ["ALC-E2E-0001", "ALC-E2E-0002"]);
        assert_eq!(rows[1].name, "Comercializadora Ñandú del Pacífico S.A. de C.V.");
        // The first holder's overdue predial is in the padrón fixture.
        let padron = concat!(env!("CARGO_MANIFEST_DIR"), "/../end2end/fixtures/padron.csv");
        let charges = crate::import::parse_padron(std::fs::File::open(padron).unwrap()).unwrap();
        assert!(charges.iter().any(|c| c.rfc.as_ref() == Some(&rows[0].rfc) && c.concept == "predial"));
    }

    #[test]
    fn the_header_must_be_exact() {
        let e = parse_licences("number,rfc,name,giro,address,hours\n".as_bytes(), &loreto()).unwrap_err();
        assert!(e.to_string().starts_with("línea 1: encabezado inválido"), "{e}");
        assert!(parse_licences("".as_bytes(), &loreto()).unwrap_err().to_string().contains("vacío"));
        assert!(parse("").unwrap_err().to_string().contains("solo el encabezado"));
        let bom = format!("\u{feff}{HEADER}ALC-1,GODE561231GR8,Emilio,BAR-DISCO,Calle 1,,\n");
        assert_eq!(parse_licences(bom.as_bytes(), &loreto()).unwrap().len(), 1);
    }
}
