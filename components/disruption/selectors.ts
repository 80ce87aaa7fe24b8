/**
 * Kubernetes label selectors, as a PodDisruptionBudget uses them to pick its pods. In policy/v1 an empty
 * selector selects every pod of the namespace and a missing one selects none.
 */
import type { V1LabelSelector } from "@kubernetes/client-node";

export function selects(selector: V1LabelSelector | undefined, labels: Record<string, string> | undefined): boolean {
  if (!selector) return false;
  const have = labels ?? {};
  for (const [key, value] of Object.entries(selector.matchLabels ?? {})) {
    if (have[key] !== value) return false;
  }
  for (const req of selector.matchExpressions ?? []) {
    const present = Object.prototype.hasOwnProperty.call(have, req.key);
    const values = req.values ?? [];
    switch (req.operator) {
      case "In":
        if (!present || !values.includes(have[req.key])) return false;
        break;
      case "NotIn":
        if (present && values.includes(have[req.key])) return false;
        break;
      case "Exists":
        if (!present) return false;
        break;
      case "DoesNotExist":
        if (present) return false;
        break;
      default:
        // An operator this code does not know: select nothing rather than guess (the API server rejects them).
        return false;
    }
  }
  return true;
}
