/**
 * The sample upstream: a small JSON API about one user, as the original Rust minginx was tested
 * against. `GET /` returns the user; `PATCH /` with `{"age"?: 0-255, "skills"?: string[]}`
 * updates and returns it. Run it alone with
 * `deno run --allow-net=127.0.0.1:8080 examples/user_api.ts`.
 *
 * @module
 */

/** The user the API serves. */
export interface User {
  name: string;
  age: number;
  skills: string[];
}

/** Options for {@linkcode serveUserApi}. */
export interface UserApiOptions {
  /** @default {"127.0.0.1"} */
  hostname?: string;
  /** @default {8080} */
  port?: number;
  /** Stops the server when aborted. */
  signal?: AbortSignal;
  /** Called once listening; by default nothing is printed. */
  onListen?: (address: Deno.NetAddr) => void;
}

const MAX_BODY_BYTES = 64 * 1024;

/** A fresh Alice, as the API starts with. */
export function initialUser(): User {
  return { name: "Alice", age: 30, skills: ["Rust", "Python"] };
}

/**
 * Creates the API's request handler, with its own copy of the user.
 *
 * @param user The starting state.
 * @returns A handler for `Deno.serve`.
 */
export function userApi(user: User = initialUser()): (request: Request) => Promise<Response> {
  return async function handle(request: Request): Promise<Response> {
    const { pathname } = new URL(request.url);
    if (pathname !== "/") return json(404, { error: `Not found: ${pathname}` });
    if (request.method === "GET") return json(200, user);
    if (request.method !== "PATCH") {
      return json(405, { error: `Method ${request.method} not allowed: expected GET or PATCH` }, {
        allow: "GET, PATCH",
      });
    }
    const body = await request.text();
    if (body.length > MAX_BODY_BYTES) {
      return json(413, { error: `Body too large: expected at most ${MAX_BODY_BYTES} bytes` });
    }
    const update = parseUpdate(body);
    if (typeof update === "string") return json(400, { error: update });
    Object.assign(user, update);
    return json(200, user);
  };
}

/** Parses a PATCH body; returns the update, or an error message naming what is wrong. */
function parseUpdate(body: string): Partial<Pick<User, "age" | "skills">> | string {
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch (error) {
    return `Malformed JSON: ${(error as Error).message}`;
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    return 'Expected a JSON object such as {"age": 31}';
  }
  const update: Partial<Pick<User, "age" | "skills">> = {};
  for (const [key, field] of Object.entries(value)) {
    if (key === "age") {
      if (!Number.isInteger(field) || (field as number) < 0 || (field as number) > 255) {
        return `Field "age" must be a whole number from 0 to 255, got ${JSON.stringify(field)}`;
      }
      update.age = field as number;
    } else if (key === "skills") {
      if (!Array.isArray(field) || !field.every((skill) => typeof skill === "string")) {
        return `Field "skills" must be an array of strings, got ${JSON.stringify(field)}`;
      }
      update.skills = field;
    } else {
      return `Unknown field "${key}": expected "age" or "skills"`;
    }
  }
  return update;
}

function json(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "content-type": "application/json", ...headers },
  });
}

/**
 * Starts the API with `Deno.serve`.
 *
 * @param options Where to listen.
 * @returns The running server.
 */
export function serveUserApi(options: UserApiOptions = {}): Deno.HttpServer<Deno.NetAddr> {
  const { hostname = "127.0.0.1", port = 8080, signal, onListen = () => {} } = options;
  return Deno.serve({ hostname, port, signal, onListen }, userApi());
}

if (import.meta.main) {
  serveUserApi({
    onListen: ({ hostname, port }) => console.log(`User API on http://${hostname}:${port}/`),
  });
}
