// A WorkerCode's compatibilityDate and compatibilityFlags, checked as Cloudflare checks them: a
// date that is not a calendar date or lies in the future is refused, and so is a flag the runtime
// does not know (not ignored), one given twice, one that contradicts another, and an experimental
// one without allowExperimental. Every flag islet accepts is listed here and in README.md's
// "Compatibility flags" table, with what it does in islet.

import { WorkerCodeError } from "../../errors.ts";

export interface CompatibilityFlag {
  /** The flag that turns the same behaviour the other way (Cloudflare's enable/disable pairs). */
  opposite?: string;
  /** Only with `allowExperimental: true`. */
  experimental?: true;
}

/**
 * The flags islet accepts. Besides the nodejs_compat family, these are Cloudflare flags whose
 * behaviour islet always has (their Cloudflare default since the date in the comment), accepted
 * so that code written for Cloudflare with them listed runs unchanged.
 */
export const COMPATIBILITY_FLAGS: Readonly<Record<string, CompatibilityFlag>> = {
  nodejs_compat: { opposite: "no_nodejs_compat" },
  no_nodejs_compat: { opposite: "nodejs_compat" },
  nodejs_compat_v2: { opposite: "no_nodejs_compat_v2" },
  no_nodejs_compat_v2: { opposite: "nodejs_compat_v2" },
  // Cloudflare's catch-all for features still in development; islet has none behind it.
  experimental: { experimental: true },
  // Defaults on Cloudflare since 2021-11-03 … 2023-03-01.
  formdata_parser_supports_files: {},
  streams_byob_reader_detaches_buffer: {},
  global_navigator: {},
  url_standard: {},
  export_commonjs_default: {},
  streams_enable_constructors: {},
  transformstream_enable_standard_constructor: {},
  http_headers_getsetcookie: {},
};

/**
 * Cloudflare flags that turn off a behaviour islet always has: refused with a message that says
 * which behaviour islet keeps, rather than as unknown.
 */
const ALWAYS_ON: Readonly<Record<string, string>> = {
  formdata_parser_converts_files_to_strings: "formdata_parser_supports_files",
  streams_byob_reader_does_not_detach_buffer: "streams_byob_reader_detaches_buffer",
  no_global_navigator: "global_navigator",
  url_original: "url_standard",
  export_commonjs_namespace: "export_commonjs_default",
  streams_disable_constructors: "streams_enable_constructors",
  transformstream_disable_standard_constructor: "transformstream_enable_standard_constructor",
  no_http_headers_getsetcookie: "http_headers_getsetcookie",
};

const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

/** Today's date where it is latest on Earth (UTC+14): a date is in the future only if it is so everywhere. */
export function latestToday(now = Date.now()): string {
  return new Date(now + 14 * 3_600_000).toISOString().slice(0, 10);
}

/** Checks `compatibilityDate` (already known to be a string) and the flags (already known to be strings). */
export function checkCompatibility(date: string, flags: readonly string[] | undefined, allowExperimental: boolean): void {
  const match = DATE.exec(date);
  if (match === null) throw new WorkerCodeError('compatibilityDate must be a date string like "2026-01-01".');
  const [year, month, day] = [Number(match[1]), Number(match[2]), Number(match[3])];
  const parsed = new Date(Date.UTC(year, month - 1, day));
  if (parsed.getUTCFullYear() !== year || parsed.getUTCMonth() !== month - 1 || parsed.getUTCDate() !== day) {
    throw new WorkerCodeError(`Invalid compatibility date: ${date} is not a calendar date.`);
  }
  const today = latestToday();
  if (date > today) throw new WorkerCodeError(`This worker requires compatibility date "${date}", which is later than today (${today}); a compatibility date may not be in the future.`);
  if (flags === undefined) return;
  const seen = new Set<string>();
  for (const flag of flags) {
    if (seen.has(flag)) throw new WorkerCodeError(`Compatibility flag specified multiple times: ${flag}`);
    seen.add(flag);
    const known = Object.hasOwn(COMPATIBILITY_FLAGS, flag) ? COMPATIBILITY_FLAGS[flag] : undefined;
    if (known === undefined) {
      if (Object.hasOwn(ALWAYS_ON, flag)) {
        throw new WorkerCodeError(`The compatibility flag ${flag} is not supported: islet always behaves as "${ALWAYS_ON[flag]}" says.`);
      }
      const shown = flag.length > 100 ? `${flag.slice(0, 100)}…` : flag;
      throw new WorkerCodeError(`No such compatibility flag: ${JSON.stringify(shown)}. islet knows ${Object.keys(COMPATIBILITY_FLAGS).join(", ")} (README.md, "Compatibility flags").`);
    }
    if (known.opposite !== undefined && seen.has(known.opposite)) throw new WorkerCodeError(`Compatibility flags are mutually contradictory: ${known.opposite} vs ${flag}`);
    if (known.experimental === true && !allowExperimental) {
      throw new WorkerCodeError(`The compatibility flag ${flag} is experimental and may change or be removed; set allowExperimental: true in the WorkerCode to use it.`);
    }
  }
}
