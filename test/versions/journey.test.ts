/**
 * Journeys: GIVEN what is rolled out and a target several minors ahead, THEN the control plane goes through every
 * minor, and no prefix of the stages skips a control-plane minor or breaks the kubelet skew policy.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { configSchema, type KubeherdConfig } from "../../components/config/schema";
import { kubeVersionOfPin } from "../../components/versions/kubernetes";
import { journeyPoolProblems, kubeletSkewAllowed, planJourney, type JourneyStage } from "../../components/versions/journey";
import { deployedOfConfig } from "../../components/versions/transition";
import { currentInput, patched } from "../support/fixtures/config";

const MIRROR = "deb [trusted=yes] http://mirror.internal.example.com/kubernetes/v{minor} ./";
const pins = (release: string) => ({ kubernetes: release, kubeadm: `${release}-1.1`, kubelet: `${release}-1.1`, kubectl: `${release}-1.1` });

function config(release: string, extra: Record<string, unknown> = {}, pools?: unknown[]): KubeherdConfig {
  const input = patched(currentInput, { versions: { ...pins(release), "containerd.io": "2.0.4-1", ...extra }, repositories: { kubernetes: MIRROR } });
  return configSchema.parse(pools ? { ...input, pools } : input);
}

const journeyOf = (...minors: number[]) => minors.map((m) => pins(`1.${m}.3`));
const minorNumber = (minor: string) => Number(minor.split(".")[1]);
const describeStages = (stages: JourneyStage[]) => stages.map((s) => `${s.number} ${s.kind} ${s.minor} ${s.pools.join("+")}`);

describe("a journey's stages", () => {
  it("takes the control plane 1.30 -> 1.33 through 1.31 and 1.32, and every worker pool at the end, with each stage's exact pins", () => {
    const { journey, problems } = planJourney(deployedOfConfig(config("1.30.2")), config("1.33.5", { journey: journeyOf(31, 32) }));
    expect(problems).toEqual([]);
    expect(journey?.path).toEqual(["1.30", "1.31", "1.32", "1.33"]);
    // The storage pool is pets: it goes one minor at a time; the workers pool is cattle: straight to the target.
    expect(describeStages(journey?.stages ?? [])).toEqual([
      "1 control-plane 1.31 control-plane",
      "2 control-plane 1.32 control-plane",
      "3 control-plane 1.33 control-plane",
      "4 workers 1.31 storage",
      "5 workers 1.32 storage",
      "6 workers 1.33 workers+storage",
    ]);
    expect(journey?.stages[0].versions).toMatchObject({ kubernetes: "1.31.3", kubeadm: "1.31.3-1.1", kubelet: "1.31.3-1.1", "containerd.io": "2.0.4-1" });
    expect(journey?.stages[5].versions).toMatchObject({ kubernetes: "1.33.5", kubelet: "1.33.5-1.1" });
  });

  it("moves workers before a control-plane stage when the skew policy requires it (two minors before 1.25)", () => {
    const old = config("1.21.14");
    const { journey, problems } = planJourney(deployedOfConfig(old), config("1.25.4", { journey: journeyOf(22, 23, 24) }));
    expect(problems).toEqual([]);
    expect(describeStages(journey?.stages ?? [])).toEqual([
      "1 control-plane 1.22 control-plane",
      "2 control-plane 1.23 control-plane",
      // kubelets of 1.21 may not talk to a 1.24 API server (two minors back before 1.25): cattle join at 1.23.
      "3 workers 1.22 storage",
      "4 workers 1.23 workers",
      "5 control-plane 1.24 control-plane",
      "6 workers 1.23 storage",
      "7 control-plane 1.25 control-plane",
      "8 workers 1.24 storage",
      "9 workers 1.25 workers+storage",
    ]);
  });

  it("refuses a journey without the release of a minor it passes through, naming both keys", () => {
    const { problems } = planJourney(deployedOfConfig(config("1.30.2")), config("1.33.5", { journey: journeyOf(31) }));
    expect(problems.map((p) => p.key)).toEqual(["kubeherd:versions.kubernetes"]);
    expect(problems[0].message).toContain("skipping 1.32");
    expect(problems[0].message).toContain("in kubeherd:versions.journey");
  });

  it("refuses an entry of another minor, and a pin of another minor in an entry", () => {
    const wrong = [pins("1.31.3"), { ...pins("1.32.3"), kubelet: "1.31.3-1.1" }, pins("1.35.0")];
    const { problems } = planJourney(deployedOfConfig(config("1.30.2")), config("1.33.5", { journey: wrong }));
    expect(problems.map((p) => p.key)).toEqual(["kubeherd:versions.journey[1].kubelet", "kubeherd:versions.journey[2].kubernetes"]);
  });

  it("refuses a literal repository line that names one minor, as it cannot serve the others", () => {
    const target = { ...config("1.33.5", { journey: journeyOf(31, 32) }) };
    target.repositories = { kubernetes: "deb [trusted=yes] https://pkgs.k8s.io/core:/stable:/v1.33/deb/ /" };
    const { problems } = planJourney(deployedOfConfig(config("1.30.2")), target);
    expect(problems.map((p) => p.key)).toEqual(["kubeherd:repositories.kubernetes"]);
    expect(problems[0].message).toContain("cannot serve the journey's other minors (1.31, 1.32)");
  });

  it("is no journey for one minor or a patch", () => {
    expect(planJourney(deployedOfConfig(config("1.30.2")), config("1.31.5"))).toEqual({ problems: [] });
    expect(planJourney(deployedOfConfig(config("1.30.2")), config("1.30.9"))).toEqual({ problems: [] });
  });
});

describe("the pools a journey moves", () => {
  const withStorage = (storage: Record<string, unknown>) => {
    const input = patched(currentInput, {}) as { pools: Record<string, unknown>[] };
    return input.pools.map((p) => (p.name === "storage" ? { ...p, ...storage } : p));
  };

  it("moves every pool on the cluster's versions: no problem for the stack's own pools", () => {
    expect(journeyPoolProblems(deployedOfConfig(config("1.30.2")), config("1.33.5", { journey: journeyOf(31, 32) }))).toEqual([]);
  });

  it("refuses a pool with its own versions block, naming the pool's key", () => {
    const target = config("1.33.5", { journey: journeyOf(31, 32) }, withStorage({ versions: { kubelet: "1.31.3-1.1", kubectl: "1.31.3-1.1" } }));
    const problems = journeyPoolProblems(deployedOfConfig(config("1.30.2")), target);
    expect(problems.map((p) => [p.severity, p.key])).toEqual([["error", "kubeherd:pools[2].versions"]]);
    expect(problems[0].message).toContain("pool storage pins its own versions");
  });

  it("refuses a pool that was rolled out on pins of its own, though the target drops its block", () => {
    const ran = deployedOfConfig(config("1.30.2", {}, withStorage({ versions: { kubelet: "1.29.4-1.1", kubectl: "1.29.4-1.1" } })));
    const problems = journeyPoolProblems(ran, config("1.33.5", { journey: journeyOf(31, 32) }));
    expect(problems.map((p) => p.key)).toEqual(["kubeherd:pools[2].versions"]);
    expect(problems[0].message).toContain("kubelet 1.29.4-1.1, not the cluster's 1.30.2-1.1");
  });
});

describe("every prefix of every journey", () => {
  const POOL_BASE = { instanceType: "m6i.large", subnets: ["subnet-0a1b2c3d4e5f60001"], securityGroups: ["sg-0a1b2c3d4e5f60001"] };
  const pool = (i: number, role: string, mode: string) =>
    mode === "cattle"
      ? { name: `p${i}`, role, mode, size: 2, ...POOL_BASE }
      : { name: `p${i}`, role, mode, nodes: [{ name: `n${i}`, host: `10.0.0.${i + 1}`, hostKey: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKcp1" }], ssh: {} };

  it("never skips a control-plane minor, never breaks the skew policy, moves pets one minor at a time, and ends at the target", () => {
    const arbitrary = fc.record({
      from: fc.integer({ min: 16, max: 32 }),
      span: fc.integer({ min: 2, max: 8 }),
      lag: fc.integer({ min: 0, max: 2 }),
      workers: fc.array(fc.constantFrom("cattle", "pets"), { minLength: 1, maxLength: 4 }),
      cpMode: fc.constantFrom("cattle", "pets"),
    });
    fc.assert(
      fc.property(arbitrary, ({ from, span, lag, workers, cpMode }) => {
        const to = from + span;
        const kubelet = Math.max(from - Math.min(lag, from < 25 ? 2 : 3), 10);
        const pools = [pool(0, "control-plane", cpMode), ...workers.map((m, i) => pool(i + 1, "worker", m))];
        const base = config(`1.${from}.1`, { kubelet: `1.${kubelet}.1-1.1`, kubectl: `1.${from}.1-1.1` }, pools);
        const entries = Array.from({ length: to - kubelet - 1 }, (_, i) => pins(`1.${kubelet + 1 + i}.3`));
        const { journey, problems } = planJourney(deployedOfConfig(base), config(`1.${to}.2`, { journey: entries }, pools));
        expect(problems).toEqual([]);
        let cp = from;
        const minors = new Map(pools.map((p) => [p.name, p.role === "control-plane" ? from : kubelet]));
        for (const stage of journey?.stages ?? []) {
          const m = minorNumber(stage.minor);
          expect(kubeVersionOfPin(stage.versions.kubelet)?.minor).toBe(m);
          expect(stage.versions.kubernetes.startsWith(`${stage.minor}.`)).toBe(true);
          if (stage.kind === "control-plane") {
            expect(m).toBe(cp + 1);
            // Before the first control-plane node moves, every kubelet must already be allowed under the new minor.
            for (const [name, minor] of minors) if (name !== "p0") expect(kubeletSkewAllowed(minor, m)).toBe(true);
            cp = m;
          } else {
            for (const name of stage.pools) {
              const was = minors.get(name) as number;
              const mode = pools.find((p) => p.name === name)?.mode;
              expect(m).toBeGreaterThan(was);
              if (mode === "pets") expect(m).toBe(was + 1);
              expect(m).toBeLessThanOrEqual(cp);
            }
          }
          for (const name of stage.pools) minors.set(name, m);
          for (const [name, minor] of minors) if (name !== "p0") expect(kubeletSkewAllowed(minor, cp)).toBe(true);
        }
        expect(cp).toBe(to);
        for (const minor of minors.values()) expect(minor).toBe(to);
      }),
      { numRuns: 300 },
    );
  });
});
