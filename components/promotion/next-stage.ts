/**
 * Promotion stage by stage: when the source stack's control plane is more than one minor ahead of the target's,
 * `npm run promote` proposes the next stage of the source's journey (the target's next minor, with the release and
 * pins the source's `versions.journey` gives for it) instead of the whole bump, so prod follows dev one minor per
 * reviewed promotion; the promotion gate accepts it once dev has passed through it (gate.ts, `rolledOut.passed`).
 * Pure: the two configs' versions in, the versions to write out.
 */
import type { JourneyStagePins, Versions } from "../config/schema";
import { minorOf, parseKubeVersion } from "../versions/kubernetes";

export type NextStage =
  | { kind: "whole" }
  | { kind: "stage"; minor: string; pins: JourneyStagePins; path: string[] }
  | { kind: "refused"; message: string };

/** What to promote from `source` to a target whose control plane runs `targetKubernetes`. */
export function nextStage(source: Pick<Versions, "kubernetes" | "journey">, targetKubernetes: string | undefined): NextStage {
  const a = targetKubernetes === undefined ? undefined : parseKubeVersion(targetKubernetes);
  const b = parseKubeVersion(source.kubernetes);
  if (!a || !b || a.major !== b.major || b.minor - a.minor <= 1) return { kind: "whole" };
  const minor = minorOf({ ...a, minor: a.minor + 1 });
  const path = Array.from({ length: b.minor - a.minor + 1 }, (_, i) => minorOf({ ...a, minor: a.minor + i }));
  const pins = source.journey.find((entry) => {
    const v = parseKubeVersion(entry.kubernetes);
    return v !== undefined && minorOf(v) === minor;
  });
  if (!pins) {
    return {
      kind: "refused",
      message: `kubeherd:versions.journey: the source runs ${source.kubernetes}, ${path.length - 1} minors ahead of the target's ${targetKubernetes} (${path.join(" → ")}), and its file gives no release of ${minor}: add the ${minor} release and pins its control plane passed through to its versions.journey, then promote again`,
    };
  }
  return { kind: "stage", minor, pins, path };
}
