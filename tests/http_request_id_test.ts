import assert from "node:assert/strict";
import { ServiceBuilder } from "../mod.ts";
import { requestId, requestInfo, serviceFn } from "../http.ts";
import { rawRequest, requestFrom, serveHttp } from "./_http.ts";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

/** A service that answers with the id and the client the inner service saw. */
function echoId() {
  const seen: Request[] = [];
  const service = new ServiceBuilder<Request, Response>().layer(requestId()).service(
    serviceFn((request) => {
      seen.push(request);
      const id = request.headers.get("x-request-id");
      return new Response(`${id} from ${requestInfo(request).client.hostname}`);
    }),
  );
  return { service, seen };
}

Deno.test("requestId() keeps a usable incoming id, for the inner service and the client", async () => {
  const { service } = echoId();
  await using server = serveHttp(service);
  const longest = "x".repeat(200);
  for (const id of ["abc-123", "~!#$%&'*+.^_`|", longest]) {
    const response = await fetch(`${server.url}/`, { headers: { "x-request-id": id } });
    assert.equal(response.headers.get("x-request-id"), id);
    // The inner service saw it, on a copy that kept the request's info (its client).
    assert.equal(await response.text(), `${id} from 127.0.0.1`);
  }
});

Deno.test("requestId() replaces a missing, empty, too long or non-ASCII id with a new UUID", async () => {
  const { service } = echoId();
  await using server = serveHttp(service);
  const ids = new Set<string>();
  for (const sent of [undefined, "", "x".repeat(201), "has space", "caf\u00e9", "a\tb"]) {
    const headers: Record<string, string> = sent === undefined ? {} : { "x-request-id": sent };
    const response = await rawRequest(server.port, "/", headers);
    const id = response.headers.get("x-request-id")!;
    assert.match(id, UUID, `for ${JSON.stringify(sent)}`);
    assert.equal(new TextDecoder().decode(response.body), `${id} from 127.0.0.1`);
    ids.add(id);
  }
  assert.equal(ids.size, 6);
});

Deno.test("requestId() sets the id in place on a request whose headers can change", async () => {
  const { service, seen } = echoId();
  const request = requestFrom("10.0.0.1", "http://localhost/", { method: "POST", body: "data" });
  const response = await service(request);
  assert.equal(seen[0], request);
  assert.match(request.headers.get("x-request-id")!, UUID);
  assert.equal(await response.text(), `${request.headers.get("x-request-id")} from 10.0.0.1`);
  assert.equal(await seen[0].text(), "data");
});

Deno.test("requestId() copies a request whose headers cannot change, body and info included", async () => {
  let seen: Request | undefined;
  const service = requestId({ header: "x-correlation-id", generate: () => "id-1" })(
    async (request) => {
      seen = request;
      return new Response(await request.text());
    },
  );
  await using server = serveHttp(service);
  const response = await fetch(`${server.url}/upload`, { method: "PUT", body: "the body" });
  assert.equal(response.headers.get("x-correlation-id"), "id-1");
  assert.equal(await response.text(), "the body");
  assert.equal(seen?.method, "PUT");
  assert.equal(seen?.headers.get("x-correlation-id"), "id-1");
  assert.equal(requestInfo(seen!).client.hostname, "127.0.0.1");
});

Deno.test("requestId() sets the id on a response whose headers are immutable", async () => {
  const service = requestId()(() => Promise.resolve(Response.redirect("http://example.com/", 302)));
  const request = new Request("http://localhost/", { headers: { "x-request-id": "r-1" } });
  const response = await service(request);
  assert.equal(response.status, 302);
  assert.equal(response.headers.get("location"), "http://example.com/");
  assert.equal(response.headers.get("x-request-id"), "r-1");
});

Deno.test("requestId() rejects a header that is not a header name", () => {
  for (const header of ["", "x request id", "x-id:"]) {
    assert.throws(() => requestId({ header }), {
      name: "TypeError",
      message: `Cannot use request id header "${header}": expected a header name`,
    });
  }
});
