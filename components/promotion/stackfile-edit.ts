/**
 * Edits of a stack file that leave every other byte as it was. The `yaml` package's Document API finds where each
 * value sits in the text (its source range); the edits then splice only those ranges, because re-stringifying the
 * document would re-flow comments, quotes and line breaks the team wrote by hand.
 */
import { isMap, isPair, isScalar, parseDocument, stringify, type Document, type Node, type Pair, type YAMLMap } from "yaml";

/** A replacement of `text.slice(start, end)`. */
interface Splice {
  start: number;
  end: number;
  text: string;
}

export type Leaf = string | number | boolean;

/** Make the block map at `config.<key>` hold exactly `entries` (their order for new keys), except `keep`. */
export interface MirrorEdit {
  /** A key of the stack file's `config:` map, such as `kubeherd:versions`. */
  key: string;
  /** The wanted entries: scalar values, or the source's text for a scalar (copied verbatim, quotes and all). */
  entries: Record<string, { value: Leaf; text?: string }>;
  /** Keys of the map that stay as they are (present or not). */
  keep?: readonly string[];
  /** Only these keys are edited; others stay. Default: every key. */
  only?: readonly string[];
}

const lineStart = (text: string, at: number) => text.lastIndexOf("\n", at - 1) + 1;
function lineEnd(text: string, at: number): number {
  if (at > 0 && text[at - 1] === "\n") return at;
  const nl = text.indexOf("\n", at);
  return nl === -1 ? text.length : nl + 1;
}

function configMap(doc: Document): YAMLMap {
  const config = doc.get("config", true);
  if (!isMap(config) || config.flow) throw new Error("the stack file has no block mapping under config:");
  return config as YAMLMap;
}

const pairOf = (map: YAMLMap, key: string): Pair<Node, Node | null> | undefined =>
  map.items.find((p): p is Pair<Node, Node | null> => isPair(p) && isScalar(p.key) && p.key.value === key);

const rangeOf = (node: Node | null | undefined): [number, number, number] => {
  if (!node?.range) throw new Error("a value without a source position cannot be edited in place");
  return node.range;
};

function renderScalar(value: Leaf, like?: Node | null): string {
  if (typeof value === "string" && isScalar(like)) {
    if (like.type === "QUOTE_DOUBLE") return JSON.stringify(value);
    if (like.type === "QUOTE_SINGLE") return `'${value.replace(/'/g, "''")}'`;
  }
  return stringify(value).replace(/\n$/, "");
}

/** The lines of `key: value` at `indent`, ending in a newline. */
function renderPair(key: string, value: unknown, indent: number): string {
  const pad = " ".repeat(indent);
  return stringify({ [key]: value }).replace(/\n$/, "").split("\n").map((l) => pad + l).join("\n") + "\n";
}

/** Splice that removes a pair's lines (its key line through its value's last line and trailing comment). */
function removal(text: string, pair: Pair<Node, Node | null>): Splice {
  const start = lineStart(text, rangeOf(pair.key)[0]);
  const end = lineEnd(text, pair.value ? rangeOf(pair.value)[2] : rangeOf(pair.key)[2]);
  return { start, end, text: "" };
}

/** Splice that appends pairs after the last item of a block map. */
function appending(text: string, map: YAMLMap, lines: string): Splice {
  const first = map.items[0] as Pair<Node, Node | null>;
  const last = map.items[map.items.length - 1] as Pair<Node, Node | null>;
  const keyStart = rangeOf(first.key)[0];
  const indent = keyStart - lineStart(text, keyStart);
  const at = lineEnd(text, last.value ? rangeOf(last.value)[2] : rangeOf(last.key)[2]);
  const pad = " ".repeat(indent);
  const body = lines.split("\n").filter((l) => l !== "").map((l) => pad + l).join("\n") + "\n";
  return { start: at, end: at, text: at > 0 && text[at - 1] !== "\n" ? `\n${body}` : body };
}

function mirrorSplices(text: string, doc: Document, edit: MirrorEdit): Splice[] {
  const config = configMap(doc);
  const keep = new Set(edit.keep ?? []);
  const touched = (k: string) => !keep.has(k) && (!edit.only || edit.only.includes(k));
  const wanted = Object.entries(edit.entries).filter(([k]) => touched(k));
  const pair = pairOf(config, edit.key);

  if (!pair) {
    if (wanted.length === 0) return [];
    return [appending(text, config, renderPair(edit.key, Object.fromEntries(wanted.map(([k, v]) => [k, v.value])), 0))];
  }
  if (!isMap(pair.value) || pair.value.flow) throw new Error(`config.${edit.key} is not a block mapping: edit it by hand`);
  const map = pair.value as YAMLMap;

  const splices: Splice[] = [];
  const present = new Map<string, Pair<Node, Node | null>>();
  for (const item of map.items) {
    if (isPair(item) && isScalar(item.key)) present.set(String(item.key.value), item as Pair<Node, Node | null>);
  }
  const remaining = [...present.keys()].filter((k) => !touched(k) || k in edit.entries);
  if (remaining.length === 0 && wanted.length === 0) return [removal(text, pair)];

  for (const [k, item] of present) {
    if (!touched(k)) continue;
    const want = edit.entries[k];
    if (!want) {
      splices.push(removal(text, item));
      continue;
    }
    const current = isScalar(item.value) ? item.value.value : undefined;
    if (current === want.value) continue;
    if (!isScalar(item.value)) throw new Error(`config.${edit.key}.${k} is not a scalar: edit it by hand`);
    const [start, end] = rangeOf(item.value);
    // A changed value keeps the target's quoting; only new entries take the source's text.
    splices.push({ start, end, text: renderScalar(want.value, item.value) });
  }
  const added = wanted.filter(([k]) => !present.has(k));
  if (added.length > 0) {
    const lines = added.map(([k, v]) => `${renderScalar(k)}: ${v.text ?? renderScalar(v.value)}`).join("\n");
    splices.push(appending(text, map, lines));
  }
  return splices;
}

/** Applies mirror edits to a stack file's text; everything outside the edited entries stays byte for byte. */
export function editStackFile(text: string, edits: readonly MirrorEdit[]): string {
  const doc = parseDocument(text);
  if (doc.errors.length > 0) throw new Error(doc.errors[0].message);
  const splices = edits.flatMap((e) => mirrorSplices(text, doc, e)).sort((a, b) => b.start - a.start || b.end - a.end);
  let out = text;
  for (const s of splices) out = out.slice(0, s.start) + s.text + out.slice(s.end);
  return out;
}

/** The scalar entries of the block map at `config.<key>` with their source text, for copying verbatim. */
export function readEntries(text: string, key: string): Record<string, { value: Leaf; text?: string }> {
  const doc = parseDocument(text);
  if (doc.errors.length > 0) throw new Error(doc.errors[0].message);
  const pair = pairOf(configMap(doc), key);
  const out: Record<string, { value: Leaf; text?: string }> = {};
  if (!pair || !isMap(pair.value)) return out;
  for (const item of pair.value.items) {
    if (!isPair(item) || !isScalar(item.key) || !isScalar(item.value)) continue;
    const value = item.value.value;
    if (typeof value !== "string" && typeof value !== "number" && typeof value !== "boolean") continue;
    const [start, end] = rangeOf(item.value);
    const source = text.slice(start, end);
    out[String(item.key.value)] = { value, ...(source.includes("\n") ? {} : { text: source }) };
  }
  return out;
}
