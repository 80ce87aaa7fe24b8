/** `kubeherd:*` config as the Pulumi program sees it, for `loadConfig`. */
import * as pulumi from "@pulumi/pulumi";
import type { ConfigSource } from "../config/load";

// The SDK tracks which keys are secrets but does not declare `isConfigSecret` in its typings.
const runtime = pulumi.runtime as unknown as { isConfigSecret?: (key: string) => boolean };

export function pulumiConfigSource(namespace = "kubeherd"): ConfigSource {
  const full = (key: string) => `${namespace}:${key}`;
  const raw = (key: string) => pulumi.runtime.getConfig(full(key));
  return {
    get: (key) => {
      const value = raw(key);
      if (value === undefined) return undefined;
      try {
        return JSON.parse(value) as unknown;
      } catch {
        return value;
      }
    },
    secretState: (key) => (raw(key) === undefined ? "absent" : runtime.isConfigSecret?.(full(key)) ? "secret" : "plain"),
    keys: () =>
      Object.keys(pulumi.runtime.allConfig())
        .filter((k) => k.startsWith(`${namespace}:`))
        .map((k) => k.slice(namespace.length + 1)),
  };
}
