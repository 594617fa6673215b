import assert from "node:assert/strict";
import { type Layer, type Service, ServiceBuilder } from "../mod.ts";

/** A mock inner service that records every request it receives. */
function mockService(): { service: Service<string[], string>; calls: string[][] } {
  const calls: string[][] = [];
  return {
    calls,
    service: (request) => {
      calls.push([...request]);
      request.push("inner");
      return Promise.resolve(request.join(" > "));
    },
  };
}

/** A layer that notes its name on the way in and wraps the response on the way out. */
const named = (name: string): Layer<string[], string> => (inner) => async (request) => {
  request.push(name);
  return `${name}(${await inner(request)})`;
};

Deno.test("ServiceBuilder.service() puts the first layer added outermost", async () => {
  const mock = mockService();
  const service = new ServiceBuilder<string[], string>()
    .layer(named("logger"))
    .layer(named("timeout"))
    .service(mock.service);
  const response = await service([]);
  // The request passes logger, then timeout, then reaches the inner service...
  assert.deepEqual(mock.calls, [["logger", "timeout"]]);
  // ...and the response comes back through timeout, then logger.
  assert.equal(response, "logger(timeout(logger > timeout > inner))");
});

Deno.test("ServiceBuilder.layer() returns a new builder and leaves the original alone", async () => {
  const mock = mockService();
  const base = new ServiceBuilder<string[], string>().layer(named("a"));
  const longer = base.layer(named("b"));
  assert.notEqual(base, longer);
  assert.equal(await base.service(mock.service)([]), "a(a > inner)");
  assert.equal(await longer.service(mock.service)([]), "a(b(a > b > inner))");
});

Deno.test("ServiceBuilder with no layers returns the inner service itself", () => {
  const mock = mockService();
  assert.equal(new ServiceBuilder<string[], string>().service(mock.service), mock.service);
});

Deno.test("ServiceBuilder lets a layer answer without calling the inner service", async () => {
  const mock = mockService();
  const refuse: Layer<string[], string> = () => () => Promise.resolve("refused");
  const service = new ServiceBuilder<string[], string>()
    .layer(named("logger"))
    .layer(refuse)
    .service(mock.service);
  assert.equal(await service([]), "logger(refused)");
  assert.deepEqual(mock.calls, []);
});

Deno.test("ServiceBuilder stacks layers that change the request type", async () => {
  const parse: Layer<string, number, number, number> = (inner) => (text) => inner(Number(text));
  const double: Service<number, number> = (n) => Promise.resolve(n * 2);
  const service = new ServiceBuilder<string, number>().layer(parse).service(double);
  assert.equal(await service("21"), 42);
});
