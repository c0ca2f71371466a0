// Router and PPP passwords are encrypted at rest with AES-256-GCM under a key from the environment
// (BILLING_ENCRYPTION_KEY, 32 bytes as hex or base64). Stored as `v1:<iv>:<tag>:<ciphertext>` (base64url).
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

export class SecretBox {
  private readonly key: Buffer;

  constructor(key: string | Buffer) {
    const raw =
      typeof key !== 'string'
        ? key
        : /^[0-9a-fA-F]{64}$/.test(key)
          ? Buffer.from(key, 'hex')
          : Buffer.from(key, 'base64');
    if (raw.length !== 32)
      throw new Error('BILLING_ENCRYPTION_KEY must be 32 bytes, given as 64 hex digits or base64');
    this.key = raw;
  }

  seal(plain: string): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    const body = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
    return [
      'v1',
      iv.toString('base64url'),
      cipher.getAuthTag().toString('base64url'),
      body.toString('base64url'),
    ].join(':');
  }

  open(sealed: string): string {
    const [v, iv, tag, body] = sealed.split(':');
    if (v !== 'v1' || !iv || !tag || body === undefined) throw new Error('not a sealed secret');
    const decipher = createDecipheriv('aes-256-gcm', this.key, Buffer.from(iv, 'base64url'));
    decipher.setAuthTag(Buffer.from(tag, 'base64url'));
    return Buffer.concat([decipher.update(Buffer.from(body, 'base64url')), decipher.final()]).toString(
      'utf8',
    );
  }
}
