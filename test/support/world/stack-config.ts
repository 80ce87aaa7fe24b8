/**
 * The stack file a scenario deploys, as a user writes `Pulumi.<stack>.yaml`: the `config:` map with
 * `kubeherd:*` keys, pointed at the scenario's real control plane (endpoint and CA hash), its SSH nodes (address,
 * port and pinned host key) and the node roots' local package repository.
 */
import { LOCAL_SOURCES } from "../debian/repository";
import { articleInput } from "../fixtures/config";

export type StackFile = Record<string, unknown>;

export interface PetsHost {
  name: string;
  host: string;
  port: number;
  hostKey: string;
}

export interface ClusterEndpoint {
  endpoint: string;
  caCertHash: string;
}

/** Versions of the field article's cluster (kubeadm 1.13, docker-ce 18.06) and its bump, as the script tests have them. */
export const ARTICLE_VERSIONS = articleInput.versions as Record<string, string>;
export const ARTICLE_BUMP: Record<string, string> = {
  ...ARTICLE_VERSIONS,
  kubernetes: "1.13.3",
  kubeadm: "1.13.3-00",
  kubelet: "1.13.3-00",
  kubectl: "1.13.3-00",
  "docker-ce": "18.06.2~ce~3-0~ubuntu",
};

export interface PoolSpec {
  name: string;
  role: "control-plane" | "worker";
  mode: "pets" | "cattle";
  /** pets: the hosts, in rollout order. */
  hosts?: PetsHost[];
  /** cattle: size and subnets. */
  size?: number;
  subnets?: string[];
  rollout?: Record<string, unknown>;
}

/** Rollout deadlines short enough for a test, long enough for the real control plane on two busy cores. */
export const TEST_ROLLOUT = { drainTimeoutSeconds: 60, readyTimeoutSeconds: 60, workloadTimeoutSeconds: 90 };

export function stackFile(args: {
  cluster: ClusterEndpoint;
  versions: Record<string, unknown>;
  release: string;
  pools: PoolSpec[];
  legacy?: boolean;
  repositories?: Record<string, string>;
  /** The pets pools' `ssh.sudo`. @default unset (the schema's) */
  sudo?: "bash" | "converge";
}): StackFile {
  const pools = args.pools.map((p) => {
    const rollout = { ...TEST_ROLLOUT, ...p.rollout };
    if (p.mode === "pets") {
      const port = p.hosts?.[0]?.port ?? 22;
      return {
        name: p.name, role: p.role, mode: "pets",
        nodes: (p.hosts ?? []).map((h) => ({ name: h.name, host: h.host, hostKey: h.hostKey })),
        ssh: { user: "ubuntu", port, connectTimeoutSeconds: 10, ...(args.sudo ? { sudo: args.sudo } : {}) },
        rollout,
      };
    }
    return {
      name: p.name, role: p.role, mode: "cattle", size: p.size, instanceType: "m6i.large",
      subnets: p.subnets, securityGroups: ["sg-0e2e0000000000001"], rollout,
    };
  });
  return {
    "aws:region": "eu-west-1",
    "kubeherd:cluster": { name: "e2e", ...args.cluster },
    "kubeherd:versions": args.versions,
    "kubeherd:repositories": args.repositories ?? {
      kubernetes: args.legacy ? LOCAL_SOURCES.legacyKubernetes : LOCAL_SOURCES.kubernetes,
      docker: LOCAL_SOURCES.docker,
    },
    "kubeherd:os": { release: args.release, image: "ami-0e2e0000000000001" },
    "kubeherd:pools": pools,
  };
}
