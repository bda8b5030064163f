/**
 * Child process of the persistence tests: dies like a crash (no cleanup)
 * after CreateKey made HSM material and before the metadata was written.
 * Usage: crash_in_create_key.ts <dataDir>
 */
import { Okms } from "../../mod.ts";
import { SqliteStore } from "../../lib/sqlite_store.ts";

const okms = await Okms.open({ dataDir: Deno.args[0] });
SqliteStore.prototype.insertKey = () => {
  console.log("CRASHING");
  Deno.exit(137);
};
await okms.createKey({ description: "never written" });
