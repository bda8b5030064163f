/**
 * Summarises a V8 `.cpuprofile` (as `deno run --cpu-prof` writes): the
 * functions with the most self time and the most total (inclusive) time,
 * in milliseconds and in µs per request when `--requests n` is given.
 *
 * Usage: `deno run --allow-read bench/cpuprofile_top.ts <file.cpuprofile>
 * [--requests n] [--top 30] [--filter text]`
 * @module
 */
import { parseArgs } from "node:util";

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}

interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}

interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

function frameName({ functionName, url, lineNumber }: CallFrame): string {
  const file = url.replace(/^.*\/(node_modules|main|ext|npm)\//, "$1/")
    .replace(/^file:\/\/\/work\/main\//, "");
  return `${functionName || "(anonymous)"} ${file}${
    file ? `:${lineNumber + 1}` : ""
  }`;
}

/** Self and total time (µs) per function name, from a profile. */
export function summarise(
  profile: Profile,
): { self: Map<string, number>; total: Map<string, number>; all: number } {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const node of profile.nodes) {
    for (const child of node.children ?? []) parent.set(child, node.id);
  }
  const selfById = new Map<number, number>();
  let all = 0;
  profile.samples.forEach((id, i) => {
    const dt = profile.timeDeltas[i] ?? 0;
    selfById.set(id, (selfById.get(id) ?? 0) + dt);
    all += dt;
  });
  const self = new Map<string, number>();
  const total = new Map<string, number>();
  for (const [id, us] of selfById) {
    const name = frameName(byId.get(id)!.callFrame);
    self.set(name, (self.get(name) ?? 0) + us);
    const seen = new Set<string>();
    for (
      let at: number | undefined = id;
      at !== undefined;
      at = parent.get(at)
    ) {
      const n = frameName(byId.get(at)!.callFrame);
      if (seen.has(n)) continue; // recursion counts once
      seen.add(n);
      total.set(n, (total.get(n) ?? 0) + us);
    }
  }
  return { self, total, all };
}

if (import.meta.main) {
  const { values, positionals } = parseArgs({
    args: Deno.args,
    options: {
      requests: { type: "string" },
      top: { type: "string", default: "30" },
      filter: { type: "string" },
    },
    allowPositionals: true,
  });
  const profile = JSON.parse(
    await Deno.readTextFile(positionals[0]),
  ) as Profile;
  const { self, total, all } = summarise(profile);
  const requests = Number(values.requests ?? NaN);
  const top = Number(values.top);
  const show = (title: string, map: Map<string, number>) => {
    console.log(`\n${title}`);
    const rows = [...map].filter(([n]) =>
      values.filter === undefined || n.includes(values.filter)
    ).sort((a, b) => b[1] - a[1]).slice(0, top);
    for (const [name, us] of rows) {
      const perRequest = Number.isFinite(requests)
        ? `${(us / requests).toFixed(1).padStart(7)} µs/req  `
        : "";
      console.log(
        `${(us / 1000).toFixed(1).padStart(9)} ms ${
          (us / all * 100).toFixed(1).padStart(5)
        }%  ${perRequest}${name}`,
      );
    }
  };
  console.log(
    `profile: ${
      (all / 1e6).toFixed(2)
    } s sampled, ${profile.samples.length} samples`,
  );
  show("Self time", self);
  show("Total time (inclusive)", total);
}
