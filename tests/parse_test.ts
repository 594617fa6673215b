import assert from "node:assert/strict";
import {
  clientKey,
  formatAddress,
  formatDuration,
  parseAddress,
  parseCidr,
  parseDuration,
  parseIp,
} from "../mod.ts";

Deno.test("parseAddress() reads IPv4, IPv6 in brackets and hostnames", () => {
  assert.deepEqual(parseAddress("10.0.0.1:80"), { hostname: "10.0.0.1", port: 80 });
  assert.deepEqual(parseAddress("[::1]:8081"), { hostname: "::1", port: 8081 });
  assert.deepEqual(parseAddress("[2001:db8::7]:443"), { hostname: "2001:db8::7", port: 443 });
  assert.deepEqual(parseAddress("localhost:8080"), { hostname: "localhost", port: 8080 });
  assert.deepEqual(parseAddress("api-1.internal.example:65535"), {
    hostname: "api-1.internal.example",
    port: 65535,
  });
  assert.deepEqual(parseAddress("0.0.0.0:0", { allowPortZero: true }), {
    hostname: "0.0.0.0",
    port: 0,
  });
});

Deno.test("parseAddress() names the value and the expected form", () => {
  const cases: [string, string][] = [
    ["10.0.0:80", 'Cannot parse --upstream "10.0.0:80": expected HOST:PORT'],
    ["256.1.1.1:80", 'Cannot parse --upstream "256.1.1.1:80": expected HOST:PORT'],
    ["example.com", 'Cannot parse --upstream "example.com": expected HOST:PORT'],
    [
      "example.com:http",
      'Cannot parse --upstream "example.com:http": expected HOST:PORT with PORT from 1 to 65535',
    ],
    [
      "example.com:0",
      'Cannot parse --upstream "example.com:0": expected HOST:PORT with PORT from 1 to 65535',
    ],
    [
      "example.com:65536",
      'Cannot parse --upstream "example.com:65536": expected HOST:PORT with PORT from 1 to 65535',
    ],
    [
      "::1:8080",
      'Cannot parse --upstream "::1:8080": expected HOST:PORT, with an IPv6 address in brackets as in [::1]:8080',
    ],
    ["[::1]8080", 'Cannot parse --upstream "[::1]8080": expected HOST:PORT, as in [::1]:8080'],
    [
      "[::g]:80",
      'Cannot parse --upstream "[::g]:80": expected HOST:PORT with a valid IPv6 address in the brackets',
    ],
    [":80", 'Cannot parse --upstream ":80": expected HOST:PORT'],
    ["bad_host!:80", 'Cannot parse --upstream "bad_host!:80": expected HOST:PORT'],
    ["-leading.example:80", 'Cannot parse --upstream "-leading.example:80": expected HOST:PORT'],
  ];
  for (const [text, message] of cases) {
    assert.throws(() => parseAddress(text, { label: "--upstream" }), {
      name: "TypeError",
      message,
    });
  }
});

Deno.test("formatAddress() brackets IPv6 and round-trips with parseAddress()", () => {
  for (const text of ["127.0.0.1:8080", "[::1]:8081", "example.com:443", "[fe80::1]:1"]) {
    assert.equal(formatAddress(parseAddress(text)), text);
  }
});

Deno.test("parseDuration() reads ms, s, m, h and combinations", () => {
  assert.equal(parseDuration("0"), 0);
  assert.equal(parseDuration("250ms"), 250);
  assert.equal(parseDuration("5s"), 5_000);
  assert.equal(parseDuration("1.5s"), 1_500);
  assert.equal(parseDuration("10m"), 600_000);
  assert.equal(parseDuration("2h"), 7_200_000);
  assert.equal(parseDuration("1h30m15s"), 5_415_000);
  assert.equal(parseDuration("596h"), 2_145_600_000);
});

Deno.test("parseDuration() names the value and the expected form", () => {
  for (const text of ["10", "5 s", "5sec", "-1s", "", "1d", "s", "1.s", "0s5"]) {
    assert.throws(() => parseDuration(text, "--idle-timeout"), {
      name: "TypeError",
      message:
        `Cannot parse --idle-timeout "${text}": expected a duration such as 500ms, 5s, 10m or 1h`,
    });
  }
  assert.throws(() => parseDuration("597h", "--idle-timeout"), {
    message: 'Cannot parse --idle-timeout "597h": expected a duration of at most 596h',
  });
});

Deno.test("formatDuration() uses the largest unit that fits exactly", () => {
  assert.equal(formatDuration(0), "0");
  assert.equal(formatDuration(999), "999ms");
  assert.equal(formatDuration(5_000), "5s");
  assert.equal(formatDuration(90_000), "90s");
  assert.equal(formatDuration(600_000), "10m");
  assert.equal(formatDuration(3_600_000), "1h");
});

Deno.test("parseIp() and clientKey() leave out the zone of a link-local IPv6 address", () => {
  assert.deepEqual(parseIp("fe80::1%eth0"), parseIp("fe80::1"));
  assert.equal(clientKey("FE80::1%eth0"), "fe80::1");
  assert.equal(parseCidr("fe80::/10").contains("fe80::1%eth0"), true);
  assert.equal(parseCidr("all").contains("/run/minginx.sock"), true);
  assert.equal(parseCidr("0.0.0.0/0").contains("/run/minginx.sock"), false);
});
