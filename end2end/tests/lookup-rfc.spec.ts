import { expect, test } from '@playwright/test';
import { L_000102, L_000201, MARIA, NANDU, P_000101, TOTALS } from './fixture-data';
import { LookupPage } from './pages/lookup-page';

test.describe('lookup by RFC', () => {
  test('persona física: both of her accounts and one total', async ({ page }) => {
    const lookup = new LookupPage(page);
    await lookup.goto();
    await lookup.lookupByRfc(MARIA.rfc);

    await expect(lookup.errorSummary).toHaveCount(0);
    await expect(lookup.accountCards).toHaveCount(2);
    await lookup.card(P_000101.number).expectItems(P_000101);
    await lookup.card(L_000102.number).expectItems(L_000102);
    // 1,397.03 + 1,500.00 = 2,897.03 → 2,897.00 (ajuste −0.03).
    await lookup.expectTotals(TOTALS[MARIA.rfc]);
    await expect(lookup.card(L_000201.number).root).toHaveCount(0);
  });

  test('lower-case RFC is accepted', async ({ page }) => {
    const lookup = new LookupPage(page);
    await lookup.goto();
    await lookup.lookupByRfc(MARIA.rfc.toLowerCase());
    await expect(lookup.accountCards).toHaveCount(2);
    await lookup.expectTotals(TOTALS[MARIA.rfc]);
  });

  test('persona moral (12-character RFC)', async ({ page }) => {
    const lookup = new LookupPage(page);
    const response = await lookup.goto({ rfc: NANDU.rfc });
    expect(response?.status()).toBe(200);
    await expect(lookup.accountCards).toHaveCount(1);
    await lookup.card(L_000201.number).expectItems(L_000201);
    await lookup.expectTotals(TOTALS[NANDU.rfc]);
  });

  test('a well-formed RFC whose check digit fails gets the "verifique su RFC" hint', async ({ page }) => {
    const lookup = new LookupPage(page);
    const response = await lookup.goto({ rfc: MARIA.rfcBadCheckDigit });
    expect(response?.status()).toBe(404);
    await expect(lookup.accountCards).toHaveCount(0);
    await expect(lookup.errorSummary).toBeVisible();
    await expect(lookup.rfcCheckHint).toBeVisible();
    await expect(lookup.rfcCheckHint).toContainText(/verifique su RFC/i);
  });
});
