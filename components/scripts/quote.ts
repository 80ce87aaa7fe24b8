/**
 * The one quoting function for everything that reaches a generated shell script. Config values are validated by
 * strict patterns (components/config/patterns.ts) and still quoted here, so a pattern that is ever loosened cannot
 * turn into shell injection.
 */

/** POSIX single quotes: the value is taken literally by any POSIX shell. `it's` becomes `'it'\''s'`. */
export function shellQuote(value: string): string {
  if (value.includes("\0")) {
    // A shell word cannot hold NUL; refusing is better than silently truncating a value.
    throw new Error("a shell word cannot contain a NUL character");
  }
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

/** One command line: a function or command name (a fixed identifier of ours) and its quoted arguments. */
export function shellCall(command: string, ...args: readonly string[]): string {
  if (!/^[a-z][a-z0-9_-]*$/.test(command)) {
    throw new Error(`not a plain command name: ${command}`);
  }
  return [command, ...args.map(shellQuote)].join(" ");
}

/** A bash array assignment: `name=('a' 'b')`, one element per line when it gets long. */
export function shellArray(name: string, values: readonly string[]): string {
  if (!/^[a-z_][a-z0-9_]*$/.test(name)) {
    throw new Error(`not a plain variable name: ${name}`);
  }
  const quoted = values.map(shellQuote);
  const oneLine = `${name}=(${quoted.join(" ")})`;
  return oneLine.length <= 110 ? oneLine : `${name}=(\n${quoted.map((q) => `  ${q}`).join("\n")}\n)`;
}

/**
 * Shell source written inside a TypeScript template: backslashes are kept as written (String.raw) and `\${` stands
 * for a literal `${`. It takes no interpolations, so no value can slip in unquoted.
 */
export function shellSource(strings: TemplateStringsArray): string {
  return strings.raw.join("").replaceAll("\\${", "${");
}
