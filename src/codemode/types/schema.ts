// One schema on its own as TypeScript: its declarations and the type, for callers outside a provider set.

import type { JsonSchema } from "../provider.ts";
import type { DocOptions } from "./doc-comment.ts";
import { QUALIFIER, TypeWriter } from "./type-writer.ts";

/**
 * `type <name> = …` (or an interface) for `schema`, preceded by the named types its `$ref`s need.
 * `definitions` resolves `#/$defs/<name>` references the schema does not define itself.
 */
export function schemaToTypeScript(schema: JsonSchema, name = "Root", options: DocOptions & { definitions?: Record<string, JsonSchema> } = {}): string {
  const writer = new TypeWriter(options);
  const typeName = writer.reserveName(name);
  writer.bindName(schema, typeName);
  writer.declare(typeName, schema, { root: schema, definitions: options.definitions });
  return writer
    .declarations()
    .map((d) => d.text.replaceAll(QUALIFIER, ""))
    .join("\n") + "\n";
}
