// The searchable catalog of a provider set, as plain data (it is copied into a sandbox where the
// model's search code runs over it): one entry per tool with its generated types, the named types,
// and the whole API text.

import type { PromptInfo, ResourceInfo, ToolProvider } from "./provider.ts";
import { generateApi, type ApiOptions, type ProviderShape } from "./types/api.ts";
import type { ToolRename } from "./identifiers.ts";

export interface CatalogEntry {
  /** The namespace's identifier in the sandbox. */
  namespace: string;
  /** The method's name in the sandbox. */
  name: string;
  originalName: string;
  description: string;
  /** The input type written out in full ("" when the tool takes no input). */
  inputType: string;
  outputType: string;
  needsApproval: boolean;
  /** The declaration as it appears in the API, with its doc comment (sentences the namespace's notes say left out). */
  signature: string;
  /** The declaration with the tool's whole description, for showing it on its own. */
  standaloneSignature: string;
  /** Sentences of its description the namespace's notes say once for several tools (see types/notes.ts). */
  notes: string[];
  /** Named types (of this namespace) the input and output mention. */
  types: string[];
  /** Those of `types` the input mentions. */
  inputTypes: string[];
  /** Words search's find() ranks by besides names and description (method, path, tags, input property names). */
  keywords: string;
}

export interface Catalog {
  tools: CatalogEntry[];
  /** Named types: namespace identifier, name and declaration. */
  types: { namespace: string; name: string; declaration: string }[];
  namespaces: { namespace: string; originalName: string; description: string; tools: number; instructions?: string; resources?: ResourceInfo[]; prompts?: PromptInfo[] }[];
  renames: ToolRename[];
  /** The whole TypeScript API. */
  api: string;
}

export function buildCatalog(providers: readonly (ProviderShape | ToolProvider)[], options: ApiOptions = {}): Catalog {
  const api = generateApi(providers, options);
  return {
    tools: api.namespaces.flatMap((ns) =>
      ns.tools.map((tool) => ({
        namespace: ns.identifier,
        name: tool.name,
        originalName: tool.originalName,
        description: tool.description ?? "",
        inputType: tool.inputType,
        outputType: tool.outputType,
        needsApproval: tool.needsApproval,
        signature: tool.signature,
        standaloneSignature: tool.standaloneSignature,
        notes: tool.notes,
        types: tool.references,
        inputTypes: tool.inputReferences,
        keywords: tool.keywords,
      })),
    ),
    types: api.namespaces.flatMap((ns) => ns.types.map((t) => ({ namespace: ns.identifier, name: t.name, declaration: t.declaration }))),
    namespaces: api.namespaces.map((ns, i) => {
      const provider = providers[i] as Partial<ToolProvider>;
      return {
        namespace: ns.identifier,
        originalName: ns.namespace,
        description: ns.description ?? "",
        tools: ns.tools.length,
        ...(provider.instructions !== undefined ? { instructions: provider.instructions } : {}),
        ...(provider.resources?.length ? { resources: provider.resources } : {}),
        ...(provider.prompts?.length ? { prompts: provider.prompts } : {}),
      };
    }),
    renames: api.renames,
    api: api.text,
  };
}
