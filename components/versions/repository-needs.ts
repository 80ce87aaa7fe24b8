/**
 * What the Kubernetes pins need from `repositories.kubernetes`. Unset, it is pkgs.k8s.io: one repository per minor
 * (`…/core:/stable:/v1.30/deb/`), v1.24 and later only, versions like `1.30.2-1.1`
 * (https://kubernetes.io/blog/2023/08/15/pkgs-k8s-io-introduction/). The legacy apt.kubernetes.io, which had
 * `1.13.3-00`, was removed on 2024-03-04 (https://kubernetes.io/blog/2023/08/31/legacy-package-repository-deprecation/).
 */
import { configKey, error, type Problem } from "../config/problems";
import type { KubeherdConfig } from "../config/schema";
import { compareKubeVersions, isLegacyPin, kubeVersionOfPin, minorOf, type KubeVersion } from "./kubernetes";
import { KUBE_PACKAGES } from "./skew";

const FIRST_PKGS_K8S_IO = { major: 1, minor: 24, patch: 0 };
const REPOSITORY = configKey("repositories", ["kubernetes"]);
const MIRROR_EXAMPLE = "deb [trusted=yes] http://mirror.example.com/kubernetes kubernetes-xenial main";

export function checkRepositoryNeeds(config: KubeherdConfig, cp: KubeVersion): Problem[] {
  const line = config.repositories.kubernetes;
  const problems: Problem[] = [];
  if (line === undefined) {
    const missing = KUBE_PACKAGES.filter((pkg) => {
      const pin = config.versions[pkg];
      const v = kubeVersionOfPin(pin);
      return isLegacyPin(pin) || (v !== undefined && compareKubeVersions(v, FIRST_PKGS_K8S_IO) < 0);
    });
    if (missing.length > 0) {
      const pins = missing.map((pkg) => `${pkg} ${config.versions[pkg]}`).join(", ");
      problems.push(error(REPOSITORY, `${pins} cannot come from the default repository pkgs.k8s.io (v1.24+ only, versions like 1.30.2-1.1), and the legacy apt.kubernetes.io that had such versions was removed on 2024-03-04: set kubeherd:repositories.kubernetes to a mirror line, e.g. "${MIRROR_EXAMPLE}"`));
    }
  }

  // A per-minor repository (pkgs.k8s.io, or a mirror line with `{minor}`) holds the cluster's minor only. kubeadm
  // is left out: the skew rules already require it to be of the cluster's minor.
  if (line !== undefined && !line.includes("{minor}")) return problems;
  const source = line === undefined ? `the default repository pkgs.k8s.io v${minorOf(cp)}` : `kubeherd:repositories.kubernetes with {minor} = ${minorOf(cp)}`;
  for (const pkg of ["kubelet", "kubectl"] as const) {
    const pin = config.versions[pkg];
    const v = kubeVersionOfPin(pin);
    if (v && (v.major !== cp.major || v.minor !== cp.minor)) {
      problems.push(error(configKey("versions", [pkg]), `${pkg} ${pin} is of minor ${minorOf(v)} but ${source} holds only ${minorOf(cp)} packages (one repository per minor): pin a ${minorOf(cp)} ${pkg}, or set kubeherd:repositories.kubernetes to a mirror of all minors (a line without {minor})`));
    }
  }
  return problems;
}
