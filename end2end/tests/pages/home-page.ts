import type { Locator, Page, Response } from '@playwright/test';

/** The portal's home page, `/`. */
export class HomePage {
  readonly root: Locator;
  readonly lookupLink: Locator;
  readonly officeHours: Locator;
  readonly langSwitch: Locator;

  constructor(readonly page: Page) {
    this.root = page.getByTestId('home');
    this.lookupLink = page.getByTestId('home-lookup-link');
    this.officeHours = page.getByTestId('office-hours');
    this.langSwitch = page.getByTestId('lang-switch');
  }

  async goto(): Promise<Response | null> {
    return this.page.goto('/');
  }
}
