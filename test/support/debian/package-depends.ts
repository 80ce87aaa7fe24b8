/**
 * The control fields (Depends, Conflicts, Provides, Replaces, Breaks) of the REAL packages the stand-ins play, so
 * that apt resolves a node's installs against the same relations as on a real node: a kubelet that pulls in
 * kubernetes-cni, a kubelet 1.13 that accepts only kubernetes-cni 0.6.0, a docker-ce that needs containerd.io.
 * Every row names where it was read. `${shlibs:Depends}` (libc6 and friends, computed when the real package was
 * built) is written as the unversioned library: every such library is in the Debian root at a newer version than
 * any Ubuntu build asked for, so the bound would change nothing here.
 */

export interface ControlFields {
  readonly depends?: string;
  readonly conflicts?: string;
  readonly provides?: string;
  readonly replaces?: string;
  readonly breaks?: string;
}

interface Row {
  readonly pkg: string;
  /** Which of the package's apt versions the row is for. */
  readonly matches: (aptVersion: string) => boolean;
  readonly fields: ControlFields;
  /** Where the fields come from. */
  readonly source: string;
}

/** `[major, minor, patch]` of an apt version's upstream part. */
function parts(aptVersion: string): number[] {
  return upstreamVersion(aptVersion).replace(/-ce$/, "").split(".").map(Number);
}

/** The upstream version is at least `from` and below `to` (dotted, compared numerically). */
const within = (from: string, to: string) => (aptVersion: string) => {
  const cmp = (a: number[], b: number[]) => {
    for (let i = 0; i < 3; i++) if ((a[i] ?? 0) !== (b[i] ?? 0)) return (a[i] ?? 0) - (b[i] ?? 0);
    return 0;
  };
  const v = parts(aptVersion);
  return cmp(v, from.split(".").map(Number)) >= 0 && cmp(v, to.split(".").map(Number)) < 0;
};
const legacy = (v: string) => /-00$/.test(v);
const pkgsK8sIo = (v: string) => /-[0-9]+\.[0-9]+$/.test(v);
const and = (...ps: ((v: string) => boolean)[]) => (v: string) => ps.every((p) => p(v));
const always = () => true;

const LEGACY_RELEASE = "kubernetes/release debian/xenial/<pkg>/debian/control and debian/build.go";
const KUBEPKG = "kubernetes/release cmd/kubepkg/templates/latest/deb/<pkg>/debian/control and pkg/kubepkg/kubepkg.go (2022)";
const KREL = "kubernetes/release cmd/krel/templates/latest/<pkg>/<pkg>.spec and metadata.yaml";
const DOCKER_PACKAGING = "docker/docker-ce-packaging deb/common/control";

/**
 * The table. Legacy (apt.kubernetes.io, `-00`) rows follow the build scripts of the day each release was built:
 * kubelet 1.13.2 (2019-01-10) predates the conntrack dependency (kubernetes/release#653, merged 2019-01-15);
 * kubelet and kubeadm 1.9 – 1.13 want exactly kubernetes-cni 0.6.0 (`getKubeletCNIVersion`, the cause of
 * kubernetes/kubernetes#75683 "kubelet : Depends: kubernetes-cni (= 0.6.0) but 0.7.5-00 is to be installed").
 */
const TABLE: readonly Row[] = [
  // --- apt.kubernetes.io (legacy), as built in 2019
  {
    pkg: "kubelet",
    matches: and(legacy, within("1.13.0", "1.13.3")),
    fields: { depends: "iptables (>= 1.4.21), kubernetes-cni (= 0.6.0), iproute2, socat, util-linux, mount, ebtables, ethtool, init-system-helpers (>= 1.18~)" },
    source: `${LEGACY_RELEASE} before 2019-01-15; apt-cache show kubelet in kubernetes/kubernetes#57334, #69489`,
  },
  {
    pkg: "kubelet",
    matches: and(legacy, within("1.13.3", "1.14.0")),
    fields: { depends: "iptables (>= 1.4.21), kubernetes-cni (= 0.6.0), iproute2, socat, util-linux, mount, ebtables, ethtool, conntrack, init-system-helpers (>= 1.18~)" },
    source: `${LEGACY_RELEASE} after kubernetes/release#653 (2019-01-15); kubernetes/kubernetes#75683 for 1.13.3-00`,
  },
  {
    pkg: "kubeadm",
    matches: and(legacy, within("1.12.1", "1.14.0")),
    fields: { depends: "kubelet (>= 1.6.0), kubectl (>= 1.6.0), kubernetes-cni (= 0.6.0), cri-tools (>= 1.12.0)" },
    source: `${LEGACY_RELEASE} (getKubeadmDependencies, getCRIToolsVersion)`,
  },
  // --- apt.kubernetes.io (legacy), as built by kubepkg in 2022–2023
  {
    pkg: "kubelet",
    matches: and(legacy, within("1.20.0", "1.24.0")),
    fields: { depends: "iptables (>= 1.4.21), kubernetes-cni (>= 0.8.6), iproute2, socat, util-linux, mount, ebtables, ethtool, conntrack, init-system-helpers (>= 1.18~)" },
    source: `${KUBEPKG} (MinimumCNIVersion 0.8.6)`,
  },
  {
    pkg: "kubeadm",
    matches: and(legacy, within("1.20.0", "1.24.0")),
    fields: { depends: "kubelet (>= 1.13.0), kubectl (>= 1.13.0), kubernetes-cni (>= 0.8.6), cri-tools (>= 1.23.0)" },
    source: `${KUBEPKG} (minimumKubernetesVersion 1.13.0; cri-tools at the Kubernetes minor)`,
  },
  // --- pkgs.k8s.io (`-1.1`), per krel's metadata for each range
  {
    pkg: "kubelet",
    matches: and(pkgsK8sIo, within("1.24.5", "1.25.0")),
    fields: { depends: "iptables (>= 1.4.21), kubernetes-cni (>= 1.1.1), iproute2, mount, socat, util-linux, ethtool, ebtables, conntrack" },
    source: `${KREL} (kubelet >= 1.24.5 < 1.25.0: kubernetes-cni >= 1.1.1)`,
  },
  {
    pkg: "kubeadm",
    matches: and(pkgsK8sIo, within("1.24.5", "1.25.0")),
    fields: { depends: "kubelet (>= 1.19.0), kubectl (>= 1.19.0), kubernetes-cni (>= 1.1.1), cri-tools (>= 1.25.0)" },
    source: `${KREL} (kubeadm >= 1.24.5 < 1.25.0)`,
  },
  {
    pkg: "kubelet",
    matches: and(pkgsK8sIo, within("1.28.0", "1.31.0")),
    fields: { depends: "iptables (>= 1.4.21), kubernetes-cni (>= 1.2.0), iproute2, mount, socat, util-linux, ethtool, ebtables, conntrack" },
    source: `${KREL} at 2024-06 (before socat and ebtables were dropped, kubernetes/release 98122cf8, 2024-08-22)`,
  },
  {
    pkg: "kubeadm",
    matches: and(pkgsK8sIo, within("1.28.0", "1.30.0")),
    fields: { depends: "kubelet (>= 1.19.0), kubectl (>= 1.19.0), kubernetes-cni (>= 1.2.0), cri-tools (>= 1.28.0)" },
    source: `${KREL} (kubeadm >= 1.28.0 < 1.30.0)`,
  },
  {
    pkg: "kubeadm",
    matches: and(pkgsK8sIo, within("1.30.0", "1.32.0")),
    fields: { depends: "cri-tools (>= 1.30.0)" },
    source: `${KREL} (kubeadm >= 1.30.0: kubelet and kubectl dropped, kubernetes/release ce9afc7d, 2024-03-01)`,
  },
  // the real-node packages (test/support/real-nodes/real-packages.ts): the newest rows above, carried on to 1.34
  {
    pkg: "kubelet",
    matches: and(pkgsK8sIo, within("1.31.0", "1.35.0")),
    fields: { depends: "iptables (>= 1.4.21), kubernetes-cni (>= 1.2.0), iproute2, mount, util-linux, ethtool, conntrack" },
    source: `${KREL} after 98122cf8 (2024-08-22: socat and ebtables dropped)`,
  },
  {
    pkg: "kubeadm",
    matches: and(pkgsK8sIo, within("1.32.0", "1.35.0")),
    fields: { depends: "cri-tools (>= 1.30.0)" },
    source: `${KREL} (kubeadm >= 1.30.0, the row above carried on)`,
  },
  // kubectl, cri-tools and kubernetes-cni declare nothing (static binaries; `${shlibs:Depends}` is empty).
  { pkg: "kubectl", matches: always, fields: {}, source: `${LEGACY_RELEASE}; ${KREL}` },
  { pkg: "cri-tools", matches: always, fields: {}, source: `${LEGACY_RELEASE}; ${KREL}` },
  { pkg: "kubernetes-cni", matches: always, fields: {}, source: `${LEGACY_RELEASE}; ${KREL}` },

  // --- Docker's repository
  {
    pkg: "docker-ce",
    matches: (v) => v.includes("~ce~"),
    fields: {
      depends: "iptables, init-system-helpers (>= 1.18~), libapparmor1 (>= 2.6~devel), libc6 (>= 2.17), libdevmapper1.02.1 (>= 2:1.02.97), libltdl7 (>= 2.4.6), libseccomp2 (>= 2.3.0), libsystemd0",
      conflicts: "docker (<< 1.5~), docker.io, lxc-docker, lxc-docker-virtual-package, docker-engine, docker-engine-cs, docker-ee",
      replaces: "docker-engine",
    },
    source: `${DOCKER_PACKAGING} at v18.06.2-ce (Depends: iptables, \${misc:Depends}, \${shlibs:Depends}); the bionic repository's Packages for the expanded fields`,
  },
  {
    pkg: "docker-ce",
    matches: (v) => /^5:20\./.test(v),
    fields: {
      depends: "containerd.io (>= 1.4.1), docker-ce-cli, iptables, libseccomp2 (>= 2.3.0), libc6, libdevmapper1.02.1",
      conflicts: "docker (<< 1.5~), docker-engine, docker-engine-cs, docker.io, lxc-docker, lxc-docker-virtual-package",
      replaces: "docker-engine",
    },
    source: `${DOCKER_PACKAGING} on 20.10 (containerd.io >= 1.4.1: docker/docker-ce-packaging#762)`,
  },
  {
    pkg: "docker-ce",
    matches: (v) => /^5:2[3-7]\./.test(v),
    fields: {
      depends: "containerd.io (>= 1.6.24), docker-ce-cli, iptables, libseccomp2 (>= 2.3.0), libc6",
      conflicts: "docker (<< 1.5~), docker-engine, docker.io",
      replaces: "docker-engine",
    },
    source: `${DOCKER_PACKAGING} at 2024-09 (containerd.io >= 1.6.24 since 4124d1df)`,
  },
  {
    pkg: "docker-ce-cli",
    matches: always,
    fields: {
      depends: "libc6",
      conflicts: "docker (<< 1.5~), docker-engine, docker.io",
      replaces: "docker-ce (<< 5:0)",
      breaks: "docker-ce (<< 5:0)",
    },
    source: `${DOCKER_PACKAGING} (docker-ce-cli: Depends: \${shlibs:Depends})`,
  },
  {
    pkg: "containerd.io",
    matches: always,
    fields: { depends: "libc6, libseccomp2", provides: "containerd, runc", conflicts: "containerd, runc", replaces: "containerd, runc" },
    source: "docker/containerd-packaging debian/control (Depends: ${misc:Depends}, ${shlibs:Depends})",
  },
  {
    pkg: "cri-dockerd",
    matches: always,
    fields: { depends: "containerd (>= 1.2.2-3) | containerd.io (>= 1.2.2-3), iptables, libseccomp2 (>= 2.3.0), libc6" },
    source: "Mirantis/cri-dockerd packaging/deb/common/control",
  },

  // --- the Ubuntu archive: what the kubelet pulls in that a minimal Ubuntu server lacks (stand-ins, see repository.ts)
  { pkg: "socat", matches: always, fields: { depends: "libc6" }, source: "Ubuntu's socat (Depends: libc6, libssl, libwrap0: libraries only)" },
  { pkg: "conntrack", matches: always, fields: { depends: "libc6" }, source: "Ubuntu's conntrack (libraries only)" },
  { pkg: "ebtables", matches: always, fields: { depends: "libc6" }, source: "Ubuntu's ebtables (libraries only)" },
];

/** The real package's relations for `pkg` at `version`; throws for a package this table does not know. */
export function controlFieldsOf(pkg: string, version: string): ControlFields {
  const row = TABLE.find((r) => r.pkg === pkg && r.matches(version));
  if (!row) throw new Error(`no control fields known for ${pkg} ${version}: look them up and add a row to package-depends.ts`);
  return row.fields;
}

/** Whether the table has a row for the package at all (the canary and other test-only packages have none). */
export function hasControlFields(pkg: string): boolean {
  return TABLE.some((r) => r.pkg === pkg);
}

/** The rows, for a test that every stand-in in the catalogue has one and that their relations name known packages. */
export const CONTROL_TABLE: readonly Pick<Row, "pkg" | "fields" | "source">[] = TABLE;

/** The upstream version a binary reports, from the apt version: `1.30.2-1.1` → `1.30.2`, `5:27.3.1-1~ubuntu.22.04~jammy` → `27.3.1`,
 * `18.06.2~ce~3-0~ubuntu` → `18.06.2-ce`, `0.3.14.3-0.ubuntu-jammy` → `0.3.14`. */
export function upstreamVersion(aptVersion: string): string {
  const noEpoch = aptVersion.replace(/^[0-9]+:/, "");
  const ce = /^([0-9]+\.[0-9]+\.[0-9]+)~ce~/.exec(noEpoch);
  if (ce) return `${ce[1]}-ce`;
  const m = /^([0-9]+\.[0-9]+\.[0-9]+)/.exec(noEpoch);
  if (!m) throw new Error(`not a version this harness knows: ${aptVersion}`);
  return m[1];
}
