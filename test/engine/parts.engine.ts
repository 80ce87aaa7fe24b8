/**
 * The engine suite's own pure parts: reading the engine log in the planner's vocabulary, and the wrapper module
 * that builds the Pulumi CLI. If these were wrong, the scenarios would compare the wrong things.
 */
import { describe, expect, it } from "vitest";
import type { Step } from "../../components/rollout/plan";
import { engineActions, inBatches, nodeModes, unforgottenTerminations } from "../support/local-stack/engine-log";
import { remoteReplaces, wrapperGoMod } from "../toolchain/pulumi-cli";
import { articleConfig, cluster } from "../support/scenarios/engine";
import { actionMs } from "../support/local-stack/engine-world";

describe("reading the engine log as plan steps", () => {
  const modes = nodeModes(articleConfig());

  it.each([
    ["workers-0:drain", ["workers-0:drain"]],
    ["workers-0:terminate", ["workers-0:terminate"]],
    ["workers-0:forget", []],
    ["workers-0:launch", ["workers-0:launch"]],
    ["workers-0:ready", ["workers-0:wait-ready"]],
    ["cp-1:drain", ["cp-1:drain"]],
    ["cp-1:run", ["cp-1:run"]],
    ["cp-1:ready", ["cp-1:wait-ready", "cp-1:uncordon"]],
    ["cp-1:retire", []],
  ])("reads %s as %j", (line, actions) => {
    expect(engineActions([line], modes)).toEqual(actions);
  });

  it.each([
    ["a pets update (the engine updated a command in place)", "cp-1:update", "cp-1:?update"],
    ["a cattle event that only pets have", "workers-0:run", "workers-0:?run"],
    ["a node in no config", "stray-0:launch", "stray-0:?launch"],
  ])("keeps %s visible so the comparison fails", (_what, line, shown) => {
    expect(engineActions([line], modes)).toEqual([shown]);
  });

  it("knows the nodes of every config given, including those only the base has", () => {
    const modes = nodeModes(cluster({ workers: 4, batch: 1 }), cluster({ workers: 2 }));
    expect(modes.get("workers-3")).toBe("cattle");
    expect(modes.get("batch-0")).toBe("cattle");
    expect(modes.get("storage-1")).toBe("pets");
  });

  it("finds a terminate whose afterDelete hook did not follow it before anything else happened to the node", () => {
    const lines = ["workers-2:drain", "workers-2:terminate", "workers-2:launch", "workers-2:forget", "workers-1:terminate", "workers-0:terminate", "workers-1:forget", "workers-0:forget", "workers-3:terminate"];
    expect(unforgottenTerminations(lines)).toEqual(["workers-2:terminate", "workers-3:terminate"]);
  });
});

describe("reading an engine log batch by batch", () => {
  const step = (node: string, action: Step["action"], batch: number): Step => ({ pool: "workers", node, action, batch });
  const plan = [
    step("workers-0", "drain", 3), step("workers-0", "terminate", 3), step("workers-1", "drain", 3), step("workers-1", "terminate", 3),
    step("workers-2", "drain", 4), step("workers-2", "terminate", 4),
  ];

  it("accepts the nodes of one batch in any interleaving, each node's steps in order", () => {
    const log = ["workers-1:drain", "workers-0:drain", "workers-0:terminate", "workers-1:terminate", "workers-2:drain", "workers-2:terminate"];
    expect(inBatches(log, plan)).toEqual(inBatches(plan.map((s) => `${s.node}:${s.action}`), plan));
    expect(inBatches(log, plan)).toEqual(["3: workers-0:drain workers-0:terminate | workers-1:drain workers-1:terminate", "4: workers-2:drain workers-2:terminate"]);
  });

  it("shows a batch that starts before the one before it is over, and a node's steps out of order", () => {
    expect(inBatches(["workers-0:drain", "workers-2:drain", "workers-0:terminate"], plan)).toEqual(["3: workers-0:drain", "4: workers-2:drain", "3: workers-0:terminate"]);
    expect(inBatches(["workers-0:terminate", "workers-0:drain"], plan)).toEqual(["3: workers-0:terminate workers-0:drain"]);
    expect(inBatches(["stray-0:launch"], plan)).toEqual(["?: stray-0:launch"]);
  });
});

describe("the wrapper module that builds the Pulumi CLI", () => {
  const pkgGoMod = [
    "module github.com/pulumi/pulumi/pkg/v3",
    "",
    "go 1.26.6",
    "",
    "replace github.com/pulumi/pulumi/sdk/v3 => ../sdk",
    "",
    "replace github.com/atotto/clipboard => github.com/tgummerer/clipboard v0.0.0-20241001131231-d02d263e614e",
    "",
    "replace (",
    "\t// a comment",
    "\texample.com/a => ./local/a",
    "\texample.com/b v1.0.0 => example.com/fork/b v1.0.1",
    ")",
    "",
    "require (",
    "\tgithub.com/pulumi/pulumi/sdk/v3 v3.274.1",
    ")",
  ].join("\n");

  it("copies the replaces that point at other modules and drops those into pulumi's own tree", () => {
    expect(remoteReplaces(pkgGoMod)).toEqual([
      "example.com/b v1.0.0 => example.com/fork/b v1.0.1",
      "github.com/atotto/clipboard => github.com/tgummerer/clipboard v0.0.0-20241001131231-d02d263e614e",
    ]);
  });

  it("writes them into a module that requires nothing yet (go get pins pkg and sdk at one version)", () => {
    expect(wrapperGoMod(["a => b v1"])).toBe("module kubeherd.test/pulumi-cli\n\ngo 1.26\n\nreplace a => b v1\n");
  });
});

describe("the logging machines' step time", () => {
  it("is 150 ms unless KUBEHERD_ENGINE_ACTION_MS gives a whole number of milliseconds", () => {
    expect(actionMs(undefined)).toBe(150);
    expect(actionMs("1000")).toBe(1000);
    for (const bad of ["", "0", "1.5", "-3", "1e3", "ten", "9999999"]) {
      expect(() => actionMs(bad), bad).toThrow(/KUBEHERD_ENGINE_ACTION_MS/);
    }
  });
});
