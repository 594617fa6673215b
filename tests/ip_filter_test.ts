import assert from "node:assert/strict";
import {
  type ConnectionReport,
  DeniedError,
  ipFilter,
  type IpFilterOptions,
  type IpRule,
} from "../mod.ts";
import { fakeConnection, mockService } from "./_mock.ts";
import { allow, assertDenied, deny } from "./_ip_filter.ts";

/**
 * Runs one fake connection per address through the layer over a mock inner service, and returns
 * each report and the addresses that reached the inner service.
 */
async function filter(options: IpFilterOptions, clients: string[]) {
  const inner = mockService();
  const service = ipFilter(options)(inner.service);
  const reports = new Map<string, ConnectionReport>();
  for (const [i, client] of clients.entries()) {
    reports.set(client, await service(fakeConnection(client, i + 1)));
  }
  const reached = inner.calls.map((connection) => connection.clientAddress.hostname);
  return { reports, reached };
}

Deno.test("ipFilter() lets the first matching rule decide when an allow comes before a deny", async () => {
  const rules = [allow("10.1.0.0/16"), deny("10.0.0.0/8")];
  const { reports, reached } = await filter({ rules }, ["10.1.2.3", "10.2.0.1", "10.1.255.255"]);
  assert.deepEqual(reached, ["10.1.2.3", "10.1.255.255"]);
  assertDenied(reports.get("10.2.0.1"), 'Client 10.2.0.1 is denied by "deny 10.0.0.0/8"');
  assert.equal(reports.get("10.1.2.3")?.reason, "client_closed");
});

Deno.test("ipFilter() lets the first matching rule decide when a deny comes before an allow", async () => {
  const rules = [deny("10.1.2.3"), allow("10.0.0.0/8")];
  const { reports, reached } = await filter({ rules }, ["10.1.2.3", "10.1.2.4", "11.0.0.1"]);
  assert.deepEqual(reached, ["10.1.2.4"]);
  assertDenied(reports.get("10.1.2.3"), 'Client 10.1.2.3 is denied by "deny 10.1.2.3"');
  assertDenied(reports.get("11.0.0.1"), "Client 11.0.0.1 matches no allow rule");
});

Deno.test("ipFilter() denies clients no rule matches by default when any rule allows", async () => {
  const rules = [deny("192.168.1.1"), allow("192.168.0.0/16")];
  const { reports, reached } = await filter({ rules }, ["192.168.7.7", "8.8.8.8", "2001:db8::1"]);
  assert.deepEqual(reached, ["192.168.7.7"]);
  assertDenied(reports.get("8.8.8.8"), "Client 8.8.8.8 matches no allow rule");
  assertDenied(reports.get("2001:db8::1"), "Client 2001:db8::1 matches no allow rule");
});

Deno.test("ipFilter() allows clients no rule matches by default when every rule denies", async () => {
  const rules = [deny("192.168.0.0/16"), deny("2001:db8::/32")];
  const { reports, reached } = await filter({ rules }, ["192.168.7.7", "8.8.8.8", "2001:db9::1"]);
  assert.deepEqual(reached, ["8.8.8.8", "2001:db9::1"]);
  assertDenied(reports.get("192.168.7.7"), 'Client 192.168.7.7 is denied by "deny 192.168.0.0/16"');
});

Deno.test("ipFilter() applies an explicit otherwise instead of the default", async () => {
  const open = await filter({ rules: [allow("10.0.0.0/8")], otherwise: "allow" }, ["8.8.8.8"]);
  assert.deepEqual(open.reached, ["8.8.8.8"]);
  const closed = await filter({ rules: [deny("10.0.0.0/8")], otherwise: "deny" }, [
    "10.0.0.1",
    "8.8.8.8",
  ]);
  assert.deepEqual(closed.reached, []);
  assertDenied(closed.reports.get("10.0.0.1"), 'Client 10.0.0.1 is denied by "deny 10.0.0.0/8"');
  assertDenied(closed.reports.get("8.8.8.8"), "Client 8.8.8.8 matches no allow rule");
  const none = await filter({ rules: [], otherwise: "deny" }, ["127.0.0.1", "::1"]);
  assert.deepEqual(none.reached, []);
  assert.equal(none.reports.get("::1")?.reason, "denied");
});

Deno.test("ipFilter() matches an IPv4-mapped IPv6 client against IPv4 rules", async () => {
  const rules = [deny("10.0.0.0/8"), allow("192.0.2.0/24")];
  const clients = [
    "::ffff:10.1.2.3",
    "::FFFF:192.0.2.9",
    "0:0:0:0:0:ffff:c000:201",
    "::ffff:8.8.8.8",
  ];
  const { reports, reached } = await filter({ rules }, clients);
  assert.deepEqual(reached, ["::FFFF:192.0.2.9", "0:0:0:0:0:ffff:c000:201"]);
  assertDenied(
    reports.get("::ffff:10.1.2.3"),
    'Client ::ffff:10.1.2.3 is denied by "deny 10.0.0.0/8"',
  );
  assertDenied(reports.get("::ffff:8.8.8.8"), "Client ::ffff:8.8.8.8 matches no allow rule");
});

Deno.test("ipFilter() matches IPv6 clients against IPv6 rules and all", async () => {
  const rules = [allow("2001:db8::/32"), allow("::1"), deny("all")];
  const clients = ["2001:db8:1::5", "2001:DB8::", "::1", "2001:db9::1", "::2", "127.0.0.1"];
  const { reports, reached } = await filter({ rules }, clients);
  assert.deepEqual(reached, ["2001:db8:1::5", "2001:DB8::", "::1"]);
  assertDenied(reports.get("2001:db9::1"), 'Client 2001:db9::1 is denied by "deny all"');
  assertDenied(reports.get("::2"), 'Client ::2 is denied by "deny all"');
  assertDenied(reports.get("127.0.0.1"), 'Client 127.0.0.1 is denied by "deny all"');
});

Deno.test("ipFilter() ignores the zone of a link-local IPv6 client", async () => {
  const { reached } = await filter({ rules: [allow("fe80::/10")] }, ["fe80::1%eth0", "fec0::1"]);
  assert.deepEqual(reached, ["fe80::1%eth0"]);
});

Deno.test('ipFilter() lets only "all" match a client whose address is not an IP address', async () => {
  const rules = [allow("0.0.0.0/0"), allow("::/0")];
  const open = await filter({ rules }, ["proxy.sock"]);
  assertDenied(open.reports.get("proxy.sock"), "Client proxy.sock matches no allow rule");
  const closed = await filter({ rules: [deny("all")], otherwise: "allow" }, ["proxy.sock"]);
  assertDenied(closed.reports.get("proxy.sock"), 'Client proxy.sock is denied by "deny all"');
});

Deno.test("ipFilter() rejects a malformed CIDR with a TypeError naming it", () => {
  const expected = "expected an IPv4 or IPv6 address or CIDR, such as 10.0.0.0/8, ::1 or all";
  for (
    const cidr of ["10.0.0.0/33", "10.0.0/8", "fe80::/129", "banana", "", "10.0.0.0/", "::1/-1"]
  ) {
    for (const rule of [allow(cidr), deny(cidr)]) {
      assert.throws(() => ipFilter({ rules: [allow("10.0.0.0/8"), rule] }), {
        name: "TypeError",
        message: `Cannot parse --${rule.action} "${cidr}": ${expected}`,
      });
    }
  }
});

Deno.test("ipFilter() rejects an action or otherwise that is neither allow nor deny", () => {
  const permit = { action: "permit", cidr: "10.0.0.0/8" } as unknown as IpRule;
  assert.throws(() => ipFilter({ rules: [permit] }), {
    name: "TypeError",
    message: 'Cannot use IP filter action "permit": expected allow or deny',
  });
  const otherwise = "drop" as unknown as "deny";
  assert.throws(() => ipFilter({ rules: [], otherwise }), {
    name: "TypeError",
    message: 'Cannot use IP filter otherwise "drop": expected allow or deny',
  });
});

Deno.test("ipFilter() with no rules hands connections straight to the inner service", () => {
  const inner = mockService();
  assert.equal(ipFilter({ rules: [] })(inner.service), inner.service);
});

Deno.test("DeniedError carries the denied reason, the client and the rule", () => {
  const error = new DeniedError("10.1.2.3", "deny 10.0.0.0/8");
  assert.equal(error.name, "DeniedError");
  assert.equal(error.reason, "denied");
  assert.equal(error.client, "10.1.2.3");
  assert.equal(error.rule, "deny 10.0.0.0/8");
  assert.equal(new DeniedError("::1").rule, undefined);
});
