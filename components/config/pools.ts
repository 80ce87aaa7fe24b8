/** Rules about the shape of `kubeherd:pools` that one pool's schema cannot see. */
import { error, warning, configKey, type Problem } from "./problems";
import type { KubeherdConfig, PetsPool, Pool } from "./schema";
import { budgetNodes } from "../rollout/batches";
import { REMOVED_GROUP_VERSIONS } from "../versions/removed-api-gate";

/** Whether kubeherd creates the pool's EC2 instances: every cattle pool, and a pets pool given a `size`. */
export const createsInstances = (pool: Pool): boolean => pool.mode === "cattle" || pool.size !== undefined;

const EC2_FIELDS = ["size", "instanceType", "subnets", "securityGroups"] as const;

export function checkPools(config: KubeherdConfig): Problem[] {
  const problems: Problem[] = [];
  const poolNames = new Map<string, number>();
  const nodeNames = new Map<string, string>();
  const hosts = new Map<string, string>();

  config.pools.forEach((pool, i) => {
    const at = (...path: (string | number)[]) => configKey("pools", [i, ...path]);

    const first = poolNames.get(pool.name);
    if (first !== undefined) problems.push(error(at("name"), `duplicate pool name "${pool.name}" (also kubeherd:pools[${first}])`));
    else poolNames.set(pool.name, i);
    problems.push(...checkBudgets(pool, at));
    problems.push(...checkControlPlaneRollout(pool, at));

    if (pool.mode === "cattle") {
      if (pool.role === "control-plane") {
        problems.push(error(at("mode"), "cattle control-plane pools are not supported: the control plane must be mode pets (kubeadm upgrade apply runs in place)"));
      }
      if (pool.size === 1 && pool.rollout.strategy === "rolling" && !pool.rollout.allowZeroCapacity) {
        problems.push(error(at("rollout", "strategy"), "rolling a pool of size 1 leaves it with no node during the replacement: use strategy surge, or set rollout.allowZeroCapacity: true"));
      }
      if (!config.os.image) problems.push(error(configKey("os", ["image"]), `is required by cattle pool ${pool.name}`));
      return;
    }

    problems.push(...checkPetsPool(pool, at));
    if (createsInstances(pool) && pool.role === "control-plane") {
      problems.push(error(at("size"), "kubeherd creates worker nodes only: list the control-plane hosts under nodes (they join with kubeadm join --control-plane, which needs certificates kubeherd does not hold)"));
    }
    if (createsInstances(pool) && !config.os.image) {
      problems.push(error(configKey("os", ["image"]), `is required by pool ${pool.name}, whose nodes kubeherd creates`));
    }
    pool.nodes?.forEach((node, j) => {
      const otherNode = nodeNames.get(node.name);
      if (otherNode) problems.push(error(at("nodes", j, "name"), `duplicate node name "${node.name}" (also in pool ${otherNode})`));
      else nodeNames.set(node.name, pool.name);
      const otherHost = hosts.get(node.host);
      if (otherHost) problems.push(error(at("nodes", j, "host"), `host ${node.host} is already node ${otherHost}`));
      else hosts.set(node.host, node.name);
    });
  });

  if (!config.pools.some((p) => p.role === "control-plane")) {
    problems.push(error(configKey("pools"), "needs a control-plane pool (mode pets): kubeadm upgrade apply runs on its first node, before any worker"));
  }
  return problems;
}

/** The disruption budgets and zones of a pool (their shapes are the schema's; these rules need the whole pool). */
function checkBudgets(pool: Pool, at: (...path: (string | number)[]) => string): Problem[] {
  const problems: Problem[] = [];
  const { rollout } = pool;
  const size = pool.mode === "cattle" ? pool.size : (pool.nodes?.length ?? pool.size ?? 0);
  const unavailable = budgetNodes(rollout.maxUnavailable, size);
  // A count is what the user asked for, whatever the pool's size today: 2 on a one-node control plane is refused too.
  const asked = typeof rollout.maxUnavailable === "number" ? rollout.maxUnavailable : unavailable;
  if (pool.role === "control-plane" && asked > 1) {
    problems.push(error(at("rollout", "maxUnavailable"), `${JSON.stringify(rollout.maxUnavailable)} is ${asked} nodes: control-plane nodes change one at a time (etcd quorum, kubeadm upgrade order); use 1`));
  }
  const surge = pool.mode === "cattle" && rollout.strategy === "surge";
  // A batch of the whole pool takes every node out at once; a pool of one is the size-1 rule's (cattle) or has no
  // other way (a single pets host is drained alone either way).
  if (pool.role === "worker" && !surge && size > 1 && unavailable >= size && !rollout.allowZeroCapacity) {
    problems.push(error(at("rollout", "maxUnavailable"), `${JSON.stringify(rollout.maxUnavailable)} is all ${size} nodes of pool ${pool.name}: they would drain${pool.mode === "cattle" ? " and terminate" : ""} at once, leaving the pool no capacity; use at most ${size - 1}${pool.mode === "cattle" ? ", strategy surge," : ""} or set rollout.allowZeroCapacity: true`));
  }
  if (surge && budgetNodes(rollout.maxSurge, size) > unavailable) {
    problems.push(error(at("rollout", "maxSurge"), `${JSON.stringify(rollout.maxSurge)} is ${budgetNodes(rollout.maxSurge, size)} nodes, more than maxUnavailable (${unavailable}): a surge pool's old nodes leave at the end in the batches their replacements came up in (the engine deletes by the same graph), so raise rollout.maxUnavailable to at least that or lower maxSurge`));
  }
  if (!surge && rollout.maxSurge !== 1) {
    problems.push(warning(at("rollout", "maxSurge"), "applies to cattle pools with strategy surge only; ignored here"));
  }
  if (rollout.byZone && pool.mode === "pets" && pool.nodes) {
    const without = pool.nodes.filter((n) => n.zone === undefined).map((n) => n.name);
    if (without.length > 0) problems.push(error(at("rollout", "byZone"), `needs a zone on every node; ${without.join(", ")} ${without.length === 1 ? "has" : "have"} none (set nodes[].zone)`));
  }
  return problems;
}

function checkPetsPool(pool: PetsPool, at: (...path: (string | number)[]) => string): Problem[] {
  const problems: Problem[] = [];
  const given = EC2_FIELDS.filter((f) => pool[f] !== undefined);
  if (pool.nodes && given.length > 0) {
    problems.push(error(at(given[0]), "a pets pool either lists existing hosts (nodes) or has kubeherd create EC2 nodes (size, instanceType, subnets, securityGroups), not both"));
  } else if (!pool.nodes && given.length === 0) {
    problems.push(error(at("nodes"), "a pets pool needs nodes (existing hosts) or size, instanceType, subnets and securityGroups (EC2 nodes kubeherd creates)"));
  } else if (!pool.nodes) {
    for (const f of EC2_FIELDS.filter((f) => pool[f] === undefined)) {
      problems.push(error(at(f), `is required when kubeherd creates the pool's EC2 nodes (size is set)`));
    }
    problems.push(warning(at("size"), "EC2 nodes that kubeherd creates have no host key to pin before they exist: SSH trusts the host on first contact; list existing hosts with hostKey to pin them"));
  }
  if (!pool.ssh) {
    problems.push(error(at("ssh"), "a pets pool needs SSH settings: at least ssh: {} (user ubuntu, key from the secret kubeherd:sshPrivateKey)"));
  }
  if (pool.rollout.strategy === "surge") {
    problems.push(error(at("rollout", "strategy"), "surge is a cattle strategy: pets nodes are upgraded in place"));
  }
  return problems;
}

/** `rollout.acceptRemovedApis` names removed group/versions of the table; it and `rollout.ignorePreflightErrors` mean something on control-plane pools only. */
function checkControlPlaneRollout(pool: Pool, at: (...path: (string | number)[]) => string): Problem[] {
  const accept = pool.rollout.acceptRemovedApis;
  const problems: Problem[] = [];
  if (Array.isArray(accept)) {
    accept.forEach((gv, k) => {
      if (!REMOVED_GROUP_VERSIONS.includes(gv)) {
        problems.push(error(at("rollout", "acceptRemovedApis", k), `${gv} is not an API version any Kubernetes minor removes (kubeherd knows: ${REMOVED_GROUP_VERSIONS.join(", ")})`));
      }
    });
  }
  if (pool.role === "worker" && accept !== false) {
    problems.push(warning(at("rollout", "acceptRemovedApis"), "is read on the control-plane pool only (the removed-API pre-flight runs before kubeadm upgrade apply); ignored here"));
  }
  if (pool.role === "worker" && pool.rollout.ignorePreflightErrors.length > 0) {
    problems.push(warning(at("rollout", "ignorePreflightErrors"), "is read on the control-plane pool only (kubeadm upgrade apply runs there; worker nodes run kubeadm upgrade node as it is); ignored here"));
  }
  return problems;
}
