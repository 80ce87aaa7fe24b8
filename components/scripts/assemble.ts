/**
 * Puts a node script together: the prelude, then only the bash functions the body calls (directly or through
 * other functions, in library order), then the body. Unused functions would be dead code a reader has to skip
 * (and that shellcheck flags as unreachable).
 */

interface ShellFunction {
  name: string;
  /** The definition with its leading comment and any variable it owns. */
  text: string;
}

/** Splits function libraries (blank-line separated definitions) into named functions. */
export function shellFunctions(...libraries: readonly string[]): ShellFunction[] {
  return libraries.flatMap((library) =>
    library
      .split(/\n\s*\n/)
      .map((chunk) => chunk.replace(/^\n+|\n+$/g, ""))
      .filter((chunk) => chunk.length > 0)
      .map((text) => {
        const m = /^([a-z_][a-z0-9_]*)\(\) \{/m.exec(text);
        if (!m) throw new Error(`not a bash function definition:\n${text}`);
        return { name: m[1], text };
      }),
  );
}

const calls = (text: string, name: string) => new RegExp(`(^|[^A-Za-z0-9_-])${name}($|[^A-Za-z0-9_-])`, "m").test(text);

/** The functions `body` needs, transitively, in library order. */
export function neededFunctions(library: readonly ShellFunction[], body: string): ShellFunction[] {
  const needed = new Set<string>();
  const pending = [body];
  while (pending.length > 0) {
    const text = pending.pop() as string;
    for (const fn of library) {
      if (!needed.has(fn.name) && calls(text.replace(new RegExp(`^${fn.name}\\(\\) \\{`, "m"), ""), fn.name)) {
        needed.add(fn.name);
        pending.push(fn.text);
      }
    }
  }
  return library.filter((fn) => needed.has(fn.name));
}

export function assembleScript(head: string, library: readonly ShellFunction[], body: readonly string[]): string {
  const bodyText = body.join("\n");
  const functions = neededFunctions(library, bodyText).map((fn) => fn.text);
  return [head, ...functions.map((f) => `\n${f}`), bodyText, ""].join("\n");
}
