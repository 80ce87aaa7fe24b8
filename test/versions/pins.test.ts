import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  compareKubeVersions,
  formatKubeVersion,
  isLegacyPin,
  kubeVersionOfPin,
  minorOf,
  parseKubeVersion,
  type KubeVersion,
} from "../../components/versions/kubernetes";
import {
  containerdVersionOfPin,
  criDockerdVersionOfPin,
  dockerVersionOfPin,
  ubuntuCodenameOfPin,
} from "../../components/versions/runtime";

const v = (major: number, minor: number, patch: number): KubeVersion => ({ major, minor, patch });

describe("Kubernetes releases and pins", () => {
  it.each([
    ["1.30.2", v(1, 30, 2)],
    ["v1.30.2", v(1, 30, 2)],
    ["1.13.3", v(1, 13, 3)],
    ["1.30", undefined],
    ["1.30.2-1.1", undefined],
    ["1.31.0-rc.1", undefined],
    ["latest", undefined],
  ])("parses the release %j as %j", (text, expected) => {
    expect(parseKubeVersion(text)).toEqual(expected);
  });

  it.each([
    ["1.13.3-00", v(1, 13, 3)],
    ["1.30.2-1.1", v(1, 30, 2)],
    ["1.31.0~rc.1-1.1", v(1, 31, 0)],
    ["1.30.2", undefined],
    ["1.30-1.1", undefined],
    ["1.30.2.1-1", undefined],
  ])("reads the pin %s as release %j", (pin, expected) => {
    expect(kubeVersionOfPin(pin)).toEqual(expected);
  });

  it.each([
    ["1.13.3-00", true],
    ["1.23.17-00", true],
    ["1.30.2-1.1", false],
    ["1.30.2-2.1", false],
    ["1.30.2", false],
  ])("tells that %s is a legacy apt.kubernetes.io pin: %s", (pin, legacy) => {
    expect(isLegacyPin(pin)).toBe(legacy);
  });

  it("formats a release and its minor", () => {
    expect(formatKubeVersion(v(1, 30, 2))).toBe("1.30.2");
    expect(minorOf(v(1, 30, 2))).toBe("1.30");
  });

  it.each([
    [v(1, 13, 2), v(1, 13, 3), -1],
    [v(1, 29, 6), v(1, 30, 2), -1],
    [v(1, 9, 11), v(1, 10, 0), -1],
    [v(2, 0, 0), v(1, 99, 99), 1],
    [v(1, 30, 2), v(1, 30, 2), 0],
  ])("orders %j against %j numerically", (a, b, expected) => {
    expect(Math.sign(compareKubeVersions(a, b))).toBe(expected);
  });

  it("round-trips every release through format and parse", () => {
    const release = fc.record({ major: fc.nat(9), minor: fc.nat(99), patch: fc.nat(99) });
    fc.assert(
      fc.property(release, (r) => {
        expect(parseKubeVersion(formatKubeVersion(r))).toEqual(r);
      }),
    );
  });
});

describe("runtime pins", () => {
  it.each([
    ["18.06.2~ce~3-0~ubuntu", v(18, 6, 2)],
    ["18.06.1~ce~3-0~ubuntu", v(18, 6, 1)],
    ["17.03.2~ce-0~ubuntu-xenial", v(17, 3, 2)],
    ["1.13.1-0~ubuntu-xenial", v(1, 13, 1)],
    ["5:18.09.2~3-0~ubuntu-bionic", v(18, 9, 2)],
    ["5:20.10.24~3-0~ubuntu-jammy", v(20, 10, 24)],
    ["5:27.3.1-1~ubuntu.24.04~noble", v(27, 3, 1)],
    ["latest", undefined],
  ])("reads docker-ce %s as Docker %j", (pin, expected) => {
    expect(dockerVersionOfPin(pin)).toEqual(expected);
  });

  it.each([
    ["1.7.13-1", v(1, 7, 13)],
    ["1.6.36-1", v(1, 6, 36)],
    ["2.0.4-1", v(2, 0, 4)],
    ["1.2.2-3", v(1, 2, 2)],
    ["1.7-1", undefined],
  ])("reads containerd.io %s as containerd %j", (pin, expected) => {
    expect(containerdVersionOfPin(pin)).toEqual(expected);
  });

  it("reads cri-dockerd's four-part version by its release", () => {
    expect(criDockerdVersionOfPin("0.3.9.3-0.ubuntu-jammy")).toEqual(v(0, 3, 9));
  });

  it.each([
    ["5:20.10.24~3-0~ubuntu-jammy", "jammy"],
    ["5:18.09.2~3-0~ubuntu-bionic", "bionic"],
    ["5:27.3.1-1~ubuntu.24.04~noble", "noble"],
    ["5:27.3.1-1~ubuntu.22.04~jammy", "jammy"],
    ["0.3.9.3-0.ubuntu-jammy", "jammy"],
    ["0.3.15.3-0.ubuntu-focal", "focal"],
    ["18.06.2~ce~3-0~ubuntu", undefined],
    ["1.7.13-1", undefined],
    ["0.3.9.3-0.debian-bookworm", undefined],
  ])("finds the Ubuntu codename %s was built for: %s", (pin, codename) => {
    expect(ubuntuCodenameOfPin(pin)).toBe(codename);
  });
});
