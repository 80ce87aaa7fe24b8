/** What changed between two configs, leaf by leaf, keyed like the config (`kubeherd:versions.kubelet`). */
import { configKey } from "../config/problems";
import { CONFIG_KEYS, type KubeherdConfig } from "../config/schema";

export type Scalar = string | number | boolean | null;

export interface Change {
  key: string;
  from: Scalar;
  to: Scalar;
}

export function configChanges(base: KubeherdConfig | undefined, target: KubeherdConfig): Change[] {
  const from = new Map<string, Scalar>();
  const to = new Map<string, Scalar>();
  for (const key of CONFIG_KEYS) {
    if (base) flatten(base[key], [], (path, v) => from.set(configKey(key, path), v));
    flatten(target[key], [], (path, v) => to.set(configKey(key, path), v));
  }
  const keys = [...new Set([...to.keys(), ...from.keys()])];
  return keys
    .filter((k) => from.get(k) !== to.get(k))
    .map((key) => ({ key, from: from.get(key) ?? null, to: to.get(key) ?? null }));
}

function flatten(value: unknown, path: (string | number)[], emit: (path: (string | number)[], v: Scalar) => void): void {
  if (value === undefined) return;
  if (Array.isArray(value)) {
    value.forEach((item, i) => flatten(item, [...path, i], emit));
  } else if (typeof value === "object" && value !== null) {
    for (const [k, v] of Object.entries(value)) flatten(v, [...path, k], emit);
  } else {
    emit(path, value as Scalar);
  }
}
