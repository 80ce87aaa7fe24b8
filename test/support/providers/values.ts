/**
 * Property values as the engine sends them to a provider that accepts secrets: a secret is an object carrying
 * Pulumi's secret signature around its value, an unknown is a fixed UUID string (never seen outside previews).
 */
export type PropertyMap = Record<string, unknown>;

const SIG_KEY = "4dabf18193072939515e22adb298388d";
const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";

function isSecret(v: unknown): v is { value: unknown } {
  return typeof v === "object" && v !== null && (v as Record<string, unknown>)[SIG_KEY] === SECRET_SIG;
}

/** The plain value: every secret wrapper removed, at any depth. */
export function reveal(v: unknown): unknown {
  if (isSecret(v)) return reveal(v.value);
  if (Array.isArray(v)) return v.map(reveal);
  if (typeof v === "object" && v !== null) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, reveal(x)]));
  return v;
}

/** Wraps a value as a secret output, as a real provider marks a sensitive attribute. */
export function secret(value: unknown): unknown {
  return { [SIG_KEY]: SECRET_SIG, value };
}

/** A string input (after `reveal`), or an error naming the property: the stand-ins check what they use. */
export function stringProp(props: PropertyMap, key: string, where: string): string {
  const v = reveal(props[key]);
  if (typeof v !== "string" || v === "") throw new Error(`${where}: property "${key}" must be a non-empty string, got ${JSON.stringify(v)}`);
  return v;
}
