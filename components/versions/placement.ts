/**
 * Where a stack's instances are and what they boot, judged against what it rolled out (issue 19 item 4): two
 * changes that look small and would take every instance's capacity away.
 *
 * - `os.release` moves while `os.image` stays: a cattle node is replaced, and its new instance boots the old image,
 *   fails the boot script's release check (components/scripts/userdata.ts, "0. Ubuntu release") and never joins,
 *   after its old node was drained and terminated. Pets nodes upgrade in place (do-release-upgrade), so only cattle
 *   pools count.
 * - `aws:region` changes: every instance, launch template, SSM parameter and KMS key of the stack lives in the old
 *   region; the provider's region is provider config, not a resource input, so the diff does not show a move, and
 *   the nodes in the old region would be orphaned (still running and joined) while new ones are made elsewhere.
 */
import { createsInstances } from "../config/pools";
import { configKey, error, type Problem } from "../config/problems";
import type { KubeherdConfig } from "../config/schema";
import type { Deployed } from "./deployed";

/** The AWS side of what a config deploys: recorded in `rolledOut` and compared by `judgePlacement`. */
export interface Placement {
  /** `os.image`, when a cattle pool boots it. */
  image?: string;
  /** `aws:region`, when kubeherd creates instances. */
  region?: string;
}

/** What `config`, deployed with `region`, placed: only what exists (no cattle pool: no image; no instances: no region). */
export function placementOf(config: KubeherdConfig, region: string | undefined): Placement {
  const image = config.pools.some((p) => p.mode === "cattle") ? config.os.image : undefined;
  const where = config.pools.some(createsInstances) && region ? region : undefined;
  return { ...(image !== undefined ? { image } : {}), ...(where !== undefined ? { region: where } : {}) };
}

/**
 * The placement problems of `target` (deployed with `region`) against what ran. A side `from` does not record
 * (a `rolledOut` written before kubeherd recorded it, a base without cattle pools) is not judged.
 */
export function judgePlacement(from: Deployed, target: KubeherdConfig, region: string | undefined): Problem[] {
  const problems: Problem[] = [];
  const cattle = target.pools.filter((p) => p.mode === "cattle").map((p) => p.name);
  if (from.release !== target.os.release && cattle.length > 0 && from.image !== undefined && from.image === target.os.image) {
    problems.push(
      error(
        configKey("os", ["release"]),
        `goes from ${from.release} to ${target.os.release} while ${configKey("os", ["image"])} stays ${from.image} (an Ubuntu ${from.release} image): ` +
          `the new instances of cattle pool${cattle.length > 1 ? "s" : ""} ${cattle.join(", ")} would boot it, fail the boot script's release check and never join, ` +
          `after their old nodes were drained and terminated: set ${configKey("os", ["image"])} to an Ubuntu ${target.os.release} image in the same change`,
      ),
    );
  }
  if (from.region !== undefined && region !== from.region) {
    problems.push(
      error(
        "aws:region",
        `goes from ${from.region} to ${region || "(unset)"}: every instance, launch template, SSM parameter and KMS key of this stack is in ${from.region}, ` +
          `and a change of the provider's region does not move them: its nodes there would be left running and joined (orphaned) while new ones were made in ${region || "no region"}: ` +
          `keep aws:region ${from.region}; to move, bring up a new stack in the new region and move the workloads`,
      ),
    );
  }
  return problems;
}
