/**
 * Database URLs: okms's `schema` parameter, and how messages show a URL.
 * Free of the PostgreSQL client, so that naming a database loads nothing.
 * @module
 */

/**
 * The URL without okms's own `schema` parameter, and that parameter. The
 * rest goes to the client as it is: libpq's forms that are no WHATWG URL
 * (`postgres://user@/db?host=/run/postgresql`) stay valid.
 */
export function splitUrl(
  url: string,
): { connectionString: string; schema?: string } {
  if (!/^postgres(ql)?:\/\//.test(url)) {
    throw new TypeError("the database URL must start with postgres://");
  }
  const query = url.indexOf("?");
  if (query < 0) return { connectionString: url };
  const params = new URLSearchParams(url.slice(query + 1));
  const schema = params.get("schema") ?? undefined;
  params.delete("schema");
  const rest = params.toString();
  return {
    connectionString: url.slice(0, query) + (rest === "" ? "" : `?${rest}`),
    schema,
  };
}

/**
 * A database URL as messages and banners may show it: host, port, database
 * and schema, never the user's password or other parameters.
 *
 * @example
 * ```ts
 * describeDatabase("postgres://okms:secret@db:5432/kms?schema=prod"); // "PostgreSQL db:5432/kms (schema prod)"
 * ```
 */
export function describeDatabase(url: string): string {
  const { connectionString, schema } = splitUrl(url);
  let where = "(address in the URL's parameters)";
  try {
    const parsed = new URL(connectionString);
    if (parsed.host !== "") where = `${parsed.host}${parsed.pathname}`;
    else where = parsed.pathname.replace(/^\/+/, "") || where;
  } catch {
    // libpq forms that are no WHATWG URL: say only that it is PostgreSQL
  }
  return `PostgreSQL ${where} (schema ${schema ?? "okms"})`;
}
