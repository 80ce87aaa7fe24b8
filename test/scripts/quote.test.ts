import { spawnSync } from "node:child_process";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { shellArray, shellCall, shellQuote, shellSource } from "../../components/scripts/quote";

/** Runs bash and returns what it printed, split on NUL. */
function bashWords(script: string): string[] {
  const r = spawnSync("bash", ["-c", script], { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`bash failed (${r.status}): ${r.stderr}`);
  return r.stdout.split("\0").slice(0, -1);
}

// Any text a config could hold, including quotes, $(), backslashes, newlines and non-ASCII; a shell word cannot
// hold NUL, so that one is left out (and refused, below).
const word = fc.string({ unit: "binary", maxLength: 40 }).filter((s) => !s.includes("\0"));

describe("shellQuote", () => {
  it.each([
    ["", "''"],
    ["plain", "'plain'"],
    ["it's", `'it'\\''s'`],
    ["$(reboot)", "'$(reboot)'"],
    ["a b\nc", "'a b\nc'"],
  ])("quotes %j as %s", (value, quoted) => {
    expect(shellQuote(value)).toBe(quoted);
  });

  it("gives bash back exactly the string it was given, for any string", () => {
    fc.assert(
      fc.property(fc.array(word, { minLength: 1, maxLength: 8 }), (values) => {
        expect(bashWords(`printf '%s\\0' ${values.map(shellQuote).join(" ")}`)).toEqual(values);
      }),
      { numRuns: 150 },
    );
  });

  it("refuses a NUL character rather than truncating the value", () => {
    expect(() => shellQuote("a\0b")).toThrow(/NUL/);
  });
});

describe("shellCall and shellArray", () => {
  it("pass every argument through as one word", () => {
    fc.assert(
      fc.property(fc.array(word, { minLength: 1, maxLength: 6 }), (values) => {
        const script = `f() { printf '%s\\0' "$@"; }\n${shellCall("f", ...values)}\n${shellArray("a", values)}\nprintf '%s\\0' "\${a[@]}"`;
        expect(bashWords(script)).toEqual([...values, ...values]);
      }),
      { numRuns: 80 },
    );
  });

  it.each(["rm -rf", "$(x)", "Upper"])("refuses %j as a command name", (name) => {
    expect(() => shellCall(name)).toThrow(/plain command name/);
  });
});

describe("shellSource", () => {
  it("keeps backslashes and turns \\${ into a literal ${", () => {
    expect(shellSource`printf '%s\n' "\${x}"`).toBe(`printf '%s\\n' "\${x}"`);
  });
});
