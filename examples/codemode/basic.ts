// Code Mode: the model sees a typed API, writes one program against it, and islet runs that program
// in a fresh sandbox whose only capabilities are these tools.
import { z } from "zod";
import { execute, fromFunctions, generateApi } from "islet/codemode";

const lamps = [{ id: "l1", name: "Desk lamp", price: 30 }, { id: "l2", name: "Floor lamp", price: 80 }];
const shop = fromFunctions("shop", {
  search: { description: "Products matching a query", inputSchema: z.object({ query: z.string() }), execute: ({ query }) => lamps.filter((p) => p.name.toLowerCase().includes(query)) },
  buy: { description: "Buys a product", needsApproval: true, inputSchema: z.object({ id: z.string() }), execute: ({ id }) => ({ order: `order-${id}` }) },
});

console.log(generateApi([shop]).text); // the model's prompt gets this
const code = `async () => {
  const [cheapest] = (await shop.search({ query: "lamp" })).sort((a, b) => a.price - b.price);
  console.log("buying", cheapest.name);
  return await shop.buy({ id: cheapest.id });
}`;
const { result, logs } = await execute(code, [shop], { onApproval: ({ tool, args }) => tool === "buy" && (args as { id: string }).id === "l1" });
console.log(result, logs); // { order: 'order-l1' } [ 'buying Desk lamp' ]
