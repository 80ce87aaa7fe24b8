/**
 * kubeherd: reads the stack config, refuses bad input (a transition from what the stack has rolled out that the plan
 * would refuse, pins the promotion source has not rolled out) before registering anything, and builds the cluster's
 * pools in rollout order: for a bump of several minors, stage by stage along the journey the plan shows
 * (components/rollout/journey-plan.ts). `npm run plan` computes the same steps offline from the same config.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { KubeherdCluster } from "./components/cluster";
import { loadConfig, secretKeysOf } from "./components/config/load";
import { createsInstances } from "./components/config/pools";
import { formatProblem } from "./components/config/problems";
import { withoutPromiseStacks } from "./components/promise-stacks";
import { pulumiConfigSource } from "./components/stack/config-source";
import { configureKubeconfig } from "./components/hooks";
import { enforcePromotion } from "./components/stack/promotion-reference";
import { rolledOutOf } from "./components/promotion/rolled-out";
import { clientOnlyNodes } from "./components/rollout/client-only";
import { cattleClientOnly, launchedPools } from "./components/rollout/cattle-client-only";
import { enforceTransition, journeyOfStack } from "./components/transition-gate";
import { controlPlaneTransition } from "./components/versions/removed-api-gate";

export = async () => {
  const { config, problems } = loadConfig(pulumiConfigSource(), { secrets: "require" });
  for (const p of problems.filter((p) => p.severity === "warning")) pulumi.log.warn(formatProblem(p));
  if (!config) {
    throw new pulumi.RunError(`invalid kubeherd config:\n${problems.filter((p) => p.severity === "error").map(formatProblem).join("\n")}`);
  }
  const region = aws.config.region ?? "";
  if (!region && config.pools.some(createsInstances)) {
    throw new pulumi.RunError("aws:region: is required for pools whose nodes kubeherd creates");
  }
  const rolledOutBefore = await enforceTransition(config, region);
  // A bump of several minors: the stages, declared in order (components/rollout/journey-plan.ts).
  const journey = journeyOfStack(config, rolledOutBefore, region);
  await enforcePromotion(config);
  // Cattle pools whose only change is kubectl: a new template version for new nodes, no instance replaced.
  const cattleLaunched = cattleClientOnly(config, Object.fromEntries(Object.entries(rolledOutBefore?.pools ?? {}).map(([k, p]) => [k, p.launched])), region);

  const settings = new pulumi.Config("kubeherd");
  const secrets = Object.fromEntries(secretKeysOf(config).map((key) => [key, settings.requireSecret(key)]));
  const kubeconfig = secrets[config.cluster.kubeconfigSecret];
  configureKubeconfig(kubeconfig);

  const cluster = withoutPromiseStacks(() => new KubeherdCluster("kubeherd", { config, region, kubeconfig, secrets, now: Date.now(), clientOnly: clientOnlyNodes(config, rolledOutBefore), journey: journey?.declarations, cattleLaunched,
    transition: rolledOutBefore ? controlPlaneTransition(rolledOutBefore.kubernetes, config.versions.kubernetes) : undefined }));
  return {
    /** Per pool: mode, role, the pins it runs, its nodes, and for EC2 pools the launch template and instance ids. */
    pools: cluster.pools,
    /** The node names in rollout order. */
    rolloutOrder: Object.values(cluster.pools).flatMap((p) => p.nodes),
    /** What this stack has completely rolled out; resolves only once every node is back (the promotion gate reads it). */
    rolledOut: pulumi.all(cluster.nodes.map((n) => (n as pulumi.CustomResource).id)).apply(() => rolledOutOf(config, { before: rolledOutBefore, journey: journey?.journey, launched: launchedPools(config, cattleLaunched, region) }, region)),
    /** The emergency override in force, if any (audited). */
    promotionOverride: config.promotion?.override,
  };
};
