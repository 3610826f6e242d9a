// Runs a long-lived islet command (serve, dev) as a child process and waits for lines it prints.

import { spawn, type ChildProcess } from "node:child_process";
import { join } from "node:path";

const root = join(import.meta.dirname, "../..");
const cli = join(root, "src/cli/main.ts");

export interface IsletProcess {
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** Resolves with the first match of `pattern` in stderr (waiting for it to appear). */
  /** The first match of `pattern` in stderr, else in stdout (the server's JSON log lines). */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  exited: Promise<number | null>;
  stop(): Promise<number | null>;
}

export function startIslet(args: string[], env: NodeJS.ProcessEnv = {}): IsletProcess {
  const child = spawn(process.execPath, ["--import", "tsx", cli, ...args], { cwd: root, env: { ...process.env, ISLET_API_KEYS: "", ISLET_CONFIG: "", ISLET_PORT: "", ISLET_HOST: "", ...env } });
  let out = "";
  let err = "";
  const waiters = new Set<() => void>();
  child.stdout!.on("data", (chunk) => {
    out += chunk;
    for (const wake of waiters) wake();
  });
  child.stderr!.on("data", (chunk) => {
    err += chunk;
    for (const wake of waiters) wake();
  });
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  return {
    child,
    stdout: () => out,
    stderr: () => err,
    exited,
    waitFor(pattern, timeoutMs = 20_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const match = err.match(pattern) ?? out.match(pattern);
          if (match) {
            waiters.delete(check);
            clearTimeout(timer);
            resolve(match);
          }
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`timed out waiting for ${pattern}; stderr so far:\n${err}`));
        }, timeoutMs);
        waiters.add(check);
        void exited.then(() => {
          if (waiters.has(check)) {
            waiters.delete(check);
            clearTimeout(timer);
            reject(new Error(`the process exited before printing ${pattern}; stderr:\n${err}`));
          }
        });
        check();
      });
    },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
      return exited;
    },
  };
}
