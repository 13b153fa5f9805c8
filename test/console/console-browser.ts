import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Browser, BrowserContext, chromium, ConsoleMessage, Page } from 'playwright-core';

const root = resolve(__dirname, '../..');

/** Where test screenshots go (git-ignored); `npm run docs:screenshots` also copies named ones to docs/. */
export const SCREENSHOT_DIR = join(root, '.screenshots');
export const DOCS_SCREENSHOT_DIR = join(root, 'docs', 'screenshots');
const writeDocs = process.env.CONSOLE_DOCS_SCREENSHOTS === '1';

/**
 * Debian's chromium driven by playwright-core (Playwright's own browser downloads cannot be fetched
 * here). Every page records uncaught errors and console errors; `assertClean` fails the test on any
 * of them, so a page that throws cannot pass by looking right.
 */
export class ConsoleBrowser {
  private browser?: Browser;
  private readonly problems: string[] = [];
  /** Console errors a test provokes on purpose (e.g. a 403 it asserts) are allowed by pattern. */
  private readonly allowed: RegExp[] = [
    // The console asks who is signed in at start; signed out, that answer is a 401 Chromium logs.
    /status of 401 \(Unauthorized\) \(http:\/\/[^/]+\/api\/session\)/,
  ];

  async start(): Promise<void> {
    this.browser = await chromium.launch({
      executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium',
      args: ['--no-sandbox', '--disable-dev-shm-usage', '--lang=zh-CN'],
    });
    mkdirSync(SCREENSHOT_DIR, { recursive: true });
    if (writeDocs) mkdirSync(DOCS_SCREENSHOT_DIR, { recursive: true });
  }

  async newContext(
    baseURL: string,
    viewport = { width: 1366, height: 768 },
  ): Promise<{ context: BrowserContext; page: Page }> {
    if (!this.browser) throw new Error('ConsoleBrowser.start() first');
    // As the people who run it: a zh-CN browser in China's time zone.
    const context = await this.browser.newContext({
      baseURL,
      viewport,
      locale: 'zh-CN',
      timezoneId: 'Asia/Shanghai',
    });
    const page = await context.newPage();
    this.watch(page);
    return { context, page };
  }

  watch(page: Page): void {
    page.on('pageerror', (err) => this.problems.push(`page error on ${page.url()}: ${err.message}`));
    page.on('console', (msg: ConsoleMessage) => {
      if (msg.type() !== 'error') return;
      const text = `${msg.text()} (${msg.location().url})`;
      if (this.allowed.some((re) => re.test(text))) return;
      this.problems.push(`console error on ${page.url()}: ${text}`);
    });
  }

  allow(pattern: RegExp): void {
    this.allowed.push(pattern);
  }

  /** Saves `<name>.png`; with CONSOLE_DOCS_SCREENSHOTS=1 and `docs`, also docs/screenshots/<name>.png. */
  async shot(page: Page, name: string, docs = false): Promise<string> {
    const file = join(SCREENSHOT_DIR, `${name}.png`);
    await page.screenshot({ path: file, fullPage: false });
    if (docs && writeDocs) await page.screenshot({ path: join(DOCS_SCREENSHOT_DIR, `${name}.png`) });
    return file;
  }

  /** Page errors and console errors so far (and forgets them). */
  takeProblems(): string[] {
    return this.problems.splice(0);
  }

  assertClean(): void {
    const problems = this.takeProblems();
    if (problems.length) throw new Error(`the console logged errors:\n${problems.join('\n')}`);
  }

  async stop(): Promise<void> {
    await this.browser?.close();
  }
}

/** True when the page scrolls sideways (the console must fit 1280×800 and 1366×768). */
export async function scrollsHorizontally(page: Page): Promise<boolean> {
  // A string: the test project compiles without the DOM library.
  return page.evaluate<boolean>(
    'document.documentElement.scrollWidth > document.documentElement.clientWidth + 1',
  );
}
