/**
 * Child process of the persistence tests: opens okms beside the owner of a
 * data directory and creates an account, printing its ids as JSON.
 * Usage: create_account_beside.ts <dataDir>
 */
import { Okms } from "../../mod.ts";

await using okms = await Okms.open({ dataDir: Deno.args[0], beside: true });
const account = await okms.createAccount();
const defaultKeyId = (await account.defaultKey()).keyId;
// Changing an existing key beside the owner is refused.
const refused = await account.disableKey({ keyId: defaultKeyId }).then(
  () => "allowed",
  (e: Error) => e.name,
);
console.log(
  JSON.stringify({ accountId: account.accountId, defaultKeyId, refused }),
);
