/**
 * Child process of the recovery tests: creates keys until it is killed,
 * after printing READY once okms is open and a first key is made.
 * Usage: create_keys_until_killed.ts <dataDir>
 */
import { Okms } from "../../mod.ts";

const okms = await Okms.open({ dataDir: Deno.args[0], keyQuota: 100_000 });
await okms.createKey();
console.log("READY");
for (;;) await okms.createKey();
