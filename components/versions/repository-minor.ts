/**
 * A literal repository line that names one minor (`deb … https://pkgs.k8s.io/core:/stable:/v1.33/deb/ /`, or a
 * mirror with the same `/v1.33/` path) holds that minor's packages only: pins of another minor would pass the plan
 * and fail at the node's preflight or, for cattle, at boot, after capacity is gone. `{minor}` in the line is the
 * way to follow the pins.
 */
import { configKey, error, type Problem } from "../config/problems";
import type { KubeherdConfig } from "../config/schema";
import { kubeVersionOfPin, minorOf } from "./kubernetes";
import { KUBE_PACKAGES } from "./skew";

const REPOSITORY = configKey("repositories", ["kubernetes"]);

/** The minor a literal line's path names (`/v1.33/` -> `1.33`), or undefined: `{minor}` lines and all-minor mirrors. */
export function minorOfRepositoryLine(line: string): string | undefined {
  if (line.includes("{minor}")) return undefined;
  return /\/v([0-9]+\.[0-9]+)\//.exec(line)?.[1];
}

/** A line naming one minor, with Kubernetes pins of another: one problem naming the line's key and the pins' keys. */
export function checkRepositoryMinor(config: Pick<KubeherdConfig, "versions" | "repositories">): Problem[] {
  const line = config.repositories.kubernetes;
  const serves = line === undefined ? undefined : minorOfRepositoryLine(line);
  if (serves === undefined) return [];
  const others = KUBE_PACKAGES.flatMap((pkg) => {
    const v = kubeVersionOfPin(config.versions[pkg]);
    return v && minorOf(v) !== serves ? [`${configKey("versions", [pkg])} ${config.versions[pkg]}`] : [];
  });
  if (others.length === 0) return [];
  return [
    error(
      REPOSITORY,
      `the line names /v${serves}/ and so serves only ${serves} packages, but ${others.join(", ")} ${others.length === 1 ? "is" : "are"} of another minor: ` +
        `write {minor} in place of ${serves} in the line (kubeherd fills in each pin's minor), or pin ${serves} packages`,
    ),
  ];
}
