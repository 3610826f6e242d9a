// How every zod schema of islet (limits, the server's and code mode's configuration, loader and
// executor options) reports what it refused: one line per problem, "field: what is wrong, got X",
// every problem at once. Part of src/protocol: imports zod and nothing else of islet.

import { z } from "zod";

/** A value as a message shows it: numbers and strings as written, objects by their kind. */
export function describeValue(value: unknown): string {
  if (typeof value === "number" || typeof value === "boolean" || value === null || value === undefined) return String(value);
  if (typeof value === "string") return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
  if (typeof value === "bigint") return `${value}n`;
  if (typeof value === "function") return "a function";
  if (Array.isArray(value)) return "an array";
  return typeof value === "object" ? "an object" : `a ${typeof value}`;
}

/** ", got 0": the end of a message about `issue.input`. */
export function got(issue: { input?: unknown }): string {
  return `, got ${describeValue(issue.input)}`;
}

/** A zod issue path as a config field under `prefix`: limits.cpuMs, apiKeys[0].key, credentials["api.github.com"]. */
export function fieldOf(path: readonly PropertyKey[], prefix = ""): string {
  let field = prefix;
  for (const part of path) {
    if (typeof part === "number") field += `[${part}]`;
    else if (/^[A-Za-z_$][\w$-]*$/.test(String(part))) field += field === "" ? String(part) : `.${String(part)}`;
    else field += `[${JSON.stringify(String(part))}]`;
  }
  return field;
}

export interface Problem {
  /** "limits.cpuMs"; "" for the value as a whole. */
  field: string;
  message: string;
}

/**
 * One problem per issue; an object's unknown keys one problem each (message: the schema's own for
 * unrecognized keys when it set one, else "unknown setting").
 */
export function problemsOf(error: z.ZodError, prefix = ""): Problem[] {
  const problems: Problem[] = [];
  for (const issue of error.issues) {
    if (issue.code === "unrecognized_keys") {
      const message = issue.message.startsWith("Unrecognized key") ? "unknown setting" : issue.message;
      for (const key of issue.keys) problems.push({ field: fieldOf([...issue.path, key], prefix), message });
    } else {
      problems.push({ field: fieldOf(issue.path, prefix), message: issue.message });
    }
  }
  return problems;
}

/** "a: must be …; b: unknown setting" */
export function formatProblems(problems: readonly Problem[]): string {
  return problems.map((problem) => (problem.field === "" ? problem.message : `${problem.field}: ${problem.message}`)).join("; ");
}

/** A number schema: an integer > 0, messages "must be a positive integer, got X". */
export function positiveInteger() {
  const message = (issue: { input?: unknown }) => `must be a positive integer${got(issue)}`;
  return z.number({ error: message }).int({ error: message }).positive({ error: message });
}

/** A number schema: an integer >= 0. */
export function nonNegativeInteger() {
  const message = (issue: { input?: unknown }) => `must be a non-negative integer${got(issue)}`;
  return z.number({ error: message }).int({ error: message }).nonnegative({ error: message });
}

/** A number schema: a finite number > 0. */
export function positiveNumber() {
  const message = (issue: { input?: unknown }) => `must be a positive number${got(issue)}`;
  return z.number({ error: message }).positive({ error: message });
}

/** A number schema: a finite number >= 0. */
export function nonNegativeNumber() {
  const message = (issue: { input?: unknown }) => `must be a non-negative number${got(issue)}`;
  return z.number({ error: message }).nonnegative({ error: message });
}
