import { expect, test } from '@playwright/test';
import { PAY_ACCOUNTS, PAY_TOTAL } from './fixture-data';
import { phoneContext } from './pages/contexts';
import { lookupToCheckout } from './pages/flows';
import { money } from './pages/money';
import { DemoCheckoutPage, OrderPage } from './pages/order-page';
import { CheckDeskPage, MyReceiptsPage, ReceiptPage, VerifyPage } from './pages/receipt-pages';

// The receipt of a payment through the demonstration provider (the only
// provider of the e2e server): opened from the success page, verified by
// following its QR code's URL — genuinely signed, and called what it is,
// "demostración — sin validez" —, then with its signature altered
// (forgery). Then found again in "mis recibos" with JavaScript disabled.
// P-000904 is paid by this spec only. (Receipts of real online payments
// read "auténtico": server/tests/it/receipts.rs.)

test('pay → receipt → its verification URL says "demostración — sin validez"; an altered code says forged', async ({ page, request }) => {
  await lookupToCheckout(page, PAY_ACCOUNTS.receipt);
  await new DemoCheckoutPage(page).payCard.click();
  const order = new OrderPage(page);
  await expect(order.paymentReceived).toContainText('Pago recibido');
  await expect(order.receiptFolio).toHaveText(/^DEMO-2026-\d{6}$/);
  const folio = (await order.receiptFolio.textContent())!.trim();

  await order.openReceipt.click();
  const receipt = new ReceiptPage(page);
  await expect(receipt.folio).toHaveText(folio);
  await expect(receipt.total).toHaveText(money(PAY_TOTAL.total));
  const printedTotal = (await receipt.total.textContent())!.trim();
  await expect(receipt.words).toHaveText('DOSCIENTOS TRES PESOS 00/100 M.N.');
  await expect(receipt.payer).toHaveText('Jorge Meza Cota');
  await expect(receipt.qr).toBeVisible();
  await expect(receipt.demoBanner).toContainText('sin validez');

  // The PDFs download.
  for (const link of [receipt.pdfLetter, receipt.pdfTicket]) {
    const response = await request.get((await link.getAttribute('href'))!);
    expect(response.status()).toBe(200);
    expect(response.headers()['content-type']).toBe('application/pdf');
    expect((await response.body()).subarray(0, 5).toString()).toBe('%PDF-');
  }

  // What the QR code holds, as a phone camera would open it.
  const url = (await receipt.verifyUrl.textContent())!.trim();
  expect(url).toMatch(new RegExp(`/v/${folio}\\?s=[0-9a-f]{8}\\.[A-Za-z0-9_-]{86}$`));
  const path = url.slice(url.indexOf('/v/'));
  await page.goto(path);
  const verify = new VerifyPage(page);
  await expect(verify.verdict).toHaveAttribute('data-verdict', 'demo');
  await expect(verify.verdict).toContainText('Recibo de demostración — sin validez');
  await expect(verify.total).toHaveText(money(PAY_TOTAL.total));
  await expect(verify.account).toHaveText(PAY_ACCOUNTS.receipt);
  await expect(verify.verdict).toContainText('J**** M*** C***');

  // One character in the middle of the signature changed (every bit of it
  // carries data; the last character of 86 also carries padding bits).
  const at = path.lastIndexOf('.') + 40;
  const altered = path.slice(0, at) + (path[at] === 'A' ? 'B' : 'A') + path.slice(at + 1);
  expect(altered).not.toBe(path);
  await page.goto(altered);
  await expect(verify.verdict).toHaveAttribute('data-verdict', 'forged');
  await expect(verify.verdict).toContainText('Recibo alterado o falso');
  await expect(verify.total).toHaveCount(0);

  // Found again later in "mis recibos" with the account, the folio and the
  // total as printed; the account and the folio alone open nothing.
  const mine = new MyReceiptsPage(page);
  await mine.goto();
  await mine.account.fill(PAY_ACCOUNTS.receipt);
  await mine.folio.fill(folio.toLowerCase());
  await mine.submit.click();
  await expect(mine.errorSummary).toContainText('Escriba el importe total del recibo.');
  await expect(mine.found).toHaveCount(0);
  await mine.total.fill(printedTotal);
  await mine.submit.click();
  await expect(mine.found).toContainText(folio);
  await mine.open.click();
  await expect(receipt.folio).toHaveText(folio);

  // The cashier desk checks the QR against the printed facts in the
  // browser: once the page is loaded, with the network cut.
  const desk = new CheckDeskPage(page);
  await desk.goto();
  await page.context().setOffline(true);
  try {
    // (Typed again until the island has hydrated: typing before that is
    // plain HTML, which the form would still send to the server.)
    await expect(async () => {
      await desk.url.fill(url);
      await desk.total.fill('$203.00');
      await desk.date.fill('21/11/2026');
      await desk.account.fill(PAY_ACCOUNTS.receipt);
      // "demo" needs a signature that checks: the check ran, offline.
      await expect(desk.live).toHaveAttribute('data-verdict', 'demo', { timeout: 1000 });
    }).toPass({ timeout: 15000 });
    await expect(desk.live).toHaveText('Recibo de demostración — sin validez: no se pagó dinero real.');
    await expect(desk.live).toHaveAttribute('data-authentic', 'false');
    await desk.total.fill('$2,003.00');
    await expect(desk.live).toHaveAttribute('data-verdict', 'invalid');
    await expect(desk.live).toContainText('La firma no corresponde');
  } finally {
    await page.context().setOffline(false);
  }
});

test('"mis recibos" finds the receipt again without JavaScript', async ({ browser }, testInfo) => {
  const context = await phoneContext(browser, testInfo, { javaScriptEnabled: false });
  try {
    const page = await context.newPage();
    const mine = new MyReceiptsPage(page);
    await mine.goto();
    await mine.account.fill(PAY_ACCOUNTS.card);
    await mine.folio.fill('A-2026-1');
    await mine.submit.click();
    await expect(mine.errorSummary).toContainText('6 dígitos');
    await expect(mine.found).toHaveCount(0);

    // The receipt of the first spec's payment (whichever folio it got) is
    // not this account's: nothing is shown.
    await mine.account.fill('P-000101');
    await mine.folio.fill('A-2026-000001');
    await mine.total.fill('100.00');
    await mine.submit.click();
    await expect(mine.errorSummary).toContainText('No encontramos un recibo con esos datos');
  } finally {
    await context.close();
  }
});
