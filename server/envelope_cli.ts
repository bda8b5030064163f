/**
 * The envelope CLI: `deno task envelope encrypt|decrypt`, AWS Encryption SDK
 * messages from stdin to stdout, streamed in bounded memory, with the keys
 * of an okms server (`--endpoint-url`) or of a local data directory.
 * @module
 */
import { resolveAwsSettings } from "../lib/aws/credentials.ts";
import { type EnvelopeKeyring, okmsKeyring } from "../lib/envelope/keyring.ts";
import { decryptStream, encryptStream } from "../lib/envelope/mod.ts";
import { remoteKeyring } from "../lib/envelope/remote_kms.ts";
import { resolveConfig } from "../lib/config.ts";
import { Okms } from "../mod.ts";
import { ConfigError, OKMS_FLAGS, okmsOptions, parseFlags } from "./config.ts";
import { progressMeter } from "./envelope_progress.ts";

/** Usage text of the envelope CLI. */
const ENVELOPE_USAGE =
  `okms envelope: seal and open AWS Encryption SDK messages, stdin to stdout

deno task envelope encrypt --key-id <id|alias|ARN> [--key-id ...] [--context k=v]...
                           [--frame-length <bytes>] [--signed] < plaintext > message
deno task envelope decrypt [--context k=v]... [--key-id <ARN>]... < message > plaintext

  --key-id <key>        encrypt: the CMKs, any one of which can decrypt (the first
                        makes the data key); decrypt: the only key ARNs allowed
  --context k=v         encrypt: the encryption context; decrypt: a pair the
                        message's context must hold
  --frame-length <n>    plaintext bytes per frame (4096)
  --signed              the ECDSA P-384 signed algorithm suite
  --endpoint-url <url>  an okms server or AWS KMS; credentials and region as the
                        AWS CLI finds them (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY,
                        AWS_SESSION_TOKEN, AWS_PROFILE, AWS_SHARED_CREDENTIALS_FILE,
                        AWS_REGION, AWS_DEFAULT_REGION, ~/.aws/credentials, ~/.aws/config)
  --region <name>       the region (else as above; the data directory's own)
  --data-dir <dir>      without --endpoint-url: the okms data directory (OKMS_DATA_DIR,
                        .okms), used beside its running server, or alone
  (and the data directory flags of deno task serve: --pin-file, --pkcs11-*, ...)

Exit codes: 0 done; 1 failed (one line on stderr; the output is incomplete and
must be discarded); 2 bad command line. With stderr on a terminal, a progress
line shows every second.
`;

/** The AWS format's largest frame: its length is a 4-byte field. */
const MAX_FRAME_LENGTH = 2 ** 32 - 1;
/** Encrypted data keys a message may carry (one per CMK it was sealed under). */
const MAX_ENCRYPTED_DATA_KEYS = 16;

const ENVELOPE_FLAGS = {
  ...OKMS_FLAGS,
  "endpoint-url": { type: "string" },
  "key-id": { type: "string", multiple: true },
  context: { type: "string", multiple: true },
  "frame-length": { type: "string" },
  signed: { type: "boolean" },
  help: { type: "boolean", short: "h" },
} as const;

/** What to do, from the command line. */
interface Command {
  operation: "encrypt" | "decrypt";
  keyIds: string[];
  encryptionContext: Record<string, string>;
  frameLength?: number;
  signed: boolean;
  values: Record<string, unknown>;
}

function contextOf(pairs: string[]): Record<string, string> {
  // No prototype: `constructor` or `__proto__` are keys like any other.
  const context: Record<string, string> = Object.create(null);
  for (const pair of pairs) {
    const eq = pair.indexOf("=");
    if (eq <= 0) throw new ConfigError(`--context ${pair} must be key=value`);
    const key = pair.slice(0, eq);
    if (Object.hasOwn(context, key)) {
      throw new ConfigError(`--context ${key} given twice`);
    }
    context[key] = pair.slice(eq + 1);
  }
  return context;
}

/**
 * Parses the command line; `"help"` for `--help`.
 *
 * @throws {ConfigError} on a bad command line.
 */
function parseEnvelopeArgs(args: string[]): Command | "help" {
  const { values, positionals } = parseFlags(args, ENVELOPE_FLAGS);
  if (values.help) return "help";
  const [operation, ...rest] = positionals;
  if (operation !== "encrypt" && operation !== "decrypt") {
    throw new ConfigError(
      operation === undefined
        ? "encrypt or decrypt?"
        : `unknown command ${operation}`,
    );
  }
  if (rest.length > 0) throw new ConfigError(`unexpected argument ${rest[0]}`);
  const keyIds = (values["key-id"] ?? []) as unknown as string[];
  if (operation === "encrypt" && keyIds.length === 0) {
    throw new ConfigError("encrypt needs --key-id");
  }
  const frame = values["frame-length"] as string | undefined;
  if (
    frame !== undefined &&
    (!/^[1-9]\d*$/.test(frame) || Number(frame) > MAX_FRAME_LENGTH)
  ) {
    throw new ConfigError(
      `--frame-length must be a whole number from 1 to ${MAX_FRAME_LENGTH}`,
    );
  }
  if (operation === "decrypt" && (frame !== undefined || values.signed)) {
    throw new ConfigError(
      "--frame-length and --signed are for encrypt: the message says them",
    );
  }
  return {
    operation,
    keyIds,
    encryptionContext: contextOf((values.context ?? []) as unknown as string[]),
    ...(frame === undefined ? {} : { frameLength: Number(frame) }),
    signed: values.signed === true,
    values,
  };
}

/**
 * Opens okms on the data directory: beside the server that owns it (or
 * with a cluster's database), else as its owner. A directory without a
 * database is refused: a typo must not make a new KMS.
 */
async function openLocal(values: Record<string, unknown>): Promise<Okms> {
  const options = okmsOptions(values as Record<string, string | undefined>);
  const config = resolveConfig(options);
  if (config.databaseUrl === undefined) {
    const found = await Deno.stat(`${config.dataDir}/okms.db`).then(
      () => true,
      () => false,
    );
    if (!found) {
      throw new Error(
        `no okms data directory at ${config.dataDir}: start the server on it first, or give --data-dir or --endpoint-url`,
      );
    }
    try {
      return await Okms.open(options);
    } catch (error) {
      if (!/in use by another process/.test((error as Error).message)) {
        throw error;
      }
    }
  }
  return await Okms.open({ ...options, beside: true });
}

async function keyringOf(
  values: Record<string, unknown>,
): Promise<{ keyring: EnvelopeKeyring } & AsyncDisposable> {
  const endpoint = values["endpoint-url"] as string | undefined;
  if (endpoint !== undefined) {
    const settings = await resolveAwsSettings(
      undefined,
      values.region as string | undefined,
    );
    return {
      keyring: remoteKeyring({ endpoint, ...settings }),
      [Symbol.asyncDispose]: () => Promise.resolve(),
    };
  }
  const okms = await openLocal(values);
  return {
    keyring: okmsKeyring(okms),
    [Symbol.asyncDispose]: () => okms[Symbol.asyncDispose](),
  };
}

/** Runs one command from `input` to `output`, a progress line on a terminal. */
async function runEnvelope(
  command: Command,
  input: ReadableStream<Uint8Array>,
  output: WritableStream<Uint8Array>,
): Promise<void> {
  await using opened = await keyringOf(command.values);
  const { keyring } = opened;
  const transform = command.operation === "encrypt"
    ? encryptStream(keyring, {
      keyIds: command.keyIds,
      encryptionContext: command.encryptionContext,
      frameLength: command.frameLength,
      signed: command.signed,
    })
    : decryptStream(keyring, {
      encryptionContext: command.encryptionContext,
      // A forged header must not make one KMS call per data key it lists.
      maxEncryptedDataKeys: MAX_ENCRYPTED_DATA_KEYS,
      ...(command.keyIds.length > 0 ? { allowedKeyIds: command.keyIds } : {}),
    });
  using meter = progressMeter(Deno.stderr);
  await input.pipeThrough(meter.counter).pipeThrough(transform).pipeTo(output);
}

/** One line of an error, with its AWS name when it has one. */
function oneLine(error: unknown): string {
  const e = error instanceof Error ? error : new Error(String(error));
  const named = e.name === "Error" ? "" : `${e.name}: `;
  return `${named}${e.message}`.replace(/\s*\n\s*/g, " ");
}

if (import.meta.main) {
  let command: Command | "help";
  try {
    command = parseEnvelopeArgs(Deno.args);
  } catch (error) {
    console.error(
      `okms envelope: ${(error as Error).message}\n\n${ENVELOPE_USAGE}`,
    );
    Deno.exit(2);
  }
  if (command === "help") {
    console.log(ENVELOPE_USAGE);
    Deno.exit(0);
  }
  try {
    await runEnvelope(command, Deno.stdin.readable, Deno.stdout.writable);
  } catch (error) {
    const discard = command.operation === "decrypt"
      ? " (the plaintext written so far is incomplete or unauthenticated: discard it)"
      : " (the output is incomplete: discard it)";
    console.error(`okms envelope: ${oneLine(error)}${discard}`);
    Deno.exit(error instanceof ConfigError ? 2 : 1);
  }
}
