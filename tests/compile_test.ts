import assert from "node:assert/strict";
import denoJson from "../deno.json" with { type: "json" };
import { freePort, waitForPort } from "./_cli.ts";
import { drain, startEcho, within, writeAll } from "./_helpers.ts";

const ROOT = new URL("..", import.meta.url).pathname;
const BINARY = `${ROOT}minginx`;

// `deno compile` downloads a runtime (denort). Where that download is blocked the build cannot
// happen, and the test says so instead of passing.
const build = await new Deno.Command(Deno.execPath(), {
  args: ["task", "compile"],
  cwd: ROOT,
  stdout: "piped",
  stderr: "piped",
  env: { NO_COLOR: "1" },
}).output();
const buildLog = new TextDecoder().decode(build.stderr);
const blocked = !build.success && /denort|dl\.deno\.land/.test(buildLog);
if (blocked) {
  const reason = buildLog.split("\n").find((line) => line.includes("error sending request")) ??
    buildLog;
  console.warn(
    `SKIP compile test: deno compile cannot download its runtime here: ${reason.trim()}`,
  );
}

Deno.test({
  name: "deno task compile builds a minginx binary that runs with --allow-net baked in",
  ignore: blocked,
  async fn() {
    assert.ok(build.success, `deno task compile failed:\n${buildLog}`);
    try {
      const version = await new Deno.Command(BINARY, { args: ["--version"] }).output();
      assert.equal(new TextDecoder().decode(version.stdout), `minginx ${denoJson.version}\n`);

      await using echo = startEcho();
      const port = freePort();
      const proxy = new Deno.Command(BINARY, {
        args: ["-l", `127.0.0.1:${port}`, "-u", `127.0.0.1:${echo.address.port}`],
        stdout: "null",
        stderr: "piped",
      }).spawn();
      try {
        await within(10_000, "the binary to listen", waitForPort(port));
        using conn = await Deno.connect({ hostname: "127.0.0.1", port });
        await writeAll(conn, new Uint8Array(1000));
        await conn.closeWrite();
        assert.equal((await within(5_000, "echo", drain(conn))).bytes, 1000);
      } finally {
        proxy.kill("SIGTERM");
        assert.equal((await proxy.output()).code, 0);
      }
    } finally {
      await Deno.remove(BINARY).catch(() => {});
    }
  },
});
