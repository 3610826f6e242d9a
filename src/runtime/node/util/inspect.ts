// util.inspect with Node 24's output format (same options, line breaking, array grouping,
// circular markers, error and class rendering). JavaScript cannot see a promise's state, a
// proxy's target or the entries of weak collections and iterators, so those print as unknown.

import {
  isAnyArrayBuffer,
  isArgumentsObject,
  isArrayBuffer,
  isAsyncFunction,
  isBigIntObject,
  isBooleanObject,
  isBoxedPrimitive,
  isDataView,
  isDate,
  isGeneratorFunction,
  isMap,
  isMapIterator,
  isModuleNamespaceObject,
  isNativeError,
  isNumberObject,
  isPromise,
  isRegExp,
  isSet,
  isSetIterator,
  isStringObject,
  isTypedArray,
  isWeakMap,
  isWeakSet,
} from "./types.ts";
import { stringWidth } from "./width.ts";
import { primordials, SymbolIterator, SymbolToStringTag } from "../../primordials.ts";

const { Array, ArrayBufferPrototypeGetByteLength, ArrayIsArray, ArrayPrototypeFilter, ArrayPrototypeIncludes, ArrayPrototypeIndexOf, ArrayPrototypeJoin, ArrayPrototypeMap, ArrayPrototypePop, ArrayPrototypePush, ArrayPrototypePushApply, ArrayPrototypeSlice, ArrayPrototypeSort, ArrayPrototypeSplice, BigIntPrototypeValueOf, Boolean, BooleanPrototypeValueOf, DatePrototypeGetTime, DatePrototypeToISOString, DatePrototypeToString, Error, ErrorPrototypeToString, FunctionPrototypeToString, Map, MapFrom, MapPrototypeGet, MapPrototypeGetSize, MapPrototypeSet, MathFloor, MathMax, MathMin, MathRound, MathSqrt, MathTrunc, Number, NumberIsFinite, NumberIsNaN, NumberPrototypeToString, NumberPrototypeValueOf, Object, ObjectAssign, ObjectDefineProperty, ObjectGetOwnPropertyDescriptor, ObjectGetOwnPropertyNames, ObjectGetOwnPropertySymbols, ObjectGetPrototypeOf, ObjectIs, ObjectKeys, ObjectPrototypeHasOwnProperty, ObjectPrototypePropertyIsEnumerable, ObjectPrototypeToString, ObjectSeal, Originals, RangeError, ReflectApply, ReflectOwnKeys, RegExp, RegExpPrototypeExec, RegExpPrototypeGetSource, RegExpPrototypeSymbolReplace, SafeMapIterator, SafeSetIterator, Set, SetFrom, SetPrototypeAdd, SetPrototypeGetSize, SetPrototypeHas, String, StringPrototypeCharCodeAt, StringPrototypeEndsWith, StringPrototypeIncludes, StringPrototypeIndexOf, StringPrototypeLastIndexOf, StringPrototypePadEnd, StringPrototypePadStart, StringPrototypeRepeat, StringPrototypeReplaceAll, StringPrototypeSlice, StringPrototypeSplit, StringPrototypeStartsWith, StringPrototypeToLowerCase, StringPrototypeToUpperCase, StringPrototypeValueOf, Symbol, SymbolFor, SymbolPrototypeToString, TypeError, TypedArrayPrototypeGetLength, TypedArrayPrototypeGetSymbolToStringTag, Uint8Array } = primordials;

export interface InspectOptions {
  showHidden?: boolean;
  depth?: number | null;
  colors?: boolean;
  customInspect?: boolean;
  showProxy?: boolean;
  maxArrayLength?: number | null;
  maxStringLength?: number | null;
  breakLength?: number;
  compact?: boolean | number;
  sorted?: boolean | ((a: string, b: string) => number);
  getters?: boolean | "get" | "set";
  numericSeparator?: boolean;
  stylize?: (text: string, style: string) => string;
}

type Stylize = (text: string, style: string) => string;

interface Context {
  budget: Record<number, number>;
  indentationLvl: number;
  seen: unknown[];
  currentDepth: number;
  stylize: Stylize;
  showHidden: boolean;
  depth: number | null;
  colors: boolean;
  customInspect: boolean;
  showProxy: boolean;
  maxArrayLength: number;
  maxStringLength: number;
  breakLength: number;
  compact: boolean | number;
  sorted: boolean | ((a: string, b: string) => number);
  getters: boolean | "get" | "set";
  numericSeparator: boolean;
  circular?: Map<unknown, number>;
  userOptions?: object;
}

const customInspectSymbol = SymbolFor("nodejs.util.inspect.custom");

const inspectDefaultOptions = ObjectSeal({
  showHidden: false,
  depth: 2 as number | null,
  colors: false,
  customInspect: true,
  showProxy: false,
  maxArrayLength: 100 as number | null,
  maxStringLength: 10000 as number | null,
  breakLength: 80,
  compact: 3 as boolean | number,
  sorted: false as boolean | ((a: string, b: string) => number),
  getters: false as boolean | "get" | "set",
  numericSeparator: false,
});

const kObjectType = 0;
const kArrayType = 1;
const kArrayExtrasType = 2;

const keyStrRegExp = /^[a-zA-Z_][a-zA-Z_0-9]*$/;
const numberRegExp = /^(0|[1-9][0-9]*)$/;
const classRegExp = /^(\s+[^(]*?)\s*{/;
const stripCommentsRegExp = /(\/\/.*?\n)|(\/\*(.|\n)*?\*\/)/g;
const escapeTest = /[\x00-\x1f\x27\x5c\x7f-\x9f]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
const escapeTestNoQuote = /[\x00-\x1f\x5c\x7f-\x9f]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
const escapeAll = new RegExp(RegExpPrototypeGetSource(escapeTest), "g");
const kMinLineWidth = 16;

const namedEscapes: Record<number, string> = { 8: "\\b", 9: "\\t", 10: "\\n", 12: "\\f", 13: "\\r", 39: "\\'", 92: "\\\\" };

function escapeChar(char: string): string {
  const code = StringPrototypeCharCodeAt(char, 0);
  if (namedEscapes[code] !== undefined) return namedEscapes[code];
  if (code >= 0xd800) return `\\u${NumberPrototypeToString(code, 16)}`;
  return `\\x${StringPrototypePadStart(StringPrototypeToUpperCase(NumberPrototypeToString(code, 16)), 2, "0")}`;
}

/** Quotes a string as Node does: single quotes, else double, else backticks, escaping the rest. */
function strEscape(text: string): string {
  let quote = "'";
  let test = escapeTest;
  if (StringPrototypeIncludes(text, "'")) {
    if (!StringPrototypeIncludes(text, '"')) quote = '"';
    else if (!StringPrototypeIncludes(text, "`") && !StringPrototypeIncludes(text, "${")) quote = "`";
    if (quote !== "'") test = escapeTestNoQuote;
  }
  if (!(RegExpPrototypeExec(test, text) !== null)) return quote + text + quote;
  const replacer = new RegExp(RegExpPrototypeGetSource(test), "g");
  return quote + RegExpPrototypeSymbolReplace(replacer, text, escapeChar) + quote;
}

const colors: Record<string, [number, number]> = {
  reset: [0, 0],
  bold: [1, 22],
  dim: [2, 22],
  italic: [3, 23],
  underline: [4, 24],
  blink: [5, 25],
  inverse: [7, 27],
  hidden: [8, 28],
  strikethrough: [9, 29],
  doubleunderline: [21, 24],
  black: [30, 39],
  red: [31, 39],
  green: [32, 39],
  yellow: [33, 39],
  blue: [34, 39],
  magenta: [35, 39],
  cyan: [36, 39],
  white: [37, 39],
  gray: [90, 39],
  grey: [90, 39],
};

const styles: Record<string, string> = {
  special: "cyan",
  number: "yellow",
  bigint: "yellow",
  boolean: "yellow",
  undefined: "grey",
  null: "bold",
  string: "green",
  symbol: "green",
  date: "magenta",
  regexp: "red",
  module: "underline",
};

function stylizeWithColor(text: string, style: string): string {
  const color = colors[styles[style]];
  return color === undefined ? text : `\u001b[${color[0]}m${text}\u001b[${color[1]}m`;
}

const stylizeNoColor: Stylize = (text) => text;

/** Formats any value for humans; `options` as in Node (legacy: showHidden, depth, colors). */
export function inspect(value: unknown, options?: InspectOptions | boolean, ...legacy: unknown[]): string {
  const ctx: Context = {
    budget: {},
    indentationLvl: 0,
    seen: [],
    currentDepth: 0,
    stylize: stylizeNoColor,
    showHidden: inspectDefaultOptions.showHidden,
    depth: inspectDefaultOptions.depth,
    colors: inspectDefaultOptions.colors,
    customInspect: inspectDefaultOptions.customInspect,
    showProxy: inspectDefaultOptions.showProxy,
    maxArrayLength: inspectDefaultOptions.maxArrayLength ?? Infinity,
    maxStringLength: inspectDefaultOptions.maxStringLength ?? Infinity,
    breakLength: inspectDefaultOptions.breakLength,
    compact: inspectDefaultOptions.compact,
    sorted: inspectDefaultOptions.sorted,
    getters: inspectDefaultOptions.getters,
    numericSeparator: inspectDefaultOptions.numericSeparator,
  };
  if (legacy.length > 0) {
    if (legacy[0] !== undefined) ctx.depth = legacy[0] as number;
    if (legacy.length > 1 && legacy[1] !== undefined) ctx.colors = Boolean(legacy[1]);
  }
  if (typeof options === "boolean") ctx.showHidden = options;
  else if (options) {
    for (let i44 = 0, a44 = ObjectKeys(options); i44 < a44.length; i44++) {
      const key = a44[i44];
      if (ObjectPrototypeHasOwnProperty(inspectDefaultOptions, key) || key === "stylize") {
        (ctx as unknown as Record<string, unknown>)[key] = (options as Record<string, unknown>)[key];
      } else if (ctx.userOptions === undefined) ctx.userOptions = options;
    }
  }
  if (ctx.colors) ctx.stylize = stylizeWithColor;
  if (ctx.maxArrayLength === null) ctx.maxArrayLength = Infinity;
  if (ctx.maxStringLength === null) ctx.maxStringLength = Infinity;
  return formatValue(ctx, value, 0);
}

inspect.custom = customInspectSymbol;
inspect.colors = colors;
inspect.styles = styles;
ObjectDefineProperty(inspect, "defaultOptions", {
  get: () => inspectDefaultOptions,
  set(options: unknown) {
    if (options === null || typeof options !== "object") throw new TypeError('The "options" argument must be of type object.');
    ObjectAssign(inspectDefaultOptions, options);
  },
});

function getUserOptions(ctx: Context): Record<string, unknown> {
  return {
    stylize: ctx.stylize,
    showHidden: ctx.showHidden,
    depth: ctx.depth,
    colors: ctx.colors,
    customInspect: ctx.customInspect,
    showProxy: ctx.showProxy,
    maxArrayLength: ctx.maxArrayLength,
    maxStringLength: ctx.maxStringLength,
    breakLength: ctx.breakLength,
    compact: ctx.compact,
    sorted: ctx.sorted,
    getters: ctx.getters,
    numericSeparator: ctx.numericSeparator,
    ...ctx.userOptions,
  };
}

function formatValue(ctx: Context, value: unknown, recurseTimes: number, typedArray?: boolean): string {
  if (typeof value !== "object" && typeof value !== "function") return formatPrimitive(ctx.stylize, value, ctx);
  if (value === null) return ctx.stylize("null", "null");
  const object = value as Record<PropertyKey, unknown>;
  if (ctx.customInspect) {
    let maybeCustom: unknown;
    try {
      maybeCustom = object[customInspectSymbol];
    } catch {
      maybeCustom = undefined;
    }
    const ownConstructor = ObjectGetOwnPropertyDescriptor(object, "constructor")?.value as { prototype?: unknown } | undefined;
    if (typeof maybeCustom === "function" && maybeCustom !== inspect && ownConstructor?.prototype !== object) {
      const depth = ctx.depth === null ? null : ctx.depth - recurseTimes;
      const result = ReflectApply(maybeCustom, object, [depth, getUserOptions(ctx), inspect]);
      if (result !== object) {
        if (typeof result !== "string") return formatValue(ctx, result, recurseTimes);
        return StringPrototypeReplaceAll(result, "\n", `\n${StringPrototypeRepeat(" ", ctx.indentationLvl)}`);
      }
    }
  }
  if (ArrayPrototypeIncludes(ctx.seen, object)) {
    let index = 1;
    if (ctx.circular === undefined) {
      ctx.circular = MapFrom([[object, index]]);
    } else {
      const known = MapPrototypeGet(ctx.circular, object);
      if (known === undefined) {
        index = MapPrototypeGetSize(ctx.circular) + 1;
        MapPrototypeSet(ctx.circular, object, index);
      } else index = known;
    }
    return ctx.stylize(`[Circular *${index}]`, "special");
  }
  return formatRaw(ctx, object, recurseTimes, typedArray);
}

function isInstanceof(object: object, constructor: unknown): boolean {
  try {
    return object instanceof (constructor as new () => object);
  } catch {
    return false;
  }
}

let builtInNames: Set<string> | undefined;

function isBuiltInName(name: string): boolean {
  builtInNames ??= SetFrom(ArrayPrototypeFilter(ObjectGetOwnPropertyNames(globalThis), (key) => (RegExpPrototypeExec(/^[A-Z][a-zA-Z0-9]+$/, key) !== null)));
  return SetPrototypeHas(builtInNames, name);
}

/** With showHidden, the data properties a user-defined prototype chain adds (up to three levels). */
function addPrototypeProperties(ctx: Context, main: object, start: object, recurseTimes: number, output: string[]): void {
  let depth = 0;
  let keys: PropertyKey[] = [];
  const seenKeys = new Set<PropertyKey>();
  let object: object | null = start;
  do {
    if (depth !== 0 || main === object) {
      object = ObjectGetPrototypeOf(object);
      if (object === null) return;
      const descriptor = ObjectGetOwnPropertyDescriptor(object, "constructor");
      if (descriptor !== undefined && typeof descriptor.value === "function" && isBuiltInName(descriptor.value.name)) return;
    }
    if (depth !== 0) for (let i45 = 0, a45 = keys; i45 < a45.length; i45++) {
      const key = a45[i45];
      SetPrototypeAdd(seenKeys, key);
    }
    keys = ReflectOwnKeys(object!);
    ArrayPrototypePush(ctx.seen, main);
    for (let i46 = 0, a46 = keys; i46 < a46.length; i46++) {
      const key = a46[i46];
      if (key === "constructor" || ObjectPrototypeHasOwnProperty(main, key) || (depth !== 0 && SetPrototypeHas(seenKeys, key))) continue;
      const descriptor = ObjectGetOwnPropertyDescriptor(object!, key)!;
      if (typeof descriptor.value === "function") continue;
      const shown = formatProperty(ctx, object as Record<PropertyKey, unknown>, recurseTimes, key, kObjectType, descriptor, main);
      ArrayPrototypePush(output, ctx.colors ? `\u001b[2m${shown}\u001b[22m` : shown);
    }
    ArrayPrototypePop(ctx.seen);
  } while (++depth !== 3);
}

function getConstructorName(object: object, ctx: Context, recurseTimes: number, protoProps?: string[]): string | null {
  let firstProto: object | null | undefined;
  let current: object | null = object;
  while (current !== null) {
    const descriptor = ObjectGetOwnPropertyDescriptor(current, "constructor");
    if (descriptor !== undefined && typeof descriptor.value === "function" && descriptor.value.name !== "" && isInstanceof(object, descriptor.value)) {
      if (protoProps !== undefined && (firstProto !== current || !isBuiltInName(descriptor.value.name))) {
        addPrototypeProperties(ctx, object, firstProto || object, recurseTimes, protoProps);
      }
      return String(descriptor.value.name);
    }
    current = ObjectGetPrototypeOf(current);
    if (firstProto === undefined) firstProto = current;
  }
  if (firstProto === null || firstProto === undefined) return null;
  if (ctx.depth !== null && recurseTimes > ctx.depth) return "Object <Complex prototype>";
  return `Object <${inspect(firstProto, { ...getUserOptions(ctx), customInspect: false, depth: -1 } as InspectOptions)}>`;
}

function getPrefix(constructor: string | null, tag: string, fallback: string, size = ""): string {
  if (constructor === null) {
    if (tag !== "" && fallback !== tag) return `[${fallback}${size}: null prototype] [${tag}] `;
    return `[${fallback}${size}: null prototype] `;
  }
  if (tag !== "" && constructor !== tag) return `${constructor}${size} [${tag}] `;
  return `${constructor}${size} `;
}

function getKeys(value: object, showHidden: boolean): PropertyKey[] {
  let keys: PropertyKey[];
  const symbols = ObjectGetOwnPropertySymbols(value);
  if (showHidden) {
    keys = ObjectGetOwnPropertyNames(value);
    if (symbols.length !== 0) ArrayPrototypePushApply(keys, symbols);
  } else {
    try {
      keys = ObjectKeys(value);
    } catch {
      // A namespace object of a module that has not been evaluated yet.
      keys = ObjectGetOwnPropertyNames(value);
    }
    if (symbols.length !== 0) ArrayPrototypePushApply(keys, ArrayPrototypeFilter(symbols, (key) => ObjectPrototypePropertyIsEnumerable(value, key)));
  }
  return keys;
}

/** Own keys that are not array indices (the elements are printed separately). */
function getNonIndexKeys(value: object, showHidden: boolean): PropertyKey[] {
  return ArrayPrototypeFilter(getKeys(value, showHidden), (key) => typeof key !== "string" || !(RegExpPrototypeExec(numberRegExp, key) !== null) || Number(key) > 2 ** 32 - 2);
}

function getCtxStyle(constructor: string | null, tag: string): string {
  return getPrefix(constructor, tag, constructor === null ? "Object" : "");
}

type Formatter = (ctx: Context, value: never, recurseTimes: number) => string[];

function formatRaw(ctx: Context, value: Record<PropertyKey, unknown>, recurseTimes: number, typedArray?: boolean): string {
  let keys: PropertyKey[] = [];
  let protoProps: string[] | undefined = ctx.showHidden && (ctx.depth === null || recurseTimes <= ctx.depth) ? [] : undefined;
  const constructor = getConstructorName(value, ctx, recurseTimes, protoProps);
  if (protoProps !== undefined && protoProps.length === 0) protoProps = undefined;
  let tag = "";
  try {
    const found = value[SymbolToStringTag];
    if (typeof found === "string") tag = found;
  } catch {
    // A throwing getter leaves the tag out.
  }
  if (tag !== "" && ReflectApply((ctx.showHidden ? Originals["Object.prototype.hasOwnProperty"]! : Originals["Object.prototype.propertyIsEnumerable"]!), value, [SymbolToStringTag])) tag = "";

  let base = "";
  let formatter: Formatter = () => [];
  let braces: [string, string] = ["{", "}"];
  let noIterator = true;
  let extrasType = kObjectType;
  // Node 24: what the prototype's getters say (a buffer's length, a view's offset) comes after
  // the formatter's entries, each name in brackets.
  let extraKeys: string[] | undefined;
  let extraTypedArray: boolean | undefined;

  if (SymbolIterator in value || constructor === null) {
    noIterator = false;
    if (ArrayIsArray(value)) {
      const prefix = constructor !== "Array" || tag !== "" ? getPrefix(constructor, tag, "Array", `(${value.length})`) : "";
      keys = getNonIndexKeys(value, ctx.showHidden);
      braces = [`${prefix}[`, "]"];
      if (value.length === 0 && keys.length === 0 && protoProps === undefined) return `${braces[0]}]`;
      extrasType = kArrayExtrasType;
      formatter = formatArray as Formatter;
    } else if (isSet(value)) {
      const set = value as unknown as Set<unknown>;
      const prefix = getPrefix(constructor, tag, "Set", `(${SetPrototypeGetSize(set)})`);
      keys = getKeys(value, ctx.showHidden);
      formatter = ((c: Context, _v: unknown, r: number) => formatSet(c, set, r)) as Formatter;
      if (SetPrototypeGetSize(set) === 0 && keys.length === 0 && protoProps === undefined) return `${prefix}{}`;
      braces = [`${prefix}{`, "}"];
    } else if (isMap(value)) {
      const map = value as unknown as Map<unknown, unknown>;
      const prefix = getPrefix(constructor, tag, "Map", `(${MapPrototypeGetSize(map)})`);
      keys = getKeys(value, ctx.showHidden);
      formatter = ((c: Context, _v: unknown, r: number) => formatMap(c, map, r)) as Formatter;
      if (MapPrototypeGetSize(map) === 0 && keys.length === 0 && protoProps === undefined) return `${prefix}{}`;
      braces = [`${prefix}{`, "}"];
    } else if (isTypedArray(value)) {
      const array = value as unknown as ArrayLike<number | bigint> & { length: number };
      keys = getNonIndexKeys(value, ctx.showHidden);
      const fallback = constructor === null ? (TypedArrayPrototypeGetSymbolToStringTag(value) as string) : "";
      const prefix = getPrefix(constructor, tag, fallback, `(${array.length})`);
      braces = [`${prefix}[`, "]"];
      if (array.length === 0 && keys.length === 0 && !ctx.showHidden) return `${braces[0]}]`;
      formatter = ((c: Context) => formatTypedArray(c, array)) as Formatter;
      extrasType = kArrayExtrasType;
      if (ctx.showHidden) {
        extraKeys = ["BYTES_PER_ELEMENT", "length", "byteLength", "byteOffset", "buffer"];
        extraTypedArray = true;
      }
    } else if (isMapIterator(value) || isSetIterator(value)) {
      keys = getKeys(value, ctx.showHidden);
      const type = isMapIterator(value) ? "Map" : "Set";
      braces = [`[${tag === `${type} Iterator` || tag === "" ? `${type} Iterator` : `${tag}] [${type} Iterator`}] {`, "}"];
      formatter = ((c: Context) => [c.stylize("<items unknown>", "special")]) as Formatter;
    } else noIterator = true;
  }
  if (noIterator) {
    keys = getKeys(value, ctx.showHidden);
    braces = ["{", "}"];
    if (typeof value === "function") {
      base = getFunctionBase(value as unknown as (...args: unknown[]) => unknown, constructor, tag);
      if (keys.length === 0 && protoProps === undefined) return ctx.stylize(base, "special");
    } else if (constructor === "Object") {
      if (isArgumentsObject(value)) braces[0] = "[Arguments] {";
      else if (tag !== "") braces[0] = `${getPrefix(constructor, tag, "Object")}{`;
      if (keys.length === 0 && protoProps === undefined) return `${braces[0]}}`;
    } else if (isRegExp(value)) {
      base = ReflectApply(Originals["RegExp.prototype.toString"]!, constructor !== null ? value : new RegExp(value as unknown as RegExp), []);
      const prefix = getPrefix(constructor, tag, "RegExp");
      if (prefix !== "RegExp ") base = `${prefix}${base}`;
      if ((keys.length === 0 && protoProps === undefined) || (ctx.depth !== null && recurseTimes > ctx.depth)) return ctx.stylize(base, "regexp");
    } else if (isDate(value)) {
      const time = DatePrototypeGetTime(value);
      base = NumberIsNaN(time) ? DatePrototypeToString(value) : DatePrototypeToISOString(value);
      const prefix = getPrefix(constructor, tag, "Date");
      if (prefix !== "Date ") base = `${prefix}${base}`;
      if (keys.length === 0 && protoProps === undefined) return ctx.stylize(base, "date");
    } else if (isNativeError(value) || value instanceof Error) {
      base = formatError(value as unknown as Error, constructor, tag, ctx, keys);
      if (keys.length === 0 && protoProps === undefined) return base;
    } else if (isAnyArrayBuffer(value)) {
      const prefix = getPrefix(constructor, tag, isArrayBuffer(value) ? "ArrayBuffer" : "SharedArrayBuffer");
      if (typedArray === undefined) formatter = formatArrayBuffer as Formatter;
      else if (keys.length === 0 && protoProps === undefined) return `${prefix}{ [byteLength]: ${formatNumber(ctx.stylize, ArrayBufferPrototypeGetByteLength((value as unknown as ArrayBuffer)), false)} }`;
      braces[0] = `${prefix}{`;
      extraKeys = ["byteLength"];
    } else if (isDataView(value)) {
      braces[0] = `${getPrefix(constructor, tag, "DataView")}{`;
      extraKeys = ["byteLength", "byteOffset", "buffer"];
    } else if (isPromise(value)) {
      braces[0] = `${getPrefix(constructor, tag, "Promise")}{`;
      formatter = ((c: Context) => [c.stylize("<unknown>", "special")]) as Formatter;
    } else if (isWeakSet(value) || isWeakMap(value)) {
      braces[0] = `${getPrefix(constructor, tag, isWeakSet(value) ? "WeakSet" : "WeakMap")}{`;
      formatter = ((c: Context) => [c.stylize("<items unknown>", "special")]) as Formatter;
    } else if (isModuleNamespaceObject(value)) {
      braces[0] = `${getPrefix(constructor, tag, "Module")}{`;
      const namespaceKeys = keys;
      formatter = ((c: Context, v: Record<PropertyKey, unknown>, r: number) => formatNamespaceObject(ArrayPrototypeSplice(namespaceKeys, 0), c, v, r)) as Formatter;
    } else if (isBoxedPrimitive(value)) {
      base = getBoxedBase(value, ctx, keys, constructor, tag);
      if (keys.length === 0 && protoProps === undefined) return base;
    } else {
      if (keys.length === 0 && protoProps === undefined) return `${getCtxStyle(constructor, tag)}{}`;
      braces[0] = `${getCtxStyle(constructor, tag)}{`;
    }
  }

  if (ctx.depth !== null && recurseTimes > ctx.depth) {
    let name = StringPrototypeSlice(getCtxStyle(constructor, tag), 0, -1);
    if (constructor !== null) name = `[${name}]`;
    return ctx.stylize(name, "special");
  }
  recurseTimes += 1;
  ArrayPrototypePush(ctx.seen, value);
  ctx.currentDepth = recurseTimes;
  let output: string[];
  const indentationLvl = ctx.indentationLvl;
  try {
    output = formatter(ctx, value as never, recurseTimes);
    if (extraKeys !== undefined) {
      for (let i47 = 0, a47 = extraKeys; i47 < a47.length; i47++) {
        const key = a47[i47];
        let shown: unknown;
        try {
          shown = value[key];
        } catch {
          shown = (value.buffer as Record<string, unknown>)[key];
        }
        ctx.indentationLvl += 2;
        const text = formatValue(ctx, shown, recurseTimes, extraTypedArray);
        ctx.indentationLvl -= 2;
        ArrayPrototypePush(output, `${ctx.stylize(`[${key}]`, "string")}: ${text}`);
      }
    }
    for (let i48 = 0, a48 = keys; i48 < a48.length; i48++) {
      const key = a48[i48];
      ArrayPrototypePush(output, formatProperty(ctx, value, recurseTimes, key, extrasType));
    }
    if (protoProps !== undefined) ArrayPrototypePushApply(output, protoProps);
  } catch (error) {
    if (!(error instanceof RangeError && (RegExpPrototypeExec(/call stack/i, error.message) !== null))) throw error;
    ArrayPrototypePop(ctx.seen);
    ctx.indentationLvl = indentationLvl;
    return ctx.stylize(`[${StringPrototypeSlice(getCtxStyle(constructor, tag), 0, -1)}: Inspection interrupted prematurely. Maximum call stack size exceeded.]`, "special");
  }
  if (ctx.circular !== undefined) {
    const index = MapPrototypeGet(ctx.circular, value);
    if (index !== undefined) {
      const reference = ctx.stylize(`<ref *${index}>`, "special");
      if (ctx.compact !== true) base = base === "" ? reference : `${reference} ${base}`;
      else braces[0] = `${reference} ${braces[0]}`;
    }
  }
  ArrayPrototypePop(ctx.seen);
  if (ctx.sorted) {
    const comparator = ctx.sorted === true ? undefined : ctx.sorted;
    if (extrasType === kObjectType) ArrayPrototypeSort(output, comparator);
    else if (keys.length > 1) {
      const sorted = ArrayPrototypeSort(ArrayPrototypeSlice(output, output.length - keys.length), comparator);
      for (let i = 0; i < sorted.length; i++) output[output.length - keys.length + i] = sorted[i];
    }
  }
  const result = reduceToSingleString(ctx, output, base, braces, extrasType, recurseTimes, value);
  const budget = (ctx.budget[ctx.indentationLvl] ?? 0) + result.length;
  ctx.budget[ctx.indentationLvl] = budget;
  // Stop descending once the output is huge, so one call cannot build an unbounded string.
  if (budget > 2 ** 27) ctx.depth = -1;
  return result;
}

function getBoxedBase(value: object, ctx: Context, keys: PropertyKey[], constructor: string | null, tag: string): string {
  let type: string;
  let primitive: unknown;
  if (isNumberObject(value)) {
    type = "Number";
    primitive = NumberPrototypeValueOf(value);
  } else if (isStringObject(value)) {
    type = "String";
    primitive = StringPrototypeValueOf(value);
    ArrayPrototypeSplice(keys, 0, (primitive as string).length);
  } else if (isBooleanObject(value)) {
    type = "Boolean";
    primitive = BooleanPrototypeValueOf(value);
  } else if (isBigIntObject(value)) {
    type = "BigInt";
    primitive = BigIntPrototypeValueOf(value);
  } else {
    type = "Symbol";
    primitive = ReflectApply(Originals["Symbol.prototype.valueOf"]!, value, []);
  }
  let base = `[${type}`;
  if (type !== constructor) base += constructor === null ? " (null prototype)" : ` (${constructor})`;
  base += `: ${formatPrimitive(stylizeNoColor, primitive, ctx)}]`;
  if (tag !== "" && tag !== constructor) base += ` [${tag}]`;
  if (keys.length !== 0 || ctx.stylize === stylizeNoColor) return base;
  return ctx.stylize(base, StringPrototypeToLowerCase(type));
}

function getClassBase(value: (...args: unknown[]) => unknown, constructor: string | null, tag: string): string {
  const name = (ObjectPrototypeHasOwnProperty(value, "name") && value.name) || "(anonymous)";
  let base = `class ${name}`;
  if (constructor !== "Function" && constructor !== null) base += ` [${constructor}]`;
  if (tag !== "" && constructor !== tag) base += ` [${tag}]`;
  if (constructor !== null) {
    const superName = (ObjectGetPrototypeOf(value) as { name?: string }).name;
    if (superName) base += ` extends ${superName}`;
  } else base += " extends [null prototype]";
  return `[${base}]`;
}

function getFunctionBase(value: (...args: unknown[]) => unknown, constructor: string | null, tag: string): string {
  const source = FunctionPrototypeToString(value);
  if (StringPrototypeStartsWith(source, "class") && StringPrototypeEndsWith(source, "}")) {
    const slice = StringPrototypeSlice(source, 5, -1);
    const bracket = StringPrototypeIndexOf(slice, "{");
    if (bracket !== -1 && (!StringPrototypeIncludes(StringPrototypeSlice(slice, 0, bracket), "(") || (RegExpPrototypeExec(classRegExp, RegExpPrototypeSymbolReplace(stripCommentsRegExp, slice, "")) !== null))) return getClassBase(value, constructor, tag);
  }
  let type = "Function";
  if (isGeneratorFunction(value)) type = `Generator${type}`;
  if (isAsyncFunction(value)) type = `Async${type}`;
  let base = `[${type}`;
  if (constructor === null) base += " (null prototype)";
  base += value.name === "" ? " (anonymous)" : `: ${value.name}`;
  base += "]";
  if (constructor !== type && constructor !== null) base += ` ${constructor}`;
  if (tag !== "" && constructor !== tag) base += ` [${tag}]`;
  return base;
}

function improveStack(stack: string, constructor: string | null, name: string, tag: string): string {
  let length = name.length;
  if (constructor === null || (StringPrototypeEndsWith(name, "Error") && StringPrototypeStartsWith(stack, name) && (stack.length === length || stack[length] === ":" || stack[length] === "\n"))) {
    let fallback = "Error";
    if (constructor === null) {
      const start = RegExpPrototypeExec(/^([A-Z][a-z_ A-Z0-9[\]()-]+)(?::|\n\s+at)/, stack) || RegExpPrototypeExec(/^([a-z_A-Z0-9-]*Error)$/, stack);
      fallback = start?.[1] ?? "";
      length = fallback.length;
      fallback ||= "Error";
    }
    const prefix = StringPrototypeSlice(getPrefix(constructor, tag, fallback), 0, -1);
    if (name !== prefix) {
      if (StringPrototypeIncludes(prefix, name)) stack = length === 0 ? `${prefix}: ${stack}` : `${prefix}${StringPrototypeSlice(stack, length)}`;
      else stack = `${prefix} [${name}]${StringPrototypeSlice(stack, length)}`;
    }
  }
  return stack;
}

function formatError(error: Error, constructor: string | null, tag: string, ctx: Context, keys: PropertyKey[]): string {
  const name = error.name != null ? String(error.name) : "Error";
  let stack: string;
  try {
    stack = error.stack ? String(error.stack) : ErrorPrototypeToString(error);
  } catch {
    stack = ObjectPrototypeToString(error);
  }
  if (!ctx.showHidden && keys.length !== 0) {
    for (let i49 = 0, a49 = ["name", "message", "stack"]; i49 < a49.length; i49++) {
      const key = a49[i49];
      const index = ArrayPrototypeIndexOf(keys, key);
      if (index !== -1 && StringPrototypeIncludes(stack, String((error as unknown as Record<string, unknown>)[key]))) ArrayPrototypeSplice(keys, index, 1);
    }
  }
  if ("cause" in error && (keys.length === 0 || !ArrayPrototypeIncludes(keys, "cause"))) ArrayPrototypePush(keys, "cause");
  if (ArrayIsArray((error as { errors?: unknown }).errors) && (keys.length === 0 || !ArrayPrototypeIncludes(keys, "errors"))) ArrayPrototypePush(keys, "errors");
  stack = improveStack(stack, constructor, name, tag);
  const message = error.message;
  let position = (message && StringPrototypeIndexOf(stack, message)) || -1;
  if (position !== -1) position += message.length;
  const stackStart = StringPrototypeIndexOf(stack, "\n    at", position);
  if (stackStart === -1) stack = `[${stack}]`;
  if (ctx.indentationLvl !== 0) stack = StringPrototypeReplaceAll(stack, "\n", `\n${StringPrototypeRepeat(" ", ctx.indentationLvl)}`);
  return stack;
}

function addNumericSeparator(integer: string): string {
  let result = "";
  let i = integer.length;
  const start = StringPrototypeStartsWith(integer, "-") ? 1 : 0;
  for (; i >= start + 4; i -= 3) result = `_${StringPrototypeSlice(integer, i - 3, i)}${result}`;
  return i === integer.length ? integer : `${StringPrototypeSlice(integer, 0, i)}${result}`;
}

function addNumericSeparatorEnd(fraction: string): string {
  let result = "";
  let i = 0;
  for (; i < fraction.length - 3; i += 3) result += `${StringPrototypeSlice(fraction, i, i + 3)}_`;
  return i === 0 ? fraction : `${result}${StringPrototypeSlice(fraction, i)}`;
}

export function formatNumber(stylize: Stylize, number: number, numericSeparator: boolean): string {
  // Node 24: -0 stays -0 with separators too, and exponents are never separated.
  if (ObjectIs(number, -0)) return stylize("-0", "number");
  if (!numericSeparator) return stylize(`${number}`, "number");
  const text = String(number);
  if (MathTrunc(number) === number) {
    if (!NumberIsFinite(number) || StringPrototypeIncludes(text, "e")) return stylize(text, "number");
    return stylize(addNumericSeparator(text), "number");
  }
  if (NumberIsNaN(number) || StringPrototypeIncludes(text, "e")) return stylize(text, "number");
  const dot = StringPrototypeIndexOf(text, ".");
  return stylize(`${addNumericSeparator(StringPrototypeSlice(text, 0, dot))}.${addNumericSeparatorEnd(StringPrototypeSlice(text, dot + 1))}`, "number");
}

export function formatBigInt(stylize: Stylize, bigint: bigint, numericSeparator: boolean): string {
  const text = String(bigint);
  return stylize(`${numericSeparator ? addNumericSeparator(text) : text}n`, "bigint");
}

function formatPrimitive(stylize: Stylize, value: unknown, ctx: Context): string {
  if (typeof value === "string") {
    let text = value;
    let trailer = "";
    if (text.length > ctx.maxStringLength) {
      const remaining = text.length - ctx.maxStringLength;
      text = StringPrototypeSlice(text, 0, ctx.maxStringLength);
      trailer = `... ${remaining} more character${remaining > 1 ? "s" : ""}`;
    }
    if (ctx.compact !== true && text.length > kMinLineWidth && text.length > ctx.breakLength - ctx.indentationLvl - 4) {
      return ArrayPrototypeJoin(ArrayPrototypeMap(ArrayPrototypeMap(StringPrototypeSplit(text, "\n"), (line, i, all) => (i < all.length - 1 ? line + "\n" : line)), (line) => stylize(strEscape(line), "string")), ` +\n${StringPrototypeRepeat(" ", ctx.indentationLvl + 2)}`) + trailer;
    }
    return stylize(strEscape(text), "string") + trailer;
  }
  if (typeof value === "number") return formatNumber(stylize, value, ctx.numericSeparator);
  if (typeof value === "bigint") return formatBigInt(stylize, value, ctx.numericSeparator);
  if (typeof value === "boolean") return stylize(`${value}`, "boolean");
  if (typeof value === "undefined") return stylize("undefined", "undefined");
  return stylize(SymbolPrototypeToString(value), "symbol");
}

function formatNamespaceObject(keys: PropertyKey[], ctx: Context, value: Record<PropertyKey, unknown>, recurseTimes: number): string[] {
  return ArrayPrototypeMap(keys, (key) => {
    try {
      return formatProperty(ctx, value, recurseTimes, key, kObjectType);
    } catch {
      // An export still in its temporal dead zone.
      const shown = formatProperty(ctx, { [key]: "" }, recurseTimes, key, kObjectType);
      return `${StringPrototypeSlice(shown, 0, StringPrototypeLastIndexOf(shown, " ") + 1)}${ctx.stylize("<uninitialized>", "special")}`;
    }
  });
}

const remainingText = (remaining: number) => `... ${remaining} more item${remaining > 1 ? "s" : ""}`;

function formatSpecialArray(ctx: Context, value: unknown[] & Record<PropertyKey, unknown>, recurseTimes: number, maxLength: number, output: string[], start: number): string[] {
  const keys = ObjectKeys(value);
  let index = start;
  for (let i = start; i < keys.length && output.length < maxLength; i++) {
    const key = keys[i];
    const numeric = +key;
    if (numeric > 2 ** 32 - 2) break;
    if (`${index}` !== key) {
      if (!(RegExpPrototypeExec(numberRegExp, key) !== null)) break;
      const empty = numeric - index;
      ArrayPrototypePush(output, ctx.stylize(`<${empty} empty item${empty > 1 ? "s" : ""}>`, "undefined"));
      index = numeric;
      if (output.length === maxLength) break;
    }
    ArrayPrototypePush(output, formatProperty(ctx, value, recurseTimes, key, kArrayType));
    index++;
  }
  const remaining = value.length - index;
  if (output.length !== maxLength) {
    if (remaining > 0) ArrayPrototypePush(output, ctx.stylize(`<${remaining} empty item${remaining > 1 ? "s" : ""}>`, "undefined"));
  } else if (remaining > 0) ArrayPrototypePush(output, remainingText(remaining));
  return output;
}

function formatArray(ctx: Context, value: unknown[] & Record<PropertyKey, unknown>, recurseTimes: number): string[] {
  const length = MathMin(MathMax(0, ctx.maxArrayLength), value.length);
  const remaining = value.length - length;
  const output: string[] = [];
  for (let i = 0; i < length; i++) {
    if (!ObjectPrototypeHasOwnProperty(value, i)) return formatSpecialArray(ctx, value, recurseTimes, length, output, i);
    ArrayPrototypePush(output, formatProperty(ctx, value, recurseTimes, i, kArrayType));
  }
  if (remaining > 0) ArrayPrototypePush(output, remainingText(remaining));
  return output;
}

function formatTypedArray(ctx: Context, value: ArrayLike<number | bigint> & { length: number }): string[] {
  const length = MathMin(MathMax(0, ctx.maxArrayLength), value.length);
  const remaining = value.length - length;
  const output: string[] = [];
  for (let i = 0; i < length; i++) {
    const element = value[i];
    ArrayPrototypePush(output, typeof element === "bigint" ? formatBigInt(ctx.stylize, element, ctx.numericSeparator) : formatNumber(ctx.stylize, element, ctx.numericSeparator));
  }
  if (remaining > 0) ArrayPrototypePush(output, remainingText(remaining));
  return output;
}

function formatArrayBuffer(ctx: Context, value: ArrayBuffer): string[] {
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(value);
  } catch {
    return [ctx.stylize("(detached)", "special")];
  }
  const shown = MathMin(ctx.maxArrayLength, TypedArrayPrototypeGetLength(bytes));
  let text = "";
  for (let i = 0; i < shown; i++) text += (i === 0 ? "" : " ") + StringPrototypePadStart(NumberPrototypeToString(bytes[i], 16), 2, "0");
  const remaining = TypedArrayPrototypeGetLength(bytes) - ctx.maxArrayLength;
  if (remaining > 0) text += ` ... ${remaining} more byte${remaining > 1 ? "s" : ""}`;
  return [`${ctx.stylize("[Uint8Contents]", "special")}: <${text}>`];
}

function formatSet(ctx: Context, set: Set<unknown>, recurseTimes: number): string[] {
  const maxLength = MathMin(MathMax(0, ctx.maxArrayLength), SetPrototypeGetSize(set));
  const remaining = SetPrototypeGetSize(set) - maxLength;
  const output: string[] = [];
  ctx.indentationLvl += 2;
  let i = 0;
  for (let a50 = SafeSetIterator(set), i50 = a50.next(); !i50.done; i50 = a50.next()) {
    const item = i50.value;
    if (i++ >= maxLength) break;
    ArrayPrototypePush(output, formatValue(ctx, item, recurseTimes));
  }
  if (remaining > 0) ArrayPrototypePush(output, remainingText(remaining));
  ctx.indentationLvl -= 2;
  return output;
}

function formatMap(ctx: Context, map: Map<unknown, unknown>, recurseTimes: number): string[] {
  const maxLength = MathMin(MathMax(0, ctx.maxArrayLength), MapPrototypeGetSize(map));
  const remaining = MapPrototypeGetSize(map) - maxLength;
  const output: string[] = [];
  ctx.indentationLvl += 2;
  let i = 0;
  for (let a51 = SafeMapIterator(map), i51 = a51.next(); !i51.done; i51 = a51.next()) {
    const key = i51.value[0], item = i51.value[1];
    if (i++ >= maxLength) break;
    ArrayPrototypePush(output, `${formatValue(ctx, key, recurseTimes)} => ${formatValue(ctx, item, recurseTimes)}`);
  }
  if (remaining > 0) ArrayPrototypePush(output, remainingText(remaining));
  ctx.indentationLvl -= 2;
  return output;
}

function formatProperty(ctx: Context, value: Record<PropertyKey, unknown>, recurseTimes: number, key: PropertyKey, type: number, descriptor?: PropertyDescriptor, original: object = value): string {
  let str: string;
  let extra = " ";
  const desc = descriptor ?? ObjectGetOwnPropertyDescriptor(value, key) ?? { value: value[key], enumerable: true };
  if (desc.value !== undefined) {
    const diff = ctx.compact !== true || type !== kObjectType ? 2 : 3;
    ctx.indentationLvl += diff;
    str = formatValue(ctx, desc.value, recurseTimes);
    if (diff === 3 && ctx.breakLength < stringWidth(str, ctx.colors)) extra = `\n${StringPrototypeRepeat(" ", ctx.indentationLvl)}`;
    ctx.indentationLvl -= diff;
  } else if (desc.get !== undefined) {
    const label = desc.set !== undefined ? "Getter/Setter" : "Getter";
    const s = ctx.stylize;
    if (ctx.getters && (ctx.getters === true || (ctx.getters === "get" && desc.set === undefined) || (ctx.getters === "set" && desc.set !== undefined))) {
      ctx.indentationLvl += 2;
      try {
        const result = ReflectApply(desc.get, original, []);
        if (result === null) str = `${s(`[${label}:`, "special")} ${s("null", "null")}${s("]", "special")}`;
        else if (typeof result === "object" || typeof result === "function") str = `${s(`[${label}]`, "special")} ${formatValue(ctx, result, recurseTimes)}`;
        else str = `${s(`[${label}:`, "special")} ${formatPrimitive(s, result, ctx)}${s("]", "special")}`;
      } catch (error) {
        // Node 24 inspects what the getter threw.
        str = `${s(`[${label}:`, "special")} <Inspection threw (${formatValue(ctx, error, recurseTimes)})>${s("]", "special")}`;
      }
      ctx.indentationLvl -= 2;
    } else str = ctx.stylize(`[${label}]`, "special");
  } else if (desc.set !== undefined) str = ctx.stylize("[Setter]", "special");
  else str = ctx.stylize("undefined", "undefined");
  if (type === kArrayType) return str;
  // Node 24: a symbol key is shown bare, and only a hidden key (of any kind) gets brackets.
  let name: string;
  if (typeof key === "symbol") name = ctx.stylize(RegExpPrototypeSymbolReplace(escapeAll, SymbolPrototypeToString(key), escapeChar), "symbol");
  else if ((RegExpPrototypeExec(keyStrRegExp, key as string) !== null)) name = key === "__proto__" ? "['__proto__']" : ctx.stylize(key as string, "name");
  else name = ctx.stylize(strEscape(key as string), "string");
  if (desc.enumerable === false) name = `[${name}]`;
  return `${name}:${extra}${str}`;
}

function groupArrayElements(ctx: Context, output: string[], value: unknown): string[] {
  let totalLength = 0;
  let maxLength = 0;
  let outputLength = output.length;
  // The "... more items" line is not part of the grid.
  if (ctx.maxArrayLength < output.length) outputLength--;
  const separatorSpace = 2;
  const dataLength: number[] = new Array(outputLength);
  for (let i = 0; i < outputLength; i++) {
    const length = stringWidth(output[i], ctx.colors);
    dataLength[i] = length;
    totalLength += length + separatorSpace;
    if (maxLength < length) maxLength = length;
  }
  const actualMax = maxLength + separatorSpace;
  // Group only when at least three columns fit and no entry dwarfs the others.
  if (actualMax * 3 + ctx.indentationLvl < ctx.breakLength && (totalLength / actualMax > 5 || maxLength <= 6)) {
    const averageBias = MathSqrt(actualMax - totalLength / output.length);
    const biasedMax = MathMax(actualMax - 3 - averageBias, 1);
    const columns = MathMin(
      MathRound(MathSqrt(2.5 * biasedMax * outputLength) / biasedMax),
      MathFloor((ctx.breakLength - ctx.indentationLvl) / actualMax),
      (ctx.compact as number) * 4,
      15,
    );
    if (columns <= 1) return output;
    const grouped: string[] = [];
    const maxLineLength: number[] = [];
    for (let i = 0; i < columns; i++) {
      let lineLength = 0;
      for (let j = i; j < output.length; j += columns) if (dataLength[j] > lineLength) lineLength = dataLength[j];
      ArrayPrototypePush(maxLineLength, lineLength + separatorSpace);
    }
    let padStart = true;
    if (value !== undefined) {
      for (let i = 0; i < output.length; i++) {
        const item = (value as unknown[])[i];
        if (typeof item !== "number" && typeof item !== "bigint") {
          padStart = false;
          break;
        }
      }
    }
    for (let i = 0; i < outputLength; i += columns) {
      const max = MathMin(i + columns, outputLength);
      let line = "";
      let j = i;
      for (; j < max - 1; j++) {
        const padding = maxLineLength[j - i] + output[j].length - dataLength[j];
        line += padStart ? StringPrototypePadStart(`${output[j]}, `, padding, " ") : StringPrototypePadEnd(`${output[j]}, `, padding, " ");
      }
      if (padStart) {
        const padding = maxLineLength[j - i] + output[j].length - dataLength[j] - separatorSpace;
        line += StringPrototypePadStart(output[j], padding, " ");
      } else line += output[j];
      ArrayPrototypePush(grouped, line);
    }
    if (ctx.maxArrayLength < output.length) ArrayPrototypePush(grouped, output[outputLength]);
    return grouped;
  }
  return output;
}

function isBelowBreakLength(ctx: Context, output: string[], start: number, base: string): boolean {
  let totalLength = output.length + start;
  if (totalLength + output.length > ctx.breakLength) return false;
  for (let i52 = 0, a52 = output; i52 < a52.length; i52++) {
    const entry = a52[i52];
    totalLength += ctx.colors ? RegExpPrototypeSymbolReplace(/\u001b\[\d\d?m/g, entry, "").length : entry.length;
    if (totalLength > ctx.breakLength) return false;
  }
  return base === "" || !StringPrototypeIncludes(base, "\n");
}

function reduceToSingleString(ctx: Context, output: string[], base: string, braces: [string, string], extrasType: number, recurseTimes: number, value?: unknown): string {
  if (ctx.compact !== true) {
    if (typeof ctx.compact === "number" && ctx.compact >= 1) {
      const entries = output.length;
      if (extrasType === kArrayExtrasType && entries > 6) output = groupArrayElements(ctx, output, value);
      // Entries of the innermost `compact` levels share a line when they fit in breakLength.
      if (ctx.currentDepth - recurseTimes < ctx.compact && entries === output.length) {
        const start = output.length + ctx.indentationLvl + braces[0].length + base.length + 10;
        if (isBelowBreakLength(ctx, output, start, base)) {
          const joined = ArrayPrototypeJoin(output, ", ");
          if (!StringPrototypeIncludes(joined, "\n")) return `${base ? `${base} ` : ""}${braces[0]} ${joined} ${braces[1]}`;
        }
      }
    }
    const indentation = `\n${StringPrototypeRepeat(" ", ctx.indentationLvl)}`;
    return `${base ? `${base} ` : ""}${braces[0]}${indentation}  ${ArrayPrototypeJoin(output, `,${indentation}  `)}${indentation}${braces[1]}`;
  }
  if (isBelowBreakLength(ctx, output, 0, base)) return `${braces[0]}${base ? ` ${base}` : ""} ${ArrayPrototypeJoin(output, ", ")} ${braces[1]}`;
  const indentation = StringPrototypeRepeat(" ", ctx.indentationLvl);
  const lineStart = base === "" && braces[0].length === 1 ? " " : `${base ? ` ${base}` : ""}\n${indentation}  `;
  return `${braces[0]}${lineStart}${ArrayPrototypeJoin(output, `,\n${indentation}  `)} ${braces[1]}`;
}
