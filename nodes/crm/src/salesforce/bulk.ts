/**
 * Bulk API 2.0 with jsforce's job classes, a bounded part at a time: rows are uploaded in jobs of `jobSize` rows (one
 * CSV in memory at once, Salesforce takes up to 150 MB per job), and query results are fetched a page at a time with
 * the Sforce-Locator (jsforce's own `bulk2.query` reads every page before returning: not for large results).
 */
import type { Connection } from 'jsforce';
import { loadCsvStringify } from '../shared/libs.ts';
import type { Row } from './node-types.ts';

export interface IngestOptions {
  object: string;
  operation: 'insert' | 'update' | 'upsert' | 'delete' | 'hardDelete';
  externalIdFieldName?: string;
  pollIntervalMs: number;
  pollTimeoutMs: number;
}

export interface IngestSummary {
  jobs: string[];
  processed: number;
  succeeded: number;
  failed: number;
  unprocessed: number;
  /** The failed rows, with Salesforce's sf__Error (at most 1,000 kept here). */
  failures: Array<Record<string, unknown>>;
}

type Job = {
  id?: string;
  open(): Promise<unknown>;
  uploadData(csv: string): Promise<void>;
  close(): Promise<void>;
  poll(interval: number, timeout: number): Promise<void>;
  getAllResults(): Promise<{ successfulResults: unknown[]; failedResults: Array<Record<string, unknown>>; unprocessedRecords: unknown[] }>;
  delete(): Promise<void>;
};

async function csvOf(rows: Row[]): Promise<string> {
  const stringify = await loadCsvStringify();
  const columns = [...new Set(rows.flatMap((r) => Object.keys(r)))].filter((c) => c !== 'attributes');
  // Bulk API 2.0: an empty cell leaves a field as it is; #N/A sets it to null.
  return stringify(rows, { header: true, columns, cast: { object: (v) => JSON.stringify(v), boolean: (v) => (v ? 'true' : 'false'), date: (v) => v.toISOString() } });
}

export async function ingest(conn: Connection, parts: AsyncIterable<Row[]>, options: IngestOptions, signal: AbortSignal): Promise<IngestSummary> {
  const summary: IngestSummary = { jobs: [], processed: 0, succeeded: 0, failed: 0, unprocessed: 0, failures: [] };
  for await (const rows of parts) {
    if (signal.aborted) throw signal.reason as Error;
    if (rows.length === 0) continue;
    const job = conn.bulk2.createJob({ object: options.object, operation: options.operation, externalIdFieldName: options.externalIdFieldName, lineEnding: 'LF' } as never) as unknown as Job;
    await job.open();
    summary.jobs.push(job.id!);
    try {
      await job.uploadData(await csvOf(rows.map((r) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, v === null ? '#N/A' : v])))));
      await job.close();
      await job.poll(options.pollIntervalMs, options.pollTimeoutMs);
    } catch (error) {
      await job.delete().catch(() => undefined);
      throw error;
    }
    const results = await job.getAllResults();
    summary.processed += rows.length;
    summary.succeeded += results.successfulResults.length;
    summary.failed += results.failedResults.length;
    summary.unprocessed += results.unprocessedRecords.length;
    for (const failure of results.failedResults) if (summary.failures.length < 1000) summary.failures.push(failure);
  }
  return summary;
}

type QueryJobClass = new (conn: Connection, options: object) => QueryJob;
type QueryJob = { id: string; locator?: string; open(): Promise<unknown>; poll(interval?: number, timeout?: number): Promise<void>; createQueryRequest<T>(request: object): Promise<T> };

/** The records of a Bulk API 2.0 query, a page of `pageSize` at a time. */
export async function* bulkQuery(conn: Connection, soql: string, options: { pageSize: number; pollIntervalMs: number; pollTimeoutMs: number; all: boolean }): AsyncIterable<Row[]> {
  const bulk2 = (await import('jsforce/lib/api/bulk2.js')) as unknown as { QueryJobV2?: QueryJobClass; default?: { QueryJobV2: QueryJobClass } };
  const QueryJobV2 = (bulk2.QueryJobV2 ?? bulk2.default!.QueryJobV2)!;
  const job = new QueryJobV2(conn, { bodyParams: { query: soql, operation: options.all ? 'queryAll' : 'query' }, pollingOptions: { pollInterval: options.pollIntervalMs, pollTimeout: options.pollTimeoutMs } });
  await job.open();
  await job.poll(options.pollIntervalMs, options.pollTimeoutMs);
  let locator: string | undefined;
  do {
    const query = new URLSearchParams({ maxRecords: String(options.pageSize), ...(locator ? { locator } : {}) });
    const records = await job.createQueryRequest<Row[]>({ method: 'GET', path: `/${job.id}/results?${query}`, headers: { Accept: 'text/csv' }, responseType: 'text/csv' });
    locator = job.locator;
    yield records ?? [];
  } while (locator && locator !== 'null');
}
