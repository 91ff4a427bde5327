/** `flowcrew credentials …`: key management commands, run beside (not instead of) a running runtime. */
import path from 'node:path';
import type { Command } from 'commander';
import { loadConfig } from '../config.ts';
import { CredentialVault } from '../credentials.ts';
import { createLogger } from '../runtime.ts';
import { openStorage } from '../storage/index.ts';
import { rotateKey } from './rotate.ts';

export function registerCredentialCommands(program: Command): void {
  const credentials = program.command('credentials').description('manage the keys that encrypt stored credentials');
  credentials
    .command('rotate-key')
    .description(
      're-encrypt every credential under a new key, without stopping running runtimes. With a key ring file a new key is generated; ' +
        'with FLOWCREW_SECRET, set the new secret in FLOWCREW_SECRET and the old one in FLOWCREW_SECRET_PREVIOUS first (for this command and the runtimes)',
    )
    .option('-d, --data-dir <dir>', 'data directory (default $FLOWCREW_DATA_DIR or ./.flowcrew)')
    .option('--keep-old-keys', 'keep the previous keys in the key ring file (decrypt only) instead of deleting them')
    .option('--grace <ms>', 'wait this long before the final check for credentials written with the old key', '2000')
    .action(async (opts: { dataDir?: string; keepOldKeys?: boolean; grace: string }) => {
      const graceMs = Number(opts.grace);
      if (!Number.isInteger(graceMs) || graceMs < 0) throw new Error(`--grace must be a non-negative integer of milliseconds (got "${opts.grace}")`);
      const config = loadConfig(process.env, opts.dataDir ? { dataDir: path.resolve(opts.dataDir) } : {});
      const log = createLogger(config.logLevel);
      // Storage and vault only: no flows are deployed and no runs resumed by this process.
      const storage = await openStorage({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, sqliteSynchronous: config.sqliteSynchronous });
      try {
        const vault = await CredentialVault.open(storage, config.dataDir, { keyRingFile: config.keyRingFile, log });
        const report = await rotateKey(vault, { graceMs, keepOldKeys: opts.keepOldKeys, log });
        process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
        if (report.failed.length > 0) process.exitCode = 1;
        else if (!report.generated) log.info('all credentials are encrypted under FLOWCREW_SECRET now: FLOWCREW_SECRET_PREVIOUS can be removed');
      } finally {
        await storage.close();
      }
    });
}
