// The libsignal side of hush's Node interop tests: @signalapp/libsignal-client 0.103.0 (installed
// by `npm ci` in tests/node from the lockfile) with in-memory stores, one Party per device.
// Written for hush's tests from the package's public API; test-only, never part of the library.
//
// A Party holds every store libsignal's protocol functions take (sessions, identities, prekeys,
// signed prekeys, Kyber prekeys, sender keys), so the same harness serves 1:1 (v4) interop later.
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
// tests/node/node_modules, or HUSH_NODE_MODULES if the packages live elsewhere.
const modules = process.env.HUSH_NODE_MODULES || join(here, '..', 'node_modules');
export const S = await import(
  pathToFileURL(join(modules, '@signalapp/libsignal-client/dist/index.js')).href);

const addressKey = (a) => `${a.name()}.${a.deviceId()}`;

export class SessionStore extends S.SessionStore {
  m = new Map();
  async saveSession(a, r) { this.m.set(addressKey(a), r.serialize()); }
  async getSession(a) {
    const v = this.m.get(addressKey(a));
    return v ? S.SessionRecord.deserialize(v) : null;
  }
  async getExistingSessions(as) { return Promise.all(as.map((a) => this.getSession(a))); }
}

// Trust on first use per name, as hush's stores do.
export class IdentityStore extends S.IdentityKeyStore {
  constructor(identity, registrationId) {
    super();
    this.identity = identity;
    this.registrationId = registrationId;
    this.m = new Map();
  }
  async getIdentityKey() { return this.identity.privateKey; }
  async getIdentityKeyPair() { return this.identity; }
  async getLocalRegistrationId() { return this.registrationId; }
  async saveIdentity(a, k) {
    const old = this.m.get(a.name());
    this.m.set(a.name(), k);
    return old && !old.equals(k) ? S.IdentityChange.ReplacedExisting
                                 : S.IdentityChange.NewOrUnchanged;
  }
  async isTrustedIdentity(a, k) {
    const old = this.m.get(a.name());
    return !old || old.equals(k);
  }
  async getIdentity(a) { return this.m.get(a.name()) || null; }
}

export class PreKeyStore extends S.PreKeyStore {
  m = new Map();
  async savePreKey(id, r) { this.m.set(id, r.serialize()); }
  async getPreKey(id) { return S.PreKeyRecord.deserialize(this.m.get(id)); }
  async removePreKey(id) { this.m.delete(id); }
}
export class SignedPreKeyStore extends S.SignedPreKeyStore {
  m = new Map();
  async saveSignedPreKey(id, r) { this.m.set(id, r.serialize()); }
  async getSignedPreKey(id) { return S.SignedPreKeyRecord.deserialize(this.m.get(id)); }
}
export class KyberPreKeyStore extends S.KyberPreKeyStore {
  m = new Map();
  async saveKyberPreKey(id, r) { this.m.set(id, r.serialize()); }
  async getKyberPreKey(id) { return S.KyberPreKeyRecord.deserialize(this.m.get(id)); }
  async markKyberPreKeyUsed() {}
}
export class SenderKeyStore extends S.SenderKeyStore {
  m = new Map();
  async saveSenderKey(a, distributionId, r) {
    this.m.set(`${addressKey(a)}/${distributionId}`, r.serialize());
  }
  async getSenderKey(a, distributionId) {
    const v = this.m.get(`${addressKey(a)}/${distributionId}`);
    return v ? S.SenderKeyRecord.deserialize(v) : null;
  }
}

// One libsignal device: an address (name, device id), an identity, and in-memory stores.
export class Party {
  constructor(name, deviceId = 1) {
    this.address = S.ProtocolAddress.new(name, deviceId);
    this.identity = S.IdentityKeyPair.generate();
    this.registrationId = 1 + Math.floor(Math.random() * 16380);
    this.sessions = new SessionStore();
    this.identities = new IdentityStore(this.identity, this.registrationId);
    this.preKeys = new PreKeyStore();
    this.signedPreKeys = new SignedPreKeyStore();
    this.kyberPreKeys = new KyberPreKeyStore();
    this.senderKeys = new SenderKeyStore();
  }

  // ---- groups (sender keys, current format) ----

  // Our SenderKeyDistributionMessage for `distributionId` (a lowercase UUID string), as bytes.
  async createDistribution(distributionId) {
    const m = await S.SenderKeyDistributionMessage.create(this.address, distributionId,
                                                          this.senderKeys);
    return Buffer.from(m.serialize());
  }
  // Processes `sender`'s (a ProtocolAddress) distribution message bytes.
  async processDistribution(sender, bytes) {
    await S.processSenderKeyDistributionMessage(
      sender, S.SenderKeyDistributionMessage.deserialize(bytes), this.senderKeys);
  }
  // A group message (SenderKeyMessage bytes) for `distributionId`.
  async groupEncrypt(distributionId, plaintext) {
    const m = await S.groupEncrypt(this.address, distributionId, this.senderKeys,
                                   Buffer.from(plaintext));
    return Buffer.from(m.serialize());
  }
  // The plaintext of `sender`'s group message bytes.
  async groupDecrypt(sender, bytes) {
    return Buffer.from(await S.groupDecrypt(sender, this.senderKeys, bytes));
  }
}
