import assert from "node:assert/strict";
import { accessLog, ConnectionError, forward, type Layer, serve, ServiceBuilder } from "../mod.ts";
import { drain, randomBytes, startEcho, within, writeAll } from "./_helpers.ts";
import { captureLogs, recordsOf } from "./_logs.ts";

Deno.test("accessLog() logs one line per connection with the report's fields", async () => {
  await captureLogs(async (records) => {
    await using echo = startEcho();
    {
      await using proxy = serve({
        listen: "127.0.0.1:0",
        service: new ServiceBuilder().layer(accessLog()).service(
          forward({ upstreams: [echo.address] }),
        ),
      });
      for (const size of [1000, 2000, 3000]) {
        using client = await Deno.connect(proxy.address);
        await Promise.all([
          writeAll(client, randomBytes(size)).then(() => client.closeWrite()),
          within(5_000, "echo", drain(client)),
        ]);
      }
    }
    const lines = recordsOf(records, "minginx.access");
    assert.equal(lines.length, 3);
    lines.forEach((line, i) => {
      const size = 1000 * (i + 1);
      assert.equal(line.level, "info");
      assert.equal(line.properties.reason, "client_closed");
      assert.equal(line.properties.bytesUp, size);
      assert.equal(line.properties.bytesDown, size);
      assert.equal(line.properties.upstream, `127.0.0.1:${echo.address.port}`);
      assert.match(String(line.properties.client), /^127\.0\.0\.1:\d+$/);
      assert.equal(typeof line.properties.durationMs, "number");
      const text = line.message.join("");
      assert.match(
        text,
        new RegExp(`-> 127\\.0\\.0\\.1:\\d+ client_closed up=${size}B down=${size}B \\d+ms$`),
      );
    });
  });
});

Deno.test("accessLog() logs a failed upstream at warning with the error", async () => {
  await captureLogs(async (records) => {
    {
      await using proxy = serve({
        listen: "127.0.0.1:0",
        service: new ServiceBuilder().layer(accessLog()).service(
          forward({ upstreams: ["127.0.0.1:9"] }),
        ),
      });
      using client = await Deno.connect(proxy.address);
      await within(5_000, "close", drain(client));
    }
    const [line] = recordsOf(records, "minginx.access");
    assert.equal(line.level, "warning");
    assert.equal(line.properties.reason, "no_upstream");
    assert.match(line.message.join(""), /no_upstream .*: Cannot connect to 127\.0\.0\.1:9: /);
  });
});

Deno.test("accessLog() turns an error thrown inside into an error-level line and a report", async () => {
  await captureLogs(async (records) => {
    const broken: Layer = () => () => Promise.reject(new RangeError("a bug in a layer"));
    const reasons: string[] = [];
    const outer: Layer = (inner) => async (connection) => {
      const report = await inner(connection);
      reasons.push(report.reason);
      return report;
    };
    {
      await using proxy = serve({
        listen: "127.0.0.1:0",
        service: new ServiceBuilder().layer(outer).layer(accessLog()).layer(broken).service(
          forward({ upstreams: ["127.0.0.1:9"] }),
        ),
      });
      using client = await Deno.connect(proxy.address);
      await within(5_000, "close", drain(client));
    }
    const [line] = recordsOf(records, "minginx.access");
    assert.equal(line.level, "error");
    assert.equal(line.properties.error, "a bug in a layer");
    assert.deepEqual(reasons, ["error"]);
  });
});

Deno.test("accessLog() reports the reason a layer ended the connection with", async () => {
  await captureLogs(async (records) => {
    const shutAll: Layer = () => (connection) =>
      Promise.resolve(connection.end(new ConnectionError("shutdown", "Not today")));
    {
      await using proxy = serve({
        listen: "127.0.0.1:0",
        service: new ServiceBuilder().layer(accessLog({ category: ["minginx", "access"] }))
          .layer(shutAll).service(forward({ upstreams: ["127.0.0.1:9"] })),
      });
      using client = await Deno.connect(proxy.address);
      await within(5_000, "close", drain(client));
    }
    const [line] = recordsOf(records, "minginx.access");
    assert.equal(line.properties.reason, "shutdown");
    assert.equal(line.properties.upstream, null);
  });
});
