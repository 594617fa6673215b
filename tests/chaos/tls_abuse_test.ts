/**
 * A TLS-terminating listener under abuse: clients that reset during and after the handshake,
 * send garbage, or stall, beside clients whose bytes must all arrive. None of it reaches the
 * good clients' bytes or the process, and every connection ends with a report.
 */

import assert from "node:assert/strict";
import net from "node:net";
import tls from "node:tls";
import { forward, serve, ServiceBuilder } from "../../mod.ts";
import { readCertificateFiles, TlsCertificates } from "../../lib/tls/certificates.ts";
import { terminateTls } from "../../lib/tls/terminate.ts";
import { drain, randomBytes, recorder, sha256, startEcho, until, writeAll } from "../_helpers.ts";

const FIXTURES = new URL("../fixtures/", import.meta.url).pathname;
const CA = Deno.readTextFileSync(`${FIXTURES}ca.crt`);
const ROUNDS = 10;
const PAYLOAD = randomBytes(256 * 1024, 21);

/** A node:tls client that resets (RST, no close_notify) after `bytes` of its upload. */
function resettingTlsClient(port: number, bytes: number): Promise<void> {
  return new Promise((resolve) => {
    const raw = net.connect(port, "127.0.0.1");
    raw.on("error", () => {});
    const session = tls.connect({ socket: raw, servername: "a.test", ca: CA }, () => {
      session.write(PAYLOAD.subarray(0, bytes), () => {
        raw.resetAndDestroy();
        resolve();
      });
    });
    session.on("error", () => resolve());
  });
}

/** A client that resets in the middle of its ClientHello. */
function resetDuringHandshake(port: number): Promise<void> {
  return new Promise((resolve) => {
    const raw = net.connect(port, "127.0.0.1", () => {
      raw.write(Uint8Array.of(22, 3, 1, 2, 0, 1, 0, 1, 252, 3, 3), () => {
        raw.resetAndDestroy();
        resolve();
      });
    });
    raw.on("error", () => resolve());
  });
}

async function goodClient(port: number): Promise<boolean> {
  const tcp = await Deno.connect({ hostname: "127.0.0.1", port });
  const conn = await Deno.startTls(tcp, { hostname: "a.test", caCerts: [CA] });
  try {
    const [, received] = await Promise.all([
      writeAll(conn, PAYLOAD).then(() => conn.closeWrite()),
      drain(conn),
    ]);
    return received.bytes === PAYLOAD.length && received.sha256 === sha256(PAYLOAD);
  } finally {
    conn.close();
  }
}

async function garbage(port: number): Promise<void> {
  using conn = await Deno.connect({ hostname: "127.0.0.1", port });
  await writeAll(conn, randomBytes(4096, 5)).catch(() => {});
  await drain(conn).catch(() => {});
}

Deno.test("a TLS listener keeps good clients' bytes whole among resets, garbage and stalls", async () => {
  await using echo = startEcho();
  const certificates = new TlsCertificates(readCertificateFiles([
    { cert: `${FIXTURES}a.test.crt`, key: `${FIXTURES}a.test.key` },
  ]));
  const record = recorder();
  const service = new ServiceBuilder()
    .layer(record.layer)
    .layer(terminateTls({ certificates, timeout: 300 }))
    .service(forward({ upstreams: [echo.address] }));
  await using proxy = serve({ listen: "127.0.0.1:0", service });
  const port = proxy.address.port;
  let good = 0;
  let started = 0;
  const stalled: Deno.TcpConn[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    stalled.push(await Deno.connect({ hostname: "127.0.0.1", port })); // never says a word
    const results = await Promise.all([
      goodClient(port),
      goodClient(port),
      resettingTlsClient(port, 64 * 1024),
      resettingTlsClient(port, 1),
      resetDuringHandshake(port),
      garbage(port),
    ]);
    started += 7;
    good += results.filter((ok) => ok === true).length;
  }
  assert.equal(good, 2 * ROUNDS, "every good client got its bytes back whole");
  await until(5_000, "a report for every connection", () => record.reports.length === started);
  for (const conn of stalled) conn.close();
  const reasons = new Map<string, number>();
  for (const { reason } of record.reports) reasons.set(reason, (reasons.get(reason) ?? 0) + 1);
  console.log("reasons:", Object.fromEntries(reasons));
  assert.equal(reasons.get("handshake_timeout"), ROUNDS);
  assert.ok((reasons.get("tls_handshake") ?? 0) >= ROUNDS, "garbage fails the handshake");
  assert.equal(reasons.get("error"), undefined);
});
