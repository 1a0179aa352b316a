/**
 * A small but real KeyService for tests (node:crypto): Ed25519 signing per jurisdiction,
 * HMAC-SHA256 and AES-256-GCM with keys derived per (tenant, jurisdiction, purpose) by HKDF,
 * scope bound as AAD. Not the product's key service (service/src/keys): a stand-in that does
 * the real cryptography so audit tests prove what they claim.
 */
import {
  createCipheriv,
  createDecipheriv,
  createHmac,
  generateKeyPairSync,
  hkdfSync,
  randomBytes,
  sign,
  verify,
  type KeyObject,
} from 'node:crypto';
import type { DataKeyScope, KeyService, PublicKeyInfo, Signature } from '../../keys/types.js';

export class TestKeyService implements KeyService {
  readonly provider = 'local' as const;
  private readonly master = randomBytes(32);
  private readonly privateKey: KeyObject;
  private readonly publicKey: KeyObject;
  readonly keyId: string;

  constructor(readonly jurisdiction: string) {
    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    this.privateKey = privateKey;
    this.publicKey = publicKey;
    this.keyId = `${jurisdiction}-sign-${randomBytes(4).toString('hex')}`;
  }

  private key(scope: DataKeyScope): Buffer {
    if (scope.jurisdiction !== this.jurisdiction) throw new Error(`key service of ${this.jurisdiction} refuses ${scope.jurisdiction}`);
    return Buffer.from(hkdfSync('sha256', this.master, Buffer.alloc(0), `${scope.tenant}|${scope.jurisdiction}|${scope.purpose}`, 32));
  }
  private aad(scope: DataKeyScope): Buffer {
    return Buffer.from(`${scope.tenant}|${scope.jurisdiction}|${scope.purpose}`);
  }

  async encrypt(scope: DataKeyScope, plaintext: Uint8Array | string): Promise<Buffer> {
    const iv = randomBytes(12);
    const c = createCipheriv('aes-256-gcm', this.key(scope), iv);
    c.setAAD(this.aad(scope));
    const body = Buffer.concat([c.update(typeof plaintext === 'string' ? Buffer.from(plaintext) : plaintext), c.final()]);
    return Buffer.concat([iv, c.getAuthTag(), body]);
  }
  async decrypt(scope: DataKeyScope, envelope: Uint8Array): Promise<Buffer> {
    const b = Buffer.from(envelope);
    const d = createDecipheriv('aes-256-gcm', this.key(scope), b.subarray(0, 12));
    d.setAAD(this.aad(scope));
    d.setAuthTag(b.subarray(12, 28));
    return Buffer.concat([d.update(b.subarray(28)), d.final()]);
  }
  async hmac(scope: DataKeyScope, data: Uint8Array | string): Promise<string> {
    return createHmac('sha256', this.key(scope)).update(data).digest('hex');
  }
  async sign(data: Uint8Array): Promise<Signature> {
    return { signature: sign(null, data, this.privateKey).toString('base64'), keyId: this.keyId, algorithm: 'Ed25519' };
  }
  async verify(data: Uint8Array, s: Signature): Promise<boolean> {
    return s.keyId === this.keyId && verify(null, data, this.publicKey, Buffer.from(s.signature, 'base64'));
  }
  async publicKeys(): Promise<PublicKeyInfo[]> {
    return [
      {
        keyId: this.keyId,
        algorithm: 'Ed25519',
        jurisdiction: this.jurisdiction,
        publicKeyPem: this.publicKey.export({ type: 'spki', format: 'pem' }).toString(),
      },
    ];
  }
  async rotate(): Promise<never> {
    throw new Error('not used in audit tests');
  }
  async destroyTenant(): Promise<never> {
    throw new Error('not used in audit tests');
  }
  async close(): Promise<void> {}
}
