// The digests node:crypto offers in the sandbox: one list, read by the sandbox's createHash and by
// the host service that computes them (src/engine/services/node-crypto.ts).

export const NODE_HASHES: readonly string[] = [
  "blake2b512",
  "blake2s256",
  "md5",
  "ripemd160",
  "sha1",
  "sha224",
  "sha256",
  "sha3-224",
  "sha3-256",
  "sha3-384",
  "sha3-512",
  "sha384",
  "sha512",
  "sha512-224",
  "sha512-256",
];
