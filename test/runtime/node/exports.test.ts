// The host's table of each Node module's named exports (src/loader/node-exports.generated.ts, made
// by scripts/node-exports.ts at build time) must be current, match what the node chunk's modules
// really have, and name only things Node's or workerd's modules export too. Differentially against
// workerd (workerd-exports.json: the named exports of every module workerd 1.20261117 serves under
// nodejs_compat, read off workerd itself), islet serves every module workerd does and each of its
// names, but for the gaps of the modules islet had before the long tail, listed below.

import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import { describe, it } from "node:test";
import { NODE_MODULE_EXPORTS, nodeModuleSource, resolveNodeModule } from "../../../src/loader/node-compat.ts";
import { nodeModuleNames } from "../../../src/runtime/node/modules.ts";
import { nodeModule } from "./compat.ts";
import { readFileSync } from "node:fs";

const workerd = JSON.parse(readFileSync(new URL("./workerd-exports.json", import.meta.url), "utf8")) as Record<string, Record<string, string>>;

/**
 * workerd's names islet's modules lack: all in modules islet implemented for real before the long
 * tail (stubs.ts), whose missing parts are their own work. A name here that islet gains fails the
 * test, so the list only shrinks.
 */
const WORKERD_GAPS: Record<string, string[]> = {
  "assert": ["Assert", "partialDeepStrictEqual"],
  "assert/strict": ["Assert", "partialDeepStrictEqual"],
  "buffer": ["Blob", "File", "resolveObjectURL", "transcode"],
  "crypto": ["Certificate", "Cipher", "Cipheriv", "CryptoKey", "Decipher", "Decipheriv", "DiffieHellman", "DiffieHellmanGroup", "ECDH", "KeyObject", "PrivateKeyObject", "PublicKeyObject", "SecretKeyObject", "Sign", "Verify", "X509Certificate", "checkPrime", "checkPrimeSync", "constants", "createCipher", "createCipheriv", "createDecipher", "createDecipheriv", "createDiffieHellman", "createDiffieHellmanGroup", "createECDH", "createPrivateKey", "createPublicKey", "createSecretKey", "createSign", "createVerify", "diffieHellman", "fips", "generateKey", "generateKeyPair", "generateKeyPairSync", "generateKeySync", "generatePrime", "generatePrimeSync", "getCipherInfo", "getCiphers", "getCurves", "getDiffieHellman", "getFips", "hkdf", "hkdfSync", "pbkdf2", "pbkdf2Sync", "privateDecrypt", "privateEncrypt", "pseudoRandomBytes", "publicDecrypt", "publicEncrypt", "scrypt", "scryptSync", "secureHeapUsed", "setEngine", "setFips", "sign", "verify"],
  "diagnostics_channel": ["TracingChannel"],
  "events": ["EventEmitterAsyncResource"],
  "path": ["matchesGlob", "win32"],
  "path/posix": ["matchesGlob", "win32"],
  "process": ["_channel", "_debugEnd", "_debugProcess", "_disconnect", "_exiting", "_fatalException", "_getActiveHandles", "_getActiveRequests", "_handleQueue", "_kill", "_linkedBinding", "_pendingMessage", "_preload_modules", "_rawDebug", "_send", "_startProfilerIdleNotifier", "_stopProfilerIdleNotifier", "_tickCallback", "abort", "allowedNodeEnvironmentFlags", "arch", "argv0", "assert", "availableMemory", "binding", "channel", "chdir", "config", "connected", "constrainedMemory", "cpuUsage", "debugPort", "dlopen", "domain", "execPath", "execve", "exit", "exitCode", "features", "finalization", "getActiveResourcesInfo", "getBuiltinModule", "getSourceMapsSupport", "getegid", "geteuid", "getgid", "getgroups", "getuid", "hasUncaughtExceptionCaptureCallback", "hrtime", "initgroups", "kill", "loadEnvFile", "memoryUsage", "moduleLoadList", "noDeprecation", "openStdin", "permission", "pid", "ppid", "reallyExit", "ref", "report", "resourceUsage", "send", "setSourceMapsEnabled", "setUncaughtExceptionCaptureCallback", "setegid", "seteuid", "setgid", "setgroups", "setuid", "sourceMapsEnabled", "stderr", "stdin", "stdout", "threadCpuUsage", "throwDeprecation", "title", "traceDeprecation", "umask", "unref", "uptime"],
  "sys": ["MIMEParams", "MIMEType", "_errnoException", "_exceptionWithHostPort", "convertProcessSignalToExitCode", "diff", "getCallSite", "getCallSites", "getSystemErrorMap", "getSystemErrorMessage", "getSystemErrorName", "isBoolean", "isBuffer", "isDate", "isError", "isFunction", "isNull", "isNullOrUndefined", "isNumber", "isObject", "isPrimitive", "isRegExp", "isString", "isSymbol", "isUndefined", "log", "parseArgs", "parseEnv", "setTraceSigInt", "styleText", "transferableAbortController", "transferableAbortSignal"],
  "timers": ["Timeout", "active", "enroll", "unenroll"],
  "url": ["Url", "parse", "resolve", "resolveObject", "toPathIfFileURL"],
  "util": ["MIMEParams", "MIMEType", "_errnoException", "_exceptionWithHostPort", "convertProcessSignalToExitCode", "diff", "getCallSite", "getCallSites", "getSystemErrorMap", "getSystemErrorMessage", "getSystemErrorName", "isBoolean", "isBuffer", "isDate", "isError", "isFunction", "isNull", "isNullOrUndefined", "isNumber", "isObject", "isPrimitive", "isRegExp", "isString", "isSymbol", "isUndefined", "log", "parseArgs", "parseEnv", "setTraceSigInt", "styleText", "transferableAbortController", "transferableAbortSignal"],
  "util/types": ["isProxy"],
};

const require = createRequire(import.meta.url);
// An EventEmitter's own bookkeeping fields are not part of a module's API.
const nodeMajor = Number(process.versions.node.split(".")[0]);
const internal = new Set(["_events", "_eventsCount", "_maxListeners"]);

describe("nodejs_compat export table", () => {
  it("is current: scripts/node-exports.ts --check finds nothing to change", () => {
    const root = fileURLToPath(new URL("../../..", import.meta.url));
    execFileSync(process.execPath, ["--import", "tsx", "scripts/node-exports.ts", "--check"], { cwd: root, stdio: "pipe" });
  });

  it("lists exactly the modules the chunk provides", () => {
    assert.deepEqual(Object.keys(NODE_MODULE_EXPORTS).sort(), [...nodeModuleNames].sort());
  });

  for (const name of Object.keys(NODE_MODULE_EXPORTS)) {
    it(`${name}: the table equals the module's enumerable own keys, all of them Node's`, () => {
      const value = nodeModule(name) as Record<string, unknown>;
      const keys = Object.keys(value).filter((key) => !internal.has(key));
      assert.deepEqual([...NODE_MODULE_EXPORTS[name]].sort(), keys.sort());
      const real = require(`node:${name}`) as Record<string, unknown>;
      for (const key of keys) {
        // The sandbox follows Node 24, whose node:buffer still has SlowBuffer; Node 26 removed it.
        if (name === "buffer" && key === "SlowBuffer" && nodeMajor >= 26) continue;
        assert.ok(key in real || key in (workerd[name] ?? {}), `neither node:${name} nor workerd's has an export ${key}`);
      }
      for (const key of keys) assert.notEqual(value[key], undefined, `${name}.${key} is undefined`);
    });
  }

  it("serves every module workerd serves under nodejs_compat", () => {
    assert.deepEqual(Object.keys(workerd).filter((name) => !(name in NODE_MODULE_EXPORTS)), []);
  });

  for (const name of Object.keys(workerd)) {
    it(`${name}: has each of workerd's export names, but for the listed gaps`, () => {
      const ours = new Set(NODE_MODULE_EXPORTS[name]);
      const missing = Object.keys(workerd[name]).filter((key) => !ours.has(key) && !internal.has(key));
      assert.deepEqual(missing.sort(), [...(WORKERD_GAPS[name] ?? [])].sort());
    });
  }

  it("generates a module source per supported name and resolves specifiers", () => {
    assert.match(nodeModuleSource("node:buffer")!.source, /export const \{ Buffer, SlowBuffer,/);
    assert.equal(nodeModuleSource("node:buffer")!.internal, true);
    assert.equal(nodeModuleSource("node:test"), undefined);
    assert.equal(nodeModuleSource("buffer"), undefined);
    assert.equal(resolveNodeModule("events", "a.js", true), "node:events");
    assert.equal(resolveNodeModule("node:assert/strict", "a.js", true), "node:assert/strict");
    assert.equal(resolveNodeModule("lodash", "a.js", true), undefined);
    assert.equal(resolveNodeModule("lodash", "a.js", false), undefined);
    assert.equal(resolveNodeModule("fs", "a.js", true), "node:fs");
    assert.throws(() => resolveNodeModule("node:test", "a.js", true), /the Node\.js module "test" is not available in the sandbox/);
    assert.throws(() => resolveNodeModule("node:path", "a.js", false), /need the "nodejs_compat" compatibility flag\./);
    assert.throws(() => resolveNodeModule("node:anything", "a.js", false), /need the "nodejs_compat" compatibility flag/);
  });
});
