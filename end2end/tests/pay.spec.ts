import { expect, test, type Page } from '@playwright/test';
import { PAY_ACCOUNTS } from './fixture-data';
import { lookupToCheckout } from './pages/flows';
import { phoneContext } from './pages/contexts';
import { LookupPage } from './pages/lookup-page';
import { DemoCheckoutPage, OrderPage } from './pages/order-page';

// Paying with the embedded demo provider (no Stripe key configured): lookup →
// "Pagar estos adeudos" → formato de pago → "Pagar en línea" → demo checkout
// → back on the order page. Every step is a real form POST answered with a
// 303, so it works with JavaScript disabled too. These accounts are used by
// no other spec: paying them changes nobody else's figures.

async function expectDebtGone(page: Page, account: string): Promise<void> {
  const order = new OrderPage(page);
  await order.lookupAgain.click();
  const lookup = new LookupPage(page);
  await expect(lookup.card(account).noDebts).toBeVisible();
  await expect(lookup.payThese).toHaveCount(0);
}

test('lookup → pay with the demo card → "Pago recibido" → the debt is gone', async ({ page }) => {
  const orderUrl = await lookupToCheckout(page, PAY_ACCOUNTS.card);
  await new DemoCheckoutPage(page).payCard.click();
  await expect(page).toHaveURL(orderUrl);
  const order = new OrderPage(page);
  await expect(order.paymentReceived).toContainText('Pago recibido');
  await expect(order.status).toHaveText('Pago recibido');
  await expect(order.payOnline).toHaveCount(0);
  await expectDebtGone(page, PAY_ACCOUNTS.card);
});

test('OXXO: the voucher leaves the payment in process until the cash arrives', async ({ page }) => {
  const orderUrl = await lookupToCheckout(page, PAY_ACCOUNTS.oxxo);
  const demoUrl = page.url();
  await new DemoCheckoutPage(page).oxxoPending.click();
  await expect(page).toHaveURL(orderUrl);
  const order = new OrderPage(page);
  await expect(order.paymentPending).toContainText('Pague en efectivo en cualquier tienda OXXO');
  await expect(order.oxxoVoucher).toHaveText(/^\d{10,}$/);
  // Valid until the end of the third day after today (2026-11-21), and
  // the order lives as long.
  await expect(order.payBefore).toHaveText('24/11/2026 23:59 h');
  await expect(order.amountToPay).toHaveText(/^\$[\d,]+\.\d{2}$/);
  await expect(order.expires).toContainText('24/11/2026 23:59 h');
  await expect(order.status).toHaveText('Pago en proceso');
  await expect(order.payOnline).toHaveCount(0);

  // Still owed while the voucher is unpaid.
  const lookup = new LookupPage(page);
  await lookup.goto({ cuenta: PAY_ACCOUNTS.oxxo });
  await expect(lookup.card(PAY_ACCOUNTS.oxxo).items).toHaveCount(1);

  // The cash arrives later.
  await page.goto(demoUrl);
  await new DemoCheckoutPage(page).oxxoPaid.click();
  await expect(page).toHaveURL(orderUrl);
  await expect(order.paymentReceived).toContainText('Pago recibido');
  await expectDebtGone(page, PAY_ACCOUNTS.oxxo);
});

test('the same payment with JavaScript disabled', async ({ browser }, testInfo) => {
  const context = await phoneContext(browser, testInfo, { javaScriptEnabled: false });
  try {
    const page = await context.newPage();
    const orderUrl = await lookupToCheckout(page, PAY_ACCOUNTS.noJs);
    await new DemoCheckoutPage(page).payCard.click();
    await expect(page).toHaveURL(orderUrl);
    await expect(new OrderPage(page).paymentReceived).toContainText('Pago recibido');
    await expectDebtGone(page, PAY_ACCOUNTS.noJs);
  } finally {
    await context.close();
  }
});
