import { test } from "node:test";
import assert from "node:assert/strict";
import { z } from "zod";
import { CodeModeError, execute, fromFunctions, generateApi, toProviders, ToolInputError, DEFAULT_NAMESPACE } from "islet/codemode";

const weather = fromFunctions(
  "weather",
  {
    forecast: {
      description: "Forecast for a city",
      inputSchema: z.object({ city: z.string().describe("City name"), days: z.number().int().min(1).max(7).default(3), unit: z.enum(["C", "F"]).optional() }),
      outputSchema: z.object({ city: z.string(), temperatures: z.array(z.number()) }),
      execute: (input: { city: string; days: number }) => ({ city: input.city, temperatures: Array.from({ length: input.days }, (_, i) => 20 + i) }),
    },
    stations: {
      description: "Weather stations",
      inputSchema: { type: "object", properties: { near: { type: "string" } } },
      execute: (input: { near?: string }) => [`${input.near ?? "anywhere"}-1`],
    },
  },
  { description: "Weather data" },
);

test("zod schemas become JSON Schema for the types", () => {
  const api = generateApi([weather]);
  assert.equal(
    api.text,
    `/** Weather data */
declare const weather: {
 /** Forecast for a city */
 forecast(input: {
  /** City name */ city: string;
  /** @default 3 @minimum 1 @maximum 7 */ days?: number;
  unit?: "C" | "F";
 }): Promise<{ city: string; temperatures: number[] }>;
 /** Weather stations */
 stations(input?: { near?: string }): Promise<unknown>;
};
`,
  );
});

test("a zod input schema validates calls (defaults applied); a bad call is a ToolInputError in the sandbox", async () => {
  assert.deepEqual(await weather.call("forecast", { city: "Oslo" }), { city: "Oslo", temperatures: [20, 21, 22] });
  await assert.rejects(weather.call("forecast", { city: 1 }), (e: unknown) => e instanceof ToolInputError && /Invalid input for weather\.forecast:\n.*expected string/s.test(e.message));
  const out = await execute(
    `async () => {
      const ok = await weather.forecast({ city: "Rome", days: 2 });
      let bad;
      try { await weather.forecast({ city: "Rome", days: 99 }); } catch (e) { bad = e.name; }
      return { ok, bad, stations: await weather.stations({ near: "Rome" }) };
    }`,
    [weather],
  );
  assert.deepEqual(out.result, { ok: { city: "Rome", temperatures: [20, 21] }, bad: "ToolInputError", stations: ["Rome-1"] });
});

test("fromFunctions refuses malformed tools with CodeModeError", () => {
  assert.throws(() => fromFunctions("", {}), CodeModeError);
  assert.throws(() => fromFunctions("x", { a: {} as never }), /tool "a" needs an execute function/);
  assert.throws(() => fromFunctions("x", null as never), CodeModeError);
});

test("plain functions: namespaces of functions, or flat functions in the codemode namespace", async () => {
  const providers = toProviders({ add: (i: { a: number; b: number }) => i.a + i.b, math: { neg: (i: { n: number }) => -i.n } });
  assert.deepEqual(providers.map((p) => [p.namespace, p.tools.map((t) => t.name)]), [[DEFAULT_NAMESPACE, ["add"]], ["math", ["neg"]]]);
  assert.equal(await providers[0].call("add", { a: 1, b: 2 }), 3);
  assert.throws(() => toProviders({ bad: 3 } as never), /"bad" must be a function or an object of functions/);
  assert.throws(() => toProviders([{ namespace: "x" }] as never), /not a ToolProvider/);
  // Two sources that sanitise to one namespace are the host's error, thrown by execute.
  await assert.rejects(execute("1", [fromFunctions("a-b", {}), fromFunctions("a_b", {})]), /NamespaceCollisionError|both become the identifier "a_b"/);
});

test("outputSchema types a tool's result in the API; what execute returns is not checked against it; execute reports the limits it ran under", async () => {
  const loose = fromFunctions("loose", { count: { inputSchema: z.object({}), outputSchema: z.object({ n: z.number() }), execute: () => ({ n: "not a number" }) } });
  assert.match(generateApi([loose]).text, /count\(\): Promise<\{ n: number \}>;/);
  const out = await execute("async () => await loose.count({})", [loose], { limits: { cpuMs: 400 } });
  assert.equal(out.error, undefined);
  assert.deepEqual(out.result, { n: "not a number" });
  assert.deepEqual(out.limits, { cpuMs: 400, memoryMb: 128, wallMs: 30_000, subRequests: 1_000 });
});
