/**
 * Restart to first Encrypt with 2,000 keys, in each key material mode:
 * `Okms.open` on a data directory that holds them (the PKCS#11 module is
 * loaded and initialized afresh, so SoftHSM2 reads its token again), then
 * one Encrypt under a key not used since, as a restarted process would.
 * Closing is not timed. Run with `deno task bench`.
 * @module
 */
import type { KeyMaterialMode } from "../lib/metadata_store.ts";
import { Okms } from "../mod.ts";

const KEYS = 2_000;
const MODES: readonly KeyMaterialMode[] = ["wrapped", "token"];
const plaintext = new TextEncoder().encode("first after restart");

/** A data directory with `KEYS` keys (the default key among them). */
async function dataDirWithKeys(
  keyMaterial: KeyMaterialMode,
): Promise<{ dataDir: string; keyIds: string[] }> {
  const dataDir = await Deno.makeTempDir({ prefix: `okms-restart-` });
  await using okms = await Okms.open({
    dataDir,
    keyMaterial,
    keyQuota: KEYS,
    maintenanceIntervalMs: 0,
  });
  const keyIds = [(await okms.defaultKey()).keyId];
  while (keyIds.length < KEYS) keyIds.push((await okms.createKey()).keyId);
  return { dataDir, keyIds };
}

const dirs: string[] = [];
globalThis.addEventListener("unload", () => {
  for (const dir of dirs) Deno.removeSync(dir, { recursive: true });
});

for (const keyMaterial of MODES) {
  const { dataDir, keyIds } = await dataDirWithKeys(keyMaterial);
  dirs.push(dataDir);
  Deno.bench({
    name: `Okms.open + first Encrypt, ${keyMaterial}`,
    group: `restart with ${KEYS} keys`,
    baseline: keyMaterial === "wrapped",
    n: 10,
    warmup: 1,
    async fn(b) {
      const keyId = keyIds[Math.floor(Math.random() * keyIds.length)];
      b.start();
      const okms = await Okms.open({ dataDir, maintenanceIntervalMs: 0 });
      await okms.encrypt({ keyId, plaintext });
      b.end();
      await okms.close();
    },
  });
}
