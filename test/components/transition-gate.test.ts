/**
 * The program judges the transition the plan judges: GIVEN the dev stack's own `rolledOut` output (what its nodes
 * run), WHEN index.ts runs under Pulumi's mocks with a config that moves from it, THEN it refuses, before any node
 * resource is registered, with the plan's lines; or goes on, warning, when the override allows the transition.
 */
import { join } from "node:path";
import type { Output } from "@pulumi/pulumi";
import * as pulumi from "@pulumi/pulumi";
import { describe, expect, it, vi } from "vitest";
import { formatProblem } from "../../components/config/problems";
import { readStackFile } from "../../components/config/stackfile";
import type { KubeherdConfig } from "../../components/config/schema";
import { rolledOutOf } from "../../components/promotion/rolled-out";
import { deployedOfConfig, judgeTransition } from "../../components/versions/transition";
import { settle, useMocks, valueOf } from "../support/fixtures/mocks";
import { REPO_DIR } from "../support/fixtures/stackfiles";
import { DEV_SECRETS, devStackWith, devConfig } from "../support/fixtures/dev-stack";

type Program = () => Promise<Record<string, unknown>>;



const kube = (release: string) => ({ kubernetes: release, kubeadm: `${release}-1.1`, kubelet: `${release}-1.1`, kubectl: `${release}-1.1` });

async function run(versions: Record<string, unknown>, rolledOut: KubeherdConfig | undefined) {
  const registered = useMocks("dev", devStackWith(versions), Object.keys(DEV_SECRETS), rolledOut ? { "acme/kubeherd/dev": { rolledOut: rolledOutOf(rolledOut) } } : {});
  vi.resetModules();
  const program = ((await import("../../index")) as unknown as { default: Program }).default;
  return { registered, result: program() };
}

const withVersions = (config: KubeherdConfig, versions: Record<string, unknown>): KubeherdConfig => ({ ...config, versions: { ...config.versions, ...versions } });
const nodeResources = (registered: { type: string }[]) => registered.filter((r) => r.type !== "pulumi:pulumi:StackReference");

describe("the program judges the transition from what the stack has rolled out", () => {
  it("refuses a skipped minor without the journey's release before any resource is registered, with the plan's line", async () => {
    const rolled = withVersions(devConfig(), kube("1.31.4"));
    const { registered, result } = await run(kube("1.33.5"), rolled);
    // The plan's judge (cli/offline-plan.ts): a multi-minor bump is a journey, refused while a minor's release is missing.
    const planLines = judgeTransition(deployedOfConfig(rolled), withVersions(devConfig(), kube("1.33.5")), { journeys: true }).filter((p) => p.severity === "error").map(formatProblem);
    expect(planLines[0]).toMatch(/^kubeherd:versions\.kubernetes: .*skipping 1\.32.*the journey: 1\.31 → 1\.32 → 1\.33.*kubeherd:versions\.journey/);
    const message = await result.then(() => "", (e: Error) => e.message);
    for (const line of planLines) expect(message).toContain(line);
    await settle();
    expect(nodeResources(registered)).toEqual([]);
  });

  it("refuses a minor downgrade of the control plane even with the override, pointing to the way back", async () => {
    const { registered, result } = await run({ ...kube("1.32.9"), allowUnsupportedTransition: true }, devConfig());
    await expect(result).rejects.toThrow(/kubeherd:versions\.kubernetes: .*kubeadm cannot take a control plane back a minor.*etcd snapshot.*README "The way back"/);
    await settle();
    expect(nodeResources(registered)).toEqual([]);
  });

  it("builds the cluster for a patch downgrade under allowUnsupportedTransition, warning with the override's name", async () => {
    const warn = vi.spyOn(pulumi.log, "warn");
    const { registered, result } = await run({ ...kube("1.33.4"), allowUnsupportedTransition: true }, devConfig());
    const exports = await result;
    await valueOf(exports.rolledOut as Output<unknown>);
    await settle();
    expect(nodeResources(registered).length).toBeGreaterThan(0);
    expect(warn.mock.calls.map((c) => String(c[0]))).toEqual(
      expect.arrayContaining([expect.stringMatching(/^kubeherd:versions\.kubelet: .*allowUnsupportedTransition is true/)]),
    );
    warn.mockRestore();
  });

  it("builds the cluster on a first deployment (no rolledOut) and on a next-minor bump", async () => {
    for (const rolled of [undefined, withVersions(devConfig(), kube("1.32.9"))]) {
      const { registered, result } = await run({}, rolled);
      const exports = await result;
      await valueOf(exports.rolledOut as Output<unknown>);
      await settle();
      expect(nodeResources(registered).length).toBeGreaterThan(0);
    }
  });
});

describe("the program judges the placement from what the stack has rolled out", () => {
  /** The dev stack file as the engine hands it to the program, with some keys replaced. */
  async function runWith(values: Record<string, string>, rolledOut: ReturnType<typeof rolledOutOf>) {
    const stack = { ...devStackWith({}), ...values };
    const registered = useMocks("dev", stack, Object.keys(DEV_SECRETS), { "acme/kubeherd/dev": { rolledOut } });
    vi.resetModules();
    const program = ((await import("../../index")) as unknown as { default: Program }).default;
    return { registered, result: program() };
  }
  const osWith = (patch: Record<string, string>) => JSON.stringify({ ...(readStackFile(join(REPO_DIR, "Pulumi.dev.yaml")).values["kubeherd:os"] as object), ...patch });

  it("refuses a change of aws:region (which the diff would not show) before any resource is registered", async () => {
    const { registered, result } = await runWith({ "aws:region": "us-east-1" }, rolledOutOf(devConfig(), {}, "eu-west-1"));
    await expect(result).rejects.toThrow(/aws:region: goes from eu-west-1 to us-east-1: .*orphaned/);
    await settle();
    expect(nodeResources(registered)).toEqual([]);
  });

  it("refuses os.release moving under the same os.image for the cattle pool, and builds once the image moves too", async () => {
    const rolled = rolledOutOf(devConfig(), {}, "eu-west-1");
    const refused = await runWith({ "kubeherd:os": osWith({ release: "24.04" }) }, rolled);
    await expect(refused.result).rejects.toThrow(/kubeherd:os\.release: goes from 22\.04 to 24\.04 while kubeherd:os\.image stays ami-0a1b2c3d4e5f60718 .*cattle pool workers/);
    await settle();
    expect(nodeResources(refused.registered)).toEqual([]);

    const { registered, result } = await runWith({ "kubeherd:os": osWith({ release: "24.04", image: "ami-0fedcba9876543210" }) }, rolled);
    const exports = await result;
    expect(await valueOf(exports.rolledOut as Output<{ image: string; region: string }>)).toMatchObject({ image: "ami-0fedcba9876543210", region: "eu-west-1", release: "24.04" });
    await settle();
    expect(nodeResources(registered).length).toBeGreaterThan(0);
  });
});
