/**
 * Version skew of kubeadm, kubelet and kubectl against the control plane (`versions.kubernetes`), after
 * https://kubernetes.io/releases/version-skew-policy/ and the kubeadm upgrade guide
 * (https://kubernetes.io/docs/tasks/administer-cluster/kubeadm/kubeadm-upgrade/).
 */
import { configKey, error, type Problem } from "../config/problems";
import type { Versions } from "../config/schema";
import { compareKubeVersions, formatKubeVersion, kubeVersionOfPin, minorOf, type KubeVersion } from "./kubernetes";

type KubePackage = "kubeadm" | "kubelet" | "kubectl";

export const KUBE_PACKAGES: readonly KubePackage[] = ["kubeadm", "kubelet", "kubectl"];

const CONTROL_PLANE = configKey("versions", ["kubernetes"]);

/** Skew problems of the three Kubernetes pins against the control plane version `cp`. */
export function checkSkew(versions: Versions, cp: KubeVersion): Problem[] {
  const problems: Problem[] = [];
  for (const pkg of KUBE_PACKAGES) {
    const pin = versions[pkg];
    const v = kubeVersionOfPin(pin);
    const key = configKey("versions", [pkg]);
    if (!v) {
      problems.push(error(key, `"${pin}" is not a Kubernetes package version (expected X.Y.Z-revision such as 1.30.2-1.1 or 1.13.3-00): pin the ${pkg} package version`));
      continue;
    }
    const problem = { kubeadm: kubeadmSkew, kubelet: kubeletSkew, kubectl: kubectlSkew }[pkg](pin, v, cp);
    if (problem) problems.push(error(key, problem));
  }
  return problems;
}

/** kubeadm applies the control plane version, so it must be that minor and at least that patch. */
function kubeadmSkew(pin: string, v: KubeVersion, cp: KubeVersion): string | undefined {
  const at = `${CONTROL_PLANE} is ${formatKubeVersion(cp)}`;
  if (v.major !== cp.major || v.minor !== cp.minor) {
    return `kubeadm ${pin} is of minor ${minorOf(v)} but ${at}: kubeadm must be of the minor it applies (kubeadm upgrades one minor at a time): pin a ${minorOf(cp)} kubeadm at ${formatKubeVersion(cp)} or a newer ${minorOf(cp)} patch`;
  }
  if (v.patch < cp.patch) {
    return `kubeadm ${pin} is older than ${formatKubeVersion(cp)} (${CONTROL_PLANE}): kubeadm cannot apply a newer version than itself: pin kubeadm ${formatKubeVersion(cp)} or a newer ${minorOf(cp)} patch`;
  }
  return undefined;
}

/** The oldest kubelet minor the skew policy allows under `cp`: 3 minors back, 2 for kubelets older than 1.25. */
export function oldestKubeletMinor(cp: KubeVersion): number {
  let minor = cp.minor;
  while (minor > 0 && cp.minor - (minor - 1) <= allowedKubeletLag({ major: cp.major, minor: minor - 1, patch: 0 })) minor--;
  return minor;
}

function allowedKubeletLag(kubelet: KubeVersion): number {
  return compareKubeVersions(kubelet, { major: 1, minor: 25, patch: 0 }) < 0 ? 2 : 3;
}

function kubeletSkew(pin: string, v: KubeVersion, cp: KubeVersion): string | undefined {
  const policy = "the version skew policy allows kubelets up to 3 minors older than kube-apiserver (2 when older than 1.25) and never newer";
  if (v.major !== cp.major) {
    return `kubelet ${pin} is of major ${v.major} but ${CONTROL_PLANE} is ${formatKubeVersion(cp)}: ${policy}: pin a ${cp.major}.x kubelet`;
  }
  if (compareKubeVersions(v, cp) > 0) {
    return `kubelet ${pin} is newer than the control plane ${formatKubeVersion(cp)} (${CONTROL_PLANE}): ${policy}: pin kubelet ${formatKubeVersion(cp)} or older, or raise ${CONTROL_PLANE} first`;
  }
  const lag = cp.minor - v.minor;
  if (lag > allowedKubeletLag(v)) {
    return `kubelet ${pin} is ${lag} minors older than the control plane ${formatKubeVersion(cp)} (${CONTROL_PLANE}): ${policy}: pin kubelet ${cp.major}.${oldestKubeletMinor(cp)} or newer`;
  }
  return undefined;
}

function kubectlSkew(pin: string, v: KubeVersion, cp: KubeVersion): string | undefined {
  if (v.major === cp.major && Math.abs(v.minor - cp.minor) <= 1) return undefined;
  const allowed = [cp.minor - 1, cp.minor, cp.minor + 1].filter((m) => m >= 0).map((m) => `${cp.major}.${m}`);
  return `kubectl ${pin} is of minor ${minorOf(v)}, more than one minor from the control plane ${formatKubeVersion(cp)} (${CONTROL_PLANE}): the version skew policy supports kubectl within one minor of kube-apiserver: pin kubectl ${allowed.slice(0, -1).join(", ")} or ${allowed[allowed.length - 1]}`;
}
