/**
 * Child process of the persistence tests: beside the owner, encrypts under
 * a key until its version's budget is spent, then prints what it saw.
 * Usage: beside_budget.ts <dataDir> <keyId> <maxEncryptionsPerVersion>
 */
import { Okms } from "../../mod.ts";
import { parseBlob } from "../../lib/ciphertext_blob.ts";

const [dataDir, keyId, max] = Deno.args;
await using okms = await Okms.open({
  dataDir,
  beside: true,
  maxEncryptionsPerVersion: Number(max),
});
const state = (await okms.describeKey({ keyId })).keyState;
const versions: number[] = [];
let stop = "";
for (let i = 0; i < 10 && stop === ""; i++) {
  await okms.encrypt({ keyId, plaintext: new Uint8Array([i]) }).then(
    ({ ciphertextBlob }) => versions.push(parseBlob(ciphertextBlob).keyVersion),
    (e: Error) => stop = e.name,
  );
}
console.log(JSON.stringify({ state, versions, stop }));
