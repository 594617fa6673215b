/**
 * Turns the options of one fault into what a connection that draws it gets: the hooks for its
 * direction, in the order they act, and a reset-after time. Checks the options on the way.
 *
 * @module
 */

import type { Direction, SinkHook } from "../../sink_hook.ts";
import { checkMs, checkWhole } from "../../_util.ts";
import type { FaultOptions } from "../faults.ts";
import { bandwidth } from "./bandwidth.ts";
import { blackhole } from "./blackhole.ts";
import { latency } from "./latency.ts";
import { resetAfterBytes } from "./reset.ts";
import { slicer } from "./slicer.ts";

/** A fault checked and ready: what a connection that draws it gets. */
export interface Plan {
  /** The chance, from 0 to 1, that a connection gets the fault. */
  probability: number;
  /** The direction the hooks go on. */
  way: Direction;
  /** The hooks, the one nearest the pipe first: reset after bytes, latency, slicing, bandwidth. */
  hooks: SinkHook[];
  /** Milliseconds after the upstream connects to reset the connection, if ever. */
  resetAfter: number | undefined;
}

const FAULT_FIELDS = [
  "latency",
  "jitter",
  "bandwidth",
  "slice",
  "resetAfterBytes",
  "resetAfter",
  "blackhole",
] as const;

/**
 * Checks one fault's options and builds what a connection that draws it gets.
 *
 * @param options The fault.
 * @param fault Makes the error a reset ends a connection with, from its message.
 * @returns The fault, ready to apply.
 * @throws {TypeError} If the direction is unknown, the fault has nothing to inject, or
 * `sliceDelay` comes without `slice`.
 * @throws {RangeError} If a number is out of range, named with its field and value.
 */
export function planOf(options: FaultOptions, fault: (message: string) => Error): Plan {
  const { direction } = options;
  if (direction !== "upstream" && direction !== "downstream") {
    throw new TypeError(
      `Cannot use fault direction "${direction}": expected upstream or downstream`,
    );
  }
  if (options.sliceDelay !== undefined && options.slice === undefined) {
    throw new TypeError(
      `Cannot use fault sliceDelay ${options.sliceDelay} without slice: expected slice as well`,
    );
  }
  if (!FAULT_FIELDS.some((field) => options[field] !== undefined && options[field] !== false)) {
    throw new TypeError(
      `Cannot use ${direction} fault with nothing to inject: expected one of ${
        FAULT_FIELDS.join(", ")
      }`,
    );
  }
  const probability = options.probability ?? 1;
  if (typeof probability !== "number" || !(probability >= 0 && probability <= 1)) {
    throw new RangeError(
      `Cannot use fault probability ${probability}: expected a number from 0 to 1`,
    );
  }
  const delay = checkMs(options.latency ?? 0, "fault latency");
  const jitter = checkMs(options.jitter ?? 0, "fault jitter");
  const sliceDelay = checkMs(options.sliceDelay ?? 0, "fault sliceDelay");
  const resetAfter = options.resetAfter === undefined
    ? undefined
    : checkMs(options.resetAfter, "fault resetAfter");
  const limit = options.resetAfterBytes === undefined
    ? undefined
    : checkWhole(options.resetAfterBytes, "fault resetAfterBytes", 0);
  const slice = options.slice === undefined
    ? undefined
    : checkWhole(options.slice, "fault slice", 1);
  const rate = options.bandwidth === undefined
    ? undefined
    : checkWhole(options.bandwidth, "fault bandwidth", 1);
  const way = direction === "upstream" ? "up" : "down";
  const hooks: SinkHook[] = [];
  if (options.blackhole) {
    hooks.push(blackhole()); // nothing passes it, so nothing behind it would act
  } else {
    if (limit !== undefined) {
      const message = `Reset after ${limit} bytes ${direction}, as a fault`;
      hooks.push(resetAfterBytes(limit, () => fault(message)));
    }
    if (delay > 0 || jitter > 0) hooks.push(latency(delay, jitter));
    if (slice !== undefined) hooks.push(slicer(slice, sliceDelay));
    if (rate !== undefined) hooks.push(bandwidth(rate));
  }
  return { probability, way, hooks, resetAfter };
}
