// Alarms in facets: ctx.storage.getAlarm/setAlarm/deleteAlarm inside the facet, its alarm() handler
// called when the alarm fires (retried with backoff when it throws), and an alarm set before a
// restart of the host firing after it: through the parent's facets.get() in its constructor, or
// once the parent next calls facets.get(name).
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DurableObjectNamespace, WorkerLoader, type WorkerStub } from "islet";
import { DurableObject } from "islet/workers";
import { sleep } from "../helpers.ts";

const APP = `
import { DurableObject } from "cloudflare:workers";
let alarms = 0;
export class App extends DurableObject {
  async arm(inMs, failTimes = 0) {
    this.ctx.storage.kv.put("fail", failTimes);
    await this.ctx.storage.setAlarm(new Date(Date.now() + inMs));
    return this.ctx.storage.getAlarm();
  }
  getAlarm() { return this.ctx.storage.getAlarm(); }
  async cancel() {
    await this.ctx.storage.deleteAlarm();
    return this.ctx.storage.getAlarm();
  }
  async badTime() {
    try { await this.ctx.storage.setAlarm("soon"); } catch (error) { return error.name; }
  }
  async armInRolledBackTransaction(inMs) {
    await this.ctx.storage.transaction(async (txn) => {
      await this.ctx.storage.setAlarm(Date.now() + inMs);
      txn.rollback();
    });
    return this.ctx.storage.getAlarm();
  }
  async rearm(times) {
    this.ctx.storage.kv.put("rearm", times);
    await this.ctx.storage.setAlarm(Date.now());
  }
  async alarm(info) {
    alarms++;
    const rearm = this.ctx.storage.kv.get("rearm") ?? 0;
    if (rearm > 0) {
      this.ctx.storage.kv.put("rearm", rearm - 1);
      await this.ctx.storage.setAlarm(Date.now());
    }
    await this.env.report({ facet: this.ctx.id.name, retryCount: info.retryCount, isRetry: info.isRetry, alarm: await this.ctx.storage.getAlarm() });
    if (info.retryCount < (this.ctx.storage.kv.get("fail") ?? 0)) throw new Error("not yet");
  }
}
`;

interface Fired {
  facet: string;
  retryCount: number;
  isRetry: boolean;
  alarm: number | null;
  at: number;
}

function setup(isolation: "isolate" | "process") {
  const fired: Fired[] = [];
  const loader = new WorkerLoader({ isolation });
  const worker: WorkerStub = loader.get("alarm-app", () => ({
    compatibilityDate: "2026-01-01",
    mainModule: "app.js",
    modules: { "app.js": APP },
    env: { report: (event: Omit<Fired, "at">) => void fired.push({ ...event, at: Date.now() }) },
  }));
  const startup = () => ({ class: worker.getDurableObjectClass("App") });
  const counts = { constructed: 0 };
  /** A parent that names its facet only when asked to. */
  class Parent extends DurableObject {
    constructor(ctx: any, env: unknown) {
      super(ctx, env);
      counts.constructed++;
    }
    run(name: string, method: string, ...args: unknown[]) {
      return (this.ctx.facets.get(name, startup) as any)[method](...args);
    }
    touch(name: string) {
      this.ctx.facets.get(name, startup);
    }
    clone(source: string, target: string) {
      return this.ctx.facets.clone(source, target);
    }
    delete(name: string) {
      return this.ctx.facets.delete(name);
    }
  }
  /** A parent whose constructor names its facet, as Cloudflare's examples do. */
  class Eager extends Parent {
    constructor(ctx: any, env: unknown) {
      super(ctx, env);
      ctx.facets.get("app", startup);
    }
  }
  return { fired, loader, Parent, Eager, counts };
}

async function until(condition: () => boolean, ms: number, what: string | (() => string)): Promise<void> {
  const end = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${typeof what === "string" ? what : what()}`);
    await sleep(10);
  }
}

/**
 * A fired alarm is cleared once its alarm() has returned and the clear is committed, a moment after
 * the handler reported itself to the test: read getAlarm until it is null, for up to 5 s (a loaded
 * machine showed the gap).
 */
async function clearedAlarm(read: () => Promise<unknown>): Promise<unknown> {
  let alarm = await read();
  for (const end = Date.now() + 5_000; alarm !== null && Date.now() < end; alarm = await read()) await sleep(50);
  return alarm;
}

for (const isolation of ["isolate", "process"] as const) {
  test(`[${isolation}] a facet's setAlarm() fires its alarm() once at its time and is then cleared; deleteAlarm() cancels; a rolled-back setAlarm() never fires; clone() forks the alarm (it fires once the parent names the fork), delete() drops it`, async () => {
    const { fired, loader, Parent } = setup(isolation);
    const ns = new DurableObjectNamespace(Parent, { name: "alarm-parents" });
    try {
      const parent = ns.getByName("p") as any;
      // Alarms 2 s out: on a loaded machine the calls below took over a second (a 1 s alarm fired
      // before the check that nothing had fired yet).
      const armed = Date.now();
      const time = await parent.run("app", "arm", 2_000);
      assert.ok(typeof time === "number" && time >= armed + 1_900, `getAlarm() gave ${time}`);
      assert.equal(await parent.run("app", "getAlarm"), time);
      // Cancelled before its time.
      assert.equal(typeof (await parent.run("cancelled", "arm", 2_000)), "number");
      assert.equal(await parent.run("cancelled", "cancel"), null);
      assert.equal(await parent.run("rolled-back", "armInRolledBackTransaction", 500), null);
      assert.equal(await parent.run("app", "badTime"), "TypeError");
      // Forked with its alarm, then deleted with it.
      const sourceTime = await parent.run("source", "arm", 2_000);
      await parent.clone("source", "fork");
      await parent.run("gone", "arm", 2_000);
      await parent.delete("gone");
      if (Date.now() < time) assert.equal(fired.length, 0, "nothing fired early");

      await until(() => fired.length >= 2, 10_000, () => `two alarms (${JSON.stringify(fired)})`);
      await sleep(Math.max(0, armed + 2_600 - Date.now()));
      for (const event of fired) assert.ok(event.at >= (event.facet === "app" ? time : sourceTime), `${event.facet} fired early`);
      const app = fired.filter((f) => f.facet === "app");
      assert.equal(app.length, 1);
      assert.equal(app[0]!.retryCount, 0);
      assert.equal(app[0]!.isRetry, false);
      assert.ok(app[0]!.at >= time, `fired ${time - app[0]!.at} ms early`);
      assert.deepEqual(fired.map((f) => f.facet).sort(), ["app", "source"]);
      assert.equal(await clearedAlarm(() => parent.run("app", "getAlarm")), null);
      // The fork was never started, and its parent has not named it since: its alarm waits for that.
      await parent.touch("fork");
      await until(() => fired.length >= 3, 5_000, () => `the fork's alarm (${JSON.stringify(fired)})`);
      assert.equal(fired[2]!.facet, "fork");
      assert.equal(await clearedAlarm(() => parent.run("fork", "getAlarm")), null);
    } finally {
      ns.close();
      await loader.close();
    }
  });

  test(`[${isolation}] an alarm() that sets its alarm to now again fires at most once per alarmIntervalMs, not in a loop`, async () => {
    const { fired, loader, Parent } = setup(isolation);
    const ns = new DurableObjectNamespace(Parent, { name: "alarm-parents", facets: { alarmIntervalMs: 500 } });
    try {
      const parent = ns.getByName("rearm") as any;
      await parent.run("app", "rearm", 1_000);
      await sleep(2_300);
      // At once, then about every 500 ms: 5 or so in 2.3 s, where a loop would have made hundreds.
      assert.ok(fired.length >= 2 && fired.length <= 6, `${fired.length} firings in 2.3 s`);
      for (let i = 1; i < fired.length; i++) assert.ok(fired[i]!.at - fired[i - 1]!.at >= 450, `firings ${fired[i]!.at - fired[i - 1]!.at} ms apart`);
    } finally {
      ns.close();
      await loader.close();
    }
  });

  test(`[${isolation}] a facet's alarm() that throws is retried after about 2 s with retryCount 1, isRetry true`, async () => {
    const { fired, loader, Parent } = setup(isolation);
    const ns = new DurableObjectNamespace(Parent, { name: "alarm-parents" });
    try {
      const parent = ns.getByName("retry") as any;
      await parent.run("app", "arm", 10, 1);
      await until(() => fired.length >= 2, 8_000, "the retry");
      await sleep(200);
      assert.deepEqual(fired.map((f) => [f.retryCount, f.isRetry]), [[0, false], [1, true]]);
      const gap = fired[1]!.at - fired[0]!.at;
      assert.ok(gap >= 1_900 && gap < 5_000, `retried after ${gap} ms`);
      assert.equal(await clearedAlarm(() => parent.run("app", "getAlarm")), null);
    } finally {
      ns.close();
      await loader.close();
    }
  });

  test(`[${isolation}] a facet's alarm() that keeps throwing is retried six times, each wait twice the one before (retryCount 1…6, isRetry true), then cleared: it does not fire again, not even after a restart`, async () => {
    const dir = mkdtempSync(join(tmpdir(), "islet-facet-alarms-"));
    const { fired, loader, Parent } = setup(isolation);
    // Retries 50 ms, 100 ms, … 1.6 s apart here (alarmRetryMs; the default starts at 2 s: the test above).
    const options = { name: "alarm-parents", storage: { dir }, alarmRetryMs: 50, facets: { alarmIntervalMs: 10 } };
    let ns = new DurableObjectNamespace(Parent, options);
    try {
      const parent = ns.getByName("retries") as any;
      await parent.run("app", "arm", 10, 100);
      await until(() => fired.length >= 7, 15_000, () => `seven firings (${JSON.stringify(fired)})`);
      await sleep(400);
      assert.deepEqual(fired.map((f) => [f.retryCount, f.isRetry]), [[0, false], [1, true], [2, true], [3, true], [4, true], [5, true], [6, true]]);
      for (let i = 1; i < fired.length; i++) {
        const gap = fired[i]!.at - fired[i - 1]!.at;
        const wait = 50 * 2 ** (i - 1);
        assert.ok(gap >= wait - 5 && gap < wait + 1_500, `retry ${i} came ${gap} ms after the firing before it (expected about ${wait} ms)`);
      }
      assert.equal(await parent.run("app", "getAlarm"), null, "cleared after the last retry");
      ns.close();
      ns = new DurableObjectNamespace(Parent, options);
      await (ns.getByName("retries") as any).touch("app");
      await sleep(500);
      assert.equal(fired.length, 7, "nothing fires after the restart");
    } finally {
      ns.close();
      await loader.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test(`[${isolation}] a facet's alarm set before a restart of the host fires after it: at once when the parent's constructor names the facet, else when the parent next calls facets.get(); an evicted parent's facet fires with the class it last started with`, async () => {
    const dir = mkdtempSync(join(tmpdir(), "islet-facet-alarms-"));
    const { fired, loader, Parent, Eager, counts } = setup(isolation);
    // Closed whatever happens: an open namespace keeps its storage process, and the test's process, alive.
    const openNamespaces: { close(): void }[] = [];
    const track = <T extends { close(): void }>(namespace: T): T => (openNamespaces.push(namespace), namespace);
    try {
      // Before: two parents arm their facets, then the host goes.
      let ns = track(new DurableObjectNamespace(Parent, { name: "alarm-parents", storage: { dir } }));
      // 2.5 s out: on a loaded machine the two calls took over a second, and a 1 s alarm fired first.
      const eagerTime = await (ns.getByName("eager") as any).run("app", "arm", 2_500);
      const lazyTime = await (ns.getByName("lazy") as any).run("app", "arm", 2_500);
      ns.close();
      assert.equal(fired.length, 0);
      await sleep(Math.max(eagerTime, lazyTime) + 200 - Date.now());
      assert.equal(fired.length, 0, "nothing fires while the host is down");

      // After, with a parent class whose constructor calls facets.get("app"): the due alarm wakes
      // the parent, and its facet fires with no call from anyone.
      ns = track(new DurableObjectNamespace(Eager, { name: "alarm-parents", storage: { dir } }));
      await until(() => fired.length >= 2, 5_000, "both alarms after the restart");
      assert.deepEqual(fired.map((f) => f.retryCount), [0, 0]);
      ns.close();

      // A parent that does not name its facet in its constructor: the alarm waits for it.
      fired.length = 0;
      ns = track(new DurableObjectNamespace(Parent, { name: "alarm-parents", storage: { dir } }));
      const lazy = ns.getByName("lazy") as any;
      await lazy.run("app", "arm", 100);
      ns.close();
      await sleep(200);
      ns = track(new DurableObjectNamespace(Parent, { name: "alarm-parents", storage: { dir } }));
      await sleep(400);
      assert.equal(fired.length, 0, "no class known yet");
      await (ns.getByName("lazy") as any).touch("app");
      await until(() => fired.length >= 1, 5_000, "the alarm once the parent named its facet");
      assert.equal(fired[0]!.facet, "app");
      assert.equal(await clearedAlarm(() => (ns.getByName("lazy") as any).run("app", "getAlarm")), null);
      ns.close();

      // A parent evicted while idle (its facets end with it): the alarm starts the facet again.
      fired.length = 0;
      ns = track(new DurableObjectNamespace(Parent, { name: "alarm-parents", storage: { dir }, idleTimeoutMs: 20 }));
      const before = counts.constructed;
      // 1.5 s out: the call must end, and the parent be evicted, before the alarm is due (a 400 ms
      // alarm fired while the call was still returning on a loaded machine).
      await (ns.getByName("evicted") as any).run("app", "arm", 1_500);
      await until(() => fired.length >= 1, 5_000, "the evicted parent's facet's alarm");
      assert.equal(fired[0]!.facet, "app");
      // At least twice: for the call, then again for the alarm after its eviction (on a loaded
      // machine the 20 ms idle timeout may evict it once more before the test looks).
      assert.ok(counts.constructed >= before + 2, `the parent was evicted, then woken for the alarm (constructed ${counts.constructed - before} times)`);
      ns.close();
    } finally {
      openNamespaces.forEach((open) => open.close());
      await loader.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
}
