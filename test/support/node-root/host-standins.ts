/**
 * What makes a Debian root look like the Ubuntu node the scripts expect, where it matters: the os-release and
 * lsb-release of the Ubuntu release under test, and stand-ins (in /usr/local/sbin, ahead of everything on PATH)
 * for the commands that cannot or must not run in a chroot: systemd, reboot, the kernel's knobs, and
 * do-release-upgrade. Every stand-in records its call in the call log.
 */
import { UBUNTU_RELEASES, type UbuntuRelease } from "../../../components/versions/ubuntu";
import { standinCommand } from "./standin-shell";

export const STANDIN_DIR = "/usr/local/sbin";

/** What a node leaves when it needs a reboot (the release upgrade stand-in writes it). */
export const REBOOT_REQUIRED = "/var/run/reboot-required";

const POINT_RELEASE: Record<UbuntuRelease, string> = {
  "16.04": "16.04.7 LTS (Xenial Xerus)",
  "18.04": "18.04.6 LTS (Bionic Beaver)",
  "20.04": "20.04.6 LTS (Focal Fossa)",
  "22.04": "22.04.4 LTS (Jammy Jellyfish)",
  "24.04": "24.04.1 LTS (Noble Numbat)",
};

export function osRelease(release: UbuntuRelease): string {
  const codename = UBUNTU_RELEASES[release];
  const version = POINT_RELEASE[release];
  return [
    `PRETTY_NAME="Ubuntu ${version.split(" (")[0]}"`,
    'NAME="Ubuntu"',
    `VERSION_ID="${release}"`,
    `VERSION="${version}"`,
    `VERSION_CODENAME=${codename}`,
    "ID=ubuntu",
    "ID_LIKE=debian",
    `UBUNTU_CODENAME=${codename}`,
    "",
  ].join("\n");
}

export function lsbRelease(release: UbuntuRelease): string {
  return [
    "DISTRIB_ID=Ubuntu",
    `DISTRIB_RELEASE=${release}`,
    `DISTRIB_CODENAME=${UBUNTU_RELEASES[release]}`,
    `DISTRIB_DESCRIPTION="Ubuntu ${POINT_RELEASE[release].split(" (")[0]}"`,
    "",
  ].join("\n");
}

/** `VERSION_ID codename` lines in release order, for the release upgrade stand-in to find the next LTS. */
function releaseTable(): string {
  return Object.entries(UBUNTU_RELEASES)
    .map(([v, c]) => `${v} ${c}`)
    .join("\n");
}

/**
 * do-release-upgrade as far as a node's packages see it. Like the real one it refuses while any package is
 * upgradable (held ones count), disables third-party sources unless they are allowed (`--allow-third-party`, or
 * `AllowThirdParty=yes` in /etc/update-manager/release-upgrades.d), moves the archive line and os-release to the
 * next LTS, dist-upgrades (holds are kept), and leaves a reboot required.
 */
function doReleaseUpgrade(): string {
  return `
export DEBIAN_FRONTEND=noninteractive
echo "Checking for a new Ubuntu release"
if apt list --upgradable 2>/dev/null | grep -q upgradable; then
  echo "Please install all available updates for your release before upgrading."
  exit 1
fi
# shellcheck source=/dev/null
. /etc/os-release
from="$VERSION_CODENAME"
next="$(printf '%s\\n' '${releaseTable()}' | awk -v cur="$VERSION_ID" 'found { print; exit } $1 == cur { found = 1 }')"
if [ -z "$next" ]; then echo "No new release found."; exit 0; fi
next_version="$(echo "$next" | cut -d' ' -f1)"
next_codename="$(echo "$next" | cut -d' ' -f2)"
allow_third_party=no
case " $* " in *" --allow-third-party "*) allow_third_party=yes ;; esac
if grep -rqsE '^[[:space:]]*AllowThirdParty[[:space:]]*=[[:space:]]*(yes|true)' /etc/update-manager/release-upgrades.d; then
  allow_third_party=yes
fi
if [ "$allow_third_party" = no ]; then
  for f in /etc/apt/sources.list.d/*.list; do
    [ -e "$f" ] || continue
    sed -i -E "s|^([[:space:]]*deb[[:space:]].*)$|# \\1 # disabled on upgrade to $next_codename|" "$f"
  done
  for f in /etc/apt/sources.list.d/*.sources; do
    [ -e "$f" ] || continue
    printf 'Enabled: no\\n' >> "$f"
  done
fi
sed -i "s/\\b$from\\b/$next_codename/g" /etc/apt/sources.list
{
  echo "PRETTY_NAME=\\"Ubuntu $next_version LTS\\""
  echo 'NAME="Ubuntu"'
  echo "VERSION_ID=\\"$next_version\\""
  echo "VERSION=\\"$next_version LTS\\""
  echo "VERSION_CODENAME=$next_codename"
  echo "ID=ubuntu"
  echo "ID_LIKE=debian"
  echo "UBUNTU_CODENAME=$next_codename"
} > /etc/os-release
{
  echo "DISTRIB_ID=Ubuntu"
  echo "DISTRIB_RELEASE=$next_version"
  echo "DISTRIB_CODENAME=$next_codename"
  echo "DISTRIB_DESCRIPTION=\\"Ubuntu $next_version LTS\\""
} > /etc/lsb-release
# \`failOnce("do-release-upgrade-late")\`: die after the switch to the new release, before its packages are in
kh_fail_once 'do-release-upgrade-late' "$@"
apt-get update -qq
apt-get -y -q -o Dpkg::Options::=--force-confold dist-upgrade
touch '${REBOOT_REQUIRED}'
`;
}

/**
 * Where the stand-in kubelet's (re)start leaves what a real kubelet would then report to the API server: the
 * kubelet version dpkg has installed, the runtime endpoint from kubeadm's flags file, and the runtime packages'
 * versions. The end-to-end tier's kubelet agent (test/support/ssh-nodes/kubelet-agent.ts) turns it into the Node's status.
 */
export const KUBELET_DIR = "/var/lib/kubeherd-test/kubelet";
export const KUBELET_REPORT = `${KUBELET_DIR}/report`;
/** While this file exists, every kubelet (re)start fails: a node that never comes back Ready. */
export const KUBELET_BROKEN = `${KUBELET_DIR}/broken`;
/**
 * While this file exists, a kubelet that (re)started fine has not turned Ready yet (a real kubelet takes a while:
 * its runtime status check, the CNI, the first PLEG relist): the agent reports its new versions with Ready=False.
 * The stand-in systemctl never reads it; only the agent does (test/support/ssh-nodes/kubelet-agent.ts).
 */
export const KUBELET_NOT_READY_YET = `${KUBELET_DIR}/not-ready-yet`;
/** kubeadm writes the kubelet's runtime flags here (kubeadm join, kubeadm upgrade). */
export const KUBEADM_FLAGS = "/var/lib/kubelet/kubeadm-flags.env";

function kubeletStart(): string {
  return `
    kh_installed() { dpkg-query -W -f='\${db:Status-Status} \${Version}\\n' "$1" 2>/dev/null | sed -n 's/^installed //p'; }
    kh_state=running
    if [ -e '${KUBELET_BROKEN}' ]; then kh_state=failed; fi
    kh_endpoint=
    if [ -f '${KUBEADM_FLAGS}' ]; then
      kh_endpoint="$(sed -n -E 's/.*--container-runtime-endpoint=([^ "]+).*/\\1/p' '${KUBEADM_FLAGS}' | head -n 1)"
    fi
    mkdir -p '${KUBELET_DIR}'
    kh_seq=$(( $(cat '${KUBELET_DIR}/seq' 2>/dev/null || echo 0) + 1 ))
    {
      echo "seq=$kh_seq"
      echo "state=$kh_state"
      echo "kubelet=$(kh_installed kubelet)"
      echo "endpoint=$kh_endpoint"
      echo "docker-ce=$(kh_installed docker-ce)"
      echo "containerd.io=$(kh_installed containerd.io)"
      echo "cri-dockerd=$(kh_installed cri-dockerd)"
    } > '${KUBELET_REPORT}.tmp'
    echo "$kh_seq" > '${KUBELET_DIR}/seq'
    mv -f '${KUBELET_REPORT}.tmp' '${KUBELET_REPORT}'
    if [ "$kh_state" = failed ]; then
      echo "Job for kubelet.service failed because the control process exited with error code." >&2
      exit 1
    fi`;
}

/** kubectl's `get nodes --no-headers` table of the control-plane nodes, as a test sets it (the kubectl stand-in reads it). */
export const CONTROL_PLANE_NODES = "/var/lib/kubeherd-test/control-plane/nodes";
/** While this file exists, `etcdctl endpoint health` says the member is unhealthy. */
export const ETCD_UNHEALTHY = "/var/lib/kubeherd-test/etcd/unhealthy";

/**
 * etcdctl (v3 API) as far as the converge script uses it: `endpoint health` and `snapshot save PATH`. Like the
 * real one it needs the TLS files it is given to exist, answers health on stdout (unhealthy: stderr, exit 1), and
 * leaves the snapshot at PATH. kubeadm nodes seldom have etcdctl on the host; this stand-in plays the host that has.
 */
function etcdctl(): string {
  return `
for kh_a; do
  case "$kh_a" in
    --cacert=*|--cert=*|--key=*)
      kh_f="\${kh_a#*=}"
      if [ ! -f "$kh_f" ]; then echo "Error: open $kh_f: no such file or directory" >&2; exit 1; fi ;;
  esac
done
case "$*" in
  *"endpoint health"*)
    if [ -e '${ETCD_UNHEALTHY}' ]; then
      echo "https://127.0.0.1:2379 is unhealthy: failed to commit proposal: context deadline exceeded" >&2
      echo "Error: unhealthy cluster" >&2
      exit 1
    fi
    echo "https://127.0.0.1:2379 is healthy: successfully committed proposal: took = 1.234ms" ;;
  *"snapshot save"*)
    for kh_path; do :; done
    printf 'kubeherd test stand-in etcd snapshot\\n' > "$kh_path"
    echo "Snapshot saved at $kh_path" ;;
  *) echo "Error: unknown command for \\"etcdctl\\"" >&2; exit 1 ;;
esac`;
}

function hostStandinBodies(): Record<string, string> {
  return {
    etcdctl: etcdctl(),
    systemctl: `
case "$* " in
  "is-active "*) case "$*" in *--quiet*|*" -q"*) ;; *) echo active ;; esac ;;
  "is-enabled "*) case "$*" in *--quiet*|*" -q"*) ;; *) echo enabled ;; esac ;;
  "restart kubelet "*|"start kubelet "*|"restart kubelet.service "*|"start kubelet.service "*) ${kubeletStart()} ;;
esac
exit 0`,
    reboot: "exit 0",
    shutdown: "exit 0",
    // never let a script in the root change the host's kernel
    sysctl: "exit 0",
    modprobe: "exit 0",
    swapoff: "exit 0",
    "do-release-upgrade": doReleaseUpgrade(),
    // Ubuntu ships lsb_release; minbase does not. Answers from /etc/lsb-release as the real one does.
    lsb_release: `
# shellcheck source=/dev/null
. /etc/lsb-release
case "$*" in
  *-c*s*|*-s*c*) echo "$DISTRIB_CODENAME" ;;
  *-r*s*|*-s*r*) echo "$DISTRIB_RELEASE" ;;
  *-i*s*|*-s*i*) echo "$DISTRIB_ID" ;;
  *-d*s*|*-s*d*) echo "$DISTRIB_DESCRIPTION" ;;
  *) printf 'Distributor ID:\\t%s\\nDescription:\\t%s\\nRelease:\\t%s\\nCodename:\\t%s\\n' "$DISTRIB_ID" "$DISTRIB_DESCRIPTION" "$DISTRIB_RELEASE" "$DISTRIB_CODENAME" ;;
esac`,
  };
}

/** Path in the root → content, for every host stand-in. */
export function hostStandins(): Record<string, string> {
  return Object.fromEntries(
    Object.entries(hostStandinBodies()).map(([name, body]) => [`${STANDIN_DIR}/${name}`, standinCommand(name, "-", body)]),
  );
}
