// Console output from the sandbox's trace event as lines of text, the way code-mode callers expect
// `logs`: parts joined by spaces, strings as they are, other values as Node's console shows them.

import { inspect } from "node:util";
import type { TailEvent } from "../../index.ts";

export function formatLogs(logs: TailEvent["logs"]): string[] {
  return logs.map(({ level, message }) => {
    const text = message.map((part) => (typeof part === "string" ? part : inspect(part, { depth: 6, breakLength: Infinity }))).join(" ");
    return level === "log" || level === "info" || level === "debug" ? text : `[${level}] ${text}`;
  });
}
