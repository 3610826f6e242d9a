// The playground page: an editor, a call description, and one POST to the server it came from
// (/v1/run or /v1/codemode/execute), streamed: log lines show as the code makes them, and Cancel
// aborts the request, which ends the run on the server. Nothing else is fetched, so the server's
// CSP can allow its own origin only.
import CodeMirror from "codemirror";
import "codemirror/mode/javascript/javascript.js";
import "codemirror/addon/edit/matchbrackets.js";
import "codemirror/addon/edit/closebrackets.js";
import "codemirror/lib/codemirror.css";
import "./style.css";
import { examples } from "./examples.js";

const API_KEY_STORAGE = "islet.playground.apiKey";
/** Each example's code as last edited, so a reload keeps it (the page's own origin's localStorage). */
const EDITS_STORAGE = "islet.playground.code";

const $ = (id) => {
  const element = document.getElementById(id);
  if (element === null) throw new Error(`playground: #${id} is missing from the page`);
  return element;
};

const modes = { js: "text/javascript", ts: "text/typescript" };

const editor = CodeMirror($("editor"), {
  value: "",
  mode: modes.js,
  lineNumbers: true,
  indentUnit: 2,
  tabSize: 2,
  matchBrackets: true,
  autoCloseBrackets: true,
  viewportMargin: Infinity,
  // Ctrl/Cmd+Enter reaches the document's keydown listener below, like from any other field.
  extraKeys: {
    Tab: (cm) => (cm.somethingSelected() ? cm.indentSelection("add") : cm.replaceSelection("  ", "end")),
    "Shift-Tab": (cm) => cm.indentSelection("subtract"),
  },
});

editor.on("change", () => {
  const id = exampleSelect.value;
  const example = examples.find((candidate) => candidate.id === id);
  if (example === undefined) return;
  const code = editor.getValue();
  try {
    if (code === example.code) localStorage.removeItem(`${EDITS_STORAGE}.${id}`);
    else localStorage.setItem(`${EDITS_STORAGE}.${id}`, code);
  } catch {
    // Storage full or refused: edits are simply not kept.
  }
});

const exampleSelect = $("example");
for (const example of examples) exampleSelect.add(new Option(example.title, example.id));
exampleSelect.addEventListener("change", () => loadExample(exampleSelect.value));

$("kind").addEventListener("change", showFieldsForKind);
$("language").addEventListener("change", () => editor.setOption("mode", modes[$("language").value]));
for (const radio of document.querySelectorAll('input[name="call-type"]')) radio.addEventListener("change", showFieldsForCallType);
$("run").addEventListener("click", () => run());
$("cancel").addEventListener("click", () => cancel());
$("reset").addEventListener("click", () => {
  localStorage.removeItem(`${EDITS_STORAGE}.${exampleSelect.value}`);
  loadExample(exampleSelect.value);
});
$("call").addEventListener("submit", (event) => (event.preventDefault(), run()));
document.addEventListener("keydown", (event) => {
  if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
    event.preventDefault();
    run();
  } else if (event.key === "Escape" && current !== null) {
    event.preventDefault();
    cancel();
  }
});
$("api-key-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const key = $("api-key").value.trim();
  if (key === "") sessionStorage.removeItem(API_KEY_STORAGE);
  else sessionStorage.setItem(API_KEY_STORAGE, key);
  $("api-key").value = "";
  $("api-key-form").hidden = key !== "";
  if (key !== "") run();
});

loadExample(examples[0].id);
fetch("/playground/config.json")
  .then((response) => (response.ok ? response.json() : {}))
  .then((config) => {
    if (config.apiKeyRequired && sessionStorage.getItem(API_KEY_STORAGE) === null) askForApiKey();
  })
  .catch(() => {});

function loadExample(id) {
  const example = examples.find((candidate) => candidate.id === id);
  if (example === undefined) return;
  exampleSelect.value = id;
  $("kind").value = example.kind;
  $("language").value = example.language;
  editor.setOption("mode", modes[example.language]);
  editor.setValue(localStorage.getItem(`${EDITS_STORAGE}.${id}`) ?? example.code);
  const call = example.call ?? { type: "rpc", entrypoint: "", method: "run", args: "[]" };
  document.querySelector(`input[name="call-type"][value="${call.type}"]`).checked = true;
  if (call.type === "rpc") {
    $("entrypoint").value = call.entrypoint ?? "";
    $("method").value = call.method;
    $("args").value = call.args ?? "[]";
  } else {
    $("request-method").value = call.method ?? "GET";
    $("request-url").value = call.url;
    $("request-headers").value = call.headers ?? "{}";
    $("request-body").value = call.body ?? "";
  }
  $("env").value = example.env ?? "{}";
  $("limits").value = example.limits ?? "{}";
  $("options").open = example.limits !== undefined || example.env !== undefined;
  showFieldsForKind();
}

function showFieldsForKind() {
  const worker = $("kind").value === "worker";
  $("call").hidden = !worker;
  $("language-field").hidden = !worker;
  $("api-browser").hidden = worker;
  if (!worker) {
    editor.setOption("mode", modes.js);
    loadApi();
  }
  showFieldsForCallType();
}

let apiLoaded = false;

/** The code-mode namespaces' TypeScript API, fetched once from the server. */
async function loadApi() {
  if (apiLoaded) return;
  const headers = {};
  const key = sessionStorage.getItem(API_KEY_STORAGE);
  if (key !== null) headers.authorization = `Bearer ${key}`;
  try {
    const response = await fetch("/v1/codemode/api", { headers });
    if (!response.ok) {
      $("api-note").textContent = response.status === 401 ? "Enter the API key to see the API." : `The server answered ${response.status}.`;
      return;
    }
    const { api, namespaces, demo } = await response.json();
    apiLoaded = true;
    $("api-note").textContent = `${namespaces.length === 1 ? "Namespace" : "Namespaces"}: ${namespaces.join(", ")}${demo ? " (islet's demo source: this server's config names no tool sources)" : ""}`;
    $("api").textContent = api;
  } catch (error) {
    $("api-note").textContent = `Could not load the API: ${error.message}`;
  }
}

function callType() {
  return document.querySelector('input[name="call-type"]:checked').value;
}

function showFieldsForCallType() {
  $("rpc-fields").hidden = callType() !== "rpc";
  $("fetch-fields").hidden = callType() !== "fetch";
}

/** Type annotations, interfaces, type aliases, `as` casts, access modifiers: what only TypeScript parses. */
function looksLikeTypeScript(code) {
  return /\b(interface|type)\s+[A-Z]\w*\s*(<[^>]*>)?\s*[={]|\)\s*:\s*[\w<{[]|\b(const|let|var)\s+\w+\s*:\s*[\w<{[]|\(\s*\w+\s*:\s*[\w<{[]|\bas\s+(const|string|number|unknown|any|[A-Z]\w*)\b|\b(private|public|protected|readonly)\s+\w+\s*[:;=(]/.test(code);
}

/** Thrown for a field the user filled in wrongly, before anything is sent. */
class InputError extends Error {
  name = "InputError";
}

function parseJsonField(id, label, check) {
  const text = $(id).value.trim();
  if (text === "") return undefined;
  let value;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new InputError(`${label} is not valid JSON: ${error.message}`);
  }
  if (!check(value)) throw new InputError(`${label} must be ${check.expected}`);
  return value;
}

const isArray = Object.assign((value) => Array.isArray(value), { expected: "a JSON array, like [\"Ada\"]" });
const isHostList = Object.assign((value) => Array.isArray(value) && value.every((host) => typeof host === "string"), { expected: 'a JSON array of host names, like ["api.example.com"]' });
const isObject = Object.assign((value) => value !== null && typeof value === "object" && !Array.isArray(value), {
  expected: "a JSON object, like {}",
});

function describeRequest() {
  const code = editor.getValue();
  if ($("kind").value === "codemode") return { path: "/v1/codemode/execute", body: { code } };

  // Type annotations in code marked JavaScript would be a SyntaxError at the first ':': such code is sent as TypeScript.
  if ($("language").value === "js" && looksLikeTypeScript(code)) {
    $("language").value = "ts";
    editor.setOption("mode", modes.ts);
  }
  const mainModule = $("language").value === "ts" ? "worker.ts" : "worker.js";
  const body = { modules: { [mainModule]: code }, mainModule };
  if (callType() === "rpc") {
    const method = $("method").value.trim();
    if (method === "") throw new InputError("Method is empty: name the method to call");
    const entrypoint = $("entrypoint").value.trim();
    if (entrypoint !== "") body.entrypoint = entrypoint;
    body.method = method;
    body.args = parseJsonField("args", "Arguments", isArray) ?? [];
  } else {
    const url = $("request-url").value.trim();
    if (!/^https?:\/\/[^/]/i.test(url)) throw new InputError(`URL "${url}" is not an absolute http(s) URL`);
    const method = $("request-method").value;
    const request = { url, method };
    const headers = parseJsonField("request-headers", "Headers", isObject);
    if (headers !== undefined && Object.keys(headers).length > 0) request.headers = headers;
    const requestBody = $("request-body").value;
    if (requestBody !== "" && method !== "GET") request.body = requestBody;
    body.request = request;
  }
  const env = parseJsonField("env", "env", isObject);
  if (env !== undefined && Object.keys(env).length > 0) body.env = env;
  const limits = parseJsonField("limits", "limits", isObject);
  if (limits !== undefined && Object.keys(limits).length > 0) body.limits = limits;
  const allowHosts = parseJsonField("allow-hosts", "allowHosts", isHostList);
  if (allowHosts !== undefined && allowHosts.length > 0) body.allowHosts = allowHosts;
  return { path: "/v1/run", body };
}

/** The run in progress: its AbortController (Cancel aborts the fetch, and the server then ends the run). */
let current = null;

async function run() {
  if (current !== null) return;
  let described;
  try {
    described = describeRequest();
  } catch (error) {
    if (!(error instanceof InputError)) throw error;
    clearOutput();
    return render({ state: "error", text: "Not sent: fix the input first.", data: { error: { name: error.name, message: error.message } } });
  }
  const controller = new AbortController();
  current = controller;
  $("run").disabled = true;
  $("cancel").hidden = false;
  // The previous run's output goes, so nothing on screen belongs to another run.
  clearOutput();
  setStatus("running", "Running…");
  // Streamed: the server sends each log line as the code makes it, then the answer (one JSON object a line).
  const headers = { "content-type": "application/json", accept: "application/x-ndjson" };
  const key = sessionStorage.getItem(API_KEY_STORAGE);
  if (key !== null) headers.authorization = `Bearer ${key}`;
  const started = performance.now();
  const streamed = [];
  try {
    const response = await fetch(described.path, { method: "POST", headers, body: JSON.stringify(described.body), signal: controller.signal });
    let data;
    if (response.ok && /^application\/x-ndjson\b/i.test(response.headers.get("content-type") ?? "")) {
      data = await readStream(response, (entry) => {
        streamed.push(entry);
        $("logs-block").hidden = false;
        $("logs").append(renderLog(entry));
        setStatus("running", `Running… ${streamed.length} log ${streamed.length === 1 ? "line" : "lines"} so far`);
      });
    } else {
      const text = await response.text();
      try {
        data = JSON.parse(text);
      } catch {
        data = { error: { name: `HTTP ${response.status}`, message: text.slice(0, 2000) || response.statusText } };
      }
    }
    const roundTripMs = performance.now() - started;
    if (response.status === 401) {
      sessionStorage.removeItem(API_KEY_STORAGE);
      askForApiKey();
      return render({ state: "error", text: "This server needs an API key: enter it below and run again.", data });
    }
    if (response.status === 429) {
      const retry = response.headers.get("retry-after");
      return render({ state: "error", text: `The server is busy (429)${retry ? `: try again in ${retry} s` : ""}.`, data });
    }
    // The answer's logs are the whole of them (a line the server could not stream is there too).
    if (!Array.isArray(data.logs) || data.logs.length === streamed.length) data = { ...data, logs: streamed };
    const failed = !response.ok || data.error != null;
    const summary = !response.ok ? `HTTP ${response.status}` : failed ? "Finished with an error" : "Finished";
    render({ state: failed ? "error" : "ok", text: summary, data, roundTripMs });
  } catch (error) {
    if (controller.signal.aborted) {
      // What was logged before the cancel stays on screen.
      setStatus("canceled", `Canceled after ${formatMs(performance.now() - started)}: the server ended the run.`);
    } else {
      render({ state: "error", text: "Could not reach the server.", data: { error: { name: error.name, message: error.message }, logs: streamed } });
    }
  } finally {
    current = null;
    $("run").disabled = false;
    $("cancel").hidden = true;
  }
}

/** Reads an ndjson answer: `log` lines go to onLog as they arrive; the `result` (or `error`) line is the answer. */
async function readStream(response, onLog) {
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffered = "";
  let answer;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    buffered += value;
    for (let at = buffered.indexOf("\n"); at >= 0; at = buffered.indexOf("\n")) {
      const line = buffered.slice(0, at);
      buffered = buffered.slice(at + 1);
      if (line.trim() === "") continue;
      const message = JSON.parse(line);
      if (message.type === "log") onLog(message);
      else if (message.type === "result") answer = message;
      else if (message.type === "error") answer = { error: message.error };
    }
  }
  return answer ?? { error: { name: "Error", message: "The server's answer ended before the result." } };
}

function cancel() {
  current?.abort();
}

function clearOutput() {
  for (const id of ["error", "result-block", "response-block", "logs-block", "timings"]) $(id).hidden = true;
  for (const id of ["error-name", "error-message", "result", "response-status", "response-headers", "response-body"]) $(id).textContent = "";
  $("logs").replaceChildren();
}

function askForApiKey() {
  $("api-key-form").hidden = false;
  $("api-key").focus();
}

function setStatus(state, text) {
  $("status").className = state;
  $("status").textContent = text;
}

function render({ state, text, data, roundTripMs }) {
  setStatus(state, text);
  const error = normalizeError(data.error);
  $("error").hidden = error === null;
  $("error-name").textContent = error === null ? "" : String(error.name ?? "Error");
  $("error-message").textContent = error === null ? "" : String(error.message ?? "");

  const hasResponse = data.response != null;
  $("response-block").hidden = !hasResponse;
  $("response-status").textContent = hasResponse ? String(data.response.status) : "";
  $("response-headers").textContent = hasResponse
    ? Object.entries(data.response.headers ?? {})
        .map(([name, value]) => `${name}: ${value}`)
        .join("\n")
    : "";
  $("response-body").textContent = !hasResponse
    ? ""
    : data.response.bodyEncoding === "base64"
      ? `(${data.response.body.length} characters of base64: the body is not UTF-8 text)\n${data.response.body}`
      : formatBody(data.response.body);

  const hasResult = "result" in data || (state === "ok" && !hasResponse);
  $("result-block").hidden = !hasResult;
  $("result").textContent = hasResult ? formatValue(data.result) : "";

  const logs = Array.isArray(data.logs) ? data.logs : [];
  $("logs-block").hidden = logs.length === 0;
  $("logs").replaceChildren(...logs.map(renderLog));

  const timed = typeof data.cpuMs === "number" || typeof data.wallMs === "number" || roundTripMs !== undefined;
  $("timings").hidden = !timed;
  $("cpu-ms").textContent = formatMs(data.cpuMs);
  $("wall-ms").textContent = formatMs(data.wallMs);
  $("round-trip-ms").textContent = formatMs(roundTripMs);
}

// /v1/run answers {name, message}; code mode's executor answers a string such as "TypeError: nope".
function normalizeError(error) {
  if (error === undefined || error === null) return null;
  if (typeof error === "object") return error;
  const text = String(error);
  const match = /^([A-Z][\w$]*): ([\s\S]*)$/.exec(text);
  return match ? { name: match[1], message: match[2] } : { name: "Error", message: text };
}

function renderLog(log) {
  const item = document.createElement("li");
  let level = typeof log === "object" && log !== null && typeof log.level === "string" ? log.level : "log";
  const parts = typeof log === "object" && log !== null ? (log.message ?? log.args ?? log.parts ?? [log]) : [log];
  let text = (Array.isArray(parts) ? parts : [parts]).map((part) => (typeof part === "string" ? part : formatValue(part, 0))).join(" ");
  // Code Mode's lines are text with the level in front ("[warn] …"): the level goes to the badge.
  const prefixed = /^\[(warn|error|info|debug)\] /.exec(text);
  if (prefixed !== null && (level === "log" || level === prefixed[1])) {
    level = prefixed[1];
    text = text.slice(prefixed[0].length);
  }
  item.className = `log-${level}`;
  const badge = document.createElement("span");
  badge.className = "level";
  badge.textContent = level;
  const body = document.createElement("span");
  body.textContent = text;
  item.append(badge, body);
  return item;
}

function formatValue(value, indent = 2) {
  if (value === undefined) return "undefined";
  try {
    return JSON.stringify(value, null, indent) ?? String(value);
  } catch {
    return String(value);
  }
}

function formatBody(body) {
  if (typeof body !== "string") return formatValue(body);
  try {
    return JSON.stringify(JSON.parse(body), null, 2);
  } catch {
    return body;
  }
}

function formatMs(ms) {
  return typeof ms === "number" ? `${ms < 10 ? ms.toFixed(2) : ms.toFixed(1)} ms` : "–";
}
