// The flow README's "What the model sees" shows, checked word for word: search → lookup → a
// program refused by the type check → the corrected program's result.

import { test } from "node:test";
import assert from "node:assert/strict";
import { IsletMcp } from "../../src/codemode/mcp-server.ts";
import { demoProvider } from "../../src/codemode/demo.ts";

test("search, lookup, a checked program, its result: as README shows them", async () => {
  const mcp = await IsletMcp.create({ providers: [demoProvider()], typecheck: true });
  try {
    const text = async (name: string, code: string) => ((await mcp.callTool(name, { code })).content[0] as { text: string }).text;
    assert.equal(await text("search", `async () => find("cheap lamp price").map((t) => t.path + ": " + t.description)`), '["demo.searchProducts: Products whose name or tags contain the query, cheapest first"]');
    assert.equal(
      await text("search", `async () => declarations(["demo.searchProducts", "demo.convert"])`),
      [
        "declare const demo: {",
        " /** Products whose name or tags contain the query, cheapest first */",
        " searchProducts(input: { query: string; maxPrice?: number }): Promise<{ id: number; name: string; price: number; tags: string[] }[]>;",
        " /** Converts an amount between EUR, USD and JPY at fixed made-up rates */",
        ' convert(input: { amount: number; from: "EUR" | "USD" | "JPY"; to: "EUR" | "USD" | "JPY" }): Promise<number>;',
        "};",
      ].join("\n"),
    );
    assert.equal(
      await text("execute", `async () => { const lamps = await demo.searchProducts({ query: "lamp" }); return demo.convert({ amount: lamps[0].cost, from: "EUR", to: "USD" }); }`),
      "Error: TypeCheckError: the code does not fit the API's types; nothing ran.\n- line 1, column 114: Property 'cost' does not exist on type '{ id: number; name: string; price: number; tags: string[]; }'.",
    );
    assert.equal(
      await text("execute", `async () => { const lamps = await demo.searchProducts({ query: "lamp" }); return { name: lamps[0].name, usd: await demo.convert({ amount: lamps[0].price, from: "EUR", to: "USD" }) }; }`),
      '{"name":"Reading lamp","usd":21.89}',
    );
  } finally {
    await mcp.close();
  }
});
