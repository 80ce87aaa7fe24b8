/**
 * The shell text of every stand-in in a test root: the binaries of the stand-in packages (kubeadm, kubelet, …) and
 * the host commands that cannot run in a chroot (systemctl, reboot, …). Each records its call as one line of
 * CALL_LOG and can be told to fail once, to play a node where an upgrade dies half way.
 */

/** Inside the root. One line per call: name, version ("-" for host stand-ins), then each argument, tab-separated. */
export const CALL_LOG = "/var/log/kubeherd-calls.log";

/** A file named after a stand-in (`kubeadm`, `postinst-kubelet`) here makes its next matching call fail once. */
export const FAIL_ONCE_DIR = "/var/lib/kubeherd-test/fail-once";

/**
 * Shell functions every stand-in starts with. `kh_record` writes the call line; a bootstrap token given with
 * `--token` is logged as its sha256 only, so a test can prove the token arrived without the log being a second
 * copy of it on disk. `kh_fail_once` consumes an injected failure whose file content (if any) must occur in the
 * arguments.
 */
function prelude(name: string, version: string): string {
  return `set -u
KH_NAME='${name}'
KH_VERSION='${version}'
kh_record() {
  kh_line="$KH_NAME	$KH_VERSION"
  kh_prev=
  for kh_a in "$@"; do
    case "$kh_prev" in
      --token) kh_a="sha256:$(printf '%s' "$kh_a" | sha256sum | cut -c1-64)" ;;
    esac
    case "$kh_a" in
      --token=*) kh_a="--token=sha256:$(printf '%s' "\${kh_a#--token=}" | sha256sum | cut -c1-64)" ;;
    esac
    kh_line="$kh_line	$kh_a"
    kh_prev="$kh_a"
  done
  mkdir -p "$(dirname '${CALL_LOG}')"
  printf '%s\\n' "$kh_line" >> '${CALL_LOG}'
}
kh_fail_once() {
  kh_f='${FAIL_ONCE_DIR}/'"$1"
  shift
  [ -e "$kh_f" ] || return 0
  kh_want="$(cat "$kh_f")"
  case " $* " in
    *"$kh_want"*) rm -f "$kh_f"; echo "$KH_NAME: injected failure" >&2; exit 1 ;;
  esac
}
`;
}

/** A stand-in command: records the call, fails if told to, then runs `body` (which sees "$@"). */
export function standinCommand(name: string, version: string, body: string): string {
  return `#!/bin/sh
# kubeherd test stand-in: ${name}${version === "-" ? "" : ` from ${version}`}
${prelude(name, version)}
kh_record "$@"
kh_fail_once '${name}' "$@"
${body.trim()}
`;
}

/**
 * A maintainer script (postinst) that records `postinst <pkg> <action> <old version>` and can fail once; with
 * `requiresReboot` it also flags a reboot as Ubuntu's kernel packages do.
 */
export function standinPostinst(pkg: string, version: string, requiresReboot: boolean): string {
  return `#!/bin/sh
# kubeherd test stand-in: postinst of ${pkg} ${version}
${prelude("postinst", version)}
kh_record '${pkg}' "$@"
kh_fail_once 'postinst-${pkg}' "$@"
${requiresReboot ? "touch /var/run/reboot-required\n" : ""}exit 0
`;
}
