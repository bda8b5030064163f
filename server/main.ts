/**
 * The okms server: `deno task serve [flags]`. Stops gracefully on SIGINT or
 * SIGTERM: in-flight requests finish, then okms closes its PKCS#11 session.
 * @module
 */
import { ConfigError, SERVER_USAGE, serverConfig } from "./config.ts";
import { startServer } from "./serve.ts";

async function main(): Promise<number> {
  let config;
  try {
    config = serverConfig(Deno.args);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    console.error(`okms: ${error.message}\n\n${SERVER_USAGE}`);
    return 2;
  }
  if (config === "help") {
    console.log(SERVER_USAGE);
    return 0;
  }
  // Listening before the server starts: a signal that comes as soon as the
  // banner is out must stop it gracefully, not kill it.
  const stop = Promise.withResolvers<void>();
  let stopping = false;
  const onSignal = () => {
    if (stopping) Deno.exit(130); // a second signal: stop now
    stopping = true;
    stop.resolve();
  };
  const signals = ["SIGINT", "SIGTERM"] as const;
  for (const signal of signals) Deno.addSignalListener(signal, onSignal);
  let server;
  try {
    server = await startServer(config);
  } catch (error) {
    // Start-up problems (port taken, data directory in use, no HSM) are the
    // operator's to fix: say what, without a stack trace.
    console.error(`okms: ${(error as Error).message}`);
    return 1;
  }
  await stop.promise;
  console.error("okms: finishing in-flight requests, then closing");
  await server.shutdown();
  for (const signal of signals) Deno.removeSignalListener(signal, onSignal);
  console.error("okms: stopped");
  return 0;
}

if (import.meta.main) Deno.exit(await main());
