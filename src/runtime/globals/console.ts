// console.* → the host, with level, parts and (frozen) time. Parts travel as copies where the
// structured clone allows it; anything else (functions, symbols, proxies) is formatted to text.

import { Op, send } from "../bridge.ts";
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
 * The host keeps 1,000 log entries per invocation and notes that it dropped the rest; one more
 * than that is sent so it can. Past the budget a log costs the host nothing, so a logging loop
 * cannot flood it. Refilled when the host starts an invocation.
 */
const LOG_BUDGET = 1_001;
let logBudget = LOG_BUDGET;
/**
 * Bytes of logs (see log-size.ts) the host keeps per invocation: a log is cut to what is left
 * before it is copied out, so a huge line costs the host at most the budget, once. The host
 * measures again and adds the note that says the log was cut.
 */
let logBytes = LOG_BYTES_PER_INVOCATION;

export function refillLogBudget(): void {
  logBudget = LOG_BUDGET;
  logBytes = LOG_BYTES_PER_INVOCATION;
}

function emit(level: Level, parts: unknown[]): void {
  if (logBudget <= 0 || logBytes <= 0) return;
  logBudget--;
  // Each part is read once, into a snapshot (snapshot.ts), and the snapshot is what is measured,
  // cut to the budget and copied: a getter read again by the copy could answer far past the budget.
  const copies: unknown[] = ObjectSetPrototypeOf([], null);
  for (let i = 0; i < parts.length; i++) copies[i] = snapshotPart(parts[i]);
  // Copies (`true`): a leaf in a snapshot never has a plain prototype, so fitLog's measure tells plain objects by theirs.
  const fitted = fitLog(copies, logBytes, true);
  send(Op.Log, level, fitted.parts, fitted.cut);
  // Once the budget is cut into, nothing more is sent: the host says the log was cut.
  logBytes = fitted.cut ? 0 : logBytes - fitted.size;
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
