/**
 * `poolVersions` is the one seam through which everything a node runs is read. Given a pool whose versions differ
 * from the cluster's (what per-pool pins will make possible), every reader follows that pool's versions: the
 * cattle fingerprint and user data, the pets triggers and script, the hooks' expectations and `rolledOut`.
 */
import { describe, expect, it, vi } from "vitest";
import type { Pool, Versions } from "../../components/config/schema";
import { rolledOutOf } from "../../components/promotion/rolled-out";
import { cattleNodes, nodeExpectations, petsNodes } from "../../components/rollout/nodes";
import { PINNED_PACKAGES, pinList, poolVersions } from "../../components/versions/pins";
import { currentConfig, dockerCurrentVersions } from "../support/fixtures/config";

const OWN = "1.30.9-1.1";
const own = new Set<string>();

vi.mock("../../components/versions/pins", async (importActual) => {
  const actual = await importActual<typeof import("../../components/versions/pins")>();
  return {
    ...actual,
    poolVersions: (config: { versions: Versions }, pool: Pool | string): Versions => {
      const versions = actual.poolVersions(config, pool);
      return own.has(typeof pool === "string" ? pool : pool.name) ? { ...versions, kubelet: OWN, kubectl: OWN } : versions;
    },
  };
});

describe("poolVersions", () => {
  it("gives a pool without its own `versions` block the cluster's versions", async () => {
    const { poolVersions: real } = await vi.importActual<typeof import("../../components/versions/pins")>("../../components/versions/pins");
    const config = currentConfig();
    for (const pool of config.pools) expect(real(config, pool)).toBe(config.versions);
    expect(real(config, "a-pool-no-longer-in-the-config")).toBe(config.versions);
  });

  it("lists the pins in PINNED_PACKAGES order, leaving out packages without a version", () => {
    const versions = currentConfig({ versions: dockerCurrentVersions }).versions;
    const listed = pinList(versions).map(([pkg]) => pkg);
    expect(listed).toEqual(PINNED_PACKAGES.filter((pkg) => versions[pkg] !== undefined));
    expect(listed).toContain("docker-ce");
  });

  it("is what the cattle fingerprint, the user data, the pets triggers and script, the expectations and rolledOut read", () => {
    own.clear();
    own.add("workers").add("storage");
    const config = currentConfig();
    const workers = config.pools.find((p) => p.name === "workers");
    const storage = config.pools.find((p) => p.name === "storage");
    if (workers?.mode !== "cattle" || storage?.mode !== "pets") throw new Error("fixture pools changed");
    expect(poolVersions(config, workers).kubelet).toBe(OWN);
    expect(config.versions.kubelet).not.toBe(OWN);

    const [cattle] = cattleNodes(config, workers, "eu-west-1");
    expect(JSON.parse(cattle.fingerprint).pins).toContain(`kubelet=${OWN}`);
    expect(cattle.userData).toContain(OWN);

    const [pets] = petsNodes(config, storage);
    expect(pets.triggers).toContain(`kubelet=${OWN}`);
    expect(pets.script).toContain(OWN);

    expect(nodeExpectations(config, "workers").kubeletVersion).toBe("1.30.9");
    expect(nodeExpectations(config, "control-plane").kubeletVersion).not.toBe("1.30.9");

    const rolledOut = rolledOutOf(config);
    expect(rolledOut.pools.workers.pins.kubelet).toBe(OWN);
    expect(rolledOut.pools["control-plane"].pins.kubelet).toBe(config.versions.kubelet);
    expect(rolledOut.pins.kubelet).toBe(config.versions.kubelet);
    own.clear();
  });
});
