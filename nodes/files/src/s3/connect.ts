/**
 * S3 clients: one per credential revision, shared by every node through the runtime's pooled resources, its sockets
 * opened through the outbound guard (guarded node:http agents).
 */
import type { S3Client } from '@aws-sdk/client-s3';
import { PooledResource, type NodeCredential, type OutboundServices, type RuntimeServices } from '@flowcrew/sdk';
import { guardedAgents } from './http-agents.ts';
import { loadNodeHttpHandler, loadS3 } from '../libs.ts';

export interface S3Fields extends Record<string, unknown> {
  /** Empty for AWS; https://s3.example.com or http://127.0.0.1:7070 for S3-compatible servers. */
  endpoint?: string;
  region: string;
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
  forcePathStyle?: boolean;
  /** The bucket nodes use unless they name another. */
  bucket?: string;
  readOnly?: boolean;
  maxConnections?: number;
}

export function describeS3(fields: Pick<S3Fields, 'endpoint' | 'region'>, bucket?: string): string {
  return `S3 ${bucket ? `bucket ${bucket} ` : ''}at ${fields.endpoint || `AWS ${fields.region}`}`;
}

export interface S3Connection {
  client: S3Client;
  close(): void;
}

export async function openS3(fields: S3Fields, outbound: OutboundServices): Promise<S3Connection> {
  const [{ S3Client }, NodeHttpHandler] = await Promise.all([loadS3(), loadNodeHttpHandler()]);
  const agents = guardedAgents(outbound, fields.maxConnections ?? 50);
  const client = new S3Client({
    region: fields.region,
    ...(fields.endpoint ? { endpoint: fields.endpoint } : {}),
    forcePathStyle: fields.forcePathStyle ?? Boolean(fields.endpoint),
    credentials: { accessKeyId: fields.accessKeyId, secretAccessKey: fields.secretAccessKey, ...(fields.sessionToken ? { sessionToken: fields.sessionToken } : {}) },
    requestHandler: new NodeHttpHandler({ ...agents, connectionTimeout: 10_000, requestTimeout: 120_000 }),
    maxAttempts: 3,
    // Checksums only where S3 requires them: S3-compatible servers do not all know the newer checksum headers.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
  return {
    client,
    close() {
      client.destroy();
      agents.httpAgent.destroy();
      agents.httpsAgent.destroy();
    },
  };
}

export function s3Handle(services: RuntimeServices, credential: NodeCredential<S3Fields>): PooledResource<S3Connection> {
  return new PooledResource<S3Connection>(services.resources, 'files:s3', async () => openS3(credential.fields, services.outbound), (c) => c.close(), { credential, idleMs: 10_000 });
}
