// A worker as an LLM might write it: a typed RPC entrypoint and a fetch handler.
import { WorkerEntrypoint } from "cloudflare:workers";
import { slugify } from "./slugify.ts";

interface Env {
  GREETING?: string;
}

export default class Hello extends WorkerEntrypoint<Env> {
  greet(name: string): string {
    console.log("greeting", name);
    return `${this.env.GREETING ?? "Hello"}, ${name}! Your slug is ${slugify(name)}.`;
  }

  async fetch(request: Request): Promise<Response> {
    const path = request.url.replace(/^[a-z][a-z0-9+.-]*:\/\/[^/]*/i, "");
    return Response.json({ method: request.method, path, slug: slugify(path) });
  }
}
