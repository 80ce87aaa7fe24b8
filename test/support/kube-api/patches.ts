/**
 * The patch types the API server accepts on a Node: JSON Patch (RFC 6902, client-node 1.x's default),
 * JSON merge patch (RFC 7386) and strategic merge patch, which for the maps kubeherd patches (annotations, spec
 * fields) merges exactly like a merge patch.
 */
type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

export function mergePatch(target: unknown, patch: unknown): unknown {
  if (typeof patch !== "object" || patch === null || Array.isArray(patch)) return patch;
  const out: Record<string, unknown> = typeof target === "object" && target !== null && !Array.isArray(target) ? { ...(target as Record<string, unknown>) } : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete out[key];
    else out[key] = mergePatch(out[key], value);
  }
  return out;
}

interface Operation {
  op: string;
  path: string;
  value?: Json;
}

function jsonPatch(target: unknown, ops: Operation[]): unknown {
  const doc = structuredClone(target) as Record<string, unknown>;
  for (const { op, path, value } of ops) {
    const parts = path.split("/").slice(1).map((p) => p.replace(/~1/g, "/").replace(/~0/g, "~"));
    const last = parts.pop();
    if (last === undefined) throw new Error(`json patch: empty path`);
    let parent: Record<string, unknown> = doc;
    for (const p of parts) {
      if (typeof parent[p] !== "object" || parent[p] === null) {
        if (op !== "add") throw new Error(`json patch: ${path} does not exist`);
        parent[p] = {};
      }
      parent = parent[p] as Record<string, unknown>;
    }
    if (op === "add" || op === "replace") parent[last] = value;
    else if (op === "remove") {
      if (!(last in parent)) throw new Error(`json patch: cannot remove ${path}: it does not exist`);
      delete parent[last];
    } else if (op === "test") {
      if (JSON.stringify(parent[last]) !== JSON.stringify(value)) throw new Error(`json patch: test of ${path} failed`);
    } else throw new Error(`json patch: unsupported op ${op}`);
  }
  return doc;
}

export function applyPatch<T>(target: T, contentType: string, patch: unknown): { value: T } | { error: string } {
  switch (contentType) {
    case "application/merge-patch+json":
    case "application/strategic-merge-patch+json":
      return { value: mergePatch(target, patch) as T };
    case "application/json-patch+json":
      return { value: jsonPatch(target, patch as Operation[]) as T };
    default:
      return { error: `the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml (got ${contentType})` };
  }
}
