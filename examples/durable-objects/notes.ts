// The README's Durable Objects example: one object per user, each with its own SQLite database
// under ./data (or the directory given as the first argument), kept across restarts.
import { DurableObjectNamespace } from "islet";
import { DurableObject } from "islet/workers";

class Notes extends DurableObject {
  add(text: string) {
    this.ctx.storage.sql.exec("CREATE TABLE IF NOT EXISTS notes (id INTEGER PRIMARY KEY, text TEXT)");
    this.ctx.storage.sql.exec("INSERT INTO notes (text) VALUES (?)", text);
    return this.ctx.storage.sql.exec<{ n: number }>("SELECT count(*) AS n FROM notes").one().n;
  }
}

const notes = new DurableObjectNamespace(Notes, { name: "notes", storage: { dir: process.argv[2] ?? "./data" } });
console.log(await notes.getByName("alice").add("buy milk")); // 1, 2, 3 … across restarts
notes.close();
