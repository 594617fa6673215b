import assert from "node:assert/strict";
import { forward, serve } from "../mod.ts";
import {
  drain,
  randomBytes,
  readToEnd,
  recordedProxy,
  sendStream,
  sha256,
  startEcho,
  startServer,
  within,
  writeAll,
} from "./_helpers.ts";

const MiB = 1024 * 1024;

Deno.test("forward() carries 64 MiB each way at once through one connection, sha256 equal", async () => {
  await using echo = startEcho();
  await using recorded = recordedProxy([echo.address]);
  const { proxy, record } = recorded;
  using client = await Deno.connect(proxy.address);
  const [sent, received] = await within(
    60_000,
    "64 MiB echo",
    Promise.all([
      sendStream(client, 64 * MiB, 7).then(async (hash) => {
        await client.closeWrite();
        return hash;
      }),
      drain(client),
    ]),
  );
  assert.equal(received.bytes, 64 * MiB);
  assert.equal(received.sha256, sent);
  const report = await record.next();
  assert.equal(report.bytesUp, 64 * MiB);
  assert.equal(report.bytesDown, 64 * MiB);
  assert.equal(report.reason, "client_closed");
});

Deno.test("forward() keeps half-close: a client that shuts down writing still gets the whole reply", async () => {
  await using echo = startEcho();
  await using proxy = serve({
    listen: "127.0.0.1:0",
    service: forward({ upstreams: [echo.address] }),
  });
  using client = await Deno.connect(proxy.address);
  const request = randomBytes(MiB, 11);
  // Write everything and shut down before reading a byte: the echo must still flow back.
  const writing = writeAll(client, request).then(() => client.closeWrite());
  const reply = await within(10_000, "echo after half-close", readToEnd(client));
  await writing;
  assert.equal(reply.length, MiB);
  assert.equal(sha256(reply), sha256(request));
});

Deno.test("forward() keeps half-close: after the upstream shuts down, the client can still send", async () => {
  const greeting = randomBytes(256 * 1024, 3);
  const upload = randomBytes(3 * MiB, 5);
  const uploaded = Promise.withResolvers<{ bytes: number; sha256: string }>();
  await using upstream = startServer(async (conn) => {
    await writeAll(conn, greeting);
    await conn.closeWrite(); // the upstream is done talking first
    uploaded.resolve(await drain(conn));
  });
  await using recorded = recordedProxy([upstream.address]);
  const { proxy, record } = recorded;
  using client = await Deno.connect(proxy.address);
  const received = await within(10_000, "greeting", readToEnd(client));
  assert.equal(sha256(received), sha256(greeting));
  await writeAll(client, upload);
  await client.closeWrite();
  const atUpstream = await within(10_000, "upload after upstream half-close", uploaded.promise);
  assert.equal(atUpstream.bytes, upload.length);
  assert.equal(atUpstream.sha256, sha256(upload));
  const report = await record.next();
  assert.equal(report.reason, "upstream_closed");
  assert.equal(report.bytesUp, upload.length);
  assert.equal(report.bytesDown, greeting.length);
});

Deno.test("forward() serves 500 concurrent connections, each echoing its own bytes", async () => {
  await using echo = startEcho();
  await using recorded = recordedProxy([echo.address]);
  const { proxy, record } = recorded;
  const clients = await Promise.all(
    Array.from({ length: 500 }, () => Deno.connect(proxy.address)),
  );
  try {
    await within(
      30_000,
      "500 echoes",
      Promise.all(clients.map(async (client, i) => {
        const payload = randomBytes(16 * 1024 + i, 1000 + i);
        const [, reply] = await Promise.all([
          writeAll(client, payload).then(() => client.closeWrite()),
          drain(client),
        ]);
        assert.equal(reply.bytes, payload.length, `connection ${i} length`);
        assert.equal(reply.sha256, sha256(payload), `connection ${i} bytes`);
      })),
    );
  } finally {
    for (const client of clients) client.close();
  }
  while (record.reports.length < 500) await record.next();
  assert.ok(record.reports.every((report) => report.reason === "client_closed"));
});

Deno.test("forward() cycles through upstreams in order, moves past a refused one and ejects it", async () => {
  const names = ["a", "b", "c"];
  const upstreams = names.map((name) =>
    startServer(async (conn) => {
      await writeAll(conn, new TextEncoder().encode(name));
      await conn.closeWrite();
      await drain(conn);
    })
  );
  const down = startServer(() => Promise.resolve());
  const downAddress = down.address;
  await down.close(); // nothing listens there now: connects are refused
  await using recorded = recordedProxy([
    upstreams[0].address,
    downAddress,
    upstreams[1].address,
    upstreams[2].address,
  ]);
  const { proxy, record } = recorded;
  try {
    const seen: string[] = [];
    for (let i = 0; i < 8; i++) {
      using client = await Deno.connect(proxy.address);
      const reply = await within(5_000, "reply", readToEnd(client));
      seen.push(new TextDecoder().decode(reply));
      await client.closeWrite();
      await record.next();
    }
    // The refused upstream's turn falls through to the next in the list, and that one failure
    // ejects it (nginx's max_fails=1): the cycle goes on over the other three.
    assert.deepEqual(seen, ["a", "b", "a", "b", "c", "a", "b", "c"]);
  } finally {
    await Promise.all(upstreams.map((upstream) => upstream.close()));
  }
});
