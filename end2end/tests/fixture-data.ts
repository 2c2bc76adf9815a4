// The figures of fixtures/padron.csv, worked out by hand (see fixtures/README.md
// for the full table). The server runs with RECAUDA_TODAY=2026-11-21 and
// Loreto's rules: recargos 1.47 % a month of delay, half away from zero to the
// centavo; total rounded to the peso per CFF art. 20 (1–50 centavos down,
// 51–99 up), the difference shown as "ajuste por redondeo".
//
// The exact figures rest on `basura` and `licencia_comercial`: Loreto's
// discount programs never touch them. P-000401 (predial) is the one account
// with a discount: Loreto's example program takes 50 % off predial recargos
// until 2026-12-31.
//
// Amounts are written as the page shows them, without the "$" sign.

export const TODAY = '2026-11-21';

export interface ExpectedItem {
  concept: RegExp;
  period: string;
  /** Both parts of the due date, to match "15/08/2026", "2026-08-15", "15 ago 2026"… */
  dueDay: string;
  dueYear: string;
  /** Months of delay, shown next to the due date as "(4 meses de atraso)"; nothing when 0. */
  monthsLate: number;
  principal: string;
  recargos: string;
  /** The discount as shown (negative), when a program applies; otherwise the cell shows no discount. */
  discount?: string;
  total: string;
}

export interface ExpectedAccount {
  number: string;
  ownerName: string;
  /** The masked owner, first letter of every word kept (privacy.rs). */
  maskedOwner: string;
  colonia: string;
  items: ExpectedItem[];
}

/** Persona física with a valid 13-character RFC and two accounts. */
export const MARIA = {
  // PENM850314H5 → weighted sum 1191, 1191 mod 11 = 3, 11 − 3 = 8.
  rfc: 'PENM850314H58',
  // Same shape, wrong check digit: nothing found, "verifique su RFC" hint.
  rfcBadCheckDigit: 'PENM850314H59',
  name: 'María Peña Núñez',
} as const;

/** Persona moral with a valid 12-character RFC. */
export const NANDU = {
  // ␠CNP050607LR → weighted sum 1361, 1361 mod 11 = 8, 11 − 8 = 3.
  rfc: 'CNP050607LR3',
  name: 'Comercializadora Ñandú del Pacífico S.A. de C.V.',
} as const;

export const P_000101: ExpectedAccount = {
  number: 'P-000101',
  ownerName: MARIA.name,
  maskedOwner: 'M**** P*** N****',
  colonia: 'Centro',
  items: [
    {
      // Due 2026-08-15: +3 months = 2026-11-15 < 11-21 ≤ 2026-12-15 = +4 → 4 months.
      // 1,000.00 × 0.0147 × 4 = 58.80.
      concept: /basura/i,
      period: '2026-08',
      dueDay: '15',
      dueYear: '2026',
      monthsLate: 4,
      principal: '1,000.00',
      recargos: '58.80',
      total: '1,058.80',
    },
    {
      // Due 2026-10-31: +1 month = 2026-11-30 (clamped from the 31st) ≥ 11-21 → 1 month.
      // 333.33 × 0.0147 = 4.899951 → 4.90.
      concept: /basura/i,
      period: '2026-10',
      dueDay: '31',
      dueYear: '2026',
      monthsLate: 1,
      principal: '333.33',
      recargos: '4.90',
      total: '338.23',
    },
  ],
};

/** The account whose only charge is not overdue yet. */
export const L_000102: ExpectedAccount = {
  number: 'L-000102',
  ownerName: MARIA.name,
  maskedOwner: 'M**** P*** N****',
  colonia: 'Centro',
  items: [
    {
      // Due 2026-12-31, today 2026-11-21 ≤ due → 0 months, no recargos.
      concept: /licencia/i,
      period: '2026',
      dueDay: '31',
      dueYear: '2026',
      monthsLate: 0,
      principal: '1,500.00',
      recargos: '0.00',
      total: '1,500.00',
    },
  ],
};

export const L_000201: ExpectedAccount = {
  number: 'L-000201',
  ownerName: NANDU.name,
  maskedOwner: 'C*************** Ñ**** D** P******* S*** D* C***',
  colonia: 'Zaragoza',
  items: [
    {
      // Due 2026-03-31: +7 = 2026-10-31 < 11-21 ≤ 2026-11-30 = +8 → 8 months.
      // 2,345.67 × 0.0147 × 8 = 275.850792 → 275.85
      // (rounding month by month would give 34.48 × 8 = 275.84: it must not).
      concept: /licencia/i,
      period: '2026',
      dueDay: '31',
      dueYear: '2026',
      monthsLate: 8,
      principal: '2,345.67',
      recargos: '275.85',
      total: '2,621.52',
    },
    {
      // Due 2026-11-01: +1 = 2026-12-01 ≥ 11-21 → 1 month.
      // 150.00 × 0.0147 = 2.205 → 2.21 (half away from zero; banker's rounding gives 2.20).
      concept: /basura/i,
      period: '2026-11',
      dueDay: '01',
      dueYear: '2026',
      monthsLate: 1,
      principal: '150.00',
      recargos: '2.21',
      total: '152.21',
    },
  ],
};

/** No RFC in the padrón. */
export const P_000301: ExpectedAccount = {
  number: 'P-000301',
  ownerName: 'José Ángel Ibáñez Muñoz',
  maskedOwner: 'J*** Á**** I***** M****',
  colonia: 'Nopoló',
  items: [
    {
      // Due 2026-09-30: +1 = 2026-10-30 < 11-21 ≤ 2026-11-30 = +2 → 2 months.
      // 119.00 × 0.0147 × 2 = 3.4986 → 3.50.
      concept: /basura/i,
      period: '2026-09',
      dueDay: '30',
      dueYear: '2026',
      monthsLate: 2,
      principal: '119.00',
      recargos: '3.50',
      total: '122.50',
    },
  ],
};

/** A predial charge with Loreto's 2026 predial program: 50 % off recargos. */
export const P_000401: ExpectedAccount = {
  number: 'P-000401',
  ownerName: 'Refugio Ávila Cota',
  maskedOwner: 'R****** Á**** C***',
  colonia: 'Miramar',
  items: [
    {
      // Due 2026-03-31 → 8 months (as L-000201). 2,000.00 × 0.0147 × 8 = 235.20;
      // 50 % of the recargos = 117.60 off; 2,000.00 + 235.20 − 117.60 = 2,117.60.
      concept: /predial/i,
      period: '2026',
      dueDay: '31',
      dueYear: '2026',
      monthsLate: 8,
      principal: '2,000.00',
      recargos: '235.20',
      discount: '-117.60',
      total: '2,117.60',
    },
  ],
};

export const PREDIAL_PROGRAM = {
  name: /regularizaci[oó]n de predial 2026/i,
  legalBasis: /Cabildo/,
  lastDay: '31/12/2026',
} as const;

/** Totals of one lookup (sum of items, ajuste por redondeo, total a pagar). */
export interface ExpectedTotals {
  subtotal: string;
  rounding: string;
  total: string;
}

export const TOTALS = {
  // 1,058.80 + 338.23 = 1,397.03 → 3 centavos round down → 1,397.00, ajuste −0.03.
  'P-000101': { subtotal: '1,397.03', rounding: '-0.03', total: '1,397.00' },
  // Nothing overdue: 1,500.00, no adjustment.
  'L-000102': { subtotal: '1,500.00', rounding: '0.00', total: '1,500.00' },
  // 2,621.52 + 152.21 = 2,773.73 → 73 centavos round up → 2,774.00, ajuste +0.27.
  'L-000201': { subtotal: '2,773.73', rounding: '0.27', total: '2,774.00' },
  // 122.50 → exactly 50 centavos round DOWN (CFF art. 20) → 122.00, ajuste −0.50.
  'P-000301': { subtotal: '122.50', rounding: '-0.50', total: '122.00' },
  // 2,117.60 → 60 centavos round up → 2,118.00, ajuste +0.40.
  'P-000401': { subtotal: '2,117.60', rounding: '0.40', total: '2,118.00' },
  // RFC PENM850314H58: P-000101 + L-000102 = 1,397.03 + 1,500.00 = 2,897.03 → 2,897.00, ajuste −0.03.
  [MARIA.rfc]: { subtotal: '2,897.03', rounding: '-0.03', total: '2,897.00' },
  // RFC CNP050607LR3: only L-000201.
  [NANDU.rfc]: { subtotal: '2,773.73', rounding: '0.27', total: '2,774.00' },
} satisfies Record<string, ExpectedTotals>;

/** Not in the padrón. */
export const UNKNOWN_ACCOUNT = 'P-999999';
/** SAT's generic RFC for the general public: never a lookup key. */
export const GENERIC_RFC = 'XAXX010101000';
/** Too short, wrong shape. */
export const MALFORMED_RFC = 'ABC123';

/**
 * Accounts that only the payment spec (pay.spec.ts) uses: it pays them with
 * the demo provider, so no other spec may assert their figures. Each owes one
 * basura charge of 200.00 due 2026-10-31: 1 month late, recargos
 * 200.00 × 0.0147 = 2.94, total 202.94 → 94 centavos round up → 203.00.
 */
export const PAY_ACCOUNTS = {
  /** Demo card payment with JavaScript. */
  card: 'P-000901',
  /** Demo OXXO voucher, pending then paid. */
  oxxo: 'P-000902',
  /** Demo card payment with JavaScript disabled. */
  noJs: 'P-000903',
  /** Demo card payment, then its receipt (receipt.spec.ts). */
  receipt: 'P-000904',
} as const;

export const PAY_TOTAL = { subtotal: '202.94', rounding: '0.06', total: '203.00' } satisfies ExpectedTotals;
