import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { claimFreeOctet, subnetClaim } from "./network";

describe("a real cluster's subnet claim", () => {
  it("gives two clusters starting at once two subnets, takes over a dead holder's claim, and names its holder", () => {
    const first = claimFreeOctet();
    let second: number | undefined;
    try {
      expect(readFileSync(subnetClaim(first), "utf8")).toBe(`${process.pid}\n`);
      second = claimFreeOctet();
      expect(second).not.toBe(first);
      // The first claimer is killed: its pid (above any pid_max) is gone, so the lowest free octet is claimable again.
      writeFileSync(subnetClaim(first), "999999999\n");
      expect(claimFreeOctet()).toBe(first);
      expect(readFileSync(subnetClaim(first), "utf8")).toBe(`${process.pid}\n`);
    } finally {
      rmSync(subnetClaim(first), { force: true });
      if (second !== undefined) rmSync(subnetClaim(second), { force: true });
    }
  });
});
