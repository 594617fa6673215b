/**
 * The demo: the sample user API on 127.0.0.1:8080 and minginx in front of it on 127.0.0.1:8081.
 * Run it with `deno task demo`, then try the `curl` lines it prints. Extra arguments go to the
 * proxy, e.g. `deno task demo --log-format json`. Ctrl-C stops both.
 *
 * @module
 */

import { formatAddress } from "../lib/address.ts";
import { main } from "../main.ts";
import { serveUserApi } from "./user_api.ts";

const API = "127.0.0.1:8080";
const PROXY = "127.0.0.1:8081";

let api: Deno.HttpServer<Deno.NetAddr>;
try {
  api = serveUserApi({ hostname: "127.0.0.1", port: 8080 });
} catch (error) {
  console.error(`Cannot start the sample upstream on ${API}: ${(error as Error).message}`);
  Deno.exit(1);
}

const code = await main(["--listen", PROXY, "--upstream", API, ...Deno.args], {
  onListening(address) {
    const proxy = `http://${formatAddress(address)}/`;
    console.log(`
Sample upstream (a user API) on http://${API}/, minginx in front of it on ${proxy}
Try it through the proxy:

  curl ${proxy}
  curl -X PATCH -H 'content-type: application/json' -d '{"age":31,"skills":["Rust","Python","Deno"]}' ${proxy}

Press Ctrl-C to stop.
`);
  },
});
await api.shutdown();
Deno.exit(code);
