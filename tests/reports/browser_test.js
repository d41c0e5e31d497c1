// Opens the benchmark and chaos reports rendered from tests/reports/fixtures in Debian chromium
// (playwright-core from reports/node_modules, a fresh profile, no network) and checks the tables,
// that every chart was drawn by Chart.js with real pixels on its canvas, that the page made no
// network request and logged no error, and that a full-page screenshot is not blank.
//
// Usage: node browser_test.js RENDER_DIR FIXTURES_DIR   (run_reports_test.sh renders RENDER_DIR)
'use strict';
const assert = require('assert');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { decodePng, colourStats } = require('./png');

const repoRoot = path.resolve(__dirname, '..', '..');
const { chromium } = require(path.join(repoRoot, 'reports', 'node_modules', 'playwright-core'));

const [renderDir, fixturesDir] = process.argv.slice(2);
const chromiumPath = process.env.CHROMIUM || '/usr/bin/chromium';
const HERALD_RGB = [0x0f, 0x76, 0x6e];  // --herald in reports/templates/report.css
const BAD_RGB = [0xdc, 0x26, 0x26];     // --bad

let checks = 0;
function check(condition, message) {
  assert.ok(condition, message);
  checks += 1;
}

async function openReport(context, file) {
  const page = await context.newPage();
  const problems = [];
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('console', (m) => { if (m.type() === 'error') problems.push(`console error: ${m.text()}`); });
  await page.setViewportSize({ width: 1280, height: 900 });
  await page.goto('file://' + path.resolve(renderDir, file), { waitUntil: 'load' });
  await page.waitForSelector('body[data-charts-ready]', { timeout: 15000 });
  return { page, problems };
}

// Every canvas: a Chart.js chart exists on it, it has a size, and it has drawn pixels.
async function checkCharts(page, minimum) {
  const charts = await page.evaluate(() => Array.from(document.querySelectorAll('canvas')).map((c) => {
    const chart = window.Chart && window.Chart.getChart(c);
    const ctx = c.getContext('2d');
    const data = ctx.getImageData(0, 0, c.width, c.height).data;
    let drawn = 0;
    for (let i = 3; i < data.length; i += 4) if (data[i] > 0) drawn++;
    return { id: c.id, chart: !!chart, type: chart ? chart.config.type : null, width: c.width,
             height: c.height, drawn, points: chart ? chart.data.datasets.reduce((n, d) => n + d.data.length, 0) : 0 };
  }));
  const ready = Number(await page.getAttribute('body', 'data-charts-ready'));
  check(charts.length >= minimum, `at least ${minimum} charts, found ${charts.length}`);
  check(ready === charts.length, `data-charts-ready ${ready} = canvases ${charts.length}`);
  for (const c of charts) {
    check(c.chart, `${c.id}: a Chart.js chart`);
    check(c.width > 100 && c.height > 100, `${c.id}: canvas ${c.width}x${c.height}`);
    check(c.points > 0, `${c.id}: has data`);
    check(c.drawn > 500, `${c.id}: ${c.drawn} drawn pixels`);
  }
  return charts;
}

async function tableRows(page, id) {
  return page.$$eval(`#${id} tbody tr`, (rows) => rows.map((r) => ({
    cls: r.className, cells: Array.from(r.cells).map((c) => c.textContent.trim()) })));
}

async function tableHeaders(page, id) {
  return page.$$eval(`#${id} thead th`, (ths) => ths.map((t) => t.textContent.trim()));
}

async function screenshotStats(page, file, rgb, locator) {
  const out = path.join(renderDir, file);
  if (locator) await page.locator(locator).screenshot({ path: out });
  else await page.screenshot({ path: out, fullPage: true });
  const image = decodePng(fs.readFileSync(out));
  return { ...colourStats(image, rgb), width: image.width, height: image.height, path: out };
}

async function benchReport(context) {
  const macro = JSON.parse(fs.readFileSync(path.join(fixturesDir, 'macro.json'), 'utf8'));
  const micro = JSON.parse(fs.readFileSync(path.join(fixturesDir, 'micro.json'), 'utf8'));
  const microNames = new Set(micro.benchmarks.filter((b) => b.run_type === 'iteration').map((b) => b.run_name));
  const { page, problems } = await openReport(context, 'bench.html');

  check((await page.title()) === 'Herald benchmarks', 'bench title');
  const headers = await tableHeaders(page, 'macro-table');
  check(headers.includes('nats-server') && headers.includes('Herald') && headers.includes('Herald/nats'),
        `macro headers: ${headers.join(', ')}`);
  const rows = await tableRows(page, 'macro-table');
  check(rows.length === Object.keys(macro.summary).length,
        `macro rows ${rows.length} = fixture cases ${Object.keys(macro.summary).length}`);
  for (const [name, entry] of Object.entries(macro.summary)) {
    const row = rows.find((r) => r.cells[0] === entry.label);
    check(row, `macro row for ${entry.label}`);
    const ratio = entry.herald.median / entry.nats.median;
    check(row.cells[6].startsWith(ratio.toFixed(2)), `${name}: ratio ${row.cells[6]} ~ ${ratio.toFixed(2)}`);
    check(/–/.test(row.cells[3]) && /n=\d/.test(row.cells[3]), `${name}: nats spread ${row.cells[3]}`);
  }
  const pub16 = rows.find((r) => r.cells[0] === 'pub 16 B');
  check(pub16.cls.includes('regression') && /REGRESSION/.test(pub16.cells[7]), 'pub 16 B marked as a regression');
  const microRows = await tableRows(page, 'micro-table');
  check(microRows.length === microNames.size, `micro rows ${microRows.length} = ${microNames.size}`);
  const parser = microRows.find((r) => r.cells[0] === 'BM_Parser_Pub/payload:16');
  check(parser && parser.cls.includes('regression'), 'BM_Parser_Pub/payload:16 marked as a regression');
  const wildcard = microRows.find((r) => r.cells[0] === 'BM_Sublist_Match/wildcard/1000');
  check(wildcard && wildcard.cls.includes('improvement') && /faster/.test(wildcard.cells[6]), 'wildcard match marked faster');
  check(microRows.every((r) => r.cells[5] !== ''), 'allocs/op column filled');
  const regressions = await page.$$eval('#regressions li', (lis) => lis.map((l) => l.textContent));
  check(regressions.length === 2, `2 regressions listed, found ${regressions.length}`);
  const notMeasured = await page.textContent('#not-measured');
  check(/raft/.test(notMeasured) && !/JetStream/.test(notMeasured), 'the raft round named as not measured, JetStream no longer');
  const charts = await checkCharts(page, 2 + Object.keys(macro.summary).length);
  check(charts.some((c) => c.id === 'chart-advantage'), 'advantage chart');
  check(charts.some((c) => c.id === 'chart-micro-change'), 'micro change chart');

  const advantage = await screenshotStats(page, 'bench-advantage.png', HERALD_RGB, '#chart-advantage');
  check(advantage.found > 200, `advantage chart shows Herald bars (${advantage.found} teal pixels)`);
  const change = await screenshotStats(page, 'bench-micro-change.png', BAD_RGB, '#chart-micro-change');
  check(change.found > 50, `micro change chart shows a red regression bar (${change.found} red pixels)`);
  const shot = await screenshotStats(page, 'bench.png', HERALD_RGB);
  check(shot.distinct > 64, `bench screenshot has ${shot.distinct} colours`);
  check(shot.inkShare > 0.05, `bench screenshot ${(shot.inkShare * 100).toFixed(1)}% non-white`);
  check(problems.length === 0, `bench page errors: ${problems.join('; ')}`);
  console.log(`bench.html: ${rows.length} scenarios, ${microRows.length} micro rows, ${charts.length} charts; ` +
              `screenshot ${shot.width}x${shot.height}, ${shot.distinct} colours, ${(shot.inkShare * 100).toFixed(1)}% ink`);
  await page.close();
}

async function chaosReport(context) {
  const swarm = JSON.parse(fs.readFileSync(path.join(fixturesDir, 'swarm.json'), 'utf8'));
  const { page, problems } = await openReport(context, 'chaos.html');
  check((await page.title()) === 'Herald chaos report', 'chaos title');
  const cards = await page.textContent('#cards');
  check(/Seeds run\s*9/i.test(cards), `seeds card: ${cards}`);
  const scenarios = await tableRows(page, 'chaos-scenarios');
  check(scenarios.length === 2, `2 scenarios, found ${scenarios.length}`);
  const faults = await tableRows(page, 'chaos-faults');
  const types = new Set(swarm.runs.flatMap((r) => Object.keys(r.faults)));
  types.add('reset'); types.add('kick');  // swarm-canary.txt
  check(faults.length === types.size, `fault rows ${faults.length} = fault types ${types.size}`);
  const reset = faults.find((r) => r.cells[0] === 'reset');
  check(reset && reset.cells[reset.cells.length - 1] === '7', `reset total 7: ${reset && reset.cells}`);
  const checksRows = await tableRows(page, 'chaos-checks');
  check(checksRows.length === 8, `8 checkers, found ${checksRows.length}`);
  const noLoss = checksRows.find((r) => r.cells[0] === 'no_loss');
  check(noLoss && noLoss.cells[2] === '1' && /FAIL/.test(noLoss.cells[4]), `no_loss failed once: ${noLoss && noLoss.cells}`);
  const noDup = checksRows.find((r) => r.cells[0] === 'no_duplicate');
  check(noDup && noDup.cells[2] === '1', `no_duplicate failed once (text input): ${noDup && noDup.cells}`);
  const cover = await tableRows(page, 'chaos-cover');
  const never = cover.filter((r) => /never hit/.test(r.cells[1])).map((r) => r.cells[0]);
  check(never.length === 1 && never[0] === 'canary: drop a message after a reconnect', `never hit: ${never}`);
  const failures = await page.$$eval('#failures .failure', (fs) => fs.map((f) => f.getAttribute('data-seed')));
  check(failures.length === 2, `2 failures, found ${failures.length}`);
  const replays = await page.$$eval('#failures pre.replay', (ps) => ps.map((p) => p.textContent));
  check(replays.includes('herald-sim run scenarios/reconnect-chaos.json --seed 5 --swarm'), `replay: ${replays}`);
  const shrunk = await page.$$eval('#failures pre.shrunk', (ps) => ps.map((p) => p.textContent));
  check(shrunk.length === 1 && /reconnect-chaos-shrunk/.test(shrunk[0]) && /server_crash/.test(shrunk[0]),
        'shrunk scenario shown');
  const shrinkCmds = await page.$$eval('#failures pre.shrink', (ps) => ps.map((p) => p.textContent));
  check(shrinkCmds.some((c) => c.startsWith('herald-sim shrink scenarios/canaries/duplicate-delivery.json --seed 1')),
        'shrink command for the failure without a shrunk scenario');
  const charts = await checkCharts(page, 4);
  const faultsShot = await screenshotStats(page, 'chaos-faults.png', HERALD_RGB, '#chart-faults');
  check(faultsShot.found > 100, `faults chart drawn (${faultsShot.found} teal pixels)`);
  const shot = await screenshotStats(page, 'chaos.png', BAD_RGB);
  check(shot.distinct > 64, `chaos screenshot has ${shot.distinct} colours`);
  check(shot.inkShare > 0.05, `chaos screenshot ${(shot.inkShare * 100).toFixed(1)}% non-white`);
  check(shot.found > 100, 'chaos screenshot shows red failure marks');
  check(problems.length === 0, `chaos page errors: ${problems.join('; ')}`);
  console.log(`chaos.html: ${scenarios.length} scenarios, ${faults.length} fault types, ${checksRows.length} checkers, ` +
              `${failures.length} failures, ${charts.length} charts; screenshot ${shot.width}x${shot.height}, ` +
              `${shot.distinct} colours`);
  await page.close();
}

async function main() {
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'herald-reports-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: chromiumPath,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
           '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  const requests = [];
  await context.route('**/*', (route) => {
    const url = route.request().url();
    if (url.startsWith('file:') || url.startsWith('data:')) return route.continue();
    requests.push(url);
    return route.abort();
  });
  try {
    await benchReport(context);
    await chaosReport(context);
    check(requests.length === 0, `the reports are self-contained, yet requested: ${requests.join(', ')}`);
  } finally {
    await context.close();
    fs.rmSync(profile, { recursive: true, force: true });
  }
  console.log(`report browser test: ${checks} checks passed`);
}

main().catch((e) => {
  console.error(`report browser test FAILED: ${e.message}`);
  process.exit(1);
});
