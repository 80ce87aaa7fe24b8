import { describe, expect, it } from "vitest";
import { createsInstances } from "../../components/config/pools";
import { nodeResourceName } from "../../components/node-options";
import { currentConfig } from "../support/fixtures/config";

describe("nodeResourceName, the key that hands a node's context to its hooks", () => {
  it("names a cattle instance after its node and a pets command after its pool and node, as the states already hold them", () => {
    expect(nodeResourceName("cattle", "workers", "workers-0")).toBe("workers-0");
    expect(nodeResourceName("pets", "storage", "storage-1")).toBe("storage-storage-1");
    expect(nodeResourceName("pets", "control-plane", "cp-1")).toBe("control-plane-cp-1");
  });
});

describe("createsInstances", () => {
  it("holds for cattle pools and pets pools given a size, not for listed pets hosts", () => {
    const config = currentConfig();
    expect(config.pools.map((p) => [p.name, createsInstances(p)])).toEqual([["control-plane", false], ["workers", true], ["storage", false]]);
    const sized = currentConfig({ os: { image: "ami-0abcdef1234567890" }, pools: [...config.pools.slice(0, 2), { name: "ec2-pets", role: "worker", mode: "pets", size: 2, instanceType: "m6i.large", subnets: ["subnet-0a1b2c3d4e5f60001"], securityGroups: ["sg-0a1b2c3d4e5f60001"], ssh: {} }] });
    expect(createsInstances(sized.pools[2])).toBe(true);
  });
});
