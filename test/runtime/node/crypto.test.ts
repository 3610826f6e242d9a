// Differential tests: node:crypto's hashes and HMACs (computed by the host service from the
// chunks the sandbox keeps) against Node's, plus random values, timingSafeEqual and the limits.

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import * as nodeCrypto from "node:crypto";
import { callService, ServiceState } from "../../../src/engine/services/index.ts";
import { MAX_CALL_BYTES, MAX_HASH_INPUT_BYTES, MAX_OPEN_HASHES, NODE_HASHES } from "../../../src/engine/services/node-crypto.ts";
import { HASHES } from "../../../src/runtime/node/crypto/hash.ts";
import { nodeModule, outcome } from "./compat.ts";

const ours = nodeModule("crypto") as typeof nodeCrypto;
const encodings = [undefined, "hex", "base64", "base64url", "latin1", "binary", "buffer", "utf16le", "nope"] as const;
const inputs: [unknown, BufferEncoding?][] = [["abc"], [""], ["héllo €"], ["616263", "hex"], ["YWJj", "base64"], ["é", "latin1"], [new Uint8Array([1, 2, 3])], [new Uint16Array([1, 256])], [new DataView(new ArrayBuffer(3))], [Buffer.from("buffer")]];

describe("node:crypto hashes", () => {
  it("createHash gives Node's digest for every algorithm, input and output encoding", () => {
    for (const algorithm of [...HASHES, "SHA256", "RSA-SHA1", "sha-256", "SHA2-512/256", "RSA-SHA512/224", "sha512/224", "rmd160", "sha256WithRSAEncryption", "nope"]) {
      for (const encoding of encodings) {
        const run = (c: typeof nodeCrypto) => () => {
          const hash = c.createHash(algorithm);
          for (const [data, inputEncoding] of inputs) hash.update(data as string, inputEncoding as BufferEncoding);
          return hash.digest(encoding as nodeCrypto.BinaryToTextEncoding);
        };
        assert.deepEqual(outcome(run(ours)), outcome(run(nodeCrypto)), `${algorithm} → ${encoding}`);
      }
    }
  });

  it("createHmac gives Node's digest for string, byte and ArrayBuffer keys", () => {
    for (const algorithm of ["md5", "sha1", "sha256", "sha512", "sha3-256", "nope"]) {
      for (const key of ["key", "", Buffer.alloc(200, 7), new Uint8Array([1, 2]).buffer, 5]) {
        const run = (c: typeof nodeCrypto) => () => c.createHmac(algorithm, key as string).update("message").update(Buffer.from([0, 1])).digest("hex");
        assert.deepEqual(outcome(run(ours)), outcome(run(nodeCrypto)), `${algorithm} with ${String(key)}`);
      }
    }
  });

  it("fails after digest as Node does, copies state, and checks its input", () => {
    const sequences: [string, (c: typeof nodeCrypto) => unknown][] = [
      ["digest twice", (c) => { const h = c.createHash("sha256").update("a"); h.digest(); return h.digest(); }],
      ["update after digest", (c) => { const h = c.createHash("sha256"); h.digest(); return h.update("x"); }],
      ["hmac digest twice", (c) => { const h = c.createHmac("sha256", "k"); h.digest("hex"); return [h.digest("hex"), h.digest()]; }],
      ["hmac update after digest", (c) => { const h = c.createHmac("sha256", "k"); h.digest(); return h.update("x"); }],
      ["copy", (c) => { const h = c.createHash("sha256").update("a"); const copy = h.copy().update("b"); return [h.digest("hex"), copy.digest("hex")]; }],
      ["bad data", (c) => c.createHash("sha256").update(5 as unknown as string)],
      ["odd hex", (c) => c.createHash("sha256").update("abc", "hex")],
      ["bad algorithm type", (c) => c.createHash(5 as unknown as string)],
      ["hash()", (c) => [c.hash("sha1", "abc"), c.hash("md5", "abc", "base64"), c.hash("sha256", Buffer.from("x"), "buffer")]],
    ];
    for (const [label, run] of sequences) assert.deepEqual(outcome(() => run(ours)), outcome(() => run(nodeCrypto)), label);
  });

  it("hashes inputs split into many updates like one update", () => {
    const data = nodeCrypto.randomBytes(100_000);
    const hash = ours.createHash("sha512");
    for (let i = 0; i < data.length; i += 97) hash.update(data.subarray(i, i + 97));
    assert.equal(hash.digest("hex"), nodeCrypto.createHash("sha512").update(data).digest("hex"));
  });

  it("bounds the input of one digest, in the sandbox and in the host service", () => {
    const hash = ours.createHash("sha256");
    hash.update(new Uint8Array(MAX_HASH_INPUT_BYTES));
    assert.throws(() => hash.update("x"), RangeError);
    const state = new ServiceState();
    assert.deepEqual(callService(state, "nodeCrypto.digest", ["sha256", [new Uint8Array(MAX_HASH_INPUT_BYTES + 1)]])[0], 0);
    assert.deepEqual(callService(state, "nodeCrypto.digest", ["sha256", "not a list"])[0], 0);
    assert.deepEqual(callService(state, "nodeCrypto.digest", ["whirlpool", []]), [0, { name: "Error", message: "Digest method not supported" }]);
    assert.deepEqual(callService(state, "nodeCrypto.hmac", ["sha256", "not bytes", []])[0], 0);
  });

  it("hashes inputs larger than one host call (in 1 MiB slices through an open hash) and HMAC keys larger than one call like Node", () => {
    const data = nodeCrypto.randomBytes(5 * MAX_CALL_BYTES + 12_345);
    for (const algorithm of ["sha512", "sha256", "md5"]) {
      const hash = ours.createHash(algorithm);
      // Uneven updates, one of them crossing several slices.
      hash.update(data.subarray(0, 1000)).update(data.subarray(1000, 3 * MAX_CALL_BYTES + 7)).update(data.subarray(3 * MAX_CALL_BYTES + 7));
      assert.equal(hash.digest("hex"), nodeCrypto.createHash(algorithm).update(data).digest("hex"), algorithm);
      for (const key of [Buffer.from("k"), nodeCrypto.randomBytes(MAX_CALL_BYTES + 3)]) {
        assert.equal(ours.createHmac(algorithm, key).update(data).digest("hex"), nodeCrypto.createHmac(algorithm, key).update(data).digest("hex"), `hmac ${algorithm} key ${key.length}`);
      }
    }
  });

  it("the host service takes at most 1 MiB a call, 16 MiB per open hash and 16 open hashes per sandbox", () => {
    const state = new ServiceState();
    assert.deepEqual(callService(state, "nodeCrypto.digest", ["sha256", [new Uint8Array(MAX_CALL_BYTES)]])[0], 1);
    assert.equal((callService(state, "nodeCrypto.digest", ["sha256", [new Uint8Array(MAX_CALL_BYTES + 1)]])[1] as Error).name, "RangeError");
    assert.deepEqual(callService(state, "nodeCrypto.hmac", ["sha256", new Uint8Array(MAX_CALL_BYTES + 1), []])[0], 0);
    const handles: unknown[] = [];
    for (let i = 0; i < MAX_OPEN_HASHES; i++) handles.push(callService(state, "nodeCrypto.open", ["sha256"])[1]);
    assert.deepEqual(callService(state, "nodeCrypto.open", ["sha256"])[1], { name: "RangeError", message: `Too many hashes open at once (at most ${MAX_OPEN_HASHES}).` });
    const handle = handles[0];
    assert.equal((callService(state, "nodeCrypto.update", [handle, [new Uint8Array(MAX_CALL_BYTES + 1)]])[1] as Error).name, "RangeError");
    for (let i = 0; i < 16; i++) assert.equal(callService(state, "nodeCrypto.update", [handle, [new Uint8Array(MAX_CALL_BYTES)]])[0], 1);
    assert.equal((callService(state, "nodeCrypto.update", [handle, [new Uint8Array(1)]])[1] as Error).name, "RangeError", "past 16 MiB the hash is refused and closed");
    assert.equal(callService(state, "nodeCrypto.final", [handle])[0], 0, "a closed handle is gone");
    assert.equal(callService(state, "nodeCrypto.final", [handles[1]])[0], 1);
    assert.equal(callService(state, "nodeCrypto.close", [handles[2]])[0], 1);
    assert.equal(callService(state, "nodeCrypto.open", ["sha256"])[0], 1, "closed hashes make room");
  });

  it("offers the same digests as the host service, all of which Node's OpenSSL has", () => {
    assert.deepEqual([...HASHES].sort(), [...NODE_HASHES].sort());
    const available = new Set(nodeCrypto.getHashes().map((name) => name.toLowerCase()));
    for (const name of HASHES) assert.ok(available.has(name), name);
    assert.deepEqual(ours.getHashes(), [...HASHES]);
  });
});

describe("node:crypto random values and comparison", () => {
  it("randomBytes, randomFillSync and randomInt produce values of the right shape", async () => {
    const bytes = ours.randomBytes(100_000);
    assert.equal(bytes.length, 100_000);
    assert.ok(bytes.some((b) => b !== 0));
    assert.ok((nodeModule("buffer") as typeof import("node:buffer")).Buffer.isBuffer(bytes));
    const viaCallback = await new Promise<Buffer>((resolve, reject) => ours.randomBytes(8, (error, value) => (error ? reject(error) : resolve(value))));
    assert.equal(viaCallback.length, 8);
    const target = new Uint32Array(4);
    ours.randomFillSync(target, 1, 2);
    assert.equal(target[0], 0);
    assert.equal(target[3], 0);
    for (let i = 0; i < 1000; i++) {
      const value = ours.randomInt(-5, 5);
      assert.ok(Number.isInteger(value) && value >= -5 && value < 5);
    }
    assert.ok(ours.randomInt(3) < 3);
    // Random results differ, of course: compare their size (or type), and errors in full.
    const shape = (run: () => unknown) => {
      const result = outcome(run);
      if (!("value" in result)) return result;
      const value = result.value as { bytes?: number[] } | number;
      return typeof value === "number" ? "number" : value.bytes?.length;
    };
    for (const args of [[-1], [10, 5], [1.5], [0, 2 ** 49], ["4"], [2 ** 31]]) {
      assert.deepEqual(shape(() => (ours.randomBytes as (...a: unknown[]) => unknown)(...args)), shape(() => (nodeCrypto.randomBytes as (...a: unknown[]) => unknown)(...args)), `randomBytes(${args})`);
      assert.deepEqual(shape(() => (ours.randomInt as (...a: unknown[]) => unknown)(...args)), shape(() => (nodeCrypto.randomInt as (...a: unknown[]) => unknown)(...args)), `randomInt(${args})`);
    }
  });

  it("randomUUID makes distinct version 4 UUIDs", () => {
    const seen = new Set<string>();
    for (let i = 0; i < 300; i++) {
      const uuid = ours.randomUUID(i % 2 ? { disableEntropyCache: true } : undefined);
      assert.match(uuid, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      seen.add(uuid);
    }
    assert.equal(seen.size, 300);
  });

  it("timingSafeEqual agrees with Node, errors included", () => {
    const pairs: [unknown, unknown][] = [[Buffer.from("abc"), Buffer.from("abc")], [Buffer.from("abc"), Buffer.from("abd")], [new Uint8Array(2).buffer, new Uint16Array(1)], [Buffer.from("a"), Buffer.from("ab")], ["a", Buffer.from("a")], [Buffer.from("a"), 5]];
    for (const [a, b] of pairs) {
      assert.deepEqual(outcome(() => ours.timingSafeEqual(a as Buffer, b as Buffer)), outcome(() => nodeCrypto.timingSafeEqual(a as Buffer, b as Buffer)), `${String(a)} vs ${String(b)}`);
    }
  });
});
