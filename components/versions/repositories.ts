/**
 * Package repositories: the apt source lines a node needs for its pins (DESIGN.md "Contracts").
 *
 * A stack may give each repository as a full apt source line (a mirror, or `deb [trusted=yes] file:/srv/repo ./`):
 * it is used verbatim, with `{minor}` and `{codename}` filled in, and no key is fetched. Otherwise the upstream
 * repositories are used and their signing keys fetched at install time.
 */
import { type KubeherdConfig, type Versions } from "../config/schema";
import { ConfigError, configKey, error, type Problem } from "../config/problems";
import { codenameOf } from "./ubuntu";

export type RepositoryName = "docker" | "kubernetes" | "cri-dockerd";

export interface AptSource {
  name: RepositoryName;
  /** `/etc/apt/sources.list.d/kubeherd-<name>.list` */
  file: string;
  /** The final line, placeholders `{minor}` `{codename}` substituted. */
  line: string;
  /** Only for default lines: fetched with curl into `keyring` when the keyring is missing. */
  key?: { url: string; keyring: string };
}

type RepositoryConfig = Pick<KubeherdConfig, "versions" | "repositories" | "os">;

/** pkgs.k8s.io starts at v1.24; older pins only exist on mirrors of the removed apt.kubernetes.io. */
export const FIRST_PKGS_K8S_IO_MINOR = 24;

export const DOCKER_KEYRING = "/etc/apt/keyrings/docker.asc";
export const KUBERNETES_KEYRING = "/etc/apt/keyrings/kubernetes-apt-keyring.gpg";

/** `1.30` from `1.30.2` (or `v1.30.2`). */
export function kubernetesMinor(version: string): string {
  const m = /^v?([0-9]+)\.([0-9]+)\./.exec(version);
  if (!m) throw new Error(`not a Kubernetes version: ${version}`);
  return `${m[1]}.${m[2]}`;
}

/** The minor as a number within 1.x: `30` from `1.30.2`. */
export function kubernetesMinorNumber(version: string): number {
  return Number(kubernetesMinor(version).split(".")[1]);
}

export const sourceFile = (name: RepositoryName): string => `/etc/apt/sources.list.d/kubeherd-${name}.list`;

/**
 * Problems with `kubeherd:repositories` that the version rules (./repository-needs.ts, ./runtime-support.ts) do not
 * already report: placeholders other than `{minor}` and `{codename}`, which would reach apt unfilled.
 */
export function repositoryProblems(config: Pick<KubeherdConfig, "repositories">): Problem[] {
  const problems: Problem[] = [];
  for (const name of ["docker", "kubernetes", "cri-dockerd"] as const) {
    const unknown = config.repositories[name]?.match(/\{[^}]*\}/g)?.filter((p) => p !== "{minor}" && p !== "{codename}");
    if (unknown?.length) {
      problems.push(error(configKey("repositories", [name]), `unknown placeholder ${unknown.join(", ")}: only {minor} and {codename} are filled in`));
    }
  }
  return problems;
}

/**
 * The minor whose Kubernetes line a node gets: its kubeadm's, which is the control plane's for the cluster's pins
 * (the skew rules) and the pool's kubelet minor for a pool's own (./pool-pins.ts), so each pool's nodes get their
 * own minor's line.
 */
export function nodeRepositoryMinor(versions: Pick<Versions, "kubeadm" | "kubernetes">): string {
  return kubernetesMinor(/^[0-9]+\.[0-9]+\./.test(versions.kubeadm) ? versions.kubeadm : versions.kubernetes);
}

/** Lines that cannot be made at all; a config that passed the version rules never has these. */
function missingLines(config: RepositoryConfig): Problem[] {
  const { versions, repositories } = config;
  const problems: Problem[] = [];
  if (!repositories.kubernetes && Number(nodeRepositoryMinor(versions).split(".")[1]) < FIRST_PKGS_K8S_IO_MINOR) {
    problems.push(
      error(
        configKey("repositories", ["kubernetes"]),
        `Kubernetes ${nodeRepositoryMinor(versions)} packages are not on pkgs.k8s.io (v1.24+ only) and the legacy ` +
          "apt.kubernetes.io was removed in 2024: give the apt source line of a mirror that holds them",
      ),
    );
  }
  if (versions["cri-dockerd"] && !repositories["cri-dockerd"]) {
    problems.push(
      error(
        configKey("repositories", ["cri-dockerd"]),
        "cri-dockerd is pinned but has no upstream apt repository: give the apt source line of a repository holding its .deb",
      ),
    );
  }
  return problems;
}

/**
 * The apt sources for a config: docker (containerd.io is Docker's package, so a node always needs it),
 * kubernetes, and cri-dockerd when pinned. Throws a ConfigError when a needed line cannot be made.
 */
export function aptSources(config: RepositoryConfig): AptSource[] {
  const errors = [...missingLines(config), ...repositoryProblems(config)];
  if (errors.length) throw new ConfigError(errors);

  const { versions, repositories, os } = config;
  const minor = nodeRepositoryMinor(versions);
  const codename = codenameOf(os.release);
  const fill = (line: string) => line.replaceAll("{minor}", minor).replaceAll("{codename}", codename);

  const sources: AptSource[] = [
    repositories.docker
      ? { name: "docker", file: sourceFile("docker"), line: fill(repositories.docker) }
      : {
          name: "docker",
          file: sourceFile("docker"),
          line: `deb [signed-by=${DOCKER_KEYRING}] https://download.docker.com/linux/ubuntu ${codename} stable`,
          // Docker publishes an ASCII-armoured key; apt reads `.asc` keyrings as armoured, so it is stored as is.
          key: { url: "https://download.docker.com/linux/ubuntu/gpg", keyring: DOCKER_KEYRING },
        },
    repositories.kubernetes
      ? { name: "kubernetes", file: sourceFile("kubernetes"), line: fill(repositories.kubernetes) }
      : {
          name: "kubernetes",
          file: sourceFile("kubernetes"),
          line: `deb [signed-by=${KUBERNETES_KEYRING}] https://pkgs.k8s.io/core:/stable:/v${minor}/deb/ /`,
          key: { url: `https://pkgs.k8s.io/core:/stable:/v${minor}/deb/Release.key`, keyring: KUBERNETES_KEYRING },
        },
  ];
  if (versions["cri-dockerd"] && repositories["cri-dockerd"]) {
    sources.push({ name: "cri-dockerd", file: sourceFile("cri-dockerd"), line: fill(repositories["cri-dockerd"]) });
  }
  return sources;
}
