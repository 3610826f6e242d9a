// Doc comments from schema and tool descriptions: `/** one line */` when the text is one line, a
// block otherwise; and the facts a schema states besides its type (default, bounds, format), as tags.

export interface DocOptions {
  /** Descriptions longer than this are cut at a word boundary and end in "…". Default: no limit. */
  maxDescriptionLength?: number;
}

export function shortenDescription(text: string, max: number | undefined): string {
  const trimmed = text.trim();
  if (max === undefined || trimmed.length <= max) return trimmed;
  const cut = trimmed.slice(0, max);
  const space = cut.search(/\s\S*$/);
  return `${(space > max / 2 ? cut.slice(0, space) : cut).trimEnd()}…`;
}

function bodyLines(lines: readonly string[]): string[] {
  const body = lines.flatMap((line) => line.split(/\r?\n/)).map((line) => line.trimEnd().replace(/\*\//g, "*\\/"));
  while (body.length > 0 && body[0].trim() === "") body.shift();
  while (body.length > 0 && body[body.length - 1].trim() === "") body.pop();
  return body;
}

/** The lines of a doc comment at `indent`, ending in a newline; "" when there is nothing to say. */
export function docComment(lines: readonly string[], indent: string): string {
  // One line however long: a block's ` * ` and closing line cost tokens and say nothing.
  const inline = inlineDocComment(lines);
  if (inline !== undefined) return inline === "" ? "" : `${indent}${inline}\n`;
  const body = bodyLines(lines);
  return `${indent}/**\n${body.map((line) => (line === "" ? `${indent} *` : `${indent} * ${line}`)).join("\n")}\n${indent} */\n`;
}

/**
 * The doc comment to write on the same line as a member (`/** … *\/ key: type;`), or undefined when
 * the text has several lines and needs a block. The lines (a description, then tags) become one.
 */
export function inlineDocComment(lines: readonly string[]): string | undefined {
  const body = bodyLines(lines);
  if (body.length === 0) return "";
  if (body.slice(1).some((line) => !line.trimStart().startsWith("@"))) return undefined;
  return `/** ${body.map((line) => line.trim()).join(" ")} */`;
}

/** Schema keywords worth telling the model, as `@tag value`. */
const TAGGED_KEYWORDS = ["default", "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "minLength", "maxLength", "minItems", "maxItems", "pattern", "format"] as const;
const MAX_TAG_VALUE = 200;

/** `@default 3 @maximum 100`-style tags for what a schema states besides its type; "" when nothing. */
export function constraintTags(schema: { [key: string]: unknown }): string {
  const tags: string[] = [];
  for (const keyword of TAGGED_KEYWORDS) {
    const value = schema[keyword];
    if (value === undefined) continue;
    // OpenAPI 3.0 writes exclusiveMinimum as a boolean flag on minimum; 3.1 as the bound itself.
    if ((keyword === "exclusiveMinimum" || keyword === "exclusiveMaximum") && typeof value !== "number") continue;
    // A tuple's type says how many items it takes already.
    if ((keyword === "minItems" || keyword === "maxItems") && (Array.isArray(schema.items) || Array.isArray(schema.prefixItems))) continue;
    let text = keyword === "format" && typeof value === "string" ? value : JSON.stringify(value);
    if (text === undefined) continue;
    if (text.length > MAX_TAG_VALUE) text = `${text.slice(0, MAX_TAG_VALUE - 1)}…`;
    tags.push(`@${keyword} ${text}`);
  }
  return tags.join(" ");
}

const fillerWords = new Set(["a", "an", "the", "of", "on", "in", "for", "to", "by", "from", "with", "and", "or", "its", "this", "that"]);

function words(text: string): Set<string> {
  const out = new Set<string>();
  // camelCase and snake_case split into words; a plural s is dropped so "reviews" matches "review".
  for (const raw of text.replace(/([a-z0-9])([A-Z])/g, "$1 $2").toLowerCase().split(/[^a-z0-9]+/)) {
    if (raw === "" || fillerWords.has(raw)) continue;
    out.add(raw.length > 3 && raw.endsWith("s") && !raw.endsWith("ss") ? raw.slice(0, -1) : raw);
  }
  return out;
}

/** "Merge a pull request" for `merge_pull_request`: a description that says nothing the name does not. */
export function saysOnlyTheName(description: string, name: string): boolean {
  if (description.length > 4 * name.length + 16) return false; // far too long to be only the name
  const said = words(description);
  const named = words(name);
  if (said.size === 0 || said.size !== named.size) return false;
  for (const word of said) if (!named.has(word)) return false;
  return true;
}
