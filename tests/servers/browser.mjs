// browser.mjs: a real headless browser for integration tests, as a person would use one.
//
// It drives Debian's chromium (/usr/bin/chromium, from `apt-get install -y chromium`) through
// playwright-core (pinned in package.json, installed by `npm ci` here), which never downloads a
// browser of its own. A Rust test writes a scenario, runs the driver and parses one JSON object
// from its stdout, e.g. with std::process::Command and serde_json:
//
//   node tests/servers/browser.mjs SCENARIO.json     (or `-` to read the scenario from stdin)
//
// Each run launches a fresh browser with a new temporary profile (removed at exit), so no
// cookies or storage carry over from one run to the next. Allow about 2 s for the launch.
//
// The scenario is {"steps": [...]}, each step one of:
//   {"goto": URL}                       navigate and wait for load; snapshot after
//   {"fill": SELECTOR, "value": TEXT}   fill an input
//   {"click": SELECTOR}                 click; wait for any navigation it starts; snapshot after
//   {"press": KEY}                      press a key (e.g. "Enter") on the focused element; wait
//                                       for any navigation it starts (no snapshot)
//   {"wait_for": SELECTOR}              wait until an element matching SELECTOR is visible
//   {"snapshot": true}                  record the page as it is
// SELECTOR is CSS (Playwright's selector extensions, like `text=Allow`, also work).
//
// Output: {"snapshots": [...], "errors": [...], "console": [...]}
//   snapshot: {"step", "url", "title", "text" (body innerText), "html" (page.content()),
//              "status" (HTTP status of the last main-frame navigation after redirects;
//              null when it failed, and for data: and about: pages),
//              "error" (the failure of the step that took it, else null),
//              "inputs": [{"name","type","autocomplete","required","value"}],
//              "links": [{"text","href"}]}
//   errors:   one string per failed step, "step N OP: message".
//   console:  {"type","text","url"} for everything the page logs (url: where it was logged, or
//             the resource that failed to load), its uncaught errors ("pageerror", url null)
//             and dialogs ("dialog", url null; each is dismissed). Chromium asks for
//             /favicon.ico, so a server without one adds a 404 "Failed to load resource" error.
// A failed navigation (a goto, or one that a click or key press started) is recorded and the
// scenario goes on; any other failure of a step (no such element, a timeout) is recorded with a
// snapshot of the page, and the remaining steps are skipped. Either way the exit
// status is 0: a test judges the output. Exit 2 is a bad scenario, 1 a driver or launch failure.
// Every step times out after 10 s, so a broken page fails a test fast.
import { chromium } from 'playwright-core';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const STEP_MS = 10_000;
const NAV_GRACE_MS = 500; // how long after a click or key press a navigation may take to start
const CHROMIUM = '/usr/bin/chromium';
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];

function usage(message) {
  process.stderr.write(`browser.mjs: ${message}\nusage: node browser.mjs SCENARIO.json|-\n`);
  process.exit(2);
}

function readScenario(arg) {
  if (!arg) usage('no scenario file');
  let scenario;
  try {
    scenario = JSON.parse(fs.readFileSync(arg === '-' ? 0 : arg, 'utf8'));
  } catch (e) {
    usage(`cannot read scenario ${arg}: ${e.message}`);
  }
  if (!scenario || !Array.isArray(scenario.steps)) usage('scenario must be {"steps": [...]}');
  const str = (v) => typeof v === 'string' && v.length > 0;
  scenario.steps.forEach((s, i) => {
    const ok = s && typeof s === 'object' && (
      (str(s.goto) && Object.keys(s).length === 1) ||
      (str(s.fill) && typeof s.value === 'string' && Object.keys(s).length === 2) ||
      (str(s.click) && Object.keys(s).length === 1) ||
      (str(s.press) && Object.keys(s).length === 1) ||
      (str(s.wait_for) && Object.keys(s).length === 1) ||
      (s.snapshot === true && Object.keys(s).length === 1));
    if (!ok) usage(`step ${i} is not a known step: ${JSON.stringify(s)}`);
  });
  return scenario;
}

// Playwright's messages end in a log of its own steps ("Call log:" or "=== logs ==="): keep
// what went wrong.
function message(e) {
  return String(e && e.message || e).split(/\nCall log:|\n=+ logs =+/)[0].trim();
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function main() {
  const scenario = readScenario(process.argv[2]);
  const out = { snapshots: [], errors: [], console: [] };
  const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'authsome-browser-'));
  process.on('exit', () => fs.rmSync(userDataDir, { recursive: true, force: true, maxRetries: 3 }));
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(sig, () => process.exit(1));

  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM, headless: true, args: ARGS, timeout: 30_000,
  });
  try {
    context.setDefaultTimeout(STEP_MS);
    context.setDefaultNavigationTimeout(STEP_MS);
    const page = context.pages()[0] ?? await context.newPage();

    page.on('console', (m) => out.console.push({ type: m.type(), text: m.text(), url: m.location().url || null }));
    page.on('pageerror', (e) => out.console.push({ type: 'pageerror', text: message(e), url: null }));
    page.on('dialog', (d) => {
      out.console.push({ type: 'dialog', text: d.message(), url: null });
      d.dismiss().catch(() => {});
    });

    // The status of the last main-frame navigation: the final response after redirects, or null
    // when the navigation failed.
    let status = null;
    const mainNav = (r) => r.isNavigationRequest() && r.frame() === page.mainFrame();
    page.on('request', (r) => { if (mainNav(r)) status = null; });
    page.on('response', (r) => { if (mainNav(r.request())) status = r.status(); });
    page.on('requestfailed', (r) => { if (mainNav(r)) status = null; });
    // A navigation that Playwright answers with no response: data: and about: URLs have no
    // status; a same-document (#fragment) navigation keeps the document's.
    const navigatedTo = (response) => {
      if (response) status = response.status();
      else if (!/^https?:/.test(page.url())) status = null;
    };

    async function snapshot(step, error = null) {
      for (let attempt = 0; ; attempt++) {
        try {
          const dom = await page.evaluate(() => ({
            title: document.title,
            text: document.body ? document.body.innerText : '',
            inputs: [...document.querySelectorAll('input')].map((i) => ({
              name: i.getAttribute('name'),
              type: i.type,
              autocomplete: i.getAttribute('autocomplete'),
              required: i.required,
              value: i.value,
            })),
            links: [...document.querySelectorAll('a[href]')].map((a) => ({
              text: a.innerText.trim(),
              href: a.href,
            })),
          }));
          const html = await page.content();
          out.snapshots.push({ step, url: page.url(), title: dom.title, text: dom.text, html, status,
            error, inputs: dom.inputs, links: dom.links });
          return;
        } catch (e) {
          // A navigation that was still under way destroyed the page being read: read the next.
          if (attempt >= 1) throw e;
          await page.waitForLoadState('load').catch(() => {});
        }
      }
    }

    // Run an action (click, key press) and, when it starts a main-frame navigation within
    // NAV_GRACE_MS, wait for that navigation to load. Returns the navigation's error, or null.
    // Throws when the action itself fails.
    async function settling(action) {
      let started = false;
      const onRequest = (r) => { if (mainNav(r)) started = true; };
      page.on('request', onRequest);
      const navigated = page.waitForNavigation({ waitUntil: 'load', timeout: STEP_MS })
        .then((response) => { navigatedTo(response); return 'navigated'; }, (e) => e);
      try {
        await action();
        let outcome = await Promise.race([navigated, sleep(NAV_GRACE_MS).then(() => 'none')]);
        if (outcome === 'none' && started) outcome = await navigated;
        return outcome instanceof Error && started ? message(outcome) : null;
      } finally {
        page.off('request', onRequest);
      }
    }

    for (const [i, step] of scenario.steps.entries()) {
      const op = Object.keys(step).find((k) => k !== 'value');
      try {
        // A failed navigation is recorded, and the scenario goes on.
        const navFailed = (error) => {
          if (error) out.errors.push(`step ${i} ${op} ${JSON.stringify(step[op])}: ${error}`);
          return error;
        };
        if (op === 'goto') {
          const error = await page.goto(step.goto, { waitUntil: 'load' })
            .then((response) => { navigatedTo(response); return null; }, message);
          await snapshot(i, navFailed(error));
        } else if (op === 'fill') {
          await page.fill(step.fill, step.value);
        } else if (op === 'click') {
          const error = await settling(() => page.click(step.click));
          await snapshot(i, navFailed(error));
        } else if (op === 'press') {
          navFailed(await settling(() => page.keyboard.press(step.press)));
        } else if (op === 'wait_for') {
          await page.waitForSelector(step.wait_for);
        } else if (op === 'snapshot') {
          await snapshot(i);
        }
      } catch (e) {
        const error = message(e);
        const left = scenario.steps.length - i - 1;
        out.errors.push(`step ${i} ${op} ${JSON.stringify(step[op])}: ${error}` +
          (left ? ` (${left} remaining step${left === 1 ? '' : 's'} skipped)` : ''));
        await snapshot(i, error).catch((e2) => out.errors.push(`step ${i} snapshot: ${message(e2)}`));
        break;
      }
    }
  } finally {
    await context.close().catch(() => {});
  }
  await new Promise((resolve) => process.stdout.write(JSON.stringify(out) + '\n', resolve));
}

main().then(() => process.exit(0), (e) => {
  process.stderr.write(`browser.mjs: ${e && e.stack || e}\n`);
  process.exit(1);
});
