import { expect, test, type Browser, type BrowserContext, type Page, type TestInfo } from '@playwright/test';
import { TODAY } from './fixture-data';
import {
  CortePage,
  CountPage,
  DeskPage,
  ExportPage,
  StaffLoginPage,
  TillPage,
  WindowOrderPage,
  WindowReceiptPage,
} from './pages/caja-pages';
import { phoneContext } from './pages/contexts';
import { money } from './pages/money';

// The cashier office, on a phone and on a desktop: a cajera logs in, opens
// her till with a float, takes a cash payment with change, prints the
// ticket, checks the receipt at the desk by typing its URL as a scanner
// would ("auténtico"), hands it over once (a second window trying the same
// receipt is refused), counts her till blind and it balances; a tesorera
// approves the corte and the accounting export shows the payment.
//
// Accounts P-000951 (phone, till C1) and P-000952 (desktop, till C2) are
// paid by this spec only: basura 2026-11, $250.00 due 2026-11-30, not late.
// The staff accounts are created by .ci/test before the server starts.

const PASSWORD = process.env.RECAUDA_E2E_STAFF_PASSWORD ?? '';

interface Device {
  name: string;
  cajera: string;
  till: string;
  account: string;
  context: (browser: Browser, testInfo: TestInfo) => Promise<BrowserContext>;
}

const DESKTOP = {
  viewport: { width: 1366, height: 900 },
  deviceScaleFactor: 1,
  isMobile: false,
  hasTouch: false,
  userAgent:
    'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0.0.0 Safari/537.36',
};

const DEVICES: Device[] = [
  {
    name: 'phone',
    cajera: 'cajera.tel',
    till: 'C1',
    account: 'P-000951',
    context: (browser, testInfo) => phoneContext(browser, testInfo),
  },
  {
    name: 'desktop',
    cajera: 'cajera.esc',
    till: 'C2',
    account: 'P-000952',
    context: (browser, testInfo) => phoneContext(browser, testInfo, DESKTOP),
  },
];

async function pdfOf(page: Page, href: string): Promise<void> {
  const response = await page.request.get(href);
  expect(response.status()).toBe(200);
  expect(response.headers()['content-type']).toBe('application/pdf');
  expect((await response.body()).subarray(0, 5).toString()).toBe('%PDF-');
}

for (const device of DEVICES) {
  test(`caja on a ${device.name}: cash with change, ticket, desk, blind corte, approval, export`, async ({ browser }, testInfo) => {
    expect(PASSWORD, 'RECAUDA_E2E_STAFF_PASSWORD (set by .ci/test)').not.toBe('');
    const context = await device.context(browser, testInfo);
    const page = await context.newPage();

    // 1. The cajera logs in.
    await new StaffLoginPage(page).logIn(device.cajera, PASSWORD);

    // 2. She opens her till with $500 and takes $300 in cash for $250.
    await page.getByTestId('go-till').click();
    const till = new TillPage(page);
    await till.open(device.till, '500');
    await till.prepareOrder(device.account);
    const order = new WindowOrderPage(page);
    await expect(order.total).toHaveText(money('250.00'));
    await expect(order.cash).toBeChecked();
    await order.tendered.fill('200');
    await order.take.click();
    await expect(order.error).toContainText('es menor que el total');
    await order.tendered.fill('300');
    await order.take.click();
    const paid = new WindowReceiptPage(page);
    await expect(paid.folio).toHaveText(`${device.till}-2026-000001`);
    await expect(paid.change).toContainText(money('50.00'));

    // 3. The ticket prints (the 80 mm PDF).
    await pdfOf(page, (await paid.ticket.getAttribute('href'))!);

    // 4. At the desk, the receipt's URL typed as a scanner types it.
    const receiptHref = (await paid.receipt.getAttribute('href'))!;
    const verifyUrl = new URL(receiptHref.replace('/recibo/', '/v/'), page.url()).toString();
    const desk = new DeskPage(page);
    await desk.goto();
    await desk.scan(verifyUrl);
    await expect(desk.verdict).toHaveAttribute('data-verdict', 'authentic');
    await expect(desk.verdict).toContainText('auténtico');
    await expect(desk.verdict).toContainText(money('250.00'));

    // A second window at another desk has the same receipt open.
    const other = await context.newPage();
    const otherDesk = new DeskPage(other);
    await otherDesk.goto();
    await otherDesk.scan(verifyUrl);
    await expect(otherDesk.redeem).toBeVisible();

    // 5. Handed over once; the other window's try is refused.
    await desk.redeem.click();
    await expect(desk.note).toContainText('Entregado');
    await otherDesk.redeem.click();
    await expect(otherDesk.note).toContainText('YA SE CANJEÓ');
    await other.close();
    await desk.scan(verifyUrl);
    await expect(desk.redeemed).toContainText('Canjeado el');
    await expect(desk.redeem).toHaveCount(0);

    // 6. The blind corte: $500 + $250 = $750 in one $500, one $200 and one $50 note.
    await till.goto();
    await till.startCorte.click();
    const count = new CountPage(page);
    await expect(count.form).toBeVisible();
    await expect(count.form).not.toContainText('750');
    await count.count({ 50000: 1, 20000: 1, 5000: 1 });
    const corte = new CortePage(page);
    await expect(corte.verdict).toHaveAttribute('data-balanced', 'true');
    await expect(corte.verdict).toContainText('sin diferencia');
    await expect(corte.folios).toContainText(`${device.till}-2026-000001`);
    await expect(corte.state).toContainText('espera el visto bueno');
    const cortePath = new URL(page.url()).pathname;
    await till.goto();
    await expect(till.locked).toBeVisible();
    await context.close();

    // 7. The tesorera approves it; the corte prints; the export shows the payment.
    const treasury = await device.context(browser, testInfo);
    const tesorera = await treasury.newPage();
    await new StaffLoginPage(tesorera).logIn('tesorera.e2e', PASSWORD);
    await tesorera.getByTestId('go-cortes').click();
    await tesorera.locator(`a[href="${cortePath}"]`).first().click();
    const approving = new CortePage(tesorera);
    await approving.approve.click();
    await expect(approving.state).toContainText('Corte aprobado por tesorera.e2e');
    await pdfOf(tesorera, (await approving.pdf.getAttribute('href'))!);

    const exported = new ExportPage(tesorera);
    await exported.goto(TODAY);
    await expect(exported.balance).toContainText('Cuadra');
    await expect(exported.lines.filter({ hasText: 'ventanilla' }).first()).toBeVisible();
    await expect(exported.folios.filter({ hasText: `Serie ${device.till} 2026` })).toContainText(
      `${device.till}-2026-000001`,
    );
    const csv = await tesorera.request.get((await exported.csv.getAttribute('href'))!);
    expect(csv.status()).toBe(200);
    expect(await csv.text()).toContain(`${device.till}-2026-000001`);
    await treasury.close();
  });
}
