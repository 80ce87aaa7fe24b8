/**
 * The one argv parser of `npm run plan`, `status` and `promote`: `--help` prints the usage and exits 0; an unknown
 * option, a missing one, a value outside its choices or a stack name that is not one exits 2 with one line and the
 * usage. A stack name becomes a file name (`Pulumi.NAME.yaml` in the project), so it is checked by a strict pattern
 * before any file is opened.
 */
import { parseArgs, type ParseArgsConfig } from "node:util";
import { STACK_FILE_NAME } from "../components/config/patterns";

export interface OptionSpec {
  type: "string" | "boolean";
  /** Shown in the usage: `--stack NAME`. */
  value?: string;
  /** What the option does, one line of the help. */
  help: string;
  default?: string | boolean;
  choices?: readonly string[];
  required?: boolean;
  /** The value names a stack of this project (`Pulumi.<value>.yaml`). */
  stack?: boolean;
  /** Only with this boolean option (`--kubeconfig` goes with `--live`). */
  with?: string;
}

export interface CommandSpec {
  /** `npm run plan`. */
  command: string;
  /** What the command does, the help's first line. */
  summary: string;
  options: Record<string, OptionSpec>;
}

type Values = Record<string, string | boolean | undefined>;

export type ParsedCommand = { values: Values } | { exit: 0 | 2 };

const optionWords = (name: string, o: OptionSpec) => `--${name}${o.type === "string" ? ` ${o.choices ? o.choices.join("|") : (o.value ?? "VALUE")}` : ""}`;

export function usage(spec: CommandSpec): string {
  const words = Object.entries(spec.options).map(([name, o]) => (o.required ? optionWords(name, o) : `[${optionWords(name, o)}]`));
  return `usage: ${spec.command} -- ${words.join(" ")}`;
}

export function help(spec: CommandSpec): string {
  const rows = Object.entries(spec.options).map(([name, o]) => [optionWords(name, o), o.help + (o.default !== undefined && o.default !== false ? ` (default: ${String(o.default)})` : "")]);
  const width = Math.max(...rows.map(([w]) => w.length), "--help".length);
  return [usage(spec), "", spec.summary, "", ...[...rows, ["--help", "print this help and exit"]].map(([w, h]) => `  ${w.padEnd(width)}  ${h}`)].join("\n");
}

/** The problem with `argv` for `spec`, or its values; `--help` anywhere wins. */
export function checkArgs(spec: CommandSpec, argv: readonly string[]): { help: true } | { error: string } | { values: Values } {
  if (argv.includes("--help") || argv.includes("-h")) return { help: true };
  let values: Values;
  try {
    const options = Object.fromEntries(Object.entries(spec.options).map(([name, o]) => [name, { type: o.type, ...(o.default !== undefined ? { default: o.default } : {}) }]));
    ({ values } = parseArgs({ args: [...argv], options: options as ParseArgsConfig["options"], strict: true }));
  } catch (e) {
    return { error: (e as Error).message };
  }
  for (const [name, o] of Object.entries(spec.options)) {
    const value = values[name];
    if (value === undefined) {
      if (o.required) return { error: `--${name} is required` };
      continue;
    }
    if (o.with !== undefined && !values[o.with]) return { error: `--${name} goes with --${o.with}` };
    if (typeof value !== "string") continue;
    if (o.choices && !o.choices.includes(value)) return { error: `--${name} must be one of ${o.choices.join(", ")}` };
    if (o.stack && !STACK_FILE_NAME.test(value)) {
      return { error: `--${name} must be the name of a stack of this project (letters, digits, '.', '_', '-'; its file is Pulumi.NAME.yaml): got ${JSON.stringify(value)}` };
    }
  }
  return { values };
}

/** Parses argv for a command's `main`: prints the help (exit 0) or one line and the usage (exit 2) when it must. */
export function parseCommand(spec: CommandSpec, argv: readonly string[], io: { out: (text: string) => void; err: (text: string) => void } = { out: (t) => console.log(t), err: (t) => console.error(t) }): ParsedCommand {
  const checked = checkArgs(spec, argv);
  if ("help" in checked) {
    io.out(help(spec));
    return { exit: 0 };
  }
  if ("error" in checked) {
    io.err(`${checked.error}\n${usage(spec)}`);
    return { exit: 2 };
  }
  return checked;
}
