/**
 * The status page in a real browser: headless Chromium (Debian's `chromium`) driven by
 * playwright-core, against the CLI with its admin API on and traffic flowing.
 */

import assert from "node:assert/strict";
import { chromium } from "playwright-core";
import { adminCli } from "../_admin.ts";
import { randomBytes, readToEnd, sha256, within, writeAll } from "../_helpers.ts";

const CHROMIUM = "/usr/bin/chromium";
const HAS_CHROMIUM = await Deno.stat(CHROMIUM).then(() => true, () => false);
const ARTIFACTS = new URL("../artifacts/", import.meta.url).pathname;

/** Sends `count` connections of 32 KiB each through the proxy, checking every echo. */
async function traffic(port: number, count: number): Promise<void> {
  const bytes = randomBytes(32_768, 5);
  for (let i = 0; i < count; i++) {
    using client = await Deno.connect({ hostname: "127.0.0.1", port });
    await writeAll(client, bytes);
    await client.closeWrite();
    assert.equal(sha256(await within(5_000, "the echo", readToEnd(client))), sha256(bytes));
  }
}

Deno.test({
  name: "the status page in Chromium shows the upstreams, updates under traffic, and drains" +
    (HAS_CHROMIUM ? "" : `: IGNORED, no ${CHROMIUM} (apt-get install chromium)`),
  ignore: !HAS_CHROMIUM,
  sanitizeResources: false, // playwright's pipe to the browser outlives its close by a moment
  sanitizeOps: false,
  async fn() {
    await using cli = await adminCli({ upstreams: 2 });
    const [a, b] = cli.upstreams;
    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ["--no-sandbox"],
      timeout: 30_000,
    });
    try {
      const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
      page.setDefaultTimeout(10_000);
      const problems: string[] = [];
      page.on("console", (message) => {
        if (message.type() === "error") problems.push(message.text());
      });
      page.on("pageerror", (error) => problems.push(error.message));
      await page.goto(`${cli.url}/`);

      const row = (upstream: string) =>
        page.locator(`tr[data-pool="default"][data-upstream="${upstream}"]`);
      const state = (upstream: string) => row(upstream).locator('td[data-field="state"]');
      for (const upstream of [a, b]) await state(upstream).filter({ hasText: /^up$/ }).waitFor();
      const listener = page.locator(`tr[data-listener="${cli.listen}"]`);
      await listener.waitFor();

      // The numbers change while traffic flows, without reloading the page.
      await page.evaluate(() => Object.assign(globalThis, { stillHere: true }));
      const tile = (field: string) =>
        page.locator(`#summary [data-field="${field}"]`).getAttribute("data-value");
      assert.equal(await tile("accepted"), "0");
      await traffic(cli.port, 20);
      await page.locator('#summary [data-field="accepted"][data-value="20"]').waitFor();
      assert.equal(await tile("bytes"), String(2 * 20 * 32_768));
      assert.equal(await listener.locator('td[data-field="accepted"]').textContent(), "20");
      const connections = await Promise.all(
        [a, b].map((u) => row(u).locator('td[data-field="connections"]').textContent()),
      );
      assert.deepEqual(connections, ["10", "10"]);
      assert.equal(await page.evaluate(() => "stillHere" in globalThis), true);

      // The drain button drains: the row says so, and new connections go to the other upstream.
      await row(a).locator('button[data-action="drain"]').click();
      await state(a).filter({ hasText: /^draining$/ }).waitFor();
      await row(a).locator('button[data-action="enable"]').waitFor();
      const status = await (await fetch(`${cli.url}/status`)).json();
      assert.equal(status.pools[0].upstreams[0].state, "draining");
      await cli.proxy.waitFor(/Admin API: 127\.0\.0\.1:\d+ asked to drain upstream/);
      const before = cli.echoes.map((echo) => echo.accepted);
      await traffic(cli.port, 4);
      assert.deepEqual(cli.echoes.map((echo) => echo.accepted), [before[0], before[1] + 4]);
      await row(b).locator('td[data-field="connections"]').filter({ hasText: /^14$/ }).waitFor();

      await Deno.mkdir(ARTIFACTS, { recursive: true });
      await page.screenshot({ path: `${ARTIFACTS}status_page.png`, fullPage: true });
      await page.setViewportSize({ width: 390, height: 844 });
      await page.screenshot({ path: `${ARTIFACTS}status_page_phone.png`, fullPage: true });
      const overflow = await page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth",
      );
      assert.equal(overflow, 0, "the page scrolls sideways on a phone");
      assert.deepEqual(problems, [], "the page logged errors (a CSP violation would be one)");
    } finally {
      await browser.close();
    }
  },
});
