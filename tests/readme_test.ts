/**
 * The README's library examples, run as a user would: each copied out of
 * the README into a script of its own, twice on one data directory (the
 * second run must find the keys the first one made).
 */
import assert from "node:assert/strict";

const README = new URL("../README.md", import.meta.url);
const MOD = new URL("../mod.ts", import.meta.url).href;

/** The first TypeScript block under `heading`. */
async function example(heading: string): Promise<string> {
  const text = await Deno.readTextFile(README);
  const at = text.indexOf(`\n${heading}\n`);
  assert.ok(at >= 0, `the README has ${heading}`);
  const match = /```ts\n([\s\S]*?)```/.exec(text.slice(at));
  assert.ok(match, `the README has an example under ${heading}`);
  return match[1].replace('from "./mod.ts"', `from "${MOD}"`);
}

for (
  const [heading, printed] of [
    ["## The library", "card 4242 card 4242"],
    ["### Signing, MAC and key-agreement keys", "true true true"],
    [
      "### Envelope messages: files and streams of any size",
      "a small file a big file",
    ],
  ]
) {
  Deno.test(`the README's example under "${heading}" runs, and runs again`, async () => {
    const dir = await Deno.makeTempDir({ prefix: "okms-readme-" });
    try {
      const script = `${dir}/app.ts`;
      await Deno.writeTextFile(script, await example(heading));
      for (const run of ["first", "second"]) {
        const out = await new Deno.Command(Deno.execPath(), {
          args: [
            "run",
            "--allow-ffi",
            "--allow-env",
            "--allow-read",
            "--allow-write",
            script,
          ],
          cwd: dir,
          // As a reader runs them: with the defaults, whatever mode the
          // suite runs in (asymmetric keys need wrapped material).
          env: { OKMS_KEY_MATERIAL: "" },
        }).output();
        const stderr = new TextDecoder().decode(out.stderr);
        assert.equal(out.code, 0, `${run} run: ${stderr}`);
        assert.equal(
          new TextDecoder().decode(out.stdout).trim(),
          printed,
          `${run} run`,
        );
      }
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  });
}
