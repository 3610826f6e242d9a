// The syntax of a package specifier ("zod", "@scope/name/sub/path"), checked before any file is
// read: a valid npm name, and a subpath with no segment a path could climb out or hide behind.

const NAME = /^(?:@[a-z0-9~-][a-z0-9._~-]*\/)?[a-z0-9~-][a-z0-9._~-]*$/i;
// A subpath segment: no separators, no "%" (an encoded one), no ":" or control characters, nothing a shell or a path would read specially.
const SEGMENT = /^[^\\/%:\s\0-\x1f\x7f*?"<>|#]+$/;

/** A specifier's package name and subpath, or why it cannot name a package (with the name, when only the subpath is wrong). */
export function parsePackageSpecifier(specifier: string): { name: string; subpath: string } | { problem: string; name?: string } {
  if (specifier.length === 0 || specifier.length > 1024) return { problem: "a package specifier is 1 to 1024 characters long" };
  const parts = specifier.split("/");
  const nameParts = specifier.startsWith("@") ? 2 : 1;
  const name = parts.slice(0, nameParts).join("/");
  if (name.length > 214 || !NAME.test(name)) return { problem: `"${name}" is not a valid npm package name` };
  const rest = parts.slice(nameParts);
  for (const segment of rest) {
    if (segment === "" || segment === "." || segment === "..") return { problem: 'a package subpath may not have empty, "." or ".." segments', name };
    if (!SEGMENT.test(segment)) return { problem: 'a package subpath may not contain \\ % : # * ? " < > | or control characters', name };
  }
  return { name, subpath: rest.join("/") };
}
