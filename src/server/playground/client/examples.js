// The playground's starting points. Each one is a complete request: the code, how to call it
// (an RPC method with arguments, an HTTP request for `fetch`, or a code-mode snippet) and any limits.

export const examples = [
  {
    id: "rpc",
    title: "RPC: call a method",
    kind: "worker",
    language: "js",
    call: { type: "rpc", entrypoint: "", method: "greet", args: '["Ada"]' },
    code: `import { WorkerEntrypoint } from "cloudflare:workers";

// Each public method of the default export is callable over RPC.
export default class Greeter extends WorkerEntrypoint {
  async greet(name) {
    console.log("greeting", name);
    return { message: \`Hello, \${name}!\`, letters: name.length };
  }
}
`,
  },
  {
    id: "fetch",
    title: "HTTP: a fetch handler",
    kind: "worker",
    language: "js",
    call: {
      type: "fetch",
      method: "POST",
      url: "https://example.com/sum",
      headers: '{ "content-type": "application/json" }',
      body: '{ "numbers": [1, 2, 3, 4] }',
    },
    code: `// A Cloudflare-style module worker: the server hands it the request you describe below.
export default {
  async fetch(request) {
    const url = new URL(request.url);
    console.log(request.method, url.pathname);
    if (url.pathname === "/sum" && request.method === "POST") {
      const { numbers } = await request.json();
      return Response.json({ sum: numbers.reduce((a, b) => a + b, 0) });
    }
    return new Response("Try POST /sum", { status: 404 });
  },
};
`,
  },
  {
    id: "typescript",
    title: "TypeScript: typed statistics",
    kind: "worker",
    language: "ts",
    call: { type: "rpc", entrypoint: "", method: "stats", args: "[[3, 1, 4, 1, 5, 9, 2, 6]]" },
    code: `import { WorkerEntrypoint } from "cloudflare:workers";

interface Stats {
  count: number;
  mean: number;
  median: number;
}

export default class extends WorkerEntrypoint {
  stats(values: number[]): Stats {
    const sorted = [...values].sort((a, b) => a - b);
    const middle = Math.floor(sorted.length / 2);
    const median = sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
    const mean = values.reduce((a, b) => a + b, 0) / values.length;
    console.info(\`\${values.length} values\`);
    return { count: values.length, mean, median };
  }
}
`,
  },
  {
    id: "crypto",
    title: "Web APIs: hash with crypto.subtle",
    kind: "worker",
    language: "js",
    call: { type: "rpc", entrypoint: "", method: "sha256", args: '["islet"]' },
    code: `import { WorkerEntrypoint } from "cloudflare:workers";

export default class extends WorkerEntrypoint {
  async sha256(text) {
    const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
    const hex = [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
    console.log("digest of", JSON.stringify(text));
    return hex;
  }
}
`,
  },
  {
    id: "throws",
    title: "Errors: a method that throws",
    kind: "worker",
    language: "js",
    call: { type: "rpc", entrypoint: "", method: "order", args: '[{ "item": "apples", "quantity": -2 }]' },
    code: `import { WorkerEntrypoint } from "cloudflare:workers";

class ValidationError extends Error {
  name = "ValidationError";
}

export default class extends WorkerEntrypoint {
  order({ item, quantity }) {
    console.warn("checking order for", item);
    if (!(quantity > 0)) throw new ValidationError(\`quantity must be positive, got \${quantity}\`);
    return { item, quantity };
  }
}
`,
  },
  {
    id: "cpu-limit",
    title: "Limits: an endless loop meets cpuMs",
    kind: "worker",
    language: "js",
    limits: '{ "cpuMs": 50 }',
    call: { type: "rpc", entrypoint: "", method: "spin", args: "[]" },
    code: `import { WorkerEntrypoint } from "cloudflare:workers";

// The isolate is terminated when the call uses more CPU than its limit (see Options).
export default class extends WorkerEntrypoint {
  spin() {
    console.log("spinning forever");
    for (;;) {}
  }
}
`,
  },
  {
    id: "codemode-demo",
    title: "Code mode: calling the demo tools",
    kind: "codemode",
    language: "js",
    code: `// Without a codemode section in its config, islet serve offers a demo namespace:
// see the API below the editor. One snippet makes several calls; only its result comes back.
async () => {
  const lamps = await demo.searchProducts({ query: "lamp", maxPrice: 50 });
  const weather = await demo.weather({ city: "Lisbon" });
  const inYen = await demo.convert({ amount: lamps[0].price, from: "EUR", to: "JPY" });
  return { cheapest: lamps[0].name, inYen, lisbon: weather.conditions };
}
`,
  },
  {
    id: "codemode",
    title: "Code mode: an async snippet",
    kind: "codemode",
    language: "js",
    code: `// Code mode runs one async function in a fresh sandbox; the server's tool sources
// appear as namespaces. This one needs none.
async () => {
  const words = ["sandbox", "isolate", "worker", "capability"];
  const longest = words.reduce((a, b) => (b.length > a.length ? b : a));
  console.log("checked", words.length, "words");
  return { longest, total: words.join("").length };
}
`,
  },
];
