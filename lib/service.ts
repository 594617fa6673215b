/**
 * The tower model in TypeScript: a {@linkcode Service} handles a request, a {@linkcode Layer}
 * wraps a service, and a {@linkcode ServiceBuilder} stacks layers in reading order.
 *
 * @module
 */

import type { Connection } from "./connection.ts";
import type { ConnectionReport } from "./report.ts";

/**
 * Something that turns a request into a promised response. In minginx the request is an accepted
 * {@linkcode Connection} and the response its {@linkcode ConnectionReport}, the default types.
 *
 * @typeParam Req The request type.
 * @typeParam Res The response type.
 *
 * @example A service is an async function
 * ```ts
 * import type { Service } from "@minginx/minginx";
 * import assert from "node:assert/strict";
 *
 * const length: Service<string, number> = (request) => Promise.resolve(request.length);
 * assert.equal(await length("hello"), 5);
 * ```
 */
export type Service<Req = Connection, Res = ConnectionReport> = (request: Req) => Promise<Res>;

/**
 * Wraps an inner service and returns the outer one: middleware. A layer may look at the request
 * before passing it in, act on the response on the way out, or answer without calling the inner
 * service at all.
 *
 * @typeParam Req The request type the outer service takes.
 * @typeParam Res The response type the outer service returns.
 * @typeParam InnerReq The request type the inner service takes.
 * @typeParam InnerRes The response type the inner service returns.
 *
 * @example A layer that changes the response on the way out
 * ```ts
 * import type { Layer, Service } from "@minginx/minginx";
 * import assert from "node:assert/strict";
 *
 * const shout: Layer<string, string> = (inner) => async (request) =>
 *   (await inner(request)).toUpperCase();
 * const echo: Service<string, string> = (request) => Promise.resolve(request);
 * assert.equal(await shout(echo)("hi"), "HI");
 * ```
 */
export type Layer<Req = Connection, Res = ConnectionReport, InnerReq = Req, InnerRes = Res> = (
  inner: Service<InnerReq, InnerRes>,
) => Service<Req, Res>;

/**
 * Stacks layers around a service. The first layer added is the outermost: it sees the request
 * first and the response last, so a stack reads top to bottom in the order a request travels.
 * A builder is immutable: {@linkcode ServiceBuilder.prototype.layer} returns a new one.
 * Its types default to minginx's: a {@linkcode Connection} in, a {@linkcode ConnectionReport} out.
 *
 * @typeParam Req The request type of the finished service.
 * @typeParam Res The response type of the finished service.
 * @typeParam InnerReq The request type the next layer (or the inner service) must take.
 * @typeParam InnerRes The response type the next layer (or the inner service) must return.
 *
 * @example Layers run in the order they are added
 * ```ts
 * import { type Layer, ServiceBuilder } from "@minginx/minginx";
 * import assert from "node:assert/strict";
 *
 * const seen: string[] = [];
 * const tag = (name: string): Layer<string, string> => (inner) => async (request) => {
 *   seen.push(name);
 *   return `${name}(${await inner(request)})`;
 * };
 * const service = new ServiceBuilder<string, string>()
 *   .layer(tag("logger"))
 *   .layer(tag("timeout"))
 *   .service((request) => Promise.resolve(request.toUpperCase()));
 *
 * assert.equal(await service("hi"), "logger(timeout(HI))");
 * assert.deepEqual(seen, ["logger", "timeout"]);
 * ```
 */
export class ServiceBuilder<
  Req = Connection,
  Res = ConnectionReport,
  InnerReq = Req,
  InnerRes = Res,
> {
  #layers: readonly AnyLayer[] = [];

  /**
   * Adds a layer inside the ones added before it.
   *
   * @param layer The layer to add.
   * @returns A new builder with the layer at the bottom of the stack.
   */
  layer<NextReq = InnerReq, NextRes = InnerRes>(
    layer: Layer<InnerReq, InnerRes, NextReq, NextRes>,
  ): ServiceBuilder<Req, Res, NextReq, NextRes> {
    const next = new ServiceBuilder<Req, Res, NextReq, NextRes>();
    next.#layers = [...this.#layers, layer as AnyLayer];
    return next;
  }

  /**
   * Wraps the inner service in every layer, the last added innermost.
   *
   * @param inner The service at the bottom of the stack.
   * @returns The finished service.
   */
  service(inner: Service<InnerReq, InnerRes>): Service<Req, Res> {
    let service = inner as Service<unknown, unknown>;
    for (let i = this.#layers.length - 1; i >= 0; i--) service = this.#layers[i](service);
    return service as Service<Req, Res>;
  }
}

type AnyLayer = Layer<unknown, unknown, unknown, unknown>;
