/**
 * Signed answer links: a JWT (jose, HS256) naming one question, valid until it expires, usable once because the
 * question itself can be answered only once (store.ts). The signing key is derived (HKDF) from the credential vault's
 * master key, so no new secret has to be kept, every process sharing the vault signs and verifies alike, and a link
 * signed before a key rotation verifies as long as the old key is in the ring (the token names it in `kid`).
 */
import { hkdfSync } from 'node:crypto';
import { errors, jwtVerify, SignJWT } from 'jose';
import type { KeyRing } from '../vault/keyring.ts';

const AUDIENCE = 'flowcrew:wait-answer';
const INFO = 'flowcrew waiting link v1';

export class LinkError extends Error {
  constructor(
    message: string,
    readonly reason: 'expired' | 'invalid',
  ) {
    super(message);
    this.name = 'LinkError';
  }
}

export class WaitLinks {
  constructor(
    private readonly keys: Pick<KeyRing, 'current' | 'find'>,
    /** Public base URL of the editor/API (FLOWCREW_PUBLIC_URL), for the links handed to notify flows. */
    private readonly baseUrl: string,
  ) {}

  /** A token answering `waitId`, valid for `ttlMs`. */
  async sign(waitId: string, ttlMs: number, now = Date.now()): Promise<string> {
    const master = await this.keys.current();
    return new SignJWT({})
      .setProtectedHeader({ alg: 'HS256', kid: master.id })
      .setSubject(waitId)
      .setAudience(AUDIENCE)
      .setIssuedAt(Math.floor(now / 1000))
      .setExpirationTime(Math.floor((now + ttlMs) / 1000))
      .sign(derive(master.key));
  }

  /** The page a person opens (the editor's answer page reads the token from the fragment, never sent in logs). */
  url(token: string): string {
    return `${this.baseUrl.replace(/\/$/, '')}/#/answer/${token}`;
  }

  /** The question id a token answers; a LinkError saying why when it is expired, altered or not a link. */
  async verify(token: string): Promise<string> {
    try {
      const { payload } = await jwtVerify(
        token,
        async (header) => {
          const key = header.kid ? await this.keys.find(header.kid) : undefined;
          if (!key) throw new LinkError('the link was signed with a key this runtime does not have (rotated away)', 'invalid');
          return derive(key.key);
        },
        { audience: AUDIENCE, algorithms: ['HS256'] },
      );
      if (typeof payload.sub !== 'string' || !payload.sub) throw new LinkError('the link names no question', 'invalid');
      return payload.sub;
    } catch (error) {
      if (error instanceof LinkError) throw error;
      if (error instanceof errors.JWTExpired) throw new LinkError('the link has expired', 'expired');
      throw new LinkError('the link is not valid (altered, or not an answer link)', 'invalid');
    }
  }
}

function derive(master: Buffer): Uint8Array {
  return new Uint8Array(hkdfSync('sha256', master, Buffer.alloc(0), INFO, 32));
}
