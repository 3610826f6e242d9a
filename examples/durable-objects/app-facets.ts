// The README's facets example: an app an AI wrote runs in a sandbox as a facet of a host Durable
// Object (one per user), with a SQLite database of its own under ./data (or the first argument).
import { DurableObjectNamespace, WorkerLoader } from "islet";
import { DurableObject } from "islet/workers";

const aiWrittenApp = `import { DurableObject } from "cloudflare:workers";
export class App extends DurableObject {
  add(item) {
    this.ctx.storage.sql.exec("CREATE TABLE IF NOT EXISTS items (name TEXT)");
    this.ctx.storage.sql.exec("INSERT INTO items VALUES (?)", item);
    return this.ctx.storage.sql.exec("SELECT count(*) AS n FROM items").one().n;
  }
}`;
const loader = new WorkerLoader();
const app = loader.get("shopping-v1", () => ({ compatibilityDate: "2026-01-01", mainModule: "app.js", modules: { "app.js": aiWrittenApp } }));

class User extends DurableObject {
  add(item: string) {
    const facet = this.ctx.facets.get("app", () => ({ class: app.getDurableObjectClass("App") }));
    return (facet as any).add(item);
  }
}

const users = new DurableObjectNamespace(User, { name: "users", storage: { dir: process.argv[2] ?? "./data" } });
console.log(await users.getByName("alice").add("milk")); // 1, 2, 3 … across restarts
users.close();
await loader.close();
