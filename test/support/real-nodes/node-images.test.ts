/** The real nodes' images: which etcd release an image of kubeadm's list is built from. */
import { describe, expect, it } from "vitest";
import { etcdReleaseOf } from "./node-images";

describe("the etcd release of an image kubeadm lists", () => {
  it("reads the release from kubeadm's tag, per minor", () => {
    // kubeadm 1.34's table: 3.5.24-0 for 1.33, 3.6.5-0 for 1.34
    expect(etcdReleaseOf("kubeherd.test/etcd:3.5.24-0")).toBe("3.5.24");
    expect(etcdReleaseOf("kubeherd.test/etcd:3.6.5-0")).toBe("3.6.5");
  });

  it("refuses a name that is not kubeadm's etcd tag", () => {
    expect(() => etcdReleaseOf("kubeherd.test/etcd:latest")).toThrow(/not an etcd image tag/);
    expect(() => etcdReleaseOf("kubeherd.test/kube-apiserver:v1.34.2")).toThrow(/not an etcd image tag/);
  });
});
