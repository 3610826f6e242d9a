// Scenarios of node:stream and node:zlib, each the body of an async function of (stream, zlib,
// Buffer, consumers, streamPromises, webStreams) that returns a JSON-able log. They run against Node's own
// modules and against islet's (in Node through the chunk's modules, stream.test.ts, and inside
// sandboxes, stream-zlib-sandbox.test.ts); the logs must be equal.

export const STREAM_SCENARIOS: Record<string, string> = {
  "readable: data, end, close order with pushes from read()": `
    const log = [];
    let n = 0;
    const r = new stream.Readable({ read() { n++; if (n <= 3) this.push("c" + n); else this.push(null); } });
    for (const ev of ["data", "end", "close", "pause", "resume", "error"]) r.on(ev, (x) => log.push(ev + (x === undefined ? "" : ":" + x)));
    await new Promise((resolve) => r.on("close", resolve));
    log.push(r.readableEnded, r.destroyed, r.readable);
    return log;`,
  "readable: 'readable' event and read(n) with a highWaterMark": `
    const log = [];
    const r = new stream.Readable({ highWaterMark: 4, read() {} });
    r.push("abcdef"); r.push("gh");
    r.on("readable", () => { let c; while ((c = r.read(3)) !== null) log.push(String(c)); log.push("len " + r.readableLength); });
    r.on("end", () => log.push("end"));
    setTimeout(() => { r.push("ij"); r.push(null); }, 5);
    await new Promise((resolve) => r.on("close", resolve));
    return log;`,
  "readable: setEncoding splits no character, unshift puts back": `
    const log = [];
    const r = new stream.Readable({ read() {} });
    r.setEncoding("utf8");
    const bytes = Buffer.from("héllo wörld");
    r.push(bytes.subarray(0, 2)); r.push(bytes.subarray(2, 9)); r.push(bytes.subarray(9)); r.push(null);
    r.once("readable", () => { const first = r.read(3); log.push(first); r.unshift("X"); });
    await new Promise((resolve) => setTimeout(resolve, 5));
    r.on("data", (d) => log.push(d));
    await new Promise((resolve) => r.on("end", resolve));
    return log;`,
  "readable: push after EOF and invalid chunks are errors": `
    const log = [];
    const r = new stream.Readable({ read() {} });
    r.on("error", (e) => log.push([e.code, e.message]));
    r.push(null); r.push("late");
    await new Promise((resolve) => r.on("close", resolve));
    const r2 = new stream.Readable({ read() {} });
    r2.on("error", (e) => log.push([e.code, e.name]));
    r2.push(42);
    await new Promise((resolve) => r2.on("close", resolve));
    return log;`,
  "writable: backpressure, drain, finish and close": `
    const log = [];
    const w = new stream.Writable({ highWaterMark: 5, write(chunk, encoding, cb) { log.push("write " + chunk + " " + encoding); setTimeout(cb, 1); } });
    for (const ev of ["drain", "finish", "close", "prefinish", "error"]) w.on(ev, () => log.push(ev));
    log.push(w.write("abc"), w.writableLength, w.write("defg"), w.writableNeedDrain, w.writableLength);
    await new Promise((resolve) => w.once("drain", resolve));
    log.push(w.write("x", () => log.push("cb x")));
    w.end("yz", () => log.push("end cb"));
    log.push(w.writableEnded, w.writableFinished);
    await new Promise((resolve) => w.on("close", resolve));
    log.push(w.writableFinished, w.destroyed);
    return log;`,
  "writable: write after end, destroy with an error, cork and writev": `
    const log = [];
    const w = new stream.Writable({ write(c, e, cb) { cb(); } });
    w.on("error", (e) => log.push(["error", e.code, e.message]));
    w.end();
    w.write("late", (e) => log.push(["cb", e && e.code]));
    await new Promise((resolve) => w.on("close", resolve));
    const v = new stream.Writable({ writev(chunks, cb) { log.push("writev " + chunks.map((c) => String(c.chunk)).join("|")); cb(); } });
    v.cork(); v.write("a"); v.write("b"); v.write("c"); log.push("corked " + v.writableCorked); v.uncork();
    await new Promise((resolve) => v.end(resolve));
    const d = new stream.Writable({ write(c, e, cb) { setTimeout(cb, 5); } });
    d.on("error", (e) => log.push(["d error", e.message])); d.on("close", () => log.push("d close"));
    d.write("1", (e) => log.push(["d cb", e && e.code])); d.write("2", (e) => log.push(["d cb2", e && e.code]));
    d.destroy(new Error("stop"));
    await new Promise((resolve) => setTimeout(resolve, 20));
    log.push(d.destroyed, d.errored && d.errored.message, d.writable);
    return log;`,
  "transform: objectMode, flush and the event order of both sides": `
    const log = [];
    const t = new stream.Transform({
      objectMode: true,
      transform(obj, enc, cb) { if (obj.skip) return cb(); this.push({ n: obj.n * 2 }); cb(null, { n: obj.n * 3 }); },
      flush(cb) { log.push("flush"); cb(null, { n: "last" }); },
    });
    for (const ev of ["finish", "end", "close", "prefinish"]) t.on(ev, () => log.push(ev));
    t.on("data", (d) => log.push(d.n));
    t.write({ n: 1 }); t.write({ skip: true }); t.write({ n: 2 }); t.end();
    await new Promise((resolve) => t.on("close", resolve));
    const p = new stream.PassThrough();
    const out = [];
    p.on("data", (c) => out.push(String(c)));
    p.write("a"); p.end("b");
    await new Promise((resolve) => p.on("end", resolve));
    log.push(out.join(""), p instanceof stream.Transform, p instanceof stream.Duplex, p instanceof stream.Writable, p instanceof stream.Readable);
    return log;`,
  "pipe: slow writer pauses and resumes the source, unpipe on finish": `
    const log = [];
    let i = 0;
    const r = new stream.Readable({ highWaterMark: 2, read() { i++; this.push(i <= 6 ? "r" + i : null); } });
    const w = new stream.Writable({ highWaterMark: 2, write(c, e, cb) { log.push("w " + c); setTimeout(cb, 2); } });
    r.on("pause", () => log.push("pause")); r.on("resume", () => log.push("resume")); r.on("end", () => log.push("end"));
    w.on("drain", () => log.push("drain")); w.on("finish", () => log.push("finish")); w.on("unpipe", () => log.push("unpipe"));
    r.pipe(w);
    await new Promise((resolve) => w.on("close", resolve));
    return log;`,
  "pipeline: an error in the middle destroys every stream and reaches the callback once": `
    const log = [];
    const src = new stream.Readable({ read() { this.push("x"); } });
    const bad = new stream.Transform({ transform(c, e, cb) { cb(new Error("boom")); } });
    const sink = new stream.PassThrough();
    for (const [name, s] of [["src", src], ["bad", bad], ["sink", sink]]) s.on("close", () => log.push(name + " close"));
    await new Promise((resolve) => stream.pipeline(src, bad, sink, (err) => { log.push("done " + (err && err.message)); resolve(); }));
    await new Promise((resolve) => setTimeout(resolve, 5));
    log.push(src.destroyed, bad.destroyed, sink.destroyed);
    return log;`,
  "pipeline: generators as source, transform and destination; stream/promises": `
    const log = [];
    async function* source() { yield "a"; yield "b"; yield "c"; }
    const result = await streamPromises.pipeline(source, async function* (s) { for await (const c of s) yield String(c).toUpperCase(); }, async (s) => { let all = ""; for await (const c of s) all += c; return all; });
    log.push(result === undefined ? "undefined" : result);
    const chunks = [];
    await streamPromises.pipeline(stream.Readable.from(["1", "2"]), new stream.Transform({ transform(c, e, cb) { cb(null, c + "!"); } }), new stream.Writable({ write(c, e, cb) { chunks.push(String(c)); cb(); } }));
    log.push(chunks.join());
    try { await streamPromises.pipeline(stream.Readable.from(["x"]), async function* (s) { for await (const c of s) throw new Error("gen " + c); }, new stream.PassThrough()); } catch (e) { log.push("rejected " + e.message); }
    return log;`,
  "finished: premature close, errors, and a clean end": `
    const log = [];
    const r = new stream.Readable({ read() {} });
    stream.finished(r, (err) => log.push(["r", err && err.code]));
    r.destroy();
    const w = new stream.Writable({ write(c, e, cb) { cb(); } });
    stream.finished(w, (err) => log.push(["w", err && err.message]));
    w.on("error", () => {});
    w.destroy(new Error("bad"));
    const ok = new stream.PassThrough();
    stream.finished(ok, (err) => log.push(["ok", err === undefined ? "undefined" : err]));
    ok.resume(); ok.end("x");
    await streamPromises.finished(ok);
    await new Promise((resolve) => setTimeout(resolve, 5));
    return log;`,
  "async iteration: chunks, break destroys, errors reject": `
    const log = [];
    const r = stream.Readable.from([1, 2, 3, 4], { objectMode: true });
    for await (const x of r) { log.push(x); if (x === 2) break; }
    log.push(r.destroyed);
    const e = new stream.Readable({ read() { this.destroy(new Error("mid")); } });
    try { for await (const x of e) log.push(x); } catch (err) { log.push("caught " + err.message); }
    const text = new stream.Readable({ read() {} }); text.push("ab"); text.push("cd"); text.push(null);
    const parts = []; for await (const c of text) parts.push(String(c));
    log.push(parts.join("+"));
    async function* gen() { yield "g1"; await new Promise((r) => setTimeout(r, 1)); yield "g2"; }
    const fromGen = []; for await (const c of stream.Readable.from(gen())) fromGen.push(c);
    log.push(fromGen.join());
    return log;`,
  "consumers: text, json, buffer, arrayBuffer and blob": `
    const mk = (parts) => stream.Readable.from(parts.map((p) => Buffer.from(p)));
    const b = await consumers.buffer(mk(["ab", "c"]));
    const ab = await consumers.arrayBuffer(mk(["xyz"]));
    const blob = await consumers.blob(mk(["bl", "ob"]));
    return [await consumers.text(mk(["hé", "llo"])), await consumers.json(mk(['{"a":', "[1,2]}"])), Array.from(b), ab.byteLength, blob.size, await blob.text(),
      await consumers.text(stream.Readable.from(["plain ", "strings"]))];`,
  "web interop: toWeb and fromWeb": `
    const log = [];
    const readable = stream.Readable.from(["a", "b", "c"].map((s) => Buffer.from(s)));
    const reader = stream.Readable.toWeb(readable).getReader();
    for (;;) { const { value, done } = await reader.read(); if (done) break; log.push(Array.from(value)); }
    const web = new webStreams.ReadableStream({ start(c) { c.enqueue(new Uint8Array([104, 105])); c.enqueue(new Uint8Array([33])); c.close(); } });
    const back = stream.Readable.fromWeb(web);
    // How many chunks the bytes come in depends on microtask timing (Node's adapter vs islet's polyfill): the bytes only.
    const got = []; for await (const c of back) got.push(...Array.from(c));
    log.push(got);
    const seen = [];
    const ws = new webStreams.WritableStream({ write(c) { seen.push(String(c)); } });
    const w = stream.Writable.fromWeb(ws, { decodeStrings: false });
    w.write("p"); w.end("q");
    await new Promise((resolve) => w.on("finish", resolve));
    log.push(seen.join());
    const sink = []; const nodeW = new stream.Writable({ write(c, e, cb) { sink.push(String(c)); cb(); } });
    const writer = stream.Writable.toWeb(nodeW).getWriter();
    await writer.write(new Uint8Array([65])); await writer.close();
    log.push(sink.join(), nodeW.writableFinished);
    return log;`,
  "zlib: every sync mode round-trips; errors carry zlib's code and errno": `
    const input = Buffer.from("The quick brown fox jumps over the lazy dog. ".repeat(50));
    const out = [];
    for (const [c, d] of [["deflateSync", "inflateSync"], ["deflateRawSync", "inflateRawSync"], ["gzipSync", "gunzipSync"], ["gzipSync", "unzipSync"], ["deflateSync", "unzipSync"]]) {
      for (const level of [0, 1, 6, 9]) out.push([c, level, zlib[d](zlib[c](input, { level })).equals(input)]);
    }
    const err = (f) => { try { f(); return "no error"; } catch (e) { return [e.code, e.errno, e.message]; } };
    const gz = zlib.gzipSync("hello");
    out.push(err(() => zlib.inflateSync(Buffer.from("not deflate data"))));
    out.push(err(() => zlib.gunzipSync(gz.subarray(0, gz.length - 3))));
    out.push(err(() => zlib.gunzipSync(Buffer.concat([gz.subarray(0, gz.length - 8), Buffer.alloc(8)]))));
    out.push(err(() => zlib.inflateSync(Buffer.alloc(0))));
    out.push(err(() => zlib.gzipSync(42)));
    out.push(err(() => zlib.gunzipSync(zlib.gzipSync(Buffer.alloc(1000)), { maxOutputLength: 100 })));
    out.push(zlib.gunzipSync(Buffer.concat([zlib.gzipSync("ab"), zlib.gzipSync("cd")])).toString());
    out.push(zlib.gunzipSync(Buffer.concat([zlib.gzipSync("ab"), Buffer.alloc(5)])).toString());
    out.push(zlib.crc32("hello"), zlib.crc32(Buffer.from("world"), zlib.crc32("hello ")), zlib.crc32(""));
    out.push(Array.from(zlib.gzipSync("x").subarray(0, 10)));
    return out;`,
  "zlib: callback and stream forms": `
    const log = [];
    const input = Buffer.from("stream me ".repeat(1000));
    const compressed = await new Promise((resolve, reject) => zlib.deflate(input, (e, r) => (e ? reject(e) : resolve(r))));
    const inflated = await new Promise((resolve, reject) => zlib.inflate(compressed, (e, r) => (e ? reject(e) : resolve(r))));
    log.push(inflated.equals(input));
    const badCb = await new Promise((resolve) => zlib.gunzip(Buffer.from("nope"), (e) => resolve(e.code)));
    log.push(badCb);
    const chunks = [];
    await streamPromises.pipeline(stream.Readable.from([input.subarray(0, 3000), input.subarray(3000)]), zlib.createGzip(), zlib.createGunzip(), new stream.Writable({ write(c, e, cb) { chunks.push(c); cb(); } }));
    log.push(Buffer.concat(chunks).equals(input));
    const gz = zlib.createGzip();
    const events = [];
    for (const ev of ["finish", "end", "close"]) gz.on(ev, () => events.push(ev));
    const parts = []; gz.on("data", (c) => parts.push(c));
    gz.end("abc");
    await new Promise((resolve) => gz.on("close", resolve));
    log.push(events, zlib.gunzipSync(Buffer.concat(parts)).toString(), gz.bytesWritten);
    const bad = zlib.createInflate();
    const errored = await new Promise((resolve) => { bad.on("error", (e) => resolve([e.code, e.errno])); bad.end(Buffer.from("garbage!")); });
    log.push(errored);
    const flushing = zlib.createDeflate();
    const flushed = []; flushing.on("data", (c) => flushed.push(c));
    flushing.write("partial");
    await new Promise((resolve) => flushing.flush(resolve));
    log.push(zlib.inflateSync(Buffer.concat(flushed), { finishFlush: zlib.constants.Z_SYNC_FLUSH }).toString());
    log.push(new zlib.Gzip() instanceof stream.Transform, typeof zlib.Gzip, zlib.createUnzip() instanceof zlib.Unzip);
    return log;`,
};

/**
 * Scenarios whose logs Node 26 changed, as Node 24 logs them (islet's node:stream follows Node 24,
 * as its other node modules do): on Node 26 the tests compare with these; on Node 24 they check
 * that these still are Node's own logs. Node 26 ends a piped slow writer with one more drain and
 * resume, and an async iterator of a Readable reads two pushes made in one turn as one chunk.
 */
export const NODE_24_LOGS: Readonly<Record<string, unknown>> = {
  "pipe: slow writer pauses and resumes the source, unpipe on finish": ["resume", "w r1", "pause", "drain", "resume", "w r2", "pause", "drain", "resume", "w r3", "pause", "drain", "resume", "w r4", "pause", "drain", "resume", "w r5", "pause", "drain", "resume", "w r6", "pause", "end", "finish", "unpipe"],
  "async iteration: chunks, break destroys, errors reject": [1, 2, true, "caught mid", "abcd", "g1,g2"],
};

/** Node's own major version: the logs of NODE_24_LOGS stand in for Node's own from 26 on. */
export const NODE_MAJOR = Number(process.versions.node.split(".")[0]);
