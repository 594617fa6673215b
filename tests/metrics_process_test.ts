import assert from "node:assert/strict";
import { processMetrics } from "../lib/metrics/process.ts";
import { Registry } from "../lib/metrics/registry.ts";

const PROCESS_TS = new URL("../lib/metrics/process.ts", import.meta.url).href;
const REGISTRY_TS = new URL("../lib/metrics/registry.ts", import.meta.url).href;

/** The value of an unlabelled sample in rendered text, or `undefined` if it is not there. */
function sample(text: string, name: string): number | undefined {
  const line = text.split("\n").find((line) => line.startsWith(`${name} `));
  return line === undefined ? undefined : Number(line.slice(name.length + 1));
}

/** Runs a script that renders process metrics with these permission flags; returns its stdout. */
async function renderIn(flags: string[], extraFiles = 0): Promise<string> {
  const script = await Deno.makeTempFile({ suffix: ".ts" });
  try {
    await Deno.writeTextFile(
      script,
      `import { processMetrics } from "${PROCESS_TS}";
import { Registry } from "${REGISTRY_TS}";
const registry = new Registry();
processMetrics(registry);
const before = registry.render();
const files = [];
for (let i = 0; i < ${extraFiles}; i++) files.push(Deno.openSync(Deno.execPath()));
console.log(JSON.stringify([before, registry.render()]));
`,
    );
    const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
      args: ["run", "--no-config", ...flags, script],
      stdin: "null",
      env: { NO_COLOR: "1" },
    }).output();
    const decoded = new TextDecoder().decode(stdout);
    assert.equal(code, 0, new TextDecoder().decode(stderr));
    return decoded;
  } finally {
    await Deno.remove(script);
  }
}

Deno.test("processMetrics() adds memory, heap and start time gauges, refreshed at each render", () => {
  const registry = new Registry();
  const stop = processMetrics(registry);
  const text = registry.render();
  const rss = sample(text, "minginx_process_resident_memory_bytes")!;
  const heap = sample(text, "minginx_process_heap_used_bytes")!;
  const start = sample(text, "minginx_process_start_time_seconds")!;
  assert.ok(Number.isInteger(rss) && rss > 1_000_000, `rss ${rss}`);
  assert.ok(Number.isInteger(heap) && heap > 0 && heap < rss, `heap ${heap}`);
  assert.ok(start <= Date.now() / 1000 && start > Date.now() / 1000 - 3600, `start ${start}`);
  assert.match(text, /^# TYPE minginx_process_resident_memory_bytes gauge$/m);
  const garbage = Array.from({ length: 100_000 }, (_, i) => ({ i }));
  assert.notEqual(sample(registry.render(), "minginx_process_heap_used_bytes"), heap);
  assert.equal(garbage.length, 100_000);
  stop();
  assert.equal(registry.render(), "");
  assert.equal(registry.metrics.length, 0);
});

Deno.test("processMetrics() adds none of its gauges if the registry already has one of their names", () => {
  const registry = new Registry();
  registry.gauge({ name: "minginx_process_heap_used_bytes", help: "Mine." });
  assert.throws(() => processMetrics(registry), {
    name: "TypeError",
    message:
      'Cannot register metric "minginx_process_heap_used_bytes": expected a name the registry does not have yet',
  });
  assert.deepEqual(registry.metrics.map(({ name }) => name), ["minginx_process_heap_used_bytes"]);
});

Deno.test({
  name: "processMetrics() counts /proc/self/fd when the process may read it (Deno: --allow-all)",
  ignore: Deno.build.os !== "linux",
  async fn() {
    const [before, after] = JSON.parse(await renderIn(["--allow-all"], 3));
    const fds = sample(before, "minginx_process_open_fds");
    assert.ok(fds !== undefined && fds >= 3, before);
    assert.equal(sample(after, "minginx_process_open_fds"), fds + 3); // three files opened since
  },
});

Deno.test("processMetrics() leaves open fds out, without a prompt, when /proc/self/fd may not be read", async () => {
  for (const flags of [[], ["--allow-read=/proc/self/fd"], ["--allow-read"]]) {
    const [text] = JSON.parse(await renderIn(flags));
    assert.equal(sample(text, "minginx_process_open_fds"), undefined, flags.join(" "));
    assert.doesNotMatch(text, /open_fds/);
    assert.ok(sample(text, "minginx_process_resident_memory_bytes")! > 0);
  }
});
