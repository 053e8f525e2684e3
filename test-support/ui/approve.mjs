// The dashboard in a real browser: Debian's Chromium, driven by playwright-core (pinned in
// test-support/npm), run by tend-cli's daemon tests (tests/daemon/ui.rs) against a daemon whose
// run waits for an approval.
//
// Opens `tend ui --print`'s link, screenshots the tasks page and the timeline, goes to the
// approvals inbox, screenshots it, clicks Approve, lands on the run's page, waits there until
// the run has succeeded (the page follows it live and reloads itself when it ends), and
// screenshots it. Prints progress to stderr and, last on stdout, one JSON line with what it saw.
//
// Environment: TEND_UI_LINK (the link with the install's key), TEND_UI_SHOTS (a folder for
// the PNGs), TEND_UI_RUN (the parked run's id), CHROMIUM (the browser's executable).
import { createRequire } from "node:module";
import path from "node:path";

const require = createRequire(new URL("../npm/package.json", import.meta.url));
const { chromium } = require("playwright-core");

const link = need("TEND_UI_LINK");
const shots = need("TEND_UI_SHOTS");
const run = need("TEND_UI_RUN");
const executablePath = need("CHROMIUM");
const DEADLINE_MS = 60_000;

function need(name) {
  const value = process.env[name];
  if (!value) {
    console.error(`approve.mjs: ${name} is not set`);
    process.exit(2);
  }
  return value;
}

function log(line) {
  process.stderr.write(`approve.mjs: ${line}\n`);
}

const problems = [];
const browser = await chromium.launch({
  executablePath,
  headless: true,
  args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
});
try {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await context.newPage();
  page.setDefaultTimeout(20_000);
  // A script error, a CSP violation, a failed request or an error status: all problems.
  page.on("console", (msg) => {
    if (msg.type() === "error") problems.push(`console: ${msg.text()}`);
  });
  page.on("pageerror", (err) => problems.push(`page error: ${err.message}`));
  page.on("requestfailed", (req) => {
    // A page that reloads itself ends its own event stream: that is no failure.
    if (req.url().includes("/live")) return;
    problems.push(`request failed: ${req.url()} ${req.failure()?.errorText}`);
  });
  page.on("response", (res) => {
    if (res.status() >= 400) problems.push(`HTTP ${res.status()}: ${res.url()}`);
  });

  const shot = async (name) => {
    const file = path.join(shots, name);
    // From the top: a full-page shot of a scrolled page would paint the sticky menu mid-page.
    await page.evaluate(() => window.scrollTo(0, 0));
    await page.screenshot({ path: file, fullPage: true });
    log(`screenshot ${file}`);
  };

  // The link carries the key; the dashboard answers with a session and drops the key.
  await page.goto(link);
  const landed = new URL(page.url());
  if (landed.searchParams.has("token")) throw new Error(`the key stayed in the address: ${page.url()}`);
  await page.waitForSelector("table.tasks");
  await shot("tasks.png");

  await page.click("nav >> text=Timeline");
  await page.waitForURL(/\/timeline/);
  await shot("timeline.png");

  await page.click("nav >> text=Approvals");
  await page.waitForURL(/\/approvals$/);
  await page.waitForSelector("section.ask");
  const approvalsListed = await page.$$eval("section.ask", (els) => els.map((e) => e.id));
  await shot("approvals.png");

  // Approve: the form posts, the daemon resumes the run, the page goes to the run.
  await Promise.all([
    page.waitForURL(new RegExp(`/runs/${run}$`)),
    page.click("section.ask form:has(input[name=answer][value=approve]) button"),
  ]);
  const landedOn = new URL(page.url()).pathname;
  log(`approved; now at ${landedOn}`);

  // The run goes on in the daemon; the page streams it and reloads itself when it ends. A page
  // that was rendered after the run ended shows it as it is; one that is not live and not yet
  // ended is reloaded (the run may not have started streaming when it was rendered).
  const start = Date.now();
  let finalState = null;
  let reloads = 0;
  while (Date.now() - start < DEADLINE_MS) {
    const state = await page
      .locator("#run-state")
      .textContent({ timeout: 2_000 })
      .catch(() => null);
    if (state && !["queued", "preparing", "running", "waiting_approval"].includes(state.trim())) {
      finalState = state.trim();
      break;
    }
    const live = await page
      .locator("main[data-live]")
      .count()
      .catch(() => 1);
    if (!live) {
      await page.waitForTimeout(250);
      await page.reload();
      reloads += 1;
    } else {
      await page.waitForTimeout(100);
    }
  }
  if (!finalState) throw new Error(`the run did not end within ${DEADLINE_MS} ms`);
  await page.waitForSelector("#transcript");
  // Tool results are folded: unfold the approved command's to read what it printed.
  await page
    .locator("#transcript details", { hasText: "bash answered" })
    .locator("summary")
    .click();
  const transcript = await page.locator("#transcript").innerText();
  const report = await page
    .locator("#report")
    .innerText()
    .catch(() => "");
  log(`run ${run}: ${finalState} (${reloads} reloads by the script)`);
  await shot("run.png");

  console.log(
    JSON.stringify({ approvalsListed, landedOn, finalState, reloads, transcript, report, problems }),
  );
} catch (err) {
  // What the page showed when it went wrong, for the test's failure message.
  for (const page of browser.contexts().flatMap((c) => c.pages())) {
    const text = await page.locator("body").innerText().catch(() => "(no body)");
    log(`at ${page.url()}:\n${text}`);
  }
  log(`problems so far: ${JSON.stringify(problems)}`);
  throw err;
} finally {
  await browser.close();
}
