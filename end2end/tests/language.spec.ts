import { expect, test } from '@playwright/test';
import { P_000101, TOTALS } from './fixture-data';
import { LookupPage } from './pages/lookup-page';

test('language switch: Spanish by default, English on request, and back', async ({ page }) => {
  const lookup = new LookupPage(page);
  await lookup.goto();
  const html = page.locator('html');
  await expect(html).toHaveAttribute('lang', /^es/);
  await expect(lookup.accountSubmit).toHaveText(/Consultar/);
  const spanishSubmit = (await lookup.accountSubmit.innerText()).trim();

  await lookup.langSwitch.click();
  await expect(html).toHaveAttribute('lang', /^en/);
  await expect(page).toHaveURL(/\/consulta/);
  await expect(lookup.accountSubmit).toHaveText(/Look up/);
  await expect(lookup.langSwitch).toContainText(/Español/);

  // The choice is remembered (cookie) on the next page load.
  await page.reload();
  await expect(html).toHaveAttribute('lang', /^en/);

  await lookup.langSwitch.click();
  await expect(html).toHaveAttribute('lang', /^es/);
  await expect(page).toHaveURL(/\/consulta/);
  await expect(lookup.accountSubmit).toHaveText(spanishSubmit);
});

test('switching language on a result keeps the same lookup and figures', async ({ page }) => {
  const lookup = new LookupPage(page);
  await lookup.goto({ cuenta: P_000101.number });
  await lookup.expectTotals(TOTALS['P-000101']);
  await expect(lookup.roundingLine).toContainText(/redondeo/i);

  await lookup.langSwitch.click();
  await expect(page.locator('html')).toHaveAttribute('lang', /^en/);
  await expect(page).toHaveURL(new RegExp(`cuenta=${P_000101.number}`));
  await expect(lookup.card(P_000101.number).root).toBeVisible();
  await lookup.expectTotals(TOTALS['P-000101']);
  await expect(lookup.roundingLine).toContainText(/rounding/i);

  await lookup.langSwitch.click();
  await expect(page.locator('html')).toHaveAttribute('lang', /^es/);
  await expect(page).toHaveURL(new RegExp(`cuenta=${P_000101.number}`));
  await lookup.expectTotals(TOTALS['P-000101']);
});
