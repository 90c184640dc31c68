// How the Web UI test finds its Chromium (./browser.ts): CHROMIUM_PATH, then `chromium` on PATH, then the
// browser inside the npm package @sparticuz/chromium, extracted from node_modules (no download); a failure
// names every attempt and what to install. The packaged browser is really launched here, even on a machine
// that has Debian's chromium, so `npm ci && npm test` is known to pass on a machine that has none.
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Browser } from 'playwright-core';
import { INSTALL_HINT, launchChromium, whichOnPath } from './browser';

let dir: string;
let fakeBin: string;
beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'webui-browser-'));
  fakeBin = path.join(dir, 'bin');
  mkdirSync(fakeBin);
  // A `chromium` on PATH that is present but cannot start a browser.
  writeFileSync(path.join(fakeBin, 'chromium'), '#!/bin/sh\necho "broken chromium" >&2\nexit 3\n');
  chmodSync(path.join(fakeBin, 'chromium'), 0o755);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

test('PATH lookup finds only executables', () => {
  expect(whichOnPath('chromium', `/nonexistent${path.delimiter}${fakeBin}`)).toBe(
    path.join(fakeBin, 'chromium'),
  );
  expect(whichOnPath('chromium', '/nonexistent')).toBeNull();
  expect(whichOnPath('chromium', undefined)).toBeNull();
});

test('with no usable chromium on PATH, the browser inside @sparticuz/chromium is extracted and launched', async () => {
  const lines: string[] = [];
  let launched: { browser: Browser; source: string; executablePath: string } | undefined;
  try {
    launched = await launchChromium({ env: { PATH: fakeBin }, log: (l) => lines.push(l) });
    expect(launched.source).toBe('@sparticuz/chromium');
    expect(launched.executablePath).toMatch(/incident-response-chromium-[\d.]+\/chromium$/);
    expect(launched.browser.version()).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
    // The broken one on PATH was tried first, and said so.
    expect(lines.join('\n')).toContain(`PATH ${path.join(fakeBin, 'chromium')}`);
    // It renders a page.
    const page = await launched.browser.newPage();
    await page.setContent('<button>More Actions</button>');
    expect(await page.getByRole('button', { name: 'More Actions' }).innerText()).toBe('More Actions');
  } finally {
    await launched?.browser.close();
  }
}, 120_000);

test('an explicit CHROMIUM_PATH is the only one tried: missing, it fails saying what to install', async () => {
  const tried: string[] = [];
  const err = await launchChromium({
    env: { CHROMIUM_PATH: path.join(dir, 'no-such-chromium'), PATH: fakeBin },
    launch: (p) => {
      tried.push(p);
      return Promise.reject(new Error('should not be called'));
    },
  }).catch((e: Error) => e);
  expect(err).toBeInstanceOf(Error);
  expect((err as Error).message).toContain(
    `CHROMIUM_PATH ${path.join(dir, 'no-such-chromium')}: no such file`,
  );
  expect((err as Error).message).toContain(INSTALL_HINT);
  expect(tried).toEqual([]);
});

test('when nothing launches, the error names each attempt and the install hint (never a silent skip)', async () => {
  const err = await launchChromium({
    env: { PATH: fakeBin },
    log: () => undefined,
    launch: (p) => Promise.reject(new Error(`cannot start ${p}\nmore detail`)),
  }).catch((e: Error) => e);
  const message = (err as Error).message;
  expect(message).toMatch(/^no Chromium could be launched for the Web UI test/);
  expect(message).toContain(`PATH ${path.join(fakeBin, 'chromium')}: cannot start`);
  expect(message).toMatch(
    /@sparticuz\/chromium \S+incident-response-chromium-[\d.]+\/chromium: cannot start/,
  );
  expect(message).not.toContain('more detail');
  expect(message).toContain('npm ci');
  expect(message).toContain('apt-get install chromium');
}, 120_000);
