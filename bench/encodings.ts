// TextDecoder's legacy encodings: what their first use costs a sandbox, and how fast it decodes.
// Run: node --import tsx bench/encodings.ts (after npm run build). Not part of npm run bench.
//
// - First use: in fresh sandboxes whose web chunk is already loaded (a first call made a UTF-8
//   TextDecoder), the host-side time of a call that makes its first decoder of an encoding and
//   decodes two bytes, minus the same call made again (chunk and table then loaded). For
//   Shift_JIS that is the encodings chunk plus the jis0208 table (22 KB); for Big5 the chunk plus
//   a 79 KB table.
// - Throughput: a 1 MB Shift_JIS buffer (Japanese prose with ASCII, as a web page would have)
//   decoded 20 times in one call; MB/s of input. Beside it, the same decode in Node, by Node's own
//   ICU TextDecoder and by @exodus/bytes.

import { WorkerLoader } from "islet";
import { createMultibyteEncoder } from "@exodus/bytes/multi-byte.js";
import { TextDecoder as ExodusDecoder } from "@exodus/bytes/encoding.js";
import { js } from "../test/helpers.ts";

const loader = new WorkerLoader({ limits: { cpuMs: 30_000, wallMs: 60_000, memoryMb: 256 } });

const WORKER = `
  export default {
    noop() { return 1; },
    warm() { return new TextDecoder().decode(new Uint8Array([0x41])); },
    first(label, bytes) { return new TextDecoder(label).decode(bytes); },
    many(label, bytes, times) {
      const decoder = new TextDecoder(label);
      let chars = 0;
      for (let i = 0; i < times; i++) chars += decoder.decode(bytes).length;
      return chars;
    },
  };`;

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

/** With `cold`, the web chunk is not loaded first: the row then measures the web chunk too. */
async function firstUse(label: string, bytes: Uint8Array, rounds: number, cold = false): Promise<{ first: number; again: number }> {
  const first: number[] = [];
  const again: number[] = [];
  for (let i = 0; i < rounds; i++) {
    const worker = loader.load(js(WORKER));
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    const ep = worker.getEntrypoint() as any;
    await (cold ? ep.noop() : ep.warm());
    let t = performance.now();
    await ep.first(label, bytes);
    first.push(performance.now() - t);
    t = performance.now();
    await ep.first(label, bytes);
    again.push(performance.now() - t);
    worker.dispose();
  }
  return { first: median(first), again: median(again) };
}

const prose = "吾輩は猫である。名前はまだ無い。どこで生れたかとんと見当がつかぬ。何でも薄暗いじめじめした所でニャーニャー泣いていた事だけは記憶している。<p class=\"text\">ASCII markup 123</p>\n";
const unit = createMultibyteEncoder("shift_jis")(prose);
const sjis = new Uint8Array(1 << 20);
for (let i = 0; i + unit.length <= sjis.length; i += unit.length) sjis.set(unit, i);

// A first round compiles the chunk and fills its code cache, as the first sandbox of a process does.
await firstUse("shift_jis", Uint8Array.of(0x93, 0xfa), 3);
for (const [label, bytes] of [
  ["shift_jis", Uint8Array.of(0x93, 0xfa)],
  ["big5", Uint8Array.of(0xa4, 0xa4)],
  ["koi8-r", Uint8Array.of(0xf0, 0xd2)],
] as const) {
  const { first, again } = await firstUse(label, bytes, 60);
  console.log(`first use of ${label}: ${first.toFixed(3)} ms (the same call again: ${again.toFixed(3)} ms; difference ${(first - again).toFixed(3)} ms), median of 60 fresh sandboxes`);
}
// For scale, in the same run: the first use of the web chunk (a UTF-8 TextDecoder), measured alike.
{
  const { first, again } = await firstUse("utf-8", Uint8Array.of(0x41), 60, true);
  console.log(`for scale, first use of the web chunk (utf-8): ${first.toFixed(3)} ms (again: ${again.toFixed(3)} ms; difference ${(first - again).toFixed(3)} ms)`);
}

const times = 20;
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const ep = loader.load(js(WORKER)).getEntrypoint() as any;
await ep.many("shift_jis", sjis, 2);
const rates: number[] = [];
for (let i = 0; i < 5; i++) {
  const t = performance.now();
  await ep.many("shift_jis", sjis, times);
  rates.push((times * sjis.length) / 2 ** 20 / ((performance.now() - t) / 1000));
}
console.log(`islet sandbox, shift_jis 1 MB x ${times}: ${median(rates).toFixed(1)} MB/s (median of 5; runs ${rates.map((r) => r.toFixed(0)).join(", ")})`);

for (const [name, decoder] of [
  ["Node's ICU TextDecoder", new TextDecoder("shift_jis")],
  ["@exodus/bytes in Node", new ExodusDecoder("shift_jis")],
] as const) {
  for (let i = 0; i < 3; i++) decoder.decode(sjis);
  const nodeRates: number[] = [];
  for (let i = 0; i < 5; i++) {
    const t = performance.now();
    for (let j = 0; j < times; j++) decoder.decode(sjis);
    nodeRates.push((times * sjis.length) / 2 ** 20 / ((performance.now() - t) / 1000));
  }
  console.log(`${name}, shift_jis 1 MB x ${times}: ${median(nodeRates).toFixed(1)} MB/s`);
}
await loader.close();
