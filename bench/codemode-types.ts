// Type generation for GitHub's REST API (@octokit/openapi, ~1,000 operations): islet/codemode's
// own generator against json-schema-to-typescript, the well-kept library for the job.
//   node --import tsx bench/codemode-types.ts [--rounds N]
// json-schema-to-typescript is measured on the component schemas alone (one compile of all of
// them as definitions, no formatting): less than the whole API, so the comparison favours it.

import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { compile } from "json-schema-to-typescript";
import { fromOpenApi, generateApi } from "../src/codemode/index.ts";
import { summarize } from "./stats.ts";

const rounds = Number(process.argv[process.argv.indexOf("--rounds") + 1]) || 5;
const path = createRequire(import.meta.url).resolve("@octokit/openapi/generated/api.github.com.json");
const text = readFileSync(path, "utf8");

const samples = { parse: [] as number[], source: [] as number[], types: [] as number[], total: [] as number[] };
let api = "";
let operations = 0;
let namedTypes = 0;
for (let i = 0; i < rounds + 1; i++) {
  const t0 = performance.now();
  const document = JSON.parse(text);
  const t1 = performance.now();
  const source = fromOpenApi(document, { namespace: "github" });
  const t2 = performance.now();
  const generated = generateApi([source]);
  const t3 = performance.now();
  if (i === 0) continue; // warm-up
  samples.parse.push(t1 - t0);
  samples.source.push(t2 - t1);
  samples.types.push(t3 - t2);
  samples.total.push(t3 - t0);
  api = generated.text;
  operations = source.tools.length - 1;
  namedTypes = generated.namespaces[0].types.length;
}

const document = JSON.parse(text);
const root = { title: "Root", type: "object", properties: {} as Record<string, unknown>, additionalProperties: false, definitions: {} as Record<string, unknown> };
for (const [name, schema] of Object.entries(document.components.schemas)) {
  root.definitions[name] = schema;
  root.properties[name] = { $ref: `#/definitions/${name}` };
}
const rootText = JSON.stringify(root).replaceAll("#/components/schemas/", "#/definitions/");
const libSamples: number[] = [];
let libChars = 0;
for (let i = 0; i < Math.min(rounds, 3); i++) {
  const t0 = performance.now();
  const out = await compile(JSON.parse(rootText), "Root", { bannerComment: "", format: false, unreachableDefinitions: true });
  libSamples.push(performance.now() - t0);
  libChars = out.length;
}

const ms = (xs: number[]) => `${summarize(xs).p50.toFixed(0)} ms`;
console.log(`GitHub REST API: ${operations} operations + request(), ${namedTypes} named types, ${(api.length / 1024).toFixed(0)} KiB of TypeScript`);
console.log(`islet/codemode (p50 of ${rounds}): JSON.parse ${ms(samples.parse)}, fromOpenApi ${ms(samples.source)}, generateApi ${ms(samples.types)}; total ${ms(samples.total)}`);
console.log(`json-schema-to-typescript 16 (p50 of ${libSamples.length}): ${ms(libSamples)} for the ${Object.keys(document.components.schemas).length} component schemas alone, ${(libChars / 1024).toFixed(0)} KiB`);
