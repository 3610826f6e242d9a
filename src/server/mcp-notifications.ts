// An MCP POST that carries only JSON-RPC notifications (`notifications/cancelled`, `initialized`,
// progress) runs no tool: islet serve's /mcp and `islet mcp --http` answer it without an admission
// slot, so that a key whose slots are all held by its own runaway calls can still cancel them
// (findings21, held list: the cancel itself was refused with 429).

/** True when `text` is one JSON-RPC notification or a batch of them only (no request, no response). */
export function onlyNotifications(text: string): boolean {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return false;
  }
  const messages = Array.isArray(body) ? body : [body];
  if (messages.length === 0) return false;
  return messages.every((message) => message !== null && typeof message === "object" && !Array.isArray(message) && typeof (message as { method?: unknown }).method === "string" && !("id" in message));
}
