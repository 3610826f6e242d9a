// "Report an exception" (HTML §8.1.4.7) for errors that must not reach the code that caused the
// work: a listener that throws does not stop dispatchEvent, and its error is logged the way the
// core logs an uncaught error (index.ts reportUncaught), so the tail sees both the same way.
// The console is captured when the chunk loads; only its error method is looked up per report.

import { errorToRecord } from "../../../protocol/errors.ts";
import { primordials } from "../../primordials.ts";

const { ReflectApply, SymbolPrototypeToString } = primordials;

const console = (globalThis as { console?: { error?: (...args: unknown[]) => void } }).console;
const apply = ReflectApply;

export function reportException(error: unknown): void {
  try {
    const report = console?.error;
    if (typeof report === "function") apply(report, console, [`Uncaught ${describe(error)}`]);
  } catch {
    // Reporting must never throw into dispatch: a broken console loses the report, nothing else.
  }
}

function describe(error: unknown): string {
  if ((typeof error !== "object" && typeof error !== "function") || error === null) return typeof error === "symbol" ? SymbolPrototypeToString(error) : `${error as string}`;
  const record = errorToRecord(error);
  return record.stack ?? `${record.name}: ${record.message}`;
}
