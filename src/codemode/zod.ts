// zod schemas (zod 4) as tool schemas: converted to JSON Schema for the types, kept for validation.

import { z } from "zod";
import type { JsonSchema } from "./provider.ts";

export type ZodSchema = z.ZodType;

export function isZodSchema(value: unknown): value is ZodSchema {
  return typeof value === "object" && value !== null && "_zod" in value && typeof (value as { safeParseAsync?: unknown }).safeParseAsync === "function";
}

/** The JSON Schema of a zod schema: what the tool accepts (`input`) or produces (`output`). */
export function zodToJsonSchema(schema: ZodSchema, io: "input" | "output"): JsonSchema {
  const { $schema: _dialect, ...json } = z.toJSONSchema(schema, { io, unrepresentable: "any" }) as { [key: string]: unknown };
  return json;
}

/** Parses `value` with `schema`: the parsed value (defaults applied) or a readable list of problems. */
export async function parseWithZod(schema: ZodSchema, value: unknown): Promise<{ ok: true; value: unknown } | { ok: false; problems: string }> {
  const result = await schema.safeParseAsync(value);
  return result.success ? { ok: true, value: result.data } : { ok: false, problems: z.prettifyError(result.error) };
}
