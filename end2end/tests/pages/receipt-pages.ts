import { type Locator, type Page } from '@playwright/test';

/** The printable receipt, `/recibo/{folio}?s=…`. */
export class ReceiptPage {
  readonly receipt: Locator;
  readonly folio: Locator;
  readonly total: Locator;
  readonly words: Locator;
  readonly payer: Locator;
  readonly qr: Locator;
  readonly verifyUrl: Locator;
  readonly pdfLetter: Locator;
  readonly pdfTicket: Locator;
  readonly demoBanner: Locator;

  constructor(readonly page: Page) {
    this.receipt = page.getByTestId('receipt');
    this.folio = page.getByTestId('receipt-folio');
    this.total = page.getByTestId('receipt-total');
    this.words = page.getByTestId('receipt-words');
    this.payer = page.getByTestId('receipt-payer');
    this.qr = page.getByTestId('receipt-qr').locator('svg');
    this.verifyUrl = page.getByTestId('receipt-verify-url');
    this.pdfLetter = page.getByTestId('receipt-pdf-letter');
    this.pdfTicket = page.getByTestId('receipt-pdf-ticket');
    this.demoBanner = page.getByTestId('demo-banner');
  }
}

/** The verification page anyone reaches from the QR code, `/v/{folio}?s=…`. */
export class VerifyPage {
  readonly verdict: Locator;
  readonly total: Locator;
  readonly account: Locator;

  constructor(readonly page: Page) {
    this.verdict = page.getByTestId('verdict');
    this.total = page.getByTestId('verified-total');
    this.account = page.getByTestId('verified-account');
  }
}

/** "Mis recibos", `/recibos`: a receipt found again by account, folio and total. */
export class MyReceiptsPage {
  readonly account: Locator;
  readonly folio: Locator;
  readonly total: Locator;
  readonly submit: Locator;
  readonly found: Locator;
  readonly open: Locator;
  readonly errorSummary: Locator;

  constructor(readonly page: Page) {
    this.account = page.getByLabel(/Número de cuenta/);
    this.folio = page.getByLabel(/Folio del recibo/);
    this.total = page.getByLabel(/Importe total pagado/);
    this.submit = page.getByTestId('receipts-submit');
    this.found = page.getByTestId('receipt-found');
    this.open = page.getByTestId('receipt-open');
    this.errorSummary = page.getByTestId('error-summary');
  }

  async goto(): Promise<void> {
    await this.page.goto('/recibos');
  }
}

/** The cashier desk's check, `/verificar`: QR link + printed facts, checked in the browser. */
export class CheckDeskPage {
  readonly url: Locator;
  readonly total: Locator;
  readonly date: Locator;
  readonly account: Locator;
  readonly live: Locator;
  readonly submit: Locator;

  constructor(readonly page: Page) {
    this.url = page.getByTestId('check-url');
    this.total = page.getByTestId('check-total');
    this.date = page.getByTestId('check-fecha');
    this.account = page.getByTestId('check-cuenta');
    this.live = page.getByTestId('check-live');
    this.submit = page.getByTestId('check-submit');
  }

  /** Opens the page and lets its WebAssembly load (the live check needs it). */
  async goto(): Promise<void> {
    await this.page.goto('/verificar');
    await this.page.waitForLoadState('networkidle');
  }
}
