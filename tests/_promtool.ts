/** promtool (Debian's prometheus package), which checks a scrape as Prometheus would read it. */

import { has } from "./_peers.ts";

/** Whether promtool is installed. */
export const HAS_PROMTOOL = await has("promtool");

/** Runs `promtool check metrics` on a scrape: its exit code and what it said. */
export async function promtoolCheck(text: string): Promise<{ code: number; output: string }> {
  const child = new Deno.Command("promtool", {
    args: ["check", "metrics"],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(text));
  await writer.close();
  const { code, stdout, stderr } = await child.output();
  const decoder = new TextDecoder();
  return { code, output: decoder.decode(stdout) + decoder.decode(stderr) };
}
