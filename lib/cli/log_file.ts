/**
 * The file the access log goes to with `--access-log FILE`: appended to, and reopened on SIGUSR2
 * so that a log rotator can move it away and have a new one started.
 *
 * @module
 */

import { writeAll } from "../byte_stream.ts";
import { withContext } from "../_util.ts";

/** An append-only log file that can be reopened under the same path. */
export class LogFile {
  /** Where it is. */
  readonly path: string;
  #file: Deno.FsFile;
  #writing: Promise<unknown> = Promise.resolve();

  /**
   * Opens (or creates) the file for appending.
   *
   * @param path Where it is.
   * @throws {Deno.errors.NotCapable} Without `--allow-write` for it; other errors of opening a
   * file too, with its path in the message.
   */
  constructor(path: string) {
    this.path = path;
    this.#file = open(path);
  }

  /**
   * Appends all of `bytes`, after any write still under way.
   *
   * @param bytes What to append.
   */
  write(bytes: Uint8Array): Promise<void> {
    // The file as it is when the write starts: a reopen meanwhile does not split the bytes.
    const writing = this.#writing.then(() => writeAll(this.#file, bytes));
    this.#writing = writing.catch(() => {});
    return writing;
  }

  /**
   * Opens the path again, for a rotator that has moved the file away: writes from now on go to
   * the new file; the old one is closed once the write under way has finished. If the path
   * cannot be opened, the old file stays in use and the error is thrown.
   */
  async reopen(): Promise<void> {
    const next = open(this.path);
    const old = this.#file;
    this.#file = next;
    await this.#writing;
    old.close();
  }

  /** Closes the file, after the write under way. */
  async close(): Promise<void> {
    await this.#writing;
    this.#file.close();
  }
}

function open(path: string): Deno.FsFile {
  try {
    return Deno.openSync(path, { append: true, create: true });
  } catch (error) {
    throw withContext(error, `Cannot open access log "${path}"`);
  }
}
