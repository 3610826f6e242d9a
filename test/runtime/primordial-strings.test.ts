// The runtime's split/replace/replaceAll for string patterns (src/runtime/primordials.ts) are its
// own loops over indexOf and slice, so they consult no Symbol.split/Symbol.replace user code put on
// Object.prototype: here they are compared with V8's own on the cases the spec sets apart (empty
// patterns and inputs, limits, `$` substitutions, overlapping and adjacent matches).

import { test } from "node:test";
import assert from "node:assert/strict";
import { finishPrimordials, primordials } from "../../src/runtime/primordials.ts";

finishPrimordials();
const { StringPrototypeSplit, StringPrototypeReplace, StringPrototypeReplaceAll } = primordials;

const inputs = ["", "a", "a&b&&c&", "&&", "aaaa", "x😀y😀", "one\ntwo\n", "$a$"];
const patterns = ["", "&", "&&", "a", "aa", "😀", "\n", "$", "zz"];
const replacements = ["-", "", "[$&]", "$$", "$`|$'", "$1", "$<x>", "$", "$0"];

test("split with a string separator answers as V8's, with and without a limit", () => {
  for (const input of inputs) {
    for (const pattern of patterns) {
      assert.deepEqual(StringPrototypeSplit(input, pattern), input.split(pattern), `${JSON.stringify(input)}.split(${JSON.stringify(pattern)})`);
      for (const limit of [0, 1, 2, 10, -1, 2 ** 32 + 1]) {
        assert.deepEqual(StringPrototypeSplit(input, pattern, limit), input.split(pattern, limit), `${JSON.stringify(input)}.split(${JSON.stringify(pattern)}, ${limit})`);
      }
    }
  }
});

test("replace and replaceAll with a string pattern answer as V8's, $ substitutions included", () => {
  for (const input of inputs) {
    for (const pattern of patterns) {
      for (const replacement of replacements) {
        const what = `${JSON.stringify(input)}, ${JSON.stringify(pattern)}, ${JSON.stringify(replacement)}`;
        assert.equal(StringPrototypeReplace(input, pattern, replacement), input.replace(pattern, replacement), `replace(${what})`);
        assert.equal(StringPrototypeReplaceAll(input, pattern, replacement), input.replaceAll(pattern, replacement), `replaceAll(${what})`);
      }
    }
  }
});

test("none of them consults a Symbol.split or Symbol.replace on Object.prototype", () => {
  const called: string[] = [];
  const proto = Object.prototype as Record<symbol, unknown>;
  proto[Symbol.split] = () => (called.push("split"), ["hooked"]);
  proto[Symbol.replace] = () => (called.push("replace"), "hooked");
  try {
    // V8 13 (Node 24) looks the hook up on a primitive separator; V8 14 (Node 26) no longer does.
    const v8Consults = "a&b".split("&")[0] === "hooked";
    called.length = 0;
    assert.deepEqual(StringPrototypeSplit("a&b", "&"), ["a", "b"]);
    assert.equal(StringPrototypeReplace("a/b", "/", "-"), "a-b");
    assert.equal(StringPrototypeReplaceAll("a/b/c", "/", "-"), "a-b-c");
    assert.deepEqual(called, [], `the runtime's own consulted a hook (V8's own does${v8Consults ? "" : " not"})`);
  } finally {
    delete proto[Symbol.split];
    delete proto[Symbol.replace];
  }
});
