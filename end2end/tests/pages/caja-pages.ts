import { expect, type Locator, type Page } from '@playwright/test';

/** The staff login (`/personal/entrar`). */
export class StaffLoginPage {
  constructor(private readonly page: Page) {}

  async logIn(user: string, password: string): Promise<void> {
    await this.page.goto('/personal/entrar');
    await this.page.getByLabel('Usuario').fill(user);
    await this.page.getByLabel('Contraseña').fill(password);
    await this.page.getByRole('button', { name: 'Entrar' }).click();
    await expect(this.page.getByTestId('staff-name')).toContainText(user);
  }
}

/** `/personal/caja`: open a till, or work the open one. */
export class TillPage {
  readonly openForm: Locator;
  readonly opened: Locator;
  readonly locked: Locator;
  readonly search: Locator;
  readonly startCorte: Locator;

  constructor(private readonly page: Page) {
    this.openForm = page.getByTestId('open-till');
    this.opened = page.getByTestId('till-open');
    this.locked = page.getByTestId('till-locked');
    this.search = page.getByTestId('window-q');
    this.startCorte = page.getByTestId('start-corte');
  }

  async goto(): Promise<void> {
    await this.page.goto('/personal/caja');
  }

  async open(till: string, float: string): Promise<void> {
    await this.openForm.getByLabel('Caja').selectOption(till);
    await this.page.getByTestId('opening-float').fill(float);
    await this.openForm.getByRole('button', { name: 'Abrir caja' }).click();
    await expect(this.opened).toContainText(`Caja ${till} abierta`);
  }

  /** Finds an account's debts and prepares the order of all of them. */
  async prepareOrder(account: string): Promise<void> {
    await this.search.fill(account);
    await this.search.press('Enter');
    await expect(this.page.getByTestId('window-charge').first()).toBeVisible();
    await this.page.getByTestId('make-window-order').click();
  }
}

/** `/personal/caja/orden/{token}`: the order and how it is paid. */
export class WindowOrderPage {
  readonly total: Locator;
  readonly tendered: Locator;
  readonly cash: Locator;
  readonly take: Locator;
  readonly error: Locator;

  constructor(page: Page) {
    this.total = page.getByTestId('window-total');
    this.tendered = page.getByTestId('tendered');
    this.cash = page.getByTestId('method-cash');
    this.take = page.getByTestId('take-payment');
    this.error = page.getByTestId('caja-error');
  }
}

/** `/personal/caja/recibo/{folio}`: the change, the ticket, the receipt. */
export class WindowReceiptPage {
  readonly folio: Locator;
  readonly change: Locator;
  readonly ticket: Locator;
  readonly receipt: Locator;
  readonly next: Locator;

  constructor(page: Page) {
    this.folio = page.getByTestId('window-folio');
    this.change = page.getByTestId('change-due');
    this.ticket = page.getByTestId('print-ticket');
    this.receipt = page.getByTestId('open-receipt');
    this.next = page.getByTestId('next-payment');
  }
}

/** `/personal/caja/verificar`: the scanner's field and the verdict. */
export class DeskPage {
  readonly input: Locator;
  readonly verdict: Locator;
  readonly redeem: Locator;
  readonly note: Locator;
  readonly redeemed: Locator;

  constructor(private readonly page: Page) {
    this.input = page.getByTestId('desk-input');
    this.verdict = page.getByTestId('desk-verdict');
    this.redeem = page.getByTestId('redeem');
    this.note = page.getByTestId('desk-note');
    this.redeemed = page.getByTestId('desk-redeemed');
  }

  async goto(): Promise<void> {
    await this.page.goto('/personal/caja/verificar');
  }

  /** Types a URL the way a USB scanner does: the characters, then Enter. */
  async scan(url: string): Promise<void> {
    await this.input.fill('');
    await this.input.pressSequentially(url, { delay: 2 });
    await this.input.press('Enter');
  }
}

/** `/personal/caja/corte`: the blind count. */
export class CountPage {
  readonly form: Locator;

  constructor(private readonly page: Page) {
    this.form = page.getByTestId('count-form');
  }

  /** Pieces per denomination in centavos (e.g. `{ 50000: 1 }` is one $500 note). */
  async count(pieces: Record<number, number>): Promise<void> {
    for (const [centavos, n] of Object.entries(pieces)) {
      await this.page.getByTestId(`count-${centavos}`).fill(String(n));
    }
    await this.page.getByTestId('submit-count').click();
  }
}

/** `/personal/caja/corte/{id}`: expected against counted; the approval. */
export class CortePage {
  readonly verdict: Locator;
  readonly state: Locator;
  readonly folios: Locator;
  readonly approve: Locator;
  readonly pdf: Locator;

  constructor(page: Page) {
    this.verdict = page.getByTestId('corte-verdict');
    this.state = page.getByTestId('corte-state');
    this.folios = page.getByTestId('corte-folios');
    this.approve = page.getByTestId('approve-corte');
    this.pdf = page.getByTestId('corte-pdf');
  }
}

/** `/personal/tesoreria/exportar`: the accounting export. */
export class ExportPage {
  readonly balance: Locator;
  readonly lines: Locator;
  readonly folios: Locator;
  readonly csv: Locator;

  constructor(private readonly page: Page) {
    this.balance = page.getByTestId('export-balance');
    this.lines = page.getByTestId('export-line');
    this.folios = page.getByTestId('export-folios');
    this.csv = page.getByTestId('export-csv');
  }

  async goto(day: string): Promise<void> {
    await this.page.goto(`/personal/tesoreria/exportar?desde=${day}&hasta=${day}`);
  }
}
