/**
 * The program's transition check: `pulumi preview` and `pulumi up` judge the stack's config against what the
 * stack itself has rolled out (its own `rolledOut` output, components/promotion/rolled-out.ts), with the same
 * judge and the same lines as `npm run plan` (components/versions/transition.ts), before any node resource is
 * registered. A stack that has never completed a rollout (no `rolledOut`) is a first deployment: nothing to judge.
 */
import * as pulumi from "@pulumi/pulumi";
import { formatProblem, type Problem } from "./config/problems";
import type { KubeherdConfig } from "./config/schema";
import { PINNED_PACKAGES } from "./versions/pins";
import { readRolledOut } from "./stack/promotion-reference";
import type { RolledOut } from "./promotion/rolled-out";
import { judgePlacement } from "./versions/placement";
import { judgeTransition, type Deployed } from "./versions/transition";
import { isJourney, journeyPoolProblems, planJourney, type Journey } from "./versions/journey";
import { journeyDeclarations, type JourneyDeclarations } from "./rollout/journey-plan";

/** A stack's `rolledOut` as the judge reads it: its pins (known packages only), its release and its Kubernetes. */
export function deployedOfRolledOut(r: RolledOut): Deployed {
  const pins: Deployed["pins"] = {};
  for (const pkg of PINNED_PACKAGES) if (r.pins[pkg] !== undefined) pins[pkg] = r.pins[pkg];
  const pools: NonNullable<Deployed["pools"]> = {};
  for (const [name, pool] of Object.entries(r.pools ?? {})) {
    const own: Deployed["pins"] = {};
    for (const pkg of PINNED_PACKAGES) if (pool.pins[pkg] !== undefined) own[pkg] = pool.pins[pkg];
    pools[name] = own;
  }
  const placement = { ...(r.image !== undefined ? { image: r.image } : {}), ...(r.region !== undefined ? { region: r.region } : {}) };
  return { kubernetes: r.kubernetes.replace(/^v/, ""), pins, release: r.release, pools, ...placement };
}

/**
 * The transition problems of this stack's config (deployed with `region`, `aws:region`) against its own last
 * completed rollout, and that rollout.
 */
export async function transitionProblems(config: KubeherdConfig, region?: string): Promise<{ problems: Problem[]; rolledOut?: RolledOut }> {
  const self = await readRolledOut("kubeherd-rolled-out", `${pulumi.getOrganization()}/${pulumi.getProject()}/${pulumi.getStack()}`);
  if (self.problems.length > 0) return { problems: self.problems };
  if (!self.value) return { problems: [] };
  const from = deployedOfRolledOut(self.value);
  // A multi-minor bump is a journey the program walks (journeyOfStack), judged as the plan judges it.
  return { problems: [...judgeTransition(from, config, { journeys: true }), ...(isJourney(from, config) ? journeyPoolProblems(from, config) : []), ...judgePlacement(from, config, region)], rolledOut: self.value };
}

/**
 * The journey this `up` walks from what the stack has rolled out to its config (the plan's stages, in order), or
 * undefined when the control plane moves at most one minor. Throws a RunError, before any node resource is
 * registered, when the program cannot walk it in one `up` (components/rollout/journey-plan.ts).
 */
export function journeyOfStack(config: KubeherdConfig, rolledOut: RolledOut | undefined, region: string): { journey: Journey; declarations: JourneyDeclarations } | undefined {
  if (!rolledOut) return undefined;
  const { journey } = planJourney(deployedOfRolledOut(rolledOut), config);
  if (!journey) return undefined;
  const declarations = journeyDeclarations(config, journey, region);
  const errors = declarations.problems.filter((p) => p.severity === "error");
  if (errors.length > 0) throw new pulumi.RunError(`journey refused:\n${errors.map(formatProblem).join("\n")}`);
  void pulumi.log.info(`a journey of ${journey.stages.length} stages (${journey.path.join(" → ")}): ${journey.stages.map((s) => `stage ${s.number}: ${s.kind} to ${s.minor} (${s.pools.join(", ")})`).join("; ")}`);
  return { journey, declarations };
}

/**
 * Logs the judge's warnings and throws a RunError listing its errors, one line per config key; else returns what
 * the stack has rolled out (undefined on a first deployment).
 */
export async function enforceTransition(config: KubeherdConfig, region?: string): Promise<RolledOut | undefined> {
  const { problems, rolledOut } = await transitionProblems(config, region);
  for (const p of problems.filter((p) => p.severity === "warning")) void pulumi.log.warn(`${p.key}: ${p.message}`);
  const errors = problems.filter((p) => p.severity === "error");
  if (errors.length > 0) {
    throw new pulumi.RunError(`transition refused (judged against what this stack has rolled out):\n${errors.map(formatProblem).join("\n")}`);
  }
  return rolledOut;
}
