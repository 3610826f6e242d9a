// Module customization hooks (run by Node on its loader thread): one specifier remapped.

const workersUrl = new URL("./workers.js", import.meta.url).href;

type Resolve = (specifier: string, context: unknown) => Promise<{ url: string; shortCircuit?: boolean }>;

export async function resolve(specifier: string, context: unknown, nextResolve: Resolve): Promise<{ url: string; shortCircuit?: boolean }> {
  if (specifier === "cloudflare:workers") return { url: workersUrl, shortCircuit: true };
  return nextResolve(specifier, context);
}
