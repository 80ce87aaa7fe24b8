/**
 * The call log of a test root, read back: each stand-in binary, host stand-in and stand-in postinst appended one
 * tab-separated line (name, version, arguments), so one log shows installs and commands in the order they
 * happened.
 */

export interface Call {
  /** The command (`kubeadm`, `systemctl`) or `postinst` for a package's install. */
  readonly cmd: string;
  /** The version of the package the binary came from; `-` for host stand-ins. */
  readonly version: string;
  readonly args: readonly string[];
}

export function parseCallLog(text: string): Call[] {
  return text
    .split("\n")
    .filter((line) => line !== "")
    .map((line) => {
      const [cmd = "", version = "", ...args] = line.split("\t");
      return { cmd, version, args };
    });
}

/** One call as a person would type it, for failure messages and `toContain` assertions: `kubeadm upgrade apply -y v1.13.3`. */
export function callText(call: Call): string {
  return [call.cmd, ...call.args].join(" ");
}

/** `postinst <pkg> configure …` lines as `install <pkg>=<version>`, everything else as `callText`. */
export function describeCall(call: Call): string {
  return call.cmd === "postinst" ? `install ${call.args[0]}=${call.version}` : callText(call);
}

/** Index of the first call matching `predicate`, or -1. */
export function indexOfCall(calls: readonly Call[], predicate: (c: Call) => boolean): number {
  return calls.findIndex(predicate);
}

export const isInstallOf = (pkg: string) => (c: Call) => c.cmd === "postinst" && c.args[0] === pkg;
export const isCall = (cmd: string, ...argsPrefix: string[]) => (c: Call) =>
  c.cmd === cmd && argsPrefix.every((a, i) => c.args[i] === a);
