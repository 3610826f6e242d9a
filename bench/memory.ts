// RSS per idle live worker: islet in a fresh child process per measurement; workerd via /proc.

import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { startWorkerd } from "./peers/workerd.ts";
import { reason, sleep } from "./stats.ts";

const CHILD = fileURLToPath(new URL("./memory-child.ts", import.meta.url));

export interface MemoryResult {
  name: string;
  count: number;
  perWorkerMb?: number;
  rssBeforeMb?: number;
  rssAfterMb?: number;
  unavailable?: string;
}

export async function isletMemory(count: number): Promise<MemoryResult> {
  try {
    const out = await new Promise<string>((resolve, reject) => {
      const child = spawn(process.execPath, ["--expose-gc", "--import", "tsx", CHILD, String(count)], { stdio: ["ignore", "pipe", "pipe"] });
      let stdout = "";
      let stderr = "";
      child.stdout.setEncoding("utf8").on("data", (d) => (stdout += d));
      child.stderr.setEncoding("utf8").on("data", (d) => (stderr += d));
      child.once("error", reject);
      child.once("close", (code) => (code === 0 ? resolve(stdout) : reject(new Error(`memory child exited ${code}: ${stderr.trim().split("\n").slice(-1)[0]}`))));
    });
    const r = JSON.parse(out.trim().split("\n").pop()!);
    if (r.live !== count) throw new Error(`only ${r.live} of ${count} workers live`);
    return { name: "islet", count, perWorkerMb: r.perWorkerMb, rssBeforeMb: r.rssBeforeMb, rssAfterMb: r.rssAfterMb };
  } catch (e) {
    return { name: "islet", count, unavailable: reason(e) };
  }
}

/** One workerd process: RSS after N named workers kept live (`LOADER.get(id)` + one call each). */
export async function workerdMemory(counts: number[]): Promise<MemoryResult[]> {
  let wd;
  try {
    wd = await startWorkerd();
    await sleep(200);
    const before = wd.rssKb();
    const out: MemoryResult[] = [];
    let have = 0;
    for (const count of counts) {
      await wd.get(`/keep?from=${have}&to=${count}`);
      have = count;
      await sleep(200);
      const after = wd.rssKb();
      out.push({ name: "workerd", count, perWorkerMb: (after - before) / 1024 / count, rssBeforeMb: before / 1024, rssAfterMb: after / 1024 });
    }
    return out;
  } catch (e) {
    return counts.map((count) => ({ name: "workerd", count, unavailable: reason(e) }));
  } finally {
    await wd?.stop();
  }
}
