/**
 * A kubectl-only pin on a cattle pool: GIVEN the dev stack's own `rolledOut` (what its instances were launched
 * with), WHEN only kubectl changes, THEN the launch template gets the new kubectl for new nodes and no instance is
 * replaced: each keeps its replacement trigger and the template version it was made from, in this `up` and the
 * next; any other change replaces them as before. The plan says the same.
 */
import { join } from "node:path";
import type { Output } from "@pulumi/pulumi";
import { gunzipSync } from "node:zlib";
import { describe, expect, it, vi } from "vitest";
import { loadStack } from "../../cli/stack";
import type { KubeherdConfig } from "../../components/config/schema";
import type { RolledOut } from "../../components/promotion/rolled-out";
import { planRollout } from "../../components/rollout/plan";
import { settle, useMocks, valueOf, type Registration } from "../support/fixtures/mocks";
import { REPO_DIR } from "../support/fixtures/stackfiles";
import { DEV_SECRETS, devStackWith } from "../support/fixtures/dev-stack";

type Program = () => Promise<Record<string, unknown>>;
const KUBECTL = { kubectl: "1.33.6-1.1" };
const KUBELET = { kubeadm: "1.33.6-1.1", kubelet: "1.33.6-1.1", kubectl: "1.33.6-1.1", kubernetes: "1.33.6" };


async function up(versions: Record<string, unknown>, rolledOut?: RolledOut): Promise<{ registered: Registration[]; rolledOut: RolledOut }> {
  const registered = useMocks("dev", devStackWith(versions), Object.keys(DEV_SECRETS), rolledOut ? { "acme/kubeherd/dev": { rolledOut } } : {});
  vi.resetModules();
  const program = ((await import("../../index")) as unknown as { default: Program }).default;
  const exports = await program();
  const out = await valueOf(exports.rolledOut as Output<RolledOut>);
  await settle();
  return { registered, rolledOut: out };
}

const instances = (r: Registration[]) => r.filter((x) => x.type === "aws:ec2/instance:Instance");
const userData = (r: Registration[]) => {
  const lt = r.find((x) => x.type === "aws:ec2/launchTemplate:LaunchTemplate" && x.name.startsWith("workers"));
  return gunzipSync(Buffer.from(String(lt?.inputs.userData), "base64")).toString("utf8");
};

describe("a kubectl-only pin on a cattle pool", () => {
  it("gives new nodes the new kubectl and replaces no instance, in this up and the next; another change replaces", async () => {
    const first = await up({});
    const triggers = instances(first.registered).map((i) => i.replacementTrigger);
    expect(first.rolledOut.pools.workers.launched?.pins.kubectl).toBe("1.33.5-1.1");

    const bump = await up(KUBECTL, first.rolledOut);
    expect(instances(bump.registered).map((i) => i.replacementTrigger)).toEqual(triggers);
    for (const i of instances(bump.registered)) expect(i.ignoreChanges).toEqual(["launchTemplate"]);
    expect(userData(bump.registered)).toContain("1.33.6-1.1");
    // The instances still run what they were launched with: rolledOut says so, and the next up keeps them.
    expect(bump.rolledOut.pools.workers.launched?.pins.kubectl).toBe("1.33.5-1.1");
    expect(bump.rolledOut.pools.workers.pins.kubectl).toBe("1.33.6-1.1");
    const next = await up(KUBECTL, bump.rolledOut);
    expect(instances(next.registered).map((i) => i.replacementTrigger)).toEqual(triggers);

    const kubelet = await up(KUBELET, next.rolledOut);
    for (const [n, i] of instances(kubelet.registered).entries()) {
      expect(i.replacementTrigger).not.toEqual(triggers[n]);
      expect(i.ignoreChanges).toEqual([]);
    }
    expect(kubelet.rolledOut.pools.workers.launched?.pins.kubelet).toBe("1.33.6-1.1");
  });

  it("is planned without a drain or a replacement, and says why", () => {
    const loaded = loadStack(join(REPO_DIR, "Pulumi.dev.yaml"), REPO_DIR);
    const base = loaded.config as KubeherdConfig;
    const target: KubeherdConfig = { ...base, versions: { ...base.versions, ...KUBECTL } };
    const plan = planRollout({ stack: "dev", base, target, region: "eu-west-1" });
    expect(plan.steps.filter((s) => s.pool === "workers")).toEqual([]);
    expect(plan.warnings.join("\n")).toContain("cattle pool workers: only kubectl changes (1.33.5-1.1 -> 1.33.6-1.1): a new launch template version for new nodes; no instance is replaced");
    const kubelet = planRollout({ stack: "dev", base, target: { ...base, versions: { ...base.versions, ...KUBELET } }, region: "eu-west-1" });
    expect(kubelet.steps.filter((s) => s.pool === "workers" && s.action === "terminate")).toHaveLength(2);
  });
});
