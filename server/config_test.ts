import assert from "node:assert/strict";
import { ConfigError, serverConfig } from "./config.ts";

const noEnv = () => undefined;

Deno.test("serverConfig: defaults", () => {
  assert.deepEqual(serverConfig([], noEnv), {
    host: "127.0.0.1",
    port: 8080,
    okms: { dataDir: undefined, region: undefined },
    clockSkewSeconds: 300,
    auditLog: undefined,
    maxInFlight: 256,
    accountRateLimit: undefined,
    reusePort: false,
  });
  assert.equal(serverConfig(["-h"], noEnv), "help");
});

Deno.test("serverConfig: flags win over OKMS_* variables", () => {
  const env: Record<string, string> = {
    OKMS_HOST: "0.0.0.0",
    OKMS_PORT: "9000",
    OKMS_CLOCK_SKEW_SECONDS: "60",
    OKMS_AUDIT_LOG: "/var/log/okms.jsonl",
    OKMS_TLS_CERT: "c.pem",
    OKMS_TLS_KEY: "k.pem",
  };
  const fromEnv = serverConfig([], (n) => env[n]);
  assert.equal(fromEnv === "help" ? 0 : fromEnv.port, 9000);
  assert.deepEqual(fromEnv === "help" ? 0 : fromEnv.tls, {
    certFile: "c.pem",
    keyFile: "k.pem",
  });
  const config = serverConfig([
    "--port",
    "0",
    "--host",
    "::1",
    "--data-dir",
    "/srv/okms",
    "--region",
    "us-east-1",
    "--pkcs11-token-label",
    "prod",
    "--pkcs11-pin-file",
    "/run/pin",
    "--clock-skew-seconds",
    "30",
  ], (n) => env[n]);
  assert.ok(config !== "help");
  assert.equal(config.port, 0);
  assert.equal(config.host, "::1");
  assert.equal(config.clockSkewSeconds, 30);
  assert.equal(config.auditLog, "/var/log/okms.jsonl");
  assert.deepEqual(config.okms, {
    dataDir: "/srv/okms",
    region: "us-east-1",
    pkcs11: { module: undefined, tokenLabel: "prod", pinFile: "/run/pin" },
  });
});

Deno.test("serverConfig: bad values are ConfigErrors", () => {
  for (
    const args of [
      ["--port", "70000"],
      ["--port", "80a"],
      ["--clock-skew-seconds", "0"],
      ["--tls-cert", "c.pem"],
      ["--nope"],
      ["stray"],
      ["--max-in-flight", "0"],
      ["--account-rate-limit", "-5"],
      ["--account-rate-limit", "fast"],
      ["--metrics-port", "99999"],
      ["--metrics-host", "0.0.0.0"],
      ["--key-quota", "1.5"],
      ["--key-material", "paper"],
      ["--reuse-port"],
      ["--change-poll-ms", "0.5"],
    ]
  ) {
    assert.throws(() => serverConfig(args, noEnv), ConfigError, args.join(" "));
  }
});

Deno.test("serverConfig: a cluster node's flags", () => {
  const config = serverConfig([
    "--database-url",
    "postgres://okms@db/okms",
    "--change-poll-ms",
    "100",
    "--reuse-port",
  ], noEnv);
  assert.ok(config !== "help");
  assert.equal(config.reusePort, true);
  assert.equal(config.okms.databaseUrl, "postgres://okms@db/okms");
  assert.equal(config.okms.changePollMs, 100);
  const viaEnv = serverConfig([], (name) =>
    ({
      OKMS_REUSE_PORT: "1",
      OKMS_DATABASE_URL: "postgres://okms@db/okms",
    } as Record<string, string>)[name]);
  assert.equal(viaEnv === "help" ? false : viaEnv.reusePort, true);
});

Deno.test("serverConfig: plain HTTP beyond loopback needs --insecure-http", () => {
  for (const host of ["0.0.0.0", "10.1.2.3", "::", "kms.example"]) {
    assert.throws(
      () => serverConfig(["--host", host], noEnv),
      (e: unknown) =>
        e instanceof ConfigError && /refusing plain HTTP/.test(e.message),
    );
    const insecure = serverConfig(["--host", host, "--insecure-http"], noEnv);
    assert.equal(insecure === "help" ? "" : insecure.host, host);
    const viaEnv = serverConfig(
      ["--host", host],
      (n) => n === "OKMS_INSECURE_HTTP" ? "1" : undefined,
    );
    assert.equal(viaEnv === "help" ? "" : viaEnv.host, host);
    const tls = serverConfig([
      "--host",
      host,
      "--tls-cert",
      "c.pem",
      "--tls-key",
      "k.pem",
    ], noEnv);
    assert.equal(tls === "help" ? "" : tls.host, host);
  }
  for (const host of ["127.0.0.1", "127.8.9.10", "::1", "localhost"]) {
    const config = serverConfig(["--host", host], noEnv);
    assert.equal(config === "help" ? "" : config.host, host);
  }
});

Deno.test("serverConfig: overload and metrics settings", () => {
  const env: Record<string, string> = {
    OKMS_MAX_IN_FLIGHT: "32",
    OKMS_ACCOUNT_RATE_LIMIT: "100",
    OKMS_METRICS_PORT: "9464",
  };
  const config = serverConfig([], (n) => env[n]);
  assert.ok(config !== "help");
  assert.equal(config.maxInFlight, 32);
  assert.equal(config.accountRateLimit, 100);
  assert.deepEqual(config.metrics, { host: "127.0.0.1", port: 9464 });
  const flags = serverConfig([
    "--max-in-flight",
    "8",
    "--account-rate-limit",
    "5",
    "--metrics-host",
    "::1",
    "--metrics-port",
    "0",
    "--key-quota",
    "50",
    "--key-material",
    "token",
  ], (n) => env[n]);
  assert.ok(flags !== "help");
  assert.equal(flags.maxInFlight, 8);
  assert.equal(flags.accountRateLimit, 5);
  assert.deepEqual(flags.metrics, { host: "::1", port: 0 });
  assert.equal(flags.okms.keyQuota, 50);
  assert.equal(flags.okms.keyMaterial, "token");
});
