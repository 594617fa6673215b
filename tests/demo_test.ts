import assert from "node:assert/strict";
import { type Address, serve } from "../mod.ts";
import { serveUserApi } from "../examples/user_api.ts";
import { waitForPort } from "./_cli.ts";
import { delay, readToEnd, within, writeAll } from "./_helpers.ts";

const ROOT = new URL("..", import.meta.url).pathname;

/** One HTTP/1.1 request with `Connection: close`, over a plain TCP connection. */
async function http(
  address: Address,
  method: string,
  body?: string,
): Promise<{ status: number; headers: string; json: unknown }> {
  using conn = await Deno.connect(address);
  const payload = body === undefined ? "" : body;
  await writeAll(
    conn,
    new TextEncoder().encode(
      `${method} / HTTP/1.1\r\nHost: demo\r\nConnection: close\r\n` +
        `Content-Type: application/json\r\nContent-Length: ${payload.length}\r\n\r\n${payload}`,
    ),
  );
  const text = new TextDecoder().decode(await within(5_000, `${method} /`, readToEnd(conn)));
  const [head, rest] = text.split("\r\n\r\n");
  return { status: Number(head.split(" ")[1]), headers: head, json: JSON.parse(rest) };
}

async function withDemo(run: (proxy: Address) => Promise<void>): Promise<void> {
  const stop = new AbortController();
  const api = serveUserApi({ port: 0, signal: stop.signal });
  try {
    await using proxy = serve({ listen: "127.0.0.1:0", upstreams: [api.addr] });
    await run(proxy.address);
  } finally {
    stop.abort();
    await api.finished;
  }
}

Deno.test("demo upstream answers GET and PATCH through the proxy", async () => {
  await withDemo(async (proxy) => {
    const get = await http(proxy, "GET");
    assert.equal(get.status, 200);
    assert.match(get.headers, /content-type: application\/json/i);
    assert.deepEqual(get.json, { name: "Alice", age: 30, skills: ["Rust", "Python"] });

    const patched = await http(proxy, "PATCH", '{"age":31,"skills":["Rust","Python","Deno"]}');
    assert.equal(patched.status, 200);
    assert.deepEqual(patched.json, { name: "Alice", age: 31, skills: ["Rust", "Python", "Deno"] });

    const ageOnly = await http(proxy, "PATCH", '{"age":255}');
    assert.deepEqual(ageOnly.json, { name: "Alice", age: 255, skills: ["Rust", "Python", "Deno"] });
    assert.deepEqual((await http(proxy, "GET")).json, ageOnly.json);
  });
});

Deno.test("demo upstream answers bad PATCH bodies with 400 and a JSON error", async () => {
  await withDemo(async (proxy) => {
    const cases: [string, string][] = [
      ['{"age":', "Malformed JSON: "],
      ["[1,2]", 'Expected a JSON object such as {"age": 31}'],
      ['{"age":256}', 'Field "age" must be a whole number from 0 to 255, got 256'],
      ['{"age":-1}', 'Field "age" must be a whole number from 0 to 255, got -1'],
      ['{"age":"30"}', 'Field "age" must be a whole number from 0 to 255, got "30"'],
      ['{"age":30.5}', 'Field "age" must be a whole number from 0 to 255, got 30.5'],
      ['{"skills":"Rust"}', 'Field "skills" must be an array of strings, got "Rust"'],
      ['{"skills":[1]}', 'Field "skills" must be an array of strings, got [1]'],
      ['{"name":"Bob"}', 'Unknown field "name": expected "age" or "skills"'],
    ];
    for (const [body, error] of cases) {
      const response = await http(proxy, "PATCH", body);
      assert.equal(response.status, 400, body);
      assert.ok(String((response.json as { error: string }).error).startsWith(error), body);
    }
    // Nothing was changed by the rejected bodies.
    assert.deepEqual((await http(proxy, "GET")).json, {
      name: "Alice",
      age: 30,
      skills: ["Rust", "Python"],
    });
    const deleted = await http(proxy, "DELETE");
    assert.equal(deleted.status, 405);
    assert.match(deleted.headers, /allow: GET, PATCH/i);
  });
});

// The demo is tried as a new user would: `deno task demo`, then curl.
const hasCurl = await new Deno.Command("curl", { args: ["--version"], stdout: "null" }).output()
  .then((output) => output.success, () => false);
if (!hasCurl) {
  console.warn("SKIP deno task demo test: curl is not installed (apt-get install curl)");
}

Deno.test({
  name: "deno task demo serves curl GET and PATCH on 127.0.0.1:8081, and stops on SIGINT",
  ignore: !hasCurl,
  fn: demoWithCurl,
});

async function demoWithCurl(): Promise<void> {
  for (const port of [8080, 8081]) {
    try {
      Deno.listen({ hostname: "127.0.0.1", port }).close();
    } catch {
      throw new Error(`Port ${port} is taken: the demo needs 127.0.0.1:8080 and :8081 free`);
    }
  }
  const demo = new Deno.Command(Deno.execPath(), {
    args: ["task", "demo"],
    cwd: ROOT,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).spawn();
  const errors = new Response(demo.stderr).text();
  let printed = "";
  const output = (async () => {
    for await (const chunk of demo.stdout.pipeThrough(new TextDecoderStream())) printed += chunk;
  })();
  try {
    // The banner comes after the proxy listens and right before it handles SIGINT: a signal sent
    // earlier would end the process the default way.
    await within(
      30_000,
      "the demo's banner",
      (async () => {
        while (!printed.includes("Press Ctrl-C to stop.")) await delay(20);
      })(),
    );
    await within(5_000, "the demo to listen", waitForPort(8081));
    const run = async (args: string[]) => {
      const out = await new Deno.Command("curl", { args: ["-sS", ...args] }).output();
      assert.ok(out.success, new TextDecoder().decode(out.stderr));
      return JSON.parse(new TextDecoder().decode(out.stdout));
    };
    assert.deepEqual(await run(["http://127.0.0.1:8081/"]), {
      name: "Alice",
      age: 30,
      skills: ["Rust", "Python"],
    });
    assert.deepEqual(
      await run([
        "-X",
        "PATCH",
        "-H",
        "content-type: application/json",
        "-d",
        '{"age":31,"skills":["Rust","Python","Deno"]}',
        "http://127.0.0.1:8081/",
      ]),
      { name: "Alice", age: 31, skills: ["Rust", "Python", "Deno"] },
    );
  } finally {
    demo.kill("SIGINT");
  }
  const { code } = await within(15_000, "the demo to stop", demo.status);
  await output;
  const stderr = await errors;
  assert.equal(code, 0, stderr);
  assert.match(printed, /curl http:\/\/127\.0\.0\.1:8081\//);
  assert.match(stderr, /client_closed/);
}
