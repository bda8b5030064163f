/**
 * Child process of the domain-key tests: rotates the domain key and creates
 * keys until it is killed, after printing READY once a first rotation is
 * done. Its clock runs a thousand times fast, so each rotation also retires
 * (destroys) the domain keys before it, and kills land there too.
 * Usage: rotate_domain_keys_until_killed.ts <dataDir>
 */
import { Okms } from "../../mod.ts";

const start = Date.now();
const okms = await Okms.open({
  dataDir: Deno.args[0],
  keyMaterial: "wrapped",
  keyQuota: 100_000,
  maintenanceIntervalMs: 0,
  now: () => start + (Date.now() - start) * 1000,
});
await okms.rotateDomainKey();
console.log("READY");
for (;;) {
  await okms.createKey();
  await okms.rotateDomainKey();
}
