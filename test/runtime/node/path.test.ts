// Differential tests: node:path against Node's path.posix. The sandbox's working directory is
// "/", so Node's results are computed as if from "/" (resolving against "/" first).

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { posix } from "node:path";
import { nodeModule, outcome } from "./compat.ts";

const ours = nodeModule("path") as typeof posix;

const paths = ["", ".", "..", "/", "//", "///a//b", "a", "a/", "/a/b/c", "/a/b/c/", "a/b/../c", "../../a", "/../a", "./a/./b/.", "a/b/c/../../..", "a/b/c/../../../..", "/a/b/../../..", "foo.txt", ".bashrc", "a/.b.c", "file.tar.gz", "/dir.d/", "..a", "a..", "a/..", "/a/b.c/d", ".", "...", "a/b/c.d/", "//server/share"];

describe("node:path (POSIX)", () => {
  it("normalize, isAbsolute, dirname, basename and extname agree with Node", () => {
    for (const path of paths) {
      for (const fn of ["normalize", "isAbsolute", "dirname", "basename", "extname", "parse", "toNamespacedPath"] as const) {
        assert.deepEqual(outcome(() => (ours[fn] as (p: string) => unknown)(path)), outcome(() => (posix[fn] as (p: string) => unknown)(path)), `${fn}(${JSON.stringify(path)})`);
      }
      for (const suffix of [".txt", ".gz", "c", "", "file.tar.gz", "/"]) {
        assert.equal(ours.basename(path, suffix), posix.basename(path, suffix), `basename(${JSON.stringify(path)}, ${JSON.stringify(suffix)})`);
      }
    }
  });

  it("join, resolve and relative agree with Node", () => {
    for (const a of paths) {
      for (const b of paths) {
        assert.equal(ours.join(a, b), posix.join(a, b), `join(${JSON.stringify(a)}, ${JSON.stringify(b)})`);
        assert.equal(ours.resolve(a, b), posix.resolve("/", a, b), `resolve(${JSON.stringify(a)}, ${JSON.stringify(b)})`);
        assert.equal(ours.relative(a, b), posix.relative(posix.resolve("/", a), posix.resolve("/", b)), `relative(${JSON.stringify(a)}, ${JSON.stringify(b)})`);
      }
    }
    assert.equal(ours.join(), ".");
    assert.equal(ours.resolve(), "/");
  });

  it("format round-trips parse and handles partial objects as Node does", () => {
    for (const path of paths) assert.equal(ours.format(ours.parse(path)), posix.format(posix.parse(path)), JSON.stringify(path));
    for (const object of [{ name: "a", ext: "txt" }, { root: "/", base: "x" }, { dir: "/a", name: "b", ext: ".c" }, { root: "/", dir: "/", base: "f" }, {}]) {
      assert.equal(ours.format(object), posix.format(object), JSON.stringify(object));
    }
  });

  it("rejects non-strings with Node's errors", () => {
    for (const call of [() => ours.join("a", 1 as unknown as string), () => ours.basename(null as unknown as string), () => ours.resolve({} as unknown as string), () => ours.format(null as unknown as object)]) {
      assert.throws(call, { name: "TypeError", code: "ERR_INVALID_ARG_TYPE" });
    }
    assert.deepEqual(outcome(() => ours.relative(1 as unknown as string, "a")), outcome(() => posix.relative(1 as unknown as string, "a")));
    assert.deepEqual(outcome(() => ours.extname(undefined as unknown as string)), outcome(() => posix.extname(undefined as unknown as string)));
  });

  it("has the POSIX constants, and path/posix is the same module", () => {
    assert.equal(ours.sep, "/");
    assert.equal(ours.delimiter, ":");
    assert.equal(ours.posix, ours);
    assert.equal(nodeModule("path/posix"), ours);
  });
});
