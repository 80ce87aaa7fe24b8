/**
 * Maintenance in a converge script: the Ubuntu release check and upgrade, the system upgrade with the pins held,
 * and the reboot either needs. Tokens and releases come from validated config (`kubeherd:os`).
 */
import { type Os } from "../config/schema";
import { UBUNTU_RELEASE_NAMES } from "../versions/ubuntu";
import { shellCall, shellSource } from "./quote";

export const RELEASE_CHECK_FUNCTIONS = shellSource`
# Refuses a node that is not Ubuntu, runs a newer release than configured, or is more than one LTS behind.
release_upgrade_needed=0
check_release() {
  local target="$1" previous="$2" id version
  id="$(os_release_field ID)"
  version="$(os_release_field VERSION_ID)"
  if [[ $id != ubuntu ]]; then die "this node runs \${id:-an unknown OS} \${version}; kubeherd manages Ubuntu nodes"; fi
  if dpkg --compare-versions "$version" gt "$target"; then
    die "this node runs Ubuntu $version, newer than os.release $target: kubeherd does not downgrade"
  fi
  if dpkg --compare-versions "$version" lt "$target"; then
    if [[ $version != "$previous" ]]; then
      die "this node runs Ubuntu $version; do-release-upgrade goes one LTS at a time: set os.release to the next LTS after $version first"
    fi
    release_upgrade_needed=1
  elif [[ -e $state/release-upgrade-$target.started ]]; then
    # A run killed during the release upgrade: /etc/os-release may already say $target.
    release_upgrade_needed=1
  fi
}

# Cattle: the image must already run the configured release.
require_release() {
  local id version
  id="$(os_release_field ID)"
  version="$(os_release_field VERSION_ID)"
  if [[ $id != ubuntu || $version != "$1" ]]; then
    die "this image runs \${id:-an unknown OS} \${version:-?}, but os.release is Ubuntu $1: use an image of that release"
  fi
}`;

export const MAINTENANCE_FUNCTIONS = shellSource`
set_sources() {
  local file
  for file in "\${source_files[@]}"; do
    if [[ $1 == disabled && -f $file ]]; then mv -f -- "$file" "$file.disabled"; fi
    if [[ $1 == enabled && -f $file.disabled ]]; then mv -f -- "$file.disabled" "$file"; fi
  done
}

# do-release-upgrade refuses while any package is upgradable, held ones included (FACTS.md §5). The kubeherd
# sources already name the target release, so their packages would count: they are disabled for the upgrade (as
# the field article does), the pins unheld, other third-party sources kept. The pinned packages are not Ubuntu's,
# so the upgrader leaves them installed; the rest of the script then installs the target release's pins.
release_upgrade() {
  local target="$1" started="$state/release-upgrade-$1.started"
  touch "$started"
  say "upgrading Ubuntu to $target: pins unheld and kubeherd sources disabled until it is done"
  apt-mark unhold "\${pinned_packages[@]}" >/dev/null
  set_sources disabled
  apt_get update
  if dpkg --compare-versions "$(os_release_field VERSION_ID)" lt "$target"; then
    # It also wants the current release up to date; the pins cannot move: their sources are disabled.
    apt_get -y dist-upgrade
    if [[ -f /etc/update-manager/release-upgrades ]]; then
      sed -i 's/^Prompt=.*/Prompt=lts/' /etc/update-manager/release-upgrades
    fi
    do-release-upgrade -f DistUpgradeViewNonInteractive --allow-third-party
  else
    say "finishing an interrupted release upgrade"
    dpkg --configure -a
    apt_get -y dist-upgrade
  fi
  if [[ "$(os_release_field VERSION_ID)" != "$target" ]]; then
    die "the release upgrade ended on Ubuntu $(os_release_field VERSION_ID), not $target"
  fi
  set_sources enabled
  apt_get update
  apt-mark hold "\${pinned_packages[@]}" >/dev/null
  touch "$state/pending-reboot"
  rm -f -- "$started"
  changed+=("Ubuntu $target")
}

# Runs once per token: apt-get dist-upgrade with the pins held, which keeps them where they are.
system_upgrade() {
  local token="$1" marker="$state/system-upgrade-$1"
  if [[ -e $marker ]]; then return 0; fi
  require_held "\${pinned_packages[@]}"
  say "system upgrade $token: apt-get dist-upgrade with the pins held"
  apt_get update
  apt_get -y dist-upgrade
  verify_pins "\${pins[@]}"
  if [[ -e /var/run/reboot-required ]]; then touch "$state/pending-reboot"; fi
  touch "$marker"
  changed+=("system upgrade $token")
}

# Last thing in the script: a delayed, detached reboot, so the script exits 0 and the SSH session closes cleanly
# before the node goes down. The ready hook waits for it to come back.
reboot_if_pending() {
  if [[ ! -e $state/pending-reboot ]]; then return 0; fi
  rm -f -- "$state/pending-reboot"
  # shellcheck disable=SC2016 # $1 is expanded by the reboot shell
  nohup bash -c 'sleep "$1"; reboot' kubeherd-reboot "\${KUBEHERD_REBOOT_DELAY:-5}" >/dev/null 2>&1 </dev/null &
}`;

/** The LTS before `release`, which is the only one do-release-upgrade can come from; "" for the oldest known. */
export function previousRelease(release: Os["release"]): string {
  const i = UBUNTU_RELEASE_NAMES.indexOf(release);
  return i > 0 ? UBUNTU_RELEASE_NAMES[i - 1] : "";
}

export const releaseCheckLines = (os: Os): string[] => [shellCall("check_release", os.release, previousRelease(os.release))];

export const releaseUpgradeLines = (os: Os): string[] => [
  `if ((release_upgrade_needed)); then ${shellCall("release_upgrade", os.release)}; fi`,
];

export const systemUpgradeLines = (os: Os): string[] =>
  os.systemUpgrade ? [shellCall("system_upgrade", os.systemUpgrade)] : ["# os.systemUpgrade is not set: no system upgrade."];
