// Doc comments from schema and tool descriptions: `/** one line */` when short, a block otherwise.

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

/** The lines of a doc comment at `indent`, ending in a newline; "" when there is nothing to say. */
export function docComment(lines: readonly string[], indent: string): string {
  const body = lines
    .flatMap((line) => line.split(/\r?\n/))
    .map((line) => line.trimEnd().replace(/\*\//g, "*\\/"));
  while (body.length > 0 && body[0].trim() === "") body.shift();
  while (body.length > 0 && body[body.length - 1].trim() === "") body.pop();
  if (body.length === 0) return "";
  if (body.length === 1 && body[0].length <= 100) return `${indent}/** ${body[0].trim()} */\n`;
  return `${indent}/**\n${body.map((line) => (line === "" ? `${indent} *` : `${indent} * ${line}`)).join("\n")}\n${indent} */\n`;
}
