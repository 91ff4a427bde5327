/**
 * Child process of sqlite-checkpoint.test.ts: writes batches of rows through the SQLite driver (worker checkpoints
 * on) until it is killed, printing "<batch> <checkpoints>" after each batch has committed.
 * Usage: node --import tsx sqlite-checkpoint.test-helper.ts <database file>
 */
import { SqliteDriver } from './sqlite.ts';

const driver = new SqliteDriver({ filename: process.argv[2]! });
await driver.exec('CREATE TABLE IF NOT EXISTS rows (batch INTEGER NOT NULL, n INTEGER NOT NULL, body TEXT NOT NULL, PRIMARY KEY (batch, n))');
const body = 'x'.repeat(4000);
for (let batch = 1; ; batch++) {
  await driver.writeBatch(Array.from({ length: 20 }, (_, n) => ({ sql: 'INSERT INTO rows (batch, n, body) VALUES (?, ?, ?)', params: [batch, n, body] })));
  process.stdout.write(`${batch} ${driver.checkpointer?.checkpoints ?? 0}\n`);
  if (batch % 10 === 0) await new Promise((resolve) => setImmediate(resolve));
}
