// deploy/nginx for real: Debian's nginx in front of `islet serve` processes on loopback (three,
// then a fourth joins). The same worker id always reaches the same node (and finds its worker
// warm there); when a node dies its ids move to the others while every other id stays where it
// was, and no request is lost except the ones that were in flight on the dead node.

import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { request as httpRequest } from "node:http";
import os from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { parseAllDocuments } from "yaml";
import { resolveOptions, ServerConfigError } from "../../src/server/index.ts";
import { freePort, nginxBinary, stopChild, waitFor } from "./processes.ts";

const root = fileURLToPath(new URL("../../", import.meta.url));

/** The worker processes under an nginx master (Linux: the kernel lists a task's children). */
function nginxWorkers(masterPid: number): number[] {
  const listed = readFileSync(`/proc/${masterPid}/task/${masterPid}/children`, "utf8").trim();
  return listed === "" ? [] : listed.split(/\s+/).map(Number);
}


interface Node {
  name: string;
  port: number;
  child: ChildProcess;
}

async function startNode(name: string): Promise<Node> {
  const port = await freePort();
  const child = spawn(process.execPath, ["--import", "tsx", join(root, "src/cli/main.ts"), "serve", "--port", String(port), "--host", "127.0.0.1"], {
    cwd: root,
    env: { ...process.env, ISLET_NODE_ID: name, ISLET_API_KEYS: "", ISLET_CONFIG: "" },
    stdio: ["ignore", "ignore", "pipe"],
  });
  let stderr = "";
  child.stderr!.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
  await waitFor(`islet serve ${name}`, async () => (await fetch(`http://127.0.0.1:${port}/healthz`)).ok, child, () => stderr);
  return { name, port, child };
}


/** A counter worker: the answer says which node ran it and how often this warm worker was called. */
const counterWorker = {
  code: `let calls = 0;
    export default {
      async hit(delayMs) {
        if (delayMs > 0) await scheduler.wait(delayMs);
        return ++calls;
      },
    };`,
  method: "hit",
};

interface Hit {
  status: number;
  node: string | null;
  calls?: number;
}

/** The ids in a different order each round, so round robin could not pass for affinity by accident. */
function shuffled<T>(items: T[]): T[] {
  const copy = [...items];
  for (let i = copy.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [copy[i], copy[j]] = [copy[j], copy[i]];
  }
  return copy;
}

/**
 * Calls hit() for every id in a shuffled order, 8 at a time (below a node's per-key cap, so no
 * 429 even when two nodes share the work), and returns the answers by id.
 */
async function hitAll(url: string, ids: string[]): Promise<Map<string, Hit>> {
  const queue = shuffled(ids);
  const hits = new Map<string, Hit>();
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      for (let id = queue.shift(); id !== undefined; id = queue.shift()) hits.set(id, await hit(url, id));
    }),
  );
  return hits;
}

// One connection per request: a kept-alive connection can be closed by nginx's old workers at
// the moment it is reused during a configuration reload, a client-side race this test is not about.
function post(url: string, headers: Record<string, string>, body: string): Promise<{ status: number; node: string | undefined; text: string }> {
  return new Promise((resolve, reject) => {
    const request = httpRequest(url, { method: "POST", agent: false, headers: { ...headers, "content-length": Buffer.byteLength(body) } }, (response) => {
      let text = "";
      response.setEncoding("utf8").on("data", (chunk: string) => (text += chunk));
      response.on("end", () => resolve({ status: response.statusCode!, node: response.headers["x-islet-node"] as string | undefined, text }));
      response.on("error", reject);
    });
    request.on("error", reject);
    request.end(body);
  });
}

async function hit(url: string, workerId: string | undefined, delayMs = 0): Promise<Hit> {
  const headers: Record<string, string> = { "content-type": "application/json" };
  if (workerId !== undefined) headers["x-islet-worker-id"] = workerId;
  const { status, node, text } = await post(`${url}/v1/run`, headers, JSON.stringify({ ...counterWorker, args: [delayMs] }));
  if (status !== 200) return { status, node: node ?? null };
  const answer = JSON.parse(text) as { result?: number; error?: { name: string; message: string } };
  assert.equal(answer.error, undefined, `worker ${workerId} failed: ${JSON.stringify(answer.error)}`);
  return { status: 200, node: node ?? null, calls: answer.result };
}

describe("deploy/nginx: consistent hashing on the worker id over islet serve nodes", { skip: nginxBinary === undefined ? "nginx is not installed (apt-get install -y nginx)" : false }, () => {
  let prefix: string;
  let nodes: Node[] = [];
  let nginx: ChildProcess;
  let nginxOutput = "";
  let url: string;
  const ids = Array.from({ length: 30 }, (_, i) => `worker-${i}`);
  /** Where each id lives: with every node up, after node-b died, after node-d joined. */
  const home = new Map<string, string>();
  const afterKill = new Map<string, string>();
  const afterJoin = new Map<string, string>();

  let serverLine: string;
  // The shipped node list with its addresses swapped for ours: the same per-node failover settings.
  const writeNodeList = (members: Node[]) =>
    writeFileSync(join(prefix, "islet-nodes.conf"), members.map((node) => serverLine.replace(/server\s+\S+/, `server 127.0.0.1:${node.port}`)).join("\n") + "\n");

  before(async () => {
    // node-d joins later, to show that a new node takes ids only for itself.
    nodes = await Promise.all(["node-a", "node-b", "node-c", "node-d"].map(startNode));
    prefix = mkdtempSync(join(os.tmpdir(), "islet-nginx-"));
    for (const file of ["nginx.conf", "islet.conf"]) copyFileSync(join(root, "deploy/nginx", file), join(prefix, file));
    const serverLines = readFileSync(join(root, "deploy/nginx/islet-nodes.conf"), "utf8")
      .split("\n")
      .filter((line) => /^\s*server\s/.test(line));
    assert.equal(serverLines.length, 3, "deploy/nginx/islet-nodes.conf lists three nodes");
    const settings = new Set(serverLines.map((line) => line.replace(/server\s+\S+/, "server ADDRESS")));
    assert.equal(settings.size, 1, "the same settings for every node");
    serverLine = serverLines[0];
    writeNodeList(nodes.slice(0, 3));
    const port = await freePort();
    const isletConf = readFileSync(join(prefix, "islet.conf"), "utf8");
    assert.match(isletConf, /listen 8080;/);
    writeFileSync(join(prefix, "islet.conf"), isletConf.replace("listen 8080;", `listen 127.0.0.1:${port};`));
    nginx = spawn(nginxBinary!, ["-p", prefix, "-c", "nginx.conf", "-e", "stderr", "-g", `daemon off; pid ${join(prefix, "nginx.pid")};`], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    nginx.stdout!.setEncoding("utf8").on("data", (chunk: string) => (nginxOutput += chunk));
    nginx.stderr!.setEncoding("utf8").on("data", (chunk: string) => (nginxOutput += chunk));
    url = `http://127.0.0.1:${port}`;
    await waitFor("nginx", async () => (await fetch(`${url}/healthz`)).ok, nginx, () => nginxOutput);
  });

  after(async () => {
    if (nginx !== undefined) await stopChild(nginx, "SIGQUIT");
    await Promise.all(nodes.map((node) => stopChild(node.child)));
    if (prefix !== undefined) rmSync(prefix, { recursive: true, force: true });
  });

  it("sends every request for one worker id to the same node, where the worker stays warm", async () => {
    for (let round = 1; round <= 3; round++) {
      const hits = await hitAll(url, ids);
      hits.forEach((result, id) => {
        assert.equal(result.status, 200, `${id}: status ${result.status}`);
        assert.ok(result.node, `${id}: the answer names its node (X-Islet-Node)`);
        if (round === 1) home.set(id, result.node!);
        assert.equal(result.node, home.get(id), `${id} moved from ${home.get(id)} to ${result.node} while every node was up`);
        assert.equal(result.calls, round, `${id}: call ${round} reached the warm worker`);
      });
    }
    const used = new Set(home.values());
    assert.deepEqual([...used].sort(), ["node-a", "node-b", "node-c"], "30 ids spread over all three nodes");
  });

  it("spreads requests without a worker id over the nodes", async () => {
    const seen = new Set<string>();
    for (let i = 0; i < 12; i++) {
      const result = await hit(url, undefined);
      assert.equal(result.status, 200);
      seen.add(result.node!);
    }
    assert.ok(seen.size >= 2, `requests without an id all went to ${[...seen].join(", ")}`);
  });

  it("moves a killed node's ids to the others, keeps everyone else's, and loses only the calls in flight on it", async () => {
    const victim = nodes.find((node) => node.name === "node-b")!;
    const victimIds = ids.filter((id) => home.get(id) === victim.name);
    assert.ok(victimIds.length > 0);

    // Slow calls to the victim's ids are in flight when it dies; their answers are lost (502),
    // not run again elsewhere (a POST may have had side effects).
    const inFlight = victimIds.slice(0, 3).map((id) => hit(url, id, 5_000));
    // Kill it only once all three are running there (its /healthz counts calls in flight).
    const victimHealth = `http://127.0.0.1:${victim.port}/healthz`;
    const running = async () => ((await (await fetch(victimHealth)).json()) as { inFlight: number }).inFlight;
    await waitFor("three calls in flight on node-b", async () => (await running()) >= inFlight.length, victim.child, () => nginxOutput);
    await stopChild(victim.child, "SIGKILL");
    const lost = await Promise.all(inFlight);
    for (const result of lost) assert.equal(result.status, 502, "a call in flight on the killed node is answered 502");

    // Every later request succeeds: those failures took node-b out of the ring.
    const counts = new Map<string, number>();
    for (let round = 1; round <= 2; round++) {
      const hits = await hitAll(url, ids);
      hits.forEach((result, id) => {
        assert.equal(result.status, 200, `${id} after the kill: status ${result.status}\n${nginxOutput}`);
        if (home.get(id) === victim.name) {
          assert.notEqual(result.node, victim.name);
          if (round === 1) counts.set(id, result.calls!);
          // It starts cold on its new node (a new worker there), then stays warm.
          assert.equal(result.calls, round === 1 ? 1 : counts.get(id)! + 1, `${id} on ${result.node}`);
          if (round === 1) afterKill.set(id, result.node!);
          else assert.equal(result.node, afterKill.get(id), `${id} moved again`);
        } else {
          assert.equal(result.node, home.get(id), `${id} was on ${home.get(id)}, a live node, but moved to ${result.node}`);
          assert.equal(result.calls, 3 + round, `${id}: still the same warm worker`);
        }
      });
    }
    for (const id of ids) if (!afterKill.has(id)) afterKill.set(id, home.get(id)!);
    const moved = new Set(victimIds.map((id) => afterKill.get(id)));
    assert.ok([...moved].every((node) => node === "node-a" || node === "node-c"));
  });

  it("gives a node added to the configuration only ids of its own: every other id stays put (consistent hashing)", async () => {
    // Scale: node-b (dead) leaves the list, node-d joins; nginx reloads its configuration.
    writeNodeList([nodes[0], nodes[2], nodes[3]]);
    // Until the old nginx workers have exited they still accept connections and answer with the
    // old ring, so wait for them to be gone (and new ones running) before reading the new ring.
    const oldWorkers = nginxWorkers(nginx.pid!);
    assert.ok(oldWorkers.length > 0, "nginx runs worker processes");
    process.kill(nginx.pid!, "SIGHUP");
    const deadline = Date.now() + 15_000;
    for (;;) {
      const current = nginxWorkers(nginx.pid!);
      if (current.length > 0 && current.every((pid) => !oldWorkers.includes(pid))) break;
      assert.ok(Date.now() < deadline, `nginx's old workers ${oldWorkers.join(", ")} did not exit after the reload:\n${nginxOutput}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const after = await hitAll(url, ids);
    let toNewNode = 0;
    for (const [id, result] of after) {
      assert.equal(result.status, 200, `${id}: status ${result.status}`);
      if (result.node === "node-d") toNewNode++;
      else assert.equal(result.node, afterKill.get(id), `${id} moved from ${afterKill.get(id)} to ${result.node}, not to the new node`);
    }
    for (const [id, result] of after) afterJoin.set(id, result.node!);
    // About a third is expected (three nodes in the ring); the exact share depends on the ports.
    assert.ok(toNewNode > 0 && toNewNode < ids.length, `${toNewNode} of ${ids.length} ids moved to the new node`);
  });

  it("retries a request whose node has died idle on the next node, so nothing is lost", async () => {
    const idle = nodes[3];
    await stopChild(idle.child, "SIGKILL");
    // No call was in flight on node-d: nginx learns of its death from a refused connection and
    // passes that request on, so every request succeeds, the first ones included.
    const after = await hitAll(url, ids);
    for (const [id, result] of after) {
      assert.equal(result.status, 200, `${id}: status ${result.status}`);
      const was = afterJoin.get(id);
      if (was === idle.name) assert.ok(result.node === "node-a" || result.node === "node-c", `${id} went to ${result.node}`);
      else assert.equal(result.node, was, `${id} moved from ${was} to ${result.node}`);
    }
  });
});

describe("node identity (X-Islet-Node)", () => {
  it("comes from nodeId, else ISLET_NODE_ID, else the host name, and must be safe to send as a header", () => {
    assert.equal(resolveOptions({ nodeId: "edge-1" }, { ISLET_NODE_ID: "from-env" }).nodeId, "edge-1");
    assert.equal(resolveOptions({}, { ISLET_NODE_ID: "islet-7d9f-abcde" }).nodeId, "islet-7d9f-abcde");
    assert.equal(resolveOptions({}, {}).nodeId, os.hostname().slice(0, 128));
    assert.throws(() => resolveOptions({ nodeId: "two words" }, {}), (error: Error) => error instanceof ServerConfigError && /^nodeId: must be 1-128 letters/.test(error.message));
    assert.throws(() => resolveOptions({}, { ISLET_NODE_ID: "bad\nheader" }), ServerConfigError);
  });
});

describe("deploy/kubernetes manifests", () => {
  const dir = join(root, "deploy/kubernetes");
  const load = (file: string) =>
    parseAllDocuments(readFileSync(join(dir, file), "utf8")).map((doc) => {
      assert.deepEqual(doc.errors, [], `${file} is valid YAML`);
      return doc.toJSON() as Record<string, any>;
    });

  it("probe /healthz on the container's port, which the Service targets, and the HPA scales the Deployment on CPU", () => {
    const [deployment] = load("deployment.yaml");
    const [service] = load("service.yaml");
    const [hpa] = load("hpa.yaml");
    assert.equal(deployment.kind, "Deployment");
    const container = deployment.spec.template.spec.containers[0];
    const port = container.ports.find((p: { name: string }) => p.name === "http");
    assert.ok(port, "the container names its port http");
    for (const probe of ["readinessProbe", "livenessProbe"]) {
      assert.equal(container[probe].httpGet.path, "/healthz", probe);
      assert.equal(container[probe].httpGet.port, "http", probe);
    }
    assert.ok(container.resources.requests.cpu && container.resources.limits.memory, "requests and limits are set");
    const host = container.env.find((e: { name: string }) => e.name === "ISLET_HOST");
    assert.equal(host.value, "0.0.0.0");
    const keys = container.env.find((e: { name: string }) => e.name === "ISLET_API_KEYS");
    assert.ok(keys.valueFrom.secretKeyRef, "API keys come from a Secret");
    const nodeId = container.env.find((e: { name: string }) => e.name === "ISLET_NODE_ID");
    assert.equal(nodeId.valueFrom.fieldRef.fieldPath, "metadata.name");

    assert.equal(service.kind, "Service");
    assert.deepEqual(service.spec.selector, deployment.spec.selector.matchLabels);
    assert.equal(service.spec.ports[0].targetPort, "http");
    assert.deepEqual(deployment.spec.template.metadata.labels, { ...deployment.spec.template.metadata.labels, ...deployment.spec.selector.matchLabels });

    assert.equal(hpa.kind, "HorizontalPodAutoscaler");
    assert.equal(hpa.spec.scaleTargetRef.kind, "Deployment");
    assert.equal(hpa.spec.scaleTargetRef.name, deployment.metadata.name);
    assert.equal(hpa.spec.metrics[0].resource.name, "cpu");
  });

  it("the Secret and ConfigMap the Deployment reads exist, and the ingress hashes on X-Islet-Worker-Id", () => {
    const [deployment] = load("deployment.yaml");
    const [secret] = load("secret.example.yaml");
    const [configMap] = load("configmap.yaml");
    const [ingress] = load("ingress.yaml");
    const container = deployment.spec.template.spec.containers[0];
    const keys = container.env.find((e: { name: string }) => e.name === "ISLET_API_KEYS").valueFrom.secretKeyRef;
    assert.equal(keys.name, secret.metadata.name);
    assert.ok(keys.key in secret.stringData);
    const configVolume = deployment.spec.template.spec.volumes.find((v: { configMap?: unknown }) => v.configMap);
    assert.equal(configVolume.configMap.name, configMap.metadata.name);
    const config = JSON.parse(configMap.data["config.json"]);
    assert.ok(config.maxInFlight > 0 && config.limits.memoryMb > 0);
    assert.equal(ingress.metadata.annotations["nginx.ingress.kubernetes.io/upstream-hash-by"], "$http_x_islet_worker_id");
    const kustomization = load("kustomization.yaml")[0];
    for (const file of kustomization.resources) assert.ok(existsSync(join(dir, file)), `${file} listed in kustomization.yaml exists`);
  });

  it("objects/: each StatefulSet pod keeps its data on a volume of its own, and the router lists every pod by its stable name, never marking one down", () => {
    const [statefulSet] = load("objects/statefulset.yaml");
    const [service] = load("objects/service.yaml");
    const [nodeList, router, routerService] = load("objects/router.yaml");
    assert.equal(statefulSet.kind, "StatefulSet");
    assert.equal(statefulSet.spec.serviceName, service.metadata.name);
    assert.equal(service.spec.clusterIP, "None");
    assert.equal(service.spec.publishNotReadyAddresses, true);
    assert.deepEqual(service.spec.selector, statefulSet.spec.selector.matchLabels);
    const container = statefulSet.spec.template.spec.containers[0];
    const dataDir = container.env.find((e: { name: string }) => e.name === "ISLET_DATA_DIR").value;
    const mount = container.volumeMounts.find((m: { mountPath: string }) => m.mountPath === dataDir);
    assert.ok(mount, "ISLET_DATA_DIR is a mounted volume");
    assert.equal(statefulSet.spec.volumeClaimTemplates[0].metadata.name, mount.name, "the data volume is the pod's own claim");
    const port = container.ports.find((p: { name: string }) => p.name === "http").containerPort;
    const lines = nodeList.data["islet-object-nodes.conf"].trim().split("\n");
    assert.deepEqual(
      lines,
      Array.from({ length: statefulSet.spec.replicas }, (_, i) => `server ${statefulSet.metadata.name}-${i}.${service.metadata.name}:${port} max_fails=0;`),
    );
    assert.equal(router.kind, "Deployment");
    assert.deepEqual(routerService.spec.selector, router.spec.selector.matchLabels);
    const kustomization = load("objects/kustomization.yaml")[0];
    for (const file of kustomization.resources) assert.ok(existsSync(join(dir, "objects", file)), `${file} listed in objects/kustomization.yaml exists`);
  });
});
