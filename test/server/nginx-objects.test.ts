// deploy/nginx/islet-objects.conf for real: Debian's nginx in front of two `islet serve` nodes with
// data directories. Every request for an object reaches the node that holds its database; when
// that node dies, its objects fail (502) instead of starting empty elsewhere, and when it comes
// back with its disk they carry on from their data.

import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { request as httpRequest } from "node:http";
import os from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { COUNTER, freePort, nginxBinary, stopChild, waitFor } from "./processes.ts";

const root = fileURLToPath(new URL("../../", import.meta.url));


interface Node {
  name: string;
  port: number;
  dataDir: string;
  child: ChildProcess;
}

async function startNode(name: string, port: number, dataDir: string): Promise<Node> {
  const child = spawn(process.execPath, ["--import", "tsx", join(root, "src/cli/main.ts"), "serve", "--port", String(port), "--host", "127.0.0.1"], {
    cwd: root,
    env: { ...process.env, ISLET_NODE_ID: name, ISLET_API_KEYS: "", ISLET_CONFIG: "", ISLET_DATA_DIR: dataDir },
    stdio: ["ignore", "ignore", "pipe"],
  });
  let stderr = "";
  child.stderr!.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
  await waitFor(`islet serve ${name}`, async () => (await fetch(`http://127.0.0.1:${port}/healthz`)).ok, child, () => stderr);
  return { name, port, dataDir, child };
}



function add(url: string, id: string): Promise<{ status: number; node: string | undefined; total?: number }> {
  const body = JSON.stringify({ code: COUNTER, object: { namespace: "counters", id, class: "Counter" }, method: "add", args: [1] });
  return new Promise((resolve, reject) => {
    const headers = { "content-type": "application/json", "x-islet-worker-id": `counters:${id}`, "content-length": Buffer.byteLength(body) };
    const request = httpRequest(`${url}/v1/run`, { method: "POST", agent: false, headers }, (response) => {
      let text = "";
      response.setEncoding("utf8").on("data", (chunk: string) => (text += chunk));
      response.on("end", () => {
        const node = response.headers["x-islet-node"] as string | undefined;
        if (response.statusCode !== 200) return resolve({ status: response.statusCode!, node });
        const answer = JSON.parse(text) as { result?: number; error?: unknown };
        assert.equal(answer.error, undefined, JSON.stringify(answer.error));
        resolve({ status: 200, node, total: answer.result });
      });
      response.on("error", reject);
    });
    request.on("error", reject);
    request.end(body);
  });
}

describe("deploy/nginx/islet-objects.conf: each object on the node that holds its data", { skip: nginxBinary === undefined ? "nginx is not installed (apt-get install -y nginx)" : false }, () => {
  let prefix: string;
  let nodes: Node[] = [];
  let nginx: ChildProcess;
  let nginxOutput = "";
  let url: string;
  const ids = Array.from({ length: 12 }, (_, i) => `o${i}`);
  const home = new Map<string, string>();

  before(async () => {
    prefix = mkdtempSync(join(os.tmpdir(), "islet-nginx-objects-"));
    nodes = await Promise.all(["node-a", "node-b"].map(async (name) => startNode(name, await freePort(), join(prefix, `data-${name}`))));
    copyFileSync(join(root, "deploy/nginx/islet-objects.conf"), join(prefix, "islet-objects.conf"));
    const serverLine = readFileSync(join(root, "deploy/nginx/islet-object-nodes.conf"), "utf8")
      .split("\n")
      .find((line) => /^\s*server\s/.test(line))!;
    assert.match(serverLine, /max_fails=0/, "the shipped node list never marks a node down");
    writeFileSync(join(prefix, "islet-object-nodes.conf"), nodes.map((node) => serverLine.replace(/server\s+\S+/, `server 127.0.0.1:${node.port}`)).join("\n") + "\n");
    const port = await freePort();
    const conf = readFileSync(join(prefix, "islet-objects.conf"), "utf8");
    assert.match(conf, /listen 8081;/);
    writeFileSync(join(prefix, "islet-objects.conf"), conf.replace("listen 8081;", `listen 127.0.0.1:${port};`));
    const nginxConf = readFileSync(join(root, "deploy/nginx/nginx.conf"), "utf8").replace("include islet.conf;", "include islet-objects.conf;").replace(/access_log [^;]+;/, "access_log off;");
    writeFileSync(join(prefix, "nginx.conf"), nginxConf);
    nginx = spawn(nginxBinary!, ["-p", prefix, "-c", "nginx.conf", "-e", "stderr", "-g", `daemon off; pid ${join(prefix, "nginx.pid")};`], { stdio: ["ignore", "pipe", "pipe"] });
    nginx.stdout!.setEncoding("utf8").on("data", (chunk: string) => (nginxOutput += chunk));
    nginx.stderr!.setEncoding("utf8").on("data", (chunk: string) => (nginxOutput += chunk));
    url = `http://127.0.0.1:${port}`;
    await waitFor("nginx", async () => (await add(url, "probe")).status === 200, nginx, () => nginxOutput);
  });

  after(async () => {
    if (nginx !== undefined) await stopChild(nginx, "SIGQUIT");
    await Promise.all(nodes.map((node) => stopChild(node.child)));
    if (prefix !== undefined) rmSync(prefix, { recursive: true, force: true });
  });

  it("routes every request for an object to one node; a dead node's objects fail rather than move, and come back with their data", async () => {
    for (const id of ids) {
      const first = await add(url, id);
      assert.equal(first.status, 200);
      home.set(id, first.node!);
      const second = await add(url, id);
      assert.deepEqual([second.node, second.total], [first.node, 2], `${id} stays on its node`);
    }
    assert.equal(new Set(home.values()).size, 2, "the objects are spread over both nodes");

    const victim = nodes[1];
    await stopChild(victim.child, "SIGKILL");
    for (const id of ids) {
      const answer = await add(url, id);
      if (home.get(id) === victim.name) assert.equal(answer.status, 502, `${id} is not served elsewhere while its node is down`);
      else assert.deepEqual([answer.status, answer.node, answer.total], [200, home.get(id), 3]);
    }

    nodes[1] = await startNode(victim.name, victim.port, victim.dataDir);
    for (const id of ids) {
      const answer = await add(url, id);
      assert.equal(answer.status, 200);
      assert.equal(answer.node, home.get(id));
      // Objects on the node that stayed up were called once more while the other was down.
      assert.equal(answer.total, home.get(id) === victim.name ? 3 : 4, `${id} carries on from its data`);
    }
  });
});
