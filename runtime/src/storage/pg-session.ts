/**
 * What a PostgreSQL connection of the runtime asks of its session (issue 10, session 15): lz4 for the values
 * PostgreSQL compresses.
 *
 * A finished run's compact history (`runs.invocations_json`, ~2.3 KB for the 6-node webhook) makes the row pass
 * PostgreSQL's TOAST threshold (~2 KB), so every finishing UPDATE compresses it, by default with pglz: ~22 µs of
 * PostgreSQL CPU per run (pg_stat_statements: the finishing UPDATE 72 → 50 µs per call with lz4), several times what
 * lz4 costs. Each new pooled connection runs ONE statement that sets `default_toast_compression = lz4` for its
 * session, only where the server has it (PostgreSQL 14+ built with lz4; `pg_settings.enumvals` says so), so an older
 * server or one without lz4 gets no error (and keeps pglz, said once in the log). Readers see the same values:
 * decompression is the server's, whatever method a value was stored with (pg_column_compression tells them apart).
 *
 * FLOWCREW_PG_COMPRESSION=server keeps the server's own default (pglz unless its configuration says otherwise).
 */

export type ToastCompression = 'lz4' | 'server';

export function toastCompressionFromEnv(value: string | undefined = process.env.FLOWCREW_PG_COMPRESSION): ToastCompression {
  const v = (value ?? '').trim().toLowerCase();
  return v === 'server' || v === 'off' || v === 'default' || v === 'pglz' ? 'server' : 'lz4';
}

/** Sets lz4 for this session where the server knows it; answers one row `{ lz4: true }` then, none otherwise. */
export const SESSION_LZ4_SQL =
  "SELECT set_config('default_toast_compression', 'lz4', false) = 'lz4' AS lz4 FROM pg_settings " +
  "WHERE name = 'default_toast_compression' AND 'lz4' = ANY(enumvals)";

/** What the session set-up needs of a pg client. */
export interface SessionClient {
  query(text: string): Promise<{ rows: unknown[] }>;
}

/**
 * The per-connection set-up: the pool's `onConnect` hook, awaited before the pool hands the new connection out (so
 * nothing else is asked of it meanwhile). Never throws: a failure (the connection lost) shows in the next query on
 * that client.
 */
export class SessionSetup {
  private warned = false;

  constructor(
    readonly compression: ToastCompression,
    private readonly log: (message: string) => void = (message) => console.warn(message),
  ) {}

  async onConnect(client: SessionClient): Promise<void> {
    if (this.compression !== 'lz4') return;
    try {
      const { rows } = await client.query(SESSION_LZ4_SQL);
      if (rows.length === 0 && !this.warned) {
        this.warned = true;
        this.log('[flowcrew] PostgreSQL has no lz4 compression (PostgreSQL 14+ built with lz4): long values are compressed with the server default');
      }
    } catch {
      // The connection failed: its next query fails as it would have.
    }
  }
}
