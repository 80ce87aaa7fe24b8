/**
 * The local apt repository the tests point `kubeherd:repositories` at: flat repositories (one directory each,
 * `Packages` made by `dpkg-scanpackages -m` because they hold several versions of one package) laid out like the
 * real sources. Kubernetes: one legacy repository for all 1.13 versions (the article's mirror) and one per minor
 * for pkgs.k8s.io-style versions, so that the `{minor}` in the line switches repositories on a minor bump.
 * Docker: one per Ubuntu codename. An `ubuntu/<codename>` repository stands in for the Ubuntu archive, holding
 * an unpinned canary package that `dist-upgrade` must upgrade.
 */
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { publishDir, pruneCache, testCacheDir } from "../node-root/base-root";
import { binariesOf, buildPackage, relationLines, type StandinPackage } from "./packages";
import { removeTree } from "../node-root/mounts";
import { controlFieldsOf, hasControlFields } from "./package-depends";
import { runOrThrow } from "../node-root/process";
import { standinPostinst } from "../node-root/standin-shell";

/** Where the repository sits inside a test root. */
export const REPO_IN_ROOT = "/srv/kubeherd-repo";

const kube = (versions: readonly string[]): StandinPackage[] =>
  ["kubeadm", "kubelet", "kubectl"].flatMap((name) => versions.map((version) => ({ name, version })));
const each = (names: readonly string[], versions: readonly string[]): StandinPackage[] =>
  names.flatMap((name) => versions.map((version) => ({ name, version })));

/**
 * The unpinned package of the stand-in Ubuntu archive: installed at 1.0-1 in every root; 1.1-1 is its upgrade,
 * which (like a kernel update) leaves a reboot required.
 */
export const CANARY = { name: "kubeherd-canary", installed: "1.0-1", upgrade: "1.1-1" } as const;

/**
 * What the Kubernetes packages pull in (package-depends.ts), one version per repository as the real ones had at
 * the time of the pins: the legacy repository kept every kubernetes-cni ever published, so it holds 0.6.0 (what
 * kubelet 1.13 demands exactly) and a newer one (what apt picks by itself, and what kubelet 1.23 needs).
 */
const KUBE_DEPENDENCIES: Readonly<Record<string, readonly StandinPackage[]>> = {
  legacy: [
    ...each(["kubernetes-cni"], ["0.6.0-00", "0.8.7-00"]),
    ...each(["cri-tools"], ["1.13.0-00", "1.23.0-00"]),
  ],
  "v1.24": [...each(["kubernetes-cni"], ["1.1.1-1.1"]), ...each(["cri-tools"], ["1.25.0-1.1"])],
  "v1.29": [...each(["kubernetes-cni"], ["1.3.0-1.1"]), ...each(["cri-tools"], ["1.29.0-1.1"])],
  "v1.30": [...each(["kubernetes-cni"], ["1.4.0-1.1"]), ...each(["cri-tools"], ["1.30.0-1.1"])],
  "v1.32": [...each(["kubernetes-cni"], ["1.6.0-1.1"]), ...each(["cri-tools"], ["1.32.0-1.1"])],
  "v1.33": [...each(["kubernetes-cni"], ["1.6.0-1.1"]), ...each(["cri-tools"], ["1.33.0-1.1"])],
  "v1.34": [...each(["kubernetes-cni"], ["1.7.1-1.1"]), ...each(["cri-tools"], ["1.34.0-1.1"])],
};

/**
 * Packages of the Ubuntu archive that the real kubelet depends on and a minimal Ubuntu server lacks: stand-ins in
 * the stand-in archive, so that apt really pulls them in on a first install. (What Ubuntu's server images already
 * ship, iptables, iproute2, ethtool and the libraries docker-ce links, are real Debian packages in the root:
 * base-root.ts.) Versions are jammy's; one version in every codename, so nothing is ever upgradable.
 */
const UBUNTU_SYSTEM: readonly StandinPackage[] = [
  { name: "socat", version: "1.7.4.1-3ubuntu4" },
  { name: "conntrack", version: "1:1.4.6-2build2" },
  { name: "ebtables", version: "2.0.11-4build2" },
];

/** Every flat repository (a directory under the repository root) and the packages it holds. */
export const CATALOGUE: Readonly<Record<string, readonly StandinPackage[]>> = {
  // the article's versions, plus a newer patch that held pins must not pick up; and the last legacy 1.23
  "kubernetes/legacy": [...kube(["1.13.2-00", "1.13.3-00", "1.13.4-00", "1.23.17-00"]), ...KUBE_DEPENDENCIES.legacy],
  "kubernetes/v1.24": [...kube(["1.24.17-1.1"]), ...KUBE_DEPENDENCIES["v1.24"]],
  "kubernetes/v1.29": [...kube(["1.29.6-1.1"]), ...KUBE_DEPENDENCIES["v1.29"]],
  "kubernetes/v1.30": [...kube(["1.30.1-1.1", "1.30.2-1.1", "1.30.3-1.1"]), ...KUBE_DEPENDENCIES["v1.30"]],
  // a journey's minors (test/e2e/journey.e2e.ts): 1.32 -> 1.33 -> 1.34
  "kubernetes/v1.32": [...kube(["1.32.9-1.1"]), ...KUBE_DEPENDENCIES["v1.32"]],
  "kubernetes/v1.33": [...kube(["1.33.5-1.1"]), ...KUBE_DEPENDENCIES["v1.33"]],
  "kubernetes/v1.34": [...kube(["1.34.2-1.1"]), ...KUBE_DEPENDENCIES["v1.34"]],
  "docker/bionic": each(["docker-ce"], ["18.06.1~ce~3-0~ubuntu", "18.06.2~ce~3-0~ubuntu", "18.06.3~ce~3-0~ubuntu"]),
  "docker/focal": [
    ...each(["docker-ce", "docker-ce-cli"], ["5:20.10.24~3-0~ubuntu-focal"]),
    ...each(["containerd.io"], ["1.6.28-1", "1.7.19-1"]),
  ],
  "docker/jammy": [
    ...each(["docker-ce", "docker-ce-cli"], ["5:26.1.4-1~ubuntu.22.04~jammy", "5:27.3.1-1~ubuntu.22.04~jammy", "5:27.4.0-1~ubuntu.22.04~jammy"]),
    // 1.7.27-1: Kubernetes 1.33 wants containerd 1.7.24 or newer (components/versions/runtime-support.ts)
    ...each(["containerd.io"], ["1.7.19-1", "1.7.20-1", "1.7.22-1", "1.7.27-1"]),
  ],
  "docker/noble": [
    ...each(["docker-ce", "docker-ce-cli"], ["5:27.3.1-1~ubuntu.24.04~noble", "5:27.4.0-1~ubuntu.24.04~noble"]),
    ...each(["containerd.io"], ["1.7.19-1", "1.7.20-1", "1.7.22-1"]),
  ],
  "cri-dockerd": each(["cri-dockerd"], ["0.3.14.3-0.ubuntu-jammy", "0.3.15.3-0.ubuntu-jammy"]),
  ...Object.fromEntries(
    ["bionic", "focal", "jammy", "noble"].map((codename) => [
      `ubuntu/${codename}`,
      [
        { name: CANARY.name, version: CANARY.installed },
        { name: CANARY.name, version: CANARY.upgrade, requiresReboot: true },
        ...UBUNTU_SYSTEM,
      ],
    ]),
  ),
};

/** `kubeherd:repositories` lines that point a stack at the local repository. All pass the config schema. */
export const LOCAL_SOURCES = {
  /** The article's mirror of the removed legacy repository. */
  legacyKubernetes: `deb [trusted=yes] file:${REPO_IN_ROOT}/kubernetes legacy/`,
  /** pkgs.k8s.io style: one repository per minor. */
  kubernetes: `deb [trusted=yes] file:${REPO_IN_ROOT}/kubernetes v{minor}/`,
  docker: `deb [trusted=yes] file:${REPO_IN_ROOT}/docker {codename}/`,
  "cri-dockerd": `deb [trusted=yes] file:${REPO_IN_ROOT} cri-dockerd/`,
  /** Not a kubeherd key: the root's own /etc/apt/sources.list, standing in for the Ubuntu archive. */
  ubuntu: `deb [trusted=yes] file:${REPO_IN_ROOT}/ubuntu {codename}/`,
} as const;

/** Versions the catalogue holds for `name` in repository `dir`. */
export function versionsIn(dir: string, name: string): string[] {
  return (CATALOGUE[dir] ?? []).filter((p) => p.name === name).map((p) => p.version);
}

/** A key that changes whenever any package's content would: the built repository is cached under it. */
export function catalogueKey(): string {
  const h = createHash("sha256");
  for (const [dir, pkgs] of Object.entries(CATALOGUE)) {
    for (const pkg of pkgs) {
      h.update(`${dir}\0${pkg.name}\0${pkg.version}\0${standinPostinst(pkg.name, pkg.version, pkg.requiresReboot ?? false)}`);
      h.update(`${relationLines(pkg).join("\n")}\0`);
      for (const [path, body] of Object.entries(binariesOf(pkg))) h.update(`${path}\0${body}\0`);
    }
  }
  return h.digest("hex").slice(0, 16);
}

let built: Promise<string> | undefined;

/** Builds the repository once per cache key (and once per process); returns the host directory holding it. */
export function ensureRepository(): Promise<string> {
  built ??= buildRepository();
  return built;
}

async function buildRepository(): Promise<string> {
  const dir = join(testCacheDir(), `apt-repo-${catalogueKey()}`);
  if (existsSync(join(dir, ".complete"))) return dir;
  const work = `${dir}.build-${process.pid}`;
  const trees = join(work, ".trees");
  try {
    for (const [sub, pkgs] of Object.entries(CATALOGUE)) {
      const out = join(work, sub);
      mkdirSync(out, { recursive: true });
      await Promise.all(pkgs.map((pkg) => buildPackage(pkg, trees, out)));
    }
    await removeTree(trees);
    for (const sub of Object.keys(CATALOGUE)) {
      // run from the source line's URI (the parent directory): a flat repository's Filename fields are relative
      // to the URI, not to the directory holding Packages
      const { stdout } = await runOrThrow("dpkg-scanpackages", ["-m", basename(sub), "/dev/null"], { cwd: join(work, dirname(sub)) });
      writeFileSync(join(work, sub, "Packages"), stdout);
    }
    writeFileSync(join(work, ".complete"), "");
    publishDir(work, dir);
    await pruneCache("apt-repo-", basename(dir));
  } finally {
    if (existsSync(work)) await removeTree(work);
  }
  return dir;
}

/**
 * The exact-version dependencies (`kubernetes-cni (= 0.6.0)`) of the given pins as `{ package: catalogue version }`:
 * what a test must name beside the pins to seed a node that runs them, as an operator did on a real node (apt
 * alone picks the newest kubernetes-cni and gives up, kubernetes/kubernetes#75683).
 */
export function exactDependencies(pins: Readonly<Record<string, string>>): Record<string, string> {
  const out: Record<string, string> = {};
  // dpkg compares a missing Debian revision as 0: "0.6.0" is "0.6.0-00"
  const same = (a: string, b: string) => a.replace(/-0+$/, "") === b.replace(/-0+$/, "");
  for (const [pkg, version] of Object.entries(pins)) {
    const depends = hasControlFields(pkg) ? (controlFieldsOf(pkg, version).depends ?? "") : "";
    for (const m of depends.matchAll(/([a-z0-9][a-z0-9.+-]*) \(= ([^)]+)\)/g)) {
      const [, dep, want] = m as unknown as [string, string, string];
      if (dep in pins) continue;
      const found = Object.values(CATALOGUE).flat().find((p) => p.name === dep && same(p.version, want));
      if (!found) throw new Error(`${pkg} ${version} depends on ${dep} (= ${want}), which no repository of the catalogue holds`);
      out[dep] = found.version;
    }
  }
  return out;
}
