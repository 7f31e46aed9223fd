// The book's TensorBoard figures (run by `cargo xtask tensorboard --screenshots`).
//
// Opens a TensorBoard that xtask started on loopback in headless Chromium, through
// Playwright, and saves what a learner sees in three of its tabs: the scalars of
// the mlp run, its weight and gradient histograms, and the backpropagation
// chapter's computational graph. Every request that is not to the loopback server
// is aborted (TensorBoard needs none) and makes the script fail.
//
//   node screenshots.mjs --modules DIR --chromium PATH --url http://127.0.0.1:PORT/ --out DIR
//
// --modules is the node_modules directory holding playwright-core (the one
// `cargo xtask book --check` installs). Writes scalars.png, histograms.png and
// graph.png into --out.

import { createRequire } from 'node:module';
import { parseArgs } from 'node:util';
import path from 'node:path';

const { values: options } = parseArgs({
  options: {
    modules: { type: 'string' },
    chromium: { type: 'string' },
    url: { type: 'string' },
    out: { type: 'string' },
  },
});
for (const name of ['modules', 'chromium', 'url', 'out']) {
  if (!options[name]) fail(`--${name} is required`);
}
const require = createRequire(path.join(path.resolve(options.modules), 'screenshots.cjs'));
const { chromium } = require('playwright-core');

// The tab, its URL fragment, and an element that exists once the tab has drawn.
const SHOTS = [
  {
    file: 'scalars.png',
    hash: '#scalars&regexInput=%5Emlp%24&tagFilter=accuracy%7Closs&_smoothingWeight=0',
    // Show every epoch, the first one's high loss included.
    untick: 'Ignore outliers in chart scaling',
    ready: 'tf-scalar-card, .tf-line-chart, vz-line-chart2',
  },
  {
    file: 'histograms.png',
    hash: '#histograms&regexInput=%5Emlp%24&tagFilter=layer2',
    ready: 'tf-histogram-loader, vz-histogram-timeseries',
  },
  {
    file: 'graph.png',
    hash: '#graphs&run=mlp-graph',
    ready: 'tf-graph-scene',
    zoom: 3,
    select: 'z',
  },
];

const browser = await chromium.launch({
  executablePath: options.chromium,
  args: [
    '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync',
  ],
});
const origin = new URL(options.url).origin;
const outside = [];
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  await page.route('**/*', (route) => {
    const url = route.request().url();
    if (new URL(url).origin === origin) return route.continue();
    outside.push(url);
    return route.abort();
  });
  for (const shot of SHOTS) {
    await page.goto(new URL(shot.hash, options.url).href, { waitUntil: 'networkidle' });
    await page.waitForSelector(shot.ready, { state: 'attached', timeout: 30000 }).catch(() => {
      fail(`${shot.file}: TensorBoard did not draw (${shot.ready}) within 30 s`);
    });
    // Charts animate in and fetch their data after the element exists.
    await page.waitForLoadState('networkidle');
    await page.waitForTimeout(2500);
    if (shot.untick) {
      await page.getByText(shot.untick).click();
      await page.waitForTimeout(1500);
    }
    if (shot.zoom) {
      // The graph is drawn small in a corner; zoom in on it as a reader would,
      // with the mouse wheel over its middle.
      const centre = await unionOf(page.locator('tf-graph-scene .node ellipse'));
      if (centre) {
        await page.mouse.move(centre.x, centre.y);
        for (let i = 0; i < shot.zoom; i++) {
          await page.mouse.wheel(0, -100);
          await page.waitForTimeout(150);
        }
        await page.waitForTimeout(1000);
        // Then drag it to the middle of the drawing area.
        const scene = await page.locator('tf-graph-scene').first().boundingBox();
        const moved = await unionOf(page.locator('tf-graph-scene .node ellipse'));
        if (scene && moved) {
          await page.mouse.move(moved.x, moved.y);
          await page.mouse.down();
          await page.mouse.move(scene.x + scene.width / 2, scene.y + scene.height / 2, { steps: 10 });
          await page.mouse.up();
          await page.waitForTimeout(800);
        }
      }
    }
    if (shot.select) {
      // Selecting a node opens TensorBoard's card with its operation, inputs and shapes.
      await page.locator(`tf-graph-scene g.node[data-name="${shot.select}"] ellipse`).first().click();
      await page.waitForTimeout(1500);
    }
    await page.screenshot({ path: path.join(options.out, shot.file) });
    console.log(`screenshots: ${shot.file}`);
  }
} finally {
  await browser.close();
}
if (outside.length > 0) fail(`TensorBoard asked for outside resources: ${outside.join(', ')}`);

// The centre of the box around every element `locator` matches, or null.
async function unionOf(locator) {
  const boxes = (await Promise.all((await locator.all()).map((n) => n.boundingBox()))).filter(Boolean);
  if (boxes.length === 0) return null;
  const left = Math.min(...boxes.map((b) => b.x));
  const right = Math.max(...boxes.map((b) => b.x + b.width));
  const top = Math.min(...boxes.map((b) => b.y));
  const bottom = Math.max(...boxes.map((b) => b.y + b.height));
  return { x: (left + right) / 2, y: (top + bottom) / 2 };
}

function fail(message) {
  console.error(`screenshots: ${message}`);
  process.exit(1);
}
