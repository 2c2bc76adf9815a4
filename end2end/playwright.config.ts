import { defineConfig } from '@playwright/test';

// End-to-end tests of the Recauda portal.
//
// The browser is Debian's chromium (/usr/bin/chromium): these machines cannot
// download Playwright's own browser builds, so nothing here ever asks for one
// (the scripts also set PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1).
//
// The server is started by .ci/test (fresh SQLite database with
// fixtures/padron.csv, RECAUDA_TODAY=2026-11-21, Loreto) which passes its
// address in RECAUDA_E2E_BASE_URL.

const baseURL = process.env.RECAUDA_E2E_BASE_URL ?? 'http://127.0.0.1:3000';
const executablePath = process.env.RECAUDA_E2E_CHROMIUM ?? '/usr/bin/chromium';

export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export default defineConfig({
  testDir: './tests',
  fullyParallel: false,
  workers: 1,
  retries: 0,
  forbidOnly: !!process.env.CI,
  timeout: 30_000,
  expect: { timeout: 10_000 },
  reporter: 'list',
  outputDir: 'test-results',
  use: {
    baseURL,
    // A citizen on a phone: the portal's main audience.
    viewport: { width: 390, height: 844 },
    deviceScaleFactor: 3,
    isMobile: true,
    hasTouch: true,
    locale: 'es-MX',
    timezoneId: 'America/Mazatlan',
    userAgent:
      'Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0.0.0 Mobile Safari/537.36',
    trace: 'off',
    screenshot: 'only-on-failure',
    launchOptions: {
      executablePath,
      args: CHROMIUM_ARGS,
    },
  },
  projects: [{ name: 'phone-chromium' }],
});
