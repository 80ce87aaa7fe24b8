/** Ubuntu LTS releases kubeherd knows, by version, with the codename that apt lines and docker-ce pins carry. */
export const UBUNTU_RELEASES = {
  "16.04": "xenial",
  "18.04": "bionic",
  "20.04": "focal",
  "22.04": "jammy",
  "24.04": "noble",
} as const;

export type UbuntuRelease = keyof typeof UBUNTU_RELEASES;
export type UbuntuCodename = (typeof UBUNTU_RELEASES)[UbuntuRelease];

export const UBUNTU_RELEASE_NAMES = Object.keys(UBUNTU_RELEASES) as [UbuntuRelease, ...UbuntuRelease[]];

export function codenameOf(release: UbuntuRelease): UbuntuCodename {
  return UBUNTU_RELEASES[release];
}

/** `do-release-upgrade` moves from one LTS to the next only. */
export function nextRelease(release: UbuntuRelease): UbuntuRelease | undefined {
  const i = UBUNTU_RELEASE_NAMES.indexOf(release);
  return UBUNTU_RELEASE_NAMES[i + 1];
}
