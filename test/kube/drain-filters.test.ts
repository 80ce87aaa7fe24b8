import type { V1Pod } from "@kubernetes/client-node";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { podVerdict, selectPods } from "../../components/disruption/drain-filters";
import { selects } from "../../components/disruption/selectors";

const owned = (kind: string) => ({ ownerReferences: [{ apiVersion: "apps/v1", kind, name: "x", uid: "u", controller: true }] });
const pod = (meta: V1Pod["metadata"], extra: Partial<V1Pod> = {}): V1Pod => ({ metadata: { name: "p", namespace: "ns", ...meta }, status: { phase: "Running" }, ...extra });
const defaults = { deleteEmptyDirData: true, deleteUnmanagedPods: false };

describe("podVerdict", () => {
  it.each([
    { what: "a ReplicaSet pod", p: pod(owned("ReplicaSet")), action: "evict" },
    { what: "a StatefulSet pod", p: pod(owned("StatefulSet")), action: "evict" },
    { what: "a DaemonSet pod", p: pod(owned("DaemonSet")), action: "skip" },
    { what: "a mirror pod", p: pod({ annotations: { "kubernetes.io/config.mirror": "h" } }), action: "skip" },
    { what: "a terminating pod", p: pod({ ...owned("ReplicaSet"), deletionTimestamp: new Date() }), action: "wait" },
    { what: "an unmanaged pod", p: pod({}), action: "refuse" },
    { what: "a Succeeded unmanaged pod", p: pod({}, { status: { phase: "Succeeded" } }), action: "evict" },
    { what: "a Failed unmanaged pod", p: pod({}, { status: { phase: "Failed" } }), action: "evict" },
    { what: "an emptyDir pod", p: pod(owned("ReplicaSet"), { spec: { containers: [], volumes: [{ name: "v", emptyDir: {} }] } }), action: "evict" },
  ])("gives $action for $what by default", ({ p, action }) => {
    expect(podVerdict(p, defaults).action).toBe(action);
  });

  it("sorts pods into evict, wait, skip and refuse", () => {
    const s = selectPods([pod(owned("ReplicaSet")), pod(owned("DaemonSet")), pod({})], defaults);
    expect([s.evict.length, s.wait.length, s.skipped.length, s.refused.length]).toEqual([1, 0, 1, 1]);
  });
});

describe("selects", () => {
  it.each([
    { sel: { matchLabels: { app: "web" } }, labels: { app: "web", tier: "x" }, ok: true },
    { sel: { matchLabels: { app: "web" } }, labels: { app: "db" }, ok: false },
    { sel: { matchExpressions: [{ key: "app", operator: "In", values: ["web", "api"] }] }, labels: { app: "api" }, ok: true },
    { sel: { matchExpressions: [{ key: "app", operator: "NotIn", values: ["web"] }] }, labels: {}, ok: true },
    { sel: { matchExpressions: [{ key: "app", operator: "Exists" }] }, labels: {}, ok: false },
    { sel: { matchExpressions: [{ key: "canary", operator: "DoesNotExist" }] }, labels: { app: "web" }, ok: true },
    { sel: {}, labels: { app: "web" }, ok: true },
    { sel: undefined, labels: { app: "web" }, ok: false },
  ])("selector $sel on $labels is $ok", ({ sel, labels, ok }) => {
    expect(selects(sel, labels as Record<string, string>)).toBe(ok);
  });

  it("selects by matchLabels exactly when they are a subset of the pod's labels", () => {
    const labels = fc.dictionary(fc.constantFrom("a", "b", "c"), fc.constantFrom("1", "2"));
    fc.assert(
      fc.property(labels, labels, (want, have) => {
        const subset = Object.entries(want).every(([k, v]) => have[k] === v);
        expect(selects({ matchLabels: want }, have)).toBe(subset);
      }),
    );
  });
});
