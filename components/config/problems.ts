/**
 * A problem with a stack's config, named by its full config key (`kubeherd:versions.kubelet`,
 * `kubeherd:pools[1].nodes[0].host`). Errors stop the plan and the program before any resource is registered;
 * warnings are printed and let it go on.
 */
export interface Problem {
  readonly key: string;
  readonly message: string;
  readonly severity: "error" | "warning";
}

export const error = (key: string, message: string): Problem => ({ key, message, severity: "error" });
export const warning = (key: string, message: string): Problem => ({ key, message, severity: "warning" });

export const formatProblem = (p: Problem): string =>
  `${p.severity === "warning" ? "warning: " : ""}${p.key}: ${p.message}`;

/** Thrown when a stack's config has errors; its message has one line per problem. */
export class ConfigError extends Error {
  constructor(readonly problems: readonly Problem[]) {
    super(problems.map(formatProblem).join("\n"));
    this.name = "ConfigError";
  }
}

/** `kubeherd:pools[1].nodes[0].host` from the key and a path of object keys and array indexes. */
export function configKey(key: string, path: readonly PropertyKey[] = []): string {
  let out = `kubeherd:${key}`;
  for (const part of path) {
    out += typeof part === "number" ? `[${part}]` : `.${String(part)}`;
  }
  return out;
}
