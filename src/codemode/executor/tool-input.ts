// A tool's input, as the host receives it from the sandbox, is already a copy, except for what
// the boundary turns into live stubs: functions and RpcTargets (a host object whose every method
// calls back into the sandbox). A tool or an approver holding one of those would see whatever
// the sandbox answers at the moment it looks. So each input is copied once, here, into plain data
// (the structured-clone kinds: primitives, arrays, plain objects, Date, RegExp, bytes, Map, Set),
// anything else is refused, and that one copy is what the approver sees and the tool runs with.

import { types } from "node:util";
import { DataCloneError } from "../../index.ts";
import { isRemoteCapability } from "../../rpc/rpc-target.ts";

const MAX_DEPTH = 1000;

/**
 * Where a value sits in the input, as a chain of steps to its parent: spelled out only when a
 * value is refused (building "input.v.v.v…" at every level made a deep input cost its depth
 * squared: 3,000 levels held the host's thread 0.4 s).
 */
type Path = { parent: Path | undefined; step: string };

/** "input.a[3].b", keeping the first and last steps of a very long path. */
function spell(path: Path): string {
  const steps: string[] = [];
  for (let at: Path | undefined = path; at !== undefined; at = at.parent) steps.push(at.step);
  steps.reverse();
  return steps.length <= 40 ? steps.join("") : `${steps.slice(0, 20).join("")}…${steps.slice(-20).join("")}`;
}

/** Copies `value` as plain data or throws DataCloneError naming where the first non-data value was. */
export function copyToolInput(value: unknown, label: string): unknown {
  const seen = new Map<object, unknown>();
  const refuse = (path: Path, what: string): never => {
    throw new DataCloneError(`${label}: tool inputs must be data; ${spell(path)} is ${what}. Pass values (strings, numbers, objects, arrays…), not functions or RpcTargets.`);
  };
  const at = (parent: Path, step: string): Path => ({ parent, step });
  const copy = (item: unknown, path: Path, depth: number): unknown => {
    if (item === null || (typeof item !== "object" && typeof item !== "function")) {
      if (typeof item === "symbol") refuse(path, "a symbol");
      return item;
    }
    if (typeof item === "function") return refuse(path, "a function");
    if (depth > MAX_DEPTH) return refuse(path, `nested more than ${MAX_DEPTH} deep`);
    if (types.isProxy(item) || isRemoteCapability(item as object)) return refuse(path, "a live capability (an RpcTarget or stub)");
    const object = item as object;
    const done = seen.get(object);
    if (done !== undefined) return done;
    const proto = Object.getPrototypeOf(object);
    if (Array.isArray(object) && proto === Array.prototype) {
      const out: unknown[] = [];
      seen.set(object, out);
      for (let i = 0; i < object.length; i++) out.push(copy(object[i], at(path, `[${i}]`), depth + 1));
      return out;
    }
    if (proto === Object.prototype || proto === null) {
      const out: Record<string, unknown> = proto === null ? Object.create(null) : {};
      seen.set(object, out);
      for (const key of Reflect.ownKeys(object)) {
        const descriptor = Reflect.getOwnPropertyDescriptor(object, key)!;
        if (typeof key === "symbol") {
          if (descriptor.enumerable) refuse(at(path, `[${String(key)}]`), "a symbol-keyed property");
          continue;
        }
        if (!descriptor.enumerable) continue;
        if (!("value" in descriptor)) refuse(at(path, `.${key}`), "an accessor");
        Object.defineProperty(out, key, { value: copy(descriptor.value, at(path, `.${key}`), depth + 1), enumerable: true, writable: true, configurable: true });
      }
      return out;
    }
    if (types.isDate(object)) return new Date((object as Date).getTime());
    if (types.isRegExp(object)) return new RegExp((object as RegExp).source, (object as RegExp).flags);
    if (types.isArrayBuffer(object)) return (object as ArrayBuffer).slice(0);
    if (ArrayBuffer.isView(object)) return structuredClone(object);
    if (types.isMap(object)) {
      const out = new Map<unknown, unknown>();
      seen.set(object, out);
      let i = 0;
      for (const [key, entry] of object as Map<unknown, unknown>) {
        out.set(copy(key, at(path, `<key ${i}>`), depth + 1), copy(entry, at(path, `<value ${i}>`), depth + 1));
        i++;
      }
      return out;
    }
    if (types.isSet(object)) {
      const out = new Set<unknown>();
      seen.set(object, out);
      let i = 0;
      for (const entry of object as Set<unknown>) out.add(copy(entry, at(path, `<entry ${i++}>`), depth + 1));
      return out;
    }
    return refuse(path, `a ${typeof proto?.constructor === "function" ? proto.constructor.name || "class" : "non-plain"} object, not plain data`);
  };
  return copy(value, { parent: undefined, step: "input" }, 0);
}
