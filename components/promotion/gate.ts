/**
 * The promotion gate: a stack that promotes from another (`kubeherd:promotion.from`) may only deploy what that
 * stack has completely rolled out. Pure: the Pulumi glue that reads the other stack is components/stack/promotion-reference.ts.
 */
import { configKey, error, warning, type Problem } from "../config/problems";
import type { KubeherdConfig } from "../config/schema";
import { PINNED_PACKAGES } from "../versions/pins";
import type { RolledOut } from "./rolled-out";

/** One gated value of the target: its config key, its value, and the source's and the stack's own completed value. */
interface Gated {
  key: string;
  what: string;
  value: string;
  source: (r: Release) => string | undefined;
  /** The versions (Kubernetes and pins) may be any one release the source passed through, taken whole. */
  staged?: boolean;
}

/** A release as the gate compares it: the source's current rollout, or one it passed through (`passed`). */
type Release = Pick<RolledOut, "kubernetes" | "pins"> & { release?: string };

function gatedValues(target: KubeherdConfig): Gated[] {
  return [
    { key: configKey("versions", ["kubernetes"]), what: "Kubernetes", value: target.versions.kubernetes, source: (r) => r.kubernetes, staged: true },
    ...PINNED_PACKAGES.flatMap((pkg): Gated[] => {
      const value = target.versions[pkg];
      return value === undefined ? [] : [{ key: configKey("versions", [pkg]), what: pkg, value, source: (r) => r.pins[pkg], staged: true }];
    }),
    { key: configKey("os", ["release"]), what: "an Ubuntu release", value: target.os.release, source: (r) => r.release },
  ];
}

const isEmpty = (r: RolledOut | undefined): r is undefined => !r || (Object.keys(r.pins).length === 0 && !r.kubernetes);

/**
 * Problems with deploying `target` when the stack it promotes from (`from`) has completed `source`.
 *
 * A value passes when the source runs exactly it, or when this stack itself already runs it (`current`, the stack's
 * own last `rolledOut`): that is no promotion, nothing on the nodes changes, and prod may stay behind dev.
 * With `kubeherd:promotion.override` set, every refusal becomes a warning that quotes the override.
 */
export function checkPromotion(target: KubeherdConfig, source: RolledOut | undefined, from: string, current?: RolledOut): Problem[] {
  const refusals: { key: string; message: string }[] = [];
  const overrideKey = configKey("promotion", ["override"]);
  const pending = gatedValues(target).filter((g) => !(current && g.source(current) === g.value));
  if (isEmpty(source)) {
    // Nothing to compare with; still, what this stack already runs needs no promotion.
    if (pending.length > 0) {
      refusals.push({ key: configKey("promotion", ["from"]), message: `${from} has not completed a rollout (its stack has no rolledOut output)` });
    }
  } else {
    // Stage by stage: the versions may be one release the source passed through (a stage of its journey, an
    // earlier rollout), taken whole, so no mix of two releases' pins passes.
    const staged = pending.filter((g) => g.staged);
    const passedWhole = (source.passed ?? []).find((r) => staged.every((g) => g.source(r) === g.value));
    const passedNames = (source.passed ?? []).map((r) => r.kubernetes);
    for (const g of pending) {
      const done = g.source(source);
      if (done === g.value || (g.staged && passedWhole)) continue;
      const runs = done === undefined ? `${from} does not pin ${g.what}` : `${from} runs ${done}`;
      const through = g.staged && passedNames.length > 0 ? `; it passed through ${passedNames.join(", ")}, each promotable whole (npm run promote proposes the next)` : "";
      refusals.push({ key: g.key, message: `${g.value} has not been rolled out on ${from} (${runs}${through})` });
    }
  }
  const override = target.promotion?.override;
  if (override === undefined) {
    return refusals.map((r) => error(r.key, `${r.message}: promote after ${from}'s pulumi up completes, or set ${overrideKey}`));
  }
  if (refusals.length === 0) return [warning(overrideKey, `is set but not needed: every pin has been rolled out on ${from}; remove it`)];
  return refusals.map((r) => warning(r.key, `${r.message}; deployed anyway under ${overrideKey}: "${override}"`));
}
