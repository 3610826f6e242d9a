// Process isolation: a ShardPool (../shard/pool.ts) whose shards are child processes, each running
// an in-process WorkerLoader (child.ts). A V8 bug that lets code out of its isolate then lands in a
// process with an empty environment, under Node's permission model (no file writes, reads only of
// islet's own files, no child processes or worker threads), holding only the capabilities its
// workers were given. Named workers live in the child their id hashes to, so get(id) stays warm; a
// child that dies is restarted, and calls pending on it reject with SandboxProcessError while the
// other children keep serving.

import type { PoolCounters } from "../../engine/pool.ts";
import { fork } from "node:child_process";
import { availableParallelism, getPriority, setPriority } from "node:os";
import { createRequire } from "node:module";
import { dirname, join, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { SandboxProcessError } from "../../errors.ts";
import type { Message } from "../shard/protocol.ts";
import { ShardPool, shardSlotFor, type ShardSettings } from "../shard/pool.ts";
import type { ShardEvents, ShardHandle, ShardKind } from "../shard/kind.ts";
import { decodeMessage, encodeMessage } from "./codec.ts";

export { DEFAULT_UNRESPONSIVE_MS } from "../shard/pool.ts";

export interface ProcessPoolOptions extends ShardSettings {
  processes: number;
}

/**
 * Children run this much nicer than the host: sandboxes spinning at their CPU limits then yield to
 * the host's own work (its event loop relays every call), and the threads a child makes later
 * (isolated-vm's, which run the sandboxes) inherit it.
 */
export const CHILD_NICENESS = 5;

export interface ChildReport {
  pid: number;
  envKeys: string[];
  execArgv: string[];
  permission: Record<string, boolean> | null;
  memory: NodeJS.MemoryUsage;
  /** Worker response bodies the shard keeps while the host pulls them. */
  openResponseBodies: number;
  /** What the shard's warm pool did (null: it has none). */
  warmPool: PoolCounters | null;
}

export function defaultProcessCount(): number {
  return Math.max(1, Math.min(availableParallelism(), 8));
}

/** Which child a named worker lives in, the same for an id every time. */
export const processSlotFor = shardSlotFor;

interface LaunchSpec {
  entry: string;
  cwd: string;
  execArgv: string[];
  env: Record<string, string>;
  /** Why the permission model is off, when it is. */
  permissionOff?: string;
}

let launchSpec: LaunchSpec | undefined;

/**
 * How a child starts. From the built package (dist/*.js) it runs under Node's permission model
 * (Node 20: `--experimental-permission`): reads of islet's own directory and its dependencies'
 * only; no writes, child processes or worker threads. isolated-vm is a native addon, so the model
 * needs `--allow-addons` (Node 20.20 has it; without it loading isolated-vm fails with
 * ERR_DLOPEN_DISABLED "Cannot load native addon because loading addons is disabled."), and an
 * addon is native code the model cannot watch: a V8 escape that runs native code in the child is
 * not held by it, which is why the child also gets no secrets and only its workers' capabilities.
 * Node 20's model has no network permission: sockets stay possible for such an escape.
 * esbuild runs in a process of its own (ERR_ACCESS_DENIED, permission "ChildProcess", in the
 * child; its synchronous API starts a worker thread, also refused), so the parent transpiles
 * TypeScript, lowers async functions and analyzes CommonJS (its require() calls and export names),
 * and hands the results over with the code (prepare.ts, PREPARED_DERIVED; the child only loads
 * cjs-module-lexer's module, which commonjs-analysis.ts imports, and never starts a thread).
 * From TypeScript source (islet's own tests) tsx must run in the child, and tsx needs a worker
 * thread for its loader hooks and esbuild's process to transpile: those two permissions are added
 * then, and the cache tsx would write is turned off.
 */
function spec(): LaunchSpec {
  if (launchSpec !== undefined) return launchSpec;
  const here = fileURLToPath(import.meta.url);
  const fromSource = here.endsWith(".ts");
  const root = resolve(dirname(here), "..", "..", "..");
  // node-gyp-build (isolated-vm 7's loader) reads /etc/alpine-release to pick a glibc or musl prebuild.
  const readable = new Set([root, "/etc/alpine-release"]);
  const require = createRequire(import.meta.url);
  for (const dependency of ["isolated-vm", "esbuild", "cjs-module-lexer"]) {
    try {
      const path = require.resolve(dependency);
      const at = path.lastIndexOf(`${sep}node_modules${sep}`);
      const modules = at >= 0 ? path.slice(0, at + sep.length + "node_modules".length) : undefined;
      if (modules !== undefined && !modules.startsWith(root + sep)) readable.add(modules);
    } catch {
      // Not resolvable from here: the child fails to start and says why.
    }
  }
  const flags = process.allowedNodeEnvironmentFlags;
  const execArgv: string[] = [];
  if (flags.has("--disable-warning")) execArgv.push("--disable-warning=ExperimentalWarning", "--disable-warning=SecurityWarning");
  const permission = flags.has("--permission") ? "--permission" : flags.has("--experimental-permission") ? "--experimental-permission" : undefined;
  let permissionOff: string | undefined;
  if (permission === undefined) permissionOff = `Node ${process.version} has no permission model`;
  else if (!flags.has("--allow-addons")) permissionOff = `Node ${process.version} has no --allow-addons, and isolated-vm is a native addon`;
  else {
    execArgv.push(permission, "--allow-addons", ...[...readable].map((dir) => `--allow-fs-read=${dir}`));
    // tsx asks whether the file system is case-sensitive by looking up the working directory with its case inverted.
    if (fromSource) execArgv.push("--allow-worker", "--allow-child-process", `--allow-fs-read=${invertCase(root)}`);
  }
  if (fromSource) execArgv.push("--import", "tsx");
  launchSpec = {
    entry: join(dirname(here), fromSource ? "child.ts" : "child.js"),
    cwd: root,
    execArgv,
    env: fromSource ? { TSX_DISABLE_CACHE: "1" } : {},
    permissionOff,
  };
  return launchSpec;
}

function invertCase(text: string): string {
  return [...text].map((c) => (c === c.toUpperCase() ? c.toLowerCase() : c.toUpperCase())).join("");
}

/** Child processes, forked with a clean environment and (from dist/) Node's permission model. */
const processKind: ShardKind = {
  noun: "process",
  idName: "pid",
  lostError: (message, exit) => new SandboxProcessError(message, exit),
  replaceRunaway: true,
  launch(events: ShardEvents): ShardHandle {
    const launch = spec();
    const child = fork(launch.entry, [], {
      cwd: launch.cwd,
      env: launch.env,
      execArgv: launch.execArgv,
      serialization: "advanced",
      stdio: ["ignore", "ignore", "pipe", "ipc"],
    });
    if (child.pid !== undefined) {
      try {
        setPriority(child.pid, Math.min(19, getPriority() + CHILD_NICENESS));
      } catch {
        // Not permitted or not supported here: the child runs at the host's priority.
      }
    }
    child.stderr?.setEncoding("utf8");
    child.stderr?.on("data", (text: string) => events.diagnostic(text));
    child.on("message", (data) => {
      let message: unknown;
      try {
        message = decodeMessage(data);
      } catch (error) {
        // Only a broken or compromised child sends what its own codec cannot have written.
        events.diagnostic(`islet: the sandbox process sent a message that could not be decoded (${(error as Error)?.message}); it was killed.\n`);
        child.kill("SIGKILL");
        return;
      }
      events.message(message);
    });
    child.once("exit", (exitCode, signal) => events.exit({ exitCode, signal }));
    child.on("error", (error) => {
      // Failing to spawn: there will be no exit event.
      if (child.pid === undefined) events.exit({ exitCode: null, signal: null, startError: error });
    });
    return {
      get id() {
        return child.pid;
      },
      get connected() {
        return child.connected;
      },
      post(message: Message) {
        child.send(encodeMessage(message), (error) => {
          // Asynchronous write failures mean the pipe is gone; the exit event fails what is pending.
          if (error) child.kill("SIGKILL");
        });
      },
      ref() {
        child.ref();
        (child.channel as { ref?(): void } | null | undefined)?.ref?.();
      },
      unref() {
        child.unref();
        (child.channel as { unref?(): void } | null | undefined)?.unref?.();
        (child.stderr as { unref?(): void } | null)?.unref?.();
      },
      kill() {
        if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
      },
    };
  },
};

export class ProcessPool extends ShardPool {
  constructor(options: ProcessPoolOptions) {
    const { processes, ...rest } = options;
    super(processKind, { ...rest, shards: processes });
  }

  /** Why children run without Node's permission model, or undefined when they run with it. */
  static get permissionOff(): string | undefined {
    return spec().permissionOff;
  }

  get stats(): { liveWorkers: number; warmSandboxes: number; processes: { alive: number; restarts: number } } {
    const { liveWorkers, warmSandboxes, alive, restarts } = this.shardStats;
    return { liveWorkers, warmSandboxes, processes: { alive, restarts } };
  }

  /** Process ids of the children, by slot (undefined while one restarts). */
  get pids(): (number | undefined)[] {
    return this.ids;
  }
}
