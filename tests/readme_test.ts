/**
 * The README's library example, run as a user would: copied out of the
 * README into a script of its own, twice on one data directory (the second
 * run must find the key the first one made).
 */
import assert from "node:assert/strict";

const README = new URL("../README.md", import.meta.url);
const MOD = new URL("../mod.ts", import.meta.url).href;

/** The first TypeScript block under `## The library`. */
async function libraryExample(): Promise<string> {
  const text = await Deno.readTextFile(README);
  const section = text.slice(text.indexOf("\n## The library\n"));
  const match = /```ts\n([\s\S]*?)```/.exec(section);
  assert.ok(match, "the README has a library example");
  return match[1].replace('from "./mod.ts"', `from "${MOD}"`);
}

Deno.test("the README's library example runs, and runs again", async () => {
  const dir = await Deno.makeTempDir({ prefix: "okms-readme-" });
  try {
    const script = `${dir}/app.ts`;
    await Deno.writeTextFile(script, await libraryExample());
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
      }).output();
      const stderr = new TextDecoder().decode(out.stderr);
      assert.equal(out.code, 0, `${run} run: ${stderr}`);
      assert.equal(
        new TextDecoder().decode(out.stdout).trim(),
        "card 4242 card 4242",
        `${run} run`,
      );
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
