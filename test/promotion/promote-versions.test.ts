/**
 * Promotion as a text transformation: GIVEN a source and a target stack file, WHEN the versions are promoted,
 * THEN exactly the promoted entries change and every other byte of the target (comments, quotes, order) stays.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { unifiedDiff } from "../../components/promotion/file-diff";
import { promoteStackText } from "../../components/promotion/promote-versions";

const SOURCE = `config:
  kubeherd:versions:
    kubernetes: 1.33.5
    kubeadm: 1.33.5-1.1
    kubelet: 1.33.5-1.1
    kubectl: 1.33.5-1.1
    runtime: containerd
    containerd.io: "1.7.28-1"
    allowUnsupportedTransition: true
  kubeherd:repositories:
    kubernetes: deb [trusted=yes] http://mirror.internal.example.com/k8s/v{minor} /
    docker: deb [trusted=yes] http://mirror.dev.example.com/docker/ubuntu {codename} stable
`;

const TARGET = `# prod: comments stay where they are
config:
  aws:region: eu-west-1   # the region
  kubeherd:versions:
    # pins arrive by promotion
    kubernetes: 1.32.9
    kubeadm: '1.32.9-1.1'
    kubelet: 1.32.9-1.1   # kubelet last
    kubectl: 1.32.9-1.1
    runtime: docker
    docker-ce: 5:27.3.1-1~ubuntu.22.04~jammy
  kubeherd:os:
    release: "22.04"
  kubeherd:repositories:
    docker: deb [trusted=yes] http://mirror.prod.example.com/docker/ubuntu {codename} stable
`;

describe("promoteStackText", () => {
  const { text, changed } = promoteStackText(SOURCE, TARGET);

  it("gives the target exactly the source's versions, except the stack's own override", () => {
    const versions = (parse(text) as { config: Record<string, Record<string, unknown>> }).config["kubeherd:versions"];
    expect(versions).toEqual({
      kubernetes: "1.33.5",
      kubeadm: "1.33.5-1.1",
      kubelet: "1.33.5-1.1",
      kubectl: "1.33.5-1.1",
      runtime: "containerd",
      "containerd.io": "1.7.28-1",
    });
  });

  it("reports the changed keys in file order", () => {
    expect(changed).toEqual([
      "kubeherd:versions.kubernetes",
      "kubeherd:versions.kubeadm",
      "kubeherd:versions.kubelet",
      "kubeherd:versions.kubectl",
      "kubeherd:versions.runtime",
      "kubeherd:versions.containerd.io",
      "kubeherd:versions.docker-ce",
      "kubeherd:repositories.kubernetes",
    ]);
  });

  it("edits values in place, keeping the target's quotes and comments, and copies new values verbatim", () => {
    expect(text).toBe(`# prod: comments stay where they are
config:
  aws:region: eu-west-1   # the region
  kubeherd:versions:
    # pins arrive by promotion
    kubernetes: 1.33.5
    kubeadm: '1.33.5-1.1'
    kubelet: 1.33.5-1.1   # kubelet last
    kubectl: 1.33.5-1.1
    runtime: containerd
    containerd.io: "1.7.28-1"
  kubeherd:os:
    release: "22.04"
  kubeherd:repositories:
    docker: deb [trusted=yes] http://mirror.prod.example.com/docker/ubuntu {codename} stable
    kubernetes: deb [trusted=yes] http://mirror.internal.example.com/k8s/v{minor} /
`);
  });

  it("adds kubeherd:repositories when the target has none, and removes it when nothing is left", () => {
    const bare = TARGET.replace(/ {2}kubeherd:repositories:\n.*\n/, "");
    expect(promoteStackText(SOURCE, bare).text).toMatch(/release: "22.04"\n {2}kubeherd:repositories:\n {4}kubernetes: deb \[trusted=yes\] http:\/\/mirror.internal.example.com\/k8s\/v\{minor\} \/\n$/);
    const withMirror = `${TARGET.replace(/ {4}docker: .*\n/, "")}    kubernetes: deb http://old.example.com/k8s /\n`;
    const noMirror = SOURCE.replace(/ {2}kubeherd:repositories:\n( {4}.*\n)+/, "");
    expect(promoteStackText(noMirror, withMirror).text).not.toContain("kubeherd:repositories");
  });

  it("is a no-op on a target that already has the source's versions", () => {
    expect(promoteStackText(SOURCE, text)).toEqual({ text, changed: [] });
  });

  it("keeps a target without a trailing newline parseable", () => {
    const { text: out } = promoteStackText(SOURCE, TARGET.replace(/\n$/, "").replace(/ {2}kubeherd:repositories:\n.*$/, "").replace(/\n$/, ""));
    expect((parse(out) as { config: Record<string, unknown> }).config["kubeherd:repositories"]).toEqual({ kubernetes: "deb [trusted=yes] http://mirror.internal.example.com/k8s/v{minor} /" });
  });

  it("refuses a flow-style versions map rather than rewrite it", () => {
    expect(() => promoteStackText(SOURCE, "config:\n  kubeherd:versions: {kubernetes: 1.32.9}\n")).toThrow(/not a block mapping: edit it by hand/);
  });
});

describe("unifiedDiff", () => {
  it("shows the changed lines with three lines of context", () => {
    expect(unifiedDiff("a\nb\nc\nd\ne\nf\ng\nh\n", "a\nb\nc\nd\nE\nf\ng\nh\n", { from: "f.yaml", to: "f.yaml (promoted)" })).toBe(
      ["--- f.yaml", "+++ f.yaml (promoted)", "@@ -2,7 +2,7 @@", " b", " c", " d", "-e", "+E", " f", " g", " h"].join("\n"),
    );
  });

  it("is empty for equal texts", () => {
    expect(unifiedDiff("a\n", "a\n", { from: "f", to: "f" })).toBe("");
  });

  it("holds every line of both texts, in order, when the context covers the file", () => {
    const lines = fc.array(fc.constantFrom("a", "b", "c", "d"), { maxLength: 12 });
    fc.assert(
      fc.property(lines, lines, (a, b) => {
        const before = a.map((l) => `${l}\n`).join("");
        const after = b.map((l) => `${l}\n`).join("");
        const diff = unifiedDiff(before, after, { from: "a", to: "b" }, 100);
        if (before === after) {
          expect(diff).toBe("");
          return;
        }
        const body = diff.split("\n").slice(3);
        expect(body.filter((l) => l[0] !== "+").map((l) => l.slice(1))).toEqual(a);
        expect(body.filter((l) => l[0] !== "-").map((l) => l.slice(1))).toEqual(b);
      }),
    );
  });
});
