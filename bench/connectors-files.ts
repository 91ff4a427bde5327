/**
 * File connector throughput (printed, never asserted): read and write of one SIZE MB file through each backend's
 * node, beside the raw client library doing the same transfer in the same run, so the platform's share is a ratio.
 *   - write: the content is a blob in the runtime's blob store (as it is in a flow); the node streams it to the file,
 *     raw streams the same blob with fs / ssh2-sftp-client / @aws-sdk (lib-storage Upload, same part size);
 *   - read: the node reads into a blob (claim check: hashed and stored); raw streams the file into a local file.
 * Needs `scripts/services sftp s3` for those two (skipped with a note when not running).
 * Usage: node --import tsx bench/connectors-files.ts [--mb 64] [--repeat 3] [--only local|sftp|s3]
 */
import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { CreateBucketCommand, GetObjectCommand } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import SftpClient from 'ssh2-sftp-client';
import { createOutboundGuard } from '../runtime/src/outbound/index.ts';
import { closeTestServices, createTestNode, setTestServiceDefaults, testBlobStore } from '../nodes/sdk/src/testing.ts';
import type { NodeDefinition } from '../nodes/sdk/src/index.ts';
import { localFileNode } from '../nodes/files/src/local/node.ts';
import { sftpNode } from '../nodes/files/src/sftp/node.ts';
import { s3Node } from '../nodes/files/src/s3/node.ts';
import { openS3 } from '../nodes/files/src/s3/connect.ts';
import { s3TestFields } from '../nodes/files/src/s3/testing.ts';
import { SFTP_DATA, sftpTestFields } from '../nodes/files/src/sftp/testing.ts';

const args = process.argv.slice(2);
const option = (name: string, fallback: number) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] ? Number(args[i + 1]) : fallback;
};
const MB = option('mb', 64);
const REPEAT = option('repeat', 3);
const onlyIndex = args.indexOf('--only');
const only = onlyIndex >= 0 ? args[onlyIndex + 1] : undefined;

const outbound = createOutboundGuard({ allow: ['127.0.0.1'] });
setTestServiceDefaults({ outbound });
const scratch = await mkdtemp(path.join(tmpdir(), 'flowcrew-bench-files-'));
process.env.FLOWCREW_FILES_DIR = path.join(scratch, 'files');
const blobs = await testBlobStore();
const content = randomBytes(MB * 1024 * 1024);
const ref = await blobs.put(content);

async function best(run: () => Promise<void>): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < REPEAT; i++) {
    const start = process.hrtime.bigint();
    await run();
    times.push(Number(process.hrtime.bigint() - start) / 1e9);
  }
  return Math.min(...times);
}

const mbps = (seconds: number) => MB / seconds;
function report(backend: string, op: string, raw: number, node: number) {
  console.log(`${backend.padEnd(6)} ${op.padEnd(5)} ${MB} MB  raw ${mbps(raw).toFixed(1).padStart(7)} MB/s  node ${mbps(node).toFixed(1).padStart(7)} MB/s  node/raw ${(raw / node).toFixed(2)}`);
}

async function nodeRuns(definition: NodeDefinition, credentials: Record<string, unknown> | undefined, file: string) {
  const options = credentials ? { credentials, credential: { id: `bench-${definition.type}` } } : {};
  const writer = await createTestNode(definition, { operation: 'write', path: file }, options);
  const reader = await createTestNode(definition, { operation: 'read', path: file, output: 'blob' }, options);
  await writer.input({ payload: ref }); // connect once before timing
  return {
    write: () => best(async () => void (await writer.input({ payload: ref }))),
    read: () => best(async () => void (await reader.input({}))),
    stop: async () => {
      await writer.stop();
      await reader.stop();
    },
  };
}

const sinkFile = path.join(scratch, 'sink.bin');
const rawSink = (stream: Readable) => pipeline(stream, createWriteStream(sinkFile));

if (!only || only === 'local') {
  const target = path.join(process.env.FLOWCREW_FILES_DIR, 'raw.bin');
  await (await import('node:fs/promises')).mkdir(process.env.FLOWCREW_FILES_DIR, { recursive: true });
  const rawWrite = await best(async () => pipeline(await blobs.get(ref), createWriteStream(target)));
  const rawRead = await best(async () => rawSink((await import('node:fs')).createReadStream(target)));
  const node = await nodeRuns(localFileNode, undefined, 'node.bin');
  report('local', 'write', rawWrite, await node.write());
  report('local', 'read', rawRead, await node.read());
  await node.stop();
}

if (!only || only === 'sftp') {
  const fields = sftpTestFields({ root: `${SFTP_DATA}/home` });
  const client = new SftpClient();
  try {
    await client.connect({ host: '127.0.0.1', port: fields.port, username: fields.username, password: fields.password });
    const remote = `${SFTP_DATA}/home/bench-raw.bin`;
    const rawWrite = await best(async () => void (await client.put(await blobs.get(ref), remote)));
    const rawRead = await best(async () => rawSink(client.createReadStream(remote) as unknown as Readable));
    await client.delete(remote);
    const node = await nodeRuns(sftpNode, fields, 'bench-node.bin');
    report('sftp', 'write', rawWrite, await node.write());
    report('sftp', 'read', rawRead, await node.read());
    await node.stop();
  } catch (error) {
    console.log(`sftp   skipped: ${(error as Error).message} (run scripts/services sftp)`);
  } finally {
    await client.end().catch(() => undefined);
  }
}

if (!only || only === 's3') {
  const bucket = `flowcrew-bench-${process.pid}`;
  const fields = s3TestFields({ bucket });
  const raw = await openS3(fields, outbound);
  try {
    await raw.client.send(new CreateBucketCommand({ Bucket: bucket }));
    const partSize = 8 * 1024 * 1024;
    const rawWrite = await best(async () => void (await new Upload({ client: raw.client, params: { Bucket: bucket, Key: 'raw.bin', Body: await blobs.get(ref) }, partSize, queueSize: 4 }).done()));
    const rawRead = await best(async () => rawSink((await raw.client.send(new GetObjectCommand({ Bucket: bucket, Key: 'raw.bin' }))).Body as Readable));
    const node = await nodeRuns(s3Node, fields, 'node.bin');
    report('s3', 'write', rawWrite, await node.write());
    report('s3', 'read', rawRead, await node.read());
    await node.stop();
  } catch (error) {
    console.log(`s3     skipped: ${(error as Error).message} (run scripts/services s3)`);
  } finally {
    raw.close();
  }
}

await closeTestServices();
await outbound.close();
await rm(scratch, { recursive: true, force: true });
