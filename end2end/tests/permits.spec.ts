import { expect, test } from '@playwright/test';
import { DeskPage, StaffLoginPage } from './pages/caja-pages';
import { phoneContext } from './pages/contexts';
import { DemoCheckoutPage, OrderPage } from './pages/order-page';
import { pdfFile, RequestFormPage, RequestPage, ReviewPage } from './pages/permit-pages';

// An advertising permit from the citizen's phone with JavaScript off to the
// cashier's desk: the citizen requests it from the catalogue with a PDF,
// a revisora asks for a correction, the citizen fixes it, the revisora
// approves, the citizen pays with the demonstration provider and downloads
// the permit, and the desk verifies its QR code and hands it over once.
// The staff accounts are created by .ci/test before the server starts.

const PASSWORD = process.env.RECAUDA_E2E_STAFF_PASSWORD ?? '';

test('an advertising permit: request, correction, approval, payment, permit, desk', async ({ browser }, testInfo) => {
  expect(PASSWORD, 'RECAUDA_E2E_STAFF_PASSWORD (set by .ci/test)').not.toBe('');
  const citizenContext = await phoneContext(browser, testInfo, { javaScriptEnabled: false });
  const staffContext = await phoneContext(browser, testInfo);
  try {
    const citizen = await citizenContext.newPage();
    const staff = await staffContext.newPage();

    // 1. From the catalogue to the form; the live quote: 1.5 × 2 m = 3 m² × 1 UMA ($117.31).
    await citizen.goto('/tramites/anuncios');
    await citizen.getByTestId('request-link').click();
    const form = new RequestFormPage(citizen);
    await expect(form.form).toBeVisible();
    await form.fill({
      tariff: 'ANU-II-A',
      starts: '2026-11-23',
      ends: '2026-12-07',
      width: '1.5',
      height: '2',
      location: 'Calle Salvatierra 12, Centro',
      name: 'Panadería La Espiga',
      email: 'espiga@ejemplo.mx',
    });
    await form.quote();
    await expect(form.quoteTotal).toHaveText('$351.93');
    // A file that is not a PDF, JPEG or PNG is refused by its content.
    await form.attach('medidas', { name: 'medidas.pdf', mimeType: 'application/pdf', buffer: Buffer.from('<html></html>') });
    await form.submit();
    await expect(form.errorSummary).toContainText('no es un PDF, JPEG ni PNG');
    await form.attach('medidas', pdfFile('medidas.pdf', 'medidas del anuncio'));
    await form.submit();

    const request = new RequestPage(citizen);
    await request.expectLoaded();
    await expect(request.status).toHaveText('Enviada');
    const number = (await request.number.textContent()) ?? '';
    const requestUrl = citizen.url().split('?')[0];

    // 2. The revisora asks for a correction.
    await new StaffLoginPage(staff).logIn('revisora.e2e', PASSWORD);
    const review = new ReviewPage(staff);
    await review.open(number);
    await expect(review.clock).toContainText('días hábiles');
    await review.askCorrection('Indique la altura del anuncio sobre la banqueta.');

    // 3. The citizen sees why and sends the corrected document.
    await citizen.goto(requestUrl);
    await expect(request.status).toHaveText('Requiere corrección');
    await expect(request.timeline).toContainText('Indique la altura del anuncio sobre la banqueta.');
    await citizen.getByTestId('upload-medidas').setInputFiles(pdfFile('medidas-corregidas.pdf', 'con altura'));
    await citizen.getByTestId('resubmit').click();
    await expect(request.notice).toContainText('Correcciones enviadas');
    await expect(request.status).toHaveText('Enviada');

    // 4. The revisora approves.
    await review.open(number);
    await review.approve();

    // 5. The citizen pays with the demonstration provider and gets the permit.
    await citizen.goto(requestUrl);
    await expect(request.status).toHaveText('Aprobada – por pagar');
    await request.pay.click();
    const order = new OrderPage(citizen);
    await order.expectLoaded();
    await order.payOnline.click();
    const demo = new DemoCheckoutPage(citizen);
    await demo.expectLoaded();
    await demo.payCard.click();
    await expect(order.paymentReceived).toContainText('Pago recibido');
    await citizen.goto(requestUrl);
    await expect(request.status).toHaveText('Expedida');
    await expect(request.permitFolio).toHaveText(/^PDEM-2026-\d{6}$/);
    const pdf = await citizen.request.get((await request.permitPdf.getAttribute('href')) ?? '');
    expect(pdf.status()).toBe(200);
    expect(pdf.headers()['content-type']).toBe('application/pdf');
    expect((await pdf.body()).subarray(0, 5).toString()).toBe('%PDF-');
    const permitUrl = await request.permitUrl();
    expect(permitUrl).toMatch(/\/p\/PDEM-2026-\d{6}\?s=/);

    // 6. The cashier desk checks the QR code's URL and hands the permit over once.
    const deskContext = await phoneContext(browser, testInfo);
    try {
      const deskPage = await deskContext.newPage();
      await new StaffLoginPage(deskPage).logIn('cajera.tel', PASSWORD);
      const desk = new DeskPage(deskPage);
      await desk.goto();
      await desk.scan(permitUrl);
      await expect(desk.verdict).toContainText('Permiso de demostración');
      await expect(deskPage.getByTestId('desk-permit-measure')).toHaveText('3 m²');
      await desk.redeem.click();
      await expect(desk.note).toContainText('el permiso quedó canjeado');
      await desk.scan(permitUrl);
      await expect(desk.redeemed).toContainText('Canjeado');
      await expect(desk.redeem).toHaveCount(0);
    } finally {
      await deskContext.close();
    }
  } finally {
    await citizenContext.close();
    await staffContext.close();
  }
});
