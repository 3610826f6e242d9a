// The nodejs_compat modules by name. Each is built on first import and then shared by every
// importer; the host's table of their export names (src/loader/node-compat.ts) must match.

import { createAssertModule } from "./assert/module.ts";
import { createAsyncHooksModule } from "./async-hooks.ts";
import { createDiagnosticsChannelModule } from "./diagnostics-channel.ts";
import { createOsModule } from "./os.ts";
import { createQuerystringModule } from "./querystring.ts";
import { createTimersModule, createTimersPromises } from "./timers.ts";
import { createBufferModule } from "./buffer/module.ts";
import { createCryptoModule } from "./crypto/module.ts";
import { EventEmitter } from "./events.ts";
import { createPathModule } from "./path.ts";
import { getProcess } from "./process.ts";
import { StringDecoder } from "./string-decoder.ts";
import { createUrlModule } from "./url.ts";
import { stubBuilders } from "./stubs.ts";
import { createUtilModule } from "./util/module.ts";
import { primordials } from "../primordials.ts";

const { Error, Map, MapPrototypeGet, MapPrototypeSet, ObjectKeys, ObjectPrototypeHasOwnProperty } = primordials;

const builders: Record<string, () => unknown> = {
  assert: () => createAssertModule(),
  async_hooks: createAsyncHooksModule,
  diagnostics_channel: createDiagnosticsChannelModule,
  os: createOsModule,
  querystring: createQuerystringModule,
  timers: createTimersModule,
  "timers/promises": createTimersPromises,
  "assert/strict": () => (nodeModule("assert") as { strict: unknown }).strict,
  buffer: createBufferModule,
  crypto: createCryptoModule,
  events: () => EventEmitter,
  path: createPathModule,
  "path/posix": () => nodeModule("path"),
  process: getProcess,
  string_decoder: () => ({ StringDecoder }),
  url: createUrlModule,
  util: createUtilModule,
  "util/types": () => (nodeModule("util") as { types: unknown }).types,
};
// The long tail (stubs.ts): the rest of what workerd serves, from one table.
const tail = stubBuilders({ nodeModule, names: () => nodeModuleNames });
for (let i = 0, keys = ObjectKeys(tail); i < keys.length; i++) builders[keys[i]] = tail[keys[i]];

const built = new Map<string, unknown>();

/** The module's value: what `require("node:<name>")` returns and the default export. */
export function nodeModule(name: string): unknown {
  let value = MapPrototypeGet(built, name);
  if (value === undefined) {
    const build = ObjectPrototypeHasOwnProperty(builders, name) ? builders[name] : undefined;
    if (build === undefined) throw new Error(`islet: no Node.js module named ${name}`);
    value = build();
    MapPrototypeSet(built, name, value);
  }
  return value;
}

export const nodeModuleNames = ObjectKeys(builders);
