//! Demo data: a deterministic, realistic padrón for Loreto, Baja California Sur.
//!
//! `demo_padron(accounts, seed, today)` always gives the same rows for the same
//! arguments (own splitmix64 PRNG, no `rand`). Charges are dated relative to
//! `today`: some accounts are up to date (only the next charge, due after
//! today), others owe 1–30 months, some carry multas.

use std::collections::{HashMap, HashSet};

use chrono::{Datelike, Duration, NaiveDate};

use app::domain::account::AccountNumber;
use app::domain::licences::LicenceStatus;
use app::domain::money::Centavos;
use app::domain::municipality::Municipality;
use app::domain::rfc::{rfc_check_digit, Rfc};
use app::store::{LicenceRow, PadronRow};

/// Accounts in the default demo padrón.
pub const DEFAULT_ACCOUNTS: usize = 300;
/// Seed of the default demo padrón.
pub const DEFAULT_SEED: u64 = 0x4C4F_5245_544F; // "LORETO"

/// splitmix64: tiny, fast, good enough for demo data, and stable forever.
struct Rng(u64);

impl Rng {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `lo..=hi`.
    fn range(&mut self, lo: i64, hi: i64) -> i64 {
        lo + (self.next_u64() % ((hi - lo + 1) as u64)) as i64
    }

    fn chance(&mut self, percent: u64) -> bool {
        self.next_u64() % 100 < percent
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[(self.next_u64() % items.len() as u64) as usize]
    }
}

const NOMBRES: [&str; 40] = [
    "José Luis",
    "María Guadalupe",
    "Jesús",
    "Juana",
    "Ramón",
    "Sofía",
    "Ángel",
    "Martín",
    "Héctor",
    "Inés",
    "Mónica",
    "Raúl",
    "Verónica",
    "Adrián",
    "Tomás",
    "Andrés",
    "Noé",
    "Zoé",
    "Begoña",
    "Ignacio",
    "Rocío",
    "Efraín",
    "Azucena",
    "Joaquín",
    "Leticia",
    "Óscar",
    "Araceli",
    "Germán",
    "Dolores",
    "Rubén",
    "Concepción",
    "Julián",
    "Yolanda",
    "Néstor",
    "Beatriz",
    "Sebastián",
    "Itzel",
    "Fermín",
    "Citlali",
    "Gonzalo",
];

const APELLIDOS: [&str; 40] = [
    "Peña",
    "Muñoz",
    "Ibáñez",
    "Núñez",
    "Cañedo",
    "Ordóñez",
    "Zúñiga",
    "Agúndez",
    "Davis",
    "Romero",
    "Higuera",
    "Cota",
    "Amador",
    "Arce",
    "Villavicencio",
    "Castro",
    "Osuna",
    "Meza",
    "Murillo",
    "Verdugo",
    "Talamantes",
    "Geraldo",
    "Lucero",
    "Beltrán",
    "Márquez",
    "Cuevas",
    "Espinoza",
    "Avilés",
    "Sández",
    "Aguilar",
    "Ceseña",
    "Montaño",
    "Rodríguez",
    "González",
    "Hernández",
    "Álvarez",
    "Gastélum",
    "Orantes",
    "Yáñez",
    "Olachea",
];

const GIROS: [&str; 14] = [
    "Hotel",
    "Restaurante",
    "Abarrotes",
    "Pescadería",
    "Inmobiliaria",
    "Constructora",
    "Servicios Turísticos",
    "Farmacia",
    "Ferretería",
    "Panadería",
    "Tortillería",
    "Marina",
    "Operadora",
    "Buceo",
];

const NOMBRES_COMERCIALES: [&str; 16] = [
    "Bahía",
    "Misión",
    "Coronado",
    "Nopoló",
    "El Carmen",
    "Danzante",
    "Sierra de la Giganta",
    "Santa Catalina",
    "Puerto Escondido",
    "San Javier",
    "La Pitahaya",
    "El Pescador",
    "Los Cardones",
    "Monserrat",
    "El Malecón",
    "La Ballena Azul",
];

const SOCIEDADES: [&str; 4] = ["S.A. de C.V.", "S. de R.L. de C.V.", "S.C.", "S.A.P.I. de C.V."];

/// Colonias of Loreto, B.C.S.
const COLONIAS: [&str; 11] = [
    "Centro",
    "Zaragoza",
    "Ampliación Zaragoza",
    "Miramar",
    "Nopoló",
    "Infonavit",
    "Las Garzas",
    "San Telmo",
    "Jesús Castro Agúndez",
    "Benito Juárez",
    "Puerto Escondido",
];

/// Characters used for the two free homoclave positions.
const HOMOCLAVE: &[u8] = b"123456789ABCDEFGHIJKLMNPQRSTUVWXYZ";

/// Four-letter words SAT never issues: the last letter becomes X.
const INCONVENIENT: [&str; 41] = [
    "BUEI", "BUEY", "CACA", "CACO", "CAGA", "CAGO", "CAKA", "CAKO", "COGE", "COJA", "COJE", "COJI", "COJO", "CULO",
    "FETO", "GUEY", "JOTO", "KACA", "KACO", "KAGA", "KAGO", "KOGE", "KOJO", "KAKA", "KULO", "MAME", "MAMO", "MEAR",
    "MEAS", "MEON", "MION", "MOCO", "MULA", "PEDA", "PEDO", "PENE", "PUTA", "PUTO", "QULO", "RATA", "RUIN",
];

/// UMA daily value 2025, for multas expressed in UMAs.
const UMA_CENTAVOS: i64 = 11_314;

#[derive(Clone, Copy)]
enum Schedule {
    /// "YYYY-MM", due the 15th of the following month (billed in arrears).
    Monthly,
    /// "YYYY-Bn", due the last day of the bimester's first month.
    Bimonthly,
    /// "YYYY", due on this month/day (day 0 = last day of the month).
    Yearly { month: u32, day: u32 },
}

struct KindSpec {
    kind: &'static str,
    prefix: &'static str,
    concept: &'static str,
    schedule: Schedule,
    /// Charge amount range, whole pesos.
    pesos: (i64, i64),
    /// Multa concept and chance (%) an account carries one.
    multa: Option<(&'static str, u64)>,
}

const KINDS: [KindSpec; 8] = [
    KindSpec {
        kind: "predial",
        prefix: "P",
        concept: "predial",
        schedule: Schedule::Bimonthly,
        pesos: (350, 9_000),
        multa: None,
    },
    KindSpec {
        kind: "agua",
        prefix: "A",
        concept: "agua",
        schedule: Schedule::Monthly,
        pesos: (120, 650),
        multa: None,
    },
    KindSpec {
        kind: "basura",
        prefix: "B",
        concept: "basura",
        schedule: Schedule::Yearly { month: 3, day: 31 },
        pesos: (300, 2_400),
        multa: Some(("multa_basura", 30)),
    },
    KindSpec {
        kind: "licencia_comercial",
        prefix: "LC",
        concept: "licencia_comercial",
        schedule: Schedule::Yearly { month: 3, day: 31 },
        pesos: (800, 15_000),
        multa: Some(("multa_reglamentos", 10)),
    },
    KindSpec {
        kind: "licencia_alcoholes",
        prefix: "LA",
        concept: "refrendo_alcoholes",
        schedule: Schedule::Yearly { month: 2, day: 0 },
        pesos: (4_500, 38_000),
        multa: Some(("multa_reglamentos", 15)),
    },
    KindSpec {
        kind: "anuncios",
        prefix: "AN",
        concept: "anuncios",
        schedule: Schedule::Yearly { month: 3, day: 31 },
        pesos: (600, 8_000),
        multa: None,
    },
    KindSpec {
        kind: "via_publica",
        prefix: "VP",
        concept: "via_publica",
        schedule: Schedule::Monthly,
        pesos: (150, 900),
        multa: None,
    },
    KindSpec {
        kind: "espectaculos",
        prefix: "E",
        concept: "espectaculos",
        schedule: Schedule::Monthly,
        pesos: (2_000, 25_000),
        multa: None,
    },
];

fn spec(kind: &str) -> &'static KindSpec {
    KINDS.iter().find(|k| k.kind == kind).expect("known kind")
}

fn last_day_of_month(year: i32, month: u32) -> NaiveDate {
    let (ny, nm) = if month == 12 { (year + 1, 1) } else { (year, month + 1) };
    NaiveDate::from_ymd_opt(ny, nm, 1).expect("valid month") - Duration::days(1)
}

/// `d` moved back `months` months, clamped to the month's end.
fn months_back(d: NaiveDate, months: u32) -> NaiveDate {
    let total = d.year() * 12 + d.month0() as i32 - months as i32;
    let (y, m) = (total.div_euclid(12), total.rem_euclid(12) as u32 + 1);
    let last = last_day_of_month(y, m);
    NaiveDate::from_ymd_opt(y, m, d.day().min(last.day())).expect("clamped day")
}

/// Period label and due date of slot `n` (slots count months, bimesters or years since year 0).
fn slot(schedule: Schedule, n: i32) -> (String, NaiveDate) {
    match schedule {
        Schedule::Monthly => {
            let (y, m) = (n.div_euclid(12), n.rem_euclid(12) as u32 + 1);
            let (dy, dm) = if m == 12 { (y + 1, 1) } else { (y, m + 1) };
            (format!("{y:04}-{m:02}"), NaiveDate::from_ymd_opt(dy, dm, 15).expect("valid"))
        }
        Schedule::Bimonthly => {
            let (y, b) = (n.div_euclid(6), n.rem_euclid(6) as u32 + 1);
            (format!("{y:04}-B{b}"), last_day_of_month(y, 2 * b - 1))
        }
        Schedule::Yearly { month, day } => {
            let due = if day == 0 {
                last_day_of_month(n, month)
            } else {
                NaiveDate::from_ymd_opt(n, month, day).expect("valid")
            };
            (format!("{n:04}"), due)
        }
    }
}

fn slot_of(schedule: Schedule, d: NaiveDate) -> i32 {
    match schedule {
        Schedule::Monthly => d.year() * 12 + d.month0() as i32,
        Schedule::Bimonthly => d.year() * 6 + d.month0() as i32 / 2,
        Schedule::Yearly { .. } => d.year(),
    }
}

/// The charges of an account `delay_months` behind: every period due in
/// `[today - delay, today]`, plus the first one due after today.
fn schedule_periods(schedule: Schedule, today: NaiveDate, delay_months: u32) -> Vec<(String, NaiveDate)> {
    let from = months_back(today, delay_months);
    let mut n = slot_of(schedule, from) - 2;
    let mut out = Vec::new();
    loop {
        let (label, due) = slot(schedule, n);
        n += 1;
        if due > today {
            out.push((label, due));
            return out;
        }
        if delay_months > 0 && due >= from {
            out.push((label, due));
        }
    }
}

fn ascii_upper(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            'á' | 'Á' => 'A',
            'é' | 'É' => 'E',
            'í' | 'Í' => 'I',
            'ó' | 'Ó' => 'O',
            'ú' | 'Ú' | 'ü' | 'Ü' => 'U',
            'ñ' | 'Ñ' => 'X', // SAT writes Ñ as X in the name letters
            other => other.to_ascii_uppercase(),
        })
        .filter(|c| c.is_ascii_uppercase())
        .collect()
}

struct Taxpayer {
    name: String,
    rfc: Option<Rfc>,
    colonia: Option<String>,
}

struct Gen {
    rng: Rng,
    today: NaiveDate,
    rfcs: HashSet<String>,
    counters: HashMap<&'static str, u32>,
    rows: Vec<PadronRow>,
}

impl Gen {
    fn rfc(&mut self, letters: &str, date: NaiveDate) -> Rfc {
        loop {
            let mut body = format!("{letters}{}", date.format("%y%m%d"));
            for _ in 0..2 {
                body.push(*self.rng.pick(HOMOCLAVE) as char);
            }
            let digit = rfc_check_digit(&body).expect("ASCII RFC body");
            let text = format!("{body}{digit}");
            if self.rfcs.insert(text.clone()) {
                return Rfc::parse(&text).expect("demo RFCs are well-formed");
            }
        }
    }

    fn colonia(&mut self) -> Option<String> {
        if self.rng.chance(5) {
            None
        } else {
            Some(self.rng.pick(&COLONIAS).to_string())
        }
    }

    fn persona_fisica(&mut self, with_rfc: bool) -> Taxpayer {
        let nombre = *self.rng.pick(&NOMBRES);
        let paterno = *self.rng.pick(&APELLIDOS);
        let materno = *self.rng.pick(&APELLIDOS);
        let name = format!("{nombre} {paterno} {materno}");
        let rfc = with_rfc.then(|| {
            let p = ascii_upper(paterno);
            let vowel = p.chars().skip(1).find(|c| "AEIOU".contains(*c)).unwrap_or('X');
            let first_name = nombre.split(' ').next().expect("non-empty");
            let mut letters =
                format!("{}{vowel}{}{}", &p[..1], &ascii_upper(materno)[..1], &ascii_upper(first_name)[..1]);
            if INCONVENIENT.contains(&letters.as_str()) {
                letters.replace_range(3.., "X");
            }
            let born = NaiveDate::from_ymd_opt(
                self.rng.range(1950, 2003) as i32,
                self.rng.range(1, 12) as u32,
                self.rng.range(1, 28) as u32,
            )
            .expect("valid date");
            self.rfc(&letters, born)
        });
        let colonia = self.colonia();
        Taxpayer { name, rfc, colonia }
    }

    fn persona_moral(&mut self, with_rfc: bool) -> Taxpayer {
        let giro = *self.rng.pick(&GIROS);
        let comercial = *self.rng.pick(&NOMBRES_COMERCIALES);
        let sociedad = *self.rng.pick(&SOCIEDADES);
        let name = format!("{giro} {comercial}, {sociedad}");
        let rfc = with_rfc.then(|| {
            let words: Vec<String> = format!("{giro} {comercial}")
                .split(' ')
                .filter(|w| !["de", "la", "las", "el", "los", "del", "y"].contains(&w.to_lowercase().as_str()))
                .map(ascii_upper)
                .filter(|w| !w.is_empty())
                .collect();
            let mut letters: String = words.iter().take(3).map(|w| &w[..1]).collect();
            let mut extra = words[0].chars().skip(1);
            while letters.len() < 3 {
                letters.push(extra.next().unwrap_or('X'));
            }
            let founded = NaiveDate::from_ymd_opt(
                self.rng.range(1985, 2023) as i32,
                self.rng.range(1, 12) as u32,
                self.rng.range(1, 28) as u32,
            )
            .expect("valid date");
            self.rfc(&letters, founded)
        });
        let colonia = self.colonia();
        Taxpayer { name, rfc, colonia }
    }

    fn random_delay(&mut self) -> u32 {
        match self.rng.range(0, 99) {
            0..=34 => 0,
            35..=74 => self.rng.range(1, 6) as u32,
            75..=94 => self.rng.range(7, 18) as u32,
            _ => self.rng.range(19, 30) as u32,
        }
    }

    fn amount(&mut self, pesos: (i64, i64)) -> Centavos {
        let whole = self.rng.range(pesos.0, pesos.1) * 100;
        let cents = if self.rng.chance(50) { 0 } else { self.rng.range(0, 99) };
        Centavos(whole + cents)
    }

    /// One account and its charges. `delay` None = random.
    fn account(&mut self, kind: &'static str, owner: &Taxpayer, delay: Option<u32>, force_multa: bool) {
        let spec = spec(kind);
        let counter = self.counters.entry(spec.prefix).or_insert(0);
        *counter += 1;
        let number = format!("{}-{:06}", spec.prefix, counter);
        let delay = delay.unwrap_or_else(|| self.random_delay());
        let base = self.amount(spec.pesos);
        let this_year = self.today.year();
        let mut periods = schedule_periods(spec.schedule, self.today, delay);
        if spec.kind == "espectaculos" {
            // Events, not a monthly service: keep the last one or two.
            let keep = self.rng.range(1, 2) as usize;
            periods.drain(..periods.len().saturating_sub(keep));
        }
        let mut charges: Vec<(&'static str, String, NaiveDate, Centavos)> = periods
            .into_iter()
            .map(|(period, due)| {
                // Tariffs of earlier years were ~4 % lower per year.
                let mut amount = base.0;
                for _ in due.year()..this_year {
                    amount = amount * 96 / 100;
                }
                (spec.concept, period, due, Centavos(amount.max(100)))
            })
            .collect();
        if let Some((multa, chance)) = spec.multa {
            if force_multa || self.rng.chance(chance) {
                let issued = self.today - Duration::days(self.rng.range(0, 300));
                let umas = *self.rng.pick(&[5i64, 10, 20, 50]);
                let folio = self.rng.range(1, 999);
                let prefix = if multa == "multa_basura" { "MB" } else { "MR" };
                charges.push((
                    multa,
                    format!("{prefix}-{}-{folio:04}", issued.year()),
                    issued + Duration::days(15),
                    Centavos(umas * UMA_CENTAVOS),
                ));
            }
        }
        for (concept, period, due_date, amount) in charges {
            self.rows.push(PadronRow {
                line: 0,
                account: AccountNumber::parse(&number).expect("demo account numbers are well formed"),
                kind: spec.kind.to_string(),
                rfc: owner.rfc.clone(),
                name: owner.name.clone(),
                colonia: owner.colonia.clone(),
                concept: concept.to_string(),
                period,
                due_date,
                amount,
            });
        }
    }
}

/// A deterministic demo padrón for Loreto with exactly `accounts` accounts
/// (each with at least one charge). `line` numbers are those of the equivalent
/// CSV file (header = line 1).
pub fn demo_padron(accounts: usize, seed: u64, today: NaiveDate) -> Vec<PadronRow> {
    let mut g = Gen { rng: Rng(seed), today, rfcs: HashSet::new(), counters: HashMap::new(), rows: Vec::new() };
    let mut made = 0usize;
    let mut taxpayer_no = 0usize;
    while made < accounts {
        // (kind, fixed delay, force a multa)
        let mut plan: Vec<(&'static str, Option<u32>, bool)> = Vec::new();
        let owner = match taxpayer_no {
            // A few fixed taxpayers first, so the showcase always has something to show.
            0 => {
                plan.push(("predial", Some(g.rng.range(8, 18) as u32), false));
                plan.push(("agua", Some(0), false));
                g.persona_fisica(true)
            }
            1 => {
                plan.extend([
                    ("predial", None, false),
                    ("licencia_comercial", Some(g.rng.range(3, 14) as u32), false),
                    ("licencia_alcoholes", Some(g.rng.range(13, 26) as u32), true),
                    ("anuncios", None, false),
                ]);
                g.persona_moral(true)
            }
            2 => {
                plan.push(("predial", Some(0), false));
                g.persona_fisica(false)
            }
            3 => {
                plan.push(("basura", Some(g.rng.range(1, 30) as u32), true));
                g.persona_fisica(true)
            }
            _ => match g.rng.range(0, 99) {
                0..=69 => {
                    plan.push(("predial", None, false));
                    if g.rng.chance(55) {
                        plan.push(("agua", None, false));
                    }
                    if g.rng.chance(10) {
                        plan.push(("basura", None, false));
                    }
                    if g.rng.chance(4) {
                        plan.push(("via_publica", None, false));
                    }
                    let with_rfc = g.rng.chance(75);
                    g.persona_fisica(with_rfc)
                }
                70..=94 => {
                    if g.rng.chance(60) {
                        plan.push(("predial", None, false));
                    }
                    plan.push(("licencia_comercial", None, false));
                    if g.rng.chance(45) {
                        plan.push(("licencia_alcoholes", None, false));
                    }
                    if g.rng.chance(35) {
                        plan.push(("anuncios", None, false));
                    }
                    if g.rng.chance(20) {
                        plan.push(("agua", None, false));
                    }
                    if g.rng.chance(15) {
                        plan.push(("basura", None, false));
                    }
                    if g.rng.chance(5) {
                        plan.push(("espectaculos", None, false));
                    }
                    let with_rfc = g.rng.chance(95);
                    g.persona_moral(with_rfc)
                }
                _ => {
                    // A small business run by a persona física.
                    plan.push(("licencia_comercial", None, false));
                    if g.rng.chance(50) {
                        plan.push(("predial", None, false));
                    }
                    if g.rng.chance(20) {
                        plan.push(("via_publica", None, false));
                    }
                    g.persona_fisica(true)
                }
            },
        };
        for (kind, delay, multa) in plan {
            if made == accounts {
                break;
            }
            g.account(kind, &owner, delay, multa);
            made += 1;
        }
        taxpayer_no += 1;
    }
    for (i, row) in g.rows.iter_mut().enumerate() {
        row.line = i + 2;
    }
    g.rows
}

/// A few lines describing interesting demo accounts, to print after `recauda demo`:
/// e.g. "Cuenta P-000001 (predial, con recargos)", "RFC HML180101AB4 (persona moral, 4 cuentas)".
///
/// "con recargos" means the account has more than one charge of the same concept
/// (in a demo padrón only one charge per concept is ever due after today).
pub fn demo_showcase(rows: &[PadronRow]) -> Vec<String> {
    struct Acc<'a> {
        number: &'a str,
        kind: &'a str,
        rfc: Option<&'a Rfc>,
        per_concept: Vec<(&'a str, usize)>,
    }
    let mut accounts: Vec<Acc<'_>> = Vec::new();
    let mut index: HashMap<&str, usize> = HashMap::new();
    for r in rows {
        let i = *index.entry(r.account.as_str()).or_insert_with(|| {
            accounts.push(Acc {
                number: r.account.as_str(),
                kind: &r.kind,
                rfc: r.rfc.as_ref(),
                per_concept: Vec::new(),
            });
            accounts.len() - 1
        });
        let acc = &mut accounts[i];
        match acc.per_concept.iter_mut().find(|(c, _)| *c == r.concept) {
            Some((_, n)) => *n += 1,
            None => acc.per_concept.push((&r.concept, 1)),
        }
    }
    let overdue = |a: &Acc<'_>| a.per_concept.iter().any(|(_, n)| *n > 1);
    let has_multa = |a: &Acc<'_>| a.per_concept.iter().any(|(c, _)| c.starts_with("multa_"));
    let describe = |a: &Acc<'_>| {
        let mut parts = vec![a.kind.to_string()];
        if a.rfc.is_none() {
            parts.push("sin RFC".into());
        }
        parts.push(if overdue(a) { "con recargos".into() } else { "al corriente".into() });
        if has_multa(a) {
            parts.push("con multa".into());
        }
        format!("Cuenta {} ({})", a.number, parts.join(", "))
    };

    let mut lines: Vec<String> = Vec::new();
    let mut shown: HashSet<&str> = HashSet::new();
    let picks: [&dyn Fn(&Acc<'_>) -> bool; 5] = [
        &|a| a.kind == "predial" && overdue(a),
        &|a| !overdue(a) && !has_multa(a) && a.rfc.is_some(),
        &|a| a.kind == "licencia_alcoholes",
        &|a| has_multa(a),
        &|a| a.rfc.is_none(),
    ];
    for pick in picks {
        if let Some(a) = accounts.iter().find(|a| !shown.contains(a.number) && pick(a)) {
            shown.insert(a.number);
            lines.push(describe(a));
        }
    }

    // Taxpayers with several accounts, found by RFC.
    let mut by_rfc: Vec<(&Rfc, usize)> = Vec::new();
    for a in &accounts {
        if let Some(rfc) = a.rfc {
            match by_rfc.iter_mut().find(|(r, _)| *r == rfc) {
                Some((_, n)) => *n += 1,
                None => by_rfc.push((rfc, 1)),
            }
        }
    }
    for (kind, label) in [
        (app::domain::rfc::PersonKind::Moral, "persona moral"),
        (app::domain::rfc::PersonKind::Fisica, "persona física"),
    ] {
        let best = by_rfc.iter().filter(|(r, n)| r.person_kind() == kind && *n > 1).fold(
            None::<(&Rfc, usize)>,
            |best, (r, n)| match best {
                Some((_, m)) if m >= *n => best,
                _ => Some((r, *n)),
            },
        );
        if let Some((rfc, n)) = best {
            lines.push(format!("RFC {} ({label}, {n} cuentas)", rfc.as_str()));
        }
    }
    lines
}

/// Streets of Loreto, for the demo licences' addresses.
const CALLES: [&str; 8] = [
    "Calle Salvatierra",
    "Boulevard López Mateos",
    "Calle Hidalgo",
    "Calle Madero",
    "Calle Independencia",
    "Calle Francisco I. Madero",
    "Calle Juárez",
    "Calle Benito Juárez",
];

/// The alcohol licences of a demo padrón: one per `licencia_alcoholes`
/// account whose holder has an RFC, numbered ALC-0001…, each with a giro of
/// the municipality file (in turn), an address in the holder's colonia and
/// its hours. Deterministic, like the padrón.
pub fn demo_licences(rows: &[PadronRow], m: &Municipality) -> Vec<LicenceRow> {
    let mut seen = HashSet::new();
    let mut licences = Vec::new();
    for r in rows.iter().filter(|r| r.kind == "licencia_alcoholes") {
        let Some(rfc) = r.rfc.clone() else { continue };
        if m.giros.is_empty() || !seen.insert(r.account.as_str()) {
            continue;
        }
        let n = licences.len();
        let giro = &m.giros[n % m.giros.len()];
        let colonia = r.colonia.as_deref().unwrap_or("Centro");
        licences.push(LicenceRow {
            line: n + 2,
            number: format!("ALC-{:04}", n + 1),
            rfc,
            name: r.name.clone(),
            giro: giro.code.clone(),
            address: format!("{} {}, {colonia}", CALLES[n % CALLES.len()], 10 + 7 * n),
            hours: if n % 3 == 0 { "10:00 a 02:00".into() } else { "12:00 a 00:00".into() },
            status: LicenceStatus::Active,
        });
    }
    licences
}

/// Whether the demo padrón has the licence's holder owing something due on
/// `today` of the concepts a renewal needs paid up.
fn owes(rows: &[PadronRow], licence: &LicenceRow, m: &Municipality, today: NaiveDate) -> bool {
    rows.iter().any(|r| {
        r.rfc.as_ref() == Some(&licence.rfc) && r.due_date < today && m.licences.paid_up_concepts.contains(&r.concept)
    })
}

/// Lines to print after `recauda demo`: a licence that can be renewed at
/// once, and one whose holder must pay something first.
pub fn licence_showcase(
    licences: &[LicenceRow],
    rows: &[PadronRow],
    m: &Municipality,
    today: NaiveDate,
) -> Vec<String> {
    let line = |l: &LicenceRow, what: &str| {
        let giro = m.giro(&l.giro).map_or(l.giro.as_str(), |g| g.name.as_str());
        format!("Licencia {} con RFC {} ({giro}; {what})", l.number, l.rfc.as_str())
    };
    let mut lines = Vec::new();
    if let Some(l) = licences.iter().find(|l| !owes(rows, l, m, today)) {
        lines.push(line(l, "al corriente: se refrenda y se paga en línea"));
    }
    if let Some(l) = licences.iter().find(|l| owes(rows, l, m, today)) {
        lines.push(line(l, "con adeudos vencidos: la página dice qué pagar primero"));
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 5, 20).unwrap()
    }

    fn loreto() -> Municipality {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../config/municipalities/loreto.toml");
        Municipality::from_toml_str(&std::fs::read_to_string(path).unwrap()).unwrap()
    }

    #[test]
    fn demo_licences_pass_the_importer_and_show_both_cases() {
        let m = loreto();
        let rows = demo_padron(DEFAULT_ACCOUNTS, DEFAULT_SEED, today());
        let licences = demo_licences(&rows, &m);
        assert!(licences.len() >= 3, "{}", licences.len());
        assert_eq!(licences, demo_licences(&rows, &m), "deterministic");
        // Through the real parser, as a file would be.
        let mut w = csv::Writer::from_writer(Vec::new());
        w.write_record(crate::licence_import::LICENCES_HEADER).unwrap();
        for l in &licences {
            w.write_record([&l.number, l.rfc.as_str(), &l.name, &l.giro, &l.address, &l.hours, "vigente"]).unwrap();
        }
        let bytes = w.into_inner().unwrap();
        let parsed = crate::licence_import::parse_licences(&bytes[..], &m).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(parsed, licences);
        let shown = licence_showcase(&licences, &rows, &m, today());
        assert_eq!(shown.len(), 2, "{shown:#?}");
        assert!(shown[0].contains("al corriente") && shown[1].contains("con adeudos"), "{shown:#?}");
    }

    #[test]
    fn deterministic() {
        assert_eq!(demo_padron(120, 7, today()), demo_padron(120, 7, today()));
        assert_ne!(demo_padron(120, 7, today()), demo_padron(120, 8, today()));
    }

    #[test]
    fn exact_account_count_and_line_numbers() {
        for n in [1, 2, 5, 37, DEFAULT_ACCOUNTS] {
            let rows = demo_padron(n, DEFAULT_SEED, today());
            let accounts: HashSet<&str> = rows.iter().map(|r| r.account.as_str()).collect();
            assert_eq!(accounts.len(), n);
            assert!(rows.iter().enumerate().all(|(i, r)| r.line == i + 2));
        }
        assert!(demo_padron(0, 1, today()).is_empty());
    }

    #[test]
    fn rows_pass_the_importer_validation() {
        // Write the demo as CSV and read it back through the real parser.
        let rows = demo_padron(DEFAULT_ACCOUNTS, DEFAULT_SEED, today());
        let mut w = csv::Writer::from_writer(Vec::new());
        w.write_record(crate::import::PADRON_HEADER).unwrap();
        for r in &rows {
            let amount = format!("{}.{:02}", r.amount.0 / 100, r.amount.0 % 100);
            w.write_record([
                r.account.as_str(),
                &r.kind,
                r.rfc.as_ref().map(|x| x.as_str()).unwrap_or(""),
                &r.name,
                r.colonia.as_deref().unwrap_or(""),
                &r.concept,
                &r.period,
                &r.due_date.format("%Y-%m-%d").to_string(),
                &amount,
            ])
            .unwrap();
        }
        let bytes = w.into_inner().unwrap();
        let parsed = crate::import::parse_padron(&bytes[..]).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(parsed, rows);
    }

    #[test]
    fn realistic_content() {
        let rows = demo_padron(DEFAULT_ACCOUNTS, DEFAULT_SEED, today());
        const CONCEPTS: [&str; 10] = [
            "predial",
            "agua",
            "basura",
            "licencia_comercial",
            "refrendo_alcoholes",
            "anuncios",
            "via_publica",
            "espectaculos",
            "multa_basura",
            "multa_reglamentos",
        ];
        assert!(rows.iter().all(|r| CONCEPTS.contains(&r.concept.as_str())));
        assert!(rows.iter().all(|r| r.amount > Centavos::ZERO));
        for r in rows.iter().filter(|r| r.concept == "predial") {
            assert!((35_000..=900_099).contains(&r.amount.0) || r.due_date.year() < 2026, "{r:?}");
            assert!(r.period.len() == 7 && r.period.contains("-B"), "{r:?}");
        }
        assert!(rows.iter().filter(|r| r.concept == "agua").all(|r| r.period.len() == 7));
        // RFCs: valid check digit, both kinds, unique per taxpayer name, some missing.
        let with_rfc: Vec<&PadronRow> = rows.iter().filter(|r| r.rfc.is_some()).collect();
        assert!(with_rfc.iter().all(|r| r.rfc.as_ref().unwrap().check_digit_ok()));
        assert!(with_rfc.iter().any(|r| r.rfc.as_ref().unwrap().as_str().chars().count() == 12));
        assert!(with_rfc.iter().any(|r| r.rfc.as_ref().unwrap().as_str().chars().count() == 13));
        assert!(rows.iter().any(|r| r.rfc.is_none()));
        let mut names: HashMap<&str, &str> = HashMap::new();
        for r in &with_rfc {
            let prev = names.insert(r.rfc.as_ref().unwrap().as_str(), &r.name);
            assert!(prev.is_none() || prev == Some(r.name.as_str()));
        }
        // Accents and ñ, Loreto colonias, morales.
        assert!(rows.iter().any(|r| r.name.contains('ñ')));
        assert!(rows.iter().any(|r| r.name.contains("S.A. de C.V.")));
        assert!(rows.iter().any(|r| r.colonia.as_deref() == Some("Nopoló")));
        // Overdue and current charges, up to 30 months back, and multas.
        assert!(rows.iter().any(|r| r.due_date > today()));
        assert!(rows.iter().any(|r| r.due_date < today()));
        assert!(rows.iter().all(|r| r.due_date >= months_back(today(), 31)));
        assert!(rows.iter().any(|r| r.concept.starts_with("multa_")));
        // Every account has exactly one charge per concept due after today at most.
        let mut future: HashMap<(&str, &str), usize> = HashMap::new();
        for r in rows.iter().filter(|r| r.due_date > today() && !r.concept.starts_with("multa_")) {
            *future.entry((r.account.as_str(), &r.concept)).or_default() += 1;
        }
        assert!(future.values().all(|n| *n == 1));
    }

    #[test]
    fn periods_follow_the_schedule() {
        let t = today();
        assert_eq!(
            schedule_periods(Schedule::Bimonthly, t, 0),
            vec![("2026-B3".to_string(), NaiveDate::from_ymd_opt(2026, 5, 31).unwrap())]
        );
        let p = schedule_periods(Schedule::Bimonthly, t, 6);
        let labels: Vec<&str> = p.iter().map(|(l, _)| l.as_str()).collect();
        assert_eq!(labels, ["2025-B6", "2026-B1", "2026-B2", "2026-B3"]);
        let m = schedule_periods(Schedule::Monthly, t, 2);
        let labels: Vec<&str> = m.iter().map(|(l, _)| l.as_str()).collect();
        assert_eq!(labels, ["2026-03", "2026-04", "2026-05"]);
        let y = schedule_periods(Schedule::Yearly { month: 2, day: 0 }, t, 26);
        assert_eq!(y.iter().map(|(l, _)| l.as_str()).collect::<Vec<_>>(), ["2025", "2026", "2027"]);
        assert_eq!(y[0].1, NaiveDate::from_ymd_opt(2025, 2, 28).unwrap());
        assert_eq!(
            months_back(NaiveDate::from_ymd_opt(2026, 3, 31).unwrap(), 1),
            NaiveDate::from_ymd_opt(2026, 2, 28).unwrap()
        );
    }

    #[test]
    fn showcase_lines() {
        let rows = demo_padron(DEFAULT_ACCOUNTS, DEFAULT_SEED, today());
        let lines = demo_showcase(&rows);
        assert!(lines[0].starts_with("Cuenta P-000001 (predial, con recargos"), "{lines:#?}");
        assert!(lines.iter().any(|l| l.contains("al corriente")), "{lines:#?}");
        assert!(lines.iter().any(|l| l.contains("sin RFC")), "{lines:#?}");
        assert!(lines.iter().any(|l| l.contains("con multa")), "{lines:#?}");
        assert!(lines.iter().any(|l| l.starts_with("RFC ") && l.contains("(persona moral, ")), "{lines:#?}");
        assert!(lines.iter().any(|l| l.starts_with("RFC ") && l.contains("(persona física, ")), "{lines:#?}");
    }
}
