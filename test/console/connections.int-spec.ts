import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { SANDBOX_CREDENTIALS, StackRunner } from '@tools/devstack';
import { BrowserContext, Locator, Page } from 'playwright-core';
import { addSecondConnections } from '../support/connection-fixtures';
import { eventually } from '../support/test-env';
import { ConsoleBrowser, scrollsHorizontally } from './console-browser';

const root = resolve(__dirname, '../..');
const SCHEME = 'wdt-stockout-return-to-kingdee-pur-mrb';
const ADMIN = 'console-connections-admin-0123456';
const VIEWER = 'console-connections-viewer-012345';

/**
 * Issue 14 in the console, in Debian's chromium against extractor, loader and operator as processes:
 * the Connections page lists the env `default` connections (used by the shipped scheme, reported ok
 * by the services) and the file's shop-b / acct-b (wrong secrets, used by nobody); its Test button
 * shows what the extractor or loader answered; the scheme editor's pickers write source.connection
 * and target.connection into the YAML. Every page or console error fails the test that caused it.
 */
describe('console: connections page and connection pickers (real browser, real stack)', () => {
  const brokers = (process.env.KAFKA_BROKERS || '127.0.0.1:9092').split(',');
  const databaseUrl = process.env.DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/wdt_kingdee';
  const browser = new ConsoleBrowser();
  const dir = mkdtempSync(join(tmpdir(), 'console-connections-'));
  const file = join(dir, 'connections.yaml');
  let stack: StackRunner;
  let admin: { context: BrowserContext; page: Page };

  const text = (locator: Locator, pattern: RegExp, timeoutMs = 30_000) =>
    eventually(`text matching ${pattern}`, async () => pattern.test(await locator.innerText()), timeoutMs);

  beforeAll(async () => {
    writeFileSync(file, 'wdt: {}\nkingdee: {}\n');
    stack = new StackRunner({
      root,
      brokers,
      databaseUrl,
      services: ['loader', 'extractor', 'operator'],
      operatorToken: ADMIN,
      viewerToken: VIEWER,
      env: {
        LOG_LEVEL: 'warn',
        WORK_REQUEST_POLL_MS: '300',
        CONNECTIONS_FILE: file,
        WDT_SHOP_B_SECRET: 'wrong-shop-b-secret-0123456789',
        KD_ACCT_B_SECRET: 'wrong-acct-b-secret-0123456789',
      },
    });
    await stack.prepare();
    await stack.startSandboxes();
    // Second accounts in each sandbox, with their right secrets (the file's references decide).
    await addSecondConnections(stack, file);
    await stack.startServices();
    await browser.start();
    admin = await browser.newContext(stack.url('operator'));
    await admin.page.goto('/');
    await admin.page.getByTestId('signin-token').fill(ADMIN);
    await admin.page.getByTestId('signin-submit').click();
    await admin.page.getByTestId('session-name').waitFor();
  }, 240_000);

  afterEach(() => browser.assertClean());

  afterAll(async () => {
    await browser.stop();
    await stack?.stop();
    await stack?.cleanup();
    rmSync(dir, { recursive: true, force: true });
  }, 60_000);

  it('lists the connections with their schemes and status, and the Test button shows each answer', async () => {
    const { page } = admin;
    await page.getByTestId('nav-connections').click();
    const table = page.getByTestId('connections-table');
    const row = (kind: string, name: string) => table.getByTestId(`connection-row-${kind}-${name}`);
    await text(
      row('wdt', 'default'),
      new RegExp(`${SANDBOX_CREDENTIALS.wdt.sid}[\\s\\S]*正常[\\s\\S]*${SCHEME}`),
    );
    await text(row('kingdee', 'default'), /demo-acct[\s\S]*正常/);
    expect(await row('wdt', 'shop-b').innerText()).toMatch(/shop-b-sid[\s\S]*尚无数据[\s\S]*无方案使用/);
    expect(await row('kingdee', 'acct-b').innerText()).toMatch(/#acct-b[\s\S]*尚无数据/);
    expect(await scrollsHorizontally(page)).toBe(false);
    await browser.shot(page, 'connections', true);

    await row('wdt', 'shop-b').getByTestId('connection-test').click();
    await text(row('wdt', 'shop-b').getByTestId('connection-test-result'), /失败: auth/);
    expect(
      await row('wdt', 'shop-b').getByTestId('connection-test-result').getAttribute('data-error'),
    ).toContain('签名错误');
    await row('kingdee', 'acct-b').getByTestId('connection-test').click();
    await text(row('kingdee', 'acct-b').getByTestId('connection-test-result'), /失败: auth/);
    await row('wdt', 'default').getByTestId('connection-test').click();
    await text(row('wdt', 'default').getByTestId('connection-test-result'), /正常，\d+ 毫秒/);
    // The failed tests turn the connections' status failing, with the API's message as last error.
    await text(row('wdt', 'shop-b').getByTestId('connection-status'), /异常/);
    await text(row('wdt', 'shop-b'), /签名错误/);
    const page2 = await row('wdt', 'shop-b').innerText();
    expect(page2).not.toContain('wrong-shop-b-secret');
    expect(await scrollsHorizontally(page)).toBe(false);
    await browser.shot(page, 'connections-tested', true);
  });

  it('the scheme editor picks the WDT and Kingdee connections from the known names and writes them into the YAML', async () => {
    const { page } = admin;
    await page.goto(`/schemes/${SCHEME}`);
    const source = page.getByTestId('field-source-connection');
    const target = page.getByTestId('field-target-connection');
    await text(source, /default/);
    await text(target, /default/);
    await source.click();
    const option = (name: string) =>
      page.locator('.ant-select-dropdown:visible .ant-select-item-option').filter({ hasText: name });
    expect(
      await page.locator('.ant-select-dropdown:visible .ant-select-item-option').allInnerTexts(),
    ).toEqual([`default · ${SANDBOX_CREDENTIALS.wdt.sid}`, 'shop-b · shop-b-sid']);
    await option('shop-b').click();
    await target.click();
    await option('acct-b').click();
    await text(source, /shop-b/);
    await text(target, /acct-b/);
    await page
      .locator('.ant-select-dropdown:visible')
      .waitFor({ state: 'detached' })
      .catch(() => undefined);
    await eventually(
      'the dropdowns closed',
      async () => (await page.locator('.ant-select-dropdown:visible').count()) === 0,
    );
    await browser.shot(page, 'scheme-editor-connections', true);
    await page.getByTestId('tab-yaml').click();
    const yaml = page.getByTestId('scheme-yaml');
    await eventually('the YAML names both connections', async () => {
      const value = await yaml.inputValue().catch(async () => yaml.innerText());
      return (
        /source:\n(?:.*\n)*?\s+connection: shop-b/.test(value) &&
        /target:\n(?:.*\n)*?\s+connection: acct-b/.test(value)
      );
    });
  });
});
