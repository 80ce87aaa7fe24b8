/**
 * A cattle node's first boot, for real: the launch step's user data from the real planner, played as cloud-init
 * plays it in a fresh root (no pins installed, as on a new instance), with IMDSv2 and SSM served by a local fake.
 * It must install and hold exactly the pins, and join with the token from SSM without writing it anywhere.
 */
import { createHash } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { KubeherdConfig } from "../../components/config/schema";
import { joinParameterName } from "../../components/rollout/nodes";
import type { UbuntuRelease } from "../../components/versions/ubuntu";
import { isCall, type Call } from "../support/node-root/call-log";
import { cloudInitSchema, runCloudConfig } from "../support/node-root/cloud-config";
import { FakeAws } from "../support/cloud/fake-aws";
import { NodeRoot } from "../support/node-root/node-root";
import type { Outcome } from "../support/node-root/process";
import { articleStack, currentStack, launchUserData, pinsOf, plan, position, REGION, story } from "../support/node-root/scenario";

const TOKEN = "k8sjn1.q2w3e4r5t6y7u8i9";
const tokenHash = createHash("sha256").update(TOKEN).digest("hex");

describe.each([
  { name: "a current cluster (containerd, Ubuntu 22.04)", config: currentStack(), release: "22.04" as UbuntuRelease, criSocket: "unix:///run/containerd/containerd.sock" },
  { name: "the article's cluster (docker-ce 18.06, Ubuntu 18.04)", config: articleStack(), release: "18.04" as UbuntuRelease, criSocket: undefined },
])("the first boot of a cattle worker of $name", ({ config, release, criSocket }: { config: KubeherdConfig; release: UbuntuRelease; criSocket?: string }) => {
  const pool = config.pools.find((p) => p.mode === "cattle");
  const parameter = pool ? joinParameterName(config, pool) : "";
  const userData = launchUserData(plan(undefined, config), "workers-0");
  const aws = new FakeAws({ region: REGION, parameters: { [parameter]: TOKEN } });
  let root: NodeRoot;
  let boot: Outcome;
  let join: Call | undefined;

  beforeAll(async () => {
    const endpoint = await aws.start();
    root = await NodeRoot.create({ release });
    boot = await runCloudConfig(root, userData, {
      KUBEHERD_IMDS_ENDPOINT: endpoint,
      KUBEHERD_SSM_ENDPOINT: endpoint,
      KUBEHERD_SSM_ATTEMPTS: "1",
    });
    join = root.calls().find(isCall("kubeadm", "join"));
  });
  afterAll(async () => {
    await aws.stop();
    await root?.destroy();
  });

  it("is user data cloud-init accepts", async () => {
    const r = await cloudInitSchema(userData);
    expect(r.code, r.stdout + r.stderr).toBe(0);
  });

  it("boots without error, installing exactly the pins and holding them", () => {
    expect(boot.code, `${boot.stdout.slice(-3000)}\n${boot.stderr.slice(-3000)}`).toBe(0);
    expect(root.versions(Object.keys(pinsOf(config)))).toEqual(pinsOf(config));
    expect(root.held()).toEqual(Object.keys(pinsOf(config)).sort());
  });

  it("reads the token from SSM with a correctly signed, decrypting GetParameter over IMDSv2 credentials", () => {
    expect(aws.imdsRequests[0]).toBe("PUT /latest/api/token");
    expect(aws.ssmRequests).toEqual([{ target: "AmazonSSM.GetParameter", body: { Name: parameter, WithDecryption: true }, signatureProblem: undefined }]);
  });

  it("joins with that token after the pins are installed", () => {
    expect(join?.args).toEqual([
      "join",
      config.cluster.endpoint,
      "--token",
      `sha256:${tokenHash}`,
      "--discovery-token-ca-cert-hash",
      config.cluster.caCertHash,
      ...(criSocket ? ["--cri-socket", criSocket] : []),
    ]);
    const lines = story(root.calls());
    expect(position(lines, `install kubelet=${config.versions.kubelet}`)).toBeLessThan(position(lines, "kubeadm join"));
  });

  it("writes the token nowhere on disk and prints it nowhere", async () => {
    expect(await root.filesContaining(TOKEN)).toEqual([]);
    expect(boot.stdout + boot.stderr).not.toContain(TOKEN);
  });

  it("does nothing on a second boot of the same instance, joined already", async () => {
    root.clearCalls();
    const again = await runCloudConfig(root, userData, { KUBEHERD_IMDS_ENDPOINT: "http://127.0.0.1:9", KUBEHERD_SSM_ENDPOINT: "http://127.0.0.1:9" });
    expect(again.code, again.stderr.slice(-2000)).toBe(0);
    expect(story(root.calls())).toEqual([]);
  });
});
