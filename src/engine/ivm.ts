// isolated-vm, loaded so that a missing or unloadable native addon stops islet with a message that
// says what to do, instead of node-gyp-build's "No native build was found".

import { createRequire } from "node:module";
import { setFlagsFromString } from "node:v8";
import type IvmModule from "isolated-vm";

/** The oldest Node major islet runs on: isolated-vm 7 ships prebuilt addons for Node 24 and 26. */
export const MIN_NODE_MAJOR = 24;

function load(): typeof IvmModule {
  const major = Number(process.versions.node.split(".")[0]);
  if (major < MIN_NODE_MAJOR) {
    throw new Error(
      `islet needs Node.js ${MIN_NODE_MAJOR} or newer; this is ${process.version}. ` +
        `Install Node 24 or 26 (isolated-vm 7 ships prebuilt addons for them) and reinstall islet.`,
    );
  }
  try {
    return createRequire(import.meta.url)("isolated-vm") as typeof IvmModule;
  } catch (error) {
    throw new Error(
      `islet: isolated-vm's native addon could not be loaded on Node ${process.version} (${process.platform}-${process.arch}): ` +
        `${(error as Error).message}\n` +
        `isolated-vm 7 ships prebuilt addons for Node 24 and 26 on linux x64/arm64 (glibc and musl), macOS arm64 and Windows x64. ` +
        `Elsewhere it compiles from source, which needs python3, make and a C++ compiler (Debian: apt-get install -y python3 make g++), ` +
        `then: npm rebuild isolated-vm. \`npx islet doctor\` shows what was found.`,
      { cause: error },
    );
  }
}

/**
 * isolated-vm takes V8's Locker on the host's own isolate, so V8 sees "archived threads" there;
 * V8's garbage collection of WebAssembly code then aborts the whole process ("archived threads in
 * combination with wasm not supported") once any wasm has run on the host — and Node's own fetch
 * parses HTTP with wasm (undici's llhttp). Seen twice in about ten suite runs on Node 24. Turning
 * off wasm code GC (a V8 flag on Node 24; Node 26's V8 no longer has it) removes that path: wasm
 * code then lives as long as its module, which islet's wasm budget bounds per sandbox.
 */
function avoidWasmCodeGcAbort(): void {
  if (process.execArgv.includes("--wasm-code-gc")) return;
  try {
    setFlagsFromString("--no-wasm-code-gc");
  } catch {
    // A V8 without the flag.
  }
}

avoidWasmCodeGcAbort();
const ivm = load();
export default ivm;
