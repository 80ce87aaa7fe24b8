/**
 * The one code path from raw stack config to a validated `KubeherdConfig`. The program feeds it from
 * `pulumi.Config` (components/stack/config-source.ts), the plan command from `Pulumi.<stack>.yaml` (./stackfile.ts).
 */
import { checkVersions } from "../versions/rules";
import { error, warning, configKey, type Problem } from "./problems";
import { configSchema, CONFIG_KEYS, type KubeherdConfig } from "./schema";
import { checkPools } from "./pools";

/** Where a stack's `kubeherd:*` values come from. Keys are given without the `kubeherd:` namespace. */
export interface ConfigSource {
  /** The parsed value of `kubeherd:<key>` (objects as objects), or undefined when unset. */
  get(key: string): unknown;
  /** Whether `kubeherd:<key>` is set, and whether it is stored as a secret. Secret values are never read here. */
  secretState(key: string): "secret" | "plain" | "absent";
  /** All `kubeherd:*` keys that are set (to report unknown ones). */
  keys(): string[];
}

export interface LoadOptions {
  /**
   * What an unset secret is: an error for the program, which needs them (`require`); a warning for the offline
   * plan, which says that `pulumi up` will (`warn`); nothing for commands that never use them (`skip`: status,
   * promote). A secret stored in plain text is an error whatever the command.
   */
  secrets: "require" | "warn" | "skip";
}

export interface LoadResult {
  config?: KubeherdConfig;
  /** Errors and warnings, in config order. The config is only returned when there is no error. */
  problems: Problem[];
}

const optionalKeys = new Set(["repositories", "os", "promotion"]);

export function loadConfig(source: ConfigSource, options: LoadOptions): LoadResult {
  const problems: Problem[] = [];
  const raw: Record<string, unknown> = {};

  for (const key of CONFIG_KEYS) {
    const value = source.get(key);
    if (value === undefined) {
      if (!optionalKeys.has(key)) problems.push(error(configKey(key), "is required"));
      continue;
    }
    if (source.secretState(key) === "secret") {
      problems.push(error(configKey(key), "must not be a secret: it is reviewed as code"));
      continue;
    }
    const parsed = configSchema.shape[key].safeParse(value);
    if (!parsed.success) {
      for (const issue of parsed.error.issues) problems.push(error(configKey(key, issue.path), issue.message));
      continue;
    }
    raw[key] = value;
  }
  if (problems.length > 0) return { problems };

  const config = configSchema.parse(raw);
  problems.push(...checkPools(config), ...checkVersions(config), ...checkSecrets(config, source, options));

  const known = new Set<string>([...CONFIG_KEYS, ...secretKeysOf(config)]);
  for (const key of source.keys()) {
    if (!known.has(key)) problems.push(error(configKey(key), `is not a kubeherd setting (known: ${CONFIG_KEYS.join(", ")})`));
  }
  return problems.some((p) => p.severity === "error") ? { problems } : { config, problems };
}

/** The config keys that hold secrets for this config: the kubeconfig and each pets pool's SSH key. */
export function secretKeysOf(config: KubeherdConfig): string[] {
  const keys = new Set([config.cluster.kubeconfigSecret]);
  for (const pool of config.pools) {
    if (pool.mode === "pets" && pool.ssh) keys.add(pool.ssh.privateKeySecret);
  }
  return [...keys];
}

function checkSecrets(config: KubeherdConfig, source: ConfigSource, options: LoadOptions): Problem[] {
  const users = new Map<string, string>([[config.cluster.kubeconfigSecret, "the Kubernetes provider and the node operations"]]);
  for (const pool of config.pools) {
    if (pool.mode === "pets" && pool.ssh) {
      const prior = users.get(pool.ssh.privateKeySecret);
      users.set(pool.ssh.privateKeySecret, prior && prior.startsWith("SSH") ? `${prior}, ${pool.name}` : `SSH to pets pool ${pool.name}`);
    }
  }
  const problems: Problem[] = [];
  for (const [key, use] of users) {
    const state = source.secretState(key);
    if (state === "plain") {
      problems.push(error(configKey(key), `must be a secret: set it with pulumi config set --secret kubeherd:${key}`));
    } else if (state === "absent") {
      const message = `is not set (needed for ${use}): pulumi config set --secret kubeherd:${key} < FILE`;
      if (options.secrets === "require") problems.push(error(configKey(key), message));
      else if (options.secrets === "warn") problems.push(warning(configKey(key), `${message}; the plan does not need it, pulumi up does`));
    }
  }
  return problems;
}
