// Preloaded into a webhook server by bench/tail.ts (`node --import <this>`; Flowcrew and Node-RED alike): records, per
// request, when its socket was accepted, when its headers were parsed ('request') and when its reply was handed to
// the OS ('finish'); every GC pause; the share of each 10 ms the event loop was busy; and each SQLite transaction
// (better-sqlite3, when the server loads it; a checkpoint the server runs itself counts as one). On SIGWINCH (SIGUSR2 stops Node-RED) it appends all of it since the last dump as one JSON line to
// $FLOWCREW_TAIL_PROBE_OUT and starts over. Times are wall-clock ms (performance.timeOrigin + now), comparable across
// processes. Plain JS, no dependencies: it must load into any server.
import { appendFileSync } from 'node:fs';
import http from 'node:http';
import { createRequire } from 'node:module';
import net from 'node:net';
import { PerformanceObserver, performance } from 'node:perf_hooks';

const now = () => performance.timeOrigin + performance.now();
let requests = [];
let gcs = [];
let busy = [];
let commits = [];
let connections = 0;

const acceptedAt = new WeakMap();
const connectionNo = new WeakMap();
const emitServer = net.Server.prototype.emit;
net.Server.prototype.emit = function (event, socket, ...rest) {
  if (event === 'connection') {
    acceptedAt.set(socket, now());
    connectionNo.set(socket, ++connections);
  }
  return emitServer.call(this, event, socket, ...rest);
};

const emitHttp = http.Server.prototype.emit;
http.Server.prototype.emit = function (event, req, res, ...rest) {
  if (event === 'request') {
    const socket = req.socket;
    const entry = { accepted: acceptedAt.get(socket) ?? 0, parsed: now(), finished: 0, connection: connectionNo.get(socket) ?? 0, onConnection: (socket.__tailProbeCount = (socket.__tailProbeCount ?? 0) + 1) };
    requests.push(entry);
    res.once('finish', () => (entry.finished = now()));
  }
  return emitHttp.call(this, event, req, res, ...rest);
};

new PerformanceObserver((list) => {
  for (const e of list.getEntries()) gcs.push({ at: performance.timeOrigin + e.startTime, ms: e.duration, kind: e.detail?.kind ?? e.kind });
}).observe({ entryTypes: ['gc'] });

let last = performance.eventLoopUtilization();
setInterval(() => {
  const current = performance.eventLoopUtilization();
  const cpu = process.cpuUsage();
  busy.push([Math.round(now()), Math.round(performance.eventLoopUtilization(current, last).utilization * 100), cpu.user + cpu.system]);
  last = current;
}, 10).unref();

// better-sqlite3 from the server's own node_modules (Flowcrew's); Node-RED does not have it.
try {
  const Database = createRequire(process.argv[1] ?? import.meta.url)('better-sqlite3');
  const transaction = Database.prototype.transaction;
  Database.prototype.transaction = function (fn) {
    // Its variants are read-only properties: hand back a function of our own whose variants time the originals.
    const made = transaction.call(this, fn);
    if (process.env.FLOWCREW_TAIL_PROBE_PRAGMA) this.pragma(process.env.FLOWCREW_TAIL_PROBE_PRAGMA); // an experiment's setting
    const timed = (variant) =>
      function (...args) {
        const start = now();
        try {
          return variant.apply(this, args);
        } finally {
          commits.push({ at: start, ms: now() - start, statements: Array.isArray(args[0]) ? args[0].length : 0 });
        }
      };
    const wrapper = timed(made);
    for (const name of ['default', 'deferred', 'immediate', 'exclusive']) wrapper[name] = timed(made[name]);
    return wrapper;
  };
  // A checkpoint the server runs itself on the event loop (storage/sqlite-checkpoint.ts, when the WAL reaches its
  // bound) counts as a transaction too (statements -1): it holds the loop as the auto-checkpoint inside a commit did.
  const pragma = Database.prototype.pragma;
  Database.prototype.pragma = function (source, options) {
    if (!String(source).startsWith('wal_checkpoint')) return pragma.call(this, source, options);
    const start = now();
    try {
      return pragma.call(this, source, options);
    } finally {
      commits.push({ at: start, ms: now() - start, statements: -1 });
    }
  };
} catch {
  // no better-sqlite3 here
}

process.on('SIGWINCH', () => {
  appendFileSync(process.env.FLOWCREW_TAIL_PROBE_OUT, JSON.stringify({ requests, gcs, busy, commits }) + '\n');
  requests = [];
  gcs = [];
  busy = [];
  commits = [];
});
