import { expect, type Locator, type Page } from '@playwright/test';

/** A PDF as a file chooser gets it (the bytes are all that is checked). */
export function pdfFile(name: string, note: string): { name: string; mimeType: string; buffer: Buffer } {
  const body = `%PDF-1.4\n% ${note}\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n`;
  return { name, mimeType: 'application/pdf', buffer: Buffer.from(body, 'latin1') };
}

/** `/tramites/{slug}/solicitar`: the request form, its quote and its documents. */
export class RequestFormPage {
  readonly form: Locator;
  readonly quoteTotal: Locator;
  readonly errorSummary: Locator;

  constructor(private readonly page: Page) {
    this.form = page.getByTestId('request-form');
    this.quoteTotal = page.getByTestId('quote-total');
    this.errorSummary = page.getByTestId('error-summary');
  }

  async fill(fields: {
    tariff: string;
    starts: string;
    ends: string;
    width: string;
    height: string;
    location: string;
    name: string;
    email: string;
  }): Promise<void> {
    await this.page.getByTestId('field-tarifa').selectOption(fields.tariff);
    await this.page.getByTestId('field-inicio').fill(fields.starts);
    await this.page.getByTestId('field-fin').fill(fields.ends);
    await this.page.getByTestId('field-ancho').fill(fields.width);
    await this.page.getByTestId('field-alto').fill(fields.height);
    await this.page.getByTestId('field-ubicacion').fill(fields.location);
    await this.page.getByTestId('field-nombre').fill(fields.name);
    await this.page.getByTestId('field-correo').fill(fields.email);
  }

  async quote(): Promise<void> {
    await this.page.getByTestId('request-quote').click();
  }

  async attach(code: string, file: { name: string; mimeType: string; buffer: Buffer }): Promise<void> {
    await this.page.getByTestId(`upload-${code}`).setInputFiles(file);
  }

  async submit(): Promise<void> {
    await this.page.getByTestId('request-submit').click();
  }
}

/** `/tramites/solicitud/{token}`: the applicant's page of a request. */
export class RequestPage {
  readonly number: Locator;
  readonly status: Locator;
  readonly explanation: Locator;
  readonly timeline: Locator;
  readonly correction: Locator;
  readonly pay: Locator;
  readonly permitFolio: Locator;
  readonly permitPdf: Locator;
  readonly notice: Locator;

  constructor(private readonly page: Page) {
    this.number = page.getByTestId('request-number');
    this.status = page.getByTestId('request-status');
    this.explanation = page.getByTestId('request-explanation');
    this.timeline = page.getByTestId('timeline');
    this.correction = page.getByTestId('correction-form');
    this.pay = page.getByTestId('request-pay-button');
    this.permitFolio = page.getByTestId('permit-folio');
    this.permitPdf = page.getByTestId('permit-pdf');
    this.notice = page.getByTestId('notice');
  }

  async expectLoaded(): Promise<void> {
    await expect(this.page).toHaveURL(/\/tramites\/solicitud\/[0-9a-f]{32}/);
    await expect(this.number).toHaveText(/^SOL-2026-\d{6}$/);
  }

  /** The verification URL printed next to the permit. */
  async permitUrl(): Promise<string> {
    const link = this.page.getByTestId('permit').getByRole('link', { name: /\/p\/P/ });
    return (await link.getAttribute('href')) ?? '';
  }
}

/** `/personal/revision` and `/personal/revision/{token}`: the revisor's side. */
export class ReviewPage {
  readonly clock: Locator;
  readonly notice: Locator;

  constructor(private readonly page: Page) {
    this.clock = page.getByTestId('review-clock');
    this.notice = page.getByTestId('notice');
  }

  async open(number: string): Promise<void> {
    await this.page.goto('/personal/revision');
    await this.page.getByTestId('queue-row').filter({ hasText: number }).getByRole('link', { name: number }).click();
    await expect(this.page.getByRole('heading', { level: 1 })).toContainText(number);
  }

  async askCorrection(comment: string): Promise<void> {
    await this.page.getByTestId('review-comment').fill(comment);
    await this.page.getByTestId('review-ask-correction').click();
    await expect(this.notice).toContainText('Se pidió la corrección');
  }

  async approve(): Promise<void> {
    await this.page.getByTestId('review-approve').click();
    await expect(this.notice).toContainText('Solicitud aprobada');
  }
}
