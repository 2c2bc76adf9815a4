import { expect, test } from '@playwright/test';
import { L_000102, L_000201, P_000101, P_000301, P_000401, PREDIAL_PROGRAM, TOTALS } from './fixture-data';
import { LookupPage } from './pages/lookup-page';

test.describe('lookup by account number', () => {
  test('persona física: exact recargos, rounding down and a masked owner', async ({ page }) => {
    const lookup = new LookupPage(page);
    await lookup.goto();
    await lookup.lookupByAccount(P_000101.number);

    await expect(lookup.errorSummary).toHaveCount(0);
    await expect(lookup.accountCards).toHaveCount(1);
    const card = lookup.card(P_000101.number);
    await expect(card.root).toBeVisible();
    await card.expectItems(P_000101);
    await lookup.expectTotals(TOTALS['P-000101']);

    // The owner is masked: a lookup by account number must not reveal who owns it.
    await card.expectMaskedOwner(P_000101.maskedOwner);
    // Not on screen, and not in the HTML either (e.g. in serialised island data).
    const html = await page.content();
    for (const part of [P_000101.ownerName, 'María', 'Peña', 'Núñez']) {
      expect(html, `the page must not contain "${part}"`).not.toContain(part);
    }
    await expect(card.root).toContainText(P_000101.colonia);
  });

  test('lower-case account typed with spaces is normalised', async ({ page }) => {
    const lookup = new LookupPage(page);
    await lookup.goto();
    await lookup.lookupByAccount(`  ${P_000101.number.toLowerCase()} `);
    await expect(lookup.card(P_000101.number).root).toBeVisible();
    await lookup.expectTotals(TOTALS['P-000101']);
  });

  test('persona moral: 8 months of recargos on the whole principal, rounding up', async ({ page }) => {
    const lookup = new LookupPage(page);
    const response = await lookup.goto({ cuenta: L_000201.number });
    expect(response?.status()).toBe(200);
    const card = lookup.card(L_000201.number);
    await card.expectItems(L_000201);
    await lookup.expectTotals(TOTALS['L-000201']);
    await card.expectMaskedOwner(L_000201.maskedOwner);
    expect(await page.content()).not.toContain('Ñandú');
  });

  test('exactly 50 centavos round down (CFF art. 20)', async ({ page }) => {
    const lookup = new LookupPage(page);
    await lookup.goto({ cuenta: P_000301.number });
    const card = lookup.card(P_000301.number);
    await card.expectItems(P_000301);
    await lookup.expectTotals(TOTALS['P-000301']);
    await card.expectMaskedOwner(P_000301.maskedOwner);
    expect(await page.content()).not.toContain('Ibáñez');
  });

  test('a charge not yet due carries no recargos', async ({ page }) => {
    const lookup = new LookupPage(page);
    await lookup.goto({ cuenta: L_000102.number });
    const card = lookup.card(L_000102.number);
    await card.expectItems(L_000102);
    await lookup.expectTotals(TOTALS['L-000102']);
  });

  test('the JSON API agrees with the page', async ({ request }) => {
    const response = await request.get(`/api/v1/debts?account=${P_000101.number}`);
    expect(response.status()).toBe(200);
    const text = await response.text();
    // Amounts travel as decimal strings with two decimals.
    expect(text).toContain('"1397.03"');
    expect(text).toContain('"-0.03"');
    expect(text).toContain('"1397.00"');
    expect(text).toContain('"58.80"');
    expect(text).not.toContain(P_000101.ownerName);
  });
});

test('an authorized discount program is itemised with its legal basis and last day', async ({ page }) => {
  const lookup = new LookupPage(page);
  await lookup.goto({ cuenta: P_000401.number });
  const card = lookup.card(P_000401.number);
  await card.expectItems(P_000401);
  await lookup.expectTotals(TOTALS['P-000401']);
  const detail = card.item(0).discountDetails;
  await expect(detail).toHaveCount(1);
  await expect(detail).toContainText(PREDIAL_PROGRAM.name);
  await expect(detail).toContainText(PREDIAL_PROGRAM.legalBasis);
  await expect(detail).toContainText(PREDIAL_PROGRAM.lastDay);
  await expect(detail).toContainText('50');
});
