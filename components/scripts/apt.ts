/**
 * apt in node scripts: the repository lines, the preflight that every pin exists, and the classic
 * unhold + install pkg=VER + hold (FACTS.md §5), acting only on packages whose installed version differs.
 */
import { type AptSource } from "../versions/repositories";
import { shellCall, shellSource } from "./quote";
import { type Pin, pinWords } from "../versions/pins";

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

# Before any hold is released: a pin below the installed version is a downgrade, taken only for the packages this
# run may take back (kubeherd:versions.allowUnsupportedTransition); otherwise stop with the old sources back.
refuse_downgrades() {
  local allowed=" $1 " refused=() have
  shift
  while (($#)); do
    have="$(installed_version "$1")"
    if [[ -n $have && $have != "$2" && $allowed != *" $1 "* ]] && dpkg --compare-versions "$have" gt "$2"; then
      refused+=("$1=$have->$2")
    fi
    shift 2
  done
  if ((\${#refused[@]})); then
    restore_sources
    die "refusing to downgrade \${refused[*]}: kubeherd takes a pin back only under kubeherd:versions.allowUnsupportedTransition (nothing was unheld or installed)"
  fi
}

pin_of() { local i; for ((i = 0; i < \${#pins[@]}; i += 2)); do [[ \${pins[i]} != "$1" ]] || echo "\${pins[i + 1]}"; done; }

# apt takes a dependency's newest version (kubernetes#75683): name a pinned one at its pin, an "(= X)" one at X.
companions_of() {
  local d r v
  while read -r d r; do
    v="$(pin_of "$d")"
    if [[ -n $v ]]; then [[ -n "$(installed_version "$d")" ]] || echo "$d=$v"
    elif [[ -n $r ]] && ! dpkg --compare-versions "$(installed_version "$d")" eq "$r"; then
      for v in $(apt-cache madison "$d" | cut -d'|' -f2); do dpkg --compare-versions "$v" ne "$r" || { echo "$d=$v"; break; }; done
    fi
  done < <(apt-cache show "$1=$2" | grep -m1 '^Depends:' | cut -d' ' -f2- | tr , '\n' | grep -v '|' |
    sed -E 's/^ *([^ (:]+)[^(]*(\(= ([^)]+)\))?.*/\1 \3/')
}

# Installs, in one apt call, the pins whose installed version differs. A changed-<package> marker is written
# before the install, so a run killed after it still restarts what changed when it is run again.
install_pins() {
  local specs=() names=() extra=() pkg i
  while (($#)); do
    if [[ "$(installed_version "$1")" != "$2" ]]; then
      specs+=("$1=$2")
      names+=("$1")
    fi
    shift 2
  done
  if ((\${#specs[@]} == 0)); then return 0; fi
  for ((i = 0; i < \${#specs[@]}; i++)); do
    while read -r pkg; do
      if [[ " \${specs[*]} \${extra[*]} " == *" $pkg "* ]]; then continue; fi
      if [[ -n "$(pin_of "\${pkg%=*}")" ]]; then specs+=("$pkg") names+=("\${pkg%=*}"); else extra+=("$pkg"); fi
    done < <(companions_of "\${specs[i]%=*}" "\${specs[i]#*=}")
  done
  for pkg in "\${names[@]}"; do touch "$state/changed-$pkg"; done
  say "installing \${specs[*]}"
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

/** Pets only: refuse a pin below the installed version unless `allowed` lists its package (apt then takes it back). */
export const downgradeLines = (allowed: readonly string[]): string[] => [`${shellCall("refuse_downgrades", allowed.join(" "))} "\${pins[@]}"`];

export const installLines = (pins: readonly Pin[]): string[] => [shellCall("install_pins", ...pinWords(pins))];
