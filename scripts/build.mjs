// Builds the in-isolate runtime (dist/runtime.js and one dist/runtime-<chunk>.js per lazily loaded
// chunk, listed in dist/runtime-chunks.json), the encoding index tables (dist/encoding-indexes/)
// and compiles the host package (dist/).
import { build } from "esbuild";
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { buildPlayground } from "./build-playground.mjs";
import { buildEncodingIndexes } from "./encoding-indexes.mjs";

// Each chunk is loaded the first time a sandbox touches one of its APIs (src/runtime/platform.ts).
const chunks = {
  web: "src/runtime/web/index.ts",
  url: "src/runtime/web/url/index.ts",
  events: "src/runtime/web/events/index.ts",
  streams: "src/runtime/web/streams/index.ts",
  compression: "src/runtime/web/streams/codecs/index.ts",
  encodings: "src/runtime/web/legacy-encodings.ts",
  crypto: "src/runtime/web/crypto/index.ts",
  node: "src/runtime/node/index.ts",
};

// web-streams-polyfill runs in the streams chunk, which loads after user code may have replaced
// any global or prototype method. Its module gets the runtime's captured intrinsics in place of
// the globals it names (src/runtime/web/streams/polyfill-intrinsics.ts: imports shadow globals),
// and its calls of built-in methods are rewritten into calls of captured ones. Each rewrite must
// match exactly as often as listed: a new version of the polyfill fails the build until reviewed.
const POLYFILL_INTRINSICS = fileURLToPath(new URL("../src/runtime/web/streams/polyfill-intrinsics.ts", import.meta.url));
const POLYFILL_SHADOWED = ["Object", "Promise", "TypeError", "RangeError", "Error", "Uint8Array", "ArrayBuffer", "DataView", "Boolean", "String", "isFinite", "Number", "Symbol", "Math", "queueMicrotask", "structuredClone", "AbortController", "globalThis"];
const POLYFILL_REWRITES = [
  // [pattern, replacement, times]
  [/Object\.prototype\.hasOwnProperty\.call\(/g, "ObjectPrototypeHasOwnProperty(", 14],
  [/Function\.prototype\.apply\.call\(/g, "ReflectApply(", 1],
  // const n=Promise,i=Promise.resolve.bind(n),a=Promise.prototype.then,s=Promise.reject.bind(n)
  [/const (\w+)=Promise,(\w+)=Promise\.resolve\.bind\(\1\),(\w+)=Promise\.prototype\.then,(\w+)=Promise\.reject\.bind\(\1\)/g, "const $1=Promise,$2=PromiseResolve,$3=PromisePrototypeThen,$4=PromiseReject", 1],
  // function f(e,t,r){return a.call(e,t,r)}: a is Promise.prototype.then, now uncurried
  [/\{return (\w+)\.call\((\w+),(\w+),(\w+)\)\}/g, "{return $1($2,$3,$4)}", 1],
  [/Promise\.all\((\w+)\.map\(/g, "SafePromiseAllReturnVoid(ArrayPrototypeMap($1,", 1],
  [/Promise\.resolve\(/g, "PromiseResolve(", 2],
  [/ArrayBuffer\.isView\(/g, "ArrayBufferIsView(", 3],
  // pipeTo's read request for a chunk the source has not produced yet: its chunk steps run inside
  // the source controller's enqueue(), so they would start the sink's write on the user's own
  // stack. They run one microtask later instead (piping/general-addition.any.js: "enqueue() must
  // not synchronously call write algorithm"); the queued microtask precedes the reactions a
  // close() or error() right after that enqueue() schedules, so shutdown still sees the write.
  // The other read request, for chunks already queued, is taken inside the pipe's own loop.
  [/_chunkSteps\((\w+)\)\{this\._state\._currentWrite=(\w+)\((\w+)\(this\._state\._writer,\1\),void 0,(\w+)\),this\._resolvePromise\(!1\)\}/g,
    "_chunkSteps($1){queueMicrotask(()=>{this._state._currentWrite=$2($3(this._state._writer,$1),void 0,$4),this._resolvePromise(!1)})}", 1],
  // The polyfill's own arrays (its SimpleQueue's segments, pipeTo's actions, a list of pull-intos).
  [/(\w+)\._elements\.push\(/g, "ArrayPrototypePush($1._elements,", 1],
  [/(\w+)\|\|(\w+)\.push\(\(\)=>/g, "$1||ArrayPrototypePush($2,()=>", 2],
  [/\(He\((\w+)\),(\w+)\.push\((\w+)\)\)/g, "(He($1),ArrayPrototypePush($2,$3))", 1],
  [/for\(;(\w+)\.length<(\w+)\((\w+)\);\)\1\.push\(/g, "for(;$1.length<$2($3);)ArrayPrototypePush($1,", 1],
  // TransferArrayBuffer and IsDetachedBuffer, which probe the buffer's (replaceable) methods at
  // first use: the captured ones (V8 has both).
  [/(\w+)=(\w+)=>\(\1="function"==typeof \2\.transfer\?\2=>\2\.transfer\(\):"function"==typeof structuredClone\?\2=>structuredClone\(\2,\{transfer:\[\2\]\}\):\2=>\2,\1\(\2\)\)/g, "$1=ArrayBufferPrototypeTransfer", 1],
  [/(\w+)=(\w+)=>\(\1="boolean"==typeof \2\.detached\?\2=>\2\.detached:\2=>0===\2\.byteLength,\1\(\2\)\)/g, "$1=ArrayBufferPrototypeGetDetached", 1],
  // Array and buffer copies: CreateArrayFromList, ArrayBufferSlice, CopyDataBlockBytes.
  [/function (\w+)\((\w+)\)\{return \2\.slice\(\)\}/g, "function $1($2){return ArrayPrototypeSlice($2)}", 1],
  [/if\((\w+)\.slice\)return \1\.slice\((\w+),(\w+)\);/g, "return ArrayBufferPrototypeSlice($1,$2,$3);", 1],
  [/new Uint8Array\((\w+)\)\.set\(new Uint8Array\((\w+),(\w+),(\w+)\),(\w+)\)/g, "TypedArrayPrototypeSet(new Uint8Array($1),new Uint8Array($2,$3,$4),$5)", 1],
  // A view's [[ViewedArrayBuffer]], [[ByteOffset]] and [[ByteLength]], and a buffer's byte length,
  // read through the captured getters (user code may have replaced the prototypes' accessors).
  // Reads of the same names on the polyfill's own records (pull-into descriptors, queue entries)
  // stay property reads.
  [/function (\w+)\((\w+)\)\{const (\w+)=(\w+)\(\2\.buffer,\2\.byteOffset,\2\.byteOffset\+\2\.byteLength\)/g, "function $1($2){const $3=$4(ViewBuffer($2),ViewByteOffset($2),ViewByteOffset($2)+ViewByteLength($2))", 1],
  [/\(this\._view\.buffer\)/g, "(ViewBuffer(this._view))", 1],
  [/if\((\w+)\((\w+)\.buffer\)\)throw new TypeError\("The given view's buffer has been detached/g, 'if($1(ViewBuffer($2)))throw new TypeError("The given view\'s buffer has been detached', 1],
  [/if\(0===(\w+)\.byteLength\)throw new TypeError\("chunk must have non-zero byteLength"\);if\(0===\1\.buffer\.byteLength\)/g, 'if(0===ViewByteLength($1))throw new TypeError("chunk must have non-zero byteLength");if(0===BufferByteLength(ViewBuffer($1)))', 1],
  [/const\{buffer:(\w+),byteOffset:(\w+),byteLength:(\w+)\}=(\w+);/g, "const $1=ViewBuffer($4),$2=ViewByteOffset($4),$3=ViewByteLength($4);", 1],
  // ReadableByteStreamControllerRespondWithNewView(controller, view): t is the view.
  [/if\(0!==(\w+)\.byteLength\)throw new TypeError\("The view's length must be 0/g, 'if(0!==ViewByteLength($1))throw new TypeError("The view\'s length must be 0', 1],
  [/else if\(0===(\w+)\.byteLength\)throw new TypeError\("The view's length must be greater than 0/g, 'else if(0===ViewByteLength($1))throw new TypeError("The view\'s length must be greater than 0', 1],
  [/!==(\w+)\.byteOffset\)throw new RangeError\("The region specified by view does not match/g, '!==ViewByteOffset($1))throw new RangeError("The region specified by view does not match', 1],
  [/!==(\w+)\.buffer\.byteLength\)throw new RangeError\("The buffer of view has different capacity/g, '!==BufferByteLength(ViewBuffer($1)))throw new RangeError("The buffer of view has different capacity', 1],
  [/if\((\w+)\.bytesFilled\+(\w+)\.byteLength>\1\.byteLength\)throw new RangeError\("The region specified by view is larger than byobRequest"\);const (\w+)=\2\.byteLength;\1\.buffer=(\w+)\(\2\.buffer\)/g,
    'if($1.bytesFilled+ViewByteLength($2)>$1.byteLength)throw new RangeError("The region specified by view is larger than byobRequest");const $3=ViewByteLength($2);$1.buffer=$4(ViewBuffer($2))', 1],
  // ReadableStreamBYOBReader.prototype.read(view, options): e is the view.
  [/if\(0===(\w+)\.byteLength\)return (\w+)\(new TypeError\("view must have non-zero byteLength"\)\);if\(0===\1\.buffer\.byteLength\)return \2\(new TypeError\("view's buffer must have non-zero byteLength"\)\);if\((\w+)\(\1\.buffer\)\)/g,
    'if(0===ViewByteLength($1))return $2(new TypeError("view must have non-zero byteLength"));if(0===BufferByteLength(ViewBuffer($1)))return $2(new TypeError("view\'s buffer must have non-zero byteLength"));if($3(ViewBuffer($1)))', 1],
  [/if\((\w+)>(\w+)\.byteLength\)return (\w+)\(new RangeError\("options\.min must be less than or equal to view's byteLength"\)\)\}else if\(\1>\2\.length\)/g,
    'if($1>ViewByteLength($2))return $3(new RangeError("options.min must be less than or equal to view\'s byteLength"))}else if($1>ViewLength($2))', 1],
  // ReadableByteStreamControllerPullInto(controller, view, min, readIntoRequest): t is the view.
  [/\{byteOffset:(\w+),byteLength:(\w+)\}=(\w+),(\w+)=(\w+)\*(\w+);let (\w+);try\{\7=(\w+)\(\3\.buffer\)\}catch\((\w+)\)\{return void (\w+)\._errorSteps\(\9\)\}const (\w+)=\{buffer:\7,bufferByteLength:\7\.byteLength,/g,
    "$1=ViewByteOffset($3),$2=ViewByteLength($3),$4=$5*$6;let $7;try{$7=$8(ViewBuffer($3))}catch($9){return void $10._errorSteps($9)}const $11={buffer:$7,bufferByteLength:BufferByteLength($7),", 1],
];
const POLYFILL_IMPORTS = [...POLYFILL_SHADOWED, "ObjectPrototypeHasOwnProperty", "ReflectApply", "PromiseResolve", "PromiseReject", "PromisePrototypeThen", "SafePromiseAllReturnVoid", "ArrayBufferIsView", "ArrayPrototypePush", "ArrayPrototypeMap", "ArrayBufferPrototypeTransfer", "ArrayBufferPrototypeGetDetached", "ArrayPrototypeSlice", "ArrayBufferPrototypeSlice", "TypedArrayPrototypeSet", "ViewBuffer", "ViewByteOffset", "ViewByteLength", "ViewLength", "BufferByteLength"];
const polyfillIntrinsics = {
  name: "islet-polyfill-intrinsics",
  setup(build) {
    build.onLoad({ filter: /web-streams-polyfill[\\/]dist[\\/]ponyfill\.mjs$/ }, (args) => {
      let code = readFileSync(args.path, "utf8");
      for (const [pattern, replacement, times] of POLYFILL_REWRITES) {
        const found = code.match(pattern)?.length ?? 0;
        if (found !== times) throw new Error(`web-streams-polyfill: ${pattern} matched ${found} times, not ${times}; review scripts/build.mjs's rewrites`);
        code = code.replace(pattern, replacement);
      }
      // ReadableStreamDefaultReaderRead(reader, readRequest), for islet's readAllBytes: it takes
      // steps rather than resolving a promise with a { value, done } object (see streams/bytes.ts).
      const readerRead = [...code.matchAll(/return (\w+)\(this,(\w+)\),\2\._promise\}releaseLock\(\)/g)];
      if (readerRead.length !== 1) throw new Error("web-streams-polyfill: ReadableStreamDefaultReader.prototype.read changed; review scripts/build.mjs");
      code += `\nexport{${readerRead[0][1]} as ReadableStreamDefaultReaderRead};\n`;
      const header = `import { ${POLYFILL_IMPORTS.join(", ")} } from ${JSON.stringify(POLYFILL_INTRINSICS)};\n`;
      return { contents: header + code, loader: "js" };
    });
  },
};

// fflate, the DEFLATE codec of the compression chunk, likewise: its module imports captured
// intrinsics in place of the globals it names (src/runtime/web/streams/codecs/fflate-intrinsics.ts),
// and its calls of built-in methods and its `.length` reads are rewritten, each pattern an exact
// number of times. A receiver is a name or a chain of property reads (`this.p`, `f.f`, `v[k]`),
// never preceded by `.`, `)` or `]` (which would make it part of a longer expression).
const FFLATE_INTRINSICS = fileURLToPath(new URL("../src/runtime/web/streams/codecs/fflate-intrinsics.ts", import.meta.url));
const FFLATE_SHADOWED = ["Uint8Array", "Uint16Array", "Int32Array", "Uint32Array", "Math", "Error"];
const RECEIVER = String.raw`(?<![\w$.)\]])([\w$]+(?:\.[\w$]+)*(?:\[[\w$]+\])?)`;
const FFLATE_REWRITES = [
  // [pattern, replacement, times]
  // StrmOpt.call(this, opts, cb), Deflate.prototype.push.call(this, chunk, final), ...
  [new RegExp(String.raw`${RECEIVER}\.call\(`, "g"), "FunctionPrototypeCall($1, ", 28],
  // hTree's arrays of tree nodes.
  [/(\w+)\.push\(\{ s: /g, "ArrayPrototypePush($1, { s: ", 2],
  [/var (\w+) = (\w+)\.slice\(\);/g, "var $1 = ArrayPrototypeSlice($2);", 1],
  [/(\w+)\.sort\(function /g, "ArrayPrototypeSort($1, function ", 2],
  // err(): Error.captureStackTrace is a property of the global Error, which user code can replace.
  [/if \(Error\.captureStackTrace\)\s*Error\.captureStackTrace\(e, err\);/g, "", 1],
  // The constant tables: new u8([0, 0, 0, 0, 1, ...]) would call the array's iterator.
  [/new (u8|u16|i32)\(\[/g, "TypedArrayOf($1, [", 4],
  // Typed arrays' methods and their length getter (strings' and Arrays' lengths are read as such).
  [new RegExp(String.raw`${RECEIVER}\.subarray\(`, "g"), "TypedArrayPrototypeSubarray($1, ", 34],
  [new RegExp(String.raw`${RECEIVER}\.set\(`, "g"), "TypedArrayPrototypeSet($1, ", 25],
  // (One more `.length` follows a call, this.t.decode(): a TextDecoder's, which the chunk hides.)
  [new RegExp(String.raw`${RECEIVER}\.length\b`, "g"), "LengthOf($1)", 140],
];
const FFLATE_IMPORTS = [...FFLATE_SHADOWED, "FunctionPrototypeCall", "ArrayPrototypePush", "ArrayPrototypeSlice", "ArrayPrototypeSort", "TypedArrayOf", "TypedArrayPrototypeSubarray", "TypedArrayPrototypeSet", "LengthOf"];
const fflateIntrinsics = {
  name: "islet-fflate-intrinsics",
  setup(build) {
    build.onLoad({ filter: /fflate[\\/]esm[\\/]browser\.js$/ }, (args) => {
      let code = readFileSync(args.path, "utf8");
      for (const [pattern, replacement, times] of FFLATE_REWRITES) {
        const found = code.match(pattern)?.length ?? 0;
        if (found !== times) throw new Error(`fflate: ${pattern} matched ${found} times, not ${times}; review scripts/build.mjs's rewrites`);
        code = code.replace(pattern, replacement);
      }
      const header = `import { ${FFLATE_IMPORTS.join(", ")} } from ${JSON.stringify(FFLATE_INTRINSICS)};\n`;
      return { contents: header + code, loader: "js" };
    });
  },
};

mkdirSync("dist", { recursive: true });
// runtime-bare.js is the core without the web platform's globals: only the benchmark that shows
// what those globals cost a fresh sandbox (bench/startup.ts) runs it.
const bundles = [
  ["src/runtime/index.ts", "dist/runtime.js", { ISLET_WEB_PLATFORM: "true", ISLET_CHUNK: "false" }],
  ["src/runtime/index.ts", "dist/runtime-bare.js", { ISLET_WEB_PLATFORM: "false", ISLET_CHUNK: "false" }],
];
const built = [];
for (const [name, entry] of Object.entries(chunks)) {
  if (!existsSync(entry)) continue;
  bundles.push([entry, `dist/runtime-${name}.js`, { ISLET_WEB_PLATFORM: "true", ISLET_CHUNK: "true" }]);
  built.push(name);
}

// Scripts, not modules: V8 compiles a script from its code cache several times faster, and the
// core runs in every new isolate. Each bundle is an ES module turned into an expression whose
// value is its exports object: no CommonJS helpers or getters to run (and compile) at start.
// A chunk's expression is instead a function of the core's primordials (src/runtime/primordials.ts)
// that returns its exports: a chunk runs after user code may have replaced globals, so it must not
// capture intrinsics itself; the core calls it with those it captured at boot (chunks.ts).
for (const [entry, outfile, define] of bundles) {
  const result = await build({
    define,
    entryPoints: [entry],
    bundle: true,
    write: false,
    format: "esm",
    platform: "neutral",
    mainFields: ["module", "main"],
    target: "es2022",
    minify: true,
    // Node's APIs expose function and class names (Buffer.name, inspect output, assert operators).
    // Class and function names are visible to user code (constructor.name, inspect output), so the
    // chunks keep them; the core's few public classes name themselves.
    keepNames: !entry.startsWith("src/runtime/index"),
    legalComments: "none",
    plugins: [polyfillIntrinsics, fflateIntrinsics],
    logLevel: "warning",
  });
  let code = result.outputFiles[0].text;
  if (define.ISLET_CHUNK === "true") {
    // esbuild's keepNames helper runs for every function and class of a chunk as the chunk loads,
    // after user code may have replaced Object.defineProperty or put a `get` accessor on
    // Object.prototype (which a descriptor literal inherits): either would be handed the runtime's
    // own functions. The helper uses the core's intrinsic instead, with a descriptor without prototype.
    const helper = /^var ([\w$]+)=Object\.defineProperty;var ([\w$]+)=\(([\w$]+),([\w$]+)\)=>\1\(\3,"name",\{value:\4,configurable:!0\}\);/;
    if (!helper.test(code)) throw new Error(`${entry}: esbuild's keepNames helper changed; update scripts/build.mjs`);
    // (Minified names may hold "$".)
    code = code.replace(helper, 'var $1=__isletPrimordials.ObjectDefineProperty;var $2=($3,$4)=>$1($3,"name",{__proto__:null,value:$4,configurable:!0});');
  }
  const match = /export\s*\{([^}]*)\};?\s*$/.exec(code);
  if (match === null) throw new Error(`${entry}: no export list at the end of the bundle`);
  const entries = match[1].split(",").map((item) => {
    const [local, exported = local] = item.trim().split(/\s+as\s+/);
    return `${JSON.stringify(exported)}:${local}`;
  });
  const body = `"use strict";${code.slice(0, match.index)}return{${entries.join(",")}};`;
  const isChunk = define.ISLET_CHUNK === "true";
  if (!isChunk && code.includes("__isletPrimordials")) throw new Error(`${entry}: the core must capture its own primordials`);
  writeFileSync(outfile, isChunk ? `(function(__isletPrimordials){${body}});\n` : `(function(){${body}})();\n`);
  console.log(`${outfile} ${(statSync(outfile).size / 1024).toFixed(1)} KB`);
}
writeFileSync("dist/runtime-chunks.json", JSON.stringify(built) + "\n");
// The Encoding Standard's index tables a sandbox's TextDecoder gets from the host on first use of
// a legacy encoding (src/engine/services/encoding.ts).
await buildEncodingIndexes("dist/encoding-indexes");
// The playground page served by `islet serve` (dist/playground).
await buildPlayground();
// The host's table of each nodejs_compat module's export names, read off the node chunk's modules
// (scripts/node-exports.ts), before tsc compiles the host code that imports it.
execFileSync(process.execPath, ["--import", "tsx", "scripts/node-exports.ts"], { stdio: "inherit" });
execFileSync(process.execPath, ["node_modules/typescript/bin/tsc", "-p", "tsconfig.json"], { stdio: "inherit" });
