/**
 * The floor of the HTTP load benchmark: a bare `Deno.serve` on a loopback
 * port that reads each body and answers 200 with a fixed KMS-shaped JSON
 * body, doing no signature check and no cryptography. What the load client
 * gets from it is the most this runtime and machine give over HTTP.
 *
 * Usage: `deno run --allow-net=127.0.0.1 bench/http_floor_server.ts`;
 * prints `listening on <url>` on stderr, stops on SIGTERM.
 * @module
 */
const answer = JSON.stringify({
  CiphertextBlob: "A".repeat(140),
  KeyId: "arn:aws:kms:eu-west-2:111122223333:key/floor",
  Plaintext: "A".repeat(44),
});
const headers = { "content-type": "application/x-amz-json-1.1" };
const server = Deno.serve(
  { hostname: "127.0.0.1", port: 0, onListen: () => {} },
  async (request) => {
    await request.bytes();
    return new Response(answer, { headers });
  },
);
console.error(`listening on http://127.0.0.1:${server.addr.port}`);
const stop = () => server.shutdown();
Deno.addSignalListener("SIGTERM", stop);
await server.finished;
Deno.removeSignalListener("SIGTERM", stop);
