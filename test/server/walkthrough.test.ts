// README's first steps as a newcomer takes them: `npm start` (the command package.json names, run
// as a real process on a free port), the URL it prints opened in real headless Chromium, an example
// run, then what issue 20 asks of the playground: a worker's log lines appear one by one while it
// runs, before its result; a Code Mode snippet over the demo namespace streams the same way; a long
// run is canceled from the page and the server frees its slot (/healthz and /metrics say no call is
// in flight).

import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { chromium, type Browser, type Page } from "playwright-core";
import { freePort, stopChild } from "./processes.ts";

const root = join(import.meta.dirname, "../..");
const chromiumPath = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const skip = existsSync(chromiumPath) ? false : `no Chromium at ${chromiumPath} (apt-get install -y chromium, or set CHROMIUM_PATH)`;

/** The page's document, as far as the test reads it (the test tsconfig has no DOM lib). */
interface PageGlobals {
  document: { querySelectorAll(selector: string): { length: number }; getElementById(id: string): { className: string; textContent: string | null } | null };
}

/** Types `code` into the editor as a user would (select all, type). */
async function typeCode(page: Page, code: string): Promise<void> {
  await page.click("#editor .CodeMirror-code");
  await page.keyboard.press("Control+A");
  await page.keyboard.insertText(code);
}

/** Waits until the page shows `count` log lines; answers when (performance.now()) and whether the run was still going. */
async function logLine(page: Page, count: number): Promise<{ at: number; running: boolean; text: string }> {
  await page.waitForFunction((n) => (globalThis as unknown as PageGlobals).document.querySelectorAll("#logs li").length >= n, count, { timeout: 20_000, polling: 10 });
  const at = performance.now();
  const running = (await page.getAttribute("#status", "class")) === "running";
  const text = (await page.$$eval("#logs li", (items, n) => items[n - 1].textContent, count)) ?? "";
  return { at, running, text };
}

describe("a newcomer's walk through README: npm start, the playground, live logs and Cancel", { skip }, () => {
  let child: ChildProcess;
  let output = "";
  let url: string;
  let browser: Browser;
  let page: Page;
  const foreign: string[] = [];
  const problems: string[] = [];

  const health = async () => (await fetch(`${url}/healthz`)).json() as Promise<{ inFlight: number; liveWorkers: number }>;
  const inFlightMetric = async () => Number(/^islet_in_flight_calls (\d+)$/m.exec(await (await fetch(`${url}/metrics`)).text())?.[1]);

  before(async () => {
    // "npm start": whatever package.json says it runs, on a free port (8787 may be taken here).
    const start = (JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as { scripts: { start: string } }).scripts.start;
    assert.equal(start, "node dist/cli/main.js serve");
    const [command, ...args] = start.split(" ");
    assert.equal(command, "node");
    const port = await freePort();
    const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith("ISLET_") && !name.startsWith("OTEL_")));
    child = spawn(process.execPath, [...args, "--port", String(port)], { cwd: root, env, stdio: ["ignore", "pipe", "pipe"] });
    child.stdout!.on("data", (chunk) => (output += chunk));
    child.stderr!.on("data", (chunk) => (output += chunk));
    // "Open the printed URL".
    const deadline = Date.now() + 20_000;
    let printed: RegExpExecArray | null = null;
    while ((printed = /playground at (http:\/\/\S+?)\/?,/.exec(output)) === null) {
      if (child.exitCode !== null || Date.now() > deadline) throw new Error(`islet serve did not print its URL:\n${output}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    url = printed[1];
    assert.equal(url, `http://127.0.0.1:${port}`);
    browser = await chromium.launch({
      executablePath: chromiumPath,
      args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
    });
    const context = await browser.newContext();
    await context.route("**/*", (route) => {
      const target = route.request().url();
      if (new URL(target).origin === url) return route.continue();
      foreign.push(target);
      return route.abort("blockedbyclient");
    });
    page = await context.newPage();
    page.on("pageerror", (error) => problems.push(`page error: ${error.message}`));
    page.on("console", (message) => void (message.type() === "error" && problems.push(`console: ${message.text()}`)));
    await page.goto(`${url}/`);
    await page.waitForSelector("#editor .CodeMirror");
  });

  after(async () => {
    await browser?.close();
    if (child !== undefined) await stopChild(child);
  });

  it("pick an example, press Run: the page shows its result, logs and CPU/wall time", async () => {
    await page.selectOption("#example", "rpc");
    assert.equal(await page.isVisible("#cancel"), false, "no Cancel button before a run");
    await page.click("#run");
    await page.waitForSelector("#status.ok, #status.error");
    assert.equal(await page.textContent("#status"), "Finished");
    assert.deepEqual(JSON.parse((await page.textContent("#result"))!), { message: "Hello, Ada!", letters: 3 });
    assert.match((await page.textContent("#logs"))!, /greeting Ada/);
    assert.match((await page.textContent("#wall-ms"))!, /^\d+(\.\d+)? ms$/);
  });

  it("a worker's log lines appear one by one as it makes them, before its result; the last run's result is gone meanwhile", async () => {
    // The previous test left a result on screen.
    assert.equal(await page.isVisible("#result-block"), true);
    await typeCode(page, `export default {
  async steps(name) {
    for (let step = 1; step <= 3; step++) {
      console.log("step", step, "for", name);
      await scheduler.wait(600);
    }
    return { done: name };
  }
};`);
    await page.fill("#method", "steps");
    const clicked = performance.now();
    await page.click("#run");
    const lines = [];
    for (let n = 1; n <= 3; n++) {
      const line = await logLine(page, n);
      lines.push(line);
      if (n === 1) {
        assert.equal(await page.isVisible("#cancel"), true, "Cancel is offered while the run goes on");
        assert.equal(await page.isVisible("#result-block"), false, "the previous result is not shown beside a new run's logs");
        assert.equal(await page.textContent("#result"), "");
      }
    }
    await page.waitForSelector("#status.ok");
    const finished = performance.now();
    assert.deepEqual(lines.map((line) => [line.running, line.text]), [
      [true, "logstep 1 for Ada"],
      [true, "logstep 2 for Ada"],
      [true, "logstep 3 for Ada"],
    ]);
    // One by one: each came about the worker's 600 ms wait after the one before, not all at the end.
    for (let n = 1; n < 3; n++) assert.ok(lines[n].at - lines[n - 1].at >= 300, `line ${n + 1} came ${Math.round(lines[n].at - lines[n - 1].at)} ms after line ${n}`);
    assert.ok(finished - lines[2].at >= 300, `the result came ${Math.round(finished - lines[2].at)} ms after the last line`);
    assert.ok(lines[0].at - clicked < 1500, `the first line took ${Math.round(lines[0].at - clicked)} ms`);
    assert.deepEqual(JSON.parse((await page.textContent("#result"))!), { done: "Ada" });
    assert.equal(await page.$$eval("#logs li", (items) => items.length), 3, "each line once: the answer's logs do not repeat them");
    assert.equal(await page.isVisible("#cancel"), false);
  });

  it("a Code Mode snippet over the demo namespace streams its lines the same way", async () => {
    await page.selectOption("#example", "codemode-demo");
    await page.waitForFunction(() => ((globalThis as unknown as PageGlobals).document.getElementById("api-note")?.textContent ?? "").includes("demo source"));
    await typeCode(page, `async () => {
  const { conditions } = await demo.weather({ city: "Oslo" });
  console.log("Oslo is", conditions);
  await scheduler.wait(700);
  const lamps = await demo.searchProducts({ query: "lamp" });
  console.warn("lamps found:", lamps.length);
  await scheduler.wait(700);
  return { conditions, lamps: lamps.length };
}`);
    await page.click("#run");
    const first = await logLine(page, 1);
    const second = await logLine(page, 2);
    await page.waitForSelector("#status.ok");
    const finished = performance.now();
    assert.deepEqual([first.running, first.text], [true, "logOslo is snow"]);
    assert.equal(second.running, true);
    assert.match(second.text, /^warnlamps found: \d+$/);
    assert.ok(second.at - first.at >= 350 && finished - second.at >= 350, `lines at +0, +${Math.round(second.at - first.at)} ms, result at +${Math.round(finished - first.at)} ms`);
    const result = JSON.parse((await page.textContent("#result"))!) as { conditions: string; lamps: number };
    assert.equal(result.conditions, "snow");
    assert.equal(second.text, `warnlamps found: ${result.lamps}`);
  });

  for (const kind of ["worker", "codemode"] as const) {
    it(`Cancel stops a long ${kind === "worker" ? "worker" : "Code Mode"} run: the server frees its slot at once (/healthz, /metrics)`, async () => {
      if (kind === "worker") {
        await page.selectOption("#example", "rpc");
        await typeCode(page, `export default { async wait() { console.log("waiting"); await scheduler.wait(25_000); console.log("never"); return 1; } };`);
        await page.fill("#method", "wait");
      } else {
        await page.selectOption("#example", "codemode-demo");
        await typeCode(page, `async () => { console.log("waiting"); await scheduler.wait(25_000); console.log("never"); return 1; }`);
      }
      assert.equal((await health()).inFlight, 0);
      await page.click("#run");
      const line = await logLine(page, 1);
      assert.deepEqual([line.running, line.text], [true, "logwaiting"]);
      const during = await health();
      assert.equal(during.inFlight, 1, "the run holds its slot");
      if (kind === "worker") assert.equal(during.liveWorkers, 1);
      assert.equal(await inFlightMetric(), 1);
      const canceled = performance.now();
      await page.click("#cancel");
      await page.waitForSelector("#status.canceled");
      assert.match((await page.textContent("#status"))!, /^Canceled after/);
      assert.equal(await page.isVisible("#cancel"), false);
      // The logs before the cancel stay; no result is shown.
      assert.equal(await page.textContent("#logs"), "logwaiting");
      assert.equal(await page.isVisible("#result-block"), false);
      for (;;) {
        const now = await health();
        if (now.inFlight === 0 && now.liveWorkers === 0) break;
        assert.ok(performance.now() - canceled < 5_000, `still in flight 5 s after Cancel: ${JSON.stringify(now)}`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      assert.equal(await inFlightMetric(), 0);
      // The page can run again at once.
      await page.selectOption("#example", "crypto");
      await page.click("#run");
      await page.waitForSelector("#status.ok");
    });
  }

  it("made no request anywhere but the server, and the page logged no errors", () => {
    assert.deepEqual(foreign, []);
    assert.deepEqual(problems, []);
    assert.doesNotMatch(output, /unhandled error/);
  });
});
