import { expect, test, type Response } from '@playwright/test';
import { phoneContext } from './pages/contexts';
import { LookupPage } from './pages/lookup-page';

// Budget for a first visit to the lookup page on a phone: everything that
// crosses the wire (HTML, CSS, JS, wasm, icons) as sent, compressed.
const BUDGET_BYTES = 150 * 1024; // 153,600

// Meaningful only for a release build (optimised, wasm-opt'ed wasm): .ci/test
// runs this file against `cargo leptos build --release`, and the functional
// suite against the dev build with `--grep-invert @release-only`.
test('first visit to /consulta weighs at most 150 KB over the wire @release-only', async ({ browser }, testInfo) => {
  // A fresh context: empty cache, no cookies. Ask for brotli explicitly.
  const context = await phoneContext(browser, testInfo, {
    extraHTTPHeaders: { 'Accept-Encoding': 'br' },
  });
  try {
    const page = await context.newPage();
    const responses: Response[] = [];
    page.on('response', (r) => responses.push(r));

    const lookup = new LookupPage(page);
    const first = await lookup.goto();
    expect(first?.status()).toBe(200);
    await page.waitForLoadState('networkidle');
    // Interactive parts are there (islands hydrate, forms usable).
    await expect(lookup.accountInput).toBeVisible();

    let total = 0;
    const rows: string[] = [];
    for (const response of responses) {
      await response.finished();
      const sizes = await response.request().sizes();
      // responseBodySize is the encoded (transfer) size of the body.
      const encoded = sizes.responseBodySize;
      total += encoded;
      const headers = await response.allHeaders();
      rows.push(
        `  ${String(encoded).padStart(8)} B  ${(headers['content-encoding'] ?? 'identity').padEnd(8)} ${response.status()} ${response.url()}`,
      );
    }
    console.log(`page weight of a first visit to /consulta (${responses.length} responses):\n${rows.join('\n')}`);
    console.log(`PAGE_WEIGHT_BYTES=${total}`);
    await testInfo.attach('page-weight.txt', { body: `${rows.join('\n')}\nPAGE_WEIGHT_BYTES=${total}\n` });

    expect(responses.length).toBeGreaterThan(0);
    // Everything the page asked for arrived (a 404 weighs little and would
    // pass the budget), the wasm among it.
    expect(responses.filter((r) => r.status() !== 200).map((r) => `${r.status()} ${r.url()}`)).toEqual([]);
    expect(responses.some((r) => r.url().endsWith('.wasm'))).toBe(true);
    expect(total, `first visit weighs ${total} bytes; budget ${BUDGET_BYTES}`).toBeLessThanOrEqual(BUDGET_BYTES);
  } finally {
    await context.close();
  }
});

// Runs against both builds: the client side loads without a single error
// (hydration mismatches, missing favicon, failed requests all show here).
test('the lookup page loads and answers without console errors @release', async ({ page }) => {
  const problems: string[] = [];
  page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(`console.error: ${m.text()}`);
  });
  page.on('requestfailed', (r) => problems.push(`request failed: ${r.url()} ${r.failure()?.errorText}`));
  page.on('response', (r) => {
    if (r.status() >= 400 && !r.url().includes('/consulta?')) problems.push(`HTTP ${r.status()}: ${r.url()}`);
  });

  const lookup = new LookupPage(page);
  await lookup.goto();
  await page.waitForLoadState('networkidle');
  await lookup.lookupByAccount('P-000101');
  await expect(lookup.grandTotal).toBeVisible();
  await page.waitForLoadState('networkidle');
  expect(problems).toEqual([]);
});
