/**
 * HTTP mode streams bodies and holds none whole: a 256 MiB upload and a 256 MiB download go
 * through the CLI with their SHA-256 intact, while the proxy's RSS stays under 64 MiB and grows
 * by less than 16 MiB. It is in the chaos suite, which runs with --allow-all, because reading
 * another process's /proc entry needs it.
 */

import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { CliProcess, freePort, waitForPort } from "../_cli.ts";
import { within } from "../_helpers.ts";

const MIB = 1 << 20;
const SIZE = 256 * MIB;
const LIMIT_KB = 64 * 1024;
const GROWTH_KB = 16 * 1024;

/** 256 different 1 MiB chunks: a random block with the chunk's index in its first 4 bytes. */
function chunks(): { stream: () => ReadableStream<Uint8Array>; sha256: string } {
  const block = new Uint8Array(MIB);
  crypto.getRandomValues(block.subarray(0, 65_536));
  for (let i = 65_536; i < MIB; i += 65_536) block.copyWithin(i, 0, 65_536);
  const chunk = (i: number) => {
    const copy = block.slice();
    new DataView(copy.buffer).setUint32(0, i);
    return copy;
  };
  const hash = createHash("sha256");
  for (let i = 0; i < SIZE / MIB; i++) hash.update(chunk(i));
  return {
    sha256: hash.digest("hex"),
    stream: () => {
      let i = 0;
      return new ReadableStream({
        pull(controller) {
          if (i === SIZE / MIB) return controller.close();
          controller.enqueue(chunk(i++));
        },
      });
    },
  };
}

/** The bytes and SHA-256 of a stream, read to its end. */
async function digest(stream: ReadableStream<Uint8Array>): Promise<[number, string]> {
  const hash = createHash("sha256");
  let bytes = 0;
  for await (const chunk of stream) {
    hash.update(chunk);
    bytes += chunk.byteLength;
  }
  return [bytes, hash.digest("hex")];
}

/** A process's resident memory now, in kB: in all, and its own (anonymous, not file-backed). */
function rssKb(pid: number): { total: number; anon: number } {
  const status = Deno.readTextFileSync(`/proc/${pid}/status`);
  const field = (name: string) =>
    Number(new RegExp(`^${name}:\\s+(\\d+) kB$`, "m").exec(status)![1]);
  return { total: field("VmRSS"), anon: field("RssAnon") };
}

/**
 * Samples a process's resident memory every 10 ms until disposed, keeping the highest. (Its
 * VmHWM would count the start-up too, when modules are compiled, which no body affects.)
 */
function watchRss(pid: number): { peak: { total: number; anon: number } } & Disposable {
  const watch = { peak: rssKb(pid) };
  const sample = () => {
    const now = rssKb(pid);
    watch.peak = {
      total: Math.max(watch.peak.total, now.total),
      anon: Math.max(watch.peak.anon, now.anon),
    };
  };
  const timer = setInterval(sample, 10);
  return Object.assign(watch, {
    [Symbol.dispose]: () => {
      clearInterval(timer);
      sample();
    },
  });
}

Deno.test("CLI --mode http streams a 256 MiB upload and download intact, its RSS under 64 MiB", async () => {
  const data = chunks();
  const upstream = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    async (request) => {
      if (request.method === "POST") {
        const [bytes, sha256] = await digest(request.body!);
        return Response.json({ bytes, sha256 });
      }
      return new Response(data.stream(), {
        headers: { "content-length": String(SIZE), "content-type": "application/octet-stream" },
      });
    },
  );
  await using _ = { [Symbol.asyncDispose]: () => upstream.shutdown() };
  const target = `127.0.0.1:${upstream.addr.port}`;
  const port = freePort();
  await using proxy = new CliProcess(
    ["--mode", "http", "-l", `127.0.0.1:${port}`, "-u", target, "--log-level", "warning"],
    `127.0.0.1:${port},${target}`,
  );
  await within(10_000, "the proxy to listen", waitForPort(port));
  const idle = rssKb(proxy.child.pid);
  const rss = watchRss(proxy.child.pid);
  using client = Deno.createHttpClient({ http2: false });
  const uploaded = await within(
    120_000,
    "the upload",
    fetch(`http://127.0.0.1:${port}/upload`, {
      method: "POST",
      body: data.stream(),
      client,
      headers: { "content-type": "application/octet-stream" },
    }).then((response) => response.json()),
  );
  assert.deepEqual(uploaded, { bytes: SIZE, sha256: data.sha256 });
  const response = await fetch(`http://127.0.0.1:${port}/download`, { client });
  assert.equal(response.status, 200);
  assert.deepEqual(await within(120_000, "the download", digest(response.body!)), [
    SIZE,
    data.sha256,
  ]);
  rss[Symbol.dispose]();
  const { peak } = rss;
  const figures = `peak ${peak.total} kB in all, ${peak.anon} kB its own; ` +
    `${idle.total} kB and ${idle.anon} kB once listening`;
  // The whole RSS stays under 64 MiB, and 512 MiB of bodies move it by less than 16 MiB: none
  // is held whole. Most of it is the Deno binary's code (file-backed pages shared with every
  // Deno process); the proxy's own memory (heap, buffers, stacks) is the smaller part.
  assert.ok(peak.total < LIMIT_KB, `The proxy's RSS went over ${LIMIT_KB} kB: ${figures}`);
  assert.ok(
    peak.total - idle.total < GROWTH_KB,
    `The proxy grew by ${GROWTH_KB} kB or more: ${figures}`,
  );
  console.log(`RSS of the proxy: ${figures}`);
});
