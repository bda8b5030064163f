/**
 * The data directory as the user meets it: errors that name the path and
 * say what to do, and the owner's PID kept beside its lock.
 */
import assert from "node:assert/strict";
import { Okms } from "../mod.ts";
import { runChild } from "./helpers.ts";

Deno.test("a data directory okms cannot use is named, with what to do", async () => {
  const parent = await Deno.makeTempDir({ prefix: "okms-bad-" });
  try {
    await Deno.writeTextFile(`${parent}/file`, "not a directory");
    await assert.rejects(
      Okms.open({ dataDir: `${parent}/file/okms` }),
      new RegExp(
        `cannot use the okms data directory ${parent}/file/okms \\(Not a directory .*\\): a part of that path is a file, not a directory`,
      ),
    );
    await assert.rejects(
      Okms.open({ dataDir: `${parent}/file` }),
      new RegExp(
        `the okms data directory ${parent}/file is a file, not a directory: give another path with --data-dir \\(OKMS_DATA_DIR\\)`,
      ),
    );
    // A file of the directory that is not what it should be.
    await Deno.mkdir(`${parent}/data`);
    await Deno.mkdir(`${parent}/data/okms.db`);
    await assert.rejects(
      Okms.open({ dataDir: `${parent}/data` }),
      new RegExp(`cannot use ${parent}/data/okms.db \\(.*\\): `),
    );
  } finally {
    await Deno.remove(parent, { recursive: true });
  }
});

Deno.test("the owner keeps its PID in okms.pid, which names it to a second process", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "okms-pid-" });
  try {
    {
      await using okms = await Okms.open({ dataDir });
      assert.equal(okms.pidFile, `${dataDir}/okms.pid`);
      assert.equal(await Deno.readTextFile(okms.pidFile!), `${Deno.pid}\n`);
      await using beside = await Okms.open({ dataDir, beside: true });
      assert.equal(beside.pidFile, undefined);
      await assert.rejects(
        runChild("use_keys.ts", dataDir, "", "{}"),
        new RegExp(`in use by another process \\(okms, PID ${Deno.pid}\\)`),
      );
    }
    await assert.rejects(
      Deno.stat(`${dataDir}/okms.pid`),
      Deno.errors.NotFound,
    );
    // A crashed owner's file names nobody once the lock is free again.
    await Deno.writeTextFile(`${dataDir}/okms.pid`, "999999\n");
    await using okms = await Okms.open({ dataDir });
    assert.equal(await Deno.readTextFile(okms.pidFile!), `${Deno.pid}\n`);
  } finally {
    await Deno.remove(dataDir, { recursive: true });
  }
});
