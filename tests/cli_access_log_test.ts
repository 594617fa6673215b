/** --access-log FILE: one line a connection in the file, reopened on SIGUSR2 after a rotation. */

import assert from "node:assert/strict";
import { CliProcess, freePort, runCli } from "./_cli.ts";
import { readToEnd, startEcho, until, writeAll } from "./_helpers.ts";

async function echoOnce(port: number, text: string): Promise<void> {
  using conn = await Deno.connect({ hostname: "127.0.0.1", port });
  await writeAll(conn, new TextEncoder().encode(text));
  await conn.closeWrite();
  assert.equal(new TextDecoder().decode(await readToEnd(conn)), text);
}

function linesOf(path: string): Record<string, unknown>[] {
  let text = "";
  try {
    text = Deno.readTextFileSync(path);
  } catch {
    return [];
  }
  return text.split("\n").filter(Boolean).map((line) => JSON.parse(line));
}

Deno.test("--access-log writes a JSON line a connection to the file, and SIGUSR2 starts a new one after a move", async () => {
  const dir = await Deno.makeTempDir({ prefix: "minginx-access-" });
  try {
    const path = `${dir}/access.log`;
    await using echo = startEcho();
    const port = freePort();
    const upstream = `127.0.0.1:${echo.address.port}`;
    await using proxy = new CliProcess(
      ["-l", `127.0.0.1:${port}`, "-u", upstream, "--log-format", "json", "--access-log", path],
      `127.0.0.1:${port},${upstream}`,
      [`--allow-write=${dir}`, `--allow-read=${dir}`],
    );
    await proxy.waitFor(/listening on/);
    await echoOnce(port, "first");
    await until(5_000, "the first line", () => linesOf(path).length === 1);
    const [line] = linesOf(path);
    assert.equal(line.logger, "minginx.access");
    const fields = line.properties as Record<string, unknown>;
    assert.equal(fields.reason, "client_closed");
    assert.equal(fields.listener, `127.0.0.1:${port}`);
    assert.equal(fields.upstream, upstream);
    assert.equal(fields.bytesUp, 5);
    assert.equal(fields.closedFirst, "client");
    assert.equal(fields.connectAttempts, 1);
    assert.ok(!proxy.lines.some((text) => text.includes("minginx.access")), "not on stderr too");

    await Deno.rename(path, `${path}.1`); // a rotator moves the file away
    proxy.child.kill("SIGUSR2");
    await proxy.waitFor(/Reopened the access log/);
    await echoOnce(port, "second");
    await until(5_000, "a line in the new file", () => linesOf(path).length === 1);
    assert.equal(linesOf(`${path}.1`).length, 1);
    assert.equal((linesOf(path)[0].properties as { bytesUp: number }).bytesUp, 6);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("--access-log without write permission names --allow-write, exit 2", async () => {
  const port = freePort();
  const { code, stderr } = await runCli(
    ["-l", `127.0.0.1:${port}`, "-u", "127.0.0.1:9", "--access-log", "/tmp/minginx-denied.log"],
    `127.0.0.1:${port},127.0.0.1:9`,
  );
  assert.equal(code, 2);
  assert.equal(
    stderr,
    "Missing write permission for the access log /tmp/minginx-denied.log: run with " +
      "--allow-write=/tmp/minginx-denied.log\n",
  );
});
