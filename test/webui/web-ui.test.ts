// The Temporal Web UI (2.42, the test dev server's) driven in headless Chromium with playwright-core, as an
// operator would (issue 11 item 4): open the incident, Send an Update `acknowledge` (a second one shows its
// rejection reason, without a stack trace), Send a Signal `resolve`, read Current Details in User Metadata.
// The pickers describe every handler; the procedure's signals say they are internal. No browser is
// downloaded: CHROMIUM_PATH, else Debian's `chromium` on PATH, else the one inside the npm package
// @sparticuz/chromium (./browser.ts); with none, the test fails saying what to install.
import type { Client } from '@temporalio/client';
import { startTestWorker, testClient, uniqueTaskQueue, waitFor, type TestWorker } from '../harness/temporal';
import { statusQuery } from '../../src/workflows/definitions';
import type { Browser, Page } from 'playwright-core';
import { launchChromium } from './browser';

const UI = process.env.TEST_TEMPORAL_UI_URL;
const taskQueue = uniqueTaskQueue('webui');
let worker: TestWorker;
let client: Client;
let closeClient: () => Promise<void>;
let browser: Browser;

// Only the tests' own dev server has a UI we know; against TEMPORAL_ADDRESS given from outside, skipped.
const maybe = UI ? describe : describe.skip;

maybe('the Temporal Web UI', () => {
  beforeAll(async () => {
    const launched = await launchChromium();
    browser = launched.browser;
    process.stderr.write(
      `[webui] Chromium ${browser.version()} from ${launched.source} (${launched.executablePath})\n`,
    );
    worker = await startTestWorker({ taskQueue });
    ({ client, close: closeClient } = await testClient());
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    await closeClient?.();
    await worker?.stop();
  });

  async function openIncident(page: Page, workflowId: string) {
    await page.goto(`${UI}/namespaces/default/workflows/${encodeURIComponent(workflowId)}`, {
      waitUntil: 'load',
      timeout: 30_000,
    });
    await page.getByRole('button', { name: 'More Actions' }).waitFor({ timeout: 30_000 });
  }

  /** More Actions -> Send an Update / Send a Signal, pick the handler by its description, type the JSON. */
  async function send(page: Page, kind: 'Update' | 'Signal', description: string, data: object) {
    await page.getByRole('button', { name: 'More Actions' }).click();
    await page.getByRole('menuitem', { name: new RegExp(`Send an? ${kind}`) }).click();
    const dialog = page
      .getByRole('dialog')
      .filter({ hasText: `Send a${kind === 'Update' ? 'n' : ''} ${kind}` });
    await dialog.getByTestId(`${kind.toLowerCase()}-select-button`).click();
    const options = page.getByRole('option');
    await options.first().waitFor();
    const texts = await options.allInnerTexts();
    await options.filter({ hasText: description }).first().click();
    await dialog.locator('.cm-content').click();
    await page.keyboard.type(JSON.stringify(data));
    await dialog.getByRole('button', { name: 'Submit' }).click();
    return { dialog, options: texts };
  }

  test('acknowledge with an Update, see a rejection, resolve with a Signal, read the current details', async () => {
    const workflowId = `webui-incident-${Date.now()}`;
    const h = await client.workflow.start('incidentWorkflow', {
      taskQueue,
      workflowId,
      args: [{ title: 'Inference API slow', severity: 'P2', timeScale: 1 }],
    });
    const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    await openIncident(page, workflowId);

    const ack = await send(page, 'Update', 'Acknowledge the incident', { by: 'webui-operator' });
    await page.getByText('Update successful').waitFor({ timeout: 15_000 });
    expect((await h.query(statusQuery)).acknowledgedBy).toBe('webui-operator');
    // The pickers describe each handler; operators are pointed to Updates.
    expect(ack.options.find((o) => o.startsWith('acknowledge'))).toContain(
      'Answers "accepted" or the reason',
    );

    // A second acknowledgement is refused: the dialog shows the reason, and no server source path.
    const again = await send(page, 'Update', 'Acknowledge the incident', { by: 'someone-else' });
    await again.dialog
      .getByText('acknowledge rejected: already acknowledged by webui-operator')
      .waitFor({ timeout: 15_000 });
    expect(await again.dialog.innerText()).not.toMatch(/incident\.ts|at .*\.js:\d+/);
    await again.dialog.getByRole('button', { name: 'Cancel' }).last().click();

    const signal = await send(page, 'Signal', 'Resolve it', {
      by: 'webui-operator',
      resolution: 'restarted the inference pods',
    });
    // Internal child-to-parent signals say so in the signal picker.
    expect(signal.options.find((o) => o.startsWith('procedureEvent'))).toContain('INTERNAL');
    const resolved = await waitFor(
      () => h.query(statusQuery),
      (s) => s.status === 'resolved',
      { what: 'resolved from the Web UI', timeoutMs: 20_000 },
    );
    expect(resolved.resolvedBy).toBe('webui-operator');

    // Current Details (User Metadata tab): Markdown lines, UTC beside COT, who acknowledged and resolved.
    await openIncident(page, workflowId);
    await page.getByText('User Metadata', { exact: true }).click();
    const details = await waitFor(
      async () => {
        for (const f of page.frames()) {
          const text = await f
            .locator('body')
            .innerText()
            .catch(() => '');
          if (text.includes('RESOLVED')) return text;
        }
        return '';
      },
      (t) => t.includes('Resolved by webui-operator'),
      { what: 'the current details', timeoutMs: 20_000 },
    );
    expect(details).toMatch(
      /Acknowledged by webui-operator at \d{4}-\d{2}-\d{2} \d{2}:\d{2} UTC \(\d{2}:\d{2} COT\)/,
    );
    expect(details).toMatch(/Opened: .* UTC \(.* COT\)/);
    await page.close();
  }, 120_000);
});
