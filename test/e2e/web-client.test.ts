// The web client in a real browser (Debian's chromium, headless, driven by
// playwright-core) against the local platform behind nginx: two browser
// contexts register, chat, one sends an image the other sees, presence and
// people nearby with distances.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { startLocalPlatform, type LocalPlatform } from '../../scripts/local/launcher.js';
import { demoPng } from '../../scripts/local/png.js';
import { cacheDir } from '../support/paths.js';
import { buildWeb } from '../../web/build.js';

const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

describe('web client (headless chromium)', function () {
  let dir: string;
  let platform: LocalPlatform | undefined;
  let browser: Browser | undefined;
  const contexts: BrowserContext[] = [];
  const shots = path.join(cacheDir, 'e2e');

  before(async function () {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tce-web-'));
    const webRoot = await buildWeb();
    platform = await startLocalPlatform({ dir, logLevel: 'warn', webRoot, units: 2, fileServices: 1 });
    // launch() gives every run a fresh temporary profile (user-data dir).
    browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });
    fs.mkdirSync(shots, { recursive: true });
  });

  after(async function () {
    for (const c of contexts) await c.close().catch(() => undefined);
    await browser?.close();
    await platform?.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  async function signUp(name: string): Promise<{ page: Page; id: string }> {
    const ctx = await browser!.newContext({ viewport: { width: 1100, height: 700 } });
    contexts.push(ctx);
    const page = await ctx.newPage();
    // The page's console and errors go into a failure message (why a step did not happen).
    const consoleLines: string[] = [];
    page.on('console', (m) => consoleLines.push(`${m.type()}: ${m.text()}`));
    page.on('pageerror', (e) => consoleLines.push(`pageerror: ${e.message}`));
    await page.goto(`${platform!.endpoints.http}/`);
    await page.fill('#username', name);
    await page.fill('#password', 'a long and private passphrase 7');
    await page.click('#register');
    await page.waitForSelector('#me-id:not(:empty)', { timeout: 30_000 }).catch(async (err: unknown) => {
      const shown = await page.textContent('#login-error');
      throw new Error(`${name} not signed in: "${shown}"; console:\n${consoleLines.join('\n')}\n${String(err)}`);
    });
    const id = (await page.textContent('#me-id'))!.trim();
    await page.waitForSelector('#conn-dot.on');
    return { page, id };
  }

  it('two users chat, one sends an image the other sees; presence and people nearby', async function () {
    const suffix = Date.now().toString(36);
    const a = await signUp(`ann_${suffix}`);
    const b = await signUp(`ben_${suffix}`);
    assert.match(a.id, /\S+/);
    assert.notEqual(a.id, b.id);

    // Ann opens a conversation with Ben by id and writes.
    await a.page.fill('#new-chat-id', b.id);
    await a.page.click('#new-chat button');
    await a.page.fill('#text', 'Hi Ben, from the browser');
    await a.page.click('#send');
    await a.page.waitForSelector('#messages li.mine >> text=Hi Ben, from the browser');

    // Ben sees the conversation appear with an unread count, opens it, reads.
    const conv = b.page.locator(`#conversations li[data-peer="${a.id}"]`);
    await conv.waitFor({ timeout: 30_000 });
    assert.equal((await conv.locator('.unread').textContent())?.trim(), '1');
    await conv.click();
    await b.page.waitForSelector('#messages li.theirs >> text=Hi Ben, from the browser', { timeout: 30_000 });

    // Ann sends an image; Ben sees it rendered (downloaded with his token).
    await a.page.setInputFiles('#image', { name: 'sun.png', mimeType: 'image/png', buffer: Buffer.from(demoPng(96)) });
    await b.page.waitForFunction(
      () => {
        const img = document.querySelector<HTMLImageElement>('#messages li.theirs img.chat-image');
        return img !== null && img.complete && img.naturalWidth === 96;
      },
      undefined,
      { timeout: 30_000 },
    );
    const href = await b.page.getAttribute('#messages li.theirs a.download', 'href');
    assert.match(href ?? '', /^blob:/);

    // Presence: Ben is online in Ann's list.
    await a.page.waitForSelector(`#conversations li[data-peer="${b.id}"] .dot.on`, { timeout: 30_000 });

    // People nearby: both share a position ~300 m apart; Ann finds Ben with the distance.
    await b.page.fill('#lat', '52.5215');
    await b.page.fill('#lon', '13.4090');
    await b.page.click('#share-location');
    await a.page.fill('#lat', '52.5200');
    await a.page.fill('#lon', '13.4050');
    const row = a.page.locator(`#nearby li[data-user="${b.id}"]`);
    let found = false;
    for (let i = 0; i < 30 && !found; i++) {
      // Reporting is asynchronous (through the bus): search again until Ben shows up.
      await a.page.click('#share-location');
      found = await row
        .waitFor({ timeout: 1000 })
        .then(() => true)
        .catch(() => false);
    }
    assert.ok(found, 'Ben in Ann’s people nearby');
    const dist = (await row.locator('.dist').textContent())!.trim();
    assert.match(dist, /^\d+ m$/);
    const m = Number(dist.split(' ')[0]);
    assert.ok(m > 250 && m < 350, `distance ${dist}`);
    assert.equal((await row.locator('.name').textContent())?.trim(), `ben_${suffix}`);

    await a.page.screenshot({ path: path.join(shots, 'web-ann.png') });
    await b.page.screenshot({ path: path.join(shots, 'web-ben.png') });
  });
});
