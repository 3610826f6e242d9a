// How many tokens a text costs a model, estimated without a tokenizer: a result budget counted in
// characters lets 40,000 characters of base64 or Japanese cost 27,000–30,000 tokens, and one of
// English JSON only 11,000. Calibrated against o200k_base (test/codemode/result-budget.test.ts):
// within 0.95–1.35× of the real count for English, JSON, code, base64, hex, UUIDs, numbers and
// Japanese, erring high where it errs, so a budget holds.

const PIECES = /[\p{L}\p{M}]+|\p{N}+|\s+|[^\s\p{L}\p{M}\p{N}]+/gu;

export function estimateTokens(text: string): number {
  let tokens = 0;
  for (const piece of text.match(PIECES) ?? []) {
    const first = piece.codePointAt(0)!;
    const length = piece.length;
    if (first <= 0x20 || /^\s/u.test(piece)) {
      // A single space joins the word after it; longer runs (indentation) cost about one per four.
      tokens += length > 1 ? Math.ceil(length / 4) : 0;
    } else if (/^\p{N}/u.test(piece)) {
      tokens += Math.ceil(length / 3);
    } else if (/^[\p{L}\p{M}]/u.test(piece)) {
      if (first > 0x2e7f) tokens += Math.ceil(length * 0.75);
      else if (first > 0x7f) tokens += Math.ceil(length / 2);
      else {
        // Random-looking runs (base64, ids: the case switches every few letters) split into short tokens.
        const switches = piece.match(/[a-z][A-Z]|[A-Z][a-z]/g)?.length ?? 0;
        tokens += switches > length / 6 ? Math.ceil(length / 1.6) : Math.ceil(length / 6);
      }
    } else {
      tokens += Math.ceil(length / 3);
    }
  }
  return tokens;
}
