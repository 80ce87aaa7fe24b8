/**
 * The stand-ins carry the real packages' relations (package-depends.ts): every stand-in of the catalogue has a row,
 * and every package a Depends names is one the node can have, from the catalogue or the Debian root itself.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { ensureExtractedBaseRoot } from "../support/node-root/base-root";
import { parseDpkgStatus } from "../support/debian/dpkg-status";
import { relationLines } from "../support/debian/packages";
import { controlFieldsOf, hasControlFields } from "../support/debian/package-depends";
import { CANARY, CATALOGUE, exactDependencies } from "../support/debian/repository";

const stand_ins = Object.values(CATALOGUE).flat();

describe("the stand-ins' control fields", () => {
  let installed: Map<string, unknown>;
  beforeAll(async () => {
    installed = parseDpkgStatus(readFileSync(join(await ensureExtractedBaseRoot(), "var/lib/dpkg/status"), "utf8"));
  });

  it("come from a row of the table for every package of the catalogue but the test's own canary", () => {
    const missing = stand_ins.filter((p) => p.name !== CANARY.name && !hasControlFields(p.name));
    expect(missing).toEqual([]);
    for (const p of stand_ins) if (p.name !== CANARY.name) expect(() => controlFieldsOf(p.name, p.version)).not.toThrow();
  });

  it("name only packages the catalogue or the Debian root has (alternatives: at least one)", () => {
    const known = new Set([...stand_ins.map((p) => p.name), ...installed.keys(), "containerd", "runc"]);
    const unknown: string[] = [];
    for (const p of stand_ins) {
      if (!hasControlFields(p.name)) continue;
      for (const dep of (controlFieldsOf(p.name, p.version).depends ?? "").split(",").map((d) => d.trim()).filter(Boolean)) {
        const names = dep.split("|").map((alt) => alt.trim().split(/[\s(]/)[0] ?? "");
        if (!names.some((n) => known.has(n))) unknown.push(`${p.name} ${p.version}: ${dep}`);
      }
    }
    expect(unknown).toEqual([]);
  });

  it("are written into the stand-in's control file", () => {
    expect(relationLines({ name: "kubelet", version: "1.13.3-00" })).toEqual([
      "Depends: iptables (>= 1.4.21), kubernetes-cni (= 0.6.0), iproute2, socat, util-linux, mount, ebtables, ethtool, conntrack, init-system-helpers (>= 1.18~)",
    ]);
    expect(relationLines({ name: "containerd.io", version: "1.7.19-1" })).toContain("Provides: containerd, runc");
  });

  it("give the exact versions a seed must name: kubelet 1.13 wants kubernetes-cni 0.6.0, not the newest", () => {
    expect(exactDependencies({ kubelet: "1.13.2-00", kubeadm: "1.13.2-00" })).toEqual({ "kubernetes-cni": "0.6.0-00" });
    expect(exactDependencies({ kubelet: "1.30.2-1.1" })).toEqual({});
  });
});
