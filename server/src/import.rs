//! `recauda import padron FILE.csv`: reading and validating the padrón CSV.
//!
//! The file is UTF-8 (an optional BOM is accepted) with exactly this header:
//!
//! ```text
//! account,kind,rfc,name,colonia,concept,period,due_date,amount
//! ```
//!
//! Line ends may be LF, CRLF or a lone CR, mixed at will: all read as LF, so
//! line numbers are the same whatever the editor that saved the file.
//!
//! Every row is validated and every problem is counted, each with its line
//! number and a Spanish reason; the first [`MAX_LISTED_ERRORS`] are listed
//! (the rest are summed up as "… y N errores más"). If there is any problem
//! nothing is imported. A valid file is imported by `Store::import_padron`
//! in one transaction.

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

/// Problems listed by [`ImportErrors`]; the others are only counted. A file
/// with every one of its millions of lines wrong must not fill the memory
/// nor the operator's terminal.
pub const MAX_LISTED_ERRORS: usize = 100;

/// The problems found in a padrón file: the first ones (by line) listed,
/// all of them counted. Display prints one per line, then
/// "… y N errores más" when some were not listed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImportErrors {
    /// The first [`MAX_LISTED_ERRORS`] problems, in line order.
    pub errors: Vec<RowError>,
    /// Every problem found, listed or not.
    total: usize,
    /// How many are kept in `errors`.
    cap: usize,
}

impl Default for ImportErrors {
    fn default() -> Self {
        ImportErrors::with_cap(MAX_LISTED_ERRORS)
    }
}

impl ImportErrors {
    pub(crate) fn with_cap(cap: usize) -> ImportErrors {
        ImportErrors { errors: Vec::new(), total: 0, cap: cap.max(1) }
    }

    /// Every problem found (more than `errors` holds when some were not listed).
    pub fn len(&self) -> usize {
        self.total
    }

    pub fn is_empty(&self) -> bool {
        self.total == 0
    }

    /// Problems found but not listed.
    pub fn unlisted(&self) -> usize {
        self.total - self.errors.len()
    }

    pub(crate) fn push(&mut self, line: usize, reason: impl Into<String>) {
        self.total += 1;
        self.errors.push(RowError { line, reason: reason.into() });
        // Keep the first `cap` by line (stable: same line, order found);
        // trimming at twice the cap keeps the cost per problem constant.
        if self.errors.len() >= self.cap.saturating_mul(2) {
            self.keep_first();
        }
    }

    pub(crate) fn keep_first(&mut self) {
        self.errors.sort_by_key(|e| e.line);
        self.errors.truncate(self.cap);
    }

    pub(crate) fn single(line: usize, reason: impl Into<String>) -> ImportErrors {
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
        match self.unlisted() {
            0 => Ok(()),
            1 => f.write_str("\n… y 1 error más"),
            n => write!(f, "\n… y {} errores más", group_thousands(n)),
        }
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
    #[error(
        "el padrón tiene {count} error(es); no se importó nada:\n{errors}",
        count = group_thousands(.0.len()),
        errors = .0
    )]
    Invalid(ImportErrors),
    #[error("{}", .0.message_es())]
    Store(#[source] StoreError),
}

/// Reads and validates a padrón. Returns every row, or every problem.
pub fn parse_padron(reader: impl Read) -> Result<Vec<PadronRow>, ImportErrors> {
    parse_padron_limited(reader, MAX_FILE_BYTES, MAX_LISTED_ERRORS)
}

/// Counts the bytes read, so an over-long stream is detected without reading it all.
pub(crate) struct CountingReader<R> {
    pub(crate) inner: R,
    pub(crate) count: u64,
}

impl<R: Read> Read for CountingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.count += n as u64;
        Ok(n)
    }
}

/// The UTF-8 byte order mark some editors put at the start of a file.
pub(crate) const BOM: &[u8] = b"\xEF\xBB\xBF";

/// What the CSV reader reads: the file without its BOM, every line end as LF.
///
/// * The BOM is skipped here, however the file arrives: the `csv` crate
///   skips one only when its first read holds it whole, and takes a first
///   read of nothing but the BOM for an empty file.
/// * Line ends may be LF, CRLF and a lone CR (classic Mac OS, some
///   spreadsheet exports), mixed at will. The `csv` crate ends a record at
///   any of them but counts lines by LF only: one short after a CRLF, never
///   advancing on a lone CR. With plain LF its line numbers are exact. (A CR
///   inside a quoted field becomes LF too: either is a control character,
///   which no text field accepts.)
pub(crate) struct PlainText<R> {
    pub(crate) inner: R,
    buf: Box<[u8]>,
    pos: usize,
    len: usize,
    /// Nothing read yet (a BOM may come).
    at_start: bool,
    /// The last byte handed out was a CR (turned into LF): an LF right
    /// after it belongs to the same line end.
    after_cr: bool,
}

impl<R: Read> PlainText<R> {
    pub(crate) fn new(inner: R) -> Self {
        PlainText { inner, buf: vec![0; 1 << 16].into_boxed_slice(), pos: 0, len: 0, at_start: true, after_cr: false }
    }

    /// Refills the buffer; at the start of the file, past every BOM (a file
    /// saved twice by a careless tool may have two), even one split across
    /// reads: the `csv` crate would skip one more only when its first read
    /// happened to hold it whole.
    fn fill(&mut self) -> io::Result<()> {
        self.pos = 0;
        self.len = self.inner.read(&mut self.buf)?;
        if self.at_start {
            self.at_start = false;
            loop {
                while self.len - self.pos < BOM.len() {
                    self.buf.copy_within(self.pos..self.len, 0);
                    self.len -= self.pos;
                    self.pos = 0;
                    let n = self.inner.read(&mut self.buf[self.len..])?;
                    if n == 0 {
                        break;
                    }
                    self.len += n;
                }
                if !self.buf[self.pos..self.len].starts_with(BOM) {
                    break;
                }
                self.pos += BOM.len();
            }
        }
        Ok(())
    }
}

impl<R: Read> Read for PlainText<R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        let mut n = 0;
        while n < out.len() {
            if self.pos == self.len {
                if n > 0 {
                    break;
                }
                self.fill()?;
                if self.len == 0 {
                    break;
                }
                continue;
            }
            let b = self.buf[self.pos];
            self.pos += 1;
            if b == b'\n' && self.after_cr {
                self.after_cr = false;
                continue;
            }
            self.after_cr = b == b'\r';
            out[n] = if self.after_cr { b'\n' } else { b };
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

fn parse_padron_limited(reader: impl Read, max_bytes: u64, max_listed: usize) -> Result<Vec<PadronRow>, ImportErrors> {
    let mut errors = ImportErrors::with_cap(max_listed);
    let mut rows: Vec<PadronRow> = Vec::new();
    let mut accounts: HashMap<AccountNumber, AccountFirstSeen> = HashMap::new();

    let file = CsvFile { header: &PADRON_HEADER, max_bytes, max_words: "2 GB" };
    file.read(reader, &mut errors, |line, fields, errors| {
        let row = match validate_row(line, fields) {
            Ok(row) => row,
            Err(reasons) => {
                for r in reasons {
                    errors.push(line, r);
                }
                return;
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
    })?;

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
        errors.keep_first();
        Err(errors)
    }
}

fn rfc_for_message(rfc: Option<&str>) -> String {
    match rfc {
        Some(r) => format!("«{r}»"),
        None => "vacío".to_string(),
    }
}

/// A CSV file an operator imports (the padrón, the licences): its exact
/// header, and the most bytes read (`max_words` says it in the message).
pub(crate) struct CsvFile<'h> {
    pub(crate) header: &'h [&'h str],
    pub(crate) max_bytes: u64,
    pub(crate) max_words: &'h str,
}

impl CsvFile<'_> {
    /// Reads the file record by record, with any BOM and line ends
    /// ([`PlainText`]): checks the header, then hands `row` each data
    /// record's line and fields (trimmed, as many as the header names,
    /// valid UTF-8); a record that is not is an error of its line. The file
    /// itself refused (too large, a bad or missing header, no data rows) is
    /// the one error returned.
    pub(crate) fn read(
        &self,
        reader: impl Read,
        errors: &mut ImportErrors,
        mut row: impl FnMut(usize, &[&str], &mut ImportErrors),
    ) -> Result<(), ImportErrors> {
        let counting = CountingReader { inner: reader.take(self.max_bytes.saturating_add(1)), count: 0 };
        let mut csv = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .buffer_capacity(1 << 16)
            .from_reader(PlainText::new(counting));
        let mut record = csv::ByteRecord::new();
        let mut header_seen = false;
        let mut data_rows = false;
        loop {
            let line_before = record.position().map(|p| p.line() as usize + 1).unwrap_or(1);
            match csv.read_byte_record(&mut record) {
                Ok(true) => {}
                Ok(false) => break,
                Err(e) => {
                    if csv.get_ref().inner.count > self.max_bytes {
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
                if let Err(reason) = self.check_header(&record) {
                    return Err(ImportErrors::single(line, reason));
                }
                continue;
            }
            data_rows = true;
            if record.len() != self.header.len() {
                errors
                    .push(line, format!("se esperaban {} campos y la línea tiene {}", self.header.len(), record.len()));
                continue;
            }
            let mut fields: Vec<&str> = Vec::with_capacity(self.header.len());
            let mut bad_utf8: Vec<&str> = Vec::new();
            for (i, raw) in record.iter().enumerate() {
                match std::str::from_utf8(raw) {
                    Ok(s) => fields.push(s.trim()),
                    Err(_) => {
                        bad_utf8.push(self.header[i]);
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
            row(line, &fields, errors);
        }
        if csv.get_ref().inner.count > self.max_bytes {
            return Err(ImportErrors::single(
                0,
                format!("el archivo excede el tamaño máximo de {}; no se importó nada", self.max_words),
            ));
        }
        if !header_seen {
            return Err(ImportErrors::single(
                0,
                format!("el archivo está vacío; la primera línea debe ser «{}»", self.header.join(",")),
            ));
        }
        if !data_rows && errors.is_empty() {
            return Err(ImportErrors::single(0, "el archivo no tiene filas de datos, solo el encabezado"));
        }
        Ok(())
    }

    fn check_header(&self, record: &csv::ByteRecord) -> Result<(), String> {
        let expected = self.header.join(",");
        let fields: Option<Vec<&str>> = record
            .iter()
            .enumerate()
            .map(|(i, f)| {
                let f = if i == 0 { f.strip_prefix(BOM).unwrap_or(f) } else { f };
                std::str::from_utf8(f).ok()
            })
            .collect();
        match fields {
            Some(fields) if fields == self.header => Ok(()),
            Some(fields) => {
                Err(format!("encabezado inválido «{}»; se esperaba exactamente «{expected}»", fields.join(",")))
            }
            None => Err(format!(
                "el encabezado no es UTF-8 válido; guarde el archivo con codificación UTF-8 (se esperaba «{expected}»)"
            )),
        }
    }
}

pub(crate) fn has_control_chars(s: &str) -> bool {
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
    fn every_line_end_becomes_lf_across_chunk_boundaries() {
        let input = b"a\r\nb\rc\r\r\nd\r";
        for out_size in [1, 2, 3, 64] {
            let mut r = PlainText::new(&input[..]);
            let mut got = Vec::new();
            let mut buf = vec![0u8; out_size];
            loop {
                let n = r.read(&mut buf).unwrap();
                if n == 0 {
                    break;
                }
                got.extend_from_slice(&buf[..n]);
            }
            assert_eq!(got, b"a\nb\nc\n\nd\n", "out_size {out_size}");
        }
    }

    #[test]
    fn bom_is_skipped_however_the_file_arrives() {
        let text = format!("{HEADER}{GOOD}");
        // The BOM split across reads, and a first read of the BOM alone
        // (which the `csv` crate alone takes for an empty file).
        let split = (&b"\xEF"[..]).chain(&b"\xBB"[..]).chain(&b"\xBF"[..]).chain(text.as_bytes());
        assert_eq!(parse_padron(split).unwrap().len(), 4);
        let alone = (&b"\xEF\xBB\xBF"[..]).chain(text.as_bytes());
        assert_eq!(parse_padron(alone).unwrap().len(), 4);
        let errs = parse_padron(&b"\xEF\xBB\xBF"[..]).unwrap_err();
        assert!(errs.to_string().contains("vacío"), "{errs}");
        // Two BOMs, however they arrive, are two BOMs skipped.
        let twice = format!("\u{feff}\u{feff}{text}");
        assert_eq!(parse_padron(twice.as_bytes()).unwrap().len(), 4);
        let trickled = (&b"\xEF\xBB\xBF\xEF"[..]).chain(&b"\xBB"[..]).chain(&b"\xBF"[..]).chain(text.as_bytes());
        assert_eq!(parse_padron(trickled).unwrap().len(), 4);
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
        let errs = parse_padron_limited(text.as_bytes(), 100, MAX_LISTED_ERRORS).unwrap_err();
        assert_eq!(errs.len(), 1);
        assert!(errs.errors[0].reason.contains("2 GB"), "{errs}");
        assert!(parse_padron_limited(text.as_bytes(), text.len() as u64, MAX_LISTED_ERRORS).is_ok());
    }

    #[test]
    fn thousands_grouping() {
        assert_eq!(group_thousands(0), "0");
        assert_eq!(group_thousands(999), "999");
        assert_eq!(group_thousands(45_000), "45 000");
        assert_eq!(group_thousands(1_000_000), "1 000 000");
    }
}

/// Property-based fuzzing of the padrón parser: arbitrary bytes never
/// panic; a valid padrón round-trips, whatever its BOM, line ends (LF, CRLF,
/// CR, mixed) and read sizes; invalid UTF-8 names its line and imports
/// nothing; the list of errors is bounded. `cargo test -p server --lib
/// fuzz::` (the CI stage `fuzz` runs it with `PROPTEST_CASES` cases).
#[cfg(test)]
mod fuzz {
    use super::*;
    use app::domain::money::MAX_INPUT;
    use proptest::prelude::*;

    /// `PROPTEST_CASES` cases (256 without it; `proptest!` lets the variable
    /// win over any other count). Prints the count (captured;
    /// `--show-output` shows it), which the CI stage `fuzz` sums up.
    fn config() -> ProptestConfig {
        let config = ProptestConfig::default();
        println!("fuzz property: {} cases", config.cases);
        config
    }

    const HEADER_LINE: &str = "account,kind,rfc,name,colonia,concept,period,due_date,amount";
    const RFCS: [&str; 4] = ["", "GODE561231GR8", "sat970701nn3", "ÑAÑ010101ABA"];

    /// A line end as some editor writes it.
    #[derive(Clone, Copy, Debug)]
    enum End {
        Lf,
        CrLf,
        Cr,
    }

    impl End {
        fn bytes(self) -> &'static [u8] {
            match self {
                End::Lf => b"\n",
                End::CrLf => b"\r\n",
                End::Cr => b"\r",
            }
        }
    }

    fn end() -> impl Strategy<Value = End> {
        prop_oneof![Just(End::Lf), Just(End::CrLf), Just(End::Cr)]
    }

    /// How a file is laid out: a BOM or not, the end of each line (cycled),
    /// whether the last line has one.
    #[derive(Clone, Debug)]
    struct Layout {
        bom: bool,
        ends: Vec<End>,
        last_end: bool,
    }

    impl Layout {
        fn plain() -> Layout {
            Layout { bom: false, ends: vec![End::Lf], last_end: true }
        }
    }

    fn layout() -> impl Strategy<Value = Layout> {
        (any::<bool>(), prop::collection::vec(end(), 1..8), any::<bool>()).prop_map(|(bom, ends, last_end)| Layout {
            bom,
            ends,
            last_end,
        })
    }

    /// Lines (without their ends) laid out as a file.
    fn file(lines: &[Vec<u8>], layout: &Layout) -> Vec<u8> {
        let mut out = Vec::new();
        if layout.bom {
            out.extend_from_slice("\u{feff}".as_bytes());
        }
        for (i, line) in lines.iter().enumerate() {
            out.extend_from_slice(line);
            if i + 1 < lines.len() || layout.last_end {
                out.extend_from_slice(layout.ends[i % layout.ends.len()].bytes());
            }
        }
        out
    }

    /// A field as a spreadsheet writes it: quoted when it must be (or when
    /// `quote` says so), quotes doubled.
    fn csv_field(s: &str, quote: bool) -> String {
        if quote || s.contains([',', '"', '\r', '\n']) {
            format!("\"{}\"", s.replace('"', "\"\""))
        } else {
            s.to_string()
        }
    }

    /// A name or a colonia: Spanish letters, punctuation a CSV must quote.
    fn text(min: usize, max: usize) -> impl Strategy<Value = String> {
        proptest::string::string_regex(&format!("[A-Za-z0-9ÁÉÍÓÚÑáéíóúñü .,'\"&-]{{{min},{max}}}"))
            .expect("valid regex")
            .prop_filter("not blank", move |s| min == 0 || !s.trim().is_empty())
    }

    /// An amount of centavos as a person types it: `1234.50`, `1234.5`, `1234`, ` 7 `.
    fn amount_text(c: i64, style: u8) -> String {
        let api = Centavos(c).to_api_string();
        match style % 4 {
            1 if c % 10 == 0 => api[..api.len() - 1].to_string(),
            2 if c % 100 == 0 => api[..api.len() - 3].to_string(),
            3 => format!(" {api}\t"),
            _ => api,
        }
    }

    /// A valid padrón: the fields of its data lines as written, and the rows
    /// they must give.
    #[derive(Clone, Debug)]
    struct Padron {
        fields: Vec<Vec<String>>,
        rows: Vec<PadronRow>,
    }

    impl Padron {
        /// Header and data lines.
        fn all_lines(&self) -> Vec<Vec<u8>> {
            std::iter::once(HEADER_LINE.to_string())
                .chain(self.fields.iter().map(|f| f.join(",")))
                .map(String::into_bytes)
                .collect()
        }
    }

    #[derive(Clone, Debug)]
    struct GenAccount {
        number: String,
        kind: &'static str,
        rfc: &'static str,
        name: String,
        colonia: String,
    }

    fn gen_account() -> impl Strategy<Value = GenAccount> {
        ("[A-Za-z0-9]{1,3}(-[0-9]{1,6})?", 0..ACCOUNT_KINDS.len(), 0..RFCS.len(), text(1, 40), text(0, 30)).prop_map(
            |(number, kind, rfc, name, colonia)| GenAccount {
                number,
                kind: ACCOUNT_KINDS[kind],
                rfc: RFCS[rfc],
                name,
                colonia,
            },
        )
    }

    fn padron() -> impl Strategy<Value = Padron> {
        let charge = (any::<prop::sample::Index>(), 1..=MAX_INPUT.0, any::<u8>(), 0i64..20_000, any::<bool>());
        (prop::collection::vec(gen_account(), 1..5), prop::collection::vec(charge, 1..25)).prop_map(
            |(accounts, charges)| {
                let mut lines = Vec::new();
                let mut rows = Vec::new();
                // Account numbers differing only in case are one account: keep the first.
                let mut seen = std::collections::HashSet::new();
                let accounts: Vec<GenAccount> =
                    accounts.into_iter().filter(|a| seen.insert(a.number.to_ascii_uppercase())).collect();
                for (i, (which, cents, style, days, quote)) in charges.into_iter().enumerate() {
                    let a = which.get(&accounts);
                    let period = format!("{}-{i}", 2000 + i);
                    let due_date = NaiveDate::from_ymd_opt(1990, 1, 1).unwrap() + chrono::Duration::days(days);
                    let fields = vec![
                        csv_field(&a.number, quote),
                        a.kind.to_string(),
                        a.rfc.to_string(),
                        csv_field(&a.name, quote),
                        csv_field(&a.colonia, false),
                        csv_field("predial", quote),
                        period.clone(),
                        due_date.format("%Y-%m-%d").to_string(),
                        amount_text(cents, style),
                    ];
                    lines.push(fields);
                    let colonia = a.colonia.trim();
                    rows.push(PadronRow {
                        line: i + 2,
                        account: AccountNumber::parse(&a.number).expect("generated account is valid"),
                        kind: a.kind.to_string(),
                        rfc: (!a.rfc.is_empty()).then(|| Rfc::parse(a.rfc).expect("generated RFC is valid")),
                        name: a.name.trim().to_string(),
                        colonia: (!colonia.is_empty()).then(|| colonia.to_string()),
                        concept: "predial".into(),
                        period,
                        due_date,
                        amount: Centavos(cents),
                    });
                }
                Padron { fields: lines, rows }
            },
        )
    }

    /// Bytes that make CSV parsers stumble.
    fn token() -> impl Strategy<Value = Vec<u8>> {
        let fixed: Vec<&'static [u8]> = vec![
            b",",
            b"\"",
            b"\"\"",
            b"\r",
            b"\n",
            b"\r\n",
            b" ",
            b"\t",
            b"\0",
            "\u{feff}".as_bytes(),
            b"\xff",
            b"\xc3",
            b"\xe9",
            b"\xed\xa0\x80",
            b"P-1",
            b"p-2",
            b"predial",
            b"agua",
            b"GODE561231GR8",
            b"XAXX010101000",
            "Peña".as_bytes(),
            b"2026-B1",
            b"2026-02-28",
            b"2026-02-30",
            b"10",
            b"1234.50",
            b"-5",
            b"1e3",
            b"99999999999999999999",
            HEADER_LINE.as_bytes(),
            b"P-1,predial,,Ana,,predial,2026-B1,2026-02-28,10",
        ];
        prop_oneof![
            4 => prop::sample::select(fixed).prop_map(<[u8]>::to_vec),
            1 => prop::collection::vec(any::<u8>(), 1..4),
            1 => "\\PC{1,4}".prop_map(String::into_bytes),
        ]
    }

    /// A header (usually the right one) followed by garbage lines.
    fn garbage_lines() -> impl Strategy<Value = Vec<Vec<u8>>> {
        let header = prop_oneof![
            4 => Just(HEADER_LINE.as_bytes().to_vec()),
            1 => prop::collection::vec(token(), 0..4).prop_map(|t| t.concat()),
        ];
        let line = prop::collection::vec(token(), 0..12).prop_map(|t| t.concat());
        (header, prop::collection::vec(line, 0..30)).prop_map(|(h, mut lines)| {
            lines.insert(0, h);
            lines
        })
    }

    /// What holds of any answer of the parser.
    fn check_invariants(result: &Result<Vec<PadronRow>, ImportErrors>) -> Result<(), TestCaseError> {
        match result {
            Ok(rows) => {
                prop_assert!(!rows.is_empty());
                prop_assert!(rows.windows(2).all(|w| w[0].line < w[1].line), "rows in line order");
                prop_assert!(rows.iter().all(|r| r.line >= 2 && r.amount > Centavos::ZERO));
            }
            Err(errs) => {
                prop_assert!(!errs.is_empty());
                prop_assert!(!errs.errors.is_empty() && errs.errors.len() <= MAX_LISTED_ERRORS);
                prop_assert!(errs.len() >= errs.errors.len());
                prop_assert!(errs.errors.windows(2).all(|w| w[0].line <= w[1].line), "errors in line order");
                prop_assert!(errs.errors.iter().all(|e| !e.reason.is_empty()));
                prop_assert!(!errs.to_string().is_empty());
            }
        }
        Ok(())
    }

    /// Hands out its bytes in chunks of the given sizes (cycled), as a pipe or
    /// a slow disk may.
    struct Trickle<'a> {
        data: &'a [u8],
        sizes: Vec<usize>,
        turn: usize,
    }

    impl Read for Trickle<'_> {
        fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
            let size = self.sizes[self.turn % self.sizes.len()].min(out.len()).min(self.data.len());
            self.turn += 1;
            out[..size].copy_from_slice(&self.data[..size]);
            self.data = &self.data[size..];
            Ok(size)
        }
    }

    /// The reference reading of line ends: CRLF, then a lone CR, to LF.
    fn crlf_and_cr_to_lf(bytes: &[u8]) -> Vec<u8> {
        let mut out = Vec::with_capacity(bytes.len());
        let mut i = 0;
        while i < bytes.len() {
            if bytes[i] == b'\r' {
                out.push(b'\n');
                if bytes.get(i + 1) == Some(&b'\n') {
                    i += 1;
                }
            } else {
                out.push(bytes[i]);
            }
            i += 1;
        }
        out
    }

    /// One data line with exactly one problem (a 30 February), period `i`.
    fn bad_line(i: usize) -> String {
        format!("P-1,predial,,Ana,,predial,{i},2026-02-30,10")
    }

    proptest! {
        #![proptest_config(config())]

        #[test]
        fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..2048)) {
            check_invariants(&parse_padron(&bytes[..]))?;
        }

        #[test]
        fn garbage_after_a_header_never_panics(lines in garbage_lines(), layout in layout()) {
            check_invariants(&parse_padron(&file(&lines, &layout)[..]))?;
        }

        #[test]
        fn valid_padron_round_trips(p in padron()) {
            prop_assert_eq!(parse_padron(&file(&p.all_lines(), &Layout::plain())[..]), Ok(p.rows));
        }

        #[test]
        fn bom_and_any_line_ends_give_the_rows_of_plain_lf(p in padron(), layout in layout()) {
            prop_assert_eq!(parse_padron(&file(&p.all_lines(), &layout)[..]), Ok(p.rows));
        }

        #[test]
        fn bom_and_any_line_ends_give_the_errors_of_plain_lf(lines in garbage_lines(), layout in layout()) {
            // The garbage carries CR and LF bytes of its own, inside quotes
            // too: every CRLF, CR and LF of the file reads as one LF.
            let without_bom = Layout { bom: false, ..layout.clone() };
            let plain = crlf_and_cr_to_lf(&file(&lines, &without_bom));
            prop_assert_eq!(parse_padron(&file(&lines, &without_bom)[..]), parse_padron(&plain[..]));
            prop_assert_eq!(parse_padron(&file(&lines, &layout)[..]), parse_padron(&plain[..]));
        }

        #[test]
        fn chunk_boundaries_do_not_matter(
            lines in garbage_lines(),
            layout in layout(),
            sizes in prop::collection::vec(1usize..5, 1..6),
        ) {
            let bytes = file(&lines, &layout);
            let trickled = parse_padron(Trickle { data: &bytes, sizes, turn: 0 });
            prop_assert_eq!(trickled, parse_padron(&bytes[..]));
        }

        #[test]
        fn invalid_utf8_names_its_line_and_imports_nothing(
            p in padron(),
            layout in layout(),
            which in any::<prop::sample::Index>(),
            bad in prop::sample::select(
                vec![&b"\xff"[..], b"\xe9", b"\xc3", b"\xed\xa0\x80", b"\xc0\xaf", b"\xf8\x88\x80\x80\x80"]
            ),
        ) {
            let mut lines = p.all_lines();
            let line = 1 + which.index(p.fields.len());
            // Latin-1 and friends in the name: `Pe<bad>a` replaces the name field.
            let mut bytes = Vec::new();
            for (i, f) in p.fields[line - 1].iter().enumerate() {
                if i > 0 {
                    bytes.push(b',');
                }
                if i == 3 {
                    bytes.extend_from_slice(b"Pe");
                    bytes.extend_from_slice(bad);
                    bytes.push(b'a');
                } else {
                    bytes.extend_from_slice(f.as_bytes());
                }
            }
            lines[line] = bytes;
            let errs = parse_padron(&file(&lines, &layout)[..]).expect_err("nothing is imported");
            prop_assert_eq!(errs.len(), 1, "{}", errs);
            prop_assert_eq!(errs.errors[0].line, line + 1);
            prop_assert!(errs.errors[0].reason.contains("no es UTF-8 válido (campo name)"), "{}", errs);
        }

        #[test]
        fn invalid_utf8_in_the_header_is_line_one(
            p in padron(),
            layout in layout(),
            at in 0..HEADER_LINE.len(),
        ) {
            let mut lines = p.all_lines();
            lines[0].insert(at, 0xff);
            let errs = parse_padron(&file(&lines, &layout)[..]).unwrap_err();
            prop_assert_eq!(errs.len(), 1);
            prop_assert_eq!(errs.errors[0].line, 1);
            prop_assert!(errs.errors[0].reason.contains("UTF-8"), "{}", errs);
        }

        #[test]
        fn many_bad_lines_give_a_bounded_list(n in 1usize..250, layout in layout()) {
            let lines: Vec<Vec<u8>> = std::iter::once(HEADER_LINE.to_string())
                .chain((0..n).map(bad_line))
                .map(String::into_bytes)
                .collect();
            let errs = parse_padron(&file(&lines, &layout)[..]).unwrap_err();
            prop_assert_eq!(errs.len(), n);
            let listed = n.min(MAX_LISTED_ERRORS);
            prop_assert_eq!(errs.errors.len(), listed);
            let expected_lines: Vec<usize> = (2..2 + listed).collect();
            prop_assert_eq!(errs.errors.iter().map(|e| e.line).collect::<Vec<_>>(), expected_lines);
            let text = errs.to_string();
            prop_assert_eq!(text.lines().count(), listed + usize::from(n > listed));
            match n - listed {
                0 => prop_assert!(!text.contains("más")),
                1 => prop_assert!(text.ends_with("\n… y 1 error más"), "{}", text),
                more => {
                    let expected = format!("\n… y {} errores más", group_thousands(more));
                    prop_assert!(text.ends_with(&expected), "{}", text);
                }
            }
        }

        #[test]
        fn listed_errors_are_the_first_ones_found(lines in garbage_lines(), cap in 1usize..12) {
            let bytes = file(&lines, &Layout::plain());
            let all = parse_padron_limited(&bytes[..], MAX_FILE_BYTES, usize::MAX);
            let capped = parse_padron_limited(&bytes[..], MAX_FILE_BYTES, cap);
            match (all, capped) {
                (Ok(a), Ok(b)) => prop_assert_eq!(a, b),
                (Err(a), Err(b)) => {
                    prop_assert_eq!(a.len(), b.len());
                    prop_assert_eq!(&a.errors[..a.errors.len().min(cap)], &b.errors[..]);
                }
                (a, b) => prop_assert!(false, "{:?} vs {:?}", a, b),
            }
        }
    }

    #[test]
    fn a_file_of_only_bad_lines_lists_the_first_hundred() {
        let n = 200_000;
        let mut text = format!("{HEADER_LINE}\n");
        for i in 0..n {
            text.push_str(&bad_line(i));
            text.push('\n');
        }
        let errs = parse_padron(text.as_bytes()).unwrap_err();
        assert_eq!((errs.len(), errs.errors.len(), errs.unlisted()), (n, 100, n - 100));
        assert_eq!(errs.errors.last().unwrap().line, 101);
        let message = ImportError::Invalid(errs).to_string();
        assert!(message.starts_with("el padrón tiene 200 000 error(es); no se importó nada:\nlínea 2: "), "{message}");
        let last = "\nlínea 101: fecha de vencimiento inválida «2026-02-30» (formato AAAA-MM-DD, fecha real)";
        assert!(message.ends_with(&format!("{last}\n… y 199 900 errores más")), "{message}");
        assert_eq!(message.lines().count(), 102);
    }
}
