// workerd (npm `workerd`) with a Worker Loader binding, started on 127.0.0.1 by the harness.

import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { COMPAT_DATE } from "../fixtures.ts";
import { sleep, type Subject } from "../stats.ts";

const here = fileURLToPath(new URL(".", import.meta.url));
export const WORKERD_BIN = join(here, "../../node_modules/workerd/bin/workerd");

const config = (port: number) => `using Workerd = import "/workerd/workerd.capnp";
const config :Workerd.Config = (
  services = [ (name = "main", worker = .parent), (name = "outbound", worker = .outbound) ],
  sockets = [ (name = "http", address = "127.0.0.1:${port}", http = (), service = "main") ],
);
const parent :Workerd.Worker = (
  modules = [ (name = "main.js", esModule = embed "main.js") ],
  compatibilityDate = "${COMPAT_DATE}",
  bindings = [ (name = "LOADER", workerLoader = ()), (name = "OUTBOUND", service = "outbound") ],
);
const outbound :Workerd.Worker = (
  modules = [ (name = "outbound.js", esModule = "export default { fetch() { return new Response('ok'); } }") ],
  compatibilityDate = "${COMPAT_DATE}",
);
`;

export interface Workerd {
  pid: number;
  get<T>(path: string): Promise<T>;
  rssKb(): number;
  stop(): Promise<void>;
}

const running = new Set<ChildProcess>();

/** Kills every workerd this process started (for exit and signal handlers). */
export function killAllWorkerd(): void {
  for (const child of running) child.kill("SIGKILL");
}

export async function startWorkerd(): Promise<Workerd> {
  const dir = mkdtempSync(join(tmpdir(), "islet-bench-workerd-"));
  const port = await freePort();
  writeFileSync(join(dir, "config.capnp"), config(port));
  writeFileSync(join(dir, "main.js"), readFileSync(join(here, "workerd-worker.js")));
  const child = spawn(WORKERD_BIN, ["serve", "config.capnp", "--experimental"], { cwd: dir, stdio: ["ignore", "ignore", "pipe"] });
  running.add(child);
  let stderr = "";
  child.stderr!.setEncoding("utf8").on("data", (d) => (stderr = (stderr + d).slice(-2000)));
  let exited = false;
  const exit = new Promise<void>((r) => child.once("exit", () => ((exited = true), running.delete(child), r())));
  child.once("error", (e) => (stderr += String(e)));
  const base = `http://127.0.0.1:${port}`;
  const stop = async () => {
    if (!exited) {
      child.kill("SIGTERM");
      await Promise.race([exit, sleep(2000)]);
      if (!exited) child.kill("SIGKILL");
      await exit;
    }
    rmSync(dir, { recursive: true, force: true });
  };
  const get = async <T>(path: string): Promise<T> => {
    const res = await fetch(base + path);
    if (!res.ok) throw new Error(`workerd ${path}: ${res.status} ${(await res.text()).slice(0, 200)}`);
    return (await res.json()) as T;
  };
  const deadline = Date.now() + 15_000;
  for (;;) {
    if (exited) {
      await stop();
      throw new Error(`workerd exited: ${stderr.trim().split("\n").pop() ?? "no output"}`);
    }
    try {
      if ((await fetch(base + "/ping")).ok) break;
    } catch {
      /* not listening yet */
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error("workerd did not answer within 15 s");
    }
    await sleep(50);
  }
  return { pid: child.pid!, get, rssKb: () => rssKb(child.pid!), stop };
}

export function rssKb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  if (!m) throw new Error("no VmRSS");
  return Number(m[1]);
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

export const WORKERD_BATCH = 10;

/**
 * load() + one RPC inside workerd (the canonical worker, or with `plain` the object worker); each
 * sample is the mean of a batch of WORKERD_BATCH loads. workerd's Worker Loader has no dispose for
 * a loaded worker: its teardown happens when workerd drops the stub, on workerd's schedule, so it
 * is not in the loop (or falls into a later batch).
 */
export function workerdFresh(perRound: number, plain = false): Subject {
  let wd: Workerd | undefined;
  return {
    name: plain ? "workerd Worker Loader, plain object worker (no cloudflare:workers import)" : "workerd Worker Loader",
    perRound,
    note: `each sample is the mean of ${WORKERD_BATCH} loads timed inside workerd (1 ms timer); no dispose to time: workerd drops a loaded worker on its own schedule`,
    async setup() {
      wd = await startWorkerd();
      await wd.get(`/fresh?batches=1&per=5&plain=${plain ? 1 : 0}`);
    },
    async sample(count) {
      return wd!.get<number[]>(`/fresh?batches=${count}&per=${WORKERD_BATCH}&plain=${plain ? 1 : 0}`);
    },
    async teardown() {
      await wd?.stop();
    },
  };
}
