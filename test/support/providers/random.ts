/**
 * Stand-in for the random provider (built from Terraform's, not fetchable here): `random:index/randomString:RandomString`
 * with its `length`, `upper`, `lower`, `numeric`, `special` and `keepers` inputs, every one of which forces a new
 * value, and its `result` output, drawn from node:crypto.
 */
import { randomInt } from "node:crypto";
import type { ResourceType, StandInProvider } from "./server";
import { reveal } from "./values";

export function randomString(length: number, sets: { upper: boolean; lower: boolean; numeric: boolean; special: boolean }): string {
  const chars = [
    sets.upper ? "ABCDEFGHIJKLMNOPQRSTUVWXYZ" : "",
    sets.lower ? "abcdefghijklmnopqrstuvwxyz" : "",
    sets.numeric ? "0123456789" : "",
    sets.special ? "!@#$%&*()-_=+[]{}<>:?" : "",
  ].join("");
  if (!chars) throw new Error("random stand-in: no character set is enabled");
  return Array.from({ length }, () => chars[randomInt(chars.length)]).join("");
}

const stringType: ResourceType = {
  replaceOn: ["length", "upper", "lower", "numeric", "special", "keepers", "minLower", "minUpper", "minNumeric", "minSpecial", "overrideSpecial"],
  async create(inputs) {
    const on = (k: string) => reveal(inputs[k]) !== false;
    const result = randomString(Number(reveal(inputs.length)), { upper: on("upper"), lower: on("lower"), numeric: on("numeric"), special: on("special") });
    return { id: result, outs: { ...inputs, result } };
  },
};

export function randomProvider(version: string): StandInProvider {
  return { name: "random", version, types: { "random:index/randomString:RandomString": stringType } };
}
