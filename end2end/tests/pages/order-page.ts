import { expect, type Locator, type Page } from '@playwright/test';

/** The payment order page, `/orden/{token}` (the printable "formato de pago"). */
export class OrderPage {
  readonly order: Locator;
  readonly reference: Locator;
  readonly status: Locator;
  readonly total: Locator;
  readonly rounding: Locator;
  readonly expires: Locator;
  readonly items: Locator;
  readonly payOnline: Locator;
  readonly requote: Locator;
  readonly paymentReceived: Locator;
  readonly paymentPending: Locator;
  readonly oxxoVoucher: Locator;
  readonly payBefore: Locator;
  readonly amountToPay: Locator;
  readonly lookupAgain: Locator;
  readonly openReceipt: Locator;
  readonly receiptFolio: Locator;

  constructor(readonly page: Page) {
    this.order = page.getByTestId('order');
    this.reference = page.getByTestId('order-reference');
    this.status = page.getByTestId('order-status');
    this.total = page.getByTestId('order-total');
    this.rounding = page.getByTestId('order-rounding');
    this.expires = page.getByTestId('order-expires');
    this.items = page.getByTestId('order-item');
    this.payOnline = page.getByTestId('pay-online');
    this.requote = page.getByTestId('requote');
    this.paymentReceived = page.getByTestId('payment-received');
    this.paymentPending = page.getByTestId('payment-pending');
    this.oxxoVoucher = page.getByTestId('oxxo-voucher');
    this.payBefore = page.getByTestId('pay-before');
    this.amountToPay = page.getByTestId('amount-to-pay');
    this.lookupAgain = page.getByTestId('lookup-again');
    this.openReceipt = page.getByTestId('open-receipt');
    this.receiptFolio = page.getByTestId('receipt-folio-link');
  }

  /** We are on an order page (the order's 32-hex-digit token in the URL, never its reference). */
  async expectLoaded(): Promise<void> {
    await expect(this.page).toHaveURL(/\/orden\/[0-9a-f]{32}$/);
    await expect(this.order).toBeVisible();
  }
}

/** The embedded demo provider's checkout, `/prueba/pago/{token}`. */
export class DemoCheckoutPage {
  readonly banner: Locator;
  readonly total: Locator;
  readonly payCard: Locator;
  readonly decline: Locator;
  readonly oxxoPending: Locator;
  readonly oxxoPaid: Locator;

  constructor(readonly page: Page) {
    this.banner = page.getByTestId('demo-banner');
    this.total = page.getByTestId('demo-total');
    this.payCard = page.getByTestId('demo-pagar');
    this.decline = page.getByTestId('demo-rechazar');
    this.oxxoPending = page.getByTestId('demo-oxxo');
    this.oxxoPaid = page.getByTestId('demo-oxxo-pagado');
  }

  async expectLoaded(): Promise<void> {
    await expect(this.page).toHaveURL(/\/prueba\/pago\/[0-9a-f]{32}$/);
    await expect(this.banner).toContainText('MODO DE PRUEBA');
    await expect(this.banner).toContainText('no se cobra dinero real');
  }
}
