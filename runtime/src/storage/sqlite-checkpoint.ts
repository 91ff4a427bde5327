/**
 * WAL checkpoints off the event loop. SQLite's auto-checkpoint runs inside the commit that pushes the WAL past 1,000
 * pages (16 MB with 16 KB pages): that commit copied every page back into the database file and synced it on the
 * event loop, 54-212 ms under the webhook benchmark, the longest loop block there (bench/README.md, session 9).
 *
 * Here a worker thread holds its own connection to the same file and runs `PRAGMA wal_checkpoint(PASSIVE)` after
 * the main connection commits (at most every MIN_INTERVAL_MS). A PASSIVE checkpoint never blocks the writer nor
 * waits for it: it copies the frames committed so far while new ones are appended. But only a checkpoint that copied
 * every frame lets the next commit start the WAL from its beginning, and under steady writes the worker is always a
 * commit or two behind. So the main connection's auto-checkpoint is off and the bound is kept here: once the WAL
 * file reaches BOUND_PAGES pages (a stat after each commit; `journal_size_limit` truncates the file to half of that
 * when the WAL starts over, so its size is what the WAL holds), the worker pauses and the main connection checkpoints
 * itself at the end of a commit, as SQLite's auto-checkpoint did, with only the frames since the worker's last pass
 * left to copy. If the worker fails, SQLite's auto-checkpoint is switched back on.
 *
 * Crash safety is SQLite's WAL guarantee, unchanged: a commit is durable in the WAL whatever a checkpointer is doing;
 * a checkpoint only copies committed pages, and an interrupted one is redone from the WAL at the next open.
 *
 * The worker starts when the WAL first reaches an eighth of the bound. It is plain JavaScript evaluated from a string (no TypeScript loader, no preloads: `execArgv: []`), with
 * a small heap; it blocks on Atomics.wait between checkpoints, so the main thread's cost per commit is an Atomics.add,
 * a notify and a load.
 */
import { statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

/** The shortest time between two checkpoints: bounds the syncs per second (each checkpoint syncs WAL and file). */
export const MIN_INTERVAL_MS = 20;

/** The WAL size (pages) at which the main connection checkpoints itself: SQLite's auto-checkpoint default. */
export const BOUND_PAGES = 1000;

/** Int32 slots shared with the worker. */
const COMMITS = 0;
const STOP = 1;
const CHECKPOINTS = 2;
/** The commit count the worker's last checkpoint started after (every commit up to it is copied). */
const COVERED = 3;
/** 1 while the main connection waits to checkpoint itself: the worker starts none. */
const PAUSED = 4;
const SLOTS = 5;

const WORKER_SOURCE = `
const { workerData } = require('node:worker_threads');
const Database = require(workerData.betterSqlite3);
const shared = new Int32Array(workerData.shared);
const idle = new Int32Array(new SharedArrayBuffer(4));
const db = new Database(workerData.filename, { fileMustExist: true });
db.pragma('busy_timeout = 0');
db.pragma('cache_size = -256');
db.pragma('wal_autocheckpoint = 0');
try {
  let done = 0;
  while (Atomics.load(shared, ${STOP}) === 0) {
    const seen = Atomics.load(shared, ${COMMITS});
    if (seen !== done && Atomics.load(shared, ${PAUSED}) === 0) {
      db.pragma('wal_checkpoint(PASSIVE)');
      Atomics.add(shared, ${CHECKPOINTS}, 1);
      Atomics.store(shared, ${COVERED}, seen);
      done = seen;
      Atomics.wait(idle, 0, 0, ${MIN_INTERVAL_MS});
    } else {
      Atomics.wait(shared, ${COMMITS}, seen);
    }
  }
} finally {
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

  /** `filename`: an existing SQLite database in WAL mode, `main` the connection that writes it. */
  constructor(
    private readonly main: MainConnection,
    private readonly filename: string,
  ) {
    this.wal = `${filename}-wal`;
    this.boundBytes = BOUND_PAGES * Number(main.pragma('page_size', { simple: true }));
    main.pragma('wal_autocheckpoint = 0');
    main.pragma(`journal_size_limit = ${this.boundBytes / 2}`);
  }

  /** Whether the worker thread runs (it starts once the WAL first reaches an eighth of the bound). */
  get started(): boolean {
    return this.worker !== undefined;
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

  /** Checkpoints run so far by the worker (tests, benchmarks). */
  get checkpoints(): number {
    return Atomics.load(this.shared, CHECKPOINTS);
  }

  /** Whether the worker's last checkpoint came after the main connection's last commit (tests, benchmarks). */
  get caughtUp(): boolean {
    return Atomics.load(this.shared, COVERED) === Atomics.load(this.shared, COMMITS);
  }

  /** Why the worker stopped, if it failed. */
  get error(): Error | undefined {
    return this.failure;
  }

  /** Called after each commit of the main connection. */
  committed(): void {
    const bytes = walBytes(this.wal);
    // Lazily: a database that is hardly written (tests, a quiet runtime) never pays for the thread.
    if (!this.worker && bytes >= this.boundBytes / 8 && Atomics.load(this.shared, STOP) === 0) this.start();
    if (bytes >= this.boundBytes) this.checkpointHere();
    Atomics.add(this.shared, COMMITS, 1);
    Atomics.notify(this.shared, COMMITS);
  }

  /** Copy what the worker has not yet, so the next commit starts the WAL over; retried at the next commit while the worker holds the checkpoint lock. */
  private checkpointHere(): void {
    Atomics.store(this.shared, PAUSED, 1);
    let result: { busy: number; log: number; checkpointed: number } | undefined;
    try {
      [result] = this.main.pragma('wal_checkpoint(PASSIVE)') as Array<typeof result>;
    } catch {
      return; // the commit is done whatever happens here; tried again after the next one
    }
    if (result && result.busy === 0 && result.checkpointed === result.log) {
      this.bounded++;
      Atomics.store(this.shared, PAUSED, 0);
    }
  }

  /** Stop the worker and wait until its connection is closed (before the main connection closes, so that one is last). */
  async close(): Promise<void> {
    Atomics.store(this.shared, STOP, 1);
    Atomics.add(this.shared, COMMITS, 1);
    Atomics.notify(this.shared, COMMITS);
    await this.exited;
  }
}

function walBytes(path: string): number {
  return statSync(path, { throwIfNoEntry: false })?.size ?? 0;
}
