/**
 * Which container runtime pins a cluster needs and which runtime versions its Kubernetes version supports.
 * Sources: https://kubernetes.io/releases/version-skew-policy/, the dockershim removal FAQ
 * (https://kubernetes.io/blog/2022/02/17/dockershim-faq/), kubeadm's validated Docker versions in the 1.13 – 1.16
 * release notes, and the Kubernetes support table of containerd's RELEASES.md (CRI v1 from Kubernetes 1.26).
 */
import { configKey, error, warning, type Problem } from "../config/problems";
import type { KubeherdConfig, Versions } from "../config/schema";
import { codenameOf } from "./ubuntu";
import { compareKubeVersions, formatKubeVersion, minorOf, type KubeVersion } from "./kubernetes";
import { RUNTIME_PACKAGES, type RuntimePackage } from "./pins";
import { containerdVersionOfPin, dockerVersionOfPin, ubuntuCodenameOfPin, type ReleaseVersion } from "./runtime";

const key = (pkg: RuntimePackage | "runtime") => configKey("versions", [pkg]);
const v = (major: number, minor: number, patch = 0): ReleaseVersion => ({ major, minor, patch });
const lineOf = (r: ReleaseVersion) => `${r.major}.${r.minor}`;
const before = (a: ReleaseVersion, b: ReleaseVersion) => compareKubeVersions(a, b) < 0;

/** dockershim left the kubelet in 1.24: from then on docker needs cri-dockerd in front of it. */
const DOCKERSHIM_REMOVED = v(1, 24);
/** From 18.09 the engine ships as docker-ce + docker-ce-cli + containerd.io; before, docker-ce held it all. */
const DOCKER_SPLIT = v(18, 9);

/** Docker releases kubeadm validated, as half-open ranges [from, to). Minors not listed have no such list here. */
const VALIDATED_DOCKER: readonly { minors: [number, number]; text: string; ranges: [ReleaseVersion, ReleaseVersion][] }[] = [
  { minors: [13, 13], text: "1.11.1 – 18.06, and 18.09", ranges: [[v(1, 11, 1), v(18, 7)], [v(18, 9), v(18, 10)]] },
  {
    minors: [14, 16],
    text: "1.13.1, 17.03, 17.06, 17.09, 18.06, 18.09",
    ranges: [[v(1, 13, 1), v(1, 13, 2)], [v(17, 3), v(17, 4)], [v(17, 6), v(17, 7)], [v(17, 9), v(17, 10)], [v(18, 6), v(18, 7)], [v(18, 9), v(18, 10)]],
  },
];

/** The oldest containerd of each line that a Kubernetes version works with, newest rule first. */
const CONTAINERD_MINIMUMS: readonly { since: KubeVersion; minimums: ReleaseVersion[] }[] = [
  { since: v(1, 33), minimums: [v(1, 6, 36), v(1, 7, 24), v(2, 0, 4)] },
  { since: v(1, 30), minimums: [v(1, 6, 28), v(1, 7, 13), v(2, 0, 0)] },
  { since: v(1, 26), minimums: [v(1, 6, 15), v(1, 7, 0)] },
];

/** The kubelet refuses cgroup v1 hosts by default from 1.35; Ubuntu boots with cgroup v2 from 21.10. */
const CGROUP_V1_REFUSED = v(1, 35);
const CGROUP_V1_RELEASES: readonly string[] = ["16.04", "18.04", "20.04"];

export function checkRuntime(config: KubeherdConfig, cp: KubeVersion): Problem[] {
  const problems =
    config.versions.runtime === "docker" ? checkDocker(config, cp) : checkContainerd(config.versions, cp);
  problems.push(...checkCodenames(config), ...checkCgroups(config, cp));
  return problems;
}

function checkDocker(config: KubeherdConfig, cp: KubeVersion): Problem[] {
  const versions = config.versions;
  const problems: Problem[] = [];
  const k8s = formatKubeVersion(cp);
  if (!before(cp, DOCKERSHIM_REMOVED) && versions["cri-dockerd"] === undefined) {
    problems.push(error(key("cri-dockerd"), `Kubernetes ${k8s} with runtime docker needs a cri-dockerd pin: dockershim was removed from the kubelet in 1.24: pin cri-dockerd (e.g. 0.3.15.3-0.ubuntu-jammy) and set kubeherd:repositories.cri-dockerd, or move to runtime containerd with a new stack`));
  }
  if (versions["cri-dockerd"] !== undefined && config.repositories["cri-dockerd"] === undefined) {
    problems.push(error(configKey("repositories", ["cri-dockerd"]), `cri-dockerd ${versions["cri-dockerd"]} is pinned but no repository is set for it: cri-dockerd has no upstream apt repository (Mirantis publishes .deb files only): set kubeherd:repositories.cri-dockerd to the apt line of a repository holding its .deb, e.g. "deb [trusted=yes] http://mirror.example.com/cri-dockerd ./"`));
  }

  const pin = versions["docker-ce"];
  if (pin === undefined) {
    problems.push(error(key("docker-ce"), `runtime docker needs a docker-ce pin: pin the exact docker-ce version the nodes run, e.g. 5:27.3.1-1~ubuntu.24.04~noble or 18.06.2~ce~3-0~ubuntu`));
    return problems;
  }
  const docker = dockerVersionOfPin(pin);
  if (!docker) {
    problems.push(error(key("docker-ce"), `"${pin}" is not a docker-ce version (expected e.g. 18.06.2~ce~3-0~ubuntu or 5:27.3.1-1~ubuntu.24.04~noble): pin a version from Docker's repository`));
    return problems;
  }
  if (before(docker, DOCKER_SPLIT)) {
    if (versions["docker-ce-cli"] !== undefined) {
      problems.push(error(key("docker-ce-cli"), `docker-ce-cli ${versions["docker-ce-cli"]} is pinned with docker-ce ${pin}, but docker-ce-cli exists only from 18.09 (docker-ce up to 18.06 includes the CLI): remove the docker-ce-cli pin`));
    }
  } else {
    for (const part of ["docker-ce-cli", "containerd.io"] as const) {
      if (versions[part] === undefined) {
        problems.push(error(key(part), `docker-ce ${pin} needs a ${part} pin: from 18.09 the Docker engine is docker-ce + docker-ce-cli + containerd.io, updated together: pin ${part} to the version released with docker-ce ${lineOf(docker)}`));
      }
    }
  }
  const validated = VALIDATED_DOCKER.find((rule) => cp.major === 1 && cp.minor >= rule.minors[0] && cp.minor <= rule.minors[1]);
  if (validated && !validated.ranges.some(([from, to]) => !before(docker, from) && before(docker, to))) {
    problems.push(warning(key("docker-ce"), `docker-ce ${pin} (Docker ${formatKubeVersion(docker)}) is not among the Docker versions validated for Kubernetes ${minorOf(cp)} (${validated.text}): kubeadm's preflight warns about it: pick a validated Docker version, or keep it knowing it was not validated`));
  }
  return problems;
}

function checkContainerd(versions: Versions, cp: KubeVersion): Problem[] {
  const problems: Problem[] = [];
  for (const unused of ["docker-ce", "docker-ce-cli", "cri-dockerd"] as const) {
    if (versions[unused] !== undefined) {
      problems.push(error(key(unused), `${unused} ${versions[unused]} is pinned but kubeherd:versions.runtime is containerd, so it would never be installed: remove the ${unused} pin, or set kubeherd:versions.runtime to docker`));
    }
  }
  const pin = versions["containerd.io"];
  if (pin === undefined) {
    problems.push(error(key("containerd.io"), `runtime containerd needs a containerd.io pin: pin the exact containerd.io version the nodes run, e.g. 1.7.19-1`));
    return problems;
  }
  const containerd = containerdVersionOfPin(pin);
  if (!containerd) {
    problems.push(error(key("containerd.io"), `"${pin}" is not a containerd.io version (expected e.g. 1.7.19-1): pin a version from Docker's repository`));
    return problems;
  }
  const rule = CONTAINERD_MINIMUMS.find((r) => !before(cp, r.since));
  if (!rule) return problems;
  const table = rule.minimums.map(formatKubeVersion).join(" / ");
  const needs = `Kubernetes ${minorOf(rule.since)}+ needs containerd ${table}`;
  const sameLine = rule.minimums.find((m) => lineOf(m) === lineOf(containerd));
  const oldest = rule.minimums[0];
  if (sameLine && before(containerd, sameLine)) {
    problems.push(error(key("containerd.io"), `containerd.io ${pin} (containerd ${formatKubeVersion(containerd)}) is too old for Kubernetes ${formatKubeVersion(cp)}: ${needs}: pin containerd.io ${formatKubeVersion(sameLine)} or a newer ${lineOf(sameLine)} release`));
  } else if (!sameLine && before(containerd, oldest)) {
    problems.push(error(key("containerd.io"), `containerd.io ${pin} (containerd ${formatKubeVersion(containerd)}) is older than every containerd line Kubernetes ${formatKubeVersion(cp)} supports (it needs CRI v1 from 1.26): ${needs}: pin containerd.io ${formatKubeVersion(oldest)} or newer`));
  }
  return problems;
}

/** The runtime pins a node installs: the others are reported as unused by `checkContainerd`. */
/** Docker's repository (and cri-dockerd's .deb) build each version per Ubuntu release: the codename must match. */
function checkCodenames(config: KubeherdConfig): Problem[] {
  const release = config.os.release;
  const wanted = codenameOf(release);
  const problems: Problem[] = [];
  for (const pkg of RUNTIME_PACKAGES[config.versions.runtime]) {
    const pin = config.versions[pkg];
    const built = pin === undefined ? undefined : ubuntuCodenameOfPin(pin);
    if (built !== undefined && built !== wanted) {
      problems.push(error(key(pkg), `${pkg} ${pin} is built for ${built} but kubeherd:os.release is ${release} (${wanted}): there are no packages of this pin for that release: pin the ${wanted} build of ${pkg}`));
    }
  }
  return problems;
}

function checkCgroups(config: KubeherdConfig, cp: KubeVersion): Problem[] {
  if (before(cp, CGROUP_V1_REFUSED) || !CGROUP_V1_RELEASES.includes(config.os.release)) return [];
  return [
    warning(configKey("os", ["release"]), `Ubuntu ${config.os.release} boots with cgroup v1, which the kubelet refuses by default from Kubernetes 1.35 (cluster: ${formatKubeVersion(cp)}): move the nodes to 22.04 or later, or boot them with cgroup v2 (systemd.unified_cgroup_hierarchy=1)`),
  ];
}
