/**
 * WAL checkpoints off the event loop. SQLite's auto-checkpoint runs inside the commit that pushes the WAL past 1,000
 * pages (16 MB with 16 KB pages): that commit copied every page back into the database file and synced it on the
 * event loop, 54-212 ms under the webhook benchmark, the longest loop block there (bench/README.md, session 9).
 *
 * Here a worker thread holds its own connection to the same file and runs `PRAGMA wal_checkpoint(PASSIVE)` each time
 * the WAL has grown by another STEPS-th of the bound. A PASSIVE checkpoint never blocks the writer nor waits for it:
 * it copies the frames committed so far while new ones are appended. But only a checkpoint that copied every frame
 * lets the next commit start the WAL from its beginning, and under steady writes the worker is always a commit or two
 * behind. So the main connection's auto-checkpoint is off and the bound is kept here: once the WAL reaches
 * BOUND_PAGES pages, the main connection checkpoints itself after a commit, as the auto-checkpoint did, with only the
 * frames of the last step left to copy and synced (the worker pauses meanwhile; if it holds the checkpoint lock, the main
 * connection tries again after the next commit). If the worker fails, SQLite's auto-checkpoint is switched back on.
 *
 * The WAL's size is read with a stat after each commit: `journal_size_limit = 0` makes SQLite truncate the file when
 * the WAL starts over, so the file's size is what the WAL holds. Checkpointing in steps, not after every commit: a
 * page rewritten by many commits (an index's, a table's last leaf) is copied once per step, not once per commit
 * (measured: a checkpoint every 20 ms cost 40 % more CPU than the auto-checkpoint; bench/README.md, session 10).
 *
 * Crash safety is SQLite's WAL guarantee, unchanged: a commit is durable in the WAL whatever a checkpointer is doing;
 * a checkpoint only copies committed pages, and an interrupted one is redone from the WAL at the next open.
 *
 * The worker starts at the first step, so a database that is hardly written never pays for the thread. It is plain
 * JavaScript evaluated from a string (no TypeScript loader, no preloads: `execArgv: []`) with a small heap, and waits
 * on Atomics.wait between checkpoints.
 */
import { statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

/** The WAL size (pages) at which the main connection checkpoints itself: SQLite's auto-checkpoint default. */
export const BOUND_PAGES = 1000;
/** The worker checkpoints each time the WAL has grown by 1/STEPS of the bound. */
export const STEPS = 8;

/** Int32 slots shared with the worker. */
const REQUESTS = 0;
const STOP = 1;
const CHECKPOINTS = 2;
/** The request count the worker's last checkpoint started after. */
const COVERED = 3;
/** 1 while the main connection waits to checkpoint itself: the worker starts none. */
const PAUSED = 4;
/** Worker checkpoints that found a lock taken. */
const BUSY = 5;
const SLOTS = 6;

const WORKER_SOURCE = `
const { workerData } = require('node:worker_threads');
const { openSync, fdatasyncSync, closeSync } = require('node:fs');
const Database = require(workerData.betterSqlite3);
const shared = new Int32Array(workerData.shared);
const db = new Database(workerData.filename, { fileMustExist: true });
db.pragma('busy_timeout = 0');
db.pragma('cache_size = -256');
db.pragma('wal_autocheckpoint = 0');
const file = openSync(workerData.filename, 'r+'); // writable: Windows syncs only handles opened for writing
try {
  let done = 0;
  while (Atomics.load(shared, ${STOP}) === 0) {
    const seen = Atomics.load(shared, ${REQUESTS});
    if (seen !== done && Atomics.load(shared, ${PAUSED}) === 0) {
      try {
        db.pragma('wal_checkpoint(PASSIVE)');
        // SQLite syncs the file only when a checkpoint reached the WAL's end, which under steady writes the worker's
        // seldom does: without this, the main connection's checkpoint at the bound synced all of it on the loop.
        fdatasyncSync(file);
        Atomics.add(shared, ${CHECKPOINTS}, 1);
      } catch (error) {
        // A lock the main connection holds for a moment (it starts the WAL over): the next request tries again.
        if (error.code !== 'SQLITE_BUSY' && error.code !== 'SQLITE_LOCKED') throw error;
        Atomics.add(shared, ${BUSY}, 1);
      }
      Atomics.store(shared, ${COVERED}, seen);
      done = seen;
    } else {
      Atomics.wait(shared, ${REQUESTS}, seen);
    }
  }
} finally {
  closeSync(file);
  db.close();
}
`;

/** What the main connection needs: better-sqlite3's pragma. */
interface MainConnection {
  pragma(source: string, options?: { simple: boolean }): unknown;
}

export class WalCheckpointer {
  private readonly shared = new Int32Array(new SharedArrayBuffer(SLOTS * Int32Array.BYTES_PER_ELEMENT));
  /** Checkpoints the main connection ran itself to keep the WAL bounded. */
  bounded = 0;
  private worker: Worker | undefined;
  private exited: Promise<void> = Promise.resolve();
  private failure: Error | undefined;
  private readonly wal: string;
  private readonly boundBytes: number;
  private readonly stepBytes: number;
  /** The WAL's size when the worker was last asked to checkpoint. */
  private requestedAt = 0;

  /** `filename`: an existing SQLite database in WAL mode, `main` the connection that writes it. */
  constructor(
    private readonly main: MainConnection,
    private readonly filename: string,
  ) {
    this.wal = `${filename}-wal`;
    this.boundBytes = BOUND_PAGES * Number(main.pragma('page_size', { simple: true }));
    this.stepBytes = this.boundBytes / STEPS;
    main.pragma('wal_autocheckpoint = 0');
    main.pragma('journal_size_limit = 0');
  }

  /** Whether the worker thread runs. */
  get started(): boolean {
    return this.worker !== undefined;
  }

  /** Checkpoints run so far by the worker (tests, benchmarks). */
  get checkpoints(): number {
    return Atomics.load(this.shared, CHECKPOINTS);
  }

  /** Worker checkpoints that found a lock taken (tried again at the next step). */
  get busy(): number {
    return Atomics.load(this.shared, BUSY);
  }

  /** Whether the worker has run a checkpoint since it was last asked to (tests, benchmarks). */
  get caughtUp(): boolean {
    return Atomics.load(this.shared, COVERED) === Atomics.load(this.shared, REQUESTS);
  }

  /** Why the worker stopped, if it failed. */
  get error(): Error | undefined {
    return this.failure;
  }

  /** Called after each commit of the main connection. */
  committed(): void {
    const bytes = walBytes(this.wal);
    if (bytes < this.requestedAt) this.requestedAt = 0; // the WAL started over
    if (bytes >= this.boundBytes) this.checkpointHere();
    else if (bytes >= this.requestedAt + this.stepBytes && Atomics.load(this.shared, STOP) === 0) {
      if (!this.worker) this.start();
      this.requestedAt = bytes;
      Atomics.add(this.shared, REQUESTS, 1);
      Atomics.notify(this.shared, REQUESTS);
    }
  }

  /** Stop the worker and wait until its connection is closed (before the main connection closes, so that one is last). */
  async close(): Promise<void> {
    Atomics.store(this.shared, STOP, 1);
    // Held open until it has exited, or a process with nothing else to do would end before this connection closed.
    this.worker?.ref();
    Atomics.add(this.shared, REQUESTS, 1);
    Atomics.notify(this.shared, REQUESTS);
    await this.exited;
  }

  /** Copy what the worker has not, so the next commit starts the WAL over; tried again after the next commit while the worker holds the checkpoint lock. */
  private checkpointHere(): void {
    Atomics.store(this.shared, PAUSED, 1);
    let result: { busy: number; log: number; checkpointed: number } | undefined;
    try {
      [result] = this.main.pragma('wal_checkpoint(PASSIVE)') as Array<typeof result>;
    } catch {
      return; // the commit is done whatever happens here
    }
    if (result && result.busy === 0 && result.checkpointed === result.log) {
      this.bounded++;
      Atomics.store(this.shared, PAUSED, 0);
    }
  }

  private start(): void {
    const worker = new Worker(WORKER_SOURCE, {
      eval: true,
      execArgv: [],
      workerData: { filename: this.filename, shared: this.shared.buffer, betterSqlite3: createRequire(import.meta.url).resolve('better-sqlite3') },
      resourceLimits: { maxOldGenerationSizeMb: 8, maxYoungGenerationSizeMb: 1 },
      stdout: false,
      stderr: false,
    });
    this.worker = worker;
    // Not a reason to keep the process alive: close() stops it, and a process exiting without close() loses nothing.
    worker.unref();
    this.exited = new Promise((resolve) => {
      // A failed worker: SQLite's auto-checkpoint takes over again, on the event loop as before.
      worker.once('error', (error) => (this.failure = error));
      worker.once('exit', () => {
        if (Atomics.load(this.shared, STOP) === 0) {
          try {
            this.main.pragma(`wal_autocheckpoint = ${BOUND_PAGES}`);
          } catch {
            // the main connection is closed already
          }
        }
        resolve();
      });
    });
  }
}

function walBytes(path: string): number {
  return statSync(path, { throwIfNoEntry: false })?.size ?? 0;
}
