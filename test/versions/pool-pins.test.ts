/**
 * A pool's own `versions` block (issue 18): merged over the cluster's by `poolVersions`, refused by the version
 * rules with one line naming `kubeherd:pools[i].versions.KEY` when it breaks the skew policy, mixes minors, differs
 * on a control-plane pool, or needs a minor a literal repository line cannot serve.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { KubeherdConfig } from "../../components/config/schema";
import { stackStatus } from "../../components/kube/status";
import { nodeExpectations } from "../../components/rollout/nodes";
import { compareKubeVersions, kubeVersionOfPin, parseKubeVersion } from "../../components/versions/kubernetes";
import { poolVersions } from "../../components/versions/pins";
import { aptSources } from "../../components/versions/repositories";
import { checkTransition, checkVersions } from "../../components/versions/rules";
import { currentInput, config } from "../support/fixtures/config";

const at = (v: string) => ({ kubernetes: v, kubeadm: `${v}-1.1`, kubelet: `${v}-1.1`, kubectl: `${v}-1.1` });
const kube = (v: string) => ({ kubeadm: `${v}-1.1`, kubelet: `${v}-1.1`, kubectl: `${v}-1.1` });

/** The current fixture at control plane `cp`, with `own` as pool `index`'s versions block and other patches. */
function staged(cp: string, own: Record<string, unknown> | undefined, index = 1, patch: Record<string, unknown> = {}): KubeherdConfig {
  const pools = (currentInput.pools as Record<string, unknown>[]).map((p, i) => (i === index && own ? { ...p, versions: own } : p));
  return config({ ...currentInput, versions: { ...(currentInput.versions as object), ...at(cp), "containerd.io": "1.7.24-1" }, pools, ...patch });
}
const errors = (c: KubeherdConfig) => checkVersions(c).filter((p) => p.severity === "error");

describe("poolVersions", () => {
  it("merges the pool's block over the cluster's, by config or by name; a pool's own kubeadm is what its nodes target", () => {
    const c = staged("1.34.1", kube("1.33.5"));
    const workers = c.pools[1];
    for (const pool of [workers, "workers"]) {
      const v = poolVersions(c, pool);
      expect(v.kubelet).toBe("1.33.5-1.1");
      expect(v.kubeadm).toBe("1.33.5-1.1");
      expect(v.kubernetes).toBe("1.33.5");
      expect(v["containerd.io"]).toBe(c.versions["containerd.io"]);
    }
    expect(poolVersions(c, c.pools[2])).toBe(c.versions);
    expect(poolVersions(c, "gone")).toBe(c.versions);
    expect(c.versions.kubelet).toBe("1.34.1-1.1");
    expect(poolVersions(staged("1.34.1", { kubelet: "1.34.0-1.1" }), "workers").kubernetes).toBe("1.34.1");
  });

  it("merges a runtime pin alone", () => {
    const c = staged("1.30.2", { "containerd.io": "1.7.20-1" });
    expect(poolVersions(c, "workers")).toEqual({ ...c.versions, "containerd.io": "1.7.20-1" });
  });
});

describe("pool pins rules", () => {
  it("accept a worker pool on the previous minors within the skew policy (a staged upgrade)", () => {
    expect(errors(staged("1.34.1", kube("1.33.5")))).toEqual([]);
    expect(errors(staged("1.34.1", { ...kube("1.33.5"), kubectl: "1.33.5-1.1" }, 2))).toEqual([]);
    expect(errors(staged("1.34.1", { kubeadm: "1.31.9-1.1", kubelet: "1.31.9-1.1", kubectl: "1.33.5-1.1" }))).toHaveLength(1); // kubectl not of the pool's minor
  });

  it("refuse a kubelet newer than the control plane, naming the key", () => {
    const e = errors(staged("1.33.5", kube("1.34.1")));
    expect(e.map((p) => p.key)).toContain("kubeherd:pools[1].versions.kubelet");
    expect(e.find((p) => p.key === "kubeherd:pools[1].versions.kubelet")?.message).toMatch(/newer than the control plane 1\.33\.5 \(kubeherd:versions\.kubernetes\)/);
  });

  it("refuse a kubelet older than the skew policy allows (3 minors, 2 before 1.25)", () => {
    expect(errors(staged("1.34.1", kube("1.31.9")))).toEqual(errors(staged("1.34.1", kube("1.31.9"))).filter((p) => p.key.includes("kubectl")));
    const e = errors(staged("1.34.1", kube("1.30.9")));
    expect(e.find((p) => p.key === "kubeherd:pools[1].versions.kubelet")?.message).toMatch(/4 minors older/);
  });

  it("refuse a pool kubelet whose kubeadm (inherited) is of another minor", () => {
    const e = errors(staged("1.34.1", { kubelet: "1.33.5-1.1", kubectl: "1.33.5-1.1" }));
    expect(e).toHaveLength(1);
    expect(e[0].key).toBe("kubeherd:pools[1].versions.kubeadm");
    expect(e[0].message).toMatch(/the cluster's kubeherd:versions\.kubeadm, which the pool inherits/);
  });

  it("refuse a control-plane pool whose block differs from the cluster's, and accept one that agrees", () => {
    const e = errors(staged("1.34.1", kube("1.33.5"), 0));
    expect(e.map((p) => p.key).sort()).toEqual(["kubeherd:pools[0].versions.kubeadm", "kubeherd:pools[0].versions.kubectl", "kubeherd:pools[0].versions.kubelet"]);
    expect(e[0].message).toMatch(/control-plane pool/);
    expect(errors(staged("1.34.1", kube("1.34.1"), 0))).toEqual([]);
  });

  it("refuse a literal repository line that cannot serve the pool's minor; {minor} lines are filled per pool", () => {
    const literal = { repositories: { kubernetes: "deb [trusted=yes] http://mirror.example.com/core:/stable:/v1.34/deb/ /" } };
    const e = errors(staged("1.34.1", kube("1.33.5"), 1, literal));
    expect(e).toHaveLength(1);
    expect(e[0].key).toBe("kubeherd:pools[1].versions.kubelet");
    expect(e[0].message).toMatch(/kubeherd:repositories\.kubernetes names \/v1\.34\//);

    const c = staged("1.34.1", kube("1.33.5"), 1, { repositories: { kubernetes: "deb [trusted=yes] http://mirror.example.com/v{minor}/deb/ /" } });
    expect(errors(c)).toEqual([]);
    const line = (pool: string) => aptSources({ ...c, versions: poolVersions(c, pool) }).find((s) => s.name === "kubernetes")?.line;
    expect(line("workers")).toContain("/v1.33/");
    expect(line("storage")).toContain("/v1.34/");
    expect(aptSources({ ...c, versions: poolVersions(c, "workers") }).find((s) => s.name === "kubernetes")?.line).not.toContain("{minor}");
  });

  it("check a pool's own runtime against the runtime rules under its own key", () => {
    const e = errors(staged("1.30.2", { runtime: "docker" }));
    expect(e.length).toBeGreaterThan(0);
    expect(e.every((p) => p.key.startsWith("kubeherd:pools[1].versions."))).toBe(true);
  });

  it("never accept a pool kubelet newer than the control plane or outside the skew (property)", () => {
    fc.assert(
      fc.property(fc.integer({ min: 26, max: 34 }), fc.integer({ min: 0, max: 9 }), fc.integer({ min: 20, max: 36 }), fc.integer({ min: 0, max: 9 }), (cpMinor, cpPatch, minor, patch) => {
        const cp = `1.${cpMinor}.${cpPatch}`;
        const c = staged(cp, kube(`1.${minor}.${patch}`));
        if (errors(c).length > 0) return;
        const kubelet = kubeVersionOfPin(poolVersions(c, "workers").kubelet);
        const api = parseKubeVersion(cp);
        if (!kubelet || !api) throw new Error("unparsable");
        expect(compareKubeVersions(kubelet, api)).toBeLessThanOrEqual(0);
        expect(api.minor - kubelet.minor).toBeLessThanOrEqual(kubelet.minor < 25 ? 2 : 3);
        // and its kubectl, within one minor of the API server, leaves kubelets of at most one minor back
        expect(api.minor - kubelet.minor).toBeLessThanOrEqual(1);
      }),
      { numRuns: 300 },
    );
  });
});

describe("the transition judge per pool", () => {
  const judged = (base: KubeherdConfig, target: KubeherdConfig) => checkTransition(base, target);

  it("leaves a pinned pool alone when the cluster moves on (a staged upgrade), and judges nothing twice", () => {
    const base = staged("1.33.5", undefined);
    expect(judged(base, staged("1.34.1", kube("1.33.5")))).toEqual([]);
  });

  it("refuses a pool's own kubelet going back a minor from what that pool ran, under the pool's key", () => {
    const base = staged("1.34.1", kube("1.33.5"));
    const e = judged(base, staged("1.34.1", kube("1.32.9"))).filter((p) => p.severity === "error");
    expect(e.map((p) => p.key)).toEqual(expect.arrayContaining(["kubeherd:pools[1].versions.kubelet", "kubeherd:pools[1].versions.kubeadm"]));
    expect(e[0].message).toMatch(/^pool workers: .* down to .*across minors/);
  });

  it("refuses a patch downgrade of a pool's pins unless the override allows it", () => {
    const base = staged("1.34.1", kube("1.33.5"));
    const target = staged("1.34.1", kube("1.33.4"));
    expect(judged(base, target).filter((p) => p.severity === "error").map((p) => p.key)).toContain("kubeherd:pools[1].versions.kubelet");
  });

  it("judges a pool that drops its block against what it ran: from 1.33 to the cluster's 1.34 is forward", () => {
    const base = staged("1.34.1", kube("1.33.5"));
    expect(judged(base, staged("1.34.1", undefined)).filter((p) => p.severity === "error")).toEqual([]);
  });

  it("warns when a pets pool's kubelet skips a minor", () => {
    const base = staged("1.34.1", kube("1.31.9"), 2);
    const w = judged(base, staged("1.34.1", kube("1.33.5"), 2));
    expect(w.some((p) => p.severity === "warning" && p.key === "kubeherd:pools[2].versions.kubelet" && /skipping 1\.32/.test(p.message))).toBe(true);
  });
});

describe("what each node is compared with: its own pool's pins", () => {
  it("the hooks' and the live preview's expectations, and npm run status's wants, per pool", () => {
    const c = staged("1.34.1", kube("1.33.5"));
    expect(nodeExpectations(c, "workers").kubeletVersion).toBe("1.33.5");
    expect(nodeExpectations(c, c.pools[1]).kubeletVersion).toBe("1.33.5");
    expect(nodeExpectations(c, "storage").kubeletVersion).toBe("1.34.1");
    const rows = stackStatus("dev", c, []).nodes;
    expect(rows.filter((r) => r.pool === "workers").map((r) => r.kubelet.want)).toEqual(["v1.33.5", "v1.33.5", "v1.33.5"]);
    expect(rows.filter((r) => r.pool !== "workers").every((r) => r.kubelet.want === "v1.34.1")).toBe(true);
  });
});
