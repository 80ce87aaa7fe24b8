/**
 * What `pulumi up` declares for a journey (components/rollout/journey-plan.ts `journeyDeclarations`): GIVEN a
 * journey, THEN each pool's last stage is its own node resources when they converge to the target's exact scripts,
 * the other stages are stage resources, and a cattle pool that the skew policy would replace twice is refused.
 */
import { describe, expect, it } from "vitest";
import { configSchema, type KubeherdConfig } from "../../components/config/schema";
import { journeyDeclarations, journeyStageRollouts } from "../../components/rollout/journey-plan";
import { planJourney } from "../../components/versions/journey";
import { deployedOfConfig } from "../../components/versions/transition";
import { currentInput, patched } from "../support/fixtures/config";

const MIRROR = "deb [trusted=yes] http://mirror.internal.example.com/kubernetes/v{minor} ./";
const pins = (release: string) => ({ kubernetes: release, kubeadm: `${release}-1.1`, kubelet: `${release}-1.1`, kubectl: `${release}-1.1` });
const config = (release: string, extra: Record<string, unknown> = {}): KubeherdConfig =>
  configSchema.parse(patched(currentInput, { versions: { ...pins(release), "containerd.io": "2.0.4-1", ...extra }, repositories: { kubernetes: MIRROR } }));

function declarationsOf(from: string, to: string, through: string[]) {
  const target = config(to, { journey: through.map(pins) });
  const { journey } = planJourney(deployedOfConfig(config(from)), target);
  if (!journey) throw new Error("no journey");
  return { target, journey, declared: journeyDeclarations(target, journey, "eu-west-1") };
}

describe("journeyDeclarations", () => {
  it("makes each pool's last stage its own resources and every earlier pets stage a stage resource", () => {
    const { declared } = declarationsOf("1.30.2", "1.33.5", ["1.31.3", "1.32.3"]);
    expect(declared.problems).toEqual([]);
    expect(declared.stages.flatMap((s) => s.pools.map((p) => `${s.stage.number} ${p.pool} ${p.own ? "own" : `to ${s.stage.minor}`}`))).toEqual([
      "1 control-plane to 1.31", "2 control-plane to 1.32", "3 control-plane own",
      "4 storage to 1.31", "5 storage to 1.32", "6 workers own", "6 storage own",
    ]);
    expect(declared.trailing).toEqual([]);
  });

  it("numbers the batches on across the stages, each with its stage, as the plan does", () => {
    const { target, journey, declared } = declarationsOf("1.30.2", "1.33.5", ["1.31.3", "1.32.3"]);
    const batches = declared.stages.flatMap((s) => s.pools.flatMap((p) => p.batches));
    expect(batches.map((b) => b.number)).toEqual(batches.map((_, i) => i + 1));
    expect(batches.every((b) => b.stage !== undefined)).toBe(true);
    expect(journeyStageRollouts(config("1.30.2"), target, journey).flatMap((r) => r.batches)).toEqual(batches);
  });

  it("refuses a cattle pool the skew policy would replace twice (at 1.23, then at 1.25), naming the minor to stop at", () => {
    const { declared } = declarationsOf("1.21.14", "1.25.4", ["1.22.3", "1.23.3", "1.24.3"]);
    expect(declared.problems.map((p) => p.key)).toEqual(["kubeherd:versions.kubernetes"]);
    expect(declared.problems[0].message).toContain("cattle pool workers would be replaced at 1.23 and then at 1.25");
    expect(declared.problems[0].message).toContain("pin 1.23's release first");
  });
});
