/** TlsCertificates: which certificate a server name gets, and what a bad file says. */

import assert from "node:assert/strict";
import { readCertificateFiles, TlsCertificates } from "../lib/tls/certificates.ts";

const FIXTURES = new URL("./fixtures/", import.meta.url).pathname;
const read = (name: string) => Deno.readTextFileSync(`${FIXTURES}${name}`);
const A = { cert: read("a.test.crt"), key: read("a.test.key"), source: '"a.crt"' };
const B = { cert: read("b.test.crt"), key: read("b.test.key"), source: '"b.crt"' };

Deno.test("TlsCertificates.select() prefers an exact name, then a one-label wildcard, then the first", () => {
  const certificates = new TlsCertificates([A, B]);
  const [a, b] = [certificates.select("a.test"), certificates.select("b.test")];
  assert.notEqual(a, b);
  assert.equal(certificates.select("B.TEST"), b);
  assert.equal(certificates.select("www.b.test"), b);
  assert.equal(certificates.select("x.www.b.test"), a); // a wildcard covers one label only
  assert.equal(certificates.select("unknown.example"), a);
  assert.equal(certificates.select(undefined), a);
});

Deno.test("TlsCertificates rejects a key that does not match, and text that is not PEM, naming the file", () => {
  assert.throws(() => new TlsCertificates([{ ...A, key: B.key }]), {
    name: "TypeError",
    message: 'Cannot load TLS certificate "a.crt": the key does not match the certificate: ' +
      "expected the certificate's key",
  });
  assert.throws(() => new TlsCertificates([B, { ...A, cert: "hello" }]), {
    message: 'Cannot load TLS certificate "a.crt": no certificate in it: expected PEM text with ' +
      "-----BEGIN CERTIFICATE-----",
  });
  assert.throws(() => new TlsCertificates([]), /expected at least one/);
  assert.throws(
    () => readCertificateFiles([{ cert: `${FIXTURES}none.crt`, key: `${FIXTURES}none.key` }]),
    { name: "NotFound", message: /^Cannot read TLS certificate ".*none\.crt": / },
  );
});

Deno.test("TlsCertificates.replace() swaps all at once, and keeps the old ones when a new one is bad", () => {
  const certificates = new TlsCertificates([A]);
  const before = certificates.select(undefined);
  assert.throws(() => certificates.replace([B, { ...A, key: B.key }]));
  assert.equal(certificates.select(undefined), before);
  assert.deepEqual(certificates.names, ["a.test", "*.a.test"]);
  certificates.replace([B]);
  assert.notEqual(certificates.select(undefined), before);
  assert.deepEqual(certificates.names, ["b.test", "*.b.test"]);
});
