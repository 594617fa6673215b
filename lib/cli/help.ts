/**
 * The `--help` text.
 *
 * @module
 */

import { formatDuration } from "../duration.ts";
import { DEFAULTS, LOG_LEVELS } from "./args.ts";
import { EDGE_DEFAULTS } from "./edge_flags.ts";
import { HTTP_DEFAULTS as H } from "./http_flags.ts";
import { DEFAULT_QUEUE_TIMEOUT_MS } from "./layer_flags.ts";
import { POOL_DEFAULTS as P } from "./pool_flags.ts";
import { ALGORITHMS } from "../balance/algorithms.ts";

const ms = formatDuration;
const kib = (bytes: number) => `${bytes / 1024}KiB`;

/**
 * The `--help` text.
 *
 * @param version The version to show.
 * @returns The text, ending in a newline.
 */
export function helpText(version: string): string {
  return `minginx ${version}: a TCP and HTTP reverse proxy and load balancer

Usage: deno run --allow-net=LISTEN,UPSTREAM[,UPSTREAM...] main.ts [options]
       deno run --allow-net=LISTEN,UPSTREAM,... --allow-read=FILE main.ts --config FILE [options]
       deno run [--allow-read=FILE] main.ts COMMAND [options]

Options:
  -l, --listen HOST:PORT          Where to accept connections
                                  (default: ${DEFAULTS.listen})
  -u, --upstream HOST:PORT[,weight=N][,backup]
                                  Where to forward; repeat it for several. weight (1-1000,
                                  default 1) is its share; a backup is used only when no
                                  primary is available (default: ${P.upstream}).
                                  Or discover them: dns:HOST:PORT (A/AAAA records),
                                  srv:_SERVICE._PROTO.NAME (SRV), file:PATH (a JSON file)
      --idle-timeout DURATION     Close a connection after this long with no traffic; 0 = never
                                  (default: ${formatDuration(DEFAULTS.idleTimeout)})
      --log-level LEVEL           ${LOG_LEVELS.join(", ")} (default: ${DEFAULTS.logLevel})
      --log-format FORMAT         pretty, or json for one JSON object a line
                                  (default: ${DEFAULTS.logFormat})
      --access-log FILE           Append the access log (a line a connection, every level) to
                                  FILE instead of standard error; needs --allow-write=FILE.
                                  SIGUSR2 reopens it, for log rotation
      --admin HOST:PORT           Serve the admin API there: GET / (status page), /metrics
                                  (Prometheus), /status (JSON), POST
                                  /upstreams/POOL/ADDRESS/drain or /enable; off unless given
      --admin-token TOKEN         The bearer token the admin API requires; needed when --admin
                                  is not a loopback address

Balancing, health and failover (see README.md):
  -b, --balance NAME              ${Object.keys(ALGORITHMS).join(", ")}
                                  (default: ${P.balance})
      --health-check CHECK        tcp, http:/PATH[,status=200-299,...] or
                                  [send=TEXT,]expect=TEXT; off unless given
      --health-interval DURATION  Time between checks (default: ${ms(P.health.interval)})
      --health-timeout DURATION   Time a check may take (default: ${ms(P.health.timeout)})
      --health-rise N             Passes in a row that bring an upstream up (default: ${P.health.rise})
      --health-fall N             Failures in a row that take it down (default: ${P.health.fall})
      --max-fails N               Failed connects in a row that take an upstream out (passive
                                  ejection); 0 = never (default: ${P.maxFails})
      --fail-timeout DURATION     The window those failures must fall in, and how long the
                                  upstream stays out; a passing check ends it sooner
                                  (default: ${ms(P.failTimeout)})
      --slow-start DURATION       A recovered upstream's weight ramps up over this long
                                  (default: ${ms(P.slowStart)})
      --connect-tries N           Upstreams to try per connection (default: ${P.connectTries})
      --connect-timeout DURATION  Time each try may take (default: ${ms(P.connectTimeout)})
      --connect-deadline DURATION Time all tries may take (connect_timeout)
                                  (default: ${ms(P.connectDeadline)})
      --dns-ttl DURATION          How long a hostname's addresses are kept (default: ${
    ms(P.dnsTtl)
  })
      --discovery-interval DURATION
                                  How often dns:, srv: and file: upstreams are looked up
                                  again (default: ${ms(P.discoveryInterval)})
      --resolver IP:PORT          The DNS server discovery asks; needs it in --allow-net
                                  (default: the system's, /etc/resolv.conf)

Access and limits (checked in this order; a connection turned away never reaches an upstream):
      --allow CIDR                Let clients in this block in; repeat it. 10.0.0.0/8, ::1, all
      --deny CIDR                 Turn clients in this block away (denied); repeat it. --allow
                                  and --deny rules are checked in the order given, the first
                                  match wins; with any --allow, a client no rule matches is denied
      --rate-limit COUNT/s        New connections a client address may open per second (or /m);
                                  more are closed at once (rate_limited)
      --rate-burst N              How many it may open at once before the rate applies
                                  (default: the rate's COUNT)
      --max-connections-per-ip N  Open connections a client address may have (over_limit)
      --max-connections N         Open connections in all; more wait in the queue
      --queue N                   How many connections may wait for a slot (default: 0)
      --queue-timeout DURATION    How long one may wait before it is closed (over_limit);
                                  0 = until a slot frees
                                  (default: ${formatDuration(DEFAULT_QUEUE_TIMEOUT_MS)})

Fault injection, for testing other systems (see README.md for the grammar):
      --fault DIRECTION:KEY=VALUE,...
                                  DIRECTION is upstream (client to upstream) or downstream;
                                  keys: latency, jitter, bandwidth, slice, slice-delay,
                                  reset-after-bytes, reset-after, blackhole, probability.
                                  Example: --fault upstream:latency=100ms,jitter=20ms

TLS and the PROXY protocol (see README.md):
      --tls-cert FILE --tls-key FILE
                                  Terminate TLS with this PEM certificate and key; repeat the
                                  pair for several: each client gets the one whose names match
                                  the server name it asks for, else the first. Needs
                                  --allow-read for the files; SIGHUP reads them again
      --tls-alpn LIST             Protocols to agree on with clients: h2,http/1.1
      --sni NAME=HOST:PORT        Route TLS by server name without terminating it; repeat it.
                                  NAME is a.example.com or *.example.com; names no route
                                  matches go to --upstream
      --sni-fallback HOST:PORT    Where bytes that are not TLS go (else closed, not_tls)
      --upstream-tls              Speak TLS to upstreams (failures: upstream_tls)
      --upstream-tls-ca FILE      PEM certificates to trust besides the system's roots
      --upstream-tls-name NAME    The name to send and verify (default: the upstream's host)
      --upstream-tls-alpn LIST    Protocols to offer upstreams
      --accept-proxy CIDR         Peers in this block must start with a PROXY header (v1 or
                                  v2), whose address becomes the client's; repeat it. Other
                                  peers are refused (denied)
      --send-proxy v1|v2          Send upstreams a PROXY header with the client's address
      --handshake-timeout DURATION
                                  Time a client has for its PROXY header, ClientHello or TLS
                                  handshake, and TLS to an upstream may take
                                  (default: ${ms(EDGE_DEFAULTS.handshakeTimeout)})

HTTP mode (see README.md): read HTTP/1.1 requests and proxy each, over kept-alive upstream
connections; --connect-tries and --connect-timeout apply to each request:
      --mode tcp|http             Forward bytes (tcp), or proxy HTTP requests (default: tcp)
      --route [HOST][/PATH]=HOST:PORT
                                  Send requests for HOST (example.com, or *.example.com for the
                                  names under it) and PATH (a prefix) to a pool of their own;
                                  repeat it. The longest path of the most specific host wins;
                                  requests no route takes go to --upstream
      --trusted-proxy CIDR        Keep and add to the X-Forwarded-* or Forwarded fields of
                                  peers in this block; others' are replaced. Repeat it
      --forwarded STYLE           x-forwarded, forwarded (RFC 7239), both or none
                                  (default: ${H.forwarded})
      --max-header-size SIZE      Larger request heads get 431 (default: ${kib(H.maxHeaderSize)})
      --max-body-size SIZE        Larger request bodies get 413; 0 = no limit (default: ${H.maxBodySize})
      --header-timeout DURATION   Time a request head may take to arrive; then 408
                                  (default: ${ms(H.headerTimeout)})
      --keep-alive-timeout DURATION
                                  Time a client connection may wait between requests
                                  (default: ${ms(H.keepAliveTimeout)})
      --response-timeout DURATION Time an upstream may take to answer; then 504
                                  (default: ${ms(H.responseTimeout)})
      --upstream-keepalive N      Idle connections kept per upstream; 0 = none
                                  (default: ${H.upstreamKeepalive})

Config file (see README.md, schema.json and examples/minginx.jsonc):
  -c, --config FILE               Run every server FILE describes (JSONC); needs
                                  --allow-read=FILE. With one server in FILE, the options above
                                  override its settings; --drain-timeout overrides drainTimeout
      --watch                     Reload FILE whenever it changes, as SIGHUP does

Running:
  -w, --workers N                 Threads sharing the listening port (SO_REUSEPORT), or auto
                                  for one per core (${navigator.hardwareConcurrency} here); more than 1
                                  needs Deno's --unstable-net (default: ${DEFAULTS.workers}).
                                  --max-connections and --queue are shared out among workers;
                                  per-address limits and rates count in each worker
      --drain-timeout DURATION    On SIGINT or SIGTERM, how long open connections get to
                                  finish; those still open then are closed (shutdown);
                                  0 = close them at once (default: ${ms(DEFAULTS.drainTimeout)})
  -h, --help                      Show this help and exit
  -V, --version                   Show the version and exit

Commands:
  check --config FILE             Check FILE: print its servers and exit 0, or print every
                                  mistake and exit 1 (2 for a usage error)
  permissions [--config FILE] [options]
                                  Print the least --allow-net that FILE or the options need,
                                  and deno run and deno compile lines that grant exactly it

HOST:PORT takes a hostname, an IPv4 address, or an IPv6 address in brackets: [::1]:8081.
DURATION is a number and a unit (ms, s, m, h), or several: 500ms, 5s, 10m, 1h30m.
SIZE is a number of bytes, optionally with a unit: KB, MB, GB, KiB, MiB, GiB.
--allow-net needs exactly the listen address and every upstream, written as given here;
to resolve a hostname upstream itself and try each of its addresses, minginx also needs the
name alone and those addresses (without them, Deno connects to the name's first address).
SIGINT or SIGTERM stops accepting new connections and gives open ones --drain-timeout to
finish, logging how many are left; a second signal closes them at once.
SIGHUP reloads the --config file (without one, it reads the --tls-cert files again): listeners that stay keep their socket, open connections keep
their settings; a file that is invalid or needs a permission not granted is refused and logged,
and the running config stays.

Example:
  deno run --allow-net=${DEFAULTS.listen},${P.upstream} main.ts -l ${DEFAULTS.listen} -u ${P.upstream}
  deno run --allow-read=minginx.jsonc main.ts permissions --config minginx.jsonc
`;
}
