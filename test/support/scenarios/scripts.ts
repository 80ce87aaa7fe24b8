/**
 * The configs the script tests generate from: the field article's bump, a pkgs.k8s.io minor bump, a docker-ce-only
 * patch, a system upgrade token, a release upgrade, and docker with cri-dockerd on a current Kubernetes.
 */
import { type KubeherdConfig } from "../../../components/config/schema";
import { type ConvergeTarget } from "../../../components/scripts/converge";
import { type BootTarget } from "../../../components/scripts/userdata";
import { articleConfig, currentConfig, dockerCurrentVersions } from "../fixtures/config";

export const ARTICLE_BUMP = {
  kubernetes: "1.13.3",
  kubeadm: "1.13.3-00",
  kubelet: "1.13.3-00",
  kubectl: "1.13.3-00",
  "docker-ce": "18.06.2~ce~3-0~ubuntu",
};

export const MINOR_BUMP = { kubernetes: "1.31.0", kubeadm: "1.31.0-1.1", kubelet: "1.31.0-1.1", kubectl: "1.31.0-1.1" };

const dockerCurrent = {
  versions: dockerCurrentVersions,
  repositories: { "cri-dockerd": "deb [trusted=yes] http://mirror.internal.example.com/cri-dockerd {codename} main" },
};

export const SCENARIOS: Record<string, KubeherdConfig> = {
  "the article's bump (kubeadm 1.13.2 -> 1.13.3, docker-ce 18.06.1 -> 18.06.2)": articleConfig({ versions: ARTICLE_BUMP }),
  "a pkgs.k8s.io minor bump (1.30 -> 1.31)": currentConfig({ versions: MINOR_BUMP }),
  "a docker-ce-only patch": articleConfig({ versions: { "docker-ce": "18.06.2~ce~3-0~ubuntu" } }),
  "a system upgrade token": currentConfig({ os: { systemUpgrade: "2026-11" } }),
  "a release upgrade (22.04 -> 24.04)": currentConfig({ os: { release: "24.04" } }),
  "docker with cri-dockerd on Kubernetes 1.30": currentConfig(dockerCurrent),
};

export const NODES: Pick<ConvergeTarget, "role" | "kubeadm" | "nodeName">[] = [
  { role: "control-plane", kubeadm: "apply", nodeName: "cp-1" },
  { role: "control-plane", kubeadm: "node", nodeName: "cp-2" },
  { role: "worker", kubeadm: "node", nodeName: "storage-1" },
];

export const bootTarget = (config: KubeherdConfig): BootTarget => ({
  config,
  role: "worker",
  pool: "workers",
  joinParameter: `/kubeherd/${config.cluster.name}/workers/join`,
  region: "eu-west-1",
});

/** Every scenario crossed with every kind of node. */
export const CONVERGE_CASES: [string, ConvergeTarget][] = Object.entries(SCENARIOS).flatMap(([name, config]) =>
  NODES.map((node): [string, ConvergeTarget] => [`${name}, ${node.nodeName}`, { config, ...node }]),
);
