import { expect, test } from '@playwright/test';
import { HomePage } from './pages/home-page';
import { LookupPage } from './pages/lookup-page';

test('home page shows office hours and leads to the lookup', async ({ page }) => {
  const home = new HomePage(page);
  const response = await home.goto();
  expect(response?.status()).toBe(200);
  await expect(home.root).toBeVisible();
  await expect(page.locator('html')).toHaveAttribute('lang', /^es/);
  await expect(home.officeHours).toBeVisible();
  await expect(home.officeHours).not.toBeEmpty();
  // Loreto's discount programs in force on 2026-11-21, among them predial's.
  await expect(page.getByTestId('discount-program').filter({ hasText: /predial/i }).first()).toBeVisible();

  await home.lookupLink.click();
  await expect(page).toHaveURL(/\/consulta$/);
  const lookup = new LookupPage(page);
  await expect(lookup.accountInput).toBeVisible();
  await expect(lookup.rfcInput).toBeVisible();
});

test('health check answers', async ({ request }) => {
  const response = await request.get('/healthz');
  expect(response.status()).toBe(200);
});
