// The crypto chunk run directly in Node against the real host services: known-answer vectors,
// round trips, cross-verification with Node's own Web Crypto, and the errors the spec names.

import assert from "node:assert/strict";
import { webcrypto } from "node:crypto";
import { describe, it } from "node:test";
import "../platform.ts";
import { events } from "../../../src/runtime/platform.ts";
import { Crypto, CryptoKey, SubtleCrypto, crypto } from "../../../src/runtime/web/crypto/index.ts";
import { cryptoAsyncServices, cryptoServices } from "../../../src/engine/services/crypto.ts";
import { ServiceState } from "../../../src/engine/services/index.ts";

const subtle = crypto.subtle;
const node = webcrypto.subtle;
const text = (s: string) => new TextEncoder().encode(s);
const hex = (buffer: ArrayBuffer | Uint8Array) => Buffer.from(buffer as ArrayBuffer).toString("hex");
const bytes = (h: string) => new Uint8Array(Buffer.from(h, "hex"));
const b64url = (h: string) => Buffer.from(h, "hex").toString("base64url");

type Key = InstanceType<typeof CryptoKey>;
type Pair = { publicKey: Key; privateKey: Key };

/** Asserts that `promise` rejects with an error of this name (a DOMException unless TypeError). */
async function rejectsWith(promise: Promise<unknown>, name: string): Promise<void> {
  await assert.rejects(promise, (error: Error) => {
    assert.equal(error.name, name, error.message);
    if (name !== "TypeError") assert.ok(error instanceof events().DOMException, `${name} is a DOMException`);
    return true;
  });
}

function throwsWith(run: () => unknown, name: string): void {
  assert.throws(run, (error: Error) => {
    assert.equal(error.name, name, error.message);
    return true;
  });
}

describe("digest", () => {
  it("matches the FIPS 180 vectors for 'abc'", async () => {
    const vectors: Record<string, string> = {
      "SHA-1": "a9993e364706816aba3e25717850c26c9cd0d89d",
      "SHA-256": "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
      "SHA-384": "cb00753f45a35e8bb5a03d699ac65007272c32ab0eded1631a8b605a43ff5bed8086072ba1e7cc2358baeca134c825a7",
      "SHA-512": "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f",
    };
    for (const [name, expected] of Object.entries(vectors)) {
      const result = await subtle.digest(name, text("abc"));
      assert.ok(result instanceof ArrayBuffer);
      assert.equal(hex(result), expected, name);
    }
  });

  it("accepts every BufferSource, names in any case and as objects", async () => {
    const padded = text("xabcx");
    const expected = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
    assert.equal(hex(await subtle.digest("sha-256", padded.subarray(1, 4))), expected);
    assert.equal(hex(await subtle.digest({ name: "Sha-256" }, new DataView(padded.buffer, 1, 3))), expected);
    assert.equal(hex(await subtle.digest("SHA-256", text("abc").buffer)), expected);
  });

  it("copies its input before returning", async () => {
    const data = text("abc");
    const pending = subtle.digest("SHA-256", data);
    data.fill(0);
    assert.equal(hex(await pending), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  });

  it("rejects (never throws) on bad arguments", async () => {
    const missing = (subtle.digest as (...args: unknown[]) => Promise<ArrayBuffer>)("SHA-256");
    assert.ok(missing instanceof Promise);
    await rejectsWith(missing, "TypeError");
    await rejectsWith(subtle.digest("SHA-3", text("a")), "NotSupportedError");
    await rejectsWith(subtle.digest("SHA-256", "abc" as unknown as Uint8Array), "TypeError");
    await rejectsWith(subtle.digest({} as unknown as string, text("a")), "TypeError");
    await rejectsWith(SubtleCrypto.prototype.digest.call({}, "SHA-256", text("a")), "TypeError");
  });
});

describe("HMAC", () => {
  const cases = [
    { key: "0b".repeat(20), data: "Hi There", "SHA-256": "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7",
      "SHA-512": "87aa7cdea5ef619d4ff0b4241a1d6cb02379f4e2ce4ec2787ad0b30545e17cdedaa833b7d6b8a702038b274eaea3f4e4be9d914eeb61f1702e696c203a126854" },
    { key: Buffer.from("Jefe").toString("hex"), data: "what do ya want for nothing?", "SHA-256": "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
      "SHA-512": "164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea2505549758bf75c05a994a6d034f65f8f0e6fdcaeab1a34d4a6b4b636e070a38bce737" },
  ];

  it("matches RFC 4231 test cases 1 and 2, and verifies them", async () => {
    for (const vector of cases) {
      for (const hash of ["SHA-256", "SHA-512"] as const) {
        const key = await subtle.importKey("raw", bytes(vector.key), { name: "HMAC", hash }, false, ["sign", "verify"]);
        const mac = await subtle.sign("HMAC", key, text(vector.data));
        assert.equal(hex(mac), vector[hash]);
        assert.equal(await subtle.verify("HMAC", key, mac, text(vector.data)), true);
        assert.equal(await subtle.verify("HMAC", key, mac, text(vector.data + "!")), false);
      }
    }
  });

  it("generates keys of the hash's block size and exports them as raw and jwk", async () => {
    const key = (await subtle.generateKey({ name: "HMAC", hash: "SHA-256" }, true, ["sign", "verify"])) as Key;
    assert.deepEqual(key.algorithm, { name: "HMAC", hash: { name: "SHA-256" }, length: 512 });
    assert.equal(key.type, "secret");
    const raw = new Uint8Array((await subtle.exportKey("raw", key)) as ArrayBuffer);
    assert.equal(raw.length, 64);
    const jwk = (await subtle.exportKey("jwk", key)) as Record<string, unknown>;
    assert.equal(jwk.alg, "HS256");
    assert.equal(jwk.k, Buffer.from(raw).toString("base64url"));
    const again = await subtle.importKey("jwk", jwk, { name: "HMAC", hash: "SHA-256" }, true, ["sign"]);
    const nodeKey = await node.importKey("raw", raw, { name: "HMAC", hash: "SHA-256" }, false, ["verify"]);
    assert.equal(await node.verify("HMAC", nodeKey, await subtle.sign("HMAC", again, text("m")), text("m")), true);
  });

  it("requires a hash", async () => {
    await rejectsWith(subtle.importKey("raw", new Uint8Array(16), { name: "HMAC" }, false, ["sign"]), "TypeError");
  });
});

describe("AES", () => {
  const K = "feffe9928665731c6d6a8f9467308308";
  const IV = "cafebabefacedbaddecaf888";
  const P = "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a721c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b391aafd255";
  const C = "42831ec2217774244b7221b784d0d49ce3aa212f2c02a4e035c17e2329aca12e21d514b25466931c7d8f6a5aac84aa051ba30b396a0aac973d58e091473f5985";

  it("AES-GCM matches the GCM specification's test cases 3 and 4", async () => {
    const key = await subtle.importKey("raw", bytes(K), "AES-GCM", false, ["encrypt", "decrypt"]);
    const case3 = await subtle.encrypt({ name: "AES-GCM", iv: bytes(IV) }, key, bytes(P));
    assert.equal(hex(case3), C + "4d5c2af327cd64a62cf35abd2ba6fab4");
    const aad = bytes("feedfacedeadbeeffeedfacedeadbeefabaddad2");
    const case4 = await subtle.encrypt({ name: "AES-GCM", iv: bytes(IV), additionalData: aad }, key, bytes(P.slice(0, 120)));
    assert.equal(hex(case4), C.slice(0, 120) + "5bc94fbc3221a5db94fae95ae7121a47");
    assert.equal(hex(await subtle.decrypt({ name: "AES-GCM", iv: bytes(IV), additionalData: aad }, key, case4)), P.slice(0, 120));
    const tampered = new Uint8Array(case4);
    tampered[0] ^= 1;
    await rejectsWith(subtle.decrypt({ name: "AES-GCM", iv: bytes(IV), additionalData: aad }, key, tampered), "OperationError");
    await rejectsWith(subtle.encrypt({ name: "AES-GCM", iv: bytes(IV), tagLength: 100 }, key, bytes(P)), "OperationError");
    await rejectsWith(subtle.encrypt({ name: "AES-GCM" }, key, bytes(P)), "TypeError");
  });

  it("AES-CBC round-trips and interoperates with Node", async () => {
    const key = (await subtle.generateKey({ name: "AES-CBC", length: 256 }, true, ["encrypt", "decrypt"])) as Key;
    assert.deepEqual(key.algorithm, { name: "AES-CBC", length: 256 });
    const iv = crypto.getRandomValues(new Uint8Array(16));
    const sealed = await subtle.encrypt({ name: "AES-CBC", iv }, key, text("sixteen+ bytes of text"));
    const nodeKey = await node.importKey("raw", (await subtle.exportKey("raw", key)) as ArrayBuffer, "AES-CBC", false, ["decrypt", "encrypt"]);
    assert.equal(Buffer.from(await node.decrypt({ name: "AES-CBC", iv }, nodeKey, sealed)).toString(), "sixteen+ bytes of text");
    const fromNode = await node.encrypt({ name: "AES-CBC", iv }, nodeKey, text("back"));
    assert.equal(Buffer.from(await subtle.decrypt({ name: "AES-CBC", iv }, key, fromNode)).toString(), "back");
    await rejectsWith(subtle.decrypt({ name: "AES-CBC", iv }, key, new Uint8Array(15)), "OperationError");
  });

  it("imports and exports jwk; AES-CTR and AES-KW work", async () => {
    const jwk = { kty: "oct", k: b64url(K), alg: "A128GCM", ext: true };
    const key = await subtle.importKey("jwk", jwk, "AES-GCM", true, ["encrypt"]);
    assert.deepEqual(await subtle.exportKey("jwk", key), { ...jwk, key_ops: ["encrypt"] });
    const ctr = (await subtle.generateKey({ name: "AES-CTR", length: 128 }, false, ["encrypt", "decrypt"])) as Key;
    const params = { name: "AES-CTR", counter: new Uint8Array(16), length: 64 };
    assert.equal(Buffer.from(await subtle.decrypt(params, ctr, await subtle.encrypt(params, ctr, text("ctr")))).toString(), "ctr");
  });

  it("rejects bad lengths, usages and key data with the spec's errors", async () => {
    await rejectsWith(subtle.importKey("raw", new Uint8Array(5), "AES-GCM", true, ["encrypt"]), "DataError");
    await rejectsWith(subtle.importKey("raw", new Uint8Array(16), "AES-GCM", true, ["sign"]), "SyntaxError");
    await rejectsWith(subtle.importKey("raw", new Uint8Array(16), "AES-GCM", true, []), "SyntaxError");
    await rejectsWith(subtle.generateKey({ name: "AES-GCM", length: 100 }, true, ["encrypt"]), "OperationError");
    await rejectsWith(subtle.generateKey({ name: "AES-GCM", length: 70000 }, true, ["encrypt"]), "TypeError");
    await rejectsWith(subtle.importKey("jwk", { kty: "RSA", k: "AAAA" }, "AES-GCM", true, ["encrypt"]), "DataError");
  });
});

describe("ECDSA", () => {
  for (const [namedCurve, hash] of [["P-256", "SHA-256"], ["P-384", "SHA-384"], ["P-521", "SHA-512"]] as const) {
    it(`${namedCurve}: signs and verifies, interoperating with Node both ways`, async () => {
      const pair = (await subtle.generateKey({ name: "ECDSA", namedCurve }, true, ["sign", "verify"])) as Pair;
      assert.deepEqual(pair.publicKey.algorithm, { name: "ECDSA", namedCurve });
      assert.deepEqual([pair.publicKey.type, pair.privateKey.type], ["public", "private"]);
      assert.deepEqual(pair.publicKey.usages, ["verify"]);
      const signature = await subtle.sign({ name: "ECDSA", hash }, pair.privateKey, text("message"));
      const spki = (await subtle.exportKey("spki", pair.publicKey)) as ArrayBuffer;
      const nodePublic = await node.importKey("spki", spki, { name: "ECDSA", namedCurve }, true, ["verify"]);
      assert.equal(await node.verify({ name: "ECDSA", hash }, nodePublic, signature, text("message")), true);

      const nodePair = await node.generateKey({ name: "ECDSA", namedCurve }, true, ["sign", "verify"]);
      const nodeSignature = await node.sign({ name: "ECDSA", hash }, nodePair.privateKey, text("other"));
      const raw = await node.exportKey("raw", nodePair.publicKey);
      const ours = await subtle.importKey("raw", raw, { name: "ECDSA", namedCurve }, true, ["verify"]);
      assert.equal(await subtle.verify({ name: "ECDSA", hash }, ours, nodeSignature, text("other")), true);
      assert.equal(await subtle.verify({ name: "ECDSA", hash }, ours, nodeSignature, text("Other")), false);
    });
  }

  it("round-trips jwk, spki and pkcs8", async () => {
    const pair = (await subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, true, ["sign", "verify"])) as Pair;
    const jwk = (await subtle.exportKey("jwk", pair.privateKey)) as Record<string, unknown>;
    assert.deepEqual([jwk.kty, jwk.crv, typeof jwk.d], ["EC", "P-256", "string"]);
    const pkcs8 = (await subtle.exportKey("pkcs8", pair.privateKey)) as ArrayBuffer;
    const fromJwk = await subtle.importKey("jwk", jwk, { name: "ECDSA", namedCurve: "P-256" }, true, ["sign"]);
    const fromPkcs8 = await subtle.importKey("pkcs8", pkcs8, { name: "ECDSA", namedCurve: "P-256" }, true, ["sign"]);
    assert.equal(hex((await subtle.exportKey("pkcs8", fromJwk)) as ArrayBuffer), hex(pkcs8));
    const signature = await subtle.sign({ name: "ECDSA", hash: "SHA-256" }, fromPkcs8, text("x"));
    const spki = (await subtle.exportKey("spki", pair.publicKey)) as ArrayBuffer;
    const publicKey = await subtle.importKey("spki", spki, { name: "ECDSA", namedCurve: "P-256" }, true, ["verify"]);
    assert.equal(await subtle.verify({ name: "ECDSA", hash: "SHA-256" }, publicKey, signature, text("x")), true);
    await rejectsWith(subtle.importKey("spki", new Uint8Array(10), { name: "ECDSA", namedCurve: "P-256" }, true, ["verify"]), "DataError");
    await rejectsWith(subtle.generateKey({ name: "ECDSA", namedCurve: "P-999" }, true, ["sign"]), "NotSupportedError");
    await rejectsWith(subtle.sign({ name: "ECDSA", hash: "SHA-256" }, pair.publicKey, text("x")), "InvalidAccessError");
  });
});

describe("Ed25519", () => {
  const seed = "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60";
  const publicKey = "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a";
  const signature =
    "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b";

  it("matches RFC 8032 test 1", async () => {
    const jwk = { kty: "OKP", crv: "Ed25519", d: b64url(seed), x: b64url(publicKey) };
    const privateKey = await subtle.importKey("jwk", jwk, "Ed25519", true, ["sign"]);
    assert.deepEqual(privateKey.algorithm, { name: "Ed25519" });
    assert.equal(hex(await subtle.sign("Ed25519", privateKey, new Uint8Array(0))), signature);
    const verifier = await subtle.importKey("raw", bytes(publicKey), "Ed25519", true, ["verify"]);
    assert.equal(await subtle.verify("Ed25519", verifier, bytes(signature), new Uint8Array(0)), true);
    assert.equal(await subtle.verify("Ed25519", verifier, bytes(signature), new Uint8Array(1)), false);
    assert.equal(hex((await subtle.exportKey("raw", verifier)) as ArrayBuffer), publicKey);
  });

  it("interoperates with Node both ways", async () => {
    const pair = (await subtle.generateKey("Ed25519", true, ["sign", "verify"])) as Pair;
    const nodePublic = await node.importKey("spki", (await subtle.exportKey("spki", pair.publicKey)) as ArrayBuffer, "Ed25519", false, ["verify"]);
    assert.equal(await node.verify("Ed25519", nodePublic, await subtle.sign("Ed25519", pair.privateKey, text("hi")), text("hi")), true);
    const nodePair = (await node.generateKey("Ed25519", true, ["sign", "verify"])) as webcrypto.CryptoKeyPair;
    const ours = await subtle.importKey("pkcs8", await node.exportKey("pkcs8", nodePair.privateKey), "Ed25519", false, ["sign"]);
    assert.equal(await node.verify("Ed25519", nodePair.publicKey, await subtle.sign("Ed25519", ours, text("yo")), text("yo")), true);
    await rejectsWith(subtle.importKey("raw", new Uint8Array(32), "Ed25519", true, ["sign"]), "SyntaxError");
    await rejectsWith(subtle.importKey("raw", new Uint8Array(31), "Ed25519", true, ["verify"]), "DataError");
  });
});

describe("RSA", () => {
  let nodePair: webcrypto.CryptoKeyPair;
  const rsa = async (name: string, hash = "SHA-256") => {
    nodePair ??= (await node.generateKey({ name: "RSA-PSS", modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash }, true, ["sign", "verify"])) as webcrypto.CryptoKeyPair;
    const pkcs8 = await node.exportKey("pkcs8", nodePair.privateKey);
    const spki = await node.exportKey("spki", nodePair.publicKey);
    const usages = name === "RSA-OAEP" ? (["decrypt"] as const) : (["sign"] as const);
    const privateKey = await subtle.importKey("pkcs8", pkcs8, { name, hash }, true, [...usages]);
    const publicKey = await subtle.importKey("spki", spki, { name, hash }, true, [name === "RSA-OAEP" ? "encrypt" : "verify"]);
    const nodePrivate = await node.importKey("pkcs8", pkcs8, { name, hash }, true, [...usages]);
    const nodePublic = await node.importKey("spki", spki, { name, hash }, true, [name === "RSA-OAEP" ? "encrypt" : "verify"]);
    return { privateKey, publicKey, nodePrivate, nodePublic };
  };

  it("describes keys with plain copies (publicExponent bytes, hash by name)", async () => {
    const { publicKey } = await rsa("RSASSA-PKCS1-v1_5");
    const algorithm = publicKey.algorithm as Record<string, unknown>;
    assert.deepEqual(algorithm, { name: "RSASSA-PKCS1-v1_5", modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: { name: "SHA-256" } });
    assert.ok(algorithm.publicExponent instanceof Uint8Array);
    assert.equal(publicKey.algorithm, publicKey.algorithm);
  });

  it("RSASSA-PKCS1-v1_5 and RSA-PSS interoperate with Node both ways", async () => {
    for (const [name, params] of [["RSASSA-PKCS1-v1_5", { name: "RSASSA-PKCS1-v1_5" }], ["RSA-PSS", { name: "RSA-PSS", saltLength: 32 }]] as const) {
      const { privateKey, publicKey, nodePrivate, nodePublic } = await rsa(name);
      assert.equal(await node.verify(params, nodePublic, await subtle.sign(params, privateKey, text("m")), text("m")), true, name);
      assert.equal(await subtle.verify(params, publicKey, await node.sign(params, nodePrivate, text("n")), text("n")), true, name);
      assert.equal(await subtle.verify(params, publicKey, await node.sign(params, nodePrivate, text("n")), text("N")), false, name);
    }
    const { privateKey } = await rsa("RSA-PSS");
    await rejectsWith(subtle.sign({ name: "RSA-PSS" }, privateKey, text("m")), "TypeError");
  });

  it("RSA-OAEP encrypts for Node and decrypts Node's ciphertext; jwk round-trips", async () => {
    const { privateKey, publicKey, nodePrivate, nodePublic } = await rsa("RSA-OAEP");
    const label = text("label");
    assert.equal(Buffer.from(await node.decrypt({ name: "RSA-OAEP", label }, nodePrivate, await subtle.encrypt({ name: "RSA-OAEP", label }, publicKey, text("s")))).toString(), "s");
    assert.equal(Buffer.from(await subtle.decrypt({ name: "RSA-OAEP" }, privateKey, await node.encrypt({ name: "RSA-OAEP" }, nodePublic, text("t")))).toString(), "t");
    const jwk = (await subtle.exportKey("jwk", privateKey)) as Record<string, unknown>;
    assert.equal(jwk.alg, "RSA-OAEP-256");
    const again = await subtle.importKey("jwk", jwk, { name: "RSA-OAEP", hash: "SHA-256" }, true, ["decrypt"]);
    assert.equal(hex((await subtle.exportKey("pkcs8", again)) as ArrayBuffer), hex((await subtle.exportKey("pkcs8", privateKey)) as ArrayBuffer));
    await rejectsWith(subtle.importKey("jwk", { ...jwk, oth: [{ r: "AQ", d: "AQ", t: "AQ" }] }, { name: "RSA-OAEP", hash: "SHA-256" }, true, ["decrypt"]), "NotSupportedError");
  });

  it("generates keys up to 4096 bits with exponent 3 or 65537", async () => {
    const pair = (await subtle.generateKey({ name: "RSASSA-PKCS1-v1_5", modulusLength: 1024, publicExponent: new Uint8Array([1, 0, 1]), hash: "SHA-256" }, false, ["sign", "verify"])) as Pair;
    assert.equal((pair.privateKey.algorithm as { modulusLength: number }).modulusLength, 1024);
    const params = { name: "RSA-PSS", modulusLength: 8192, publicExponent: new Uint8Array([1, 0, 1]), hash: "SHA-256" };
    await rejectsWith(subtle.generateKey(params, true, ["sign"]), "OperationError");
    await rejectsWith(subtle.generateKey({ ...params, modulusLength: 1024, publicExponent: new Uint8Array([5]) }, true, ["sign"]), "OperationError");
    await rejectsWith(subtle.generateKey({ ...params, publicExponent: [1, 0, 1] }, true, ["sign"]), "TypeError");
  });
});

describe("key derivation", () => {
  it("PBKDF2 and HKDF deriveBits match Node", async () => {
    const pbkdf2 = { name: "PBKDF2", hash: "SHA-256", salt: text("salt"), iterations: 1000 };
    const ours = await subtle.importKey("raw", text("password"), "PBKDF2", false, ["deriveBits", "deriveKey"]);
    const theirs = await node.importKey("raw", text("password"), "PBKDF2", false, ["deriveBits"]);
    assert.equal(hex(await subtle.deriveBits(pbkdf2, ours, 256)), hex(await node.deriveBits(pbkdf2, theirs, 256)));
    const hkdf = { name: "HKDF", hash: "SHA-512", salt: text("s"), info: text("i") };
    const oursH = await subtle.importKey("raw", text("ikm"), "HKDF", false, ["deriveBits"]);
    const theirsH = await node.importKey("raw", text("ikm"), "HKDF", false, ["deriveBits"]);
    assert.equal(hex(await subtle.deriveBits(hkdf, oursH, 384)), hex(await node.deriveBits(hkdf, theirsH, 384)));
    await rejectsWith(subtle.deriveBits({ ...pbkdf2, iterations: 100_001 }, ours, 256), "NotSupportedError");
    await rejectsWith(subtle.deriveBits({ ...pbkdf2, iterations: 100_000 }, ours, 8192), "NotSupportedError");
    await rejectsWith(subtle.deriveBits(pbkdf2, ours, null), "OperationError");
    await rejectsWith(subtle.deriveBits(hkdf, ours, 256), "InvalidAccessError");
  });

  it("deriveKey makes usable keys", async () => {
    const base = await subtle.importKey("raw", text("password"), "PBKDF2", false, ["deriveKey"]);
    const key = await subtle.deriveKey({ name: "PBKDF2", hash: "SHA-256", salt: text("salt"), iterations: 10 }, base, { name: "AES-GCM", length: 128 }, true, ["encrypt"]);
    assert.deepEqual(key.algorithm, { name: "AES-GCM", length: 128 });
    const nodeBase = await node.importKey("raw", text("password"), "PBKDF2", false, ["deriveBits"]);
    const expected = await node.deriveBits({ name: "PBKDF2", hash: "SHA-256", salt: text("salt"), iterations: 10 }, nodeBase, 128);
    assert.equal(hex((await subtle.exportKey("raw", key)) as ArrayBuffer), hex(expected));
    await rejectsWith(subtle.deriveKey({ name: "PBKDF2", hash: "SHA-256", salt: text("salt"), iterations: 10 }, base, { name: "AES-GCM" }, true, ["encrypt"]), "TypeError");
    await rejectsWith(subtle.deriveKey({ name: "PBKDF2", hash: "SHA-256", salt: text("salt"), iterations: 10 }, base, { name: "ECDSA", namedCurve: "P-256" }, true, ["sign"]), "NotSupportedError");
  });

  it("ECDH and X25519 agree with Node", async () => {
    const pairs: [string, webcrypto.EcKeyGenParams | webcrypto.Algorithm][] = [["ECDH", { name: "ECDH", namedCurve: "P-384" }], ["X25519", { name: "X25519" }]];
    for (const [algorithm, pairParams] of pairs) {
      const ours = (await subtle.generateKey(pairParams, true, ["deriveBits"])) as Pair;
      const theirs = (await node.generateKey(pairParams, true, ["deriveBits"])) as webcrypto.CryptoKeyPair;
      const theirPublic = await subtle.importKey("raw", await node.exportKey("raw", theirs.publicKey), pairParams, true, []);
      const ourPublic = await node.importKey("raw", (await subtle.exportKey("raw", ours.publicKey)) as ArrayBuffer, pairParams, true, []);
      const bits = await subtle.deriveBits({ name: algorithm, public: theirPublic }, ours.privateKey, null);
      assert.equal(hex(bits), hex(await node.deriveBits({ name: algorithm, public: ourPublic }, theirs.privateKey, null)), algorithm);
      await rejectsWith(subtle.deriveBits({ name: algorithm, public: ours.privateKey }, ours.privateKey, null), "InvalidAccessError");
      await rejectsWith(subtle.deriveBits({ name: algorithm, public: { type: "public" } }, ours.privateKey, null), "TypeError");
    }
  });
});

describe("wrapKey and unwrapKey", () => {
  it("AES-KW wraps raw keys; AES-GCM wraps jwk", async () => {
    const kw = (await subtle.generateKey({ name: "AES-KW", length: 128 }, false, ["wrapKey", "unwrapKey"])) as Key;
    const secret = await subtle.importKey("raw", new Uint8Array(16).fill(7), "AES-GCM", true, ["encrypt"]);
    const wrapped = await subtle.wrapKey("raw", secret, kw, "AES-KW");
    assert.equal(wrapped.byteLength, 24);
    const unwrapped = await subtle.unwrapKey("raw", wrapped, kw, "AES-KW", "AES-GCM", true, ["encrypt"]);
    assert.equal(hex((await subtle.exportKey("raw", unwrapped)) as ArrayBuffer), "07".repeat(16));

    const gcm = (await subtle.generateKey({ name: "AES-GCM", length: 256 }, false, ["wrapKey", "unwrapKey"])) as Key;
    const hmac = await subtle.importKey("raw", new Uint8Array(32).fill(1), { name: "HMAC", hash: "SHA-256" }, true, ["sign"]);
    const params = { name: "AES-GCM", iv: new Uint8Array(12) };
    const sealed = await subtle.wrapKey("jwk", hmac, gcm, params);
    const back = await subtle.unwrapKey("jwk", sealed, gcm, params, { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
    assert.equal(hex(await subtle.sign("HMAC", back, text("x"))), hex(await subtle.sign("HMAC", hmac, text("x"))));

    const locked = await subtle.importKey("raw", new Uint8Array(16), "AES-GCM", false, ["encrypt"]);
    await rejectsWith(subtle.wrapKey("raw", locked, kw, "AES-KW"), "InvalidAccessError");
    await rejectsWith(subtle.wrapKey("raw", secret, kw, { name: "AES-CBC", iv: new Uint8Array(16) }), "InvalidAccessError");
    await rejectsWith(subtle.wrapKey("raw", secret, kw, "AES-CBC"), "TypeError");
  });
});

describe("CryptoKey", () => {
  it("cannot be constructed or forged, and hides its handle", async () => {
    throwsWith(() => new (CryptoKey as unknown as new () => unknown)(), "TypeError");
    const key = await subtle.importKey("raw", new Uint8Array(16), "AES-GCM", true, ["encrypt"]);
    assert.deepEqual(Reflect.ownKeys(key), []);
    assert.equal(Object.prototype.toString.call(key), "[object CryptoKey]");
    assert.deepEqual(Object.keys(Object.getPrototypeOf(key)), ["type", "extractable", "algorithm", "usages"]);
    const forged = Object.create(CryptoKey.prototype);
    throwsWith(() => forged.type, "TypeError");
    await rejectsWith(subtle.encrypt({ name: "AES-GCM", iv: new Uint8Array(12) }, forged, new Uint8Array(1)), "TypeError");
    const lookalike = { type: "secret", extractable: true, algorithm: { name: "AES-GCM", length: 128 }, usages: ["encrypt"] };
    await rejectsWith(subtle.exportKey("raw", lookalike), "TypeError");
  });

  it("keeps its own usages when the exposed copies are changed", async () => {
    const key = await subtle.importKey("raw", new Uint8Array(16), "AES-GCM", false, ["decrypt", "encrypt", "decrypt"]);
    // Deduplicated in the order the running Node gives (Node 24: the spec's order, encrypt first).
    const nodeKey = await globalThis.crypto.subtle.importKey("raw", new Uint8Array(16), "AES-GCM", false, ["decrypt", "encrypt", "decrypt"]);
    assert.deepEqual(key.usages, nodeKey.usages);
    assert.deepEqual([...key.usages].sort(), ["decrypt", "encrypt"]);
    key.usages.push("sign");
    (key.algorithm as { name: string }).name = "HMAC";
    await rejectsWith(subtle.sign("HMAC", key, new Uint8Array(1)), "InvalidAccessError");
    await rejectsWith(subtle.exportKey("raw", key), "InvalidAccessError");
  });

  it("rejects bad formats and usages as Web IDL does", async () => {
    await rejectsWith(subtle.importKey("foo", new Uint8Array(16), "AES-GCM", true, ["encrypt"]), "TypeError");
    await rejectsWith(subtle.importKey("raw", new Uint8Array(16), "AES-GCM", true, ["bogus"]), "TypeError");
    await rejectsWith(subtle.importKey("raw", new Uint8Array(16), "AES-GCM", true, "encrypt" as unknown as string[]), "TypeError");
    await rejectsWith(subtle.importKey("jwk", new Uint8Array(16), "AES-GCM", true, ["encrypt"]), "TypeError");
    await rejectsWith(subtle.importKey("raw", { kty: "oct" }, "AES-GCM", true, ["encrypt"]), "TypeError");
    await rejectsWith(subtle.importKey("raw", new Uint8Array(16), "AES-XYZ", true, ["encrypt"]), "NotSupportedError");
  });
});

describe("limits", () => {
  it("refuses inputs above 64 MiB", async () => {
    await rejectsWith(subtle.digest("SHA-256", new Uint8Array(64 * 1024 * 1024 + 1)), "OperationError");
  });

  it("refuses more than 64 operations in flight, then recovers", async () => {
    const results = await Promise.allSettled(Array.from({ length: 80 }, () => subtle.digest("SHA-256", new Uint8Array(1024))));
    const refused = results.filter((r) => r.status === "rejected");
    assert.equal(results.length - refused.length, 64);
    for (const r of refused) assert.equal((r as PromiseRejectedResult).reason.name, "OperationError");
    assert.equal((await subtle.digest("SHA-1", new Uint8Array(0))).byteLength, 20);
  });

  it("timingSafeEqual compares equal-length buffers", () => {
    assert.equal(subtle.timingSafeEqual(text("abc"), text("abc")), true);
    assert.equal(subtle.timingSafeEqual(text("abc"), text("abd")), false);
    throwsWith(() => subtle.timingSafeEqual(text("abc"), text("ab")), "TypeError");
  });
});

describe("host service", () => {
  const NodeCryptoKey = (globalThis as unknown as { CryptoKey: abstract new () => webcrypto.CryptoKey }).CryptoKey;
  const isKey = (value: unknown): value is webcrypto.CryptoKey => value instanceof NodeCryptoKey;

  it("keeps keys per sandbox state and releases only keys", async () => {
    const state = new ServiceState();
    const other = new ServiceState();
    const params = { name: "HMAC", hash: { name: "SHA-256" } };
    const { handle } = (await cryptoAsyncServices["crypto.importKey"](state, ["raw", new Uint8Array(16), params, false, ["sign"]])) as { handle: number };
    assert.ok(isKey(state.lookup(handle, isKey, "key")));
    await assert.rejects(cryptoAsyncServices["crypto.sign"](other, [{ name: "HMAC" }, handle, new Uint8Array(1)]), /Invalid CryptoKey/);
    const notAKey = state.store({});
    cryptoServices["crypto.release"](state, [[handle, notAKey, "x", 1e9]]);
    assert.throws(() => state.lookup(handle, isKey, "key"), TypeError);
    assert.deepEqual(state.lookup(notAKey, (v): v is object => typeof v === "object", "object"), {});
  });

  it("charges key material to a per-sandbox budget of 64 MiB, refunded on release", async () => {
    const state = new ServiceState();
    const params = { name: "HMAC", hash: { name: "SHA-256" } };
    const importKey = () => cryptoAsyncServices["crypto.importKey"](state, ["raw", new Uint8Array(16 * 1024 * 1024), params, false, ["sign"]]) as Promise<{ handle: number }>;
    const keys = [await importKey(), await importKey(), await importKey()];
    await assert.rejects(importKey(), (e: Error) => e.name === "OperationError" && /key material/.test(e.message));
    await assert.rejects(cryptoAsyncServices["crypto.generateKey"](state, [{ ...params, length: 2 ** 31 - 8 }, false, ["sign"]]), { name: "OperationError" });
    cryptoServices["crypto.release"](state, [[keys[0].handle]]);
    assert.equal(typeof (await importKey()).handle, "number");
  });

  it("charges every key at least 8 KiB (an imported P-521 key holds about 7.5 KB of the host's memory), so at most 8,192 are kept", async () => {
    const state = new ServiceState();
    const params = { name: "HMAC", hash: { name: "SHA-256" } };
    let kept = 0;
    for (;;) {
      try {
        await cryptoAsyncServices["crypto.importKey"](state, ["raw", new Uint8Array(16), params, false, ["sign"]]);
        kept++;
      } catch (error) {
        assert.equal((error as Error).name, "OperationError");
        break;
      }
      assert.ok(kept <= 8_192, "more than 8,192 keys were kept");
    }
    assert.ok(kept > 8_000, `only ${kept} small keys fit`);
  });

  it("rebuilds parameters from known members only", async () => {
    const state = new ServiceState();
    await assert.rejects(cryptoAsyncServices["crypto.digest"](state, [{ name: "SHA-256" }, "abc"]), TypeError);
    await assert.rejects(cryptoAsyncServices["crypto.importKey"](state, ["raw", new Uint8Array(16), { name: "AES-GCM" }, "yes", ["encrypt"]]), TypeError);
    await assert.rejects(cryptoAsyncServices["crypto.importKey"](state, ["raw", new Uint8Array(16), { name: "AES-GCM" }, true, ["encrypt", "toString"]]), TypeError);
    await assert.rejects(cryptoAsyncServices["crypto.encrypt"](state, [{ name: "AES-GCM", iv: [1, 2] }, 1, new Uint8Array(1)]), TypeError);
  });
});

describe("getRandomValues and randomUUID", () => {
  it("fills integer arrays up to 65536 bytes", () => {
    const array = new Uint32Array(16384);
    assert.equal(crypto.getRandomValues(array), array);
    assert.ok(array.some((n) => n !== 0));
    const offset = new Uint8Array(64);
    crypto.getRandomValues(offset.subarray(32));
    assert.ok(offset.subarray(0, 32).every((n) => n === 0));
    for (const Type of [Int8Array, Uint8ClampedArray, Int16Array, BigInt64Array, BigUint64Array]) crypto.getRandomValues(new Type(8));
    assert.equal(crypto.getRandomValues(new Uint8Array(0)).length, 0);
  });

  it("throws QuotaExceededError, TypeMismatchError and TypeError as browsers do", () => {
    const DOMException = events().DOMException;
    assert.throws(() => crypto.getRandomValues(new Uint8Array(65537)), (e: Error) => e instanceof DOMException && e.name === "QuotaExceededError");
    for (const view of [new Float32Array(4), new Float64Array(1), new DataView(new ArrayBuffer(4))]) {
      assert.throws(() => crypto.getRandomValues(view), (e: Error) => e instanceof DOMException && e.name === "TypeMismatchError");
    }
    throwsWith(() => crypto.getRandomValues(new ArrayBuffer(4) as unknown as Uint8Array), "TypeError");
    throwsWith(() => crypto.getRandomValues([1, 2] as unknown as Uint8Array), "TypeError");
    throwsWith(() => (crypto.getRandomValues as () => unknown)(), "TypeError");
    throwsWith(() => Crypto.prototype.getRandomValues.call({}, new Uint8Array(1)), "TypeError");
  });

  it("randomUUID returns distinct version 4 UUIDs", () => {
    const seen = new Set<string>();
    for (let i = 0; i < 100; i++) {
      const uuid = crypto.randomUUID();
      assert.match(uuid, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      seen.add(uuid);
    }
    assert.equal(seen.size, 100);
  });

  it("Crypto and SubtleCrypto are not constructible; crypto.subtle is one object", () => {
    throwsWith(() => new (Crypto as unknown as new () => unknown)(), "TypeError");
    throwsWith(() => new (SubtleCrypto as unknown as new () => unknown)(), "TypeError");
    assert.equal(crypto.subtle, crypto.subtle);
    assert.ok(crypto.subtle instanceof SubtleCrypto);
    assert.equal(Object.prototype.toString.call(crypto), "[object Crypto]");
  });
});
