import { expect, type Page } from '@playwright/test';
import { PAY_TOTAL } from '../fixture-data';
import { LookupPage } from './lookup-page';
import { money } from './money';
import { DemoCheckoutPage, OrderPage } from './order-page';

/** From the lookup of `account` to the demo checkout; the order page's URL. */
export async function lookupToCheckout(page: Page, account: string): Promise<string> {
  const lookup = new LookupPage(page);
  await lookup.goto({ cuenta: account });
  await lookup.card(account).root.waitFor();
  await expect(lookup.chargeCheckboxes).toHaveCount(1);
  await expect(lookup.chargeCheckboxes.first()).toBeChecked();
  await lookup.expectTotals(PAY_TOTAL);
  await lookup.payThese.click();

  const order = new OrderPage(page);
  await order.expectLoaded();
  await expect(order.status).toHaveText('Por pagar');
  await expect(order.items).toHaveCount(1);
  await expect(order.total).toHaveText(money(PAY_TOTAL.total));
  await expect(order.rounding).toContainText(money(PAY_TOTAL.rounding));
  await expect(order.reference).toHaveText(/^\d{4} \d{4} \d{4} \d{4}$/);
  await expect(order.expires).toContainText('21/11/2026');
  const orderUrl = page.url();
  await order.payOnline.click();

  const demo = new DemoCheckoutPage(page);
  await demo.expectLoaded();
  await expect(demo.total).toHaveText(money(PAY_TOTAL.total));
  return orderUrl;
}
