/**
 * The version rules of a stack, in one place: `checkVersions` for one config (skew, runtime, repository needs),
 * `checkTransition` for the change from the deployed config to the wanted one (upgrade path). Pure: callers (the
 * config loader, the plan command, the program) turn errors into a refusal and print warnings.
 */
import { configKey, error, type Problem } from "../config/problems";
import type { KubeherdConfig } from "../config/schema";
import { parseKubeVersion } from "./kubernetes";
import { checkPoolPins } from "./pool-pins";
import { checkRepositoryMinor } from "./repository-minor";
import { checkRepositoryNeeds } from "./repository-needs";
import { repositoryProblems } from "./repositories";
import { checkRuntime } from "./runtime-support";
import { checkSkew } from "./skew";
import { deployedOfConfig, judgeTransition } from "./transition";

/** Rules within one config: skew, runtime, repository needs. One Problem per violation, `key` = full config key. */
export function checkVersions(config: KubeherdConfig): Problem[] {
  // versions.kubernetes is the control plane (kube-apiserver) version every other rule is measured against.
  const cp = parseKubeVersion(config.versions.kubernetes);
  if (!cp) {
    return [error(configKey("versions", ["kubernetes"]), `"${config.versions.kubernetes}" is not a Kubernetes release: give the exact release kubeadm applies, e.g. 1.30.2`)];
  }
  const cluster = [...checkSkew(config.versions, cp), ...checkRuntime(config, cp), ...checkRepositoryNeeds(config, cp), ...checkRepositoryMinor(config), ...repositoryProblems(config)];
  return [...cluster, ...checkPoolPins(config, cp, cluster)];
}

/** Rules between the deployed (base) config and the wanted (target) one: ./transition.ts, as the program judges them. */
export function checkTransition(base: KubeherdConfig, target: KubeherdConfig): Problem[] {
  return judgeTransition(deployedOfConfig(base), target);
}
