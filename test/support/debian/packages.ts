/**
 * Stand-in .deb packages for what kubeherd pins. Each installs the package's binaries as small shell scripts
 * that record their calls and answer version queries the way the real ones do, and a postinst that records the
 * install, so a test sees the order of installs and commands in one log. Each carries the real package's
 * Depends, Conflicts, Provides, Replaces and Breaks (package-depends.ts), so apt resolves them as on a node.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { PINNED_PACKAGES } from "../../../components/versions/pins";
import { controlFieldsOf, hasControlFields, upstreamVersion, type ControlFields } from "./package-depends";

export { upstreamVersion } from "./package-depends";
import { runOrThrow } from "../node-root/process";
import { standinCommand, standinPostinst } from "../node-root/standin-shell";
import { CONTROL_PLANE_NODES } from "../node-root/host-standins";

export interface StandinPackage {
  readonly name: string;
  readonly version: string;
  /** Its postinst flags a reboot (/var/run/reboot-required), as a kernel update does on Ubuntu. */
  readonly requiresReboot?: boolean;
}

/** Ubuntu archive packages the real kubelet depends on that a minimal server image lacks (repository.ts). */
export const SYSTEM_STANDINS: readonly string[] = ["socat", "conntrack", "ebtables"];

/** The control file's relation lines for a package the table knows (none for the test's own canary). */
export function relationLines(pkg: StandinPackage): string[] {
  if (!hasControlFields(pkg.name)) return [];
  const f: ControlFields = controlFieldsOf(pkg.name, pkg.version);
  const line = (field: string, value: string | undefined) => (value ? [`${field}: ${value}`] : []);
  return [
    ...line("Depends", f.depends),
    ...line("Conflicts", f.conflicts),
    ...line("Breaks", f.breaks),
    ...line("Replaces", f.replaces),
    ...line("Provides", f.provides),
  ];
}


/** Binaries each package ships, with the shell that answers their calls. docker-ce before 18.09 shipped the CLI too. */
export function binariesOf(pkg: StandinPackage): Record<string, string> {
  // what the kubelet pulls in from the archive: nothing in a node script calls them, so they ship no binary
  if (SYSTEM_STANDINS.includes(pkg.name)) return {};
  if (pkg.name === "cri-tools") return { "/usr/bin/crictl": `echo 'crictl version v${upstreamVersion(pkg.version)}'\nexit 0` };
  if (pkg.name === "kubernetes-cni") return { "/opt/cni/bin/bridge": "exit 0" };
  // an unpinned package of the system, e.g. the canary that shows dist-upgrade upgrading what is not held
  if (!(PINNED_PACKAGES as readonly string[]).includes(pkg.name)) return { [`/usr/bin/${pkg.name}`]: "exit 0" };
  const v = upstreamVersion(pkg.version);
  const [major, minor] = v.split(".");
  const kubeInfo = `version.Info{Major:"${major}", Minor:"${minor}", GitVersion:"v${v}", GitTreeState:"clean", GoVersion:"go1.22", Compiler:"gc", Platform:"linux/amd64"}`;
  const dockerCli = `case "\${1:-}" in
  version)
    case "$*" in
      *Server.Version*) echo '${v}' ;;
      *Client.Version*) echo '${v}' ;;
      *) printf 'Client:\\n Version: ${v}\\nServer:\\n Engine:\\n  Version: ${v}\\n' ;;
    esac ;;
  --version|-v) echo 'Docker version ${v}, build 0000000' ;;
esac
exit 0`;
  switch (pkg.name) {
    case "kubeadm":
      return {
        // What a node shows of kubeadm's work: `upgrade apply` moves the API server's static pod to the new
        // version, `join` leaves the kubelet's kubeconfig (never the token).
        "/usr/bin/kubeadm": `case "$* " in
  "version "*)
    case "$*" in
      *short*) echo 'v${v}' ;;
      *json*) echo '{"clientVersion":{"major":"${major}","minor":"${minor}","gitVersion":"v${v}"}}' ;;
      *) echo 'kubeadm version: &${kubeInfo}' ;;
    esac ;;
  "upgrade apply "*)
    for want; do :; done
    manifest=/etc/kubernetes/manifests/kube-apiserver.yaml
    if [ -f "$manifest" ]; then sed -i -E "s|(image: .*kube-apiserver:)v[^\\"[:space:]]+|\\1$want|" "$manifest"; fi ;;
  "join "*)
    mkdir -p /etc/kubernetes
    printf 'apiVersion: v1\\nkind: Config\\n# written by the kubeadm stand-in at join\\n' > /etc/kubernetes/kubelet.conf ;;
esac
exit 0`,
      };
    case "kubelet":
      return {
        "/usr/bin/kubelet": `case "\${1:-}" in
  --version|version) echo 'Kubernetes v${v}' ;;
esac
exit 0`,
      };
    case "kubectl":
      return {
        // `get nodes --no-headers` answers kubectl's default table (NAME STATUS ROLES AGE VERSION) from the control
        // plane the test set (CONTROL_PLANE_NODES, node-root/host-standins.ts); without one, a control plane of this
        // host alone, Ready at the kubelet dpkg has installed.
        "/usr/bin/kubectl": `case "$*" in
  *version*json*) echo '{"clientVersion":{"major":"${major}","minor":"${minor}","gitVersion":"v${v}"}}' ;;
  *version*) echo 'Client Version: v${v}' ;;
  *"get nodes"*)
    case "$*" in *--kubeconfig*) ;; *) echo 'The connection to the server localhost:8080 was refused - did you specify the right host or port?' >&2; exit 1 ;; esac
    if [ -f ${CONTROL_PLANE_NODES} ]; then cat ${CONTROL_PLANE_NODES}; exit 0; fi
    kh_kubelet="$(dpkg-query -W -f='\${Version}' kubelet 2>/dev/null | sed 's/-[^-]*$//')"
    printf '%s   Ready   control-plane   12d   v%s\\n' "$(hostname 2>/dev/null || cat /etc/hostname)" "$kh_kubelet" ;;
esac
exit 0`,
      };
    case "docker-ce": {
      const daemon = `case "\${1:-}" in
  --version|-v) echo 'Docker version ${v}, build 0000000' ;;
esac
exit 0`;
      return pkg.version.startsWith("18.06")
        ? { "/usr/bin/dockerd": daemon, "/usr/bin/docker": dockerCli }
        : { "/usr/bin/dockerd": daemon };
    }
    case "docker-ce-cli":
      return { "/usr/bin/docker": dockerCli };
    case "containerd.io":
      return {
        "/usr/bin/containerd": `case "$*" in
  --version*|-v*) echo 'containerd containerd.io ${v} 0000000' ;;
  "config default"*) printf 'version = 2\\n[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]\\n  SystemdCgroup = false\\n' ;;
esac
exit 0`,
        "/usr/bin/ctr": `case "\${1:-}" in
  --version|version) echo 'ctr containerd.io ${v}' ;;
esac
exit 0`,
      };
    case "cri-dockerd":
      return {
        "/usr/bin/cri-dockerd": `case "\${1:-}" in
  --version|version) echo 'cri-dockerd ${v} (0000000)' ;;
esac
exit 0`,
      };
    default:
      throw new Error(`no stand-in binaries for ${pkg.name}`);
  }
}

/** Lays out a package's tree in `workDir` and builds `<outDir>/<name>_<version>_all.deb`; returns its path. */
export async function buildPackage(pkg: StandinPackage, workDir: string, outDir: string): Promise<string> {
  const tree = join(workDir, `${pkg.name}_${pkg.version.replace(/:/g, "%3a")}`);
  mkdirSync(join(tree, "DEBIAN"), { recursive: true });
  writeFileSync(
    join(tree, "DEBIAN", "control"),
    [
      `Package: ${pkg.name}`,
      `Version: ${pkg.version}`,
      "Architecture: all",
      ...relationLines(pkg),
      "Maintainer: kubeherd tests <tests@kubeherd.invalid>",
      "Priority: optional",
      "Section: admin",
      `Description: kubeherd test stand-in for ${pkg.name}`,
      " Records every call of its binaries in the call log of the test root.",
      "",
    ].join("\n"),
  );
  writeFileSync(join(tree, "DEBIAN", "postinst"), standinPostinst(pkg.name, pkg.version, pkg.requiresReboot ?? false), { mode: 0o755 });
  for (const [path, body] of Object.entries(binariesOf(pkg))) {
    const file = join(tree, path);
    mkdirSync(join(file, ".."), { recursive: true });
    writeFileSync(file, standinCommand(path.split("/").pop() ?? pkg.name, pkg.version, body), { mode: 0o755 });
  }
  // Debian's pool naming; the epoch colon is left out of file names as reprepro and Docker's pool do.
  const deb = join(outDir, `${pkg.name}_${pkg.version.replace(/^[0-9]+:/, "")}_all.deb`);
  await runOrThrow("dpkg-deb", ["--root-owner-group", "-Zgzip", "--build", tree, deb]);
  return deb;
}
