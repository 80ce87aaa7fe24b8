/** What a stack's instances boot and where they are, judged against what it rolled out (issue 19 item 4). */
import { describe, expect, it } from "vitest";
import { formatProblem } from "../../components/config/problems";
import { rolledOutOf } from "../../components/promotion/rolled-out";
import { deployedOfRolledOut } from "../../components/transition-gate";
import { judgePlacement, placementOf } from "../../components/versions/placement";
import { deployedOfConfig, judgeTransition } from "../../components/versions/transition";
import { currentConfig } from "../support/fixtures/config";

const IMAGE = "ami-0abcdef1234567890";
const NEW_IMAGE = "ami-0fedcba9876543210";
const petsOnly = (patch: Record<string, unknown> = {}) => {
  const c = currentConfig(patch);
  return { ...c, pools: c.pools.filter((p) => p.mode === "pets") };
};

describe("a cattle pool's Ubuntu release moves with its image, or is refused", () => {
  const ran = deployedOfConfig(currentConfig());

  it("refuses os.release 22.04 -> 24.04 with the same os.image, naming both keys and the cattle pool", () => {
    const lines = judgePlacement(ran, currentConfig({ os: { release: "24.04" } }), undefined).map(formatProblem);
    expect(lines).toEqual([expect.stringMatching(/^kubeherd:os\.release: goes from 22\.04 to 24\.04 while kubeherd:os\.image stays ami-0abcdef1234567890 .*cattle pool workers would boot it, fail the boot script's release check/)]);
  });

  it("lets the release move when the image moves with it", () => {
    expect(judgePlacement(ran, currentConfig({ os: { release: "24.04", image: NEW_IMAGE } }), undefined)).toEqual([]);
  });

  it("lets a cluster without cattle pools move its release with the same image (pets upgrade in place)", () => {
    expect(judgePlacement(deployedOfConfig(petsOnly()), petsOnly({ os: { release: "24.04" } }), undefined)).toEqual([]);
  });

  it("does not judge an image it does not know (a rolledOut written before kubeherd recorded it)", () => {
    const { image: _dropped, ...old } = rolledOutOf(currentConfig(), {}, "eu-west-1");
    expect(_dropped).toBe(IMAGE);
    expect(judgePlacement(deployedOfRolledOut(old), currentConfig({ os: { release: "24.04" } }), "eu-west-1")).toEqual([]);
  });

  it("is refused by the stack's own rolledOut as the program reads it", () => {
    const from = deployedOfRolledOut(rolledOutOf(currentConfig(), {}, "eu-west-1"));
    expect(judgePlacement(from, currentConfig({ os: { release: "24.04" } }), "eu-west-1").map((p) => p.key)).toEqual(["kubeherd:os.release"]);
  });
});

describe("aws:region stays where the stack's instances are", () => {
  it("refuses a change of region against what was rolled out, naming aws:region", () => {
    const from = deployedOfRolledOut(rolledOutOf(currentConfig(), {}, "eu-west-1"));
    const lines = judgePlacement(from, currentConfig(), "us-east-1").map(formatProblem);
    expect(lines).toEqual([expect.stringMatching(/^aws:region: goes from eu-west-1 to us-east-1: every instance, launch template, SSM parameter and KMS key .*orphaned/)]);
  });

  it("accepts the same region, and a rolledOut that does not record one", () => {
    const recorded = deployedOfRolledOut(rolledOutOf(currentConfig(), {}, "eu-west-1"));
    expect(judgePlacement(recorded, currentConfig(), "eu-west-1")).toEqual([]);
    const { region: _dropped, ...old } = rolledOutOf(currentConfig(), {}, "eu-west-1");
    expect(judgePlacement(deployedOfRolledOut(old), currentConfig(), "us-east-1")).toEqual([]);
  });

  it("records no region (nothing to orphan) for a stack whose nodes kubeherd does not create", () => {
    expect(placementOf(petsOnly(), "eu-west-1")).toEqual({});
    expect(rolledOutOf(petsOnly(), {}, "eu-west-1")).not.toHaveProperty("region");
  });

  it("leaves judgeTransition's verdict on the pins alone: a move of region is the placement judge's", () => {
    expect(judgeTransition(deployedOfConfig(currentConfig()), currentConfig())).toEqual([]);
  });
});
