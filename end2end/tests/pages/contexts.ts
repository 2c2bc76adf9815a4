import type { Browser, BrowserContext, BrowserContextOptions, TestInfo } from '@playwright/test';

/**
 * A fresh browser context with the same phone settings as the configured
 * project (viewport, touch, es-MX locale, base URL), plus `extra`.
 * Used where a test needs a context of its own (JavaScript off, blocked wasm,
 * empty cache for the page-weight figure).
 */
export async function phoneContext(
  browser: Browser,
  testInfo: TestInfo,
  extra: BrowserContextOptions = {},
): Promise<BrowserContext> {
  const use = testInfo.project.use;
  return browser.newContext({
    baseURL: use.baseURL,
    viewport: use.viewport,
    deviceScaleFactor: use.deviceScaleFactor,
    isMobile: use.isMobile,
    hasTouch: use.hasTouch,
    locale: use.locale,
    timezoneId: use.timezoneId,
    userAgent: use.userAgent,
    ...extra,
  });
}
