import { expect, type Locator, type Page, type Response } from '@playwright/test';
import type { ExpectedAccount, ExpectedTotals } from '../fixture-data';
import { money } from './money';

/** One charge row (`debt-item`) of an account card. */
export class DebtItemRow {
  readonly concept: Locator;
  readonly period: Locator;
  readonly dueDate: Locator;
  readonly principal: Locator;
  readonly recargos: Locator;
  readonly discount: Locator;
  readonly discountDetails: Locator;
  readonly total: Locator;

  constructor(readonly root: Locator) {
    this.concept = root.getByTestId('item-concept');
    this.period = root.getByTestId('item-period');
    this.dueDate = root.getByTestId('item-due-date');
    this.principal = root.getByTestId('item-principal');
    this.recargos = root.getByTestId('item-recargos');
    this.discount = root.getByTestId('item-discount');
    this.discountDetails = root.getByTestId('discount-detail');
    this.total = root.getByTestId('item-total');
  }
}

/** One account of a lookup result (`account-card`, `data-account="<number>"`). */
export class AccountCard {
  readonly ownerName: Locator;
  readonly items: Locator;
  readonly noDebts: Locator;

  constructor(readonly root: Locator) {
    this.ownerName = root.getByTestId('owner-name');
    this.items = root.getByTestId('debt-item');
    this.noDebts = root.getByTestId('no-debts');
  }

  /** The masked owner, possibly followed by the person kind ("M**** P*** N**** (Persona física)"). */
  async expectMaskedOwner(masked: string): Promise<void> {
    const escaped = masked.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    await expect(this.ownerName).toHaveText(new RegExp(`^\\s*${escaped}(?!\\S)`));
  }

  item(index: number): DebtItemRow {
    return new DebtItemRow(this.items.nth(index));
  }

  /** Every row, in the order of the padrón fixture (by due date), with exact figures. */
  async expectItems(expected: ExpectedAccount): Promise<void> {
    await expect(this.items).toHaveCount(expected.items.length);
    for (const [i, want] of expected.items.entries()) {
      const row = this.item(i);
      await expect(row.concept, `concept of item ${i} of ${expected.number}`).toHaveText(want.concept);
      await expect(row.period).toContainText(want.period);
      await expect(row.dueDate).toContainText(want.dueYear);
      await expect(row.dueDate).toContainText(want.dueDay);
      if (want.monthsLate > 0) {
        await expect(row.dueDate, `months late of item ${i} of ${expected.number}`).toContainText(
          new RegExp(`\\(${want.monthsLate}\\s`),
        );
      } else {
        await expect(row.dueDate).not.toContainText('(');
      }
      await expect(row.principal, `principal of item ${i} of ${expected.number}`).toHaveText(money(want.principal));
      await expect(row.recargos, `recargos of item ${i} of ${expected.number}`).toHaveText(money(want.recargos));
      if (want.discount) {
        await expect(row.discount, `discount of item ${i} of ${expected.number}`).toHaveText(money(want.discount));
      } else {
        // Loreto's discount programs never touch basura nor licencia_comercial.
        await expect(row.discount).not.toHaveText(/[1-9]/);
        await expect(row.discountDetails).toHaveCount(0);
      }
      await expect(row.total, `total of item ${i} of ${expected.number}`).toHaveText(money(want.total));
    }
  }
}

/** The lookup page, `/consulta`, with its two GET forms and the result. */
export class LookupPage {
  readonly accountInput: Locator;
  readonly accountSubmit: Locator;
  readonly rfcInput: Locator;
  readonly rfcSubmit: Locator;
  readonly errorSummary: Locator;
  readonly rfcCheckHint: Locator;
  readonly accountCards: Locator;
  readonly roundingLine: Locator;
  readonly grandTotal: Locator;
  readonly rateLimited: Locator;
  readonly langSwitch: Locator;
  readonly payForm: Locator;
  readonly payThese: Locator;
  readonly chargeCheckboxes: Locator;

  constructor(readonly page: Page) {
    this.accountInput = page.getByTestId('lookup-account-input');
    this.accountSubmit = page.getByTestId('lookup-account-submit');
    this.rfcInput = page.getByTestId('lookup-rfc-input');
    this.rfcSubmit = page.getByTestId('lookup-rfc-submit');
    this.errorSummary = page.getByTestId('error-summary');
    this.rfcCheckHint = page.getByTestId('rfc-check-hint');
    this.accountCards = page.getByTestId('account-card');
    this.roundingLine = page.getByTestId('rounding-line');
    this.grandTotal = page.getByTestId('grand-total');
    this.rateLimited = page.getByTestId('rate-limited');
    this.langSwitch = page.getByTestId('lang-switch');
    this.payForm = page.getByTestId('pay-form');
    this.payThese = page.getByTestId('pay-these');
    this.chargeCheckboxes = page.getByTestId('charge-checkbox');
  }

  /** Opens `/consulta`, optionally with a query (`{ cuenta: 'P-000101' }`). */
  async goto(query: Record<string, string> = {}): Promise<Response | null> {
    const qs = new URLSearchParams(query).toString();
    return this.page.goto(qs ? `/consulta?${qs}` : '/consulta');
  }

  card(account: string): AccountCard {
    return new AccountCard(this.page.locator(`[data-testid="account-card"][data-account="${account}"]`));
  }

  /** Types an account number and submits its form, then waits for the answer. */
  async lookupByAccount(account: string): Promise<void> {
    await this.accountInput.fill(account);
    await this.accountSubmit.click();
    await this.waitForAnswer();
  }

  /** Types an RFC and submits its form, then waits for the answer. */
  async lookupByRfc(rfc: string): Promise<void> {
    await this.rfcInput.fill(rfc);
    await this.rfcSubmit.click();
    await this.waitForAnswer();
  }

  /** A lookup answers with accounts or with an error summary. */
  async waitForAnswer(): Promise<void> {
    await expect(this.accountCards.first().or(this.errorSummary)).toBeVisible();
  }

  async expectTotals(totals: ExpectedTotals): Promise<void> {
    await expect(this.grandTotal).toHaveText(money(totals.total));
    if (totals.rounding !== '0.00') {
      await expect(this.roundingLine).toHaveText(money(totals.rounding));
      await expect(this.roundingLine).toContainText(/redondeo|rounding/i);
    } else {
      // Either no line at all or a zero adjustment.
      if ((await this.roundingLine.count()) > 0) {
        await expect(this.roundingLine).toHaveText(money('0.00'));
      }
    }
  }
}
