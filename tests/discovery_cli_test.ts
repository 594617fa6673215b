/**
 * The CLI's discovery flags: malformed sources and resolvers are usage errors that quote the
 * value, and a source the permissions do not cover stops the start naming the entry to add.
 */

import assert from "node:assert/strict";
import { freePort, runCli } from "./_cli.ts";

Deno.test("CLI: a malformed discovery source or --resolver exits 2 and says what would be accepted", async () => {
  const cases: [string[], string][] = [
    [["-u", "srv:web"], 'Cannot parse --upstream "srv:web": expected srv:_SERVICE._PROTO.NAME'],
    [
      ["-u", "dns:web.internal"],
      'Cannot parse --upstream "dns:web.internal": expected dns:HOST:PORT',
    ],
    [
      ["--resolver", "dns.internal:53"],
      'Cannot parse --resolver "dns.internal:53": expected IP:PORT',
    ],
    [["--discovery-interval", "0"], "--discovery-interval"],
  ];
  for (const [args, message] of cases) {
    const { code, stderr } = await runCli(args, "127.0.0.1");
    assert.equal(code, 2, `${args.join(" ")}: ${stderr}`);
    assert.ok(stderr.includes(message), `${args.join(" ")}: ${stderr}`);
  }
});

Deno.test("CLI: a dns: upstream whose --resolver is not in --allow-net exits 2 naming the entry", async () => {
  const listen = `127.0.0.1:${freePort()}`;
  const { code, stderr } = await runCli(
    ["-l", listen, "-u", "dns:web.internal:8080", "--resolver", "127.0.0.1:5353"],
    listen,
  );
  assert.equal(code, 2, stderr);
  assert.match(stderr, /127\.0\.0\.1:5353 \(resolver\)/);
  assert.match(stderr, /--allow-net=.*127\.0\.0\.1:5353/);
});

Deno.test("CLI: a file: upstream that --allow-read does not cover exits 2 naming the file", async () => {
  const listen = `127.0.0.1:${freePort()}`;
  const path = await Deno.makeTempFile({ suffix: ".json" });
  try {
    await Deno.writeTextFile(path, '["127.0.0.1:8080"]');
    const { code, stderr } = await runCli(["-l", listen, "-u", `file:${path}`], listen);
    assert.equal(code, 2, stderr);
    assert.ok(stderr.includes(path), stderr);
  } finally {
    await Deno.remove(path);
  }
});

Deno.test("main.ts check refuses a discovery source in an SNI route, saying where sources go", async () => {
  const path = await Deno.makeTempFile({ suffix: ".jsonc" });
  try {
    await Deno.writeTextFile(
      path,
      JSON.stringify({
        servers: [{
          listen: "127.0.0.1:8081",
          upstreams: ["127.0.0.1:8080"],
          sni: { "a.example": ["dns:a.internal:80"] },
        }],
      }),
    );
    const { code, stderr } = await runCli(["check", "--config", path], undefined, [
      `--allow-read=${path}`,
    ]);
    assert.equal(code, 1, stderr);
    assert.ok(
      stderr.includes(
        `servers[0].sni["a.example"][0]: "dns:a.internal:80" is not valid here: discovery ` +
          `sources (dns:, srv:, file:) go in a server's own "upstreams", not in a route's ` +
          `("sni", "sniFallback" or "routes")`,
      ),
      stderr,
    );
  } finally {
    await Deno.remove(path);
  }
});
