import { expect, test, type Page } from '@playwright/test';
import { phoneContext } from './pages/contexts';
import { DemoCheckoutPage, OrderPage } from './pages/order-page';
import { RequestPage } from './pages/permit-pages';

// An alcohol licence's refrendo on a phone with JavaScript off: the business
// (fixtures/licencias.csv: ALC-E2E-0001, a cantina) is told to pay its
// overdue predial first (fixtures/padron.csv: P-000501), pays it, renews
// straight to payment (nothing changed), pays the refrendo and downloads the
// renewed licence's certificate.

const LICENCE = 'ALC-E2E-0001';
const RFC = 'CLG150610RT4';

async function payOrderWithDemo(page: Page): Promise<void> {
  const order = new OrderPage(page);
  await order.expectLoaded();
  await order.payOnline.click();
  const demo = new DemoCheckoutPage(page);
  await demo.expectLoaded();
  await demo.payCard.click();
  await expect(order.paymentReceived).toContainText('Pago recibido');
}

async function openLicence(page: Page): Promise<void> {
  await page.goto('/licencias');
  await page.getByTestId('field-licencia').fill(LICENCE);
  await page.getByTestId('field-rfc').fill(RFC);
  await page.getByTestId('licence-lookup-submit').click();
  await expect(page.getByTestId('licence-number')).toHaveText(LICENCE);
}

test('alcohol licence: pay the predial first, renew, pay, download the certificate', async ({ browser }, testInfo) => {
  const context = await phoneContext(browser, testInfo, { javaScriptEnabled: false });
  try {
    const page = await context.newPage();

    // 1. The licence, this year's fee for a cantina (100 UMA × $117.31), and what blocks it.
    await openLicence(page);
    await expect(page.getByTestId('renewal-fee')).toContainText('$11,731.00');
    await expect(page.getByTestId('licence-debt')).toHaveCount(1);
    await expect(page.getByTestId('licence-debt')).toContainText('P-000501');
    await expect(page.getByTestId('renewal-form')).toHaveCount(0);

    // 2. It pays the predial from the link the page gives.
    await page.getByTestId('licence-debt-link').click();
    await expect(page).toHaveURL(/\/consulta\?cuenta=P-000501/);
    await page.getByTestId('pay-these').click();
    await payOrderWithDemo(page);

    // 3. Now it renews: nothing changed, so straight to payment.
    await openLicence(page);
    await expect(page.getByTestId('licence-debt')).toHaveCount(0);
    await page.getByTestId('renewal-form').getByTestId('field-correo').fill('giganta@ejemplo.mx');
    await page.getByTestId('renewal-submit').click();
    const request = new RequestPage(page);
    await request.expectLoaded();
    await expect(request.status).toHaveText('Aprobada – por pagar');
    await request.pay.click();
    await payOrderWithDemo(page);

    // 4. The renewed licence's certificate.
    await openLicence(page);
    await page.getByTestId('renewal-link').click();
    await expect(request.status).toHaveText('Expedida');
    await expect(request.permitFolio).toHaveText(/^PDEM-2026-\d{6}$/);
    const pdf = await page.request.get((await request.permitPdf.getAttribute('href')) ?? '');
    expect(pdf.status()).toBe(200);
    expect(pdf.headers()['content-type']).toBe('application/pdf');
    expect((await pdf.body()).subarray(0, 5).toString()).toBe('%PDF-');
  } finally {
    await context.close();
  }
});
