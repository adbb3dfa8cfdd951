/**
 * Summarizes a V8 .cpuprofile (from `node --cpu-prof`): top functions by self time and
 * by inclusive time. tsx compiles TypeScript with whitespace minified, so profile
 * positions in .ts files are mapped back to source lines by recompiling the file with
 * the same esbuild options and reading the source map (best effort).
 *   node --import tsx bench/profile-top.ts FILE.cpuprofile [N] [FOCUS_REGEX]
 * With FOCUS_REGEX only samples whose stack has a matching frame are counted.
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { transformSync } from "esbuild";

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
  hitCount: number;
  children?: number[];
}

const B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
/** Generated line -> sorted [generatedColumn, sourceLine] pairs. */
function decodeMappings(mappings: string): Array<Array<[number, number]>> {
  const lines: Array<Array<[number, number]>> = [];
  let srcLine = 0;
  for (const lineStr of mappings.split(";")) {
    const segs: Array<[number, number]> = [];
    let col = 0;
    for (const seg of lineStr.split(",")) {
      if (!seg) continue;
      const vals: number[] = [];
      let shift = 0;
      let value = 0;
      for (const ch of seg) {
        const d = B64.indexOf(ch);
        value += (d & 31) << shift;
        if (d & 32) shift += 5;
        else {
          vals.push(value & 1 ? -(value >> 1) : value >> 1);
          value = 0;
          shift = 0;
        }
      }
      col += vals[0];
      if (vals.length >= 4) {
        srcLine += vals[2];
        segs.push([col, srcLine]);
      }
    }
    lines.push(segs);
  }
  return lines;
}

const maps = new Map<string, Array<Array<[number, number]>> | null>();
function sourceLine(url: string, line: number, column: number): number {
  if (!url.startsWith("file://") || !/\.m?ts$/.test(url)) return line + 1;
  let m = maps.get(url);
  if (m === undefined) {
    try {
      const path = fileURLToPath(url);
      const out = transformSync(readFileSync(path, "utf8"), {
        loader: "ts",
        format: "esm",
        target: `node${process.versions.node}`,
        sourcemap: "external",
        sourcefile: path,
        minifyWhitespace: true,
        keepNames: true,
      });
      m = decodeMappings(JSON.parse(out.map).mappings);
    } catch {
      m = null;
    }
    maps.set(url, m);
  }
  const segs = m?.[line];
  if (!segs?.length) return line + 1;
  let best = segs[0][1];
  for (const [c, l] of segs) {
    if (c > column) break;
    best = l;
  }
  return best + 1;
}

const [file, nArg = "30", focusArg] = process.argv.slice(2);
const focus = focusArg ? new RegExp(focusArg) : undefined;
const prof = JSON.parse(readFileSync(file!, "utf8")) as { nodes: ProfileNode[]; samples: number[]; timeDeltas: number[] };
const byId = new Map(prof.nodes.map((n) => [n.id, n]));
const parent = new Map<number, number>();
for (const n of prof.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
const keyCache = new Map<number, string>();
const key = (n: ProfileNode) => {
  let k = keyCache.get(n.id);
  if (!k) {
    const f = n.callFrame;
    const where = f.url.replace(/^file:\/\/.*?\/work\/main\//, "");
    k = `${f.functionName || "(anonymous)"} ${where}:${sourceLine(f.url, f.lineNumber, f.columnNumber)}`;
    keyCache.set(n.id, k);
  }
  return k;
};
const self = new Map<string, number>();
const incl = new Map<string, number>();
let total = 0;
prof.samples.forEach((id, i) => {
  const dt = prof.timeDeltas[i] ?? 0;
  if (focus) {
    let hit = false;
    for (let cur: number | undefined = id; cur !== undefined && !hit; cur = parent.get(cur)) hit = focus.test(key(byId.get(cur)!));
    if (!hit) return;
  }
  total += dt;
  const k0 = key(byId.get(id)!);
  self.set(k0, (self.get(k0) ?? 0) + dt);
  const seen = new Set<string>();
  for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
    const k = key(byId.get(cur)!);
    if (seen.has(k)) continue;
    seen.add(k);
    incl.set(k, (incl.get(k) ?? 0) + dt);
  }
});
const top = (m: Map<string, number>) =>
  [...m]
    .sort((a, b) => b[1] - a[1])
    .slice(0, Number(nArg))
    .map(([k, v]) => `${(v / 1000).toFixed(0).padStart(7)} ms ${((100 * v) / total).toFixed(1).padStart(5)}%  ${k}`)
    .join("\n");
console.log(`total ${(total / 1000).toFixed(0)} ms\n--- self ---\n${top(self)}\n--- inclusive ---\n${top(incl)}`);
