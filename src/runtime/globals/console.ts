// console.* → the host, with level, parts and (frozen) time. Parts travel as copies where the
// structured clone allows it; anything else (functions, symbols, proxies) is formatted to text.

import { currentInvocation, Op, send } from "../bridge.ts";
import { formatArgs, formatValue } from "./format.ts";
import { CapKind, type CapExporter } from "../../protocol/cap-table.ts";
import { isSizeRefusal } from "../../protocol/clonable.ts";
import { fitLog, LOG_BYTES_PER_INVOCATION, TOO_LARGE } from "../../protocol/log-size.ts";
import { snapshot } from "../../protocol/snapshot.ts";
import { runtimeGuard } from "../brands.ts";
import { exporter } from "../caps.ts";
import { clockNow } from "../clock.ts";
import { primordials, SymbolToStringTag } from "../primordials.ts";

const { ArrayPrototypeJoin, ArrayPrototypePushApply, ArrayPrototypeSlice, Error, Map, MapPrototypeDelete, MapPrototypeGet, MapPrototypeSet, ObjectDefineProperty, ObjectSetPrototypeOf, StringPrototypeSlice, StringPrototypeSplit } = primordials;

/**
 * A log part that holds a function, or a stub of the host's (a Proxy of the runtime's, which a
 * copy refuses), is formatted to text: only those count as capabilities here, and none is exported.
 */
const logCaps: CapExporter = { classify: (value) => (exporter.classify(value) === CapKind.Returned ? CapKind.Returned : -1), export: () => 0 };

/** Objects (and Map or Set entries) a log part may hold; past this it is too large to log, as log-size.ts counts. */
const MAX_LOG_PART_OBJECTS = 100_000;

type Level = "debug" | "info" | "log" | "warn" | "error";

/**
 * The host keeps 1,000 log entries per invocation: the first 800 and the last 200, with a note of
 * how many were dropped between (loader/invocation-logs.ts). The first HEAD_LOGS are sent as they
 * come; later ones wait in a ring of the latest TAIL_LOGS, sent when the invocation's result is
 * (flushLogTail), so a logging loop sends at most 1,001 messages however long it runs, and the end
 * of a long run (its last progress line, the error it logged before failing) is not lost.
 * Refilled when the host starts an invocation.
 */
const HEAD_LOGS = 800;
const TAIL_LOGS = 200;
let logBudget = HEAD_LOGS;
/**
 * Bytes of logs (see log-size.ts) the host keeps per invocation: a log is cut to what is left
 * before it is copied out, so a huge line costs the host at most the budget, once. The host
 * measures again and adds the note that says the log was cut. Entries waiting in the ring count
 * until they are pushed out of it.
 */
let logBytes = LOG_BYTES_PER_INVOCATION;

interface Waiting {
  level: Level;
  parts: unknown[];
  cut: boolean;
  size: number;
  /** The invocation that logged it (bridge.ts). */
  invocation: number;
}
const ring: Waiting[] = ObjectSetPrototypeOf([], null);
let ringStart = 0;
let ringCount = 0;
let ringDropped = 0;

export function refillLogBudget(): void {
  logBudget = HEAD_LOGS;
  logBytes = LOG_BYTES_PER_INVOCATION;
  for (let i = 0; i < ringCount; i++) logBytes -= ring[(ringStart + i) % TAIL_LOGS].size;
}

function emit(level: Level, parts: unknown[]): void {
  if (logBytes <= 0) return;
  // Each part is read once, into a snapshot (snapshot.ts), and the snapshot is what is measured,
  // cut to the budget and copied: a getter read again by the copy could answer far past the budget.
  const copies: unknown[] = ObjectSetPrototypeOf([], null);
  for (let i = 0; i < parts.length; i++) copies[i] = snapshotPart(parts[i]);
  // Copies (`true`): a leaf in a snapshot never has a plain prototype, so fitLog's measure tells plain objects by theirs.
  const fitted = fitLog(copies, logBytes, true);
  // Once the budget is cut into, nothing more is kept: the host says the log was cut.
  logBytes = fitted.cut ? 0 : logBytes - fitted.size;
  // The host keeps the line for the call that made it (0: every call in flight).
  const invocation = currentInvocation();
  if (logBudget > 0) {
    logBudget--;
    send(Op.Log, level, fitted.parts, fitted.cut, invocation);
    return;
  }
  if (ringCount === TAIL_LOGS) {
    // The oldest waiting entry is pushed out, and its bytes are free again.
    const out = ring[ringStart];
    if (!fitted.cut) logBytes += out.size;
    ringStart = (ringStart + 1) % TAIL_LOGS;
    ringCount--;
    ringDropped++;
  }
  ring[(ringStart + ringCount) % TAIL_LOGS] = { __proto__: null, level, parts: fitted.parts, cut: fitted.cut, size: fitted.size, invocation } as unknown as Waiting;
  ringCount++;
}

/** Sends the logs waiting past the first HEAD_LOGS, after a note of how many were dropped before them. */
export function flushLogTail(): void {
  if (ringCount === 0) return;
  if (ringDropped > 0) send(Op.Log, "warn", [`islet: log limit of ${HEAD_LOGS + TAIL_LOGS} entries reached; ${ringDropped} entries between the first ${HEAD_LOGS} and the last ${ringCount} dropped`], false);
  for (let i = 0; i < ringCount; i++) {
    const entry = ring[(ringStart + i) % TAIL_LOGS];
    ring[(ringStart + i) % TAIL_LOGS] = undefined as unknown as Waiting;
    send(Op.Log, entry.level, entry.parts, entry.cut, entry.invocation);
  }
  ringStart = 0;
  ringCount = 0;
  ringDropped = 0;
}

/**
 * A log part as it crosses: a copy where the boundary allows one (only its listed types travel as
 * copies), else text, which cannot change once made.
 */
function snapshotPart(part: unknown): unknown {
  if (typeof part === "string") return part;
  try {
    const encoded = snapshot(part, { exporter: logCaps, guard: runtimeGuard, maxObjects: MAX_LOG_PART_OBJECTS, maxBytes: Infinity });
    if (encoded.length === 1) return encoded[0];
  } catch (error) {
    if (isSizeRefusal(error)) return TOO_LARGE;
  }
  return printable(part);
}

/** A part as text; console.log never throws, even for a revoked Proxy or a throwing getter. */
function printable(part: unknown): string {
  if (typeof part === "string") return part;
  try {
    return formatValue(part);
  } catch {
    return "[unprintable]";
  }
}

export function createConsole(): Record<string, unknown> {
  const counts = new Map<string, number>();
  const timers = new Map<string, number>();
  let indent = "";
  const log = (level: Level) => (...args: unknown[]) => {
    emit(level, indent === "" ? args : [indent + formatArgs(args)]);
  };
  const console: Record<string, unknown> = {
    log: log("log"),
    info: log("info"),
    debug: log("debug"),
    warn: log("warn"),
    error: log("error"),
    dir: (value: unknown) => emit("log", [value]),
    dirxml: log("log"),
    table: log("log"),
    trace: (...args: unknown[]) => {
      const stack = ArrayPrototypeJoin(ArrayPrototypeSlice(StringPrototypeSplit((new Error().stack ?? ""), "\n"), 2), "\n");
      emit("log", [`Trace: ${formatArgs(args)}\n${stack}`]);
    },
    assert: (condition: unknown, ...args: unknown[]) => {
      if (!condition) emit("error", ["Assertion failed" + (args.length ? ": " + formatArgs(args) : "")]);
    },
    count: (label = "default") => {
      const n = (MapPrototypeGet(counts, label) ?? 0) + 1;
      MapPrototypeSet(counts, label, n);
      emit("info", [`${label}: ${n}`]);
    },
    countReset: (label = "default") => void MapPrototypeDelete(counts, label),
    time: (label = "default") => void MapPrototypeSet(timers, label, clockNow()),
    timeLog: (label = "default", ...args: unknown[]) => {
      const start = MapPrototypeGet(timers, label);
      if (start === undefined) return;
      const line: unknown[] = [`${label}: ${clockNow() - start}ms`];
      ArrayPrototypePushApply(line, args);
      emit("info", line);
    },
    timeEnd: (label = "default") => {
      const start = MapPrototypeGet(timers, label);
      if (start === undefined) return;
      MapPrototypeDelete(timers, label);
      emit("info", [`${label}: ${clockNow() - start}ms`]);
    },
    group: (...args: unknown[]) => {
      if (args.length) emit("log", [indent + formatArgs(args)]);
      indent += "  ";
    },
    groupCollapsed: (...args: unknown[]) => {
      if (args.length) emit("log", [indent + formatArgs(args)]);
      indent += "  ";
    },
    groupEnd: () => {
      indent = StringPrototypeSlice(indent, 2);
    },
  };
  ObjectDefineProperty(console, SymbolToStringTag, { value: "console" });
  return console;
}
