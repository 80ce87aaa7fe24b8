/**
 * The promotion gate under Pulumi's mocks: GIVEN the prod stack promoting from dev, WHEN the program reads dev's
 * `rolledOut` through a StackReference, THEN pins dev has not completed are refused by their config key, pins it
 * has completed pass, and an override lets them through as warnings.
 */
import { join } from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { beforeEach, describe, expect, it } from "vitest";
import { formatProblem } from "../../components/config/problems";
import type { KubeherdConfig } from "../../components/config/schema";
import { loadStack } from "../../cli/stack";
import { enforcePromotion, promotionProblems, qualifiedStackName } from "../../components/stack/promotion-reference";
import type { RolledOut } from "../../components/promotion/rolled-out";
import { patched } from "../support/fixtures/config";
import { configSchema } from "../../components/config/schema";
import { REPO_DIR } from "../support/fixtures/stackfiles";

const stack = (name: string): KubeherdConfig => {
  const loaded = loadStack(join(REPO_DIR, `Pulumi.${name}.yaml`), REPO_DIR);
  if (!loaded.config) throw new Error(loaded.problems.map(formatProblem).join("\n"));
  return loaded.config;
};

/** What a stack running `config` exports as `rolledOut` (shape of rolled-out.ts, written out by hand). */
function rolledOut(config: KubeherdConfig): RolledOut {
  const v = config.versions;
  const pins: Record<string, string> = { "containerd.io": v["containerd.io"] ?? "", kubeadm: v.kubeadm, kubelet: v.kubelet, kubectl: v.kubectl };
  return { kubernetes: v.kubernetes, pins, release: config.os.release, pools: { workers: { pins, nodes: ["workers-0", "workers-1"] } } };
}

const dev = stack("dev");
const prod = stack("prod");
/** Prod after `npm run promote -- --from dev --to prod`: dev's pins. */
const promoted = (promotion: Record<string, unknown> = { from: "dev" }) =>
  configSchema.parse(patched(structuredClone(prod) as unknown as Record<string, unknown>, { versions: dev.versions, promotion }));

interface Outputs {
  [stack: string]: Record<string, unknown> | undefined;
}
let read: string[];

async function mockStacks(outputs: Outputs, preview = false): Promise<void> {
  read = [];
  await pulumi.runtime.setMocks(
    {
      newResource(args) {
        if (args.type !== "pulumi:pulumi:StackReference") throw new Error(`unexpected resource ${args.type}`);
        const name = String(args.inputs.name);
        read.push(name);
        // What the engine's StackReference provider returns: the stack's outputs and which of them are secret.
        return { id: name, state: { name, outputs: outputs[name] ?? {}, secretOutputNames: [] } };
      },
      call: () => ({}),
    },
    "kubeherd",
    "prod",
    preview,
    "acme",
  );
}

describe.each([false, true])("the promotion gate under mocks (preview: %s)", (preview) => {
  beforeEach(() => mockStacks({}, preview));

  it("refuses prod's new pins when dev's rolledOut lacks them, naming each key", async () => {
    await mockStacks({ "acme/kubeherd/dev": { rolledOut: rolledOut(prod) }, "acme/kubeherd/prod": { rolledOut: rolledOut(prod) } }, preview);
    const problems = await promotionProblems(promoted());
    expect(read).toEqual(["acme/kubeherd/dev", "acme/kubeherd/prod"]);
    expect(problems.map((p) => [p.key, p.severity])).toEqual([
      ["kubeherd:versions.kubernetes", "error"],
      ["kubeherd:versions.kubeadm", "error"],
      ["kubeherd:versions.kubelet", "error"],
      ["kubeherd:versions.kubectl", "error"],
    ]);
    expect(formatProblem(problems[2])).toBe(
      "kubeherd:versions.kubelet: 1.33.5-1.1 has not been rolled out on dev (dev runs 1.32.9-1.1): promote after dev's pulumi up completes, or set kubeherd:promotion.override",
    );
  });

  it("passes once dev has rolled the pins out", async () => {
    await mockStacks({ "acme/kubeherd/dev": { rolledOut: rolledOut(dev) }, "acme/kubeherd/prod": { rolledOut: rolledOut(prod) } }, preview);
    expect(await promotionProblems(promoted())).toEqual([]);
  });

  it("passes prod as it is while dev is ahead: what prod already runs needs no promotion", async () => {
    await mockStacks({ "acme/kubeherd/dev": { rolledOut: rolledOut(dev) }, "acme/kubeherd/prod": { rolledOut: rolledOut(prod) } }, preview);
    expect(await promotionProblems(prod)).toEqual([]);
  });

  it("refuses on kubeherd:promotion.from when dev never completed a rollout", async () => {
    await mockStacks({ "acme/kubeherd/dev": {} }, preview);
    const problems = await promotionProblems(promoted());
    expect(problems.map(formatProblem)).toEqual([expect.stringMatching(/^kubeherd:promotion\.from: dev has not completed a rollout/)]);
  });

  it("refuses on kubeherd:promotion.from when dev's rolledOut is not what kubeherd exports", async () => {
    await mockStacks({ "acme/kubeherd/dev": { rolledOut: { kubernetes: "1.33.5" } } }, preview);
    const problems = await promotionProblems(promoted());
    expect(problems.map((p) => [p.key, p.severity])).toEqual([["kubeherd:promotion.from", "error"]]);
    expect(problems[0].message).toContain("rolledOut output of acme/kubeherd/dev is not what kubeherd exports");
  });

  it("lets the pins through as warnings quoting the override", async () => {
    await mockStacks({ "acme/kubeherd/dev": { rolledOut: rolledOut(prod) } }, preview);
    const override = "jdoe: CVE-2019-5736 hotfix, INC-1234";
    const problems = await enforcePromotion(promoted({ from: "dev", override }));
    expect(problems).toHaveLength(4);
    expect(problems.every((p) => p.severity === "warning" && p.message.includes(override))).toBe(true);
  });

  it("throws a RunError listing every refused key before anything is built", async () => {
    await mockStacks({ "acme/kubeherd/dev": { rolledOut: rolledOut(prod) } }, preview);
    const refused = enforcePromotion(promoted());
    await expect(refused).rejects.toBeInstanceOf(pulumi.RunError);
    await expect(refused).rejects.toThrow(/promotion refused:\nkubeherd:versions\.kubernetes: .*\nkubeherd:versions\.kubeadm: /);
  });

  it("reads no stack when the config promotes from none", async () => {
    expect(await promotionProblems(dev)).toEqual([]);
    expect(read).toEqual([]);
  });

  it("reads a fully qualified source stack as written", async () => {
    await mockStacks({ "platform/kubeherd-dev/dev": { rolledOut: rolledOut(dev) } }, preview);
    expect(await promotionProblems(promoted({ from: "platform/kubeherd-dev/dev" }))).toEqual([]);
    expect(read[0]).toBe("platform/kubeherd-dev/dev");
  });
});

describe("qualifiedStackName", () => {
  it.each([
    ["dev", "acme/kubeherd/dev"],
    ["platform/dev", "platform/kubeherd/dev"],
    ["platform/other/dev", "platform/other/dev"],
  ])("names %s as %s", (name, qualified) => {
    expect(qualifiedStackName(name, "acme", "kubeherd")).toBe(qualified);
  });
});
