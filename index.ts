/**
 * kubeherd: reads the stack config, refuses bad input before registering anything, and builds the cluster's
 * pools in rollout order. `npm run plan` computes the same steps offline from the same config.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { KubeherdCluster } from "./components/cluster";
import { loadConfig, secretKeysOf } from "./components/config/load";
import { formatProblem } from "./components/config/problems";
import { pulumiConfigSource } from "./components/config/pulumi-source";
import { configureKubeconfig } from "./components/hooks";

const { config, problems } = loadConfig(pulumiConfigSource(), { requireSecrets: true });
for (const p of problems.filter((p) => p.severity === "warning")) pulumi.log.warn(formatProblem(p));
if (!config) {
  throw new pulumi.RunError(`invalid kubeherd config:\n${problems.filter((p) => p.severity === "error").map(formatProblem).join("\n")}`);
}
const needsRegion = config.pools.some((p) => p.mode === "cattle" || p.size !== undefined);
const region = aws.config.region ?? "";
if (needsRegion && !region) throw new pulumi.RunError("aws:region: is required for pools whose nodes kubeherd creates");

const settings = new pulumi.Config("kubeherd");
const secrets = Object.fromEntries(secretKeysOf(config).map((key) => [key, settings.requireSecret(key)]));
const kubeconfig = secrets[config.cluster.kubeconfigSecret];
configureKubeconfig(kubeconfig);

const cluster = new KubeherdCluster("kubeherd", { config, region, kubeconfig, secrets, now: Date.now() });

/** Per pool: mode, role, the pins it runs, its nodes, and for EC2 pools the launch template and instance ids. */
export const pools = cluster.pools;
/** The node names in rollout order. */
export const rolloutOrder = Object.values(cluster.pools).flatMap((p) => p.nodes);
