//! `recauda import padron FILE.csv`: reading and validating the padrón CSV.
//!
//! The file is UTF-8 (an optional BOM is accepted) with exactly this header:
//!
//! ```text
//! account,kind,rfc,name,colonia,concept,period,due_date,amount
//! ```
//!
//! Every row is validated and ALL problems are reported, each with its line
//! number and a Spanish reason; if there is any problem nothing is imported.
//! A valid file is imported by `Store::import_padron` in one transaction.

use std::collections::HashMap;
use std::fmt;
use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use chrono::NaiveDate;

use app::domain::account::{AccountNumber, AccountNumberError, MAX_ACCOUNT_LEN};
use app::domain::money::Centavos;
use app::domain::rfc::Rfc;
use app::store::{ImportSummary, PadronRow, Store, StoreError};

/// The exact header line.
pub const PADRON_HEADER: [&str; 9] =
    ["account", "kind", "rfc", "name", "colonia", "concept", "period", "due_date", "amount"];

/// Account kinds the padrón may carry.
pub const ACCOUNT_KINDS: [&str; 8] = [
    "predial",
    "agua",
    "basura",
    "licencia_comercial",
    "licencia_alcoholes",
    "anuncios",
    "via_publica",
    "espectaculos",
];

/// Largest file accepted (2 GB).
pub const MAX_FILE_BYTES: u64 = 2 * 1024 * 1024 * 1024;

const MAX_NAME_CHARS: usize = 200;
const MAX_COLONIA_CHARS: usize = 100;
const MAX_CONCEPT_CHARS: usize = 40;
const MAX_PERIOD_CHARS: usize = 20;

/// One problem in the file. `line` 0 means the file as a whole.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RowError {
    pub line: usize,
    /// Spanish reason.
    pub reason: String,
}

impl fmt::Display for RowError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line == 0 {
            f.write_str(&self.reason)
        } else {
            write!(f, "línea {}: {}", self.line, self.reason)
        }
    }
}

/// Every problem found in a padrón file, in line order. Display prints one per line.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ImportErrors {
    pub errors: Vec<RowError>,
}

impl ImportErrors {
    pub fn len(&self) -> usize {
        self.errors.len()
    }

    pub fn is_empty(&self) -> bool {
        self.errors.is_empty()
    }

    fn push(&mut self, line: usize, reason: impl Into<String>) {
        self.errors.push(RowError { line, reason: reason.into() });
    }

    fn single(line: usize, reason: impl Into<String>) -> ImportErrors {
        let mut e = ImportErrors::default();
        e.push(line, reason);
        e
    }
}

impl fmt::Display for ImportErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.errors.iter().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            write!(f, "{e}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ImportErrors {}

/// Why `run_import` imported nothing. Display is Spanish (operator-facing);
/// `source()` keeps the underlying cause.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("no se pudo leer el archivo {}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("el archivo {} mide {size} bytes; el máximo es 2 GB", path.display())]
    TooLarge { path: PathBuf, size: u64 },
    #[error("el padrón tiene {count} error(es); no se importó nada:\n{errors}", count = .0.len(), errors = .0)]
    Invalid(ImportErrors),
    #[error("{}", .0.message_es())]
    Store(#[source] StoreError),
}

/// Reads and validates a padrón. Returns every row, or every problem.
pub fn parse_padron(reader: impl Read) -> Result<Vec<PadronRow>, ImportErrors> {
    parse_padron_limited(reader, MAX_FILE_BYTES)
}

/// Counts the bytes read, so an over-long stream is detected without reading it all.
struct CountingReader<R> {
    inner: R,
    count: u64,
}

impl<R: Read> Read for CountingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.count += n as u64;
        Ok(n)
    }
}

/// Turns CRLF into LF. The `csv` crate reports record line numbers one short
/// after a CRLF terminator; with plain LF its line numbers are exact.
struct CrlfToLf<R> {
    inner: R,
    buf: Box<[u8]>,
    pos: usize,
    len: usize,
    cr_pending: bool,
    eof: bool,
}

impl<R: Read> CrlfToLf<R> {
    fn new(inner: R) -> Self {
        CrlfToLf { inner, buf: vec![0; 1 << 16].into_boxed_slice(), pos: 0, len: 0, cr_pending: false, eof: false }
    }
}

impl<R: Read> Read for CrlfToLf<R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        let mut n = 0;
        while n < out.len() {
            if self.pos == self.len {
                if self.eof || n > 0 {
                    break;
                }
                self.len = self.inner.read(&mut self.buf)?;
                self.pos = 0;
                if self.len == 0 {
                    self.eof = true;
                    if self.cr_pending {
                        self.cr_pending = false;
                        out[n] = b'\r';
                        n += 1;
                    }
                    break;
                }
                continue;
            }
            let b = self.buf[self.pos];
            self.pos += 1;
            if self.cr_pending {
                self.cr_pending = false;
                if b != b'\n' {
                    out[n] = b'\r';
                    n += 1;
                    if n == out.len() {
                        self.pos -= 1; // handle `b` on the next call
                        break;
                    }
                }
            }
            if b == b'\r' {
                self.cr_pending = true;
                continue;
            }
            out[n] = b;
            n += 1;
        }
        Ok(n)
    }
}

/// What the first row of an account said, to check the others agree.
struct AccountFirstSeen {
    line: usize,
    kind: String,
    rfc: Option<String>,
    name: String,
}

fn parse_padron_limited(reader: impl Read, max_bytes: u64) -> Result<Vec<PadronRow>, ImportErrors> {
    let counting = CountingReader { inner: reader.take(max_bytes.saturating_add(1)), count: 0 };
    let mut csv = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .buffer_capacity(1 << 16)
        .from_reader(CrlfToLf::new(counting));

    let mut errors = ImportErrors::default();
    let mut rows: Vec<PadronRow> = Vec::new();
    let mut accounts: HashMap<AccountNumber, AccountFirstSeen> = HashMap::new();
    let mut record = csv::ByteRecord::new();
    let mut header_seen = false;

    loop {
        let line_before = record.position().map(|p| p.line() as usize + 1).unwrap_or(1);
        match csv.read_byte_record(&mut record) {
            Ok(true) => {}
            Ok(false) => break,
            Err(e) => {
                if csv.get_ref().inner.count > max_bytes {
                    break; // reported below
                }
                let reason = match e.kind() {
                    csv::ErrorKind::Io(io) => format!("error al leer el archivo: {io}"),
                    other => format!("el archivo no es un CSV válido: {other:?}"),
                };
                errors.push(e.position().map(|p| p.line() as usize).unwrap_or(line_before), reason);
                break;
            }
        }
        let line = record.position().map(|p| p.line() as usize).unwrap_or(line_before);

        if !header_seen {
            header_seen = true;
            if let Err(reason) = check_header(&record) {
                return Err(ImportErrors::single(line, reason));
            }
            continue;
        }

        if record.len() != PADRON_HEADER.len() {
            errors.push(line, format!("se esperaban {} campos y la línea tiene {}", PADRON_HEADER.len(), record.len()));
            continue;
        }
        let mut fields: Vec<&str> = Vec::with_capacity(PADRON_HEADER.len());
        let mut bad_utf8: Vec<&str> = Vec::new();
        for (i, raw) in record.iter().enumerate() {
            match std::str::from_utf8(raw) {
                Ok(s) => fields.push(s.trim()),
                Err(_) => {
                    bad_utf8.push(PADRON_HEADER[i]);
                    fields.push("");
                }
            }
        }
        if !bad_utf8.is_empty() {
            errors.push(
                line,
                format!(
                    "el texto no es UTF-8 válido (campo {}); guarde el archivo con codificación UTF-8",
                    bad_utf8.join(", ")
                ),
            );
            continue;
        }

        let row = match validate_row(line, &fields) {
            Ok(row) => row,
            Err(reasons) => {
                for r in reasons {
                    errors.push(line, r);
                }
                continue;
            }
        };

        // The same account must say the same thing on every row.
        match accounts.get(&row.account) {
            Some(first) => {
                let mut consistent = true;
                if first.kind != row.kind {
                    consistent = false;
                    errors.push(
                        line,
                        format!(
                            "la cuenta «{}» tiene tipo «{}», pero en la línea {} tiene «{}»",
                            row.account, row.kind, first.line, first.kind
                        ),
                    );
                }
                let rfc = row.rfc.as_ref().map(|r| r.as_str());
                if first.rfc.as_deref() != rfc {
                    consistent = false;
                    errors.push(
                        line,
                        format!(
                            "la cuenta «{}» tiene RFC {}, pero en la línea {} tiene {}",
                            row.account,
                            rfc_for_message(rfc),
                            first.line,
                            rfc_for_message(first.rfc.as_deref())
                        ),
                    );
                }
                if first.name != row.name {
                    consistent = false;
                    errors.push(
                        line,
                        format!(
                            "la cuenta «{}» tiene nombre «{}», pero en la línea {} tiene «{}»",
                            row.account, row.name, first.line, first.name
                        ),
                    );
                }
                if consistent {
                    rows.push(row);
                }
            }
            None => {
                accounts.insert(
                    row.account.clone(),
                    AccountFirstSeen {
                        line,
                        kind: row.kind.clone(),
                        rfc: row.rfc.as_ref().map(|r| r.as_str().to_string()),
                        name: row.name.clone(),
                    },
                );
                rows.push(row);
            }
        }
    }

    if csv.get_ref().inner.count > max_bytes {
        return Err(ImportErrors::single(0, "el archivo excede el tamaño máximo de 2 GB; no se importó nada"));
    }
    if !header_seen {
        return Err(ImportErrors::single(
            0,
            format!("el archivo está vacío; la primera línea debe ser «{}»", PADRON_HEADER.join(",")),
        ));
    }
    if rows.is_empty() && errors.is_empty() {
        return Err(ImportErrors::single(0, "el archivo no tiene filas de datos, solo el encabezado"));
    }

    // (account, concept, period) must be unique. Sorting indices keeps memory small.
    let mut order: Vec<u32> = (0..rows.len() as u32).collect();
    let key = |i: &u32| {
        let r = &rows[*i as usize];
        (r.account.as_str(), r.concept.as_str(), r.period.as_str())
    };
    order.sort_by(|a, b| key(a).cmp(&key(b)).then(a.cmp(b)));
    let mut first_of_run = 0usize;
    for i in 1..order.len() {
        if key(&order[i]) == key(&order[first_of_run]) {
            let first = &rows[order[first_of_run] as usize];
            let dup = &rows[order[i] as usize];
            errors.push(
                dup.line,
                format!(
                    "cargo repetido: la cuenta «{}» con concepto «{}» y periodo «{}» ya aparece en la línea {}",
                    dup.account, dup.concept, dup.period, first.line
                ),
            );
        } else {
            first_of_run = i;
        }
    }

    if errors.is_empty() {
        Ok(rows)
    } else {
        errors.errors.sort_by_key(|e| e.line);
        Err(errors)
    }
}

fn rfc_for_message(rfc: Option<&str>) -> String {
    match rfc {
        Some(r) => format!("«{r}»"),
        None => "vacío".to_string(),
    }
}

fn check_header(record: &csv::ByteRecord) -> Result<(), String> {
    let expected = PADRON_HEADER.join(",");
    let fields: Option<Vec<&str>> = record
        .iter()
        .enumerate()
        .map(|(i, f)| {
            let f = if i == 0 { f.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(f) } else { f };
            std::str::from_utf8(f).ok()
        })
        .collect();
    match fields {
        Some(fields) if fields == PADRON_HEADER => Ok(()),
        Some(fields) => {
            Err(format!("encabezado inválido «{}»; se esperaba exactamente «{expected}»", fields.join(",")))
        }
        None => Err(format!(
            "el encabezado no es UTF-8 válido; guarde el archivo con codificación UTF-8 (se esperaba «{expected}»)"
        )),
    }
}

fn has_control_chars(s: &str) -> bool {
    s.chars().any(char::is_control)
}

/// Validates one row's fields (already trimmed). Returns every problem of the row.
fn validate_row(line: usize, f: &[&str]) -> Result<PadronRow, Vec<String>> {
    let [account, kind, rfc, name, colonia, concept, period, due_date, amount] = f else {
        unreachable!("field count checked by the caller")
    };
    let mut errs: Vec<String> = Vec::new();

    // Normalised here, once: `p-000123` is imported as `P-000123`.
    let account = match AccountNumber::parse(account) {
        Ok(a) => Some(a),
        Err(AccountNumberError::Empty) => {
            errs.push("falta el número de cuenta".into());
            None
        }
        Err(_) => {
            errs.push(format!(
                "número de cuenta inválido «{account}» (de 1 a {MAX_ACCOUNT_LEN} caracteres: letras, dígitos, «-» o «/»)"
            ));
            None
        }
    };

    if !ACCOUNT_KINDS.contains(kind) {
        errs.push(format!("tipo de cuenta inválido «{kind}» (válidos: {})", ACCOUNT_KINDS.join(", ")));
    }

    let rfc = if rfc.is_empty() {
        None
    } else {
        match Rfc::parse(rfc) {
            Ok(r) => Some(r),
            Err(e) => {
                errs.push(format!("RFC inválido «{rfc}»: {}", e.message_es()));
                None
            }
        }
    };

    if name.is_empty() {
        errs.push("falta el nombre del contribuyente".into());
    } else if name.chars().count() > MAX_NAME_CHARS {
        errs.push(format!("el nombre excede {MAX_NAME_CHARS} caracteres"));
    } else if has_control_chars(name) {
        errs.push("el nombre contiene saltos de línea o caracteres de control".into());
    }

    if colonia.chars().count() > MAX_COLONIA_CHARS {
        errs.push(format!("la colonia excede {MAX_COLONIA_CHARS} caracteres"));
    } else if has_control_chars(colonia) {
        errs.push("la colonia contiene saltos de línea o caracteres de control".into());
    }

    if concept.is_empty() {
        errs.push("falta el concepto".into());
    } else if concept.chars().count() > MAX_CONCEPT_CHARS || has_control_chars(concept) {
        errs.push(format!("concepto inválido «{concept}» (máximo {MAX_CONCEPT_CHARS} caracteres)"));
    }

    if period.is_empty() {
        errs.push("falta el periodo".into());
    } else if period.chars().count() > MAX_PERIOD_CHARS || has_control_chars(period) {
        errs.push(format!("periodo inválido «{period}» (máximo {MAX_PERIOD_CHARS} caracteres)"));
    }

    let due = parse_iso_date(due_date);
    if due.is_none() {
        if due_date.is_empty() {
            errs.push("falta la fecha de vencimiento (AAAA-MM-DD)".into());
        } else {
            errs.push(format!("fecha de vencimiento inválida «{due_date}» (formato AAAA-MM-DD, fecha real)"));
        }
    }

    let amount = match Centavos::parse_pesos(amount) {
        Ok(c) if c > Centavos::ZERO => Some(c),
        Ok(_) => {
            errs.push(format!("el importe debe ser mayor que cero «{amount}»"));
            None
        }
        Err(e) => {
            errs.push(format!("importe inválido «{amount}»: {}", e.message_es()));
            None
        }
    };

    match (account, due, amount) {
        (Some(account), Some(due_date), Some(amount)) if errs.is_empty() => Ok(PadronRow {
            line,
            account,
            kind: kind.to_string(),
            rfc,
            name: name.to_string(),
            colonia: if colonia.is_empty() { None } else { Some(colonia.to_string()) },
            concept: concept.to_string(),
            period: period.to_string(),
            due_date,
            amount,
        }),
        _ => Err(errs),
    }
}

/// Strict `YYYY-MM-DD` (exactly 10 characters) naming a real date.
fn parse_iso_date(s: &str) -> Option<NaiveDate> {
    let b = s.as_bytes();
    let shape_ok = b.len() == 10
        && b.iter().enumerate().all(|(i, c)| if i == 4 || i == 7 { *c == b'-' } else { c.is_ascii_digit() });
    if !shape_ok {
        return None;
    }
    let year: i32 = s[0..4].parse().ok()?;
    let month: u32 = s[5..7].parse().ok()?;
    let day: u32 = s[8..10].parse().ok()?;
    NaiveDate::from_ymd_opt(year, month, day)
}

/// "1 000 000": thousands separated by a space, as in the progress line.
pub fn group_thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(' ');
        }
        out.push(ch);
    }
    out
}

/// `recauda import padron FILE.csv`: validates the whole file, then imports it in
/// one transaction, printing progress to stderr. On any problem nothing is imported.
pub async fn run_import(store: &Store, path: &Path) -> Result<ImportSummary, ImportError> {
    let read_err = |source| ImportError::Read { path: path.to_path_buf(), source };
    let size = std::fs::metadata(path).map_err(read_err)?.len();
    if size > MAX_FILE_BYTES {
        return Err(ImportError::TooLarge { path: path.to_path_buf(), size });
    }
    let file = std::fs::File::open(path).map_err(read_err)?;
    eprintln!("validando {} …", path.display());
    let rows = tokio::task::spawn_blocking(move || parse_padron(io::BufReader::with_capacity(1 << 20, file)))
        .await
        .expect("the padrón parser does not panic")
        .map_err(ImportError::Invalid)?;

    let total = rows.len();
    let last_percent = AtomicUsize::new(usize::MAX);
    let progress = |done: usize| {
        let percent = (done.min(total) * 100).checked_div(total).unwrap_or(100);
        if last_percent.swap(percent, Ordering::Relaxed) != percent {
            eprintln!("importando padrón: {percent} % ({} de {} filas)", group_thousands(done), group_thousands(total));
        }
    };
    store.import_padron(&rows, &progress).await.map_err(ImportError::Store)
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEADER: &str = "account,kind,rfc,name,colonia,concept,period,due_date,amount\n";

    fn parse(body: &str) -> Result<Vec<PadronRow>, ImportErrors> {
        parse_padron(format!("{HEADER}{body}").as_bytes())
    }

    /// The reasons for the single bad line 2 of a file.
    fn reasons(body_line: &str) -> Vec<String> {
        let errs = parse(&format!("{body_line}\n")).expect_err("line must be refused");
        assert!(errs.errors.iter().all(|e| e.line == 2), "{errs}");
        errs.errors.into_iter().map(|e| e.reason).collect()
    }

    fn assert_refused(body_line: &str, needle: &str) {
        let r = reasons(body_line);
        assert!(r.iter().any(|m| m.contains(needle)), "expected «{needle}» in {r:?}");
    }

    const GOOD: &str = "\
P-000001,predial,PECJ800101H31,José Peña Cota,Centro,predial,2025-B6,2025-12-31,1234.56
P-000001,predial,PECJ800101H31,José Peña Cota,Centro,predial,2026-B1,2026-02-28,1234.56
A-000001,agua,,María Ibáñez Núñez,Nopoló,agua,2026-01,2026-02-15,250
LC-000001,licencia_comercial,hml180101ab4,\"Hotel Misión Loreto, S.A. de C.V.\",Miramar,licencia_comercial,2026,2026-03-31,15000.5
";

    #[test]
    fn good_file() {
        let rows = parse(GOOD).unwrap();
        assert_eq!(rows.len(), 4);
        let r = &rows[0];
        assert_eq!(r.line, 2);
        assert_eq!(r.account.as_str(), "P-000001");
        assert_eq!(r.kind, "predial");
        assert_eq!(r.rfc.as_ref().unwrap().as_str(), "PECJ800101H31");
        assert_eq!(r.name, "José Peña Cota");
        assert_eq!(r.colonia.as_deref(), Some("Centro"));
        assert_eq!(r.concept, "predial");
        assert_eq!(r.period, "2025-B6");
        assert_eq!(r.due_date, NaiveDate::from_ymd_opt(2025, 12, 31).unwrap());
        assert_eq!(r.amount, Centavos(123_456));
        assert_eq!(rows[2].rfc, None);
        assert_eq!(rows[2].amount, Centavos(25_000));
        assert_eq!(rows[2].name, "María Ibáñez Núñez");
        // RFC normalised to uppercase; quoted field with a comma.
        assert_eq!(rows[3].rfc.as_ref().unwrap().as_str(), "HML180101AB4");
        assert_eq!(rows[3].name, "Hotel Misión Loreto, S.A. de C.V.");
        assert_eq!(rows[3].amount, Centavos(1_500_050));
        assert_eq!(rows[3].line, 5);
    }

    #[test]
    fn accents_and_enye_survive() {
        let rows = parse(
            "P-2,predial,MUÑA750315K20,Ángela Muñoz Ordóñez,Jesús Castro Agúndez,predial,2026-B1,2026-02-28,99.9\n",
        )
        .unwrap();
        assert_eq!(rows[0].rfc.as_ref().unwrap().as_str(), "MUÑA750315K20");
        assert_eq!(rows[0].name, "Ángela Muñoz Ordóñez");
        assert_eq!(rows[0].colonia.as_deref(), Some("Jesús Castro Agúndez"));
        assert_eq!(rows[0].amount, Centavos(9_990));
    }

    #[test]
    fn bom_and_crlf_accepted() {
        let text = format!("\u{feff}{}", format!("{HEADER}{GOOD}").replace('\n', "\r\n"));
        let rows = parse_padron(text.as_bytes()).unwrap();
        assert_eq!(rows.len(), 4);
        assert_eq!(rows[3].amount, Centavos(1_500_050));
        assert_eq!(rows[3].line, 5);
    }

    #[test]
    fn crlf_conversion_keeps_lone_cr_and_chunk_boundaries() {
        let input = b"a\r\nb\rc\r\r\nd\r";
        for out_size in [1, 2, 3, 64] {
            let mut r = CrlfToLf::new(&input[..]);
            let mut got = Vec::new();
            let mut buf = vec![0u8; out_size];
            loop {
                let n = r.read(&mut buf).unwrap();
                if n == 0 {
                    break;
                }
                got.extend_from_slice(&buf[..n]);
            }
            assert_eq!(got, b"a\nb\rc\r\nd\r", "out_size {out_size}");
        }
    }

    #[test]
    fn crlf_line_numbers_in_errors() {
        let text = format!("{HEADER}{GOOD}P-1,predial,,Ana,,predial,2026-B1,2026-02-30,10\n").replace('\n', "\r\n");
        let errs = parse_padron(text.as_bytes()).unwrap_err();
        assert_eq!(
            errs.to_string(),
            "línea 6: fecha de vencimiento inválida «2026-02-30» (formato AAAA-MM-DD, fecha real)"
        );
    }

    #[test]
    fn header_must_be_exact() {
        for header in [
            "cuenta,kind,rfc,name,colonia,concept,period,due_date,amount\n",
            "account,kind,rfc,name,colonia,concept,period,due_date\n",
            "Account,kind,rfc,name,colonia,concept,period,due_date,amount\n",
        ] {
            let errs = parse_padron(format!("{header}{GOOD}").as_bytes()).unwrap_err();
            assert_eq!(errs.len(), 1);
            assert_eq!(errs.errors[0].line, 1);
            assert!(errs.errors[0].reason.contains("encabezado inválido"), "{errs}");
        }
    }

    #[test]
    fn empty_and_header_only_files() {
        let errs = parse_padron(&b""[..]).unwrap_err();
        assert!(errs.to_string().contains("vacío"), "{errs}");
        let errs = parse_padron(HEADER.as_bytes()).unwrap_err();
        assert!(errs.to_string().contains("no tiene filas"), "{errs}");
    }

    #[test]
    fn bad_account() {
        assert_refused(",predial,,Ana,,predial,2026-B1,2026-02-28,10", "falta el número de cuenta");
        assert_refused("P 1,predial,,Ana,,predial,2026-B1,2026-02-28,10", "número de cuenta inválido «P 1»");
        assert_refused("P-Ñ,predial,,Ana,,predial,2026-B1,2026-02-28,10", "número de cuenta inválido");
        let long = "P".repeat(33);
        assert_refused(&format!("{long},predial,,Ana,,predial,2026-B1,2026-02-28,10"), "número de cuenta inválido");
        let ok = "P".repeat(32);
        assert!(parse(&format!("{ok},predial,,Ana,,predial,2026-B1,2026-02-28,10\n")).is_ok());
        assert!(parse("12/34-a,predial,,Ana,,predial,2026-B1,2026-02-28,10\n").is_ok());
    }

    #[test]
    fn bad_kind() {
        assert_refused("P-1,Predial,,Ana,,predial,2026-B1,2026-02-28,10", "tipo de cuenta inválido «Predial»");
        assert_refused("P-1,,,Ana,,predial,2026-B1,2026-02-28,10", "tipo de cuenta inválido");
    }

    #[test]
    fn bad_rfc() {
        assert_refused("P-1,predial,XAXX010101000,Ana,,predial,2026-B1,2026-02-28,10", "RFC inválido «XAXX010101000»");
        assert_refused("P-1,predial,ABC,Ana,,predial,2026-B1,2026-02-28,10", "RFC inválido «ABC»");
        assert_refused("P-1,predial,PECJ801301H31,Ana,,predial,2026-B1,2026-02-28,10", "RFC inválido");
    }

    #[test]
    fn bad_name_concept_period() {
        assert_refused("P-1,predial,,,,predial,2026-B1,2026-02-28,10", "falta el nombre");
        let long = "ñ".repeat(201);
        assert_refused(&format!("P-1,predial,,{long},,predial,2026-B1,2026-02-28,10"), "el nombre excede 200");
        assert!(parse(&format!("P-1,predial,,{},,predial,2026-B1,2026-02-28,10\n", "ñ".repeat(200))).is_ok());
        assert_refused("P-1,predial,,\"Ana\nLuisa\",,predial,2026-B1,2026-02-28,10", "caracteres de control");
        assert_refused("P-1,predial,,Ana,,,2026-B1,2026-02-28,10", "falta el concepto");
        let long = "c".repeat(41);
        assert_refused(&format!("P-1,predial,,Ana,,{long},2026-B1,2026-02-28,10"), "concepto inválido");
        assert_refused("P-1,predial,,Ana,,predial,,2026-02-28,10", "falta el periodo");
        assert_refused("P-1,predial,,Ana,,predial,2026-B1-extra-largo-x,2026-02-28,10", "periodo inválido");
    }

    #[test]
    fn bad_due_date() {
        let r = reasons("P-1,predial,,Ana,,predial,2026-B1,2026-02-30,10");
        assert_eq!(r, vec!["fecha de vencimiento inválida «2026-02-30» (formato AAAA-MM-DD, fecha real)"]);
        assert_refused("P-1,predial,,Ana,,predial,2026-B1,28/02/2026,10", "fecha de vencimiento inválida «28/02/2026»");
        assert_refused("P-1,predial,,Ana,,predial,2026-B1,2026-2-28,10", "fecha de vencimiento inválida");
        assert_refused("P-1,predial,,Ana,,predial,2026-B1,,10", "falta la fecha de vencimiento");
        assert!(parse("P-1,predial,,Ana,,predial,2028-B1,2028-02-29,10\n").is_ok());
    }

    #[test]
    fn bad_amount() {
        assert_refused("P-1,predial,,Ana,,predial,2026-B1,2026-02-28,0", "mayor que cero");
        assert_refused("P-1,predial,,Ana,,predial,2026-B1,2026-02-28,0.00", "mayor que cero");
        assert_refused("P-1,predial,,Ana,,predial,2026-B1,2026-02-28,-5", "importe inválido «-5»");
        assert_refused("P-1,predial,,Ana,,predial,2026-B1,2026-02-28,\"1,234.00\"", "importe inválido «1,234.00»");
        assert_refused("P-1,predial,,Ana,,predial,2026-B1,2026-02-28,12.345", "importe inválido");
        assert_refused("P-1,predial,,Ana,,predial,2026-B1,2026-02-28,", "importe inválido");
    }

    #[test]
    fn wrong_field_count() {
        assert_refused("P-1,predial,,Ana,,predial,2026-B1,2026-02-28", "se esperaban 9 campos y la línea tiene 8");
        assert_refused("P-1,predial,,Ana,,predial,2026-B1,2026-02-28,10,x", "tiene 10");
    }

    #[test]
    fn invalid_utf8_is_reported_per_line() {
        let mut bytes = format!("{HEADER}{GOOD}").into_bytes();
        // Latin-1 "Peña" on an extra line 6.
        bytes.extend_from_slice(b"P-9,predial,,Pe\xf1a,,predial,2026-B1,2026-02-28,10\n");
        let errs = parse_padron(&bytes[..]).unwrap_err();
        assert_eq!(errs.len(), 1);
        assert_eq!(errs.errors[0].line, 6);
        assert!(errs.errors[0].reason.contains("UTF-8"), "{errs}");
        assert!(errs.errors[0].reason.contains("name"), "{errs}");
    }

    #[test]
    fn account_must_be_consistent() {
        let errs = parse(
            "P-1,predial,,Ana Peña,,predial,2026-B1,2026-02-28,10\n\
             P-1,agua,,Ana Peña,,predial,2026-B2,2026-04-30,10\n\
             P-1,predial,PECJ800101H31,Ana Peña,,predial,2026-B3,2026-06-30,10\n\
             P-1,predial,,Ana Pena,,predial,2026-B4,2026-08-31,10\n",
        )
        .unwrap_err();
        let text = errs.to_string();
        assert_eq!(errs.len(), 3, "{text}");
        assert!(
            text.contains("línea 3: la cuenta «P-1» tiene tipo «agua», pero en la línea 2 tiene «predial»"),
            "{text}"
        );
        assert!(
            text.contains("línea 4: la cuenta «P-1» tiene RFC «PECJ800101H31», pero en la línea 2 tiene vacío"),
            "{text}"
        );
        assert!(text.contains("línea 5: la cuenta «P-1» tiene nombre «Ana Pena»"), "{text}");
    }

    #[test]
    fn duplicate_charge_in_file() {
        let errs = parse(
            "P-1,predial,,Ana,,predial,2026-B1,2026-02-28,10\n\
             A-1,agua,,Ana,,agua,2026-01,2026-02-15,10\n\
             P-1,predial,,Ana,,predial,2026-B1,2026-02-28,11\n",
        )
        .unwrap_err();
        assert_eq!(errs.len(), 1);
        assert_eq!(
            errs.to_string(),
            "línea 4: cargo repetido: la cuenta «P-1» con concepto «predial» y periodo «2026-B1» ya aparece en la línea 2"
        );
    }

    #[test]
    fn all_errors_are_collected_in_line_order() {
        let errs = parse(
            "P-1,predial,,Ana,,predial,2026-B1,2026-02-30,10\n\
             P-2,predial,,Luis,,predial,2026-B1,2026-02-28,10\n\
             P-3,casa,,,,predial,2026-B1,2026-02-28,abc\n\
             P-2,predial,,Luis,,predial,2026-B1,2026-02-28,10\n",
        )
        .unwrap_err();
        let lines: Vec<usize> = errs.errors.iter().map(|e| e.line).collect();
        assert_eq!(lines, vec![2, 4, 4, 4, 5], "{errs}");
        let text = errs.to_string();
        assert_eq!(text.lines().count(), 5);
        assert!(text.starts_with("línea 2: fecha de vencimiento inválida «2026-02-30»"), "{text}");
    }

    #[test]
    fn size_limit() {
        let text = format!("{HEADER}{GOOD}");
        let errs = parse_padron_limited(text.as_bytes(), 100).unwrap_err();
        assert_eq!(errs.len(), 1);
        assert!(errs.errors[0].reason.contains("2 GB"), "{errs}");
        assert!(parse_padron_limited(text.as_bytes(), text.len() as u64).is_ok());
    }

    #[test]
    fn thousands_grouping() {
        assert_eq!(group_thousands(0), "0");
        assert_eq!(group_thousands(999), "999");
        assert_eq!(group_thousands(45_000), "45 000");
        assert_eq!(group_thousands(1_000_000), "1 000 000");
    }
}
