import assert from "node:assert/strict";
import { ipFilter as tcpIpFilter } from "../mod.ts";
import { ForbiddenError, ipFilter, type IpFilterOptions, serviceFn } from "../http.ts";
import { fakeConnection, mockService } from "./_mock.ts";
import { allow, deny } from "./_ip_filter.ts";
import { requestFrom, serveHttp } from "./_http.ts";

Deno.test("ipFilter() answers 403 naming the rule, without calling the inner service", async () => {
  let reached = 0;
  const inner = serviceFn(() => new Response(`hello ${++reached}`));
  {
    await using denied = serveHttp(ipFilter({ rules: [deny("127.0.0.1")] })(inner));
    const response = await fetch(`${denied.url}/`);
    assert.equal(response.status, 403);
    assert.equal(response.headers.get("content-type"), "text/plain; charset=utf-8");
    assert.equal(await response.text(), 'Client 127.0.0.1 is denied by "deny 127.0.0.1"\n');
  }
  {
    await using unlisted = serveHttp(ipFilter({ rules: [allow("10.0.0.0/8")] })(inner));
    const response = await fetch(`${unlisted.url}/`);
    assert.equal(response.status, 403);
    assert.equal(await response.text(), "Client 127.0.0.1 matches no allow rule\n");
  }
  assert.equal(reached, 0);
  await using allowed = serveHttp(ipFilter({ rules: [allow("127.0.0.0/8")] })(inner));
  const response = await fetch(`${allowed.url}/`);
  assert.equal(response.status, 200);
  assert.equal(await response.text(), "hello 1");
});

Deno.test("ipFilter() decides each client as the TCP layer does, with the same messages", async () => {
  const cases: IpFilterOptions[] = [
    { rules: [allow("10.1.0.0/16"), deny("10.0.0.0/8")] },
    { rules: [deny("10.1.2.3"), allow("10.0.0.0/8")] },
    { rules: [deny("192.168.0.0/16"), deny("2001:db8::/32")] },
    { rules: [allow("10.0.0.0/8")], otherwise: "allow" },
    { rules: [deny("::ffff:10.0.0.0/104")], otherwise: "deny" },
    { rules: [allow("all")] },
  ];
  const clients = [
    "10.1.2.3",
    "10.2.0.1",
    "::ffff:10.1.2.3",
    "0:0:0:0:0:ffff:a02:1",
    "192.168.7.7",
    "2001:db8::1",
    "2001:db9::1",
    "8.8.8.8",
    "not-an-ip",
  ];
  for (const options of cases) {
    const tcpInner = mockService();
    const tcp = tcpIpFilter(options)(tcpInner.service);
    const http = ipFilter(options)(serviceFn(() => new Response("ok")));
    for (const [i, client] of clients.entries()) {
      const report = await tcp(fakeConnection(client, i + 1));
      const response = await http(requestFrom(client));
      const text = await response.text();
      const what = `${JSON.stringify(options)} for ${client}`;
      if (report.reason === "denied") {
        assert.equal(response.status, 403, what);
        assert.equal(text, `${report.error}\n`, what);
      } else {
        assert.equal(report.reason, "client_closed", what);
        assert.equal(response.status, 200, what);
      }
    }
  }
});

Deno.test("ipFilter() rejects malformed rules with the TCP layer's messages", () => {
  const bad = [
    { rules: [allow("10.0.0/8")] },
    { rules: [deny("10.0.0.0/33")] },
    { rules: [{ action: "block", cidr: "10.0.0.0/8" }] },
    { rules: [{ action: "allow", cidr: 10 }] },
    { rules: [], otherwise: "maybe" },
    { rules: "allow all" },
  ] as unknown as IpFilterOptions[];
  for (const options of bad) {
    let message = "";
    assert.throws(() => tcpIpFilter(options), (error: Error) => {
      message = error.message;
      return error instanceof TypeError && message.startsWith("Cannot ");
    });
    assert.throws(() => ipFilter(options), { name: "TypeError", message });
  }
});

Deno.test("ipFilter() with no rules and nothing denied is no layer at all", () => {
  const inner = serviceFn(() => new Response());
  assert.equal(ipFilter({ rules: [] })(inner), inner);
  assert.notEqual(ipFilter({ rules: [], otherwise: "deny" })(inner), inner);
  const error = new ForbiddenError("::1", "deny ::1");
  assert.deepEqual([error.name, error.status, error.client, error.rule], [
    "ForbiddenError",
    403,
    "::1",
    "deny ::1",
  ]);
});
