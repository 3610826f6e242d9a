// The tool source `islet serve` offers Code Mode when its config names none, so the playground's
// Code Mode works on a plain `npm start`: a few pure functions over made-up data, no I/O, typed
// (inputs and outputs) so the API browser shows what a real source looks like.

import { fromFunctions } from "./functions.ts";
import type { ToolProvider } from "./provider.ts";

const CITIES: Record<string, { temperatureC: number; conditions: string }> = {
  lisbon: { temperatureC: 19, conditions: "sunny" },
  oslo: { temperatureC: -3, conditions: "snow" },
  nairobi: { temperatureC: 24, conditions: "cloudy" },
  tokyo: { temperatureC: 12, conditions: "rain" },
};

const PRODUCTS = [
  { id: 1, name: "Desk lamp", price: 29.5, tags: ["home", "light"] },
  { id: 2, name: "Standing desk", price: 349, tags: ["home", "office"] },
  { id: 3, name: "Headphones", price: 89, tags: ["audio"] },
  { id: 4, name: "Reading lamp", price: 19.9, tags: ["home", "light"] },
];

export function demoProvider(): ToolProvider {
  return fromFunctions(
    "demo",
    {
      weather: {
        description: "Made-up current weather of a city (Lisbon, Oslo, Nairobi or Tokyo)",
        inputSchema: { type: "object", properties: { city: { type: "string" } }, required: ["city"], additionalProperties: false },
        outputSchema: { type: "object", properties: { city: { type: "string" }, temperatureC: { type: "number" }, conditions: { type: "string" } }, required: ["city", "temperatureC", "conditions"] },
        execute: ({ city }: { city: string }) => {
          const found = CITIES[city.toLowerCase()];
          if (found === undefined) throw new RangeError(`No weather for ${city}: try ${Object.keys(CITIES).join(", ")}`);
          return { city, ...found };
        },
      },
      searchProducts: {
        description: "Products whose name or tags contain the query, cheapest first",
        inputSchema: { type: "object", properties: { query: { type: "string" }, maxPrice: { type: "number" } }, required: ["query"], additionalProperties: false },
        outputSchema: {
          type: "array",
          items: { type: "object", properties: { id: { type: "integer" }, name: { type: "string" }, price: { type: "number" }, tags: { type: "array", items: { type: "string" } } }, required: ["id", "name", "price", "tags"] },
        },
        execute: ({ query, maxPrice }: { query: string; maxPrice?: number }) => {
          const q = query.toLowerCase();
          return PRODUCTS.filter((p) => (p.name.toLowerCase().includes(q) || p.tags.includes(q)) && (maxPrice === undefined || p.price <= maxPrice)).sort((a, b) => a.price - b.price);
        },
      },
      convert: {
        description: "Converts an amount between EUR, USD and JPY at fixed made-up rates",
        inputSchema: { type: "object", properties: { amount: { type: "number" }, from: { enum: ["EUR", "USD", "JPY"] }, to: { enum: ["EUR", "USD", "JPY"] } }, required: ["amount", "from", "to"], additionalProperties: false },
        outputSchema: { type: "number" },
        execute: ({ amount, from, to }: { amount: number; from: "EUR" | "USD" | "JPY"; to: "EUR" | "USD" | "JPY" }) => {
          const perEur = { EUR: 1, USD: 1.1, JPY: 160 };
          return Math.round((amount / perEur[from]) * perEur[to] * 100) / 100;
        },
      },
    },
    { description: "Made-up demo data (no I/O): the source islet serve offers when its config names none" },
  );
}
