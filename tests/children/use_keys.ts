/**
 * Child process of the persistence tests: opens okms on a data directory,
 * decrypts a blob and prints what it sees as JSON.
 * Usage: use_keys.ts <dataDir> <blob base64> <encryption context JSON>
 */
import { Okms } from "../../mod.ts";

const [dataDir, blob, context] = Deno.args;
await using okms = await Okms.open({ dataDir });
const { plaintext, keyId } = await okms.decrypt({
  ciphertextBlob: Uint8Array.fromBase64(blob),
  encryptionContext: JSON.parse(context),
});
const { keys } = await okms.listKeys();
const fresh = await okms.encrypt({
  keyId,
  plaintext: new TextEncoder().encode("from the child"),
});
console.log(JSON.stringify({
  plaintext: new TextDecoder().decode(plaintext),
  keyId,
  keys: keys.map((k) => k.keyId),
  fresh: fresh.ciphertextBlob.toBase64(),
}));
