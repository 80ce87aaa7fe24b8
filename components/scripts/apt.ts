/**
 * apt in node scripts: the repository lines, the preflight that every pin exists, and the classic
 * unhold + install pkg=VER + hold (FACTS.md §5), acting only on packages whose installed version differs.
 */
import { type AptSource } from "../versions/repositories";
import { shellCall, shellSource } from "./quote";
import { type Pin, pinWords } from "./pins";

export const APT_FUNCTIONS = shellSource`
# Writes one apt source file, remembering its old content so a failed preflight can put it back.
declare -A source_before=()
write_source() {
  local file="$1" line="$2" current=""
  rm -f -- "$file.disabled"
  if [[ -f $file ]]; then current="$(<"$file")"; fi
  if [[ $current == "$line" ]]; then return 0; fi
  source_before["$file"]="$current"
  printf '%s\n' "$line" >"$file"
  changed+=("apt source $file")
}

restore_sources() {
  local file
  if ((\${#source_before[@]} == 0)); then return 0; fi
  for file in "\${!source_before[@]}"; do
    if [[ -n \${source_before[$file]} ]]; then
      printf '%s\n' "\${source_before[$file]}" >"$file"
    else
      rm -f -- "$file"
    fi
  done
  say "restored the previous apt sources"
  apt_get update >/dev/null 2>&1 || true
}

# Fetches a repository signing key once. apt reads .asc keyrings as armoured and others as binary.
fetch_key() {
  local url="$1" keyring="$2"
  if [[ -s $keyring ]]; then return 0; fi
  install -d -m 0755 "$(dirname "$keyring")"
  case "$keyring" in
    *.asc) curl -fsSL "$url" -o "$keyring.tmp" ;;
    *) curl -fsSL "$url" | gpg --dearmor >"$keyring.tmp" ;;
  esac
  chmod 0644 "$keyring.tmp"
  mv -f -- "$keyring.tmp" "$keyring"
  changed+=("key $keyring")
}

# A pin is available when it is installed already or a configured repository offers that exact version.
available() {
  if [[ "$(installed_version "$1")" == "$2" ]]; then return 0; fi
  apt-cache madison "$1" 2>/dev/null | awk -F'|' -v want="$2" '{ gsub(/[[:space:]]/, "", $2) } $2 == want { found = 1 } END { exit !found }'
}

# Before any hold is released: every pin must exist, else stop with the sources as they were.
preflight() {
  local missing=()
  while (($#)); do
    if ! available "$1" "$2"; then missing+=("$1=$2"); fi
    shift 2
  done
  if ((\${#missing[@]})); then
    restore_sources
    die "pinned versions not available from the configured repositories: \${missing[*]} (nothing was unheld or installed)"
  fi
  say "preflight: every pinned version is available"
}

# The pin of a package, empty when it is not pinned.
pin_of() {
  local i
  for ((i = 0; i < \${#pins[@]}; i += 2)); do
    if [[ \${pins[i]} == "$1" ]]; then printf '%s\n' "\${pins[i + 1]}"; return 0; fi
  done
}

# The Depends of one available package version as "name relation-version" lines ("-" when unversioned),
# alternatives ("a | b") left out.
depends_of() {
  apt-cache show "$1=$2" 2>/dev/null | sed -n 's/^Depends: //p' | head -n 1 | tr ',' '\n' | grep -v '|' |
    sed -n -E 's/^[[:space:]]*([a-z0-9][a-z0-9.+-]*)(:[a-z0-9]+)?[[:space:]]*(\(([<>=]+)[[:space:]]*([^)[:space:]]+)\))?.*$/\1 \4\5/p' |
    sed -E 's/ $/ -/' || true
}

# What one apt call must name besides the pins it installs, as "name=version" lines:
# - a dependency that asks for one exact version ("kubelet 1.13: Depends: kubernetes-cni (= 0.6.0)"): apt gives a
#   dependency its newest version and gives up when that one does not fit ("kubelet : Depends: kubernetes-cni
#   (= 0.6.0) but 0.7.5-00 is to be installed", kubernetes/kubernetes#75683), so the fitting version is named;
# - a dependency that is itself pinned and not installed yet (kubeadm depends on the kubelet): at its pin, not at
#   the newest version apt would pull in.
companions_of() {
  local dep rel want have v
  while read -r dep rel; do
    [[ -n $dep ]] || continue
    have="$(installed_version "$dep")"
    want="$(pin_of "$dep")"
    if [[ -n $want ]]; then
      if [[ -z $have ]]; then printf '%s=%s\n' "$dep" "$want"; fi
      continue
    fi
    [[ $rel == =* ]] || continue
    want="\${rel#=}"
    if [[ -n $have ]] && dpkg --compare-versions "$have" eq "$want"; then continue; fi
    for v in $(apt-cache madison "$dep" 2>/dev/null | awk -F'|' '{ gsub(/[[:space:]]/, "", $2); print $2 }'); do
      if dpkg --compare-versions "$v" eq "$want"; then
        printf '%s=%s\n' "$dep" "$v"
        break
      fi
    done
  done < <(depends_of "$1" "$2")
}

# Installs, in one apt call, the pins whose installed version differs (with the companions they need, above). A
# changed-<package> marker is written before the install, so a run killed after it still restarts what changed
# when it is run again.
install_pins() {
  local specs=() names=() extra=() pkg spec i
  while (($#)); do
    if [[ "$(installed_version "$1")" != "$2" ]]; then
      specs+=("$1=$2")
      names+=("$1")
    fi
    shift 2
  done
  if ((\${#specs[@]} == 0)); then return 0; fi
  # by index: a pinned companion appended here has companions of its own
  for ((i = 0; i < \${#specs[@]}; i++)); do
    spec="\${specs[i]}"
    while read -r pkg; do
      [[ -n $pkg && " \${specs[*]} \${extra[*]} " != *" $pkg "* ]] || continue
      # a companion that is itself pinned is installed, marked and held as a pin
      if [[ -n "$(pin_of "\${pkg%%=*}")" ]]; then
        specs+=("$pkg")
        names+=("\${pkg%%=*}")
      else
        extra+=("$pkg")
      fi
    done < <(companions_of "\${spec%%=*}" "\${spec#*=}")
  done
  for pkg in "\${names[@]}"; do touch "$state/changed-$pkg"; done
  say "installing \${specs[*]}\${extra[*]:+ (with \${extra[*]})}"
  apt-mark unhold "\${names[@]}" >/dev/null
  apt_get install -y --allow-downgrades "\${specs[@]}" \${extra[@]+"\${extra[@]}"}
  apt-mark hold "\${names[@]}" >/dev/null
  changed+=("\${specs[@]}")
}

held_packages() { apt-mark showhold | tr '\n' ' '; }

ensure_held() {
  local held pkg
  held=" $(held_packages) "
  for pkg; do
    if [[ $held != *" $pkg "* ]]; then
      apt-mark hold "$pkg" >/dev/null
      changed+=("hold $pkg")
    fi
  done
}

require_held() {
  local held pkg
  held=" $(held_packages) "
  for pkg; do
    if [[ $held != *" $pkg "* ]]; then die "$pkg is not held: refusing to upgrade the system around it"; fi
  done
}

verify_pins() {
  local have
  while (($#)); do
    have="$(installed_version "$1")"
    if [[ $have != "$2" ]]; then die "$1 is at \${have:-nothing}, not the pinned $2"; fi
    shift 2
  done
}

clear_changed() {
  local pkg
  for pkg; do rm -f -- "$state/changed-$pkg"; done
}`;

/** Keys, then lines (a minor change switches the Kubernetes line here, before anything is installed), then update. */
export function repositoryLines(sources: readonly AptSource[]): string[] {
  return [
    ...sources.flatMap((s) => (s.key ? [shellCall("fetch_key", s.key.url, s.key.keyring)] : [])),
    ...sources.map((s) => shellCall("write_source", s.file, s.line)),
    "apt_get update",
  ];
}

export const preflightLines = (): string[] => [`preflight "\${pins[@]}"`];

export const installLines = (pins: readonly Pin[]): string[] => [shellCall("install_pins", ...pinWords(pins))];
