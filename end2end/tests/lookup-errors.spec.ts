import { expect, test } from '@playwright/test';
import { GENERIC_RFC, MALFORMED_RFC, UNKNOWN_ACCOUNT } from './fixture-data';
import { LookupPage } from './pages/lookup-page';

test.describe('lookup errors', () => {
  test('a malformed RFC: HTTP 400, Spanish error summary that takes the focus', async ({ page }) => {
    const lookup = new LookupPage(page);
    const response = await lookup.goto({ rfc: MALFORMED_RFC });
    expect(response?.status()).toBe(400);
    await expect(lookup.errorSummary).toBeVisible();
    await expect(lookup.errorSummary).toHaveAttribute('role', 'alert');
    await expect(lookup.errorSummary).toContainText(/RFC inválido/);
    await expect(lookup.errorSummary).toBeFocused();
    await expect(lookup.accountCards).toHaveCount(0);
    await expect(lookup.grandTotal).toHaveCount(0);
  });

  test('an unknown account: HTTP 404 and a message naming it', async ({ page }) => {
    const lookup = new LookupPage(page);
    const response = await lookup.goto({ cuenta: UNKNOWN_ACCOUNT });
    expect(response?.status()).toBe(404);
    await expect(lookup.errorSummary).toBeVisible();
    await expect(lookup.errorSummary).toContainText('No encontramos la cuenta');
    await expect(lookup.errorSummary).toContainText(UNKNOWN_ACCOUNT);
    await expect(lookup.accountCards).toHaveCount(0);
  });

  test('the generic RFC XAXX010101000 is refused with its own message', async ({ page }) => {
    const lookup = new LookupPage(page);
    const response = await lookup.goto({ rfc: GENERIC_RFC });
    expect(response?.status()).toBe(400);
    await expect(lookup.errorSummary).toBeVisible();
    await expect(lookup.errorSummary).toContainText(/gen[ée]rico/i);
    await expect(lookup.accountCards).toHaveCount(0);
  });
});
