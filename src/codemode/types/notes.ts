// Sentences that many tool descriptions of one namespace repeat word for word ("Only works within
// allowed directories." in ten of a filesystem server's fourteen tools) are said once, in a note on
// the namespace that names which methods it is about, instead of once per method. The note keeps
// the sentence exact and says precisely where it applies, so nothing the model reads is lost.

export interface NamespaceNote {
  /** The sentence, exactly as the descriptions have it. */
  sentence: string;
  /** Indexes of the tools whose descriptions had it. */
  tools: number[];
  /** The note as the namespace doc writes it: the sentence and the methods it is about. */
  text: string;
}

export interface HoistedDescriptions {
  notes: NamespaceNote[];
  /** Each tool's description without the hoisted sentences (undefined stays undefined). */
  descriptions: (string | undefined)[];
  /** For each tool, the notes (indexes into `notes`) its description had. */
  notesOf: number[][];
}

/** A sentence must be in this many descriptions to be hoisted. */
const MIN_TOOLS = 3;
/** A note names at most this many methods (those it is about, or those it is not); past that it is no help to read. */
const MAX_NAMED = 8;
const MIN_SENTENCE_LENGTH = 12;

/**
 * Splits a description into sentences and the whitespace between them: `[s0, gap, s1, gap, s2]`.
 * A sentence ends at `.`, `!` or `?` followed by whitespace and a capital (or an opening quote or
 * bracket), so "e.g. the" and "v1.2" stay inside their sentence.
 */
function sentencePieces(text: string): string[] {
  return text.split(/(?<=[.!?])(\s+)(?=[A-Z"'`([])/);
}

function listNames(names: readonly string[]): string {
  return names.length === 1 ? names[0] : `${names.slice(0, -1).join(", ")} and ${names[names.length - 1]}`;
}

/** The note for `sentence` said of `members` out of `all` methods, or undefined when naming them would be no help. */
function noteText(sentence: string, members: readonly string[], all: readonly string[]): string | undefined {
  if (members.length === all.length) return `Every method: ${sentence}`;
  const others = all.filter((name) => !members.includes(name));
  if (others.length <= members.length && others.length <= MAX_NAMED) return `Every method except ${listNames(others)}: ${sentence}`;
  if (members.length <= MAX_NAMED) return `${listNames(members)}: ${sentence}`;
  return undefined;
}

/**
 * Finds the sentences worth hoisting from `descriptions` (one per tool, `names` are the methods'
 * identifiers) and removes them from the descriptions. Deterministic: notes are ordered by where
 * the sentence first occurs.
 */
export function hoistSharedSentences(descriptions: readonly (string | undefined)[], names: readonly string[]): HoistedDescriptions {
  const pieces = descriptions.map((d) => (d === undefined ? [] : sentencePieces(d.trim())));
  const holders = new Map<string, number[]>();
  pieces.forEach((list, tool) => {
    const seen = new Set<string>();
    for (let i = 0; i < list.length; i += 2) {
      const sentence = list[i];
      // A description that is only this sentence would be left empty: the method would lose its doc.
      if (sentence.length < MIN_SENTENCE_LENGTH || list.length === 1 || seen.has(sentence)) continue;
      seen.add(sentence);
      let tools = holders.get(sentence);
      if (tools === undefined) holders.set(sentence, (tools = []));
      tools.push(tool);
    }
  });
  const notes: NamespaceNote[] = [];
  for (const [sentence, tools] of holders) {
    if (tools.length < MIN_TOOLS) continue;
    const text = noteText(sentence, tools.map((t) => names[t]), names);
    // Worth it only when the copies removed are longer than the note that replaces them.
    if (text === undefined || text.length >= tools.length * (sentence.length + 1)) continue;
    notes.push({ sentence, tools, text });
  }
  const notesOf = descriptions.map(() => [] as number[]);
  const hoisted = new Set(notes.map((n) => n.sentence));
  notes.forEach((note, index) => note.tools.forEach((tool) => notesOf[tool].push(index)));
  const stripped = descriptions.map((description, tool) => {
    if (description === undefined || notesOf[tool].length === 0) return description;
    const list = pieces[tool];
    const kept: string[] = [];
    for (let i = 0; i < list.length; i += 2) {
      if (hoisted.has(list[i])) continue;
      if (kept.length > 0) kept.push(list[i - 1] ?? " ");
      kept.push(list[i]);
    }
    return kept.join("");
  });
  return { notes, descriptions: stripped, notesOf };
}
