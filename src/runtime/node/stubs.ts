// The long tail of nodejs_compat, from one table: every other module workerd serves under the flag
// imports here too, with workerd's export names, so a library's `import fs from "node:fs"` or
// `require("net")` links. What cannot work in a sandbox (processes, sockets, servers, threads, a
// REPL, compiling code in a new context, brotli and zstd) is a function or
// class that throws Node's ERR_METHOD_NOT_IMPLEMENTED ("The child_process.spawn method is not
// implemented") when called or constructed, as workerd's do; never at link time. Where real
// behaviour is cheap and safe the table gives it instead (`real`): constants, stream/web's classes
// (the sandbox's own streams), perf_hooks.performance, module.createRequire, net.isIP, tty.isatty,
// worker_threads' main-thread values, the in-memory node:fs (fs.ts).
//
// Everything here runs on the captured primordials (SECURITY.md, P12): a module object's
// properties are defined, never assigned, so a setter user code put on Object.prototype sees none.

import { EventEmitter } from "./events.ts";
import { nodeError, invalidArgType, invalidArgValue } from "./errors.ts";
import { createFsModule, createFsPromisesModule } from "./fs.ts";
import { createStreamConsumers, createStreamModule, createStreamPromises } from "./stream/module.ts";
import { createZlibModule } from "./zlib.ts";
import { connect as netConnect, isIP, isIPv4, isIPv6, normalizeArgs, Socket, TLSSocket, tlsConnect } from "./net.ts";
import { CONSTANTS, DNS_CONSTANTS, FS_CONSTANTS, HTTP2_CONSTANTS, HTTP_METHODS, HTTP_STATUS_CODES, PERF_HOOKS_CONSTANTS, SQLITE_CONSTANTS, ZLIB_CONSTANTS } from "./stub-constants.ts";
import { STREAMS_GLOBALS } from "../globals/names.ts";
import { streams } from "../platform.ts";
import { primordials } from "../primordials.ts";

const { ArrayPrototypeIncludes, ArrayPrototypeSlice, ArrayPrototypeSort, Error, Map, MapPrototypeGet, MapPrototypeSet, NumberIsInteger, ObjectCreate, ObjectDefineProperty, ObjectFreeze, ObjectKeys, RegExp, RegExpPrototypeExec, StringPrototypeSlice, StringPrototypeSplit, StringPrototypeStartsWith, Symbol, SymbolFor, TypeError } = primordials;

type Module = Record<string, unknown>;

/**
 * Node's (and workerd's) error for an API the platform does not implement: an Error with an
 * enumerable `code`. Unlike nodeError() it does not format the stack to put the code in its header:
 * in a worker whose code is lowered (node:async_hooks) that formatting runs the source-map stack
 * formatter, which the replace-every-intrinsic attack catches calling replaced intrinsics.
 */
export function notImplemented(what: string): Error & { code: string } {
  const error = new Error(`The ${what} method is not implemented`) as Error & { code: string };
  ObjectDefineProperty(error, "code", { __proto__: null, value: "ERR_METHOD_NOT_IMPLEMENTED", writable: true, enumerable: true, configurable: true } as PropertyDescriptor);
  return error;
}

/** A function named `name` that throws ERR_METHOD_NOT_IMPLEMENTED for `label` when called. */
export function stubFunction(label: string, name: string): (...args: unknown[]) => never {
  const holder = {
    [name](): never {
      throw notImplemented(label);
    },
  };
  return holder[name];
}

/** A class named `name` whose constructor throws ERR_METHOD_NOT_IMPLEMENTED: it can still be extended at load time. */
function stubClass(label: string, name: string): new (...args: unknown[]) => object {
  const holder = {
    [name]: class {
      constructor() {
        throw notImplemented(label);
      }
    },
  };
  return holder[name];
}

/** Defines (never assigns) each own enumerable property of `values` on `target`. */
export function define(target: object, values: object): void {
  const keys = ObjectKeys(values);
  for (let i = 0; i < keys.length; i++) {
    ObjectDefineProperty(target, keys[i], { __proto__: null, value: (values as Module)[keys[i]], writable: true, enumerable: true, configurable: true } as PropertyDescriptor);
  }
}

/** An object of stub functions, one per space-separated name, labelled `label.name`. */
function stubObject(label: string, names: string): Module {
  const object: Module = {};
  const list = StringPrototypeSplit(names, " ");
  for (let i = 0; i < list.length; i++) define(object, { [list[i]]: stubFunction(`${label}.${list[i]}`, list[i]) });
  return object;
}

/** A null-prototype frozen copy of a constant table. */
function table<T extends object>(values: T): T {
  const copy = ObjectCreate(null) as T;
  define(copy, values);
  return ObjectFreeze(copy);
}

interface Spec {
  /** Functions that throw ERR_METHOD_NOT_IMPLEMENTED, space-separated. */
  fn?: string;
  /** Classes whose constructor throws it, space-separated. */
  cls?: string;
  /** The module value when it is not a plain object (node:stream and node:module are functions). */
  base?: () => object;
  /** What is real: defined after the stubs, replacing any of the same name. */
  real?: (module: Module) => object;
}

/** How the table reaches the rest of the node modules (modules.ts), without importing it back. */
export interface Served {
  nodeModule(name: string): unknown;
  names(): readonly string[];
}

const ZSTD_PARAMETER = new RegExp("^ZSTD_(?:[ecd]_|fast$|dfast$|greedy$|lazy2?$|bt)");

const DNS_FUNCTIONS = "getDefaultResultOrder getServers lookup lookupService resolve resolve4 resolve6 resolveAny resolveCaa resolveCname resolveMx resolveNaptr resolveNs resolvePtr resolveSoa resolveSrv resolveTxt reverse setDefaultResultOrder setServers";
const INSPECTOR_CONSOLE = "debug error info log warn dir dirxml table trace group groupCollapsed groupEnd clear count countReset assert profile profileEnd time timeLog timeStamp";
const INSPECTOR_NETWORK = "requestWillBeSent dataReceived dataSent responseReceived loadingFinished loadingFailed webSocketCreated webSocketHandshakeResponseReceived webSocketClosed";
const CONSOLE_METHODS = "assert clear context count countReset createTask debug dir dirxml error group groupCollapsed groupEnd info log profile profileEnd table time timeEnd timeLog timeStamp trace warn";

function inspectorSpec(name: string): Spec {
  return {
    fn: "close open url waitForDebugger",
    cls: "Session",
    real: () => ({ Network: stubObject(`${name}.Network`, INSPECTOR_NETWORK), console: stubObject(`${name}.console`, INSPECTOR_CONSOLE) }),
  };
}

/** The absolute path or file: URL `module.createRequire` accepts, as Node checks it. */
function checkRequireBase(base: unknown): void {
  if (typeof base === "string" && (StringPrototypeStartsWith(base, "/") || StringPrototypeStartsWith(base, "file:"))) return;
  if (typeof base === "object" && base !== null && typeof (base as { href?: unknown }).href === "string" && (base as { protocol?: unknown }).protocol === "file:") return;
  throw nodeError(TypeError, "ERR_INVALID_ARG_VALUE", `The argument 'path' must be a file URL object, a file URL string, or an absolute path string. Received ${typeof base === "string" ? `'${base}'` : typeof base}`);
}

function builtinNames(served: Served): string[] {
  return ArrayPrototypeSort(ArrayPrototypeSlice(served.names() as string[]));
}

function servedName(served: Served, specifier: string): string | undefined {
  const name = StringPrototypeStartsWith(specifier, "node:") ? StringPrototypeSlice(specifier, 5) : specifier;
  return ArrayPrototypeIncludes(served.names(), name) ? name : undefined;
}

function createRequire(served: Served) {
  return function createRequire(base: unknown): (id: string) => unknown {
    checkRequireBase(base);
    return function require(id: unknown): unknown {
      if (typeof id !== "string") throw invalidArgType("id", "string", id);
      if (id === "") throw invalidArgValue("id", id, "must be a non-empty string");
      const name = servedName(served, id);
      if (name === undefined) {
        throw nodeError(Error, "MODULE_NOT_FOUND", `Cannot find module '${id}': a require() made by module.createRequire in islet loads only Node's built-in modules`);
      }
      return served.nodeModule(name);
    };
  };
}

/** Module name → what it exports. The stubs' labels are `<module>.<name>`. */
function specs(served: Served): Record<string, Spec> {
  const environmentData = new Map<unknown, unknown>();
  return {
    child_process: { fn: "_forkChild exec execFile execFileSync execSync fork spawn spawnSync", cls: "ChildProcess" },
    cluster: {
      base: () => new EventEmitter(),
      fn: "disconnect fork setupMaster setupPrimary",
      cls: "Cluster Worker",
      real: () => ({ SCHED_NONE: 1, SCHED_RR: 2, isMaster: true, isPrimary: true, isWorker: false, schedulingPolicy: 2, settings: {}, workers: {} }),
    },
    console: {
      fn: CONSOLE_METHODS,
      cls: "Console",
      // The sandbox's console as the module is first imported (it logs through islet's host).
      real: () => {
        const console = (globalThis as unknown as { console?: Module }).console;
        const methods: Module = {};
        if (typeof console !== "object" || console === null) return methods;
        const names = StringPrototypeSplit(CONSOLE_METHODS, " ");
        for (let i = 0; i < names.length; i++) {
          const method = console[names[i]];
          if (typeof method === "function") define(methods, { [names[i]]: method });
        }
        return methods;
      },
    },
    constants: { real: () => CONSTANTS },
    dgram: { fn: "createSocket", cls: "Socket" },
    dns: { fn: DNS_FUNCTIONS, cls: "Resolver", real: () => ({ ...DNS_CONSTANTS, promises: served.nodeModule("dns/promises") }) },
    "dns/promises": { fn: DNS_FUNCTIONS, cls: "Resolver", real: () => DNS_CONSTANTS },
    domain: { fn: "create createDomain", cls: "Domain", real: () => ({ active: null }) },
    fs: {
      fn: "access accessSync appendFile appendFileSync chmod chmodSync chown chownSync close closeSync copyFile copyFileSync cp cpSync createReadStream createWriteStream exists existsSync fchmod fchmodSync fchown fchownSync fdatasync fdatasyncSync fstat fstatSync fsync fsyncSync ftruncate ftruncateSync futimes futimesSync glob globSync lchmod lchmodSync lchown lchownSync link linkSync lstat lstatSync lutimes lutimesSync mkdir mkdirSync mkdtemp mkdtempSync open openAsBlob openSync opendir opendirSync read readFile readFileSync readSync readdir readdirSync readlink readlinkSync readv readvSync realpath realpathSync rename renameSync rm rmSync rmdir rmdirSync stat statSync statfs statfsSync symlink symlinkSync truncate truncateSync unlink unlinkSync unwatchFile utimes utimesSync watch watchFile write writeFile writeFileSync writeSync writev writevSync",
      cls: "Dir Dirent FileReadStream FileWriteStream ReadStream Stats WriteStream",
      real: () => ({ F_OK: 0, R_OK: 4, W_OK: 2, X_OK: 1, constants: table(FS_CONSTANTS), promises: served.nodeModule("fs/promises"), ...createFsModule() }),
    },
    "fs/promises": {
      fn: "access appendFile chmod chown copyFile cp glob lchmod lchown link lstat lutimes mkdir mkdtemp open opendir readFile readdir readlink realpath rename rm rmdir stat statfs symlink truncate unlink utimes watch writeFile",
      cls: "FileHandle",
      real: () => ({ constants: table(FS_CONSTANTS), ...createFsPromisesModule() }),
    },
    http: {
      fn: "_connectionListener createServer get request setMaxIdleHTTPParsers validateHeaderName validateHeaderValue",
      cls: "Agent ClientRequest CloseEvent IncomingMessage MessageEvent OutgoingMessage Server ServerResponse WebSocket",
      real: (m) => ({ METHODS: ArrayPrototypeSlice(HTTP_METHODS), STATUS_CODES: { ...HTTP_STATUS_CODES }, maxHeaderSize: 16384, globalAgent: ObjectCreate((m.Agent as { prototype: object }).prototype) }),
    },
    http2: {
      fn: "connect createSecureServer createServer getDefaultSettings getPackedSettings getUnpackedSettings performServerHandshake",
      cls: "Http2ServerRequest Http2ServerResponse",
      real: () => ({ constants: table(HTTP2_CONSTANTS), sensitiveHeaders: Symbol("nodejs.http2.sensitiveHeaders") }),
    },
    https: { fn: "createServer get request", cls: "Agent Server", real: (m) => ({ globalAgent: ObjectCreate((m.Agent as { prototype: object }).prototype) }) },
    inspector: inspectorSpec("inspector"),
    "inspector/promises": inspectorSpec("inspector/promises"),
    module: {
      base: () => stubClass("module.Module", "Module"),
      fn: "_debug _findPath _initPaths _load _nodeModulePaths _preloadModules _resolveFilename _resolveLookupPaths enableCompileCache findPackageJSON findSourceMap flushCompileCache getCompileCacheDir getSourceMapsSupport register registerHooks runMain setSourceMapsSupport stripTypeScriptTypes syncBuiltinESMExports wrap",
      cls: "SourceMap",
      real: (m) => ({
        Module: m,
        builtinModules: builtinNames(served),
        createRequire: createRequire(served),
        isBuiltin: (name: unknown) => typeof name === "string" && servedName(served, name) !== undefined,
        _cache: ObjectCreate(null),
        _pathCache: ObjectCreate(null),
        _extensions: stubObject("module._extensions", ".js .json .node"),
        globalPaths: [],
        constants: table({ compileCacheStatus: table({ FAILED: 0, ENABLED: 1, ALREADY_ENABLED: 2, DISABLED: 3 }) }),
      }),
    },
    // net.ts: the client Socket over cloudflare:sockets' connect(); servers are named errors.
    net: {
      fn: "createServer",
      cls: "BlockList BoundSocket Server SocketAddress",
      real: () => createNetModule(),
    },
    "path/win32": {
      // islet's path is POSIX only (path.ts): the win32 functions are named errors.
      fn: "basename dirname extname format isAbsolute join matchesGlob normalize parse relative resolve toNamespacedPath",
      real: (m) => ({ sep: "\\", delimiter: ";", posix: served.nodeModule("path"), win32: m }),
    },
    perf_hooks: {
      fn: "createHistogram eventLoopUtilization monitorEventLoopDelay timerify",
      cls: "Performance PerformanceEntry PerformanceMark PerformanceMeasure PerformanceObserver PerformanceObserverEntryList PerformanceResourceTiming",
      // The sandbox's performance (its frozen clock) as the module is first imported.
      real: () => ({ performance: (globalThis as { performance?: unknown }).performance, constants: table(PERF_HOOKS_CONSTANTS) }),
    },
    punycode: { fn: "decode encode toASCII toUnicode", real: () => ({ ucs2: stubObject("punycode.ucs2", "decode encode"), version: "2.1.0" }) },
    readline: {
      fn: "clearLine clearScreenDown createInterface cursorTo emitKeypressEvents moveCursor",
      cls: "Interface",
      real: () => ({ promises: served.nodeModule("readline/promises") }),
    },
    "readline/promises": { fn: "createInterface", cls: "Interface Readline" },
    repl: {
      fn: "start writer",
      cls: "REPLServer Recoverable",
      real: () => ({ REPL_MODE_SLOPPY: Symbol("repl-sloppy"), REPL_MODE_STRICT: Symbol("repl-strict"), builtinModules: builtinNames(served), _builtinLibs: builtinNames(served) }),
    },
    sqlite: { fn: "backup", cls: "DatabaseSync StatementSync", real: () => ({ constants: table(SQLITE_CONSTANTS) }) },
    // node:stream (stream/core.ts and stream/module.ts): Node's classes and helpers but compose()
    // and Duplex.from(), which are named errors.
    stream: { base: () => createStreamModule(served.nodeModule("stream/promises")) },
    "stream/consumers": { real: createStreamConsumers },
    "stream/promises": { real: (m) => ({ ...createStreamPromises(), promises: m }) },
    // The sandbox's own web streams, the same classes as its globals.
    "stream/web": {
      real: () => {
        const chunk = streams() as unknown as Module;
        const classes: Module = {};
        for (let i = 0; i < STREAMS_GLOBALS.length; i++) define(classes, { [STREAMS_GLOBALS[i]]: chunk[STREAMS_GLOBALS[i]] });
        return classes;
      },
    },
    sys: { base: () => served.nodeModule("util") as object },
    tls: {
      fn: "checkServerIdentity convertALPNProtocols createSecureContext createSecurePair createServer getCiphers",
      cls: "SecureContext Server",
      real: () => ({ CLIENT_RENEG_LIMIT: 3, CLIENT_RENEG_WINDOW: 600, DEFAULT_CIPHERS: "", DEFAULT_ECDH_CURVE: "auto", DEFAULT_MAX_VERSION: "TLSv1.3", DEFAULT_MIN_VERSION: "TLSv1.2", rootCertificates: ObjectFreeze([]), connect: tlsConnect, TLSSocket }),
    },
    trace_events: { fn: "createTracing getEnabledCategories" },
    // A sandbox has no terminal.
    tty: { cls: "ReadStream WriteStream", real: () => ({ isatty: (_fd?: unknown) => false }) },
    v8: {
      fn: "cachedDataVersionTag deserialize getCppHeapStatistics getHeapCodeStatistics getHeapSnapshot getHeapSpaceStatistics getHeapStatistics isStringOneByteRepresentation queryObjects serialize setFlagsFromString setHeapSnapshotNearHeapLimit stopCoverage takeCoverage writeHeapSnapshot",
      cls: "DefaultDeserializer DefaultSerializer Deserializer GCProfiler Serializer",
      real: () => {
        const startupSnapshot = stubObject("v8.startupSnapshot", "addSerializeCallback addDeserializeCallback setDeserializeMainFunction");
        define(startupSnapshot, { isBuildingSnapshot: () => false });
        return { promiseHooks: stubObject("v8.promiseHooks", "createHook onInit onBefore onAfter onSettled"), startupSnapshot };
      },
    },
    // Running code in another context is what islet's isolate is for: vm is named errors only.
    vm: {
      fn: "compileFunction createContext createScript isContext measureMemory runInContext runInNewContext runInThisContext",
      cls: "Script",
      real: () => ({ constants: table({ USE_MAIN_CONTEXT_DEFAULT_LOADER: Symbol("vm_dynamic_import_main_context_default"), DONT_CONTEXTIFY: Symbol("vm_context_no_contextify") }) }),
    },
    wasi: { cls: "WASI" },
    worker_threads: {
      fn: "isMarkedAsUntransferable markAsUncloneable markAsUntransferable moveMessagePortToContext postMessageToThread receiveMessageOnPort",
      cls: "BroadcastChannel MessageChannel MessagePort Worker",
      // The sandbox is the main (and only) thread; the environment data is its own map.
      real: () => ({
        SHARE_ENV: SymbolFor("nodejs.worker_threads.SHARE_ENV"),
        isInternalThread: false,
        isMainThread: true,
        parentPort: null,
        resourceLimits: {},
        threadId: 0,
        workerData: null,
        getEnvironmentData: (key: unknown) => MapPrototypeGet(environmentData, key),
        setEnvironmentData: (key: unknown, value: unknown) => {
          MapPrototypeSet(environmentData, key, value);
        },
      }),
    },
    // zlib.ts over fflate; islet has no brotli or zstd codec: those are named errors.
    zlib: {
      fn: "brotliCompress brotliCompressSync brotliDecompress brotliDecompressSync createBrotliCompress createBrotliDecompress createZstdCompress createZstdDecompress zstdCompress zstdCompressSync zstdDecompress zstdDecompressSync",
      cls: "BrotliCompress BrotliDecompress ZstdCompress ZstdDecompress",
      real: () => {
        const codes: Module = {};
        const keys = ["Z_OK", "Z_STREAM_END", "Z_NEED_DICT", "Z_ERRNO", "Z_STREAM_ERROR", "Z_DATA_ERROR", "Z_MEM_ERROR", "Z_BUF_ERROR", "Z_VERSION_ERROR"];
        for (let i = 0; i < keys.length; i++) define(codes, { [keys[i]]: (ZLIB_CONSTANTS as Module)[keys[i]], [`${(ZLIB_CONSTANTS as Module)[keys[i]]}`]: keys[i] });
        // At the top level too, as workerd has them: all but its newer zstd parameters and the brotli size hint.
        const legacy: Module = {};
        const all = ObjectKeys(ZLIB_CONSTANTS);
        for (let i = 0; i < all.length; i++) {
          if (all[i] === "BROTLI_PARAM_SIZE_HINT" || all[i] === "ZSTD_CLEVEL_DEFAULT" || RegExpPrototypeExec(ZSTD_PARAMETER, all[i]) !== null) continue;
          define(legacy, { [all[i]]: (ZLIB_CONSTANTS as Module)[all[i]] });
        }
        return createZlibModule({ ...legacy, codes: ObjectFreeze(codes), constants: table(ZLIB_CONSTANTS) });
      },
    },
  };
}

function build(name: string, spec: Spec): unknown {
  const module = (spec.base?.() ?? {}) as Module;
  if (spec.base !== undefined && spec.fn === undefined && spec.cls === undefined && spec.real === undefined) return module;
  const prefix = name;
  if (spec.fn !== undefined) {
    const names = StringPrototypeSplit(spec.fn, " ");
    for (let i = 0; i < names.length; i++) define(module, { [names[i]]: stubFunction(`${prefix}.${names[i]}`, names[i]) });
  }
  if (spec.cls !== undefined) {
    const names = StringPrototypeSplit(spec.cls, " ");
    for (let i = 0; i < names.length; i++) define(module, { [names[i]]: stubClass(`${prefix}.${names[i]}`, names[i]) });
  }
  if (spec.real !== undefined) define(module, spec.real(module));
  return module;
}

/** node:net: the client socket (net.ts) and workerd's other names. */
function createNetModule(): Module {
  let attemptTimeout = 10;
  return {
    Socket,
    Stream: Socket,
    connect: netConnect,
    createConnection: netConnect,
    isIP,
    isIPv4,
    isIPv6,
    _normalizeArgs: normalizeArgs,
    // Only what the host's connector does: one address, no family racing.
    getDefaultAutoSelectFamily: () => false,
    setDefaultAutoSelectFamily: (value: unknown) => {
      if (value) throw invalidArgValue("value", value, "is not supported");
    },
    getDefaultAutoSelectFamilyAttemptTimeout: () => attemptTimeout,
    setDefaultAutoSelectFamilyAttemptTimeout: (value: unknown) => {
      if (typeof value !== "number" || !NumberIsInteger(value) || value < 1) throw invalidArgValue("value", value);
      attemptTimeout = value < 10 ? 10 : value;
    },
  };
}

/** The builders of the table's modules, for modules.ts. */
export function stubBuilders(served: Served): Record<string, () => unknown> {
  const table = specs(served);
  const builders: Record<string, () => unknown> = {};
  const names = ObjectKeys(table);
  for (let i = 0; i < names.length; i++) {
    const name = names[i];
    builders[name] = () => build(name, table[name]);
  }
  return builders;
}
