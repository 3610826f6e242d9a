// TextDecoder's legacy encodings inside real sandboxes, in the isolation mode ISLET_ISOLATION names
// (isolate by default; the suite is also run with thread and process): the encodings chunk and the
// index tables load on first use, decoding runs under the sandbox's own cpuMs, and the first use
// runs no microtask in the middle of synchronous code.

import assert from "node:assert/strict";
import { test } from "node:test";
import { CpuLimitError, WorkerLoader, type WorkerLoaderOptions } from "islet";
import { js } from "../helpers.ts";

const isolation = (process.env.ISLET_ISOLATION ?? "isolate") as NonNullable<WorkerLoaderOptions["isolation"]>;
const loader = new WorkerLoader({ isolation, ...(isolation === "thread" ? { threads: 1 } : isolation === "process" ? { processes: 1 } : {}) });
test.after(() => loader.close());

// eslint-disable-next-line @typescript-eslint/no-explicit-any
const entry = (source: string, limits?: { cpuMs?: number }): any => loader.load(js(source, limits ? { limits } : {})).getEntrypoint();

test(`${isolation}: a worker decodes every legacy family, streamed and fatal, with the standard's names`, async () => {
  const ep = entry(`
    const b = (...x) => new Uint8Array(x);
    export default { run() {
      const out = {};
      const one = (label, bytes) => { const d = new TextDecoder(label); return [d.encoding, d.decode(bytes)]; };
      out.sjis = one("Shift_JIS", b(0x93, 0xfa, 0x96, 0x7b, 0x8c, 0xea, 0xb1));
      out.eucjp = one(" x-euc-jp ", b(0xc6, 0xfc, 0x8f, 0xa2, 0xaf));
      out.jis = one("csiso2022jp", b(0x1b, 0x24, 0x42, 0x46, 0x7c, 0x1b, 0x28, 0x42, 0x41));
      out.gbk = one("GB2312", b(0xd6, 0xd0, 0xce, 0xc4, 0x80));
      out.gb18030 = one("gb18030", b(0x90, 0x30, 0x81, 0x30, 0x81, 0x30, 0x81, 0x30));
      out.big5 = one("big5-hkscs", b(0xa4, 0xa4, 0x88, 0x62));
      out.euckr = one("windows-949", b(0xc7, 0xd1, 0xb1, 0xb9));
      out.koi8 = one("koi", b(0xf0, 0xd2, 0xc9));
      out.user = one("x-user-defined", b(0x41, 0x80));
      const s = new TextDecoder("sjis");
      out.streamed = [s.decode(b(0x41, 0x93), { stream: true }), s.decode(b(0xfa, 0x96), { stream: true }), s.decode(b(0x7b))];
      const g = new TextDecoder("gb18030");
      out.gbStreamed = [g.decode(b(0x90), { stream: true }), g.decode(b(0x30, 0x81), { stream: true }), g.decode(b(0x30))];
      try { new TextDecoder("euc-kr", { fatal: true }).decode(b(0xc7)); out.fatal = "no error"; } catch (e) { out.fatal = [e instanceof TypeError, e.name]; }
      out.replaced = new TextDecoder("euc-kr").decode(b(0xc7, 0x41, 0xc7));
      out.replacement = [];
      for (const label of ["iso-2022-kr", "hz-gb-2312", "utf-7"]) {
        try { new TextDecoder(label); out.replacement.push("constructed"); } catch (e) { out.replacement.push(e instanceof RangeError); }
      }
      return out;
    } };`);
  assert.deepEqual(await ep.run(), {
    sjis: ["shift_jis", "日本語ｱ"],
    eucjp: ["euc-jp", "日˘"],
    jis: ["iso-2022-jp", "日A"],
    gbk: ["gbk", "中文€"],
    gb18030: ["gb18030", "\u{10000}\u0080"],
    big5: ["big5", "中Ê̄"],
    euckr: ["euc-kr", "한국"],
    koi8: ["koi8-r", "При"],
    user: ["x-user-defined", "A\uf780"],
    streamed: ["A", "日", "本"],
    gbStreamed: ["", "", "\u{10000}"],
    fatal: [true, "TypeError"],
    replaced: "\ufffdA\ufffd",
    replacement: [true, true, true],
  });
});

test(`${isolation}: TextDecoderStream decodes Shift_JIS split across chunks`, async () => {
  const ep = entry(`
    export default { async run() {
      const chunks = [[0x93], [0xfa, 0x96], [0x7b, 0x8c, 0xea]].map((c) => new Uint8Array(c));
      const stream = new ReadableStream({ start(c) { for (const x of chunks) c.enqueue(x); c.close(); } }).pipeThrough(new TextDecoderStream("shift_jis"));
      let text = "";
      for await (const piece of stream) text += piece;
      return [text, new TextDecoderStream("ms932").encoding];
    } };`);
  assert.deepEqual(await ep.run(), ["日本語", "shift_jis"]);
});

const MICROTASK_ORDER = (warm: string) => `
  export default {
    // A first call loads what the second one must not load first: ${warm}.
    warm() { ${warm}; return "warm"; },
    run() {
      const log = [];
      Promise.resolve().then(() => log.push("microtask"));
      const decoder = new TextDecoder("shift_jis");
      log.push("constructed");
      log.push(decoder.decode(new Uint8Array([0x93, 0xfa])));
      log.push(new TextDecoder("iso-8859-2").decode(new Uint8Array([0xa1])));
      queueMicrotask(() => {
        log.push("nested");
        Promise.resolve().then(() => log.push("nested microtask"));
        log.push(new TextDecoder("euc-kr").decode(new Uint8Array([0xc7, 0xd1])));
        log.push(new TextDecoder("gb18030").decode(new Uint8Array([0x90, 0x30, 0x81, 0x30])));
        log.push("nested end");
      });
      log.push("sync end");
      return new Promise((resolve) => setTimeout(() => resolve(log), 0));
    },
  };`;
const IN_ORDER = ["constructed", "日", "Ą", "sync end", "microtask", "nested", "한", "\u{10000}", "nested end", "nested microtask"];

test(`${isolation}: the first use of an index table (a host call) runs no pending microtask in the middle of synchronous code`, async () => {
  // The encodings chunk is loaded by the first call (a decoder made, nothing decoded): the second
  // call's first touches are the index tables alone.
  const ep = entry(MICROTASK_ORDER(`new TextDecoder("koi8-u")`));
  assert.equal(await ep.warm(), "warm");
  assert.deepEqual(await ep.run(), IN_ORDER);
});

test(`${isolation}: the first legacy decoder (the encodings chunk's first load) runs no pending microtask in the middle of synchronous code`, async () => {
  // Only the web chunk is loaded by the first call: the second loads the encodings chunk.
  const ep = entry(MICROTASK_ORDER(`new TextDecoder()`));
  assert.equal(await ep.warm(), "warm");
  assert.deepEqual(await ep.run(), IN_ORDER);
});

test(`${isolation}: decoding runs on the sandbox's own CPU budget: a loop over a large Shift_JIS buffer ends with CpuLimitError`, async () => {
  const ep = entry(
    `export default { run() {
      const bytes = new Uint8Array(1 << 20);
      for (let i = 0; i < bytes.length; i += 2) { bytes[i] = 0x93; bytes[i + 1] = 0xfa; }
      const decoder = new TextDecoder("shift_jis");
      let chars = 0;
      for (;;) chars += decoder.decode(bytes).length;
    } };`,
    { cpuMs: 100 },
  );
  await assert.rejects(ep.run(), CpuLimitError);
});
