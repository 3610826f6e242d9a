// What the tests that run real `islet serve` and nginx processes share: a free port, waiting for a
// child to answer, stopping it, and a Durable Object class for the objects tests.

import type { ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { createServer } from "node:net";

export const nginxBinary = ["/usr/sbin/nginx", "/usr/bin/nginx"].find((path) => existsSync(path));

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

export async function waitFor(what: string, probe: () => Promise<boolean>, child: ChildProcess, output: () => string): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`${what} exited (${child.exitCode ?? child.signalCode}):\n${output()}`);
    if (await probe().catch(() => false)) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`${what} was not ready within 20 s:\n${output()}`);
}

export function stopChild(child: ChildProcess, signal: NodeJS.Signals = "SIGTERM"): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once("exit", () => resolve());
    child.kill(signal);
  });
}

/** A Durable Object class with its own table: add(n) answers the running total; fetch the count. */
export const COUNTER = `import { DurableObject } from "cloudflare:workers";
export class Counter extends DurableObject {
  add(n) {
    this.ctx.storage.sql.exec("CREATE TABLE IF NOT EXISTS c (v INTEGER)");
    this.ctx.storage.sql.exec("INSERT INTO c VALUES (?)", n);
    return this.ctx.storage.sql.exec("SELECT total(v) AS t FROM c").one().t;
  }
  async fetch(request) {
    return new Response("count " + this.ctx.storage.sql.exec("SELECT count(*) AS n FROM c").one().n + " at " + new URL(request.url).pathname);
  }
}`;
