import { expect, test } from '@playwright/test';
import { MARIA, P_000101, TOTALS } from './fixture-data';
import { phoneContext } from './pages/contexts';
import { LookupPage } from './pages/lookup-page';

// The lookup must work on any phone: the forms are real GET forms answered by
// the server, so neither JavaScript nor the wasm is needed to see a debt.

test.describe('without JavaScript', () => {
  test('lookup by account with JavaScript disabled', async ({ browser }, testInfo) => {
    const context = await phoneContext(browser, testInfo, { javaScriptEnabled: false });
    try {
      const page = await context.newPage();
      const lookup = new LookupPage(page);
      const response = await lookup.goto();
      expect(response?.status()).toBe(200);

      await lookup.accountInput.fill(P_000101.number);
      const [navigation] = await Promise.all([
        page.waitForResponse((r) => r.url().includes('/consulta?') && r.request().isNavigationRequest()),
        lookup.accountSubmit.click(),
      ]);
      expect(navigation.status()).toBe(200);
      await expect(page).toHaveURL(new RegExp(`/consulta\\?(.*&)?cuenta=${P_000101.number}`));
      await lookup.card(P_000101.number).expectItems(P_000101);
      await lookup.expectTotals(TOTALS['P-000101']);
    } finally {
      await context.close();
    }
  });

  test('lookup by RFC with JavaScript disabled', async ({ browser }, testInfo) => {
    const context = await phoneContext(browser, testInfo, { javaScriptEnabled: false });
    try {
      const page = await context.newPage();
      const lookup = new LookupPage(page);
      await lookup.goto();
      await lookup.rfcInput.fill(MARIA.rfc);
      await lookup.rfcSubmit.click();
      await expect(page).toHaveURL(new RegExp(`rfc=${MARIA.rfc}`));
      await expect(lookup.accountCards).toHaveCount(2);
      await lookup.expectTotals(TOTALS[MARIA.rfc]);
    } finally {
      await context.close();
    }
  });

  test('error summary with JavaScript disabled', async ({ browser }, testInfo) => {
    const context = await phoneContext(browser, testInfo, { javaScriptEnabled: false });
    try {
      const page = await context.newPage();
      const lookup = new LookupPage(page);
      const response = await lookup.goto({ rfc: 'ABC123' });
      expect(response?.status()).toBe(400);
      await expect(lookup.errorSummary).toBeVisible();
      await expect(lookup.errorSummary).toContainText(/RFC inválido/);
    } finally {
      await context.close();
    }
  });
});

test('the lookup form works when the wasm never arrives', async ({ browser }, testInfo) => {
  const context = await phoneContext(browser, testInfo);
  try {
    let blocked = 0;
    await context.route('**/*.wasm', (route) => {
      blocked += 1;
      return route.abort();
    });
    const page = await context.newPage();
    const lookup = new LookupPage(page);
    await lookup.goto();
    await page.waitForLoadState('networkidle');

    await lookup.accountInput.fill(P_000101.number);
    await lookup.accountSubmit.click();
    await expect(page).toHaveURL(new RegExp(`cuenta=${P_000101.number}`));
    await lookup.card(P_000101.number).expectItems(P_000101);
    await lookup.expectTotals(TOTALS['P-000101']);
    // The page did ask for its wasm, and got nothing: the form above worked
    // on HTML alone.
    expect(blocked).toBeGreaterThan(0);
  } finally {
    await context.close();
  }
});
