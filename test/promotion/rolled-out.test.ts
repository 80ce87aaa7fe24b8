/** What a stack exports once every node is back, and how the gate reads it. */
import { describe, expect, it } from "vitest";
import { checkPromotion } from "../../components/promotion/gate";
import { rolledOutOf } from "../../components/promotion/rolled-out";
import { articleConfig, currentConfig } from "../support/fixtures/config";

describe("rolledOutOf", () => {
  it("lists the pins, the release, every pool's nodes in rollout order, the cattle image and the region", () => {
    expect(rolledOutOf(articleConfig(), {}, "eu-west-1")).toEqual({
      kubernetes: "1.13.2",
      pins: { "docker-ce": "18.06.1~ce~3-0~ubuntu", kubeadm: "1.13.2-00", kubelet: "1.13.2-00", kubectl: "1.13.2-00" },
      release: "18.04",
      systemUpgrade: "2019-02",
      pools: {
        "control-plane": { pins: { "docker-ce": "18.06.1~ce~3-0~ubuntu", kubeadm: "1.13.2-00", kubelet: "1.13.2-00", kubectl: "1.13.2-00" }, nodes: ["cp-1", "cp-2"] },
        workers: { pins: { "docker-ce": "18.06.1~ce~3-0~ubuntu", kubeadm: "1.13.2-00", kubelet: "1.13.2-00", kubectl: "1.13.2-00" }, nodes: ["workers-0", "workers-1", "workers-2"] },
        storage: { pins: { "docker-ce": "18.06.1~ce~3-0~ubuntu", kubeadm: "1.13.2-00", kubelet: "1.13.2-00", kubectl: "1.13.2-00" }, nodes: ["storage-1"] },
      },
      image: "ami-0abcdef1234567890",
      region: "eu-west-1",
    });
  });

  it("omits the system upgrade token of a stack that has none", () => {
    expect(rolledOutOf(currentConfig())).not.toHaveProperty("systemUpgrade");
  });

  it.each([
    ["the article's cluster", articleConfig()],
    ["a current cluster", currentConfig()],
  ])("lets a stack promote exactly what its source rolled out: %s", (_name, config) => {
    expect(checkPromotion({ ...config, promotion: { from: "dev" } }, rolledOutOf(config), "dev")).toEqual([]);
  });
});
