// Differential tests: node:url's file-URL conversion, domain helpers, format and
// urlToHttpOptions against Node's (POSIX), and the sandbox's process object.

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import * as nodeUrl from "node:url";
import { nodeModule, outcome } from "./compat.ts";
import { setProcessEnv } from "../../../src/runtime/node/process.ts";

const ours = nodeModule("url") as typeof nodeUrl;
const OurURL = ours.URL as unknown as typeof URL;

/** URLs compared by href: the two URL classes are different objects. */
function hrefOf(run: () => unknown) {
  const result = outcome(run);
  return "value" in result && result.value instanceof Object ? { href: (result.value as URL).href } : result;
}

describe("node:url", () => {
  it("fileURLToPath and pathToFileURL agree with Node on POSIX paths", () => {
    for (const input of ["file:///a/b", "file:///a/b%20c", "file:///x%2Fy", "file:///x%2fy", "file://host/a", "file://localhost/etc", "http://a/b", "file:///%E2%82%AC/"]) {
      assert.deepEqual(outcome(() => ours.fileURLToPath(input)), outcome(() => nodeUrl.fileURLToPath(input)), input);
      assert.deepEqual(outcome(() => ours.fileURLToPath(new OurURL(input))), outcome(() => nodeUrl.fileURLToPath(new URL(input))), `URL ${input}`);
    }
    assert.deepEqual(outcome(() => ours.fileURLToPath(5 as unknown as string)), outcome(() => nodeUrl.fileURLToPath(5 as unknown as string)));
    for (const path of ["/a/b", "/a/b/", "/x y#?", "/100%", "/a\\b", "/tab\there", "/€"]) {
      assert.deepEqual(hrefOf(() => ours.pathToFileURL(path)), hrefOf(() => nodeUrl.pathToFileURL(path)), path);
    }
    assert.equal(ours.pathToFileURL("rel/file").href, "file:///rel/file");
  });

  it("domainToASCII and domainToUnicode agree with Node", () => {
    for (const domain of ["example.com", "español.com", "xn--espaol-zwa.com", "münchen.de", "EXAMPLE.com", "a..b", "xn--", "bad domain", "", "中文.中国", "ab--c.com", "[::1]", "127.0.0.1",
      "xn--a", "xn--a.com", "xn--zz-", "a.xn--", "xn--ls8h", "xn--espaol-zwa.xn--", "Ab.xn--Espaol-zwa.Com", "xn--1ug", "ß.de", "xn--zca.de", "xn--a-ecp.ru", "xn--ab", "xn--d1acpjx3f.xn--p1ai", "0x7f.1"]) {
      assert.equal(ours.domainToASCII(domain), nodeUrl.domainToASCII(domain), `ASCII ${domain}`);
      assert.equal(ours.domainToUnicode(domain), nodeUrl.domainToUnicode(domain), `Unicode ${domain}`);
    }
  });

  it("format of URL objects and urlToHttpOptions agree with Node", () => {
    const href = "https://user:pass@xn--espaol-zwa.com:8080/p/a?q=1#frag";
    for (const options of [undefined, { auth: false }, { fragment: false }, { search: false }, { unicode: true }, { unicode: true, auth: false, search: false, fragment: false }]) {
      assert.equal(ours.format(new OurURL(href), options), nodeUrl.format(new URL(href), options), JSON.stringify(options));
    }
    for (const input of ["https://a%20b:c@[::1]:99/x?y#z", "http://example.com/", "https://ex.com"]) {
      assert.deepEqual({ ...ours.urlToHttpOptions(new OurURL(input)) }, { ...nodeUrl.urlToHttpOptions(new URL(input)) }, input);
    }
    assert.throws(() => ours.format("http://legacy" as unknown as URL), { code: "ERR_INVALID_ARG_TYPE" });
  });

  it("exposes the url chunk's URL and URLSearchParams", () => {
    assert.equal(new OurURL("https://a.example/b?c=1").searchParams.get("c"), "1");
    assert.equal(typeof ours.URLSearchParams, "function");
  });
});

describe("process", () => {
  const process = nodeModule("process") as NodeJS.Process;

  it("has env from the worker's strings, a fixed cwd and Node-like identity", () => {
    setProcessEnv({ A: "1", B: "two" });
    assert.deepEqual({ ...process.env }, { A: "1", B: "two" });
    assert.equal(process.cwd(), "/");
    assert.equal(process.platform, "linux");
    assert.match(process.version, /^v20\.\d+\.\d+$/);
    assert.equal(process.versions.node, process.version.slice(1));
    assert.deepEqual(process.argv, []);
    assert.equal(typeof process.on, "function");
  });

  it("nextTick runs callbacks with their arguments after the current code", async () => {
    const order: unknown[] = [];
    process.nextTick((a: unknown, b: unknown) => order.push([a, b]), 1, 2);
    order.push("sync");
    await new Promise((resolve) => setTimeout(resolve, 1));
    assert.deepEqual(order, ["sync", [1, 2]]);
    assert.throws(() => process.nextTick(5 as unknown as () => void), { code: "ERR_INVALID_ARG_TYPE" });
  });

  it("emitWarning emits a 'warning' event with Node's fields", async () => {
    const warnings: (Error & { code?: string; detail?: string })[] = [];
    process.removeAllListeners("warning");
    process.on("warning", (warning) => warnings.push(warning));
    process.emitWarning("careful", { type: "CustomWarning", code: "W1", detail: "more" });
    process.emitWarning("plain");
    process.emitWarning(new Error("as error"));
    assert.throws(() => process.emitWarning(5 as unknown as string), { code: "ERR_INVALID_ARG_TYPE" });
    await new Promise((resolve) => setTimeout(resolve, 1));
    assert.deepEqual(
      warnings.map((w) => [w.name, w.message, w.code, w.detail]),
      [["CustomWarning", "careful", "W1", "more"], ["Warning", "plain", undefined, undefined], ["Error", "as error", undefined, undefined]],
    );
  });
});
