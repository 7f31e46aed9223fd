// The browser pass of `cargo xtask book --check` (xtask/src/book_check.rs runs it).
//
// Serves a built mdBook on loopback, opens each page given on the command line in
// headless Chromium through Playwright, and writes a JSON report of what a reader's
// browser would have got wrong: images that did not load, KaTeX parse errors,
// stylesheets, fonts or scripts that failed, uncaught script errors, and every
// request that would have left the machine (aborted before it is sent). It takes a
// full-page screenshot of each page for a person to look at.
//
//   node check.mjs --modules DIR --book DIR --screenshots DIR --report FILE \
//                  --chromium PATH page.html...
//
// --modules is the node_modules directory holding playwright-core (xtask installs
// it from the package-lock.json beside this file). Exit status: 0 when the report
// was written (whatever it says), non-zero when the check itself could not run.

import { createRequire } from 'node:module';
import { parseArgs } from 'node:util';
import { createServer } from 'node:http';
import { readFile, writeFile, rename, mkdir } from 'node:fs/promises';
import path from 'node:path';

const { values: options, positionals: pages } = parseArgs({
  options: {
    modules: { type: 'string' },
    book: { type: 'string' },
    screenshots: { type: 'string' },
    report: { type: 'string' },
    chromium: { type: 'string' },
  },
  allowPositionals: true,
});
for (const name of ['modules', 'book', 'screenshots', 'report', 'chromium']) {
  if (!options[name]) fail(`--${name} is required`);
}
if (pages.length === 0) fail('no pages to check were given');

const require = createRequire(path.join(path.resolve(options.modules), 'check.cjs'));
const { chromium } = require('playwright-core');

// Content types of the files an mdBook serves. An image served with the wrong
// type does not render, so an unknown extension is reported rather than guessed.
const CONTENT_TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.webp': 'image/webp',
  '.ico': 'image/x-icon',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
  '.ttf': 'font/ttf',
  '.otf': 'font/otf',
  '.eot': 'application/vnd.ms-fontobject',
  '.txt': 'text/plain; charset=utf-8',
  '.csv': 'text/csv; charset=utf-8',
  '.md': 'text/markdown; charset=utf-8',
};

const bookRoot = path.resolve(options.book);
const server = createServer(async (request, response) => {
  // Anything that is not a file of the book, of a known type, is a 404: a
  // malformed or escaping path, a directory, a missing file.
  try {
    const pathname = decodeURIComponent(new URL(request.url, 'http://loopback').pathname);
    const file = path.join(bookRoot, pathname.endsWith('/') ? `${pathname}index.html` : pathname);
    const type = CONTENT_TYPES[path.extname(file).toLowerCase()];
    if (!file.startsWith(bookRoot + path.sep) || !type) throw new Error('not a file of the book');
    const body = await readFile(file);
    response.writeHead(200, { 'content-type': type, 'cache-control': 'no-store' }).end(body);
  } catch {
    response.writeHead(404).end();
  }
});
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const origin = `http://127.0.0.1:${server.address().port}`;

const browser = await chromium.launch({
  executablePath: options.chromium,
  headless: true,
  // Playwright gives the browser a fresh, empty profile directory of its own.
  args: [
    '--no-sandbox',
    '--disable-gpu',
    '--disable-quic',
    '--no-first-run',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    '--disable-dev-shm-usage',
    // Behind the per-request check below, two walls so nothing the page misses
    // (a prefetch, the browser's own traffic) can leave either: no host name
    // resolves, and every connection not to loopback goes to a proxy that is not
    // there (loopback is never proxied).
    '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1',
    '--proxy-server=http://127.0.0.1:9',
  ],
});

const report = { origin, pages: [] };
try {
  const context = await browser.newContext({
    viewport: { width: 1280, height: 900 },
    serviceWorkers: 'block',
  });
  context.setDefaultTimeout(30_000);
  await mkdir(options.screenshots, { recursive: true });
  for (const name of pages) {
    try {
      report.pages.push(await checkPage(context, name));
    } catch (error) {
      // A page that never finishes loading (a request that hangs) is the page's
      // problem, not the check's: record it and go on to the next page.
      const detail = `the page did not finish loading: ${error.message.split('\n')[0]}`;
      console.log(`book: ${name}: ${detail}`);
      report.pages.push({ page: name, images: 0, math: 0, screenshot: '', problems: [{ kind: 'load', detail }] });
    }
  }
} finally {
  await browser.close();
  server.close();
}

const temporary = `${options.report}.tmp`;
await writeFile(temporary, JSON.stringify(report, null, 2));
await rename(temporary, options.report);

/** Opens one page and returns what it found: counts, problems, the screenshot. */
async function checkPage(context, name) {
  // The same problem is reported once: mdBook writes each figure twice (once as
  // is, once inside its click-to-zoom wrapper), and both copies make a request.
  const problems = [];
  const problem = (kind, detail) => {
    if (!problems.some((p) => p.kind === kind && p.detail === detail)) problems.push({ kind, detail });
  };
  const shown = (url) => (url.startsWith(`${origin}/`) ? url.slice(origin.length + 1) : url);

  const page = await context.newPage();
  const aborted = new Set();
  const answeredWithError = new Set();
  // Every request is seen here before it is sent: the book's own server is
  // allowed, data: and blob: URLs never touch the network, anything else is a
  // request that would leave the machine and is aborted.
  await page.route('**/*', (route) => {
    const request = route.request();
    const url = new URL(request.url());
    if (url.origin === origin || url.protocol === 'data:' || url.protocol === 'blob:') {
      return route.continue();
    }
    aborted.add(request);
    problem('network', `${request.resourceType()} ${request.url()} would leave the machine (aborted, not sent)`);
    return route.abort('blockedbyclient');
  });
  // A request answered with an error status is reported as such, not again when
  // the browser then abandons its body.
  page.on('requestfailed', (request) => {
    if (!aborted.has(request) && !answeredWithError.has(request)) {
      problem('request-failed', `${request.resourceType()} ${shown(request.url())}: ${request.failure()?.errorText}`);
    }
  });
  page.on('response', (response) => {
    if (response.status() >= 400) {
      answeredWithError.add(response.request());
      problem('http-error', `${response.request().resourceType()} ${shown(response.url())} answered ${response.status()}`);
    }
  });
  page.on('pageerror', (error) => problem('script-error', error.message.split('\n')[0]));

  await page.goto(`${origin}/${name}`, { waitUntil: 'load' });
  // Lazy images load only when scrolled to: make every one eager and wait until
  // each has either loaded or failed, then wait for the fonts the text uses.
  await page.evaluate(async () => {
    const settled = (img) =>
      img.complete
        ? null
        : new Promise((resolve) => {
            img.addEventListener('load', resolve, { once: true });
            img.addEventListener('error', resolve, { once: true });
          });
    for (const img of document.images) img.loading = 'eager';
    await Promise.all([...document.images].map(settled));
    await document.fonts.ready;
  });
  await page.waitForLoadState('networkidle');

  const found = await page.evaluate(async () => {
    // decode() rejects for an image that did not load or cannot be drawn; unlike
    // naturalWidth it also works for an SVG that has no intrinsic size.
    const images = [...document.images];
    const drawable = await Promise.all(
      images.map((img) => (img.complete && img.currentSrc ? img.decode().then(() => true, () => false) : false)),
    );
    return {
      images: new Set(images.map((img) => img.currentSrc || img.src)).size,
      brokenImages: images.filter((_, i) => !drawable[i]).map((img) => img.getAttribute('src') ?? ''),
      math: document.querySelectorAll('.katex').length,
      // KaTeX's title names the error and quotes the source it could not parse.
      katexErrors: [...document.querySelectorAll('.katex-error')].map(
        (span) => span.getAttribute('title') ?? `KaTeX error in ${span.textContent.slice(0, 80)}`,
      ),
      // mdBook's script disables the highlight themes not in use; those have no sheet.
      missingStylesheets: [...document.querySelectorAll('link[rel~="stylesheet"]')]
        .filter((link) => !link.disabled && !link.sheet)
        .map((link) => link.getAttribute('href') ?? ''),
      failedFonts: [...document.fonts]
        .filter((font) => font.status === 'error')
        .map((font) => `${font.family} ${font.style} ${font.weight}`),
    };
  });
  for (const src of found.brokenImages) problem('broken-image', `image ${src} did not load`);
  for (const error of found.katexErrors) problem('katex-error', error);
  for (const href of found.missingStylesheets) problem('stylesheet', `stylesheet ${href} did not load`);
  for (const font of found.failedFonts) problem('font', `font ${font} did not load`);

  const screenshot = path.join(options.screenshots, name.replace(/\.html$/, '.png'));
  await mkdir(path.dirname(screenshot), { recursive: true });
  await page.screenshot({ path: screenshot, fullPage: true });
  await page.close();

  console.log(
    `book: ${name}: ${found.images} images, ${found.math} math, ${problems.length} problem(s) in Chromium`,
  );
  return { page: name, images: found.images, math: found.math, screenshot, problems };
}

function fail(message) {
  console.error(`check.mjs: ${message}`);
  process.exit(2);
}
