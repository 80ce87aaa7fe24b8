/**
 * kubeherd's patch bump on a real kubeadm cluster made WITHOUT kubeadm's CoreDNS addon (`skipPhases:
 * [addon/coredns]`, as a cluster running another DNS is made): 1 control-plane and 1 worker node at v1.34.2 from the
 * real packages, bumped to v1.34.3 (the same source stamped) by real `pulumi up`s of index.ts.
 *
 * kubeadm 1.34's `upgrade apply` preflight checks CoreDNS's migration even when the addon is not there, and fails
 * reading the version of a CoreDNS it cannot find. So the bump stops at cp-1 with kubeadm's own message, until the
 * control-plane pool names those checks in `rollout.ignorePreflightErrors`: then the next `up` resumes at cp-1,
 * kubeherd's converge passes them to `kubeadm upgrade apply` as `--ignore-preflight-errors`, and the cluster moves.
 */
import { KubeConfig, VersionApi } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { IMAGE_REPOSITORY } from "../support/real-nodes/node-images";
import { realVersions, RealPetsWorld } from "../support/real-nodes/real-pets-world";
import type { UpRecord } from "../support/world/world";

const log = (line: string) => process.stderr.write(`${line}\n`);
const FROM = "v1.34.2";
const TO = "v1.34.3";
const CHECKS = ["CoreDNSMigration", "CoreDNSUnsupportedPlugins"];
const CONTROL_PLANE = ["kube-apiserver", "kube-controller-manager", "kube-scheduler"];

describe("kubeherd's patch bump of a real cluster made without kubeadm's CoreDNS addon, 1 control plane + 1 worker", () => {
  let world: RealPetsWorld;
  let refused: UpRecord;
  let bump: UpRecord;
  let workerAfterRefusal: Record<string, string> = {};

  beforeAll(async () => {
    world = await RealPetsWorld.start({ stack: "real-upgrade", workers: 1, coreDns: false, log });
    const adopt = await world.up(realVersions(FROM));
    if (adopt.report.result !== "succeeded") throw new Error(`the adopting up failed: ${adopt.report.error ?? ""}`);
    refused = await world.up(realVersions(TO));
    log(`up without the checks named: ${refused.report.result} ${refused.report.error ?? ""}`);
    workerAfterRefusal = world.node("worker-1").root.versions(["kubeadm", "kubelet"]);
    bump = await world.up(realVersions(TO), { ignorePreflightErrors: CHECKS });
    log(`up with rollout.ignorePreflightErrors: ${bump.report.result} ${bump.report.error ?? ""}`);
  }, 3_600_000);

  afterAll(async () => {
    await world?.stop();
  }, 180_000);

  it("stops at cp-1 on kubeadm's CoreDNS preflight, naming the node and kubeadm's message, the worker untouched", () => {
    expect(refused.report.result).toBe("failed");
    expect(refused.report.error).toContain("control-plane-cp-1");
    expect(refused.report.error).toMatch(/\[ERROR CoreDNS(UnsupportedPlugins|Migration)\]/);
    expect(refused.record.cordonOrder()).toEqual(["cp-1"]);
    expect(workerAfterRefusal).toEqual({ kubeadm: realVersions(FROM).kubeadm, kubelet: realVersions(FROM).kubelet });
  });

  it("with the checks named in rollout.ignorePreflightErrors, resumes at cp-1 and moves the whole cluster", async () => {
    expect(bump.report.error).toBeUndefined();
    expect(bump.report.result).toBe("succeeded");
    expect([...refused.record.cordonOrder(), ...bump.record.cordonOrder()]).toEqual(["cp-1", "worker-1"]);
    expect(bump.record.maxUnschedulable().count).toBe(1);
    const cp = world.node("cp-1");
    for (const c of CONTROL_PLANE) expect(cp.root.read(`/etc/kubernetes/manifests/${c}.yaml`), c).toContain(`image: ${IMAGE_REPOSITORY}/${c}:${TO}`);
    const kc = new KubeConfig();
    kc.loadFromString(world.adminKubeconfig);
    expect((await kc.makeApiClient(VersionApi).getCode()).gitVersion).toBe(TO);
    // still no CoreDNS: the addon phase of `upgrade apply` leaves a cluster without it as it is
    const coredns = await cp.sh("kubectl --kubeconfig /etc/kubernetes/admin.conf -n kube-system get deployment coredns 2>&1");
    expect(coredns.stdout).toMatch(/NotFound/);
    const last = bump.record.lastNodes();
    for (const name of ["cp-1", "worker-1"]) {
      expect(last.get(name), name).toMatchObject({ ready: true, unschedulable: false, kubeletVersion: TO });
      expect(world.node(name).root.versions(["kubeadm", "kubelet", "kubectl"]), name).toEqual({ kubeadm: realVersions(TO).kubeadm, kubelet: realVersions(TO).kubelet, kubectl: realVersions(TO).kubectl });
    }
  });
});
