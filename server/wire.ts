/**
 * The AWS JSON 1.1 wire format: parsing a request body within limits,
 * decoding its PascalCase members into the library's camelCase input
 * (blobs from base64), and encoding results back (blobs to base64, dates to
 * epoch seconds).
 * @module
 */
import { ValidationException } from "../mod.ts";
import { SerializationException } from "./errors.ts";

/** Deepest nesting of objects and arrays a request body may have. */
export const MAX_JSON_DEPTH = 16;

/** Reads one member's JSON value; `member` names it in errors. */
export type Decoder<T> = (value: unknown, member: string) => T;

/** A member of a structure: its decoder and whether it must be present. */
export interface Field<T, Required extends boolean> {
  readonly decode: Decoder<T>;
  readonly required: Required;
}

type AnyField = Field<unknown, boolean>;
type Camel<K> = K extends string ? Uncapitalize<K> : never;
type ValueOf<F> = F extends Field<infer T, boolean> ? T : never;

/** The camelCase object a structure of PascalCase fields decodes to. */
export type Structure<F extends Record<string, AnyField>> =
  & {
    [K in keyof F as F[K] extends Field<unknown, true> ? Camel<K> : never]:
      ValueOf<F[K]>;
  }
  & {
    [K in keyof F as F[K] extends Field<unknown, true> ? never : Camel<K>]?:
      ValueOf<F[K]>;
  };

const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false });

function typeName(value: unknown): string {
  if (value === null) return "null";
  return Array.isArray(value) ? "array" : typeof value;
}

function wrongType(member: string, expected: string, value: unknown): never {
  throw new SerializationException(
    `${member} must be ${expected}, not ${typeName(value)}`,
  );
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function checkDepth(text: string): void {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) {
      inString = true;
    } else if (c === 0x7b || c === 0x5b) {
      if (++depth > MAX_JSON_DEPTH) {
        throw new SerializationException(
          `the request body nests deeper than ${MAX_JSON_DEPTH} levels`,
        );
      }
    } else if (c === 0x7d || c === 0x5d) {
      depth--;
    }
  }
}

/**
 * The JSON object of a request body; an empty body is `{}`.
 *
 * @throws {SerializationException} when the body is not UTF-8, not JSON,
 * nests too deep, or is not an object.
 * @example
 * ```ts
 * parseRequestBody(new TextEncoder().encode('{"KeyId":"alias/x"}')); // { KeyId: "alias/x" }
 * ```
 */
export function parseRequestBody(body: Uint8Array): Record<string, unknown> {
  if (body.byteLength === 0) return {};
  let text: string;
  try {
    text = utf8.decode(body);
  } catch {
    throw new SerializationException("the request body is not valid UTF-8");
  }
  checkDepth(text);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new SerializationException("the request body is not valid JSON");
  }
  if (!isObject(value)) wrongType("the request body", "a JSON object", value);
  return value;
}

/** A member that must be present (JSON `null` counts as absent). */
export function required<T>(decode: Decoder<T>): Field<T, true> {
  return { decode, required: true };
}

/** A member that may be absent. */
export function optional<T>(decode: Decoder<T>): Field<T, false> {
  return { decode, required: false };
}

/** A JSON string. */
export const string: Decoder<string> = (value, member) =>
  typeof value === "string" ? value : wrongType(member, "a string", value);

/** A JSON number that is an integer. */
export const integer: Decoder<number> = (value, member) =>
  Number.isInteger(value)
    ? value as number
    : wrongType(member, "an integer", value);

/** A blob: standard base64 in a JSON string. */
export const blob: Decoder<Uint8Array<ArrayBuffer>> = (value, member) => {
  try {
    return Uint8Array.fromBase64(string(value, member));
  } catch (error) {
    if (error instanceof SerializationException) throw error;
    throw new SerializationException(`${member} is not valid base64`);
  }
};

/** A map of strings to strings (an encryption context). */
export const stringMap: Decoder<Record<string, string>> = (value, member) => {
  if (!isObject(value)) return wrongType(member, "a map of strings", value);
  for (const [key, entry] of Object.entries(value)) {
    string(entry, `${member}.${key}`);
  }
  return value as Record<string, string>;
};

/**
 * A string from a fixed set; another string is a ValidationException, as
 * AWS answers a value outside an enum.
 */
export function oneOf<const T extends string>(
  ...allowed: T[]
): Decoder<T> {
  return (value, member) => {
    const text = string(value, member);
    if (!(allowed as string[]).includes(text)) {
      throw new ValidationException(
        `${member} must be one of ${allowed.join(", ")}`,
      );
    }
    return text as T;
  };
}

/** A JSON array whose items all decode with `item`. */
export function list<T>(item: Decoder<T>): Decoder<T[]> {
  return (value, member) =>
    Array.isArray(value)
      ? value.map((entry, i) => item(entry, `${member}[${i}]`))
      : wrongType(member, "a list", value);
}

/**
 * A JSON object with PascalCase members, decoded into a camelCase object.
 * Members not listed are ignored, as AWS does.
 *
 * @example
 * ```ts
 * const input = structure({ KeyId: required(string), Limit: optional(integer) });
 * input({ KeyId: "alias/x" }, "input"); // { keyId: "alias/x" }
 * ```
 */
export function structure<F extends Record<string, AnyField>>(
  fields: F,
): Decoder<Structure<F>> {
  const entries = Object.entries(fields).map(([name, field]) =>
    [name, name[0].toLowerCase() + name.slice(1), field] as const
  );
  return (value, member) => {
    if (!isObject(value)) return wrongType(member, "a structure", value);
    const out: Record<string, unknown> = {};
    for (const [name, camel, field] of entries) {
      const raw = value[name];
      if (raw === undefined || raw === null) {
        if (field.required) {
          throw new ValidationException(
            `1 validation error detected: Value null at '${camel}' failed to satisfy constraint: Member must not be null`,
          );
        }
      } else {
        out[camel] = field.decode(raw, name);
      }
    }
    return out as Structure<F>;
  };
}

/** camelCase library names whose AWS name is not plain PascalCase. */
const WIRE_NAMES: Readonly<Record<string, string>> = {
  awsAccountId: "AWSAccountId",
};

function wireName(name: string): string {
  return WIRE_NAMES[name] ?? name[0].toUpperCase() + name.slice(1);
}

/**
 * A library result as AWS JSON: members renamed to PascalCase, `Uint8Array`
 * as base64, `Date` as epoch seconds, `undefined` members left out.
 *
 * @example
 * ```ts
 * toWire({ keyId: "k", creationDate: new Date(1500) }); // { KeyId: "k", CreationDate: 1.5 }
 * ```
 */
export function toWire(value: unknown): unknown {
  if (value instanceof Uint8Array) return value.toBase64();
  if (value instanceof Date) return value.getTime() / 1000;
  if (Array.isArray(value)) return value.map(toWire);
  if (isObject(value)) {
    const out: Record<string, unknown> = {};
    for (const [name, member] of Object.entries(value)) {
      if (member !== undefined) out[wireName(name)] = toWire(member);
    }
    return out;
  }
  return value;
}
