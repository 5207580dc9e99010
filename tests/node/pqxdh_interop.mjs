// hush <-> current libsignal (0.103, the Node package) in 1:1 sessions of protocol version 4:
// PQXDH in both directions (with and without a one-time EC prekey, and with hush's last-resort
// Kyber prekey), then a long ping-pong with bursts, reordering, loss of a fifth of the messages
// both ways, duplicates, and tampering refused with the session still usable; simultaneous
// initiation (both converge on one session); identity change both ways (refused until trusted,
// then a new session). Names are ACI UUIDs on both sides, so the `addresses` field is sent and
// checked (signal-v4-wire.md §3.4).
//
// usage: node tests/node/pqxdh_interop.mjs path/to/hush-cli
// Exits non-zero at the first failed check, saying what failed.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';

import { HushDevice, lines, scratch } from './lib/hush_cli.mjs';
import { Party, S } from './lib/libsignal.mjs';

// The long exchanges must take hush's SPQR through at least kMinEpochs epochs (the ML-KEM-768
// braid completes an epoch only when its header, key and ciphertext chunks get through both ways).
const kMinEpochs = 10;
// Rounds of the long exchanges (each about 6 messages each way, a fifth lost).
const kLongRounds = 120;
// After simultaneous initiation: a shorter exchange, which must still complete SPQR epochs.
const kSimultaneousRounds = 40;
const kSimultaneousMinEpochs = 3;

const cli = process.argv[2];
if (!cli) {
  console.error('usage: node pqxdh_interop.mjs path/to/hush-cli');
  process.exit(1);
}
const ok = (what) => console.log(`   ok: ${what}`);
const step = (what) => console.log(`\n== ${what}`);
const root = scratch();

// A seeded shuffle, so that a failure can be replayed.
let seed = 12345;
const rand = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32);
const shuffled = (xs) => {
  const a = [...xs];
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [a[i], a[j]] = [a[j], a[i]];
  }
  return a;
};

// ---- the libsignal side: a Party with bundles and 1:1 messages (address = ACI UUID) ----

function makeBundle(p, { withOneTime = true, kyberId = 33 } = {}) {
  const pk = S.PrivateKey.generate();
  p.preKeys.m.set(11, S.PreKeyRecord.new(11, pk.getPublicKey(), pk).serialize());
  const spk = S.PrivateKey.generate();
  const spkSig = p.identity.privateKey.sign(spk.getPublicKey().serialize());
  p.signedPreKeys.m.set(22,
    S.SignedPreKeyRecord.new(22, Date.now(), spk.getPublicKey(), spk, spkSig).serialize());
  const kem = S.KEMKeyPair.generate();
  const kemSig = p.identity.privateKey.sign(kem.getPublicKey().serialize());
  p.kyberPreKeys.m.set(kyberId, S.KyberPreKeyRecord.new(kyberId, Date.now(), kem, kemSig).serialize());
  return S.PreKeyBundle.new(p.registrationId, 1, withOneTime ? 11 : null,
    withOneTime ? pk.getPublicKey() : null, 22, spk.getPublicKey(), spkSig,
    p.identity.publicKey, kyberId, kem.getPublicKey(), kemSig);
}

// libsignal's bundle as the JSON line hush-cli's process-bundle reads.
function bundleJson(b) {
  const hex = (x) => Buffer.from(x).toString('hex');
  const o = {
    registration_id: b.registrationId(), device_id: b.deviceId(),
    identity_key: hex(b.identityKey().serialize()),
    signed_prekey_id: b.signedPreKeyId(), signed_prekey: hex(b.signedPreKeyPublic().serialize()),
    signed_prekey_signature: hex(b.signedPreKeySignature()),
    kyber_prekey_id: b.kyberPreKeyId(), kyber_prekey: hex(b.kyberPreKeyPublic().serialize()),
    kyber_prekey_signature: hex(b.kyberPreKeySignature()),
  };
  if (b.preKeyId() !== null) {
    o.prekey_id = b.preKeyId();
    o.prekey = hex(b.preKeyPublic().serialize());
  }
  return JSON.stringify(o) + '\n';
}

// hush-cli's bundle JSON as a libsignal PreKeyBundle.
function fromHushBundle(j) {
  const key = (h) => S.PublicKey.deserialize(Buffer.from(h, 'hex'));
  return S.PreKeyBundle.new(j.registration_id, j.device_id,
    j.prekey_id ?? null, j.prekey ? key(j.prekey) : null,
    j.signed_prekey_id, key(j.signed_prekey), Buffer.from(j.signed_prekey_signature, 'hex'),
    key(j.identity_key), j.kyber_prekey_id,
    S.KEMPublicKey.deserialize(Buffer.from(j.kyber_prekey, 'hex')),
    Buffer.from(j.kyber_prekey_signature, 'hex'));
}

// A libsignal message as hush-cli's JSON line, and back.
const asLine = (m) => JSON.stringify({
  type: m.type() === S.CiphertextMessageType.PreKey ? 'prekey' : 'whisper',
  body: Buffer.from(m.serialize()).toString('hex'),
}) + '\n';

async function lsEncrypt(p, to, text) {
  return S.signalEncrypt(Buffer.from(text), to, p.address, p.sessions, p.identities);
}
async function lsDecrypt(p, from, line) {
  const body = Buffer.from(line.body, 'hex');
  if (line.type === 'prekey') {
    return Buffer.from(await S.signalDecryptPreKey(S.PreKeySignalMessage.deserialize(body), from,
      p.address, p.sessions, p.identities, p.preKeys, p.signedPreKeys, p.kyberPreKeys)).toString();
  }
  return Buffer.from(await S.signalDecrypt(S.SignalMessage.deserialize(body), from, p.address,
    p.sessions, p.identities)).toString();
}

// ---- the hush side ----

function hushDevice(uuid, extra = []) {
  const d = new HushDevice(cli, `${root}/${uuid}`, uuid);
  d.run(['init', '--name', uuid, '--prekeys', '3', '--kyber-prekeys', '2', ...extra]);
  return d;
}
const hushEncrypt = (d, peer, text) =>
  lines(d.run(['encrypt', '--peer', peer, '--device', '1'], text))[0];
const hushDecrypt = (d, peer, line) =>
  d.run(['decrypt', '--peer', peer, '--device', '1'], JSON.stringify(line) + '\n').toString();
const hushInfo = (d, peer) =>
  lines(d.run(['session-info', '--peer', peer, '--device', '1']))[0];
const lsEpochNote = 'libsignal exposes no SPQR epoch; its side advances with hush\'s';

// A ping-pong of `rounds` rounds with bursts: each side sends 5, the other gets them shuffled,
// a fifth lost, each delivered one again (a duplicate: refused), and one tampered (refused) before
// the genuine one. Returns the number delivered.
async function exchange(h, hName, p, rounds) {
  let delivered = 0;
  for (let r = 0; r < rounds; r++) {
    // hush -> libsignal
    const out = [];
    for (let i = 0; i < 5; i++) out.push([hushEncrypt(h, p.address.name(), `h${r}.${i}`), `h${r}.${i}`]);
    const kept = shuffled(out).filter((_, i) => i !== 0);  // one of five lost
    for (const [line, text] of kept) {
      assert.equal(await lsDecrypt(p, S.ProtocolAddress.new(hName, 1), line), text);
      await assert.rejects(lsDecrypt(p, S.ProtocolAddress.new(hName, 1), line));
      delivered++;
    }
    {
      const [line, text] = [hushEncrypt(h, p.address.name(), `t${r}`), `t${r}`];
      const bad = Buffer.from(line.body, 'hex');
      bad[Math.floor(bad.length / 2)] ^= 0x04;
      await assert.rejects(lsDecrypt(p, S.ProtocolAddress.new(hName, 1),
        { type: line.type, body: bad.toString('hex') }));
      assert.equal(await lsDecrypt(p, S.ProtocolAddress.new(hName, 1), line), text);
    }
    // libsignal -> hush
    const back = [];
    for (let i = 0; i < 5; i++) {
      back.push([JSON.parse(asLine(await lsEncrypt(p, S.ProtocolAddress.new(hName, 1), `l${r}.${i}`))),
        `l${r}.${i}`]);
    }
    for (const [line, text] of shuffled(back).filter((_, i) => i !== 0)) {
      assert.equal(hushDecrypt(h, p.address.name(), line), text);
      h.expectError('duplicate_message', ['decrypt', '--peer', p.address.name(), '--device', '1'],
        JSON.stringify(line) + '\n');
      delivered++;
    }
    {
      const m = await lsEncrypt(p, S.ProtocolAddress.new(hName, 1), `u${r}`);
      const line = JSON.parse(asLine(m));
      const bad = Buffer.from(line.body, 'hex');
      bad[bad.length - 2] ^= 0x01;  // the MAC
      h.expectError('invalid_message', ['decrypt', '--peer', p.address.name(), '--device', '1'],
        JSON.stringify({ type: line.type, body: bad.toString('hex') }) + '\n');
      assert.equal(hushDecrypt(h, p.address.name(), line), `u${r}`);
    }
  }
  return delivered;
}

function checkEpochs(h, peer, what, min = kMinEpochs) {
  const info = hushInfo(h, peer);
  assert.equal(info.version, 4, `${what}: session version`);
  assert.ok(info.spqr_epoch >= min, `${what}: SPQR epoch ${info.spqr_epoch} < ${min}`);
  ok(`${what}: version 4, SPQR epoch ${info.spqr_epoch} (${lsEpochNote})`);
}

// ---- 1. libsignal starts (PQXDH as initiator) against hush's bundle ----
for (const withOneTime of [true, false]) {
  step(`libsignal -> hush, PQXDH, ${withOneTime ? 'with' : 'without'} a one-time EC prekey`);
  const hName = randomUUID();
  const h = hushDevice(hName);
  const p = new Party(randomUUID());
  const hb = lines(h.run(['bundle', ...(withOneTime ? [] : ['--no-prekey'])]))[0];
  assert.equal(hb.kyber_prekey.length, 1569 * 2);
  assert.equal(hb.kyber_prekey.slice(0, 2), '08');
  assert.equal(hb.kyber_prekey_id, 1);
  const hAddr = S.ProtocolAddress.new(hName, 1);
  await S.processPreKeyBundle(fromHushBundle(hb), hAddr, p.address, p.sessions, p.identities);
  const first = await lsEncrypt(p, hAddr, 'hello from libsignal');
  assert.equal(first.type(), S.CiphertextMessageType.PreKey);
  assert.equal(Buffer.from(first.serialize())[0], 0x44);
  assert.equal(hushDecrypt(h, p.address.name(), JSON.parse(asLine(first))), 'hello from libsignal');
  ok('hush decrypted libsignal\'s PQXDH prekey message (version 0x44, addresses checked)');
  // The one-time Kyber prekey was used: the next bundle offers the other one.
  assert.equal(lines(h.run(['bundle']))[0].kyber_prekey_id, 2);
  ok('hush removed the used one-time Kyber prekey');
  const reply = hushEncrypt(h, p.address.name(), 'hello from hush');
  assert.equal(reply.type, 'whisper');
  assert.equal(await lsDecrypt(p, hAddr, reply), 'hello from hush');
  ok('libsignal decrypted hush\'s answer');
  const n = await exchange(h, hName, p, withOneTime ? kLongRounds : 3);
  ok(`${n} messages delivered both ways with reordering, loss, duplicates and tampering`);
  if (withOneTime) checkEpochs(h, p.address.name(), 'hush as responder');
}

// ---- 2. hush starts (PQXDH as initiator) against libsignal's bundle ----
for (const withOneTime of [true, false]) {
  step(`hush -> libsignal, PQXDH, ${withOneTime ? 'with' : 'without'} a one-time EC prekey`);
  const hName = randomUUID();
  const h = hushDevice(hName);
  const p = new Party(randomUUID());
  h.run(['process-bundle', '--peer', p.address.name()], bundleJson(makeBundle(p, { withOneTime })));
  assert.equal(hushInfo(h, p.address.name()).version, 4);
  const first = hushEncrypt(h, p.address.name(), 'hello from hush');
  assert.equal(first.type, 'prekey');
  assert.equal(first.body.slice(0, 2), '44');
  assert.equal(await lsDecrypt(p, S.ProtocolAddress.new(hName, 1), first), 'hello from hush');
  ok('libsignal decrypted hush\'s PQXDH prekey message');
  const reply = await lsEncrypt(p, S.ProtocolAddress.new(hName, 1), 'hello from libsignal');
  assert.equal(hushDecrypt(h, p.address.name(), JSON.parse(asLine(reply))), 'hello from libsignal');
  ok('hush decrypted libsignal\'s answer');
  const n = await exchange(h, hName, p, withOneTime ? kLongRounds : 3);
  ok(`${n} messages delivered both ways with reordering, loss, duplicates and tampering`);
  if (withOneTime) checkEpochs(h, p.address.name(), 'hush as initiator');
}

// ---- 3. hush's last-resort Kyber prekey, used by two libsignal initiators ----
step('libsignal -> hush, PQXDH with hush\'s last-resort Kyber prekey');
{
  const hName = randomUUID();
  const h = hushDevice(hName);
  const hb = lines(h.run(['bundle', '--last-resort-kyber', '--no-prekey']))[0];
  assert.equal(hb.kyber_prekey_id, 3);  // --kyber-prekeys 2: one-time 1 and 2, last resort 3
  const hAddr = S.ProtocolAddress.new(hName, 1);
  for (const who of ['first', 'second']) {
    const p = new Party(randomUUID());
    await S.processPreKeyBundle(fromHushBundle(hb), hAddr, p.address, p.sessions, p.identities);
    const m = await lsEncrypt(p, hAddr, `${who} via last resort`);
    assert.equal(hushDecrypt(h, p.address.name(), JSON.parse(asLine(m))), `${who} via last resort`);
    assert.equal(await lsDecrypt(p, hAddr, hushEncrypt(h, p.address.name(), 'ack')), 'ack');
    // Replayed under another name: refused (its base key already set up a session).
    h.expectError('duplicate_message', ['decrypt', '--peer', randomUUID(), '--device', '1'], asLine(m));
  }
  assert.equal(lines(h.run(['bundle', '--last-resort-kyber']))[0].kyber_prekey_id, 3);
  ok('two sessions under the last-resort Kyber prekey, which stays; a replay is refused');
}

// ---- 4. simultaneous initiation: both start a session and send before receiving ----
// Each side processes the other's bundle and sends a prekey message; the two cross. Each side
// then holds two sessions; the first answer decrypted from an archived one makes it current
// (libsignal's rule, and hush's), so the two converge on one session and keep talking on it:
// every later message is a whisper message, and SPQR (whose epochs only complete when its chunks
// get through both ways on one session) advances.
step('simultaneous initiation: hush and libsignal each start a session before receiving');
{
  const hName = randomUUID();
  const h = hushDevice(hName);
  const p = new Party(randomUUID());
  const hAddr = S.ProtocolAddress.new(hName, 1);
  const pName = p.address.name();
  h.run(['process-bundle', '--peer', pName], bundleJson(makeBundle(p)));
  await S.processPreKeyBundle(fromHushBundle(lines(h.run(['bundle']))[0]), hAddr, p.address,
    p.sessions, p.identities);
  const fromHush = hushEncrypt(h, pName, 'hush starts');
  const fromLs = JSON.parse(asLine(await lsEncrypt(p, hAddr, 'libsignal starts')));
  assert.equal(fromHush.type, 'prekey');
  assert.equal(fromLs.type, 'prekey');
  assert.equal(await lsDecrypt(p, hAddr, fromHush), 'hush starts');
  assert.equal(hushDecrypt(h, pName, fromLs), 'libsignal starts');
  assert.equal(hushInfo(h, pName).previous_states, 1);
  ok('both prekey messages decrypted; hush holds both sessions');
  // Both answer at once (before receiving the other's answer), then strictly in turn.
  const hAnswer = hushEncrypt(h, pName, 'hush answers');
  const lsAnswer = JSON.parse(asLine(await lsEncrypt(p, hAddr, 'libsignal answers')));
  assert.equal(await lsDecrypt(p, hAddr, hAnswer), 'hush answers');
  assert.equal(hushDecrypt(h, pName, lsAnswer), 'libsignal answers');
  for (let i = 0; i < 4; i++) {
    const hm = hushEncrypt(h, pName, `h turn ${i}`);
    assert.equal(hm.type, 'whisper', 'hush sends on an acknowledged session');
    assert.equal(await lsDecrypt(p, hAddr, hm), `h turn ${i}`);
    const lm = JSON.parse(asLine(await lsEncrypt(p, hAddr, `l turn ${i}`)));
    assert.equal(lm.type, 'whisper', 'libsignal sends on an acknowledged session');
    assert.equal(hushDecrypt(h, pName, lm), `l turn ${i}`);
  }
  ok('converged: both send whisper messages and each decrypts the other\'s');
  const n = await exchange(h, hName, p, kSimultaneousRounds);
  ok(`${n} messages delivered both ways with reordering, loss, duplicates and tampering`);
  checkEpochs(h, pName, 'after simultaneous initiation', kSimultaneousMinEpochs);
}

// ---- 5. identity change: libsignal's device gets a new identity and a new bundle ----
// hush refuses it (untrusted_identity, nothing changed) until the user trusts the new key; then a
// new version-4 session works both ways.
step('identity change: libsignal\'s peer comes back with a new identity');
{
  const hName = randomUUID();
  const h = hushDevice(hName);
  const hAddr = S.ProtocolAddress.new(hName, 1);
  const pName = randomUUID();
  const p = new Party(pName);
  await S.processPreKeyBundle(fromHushBundle(lines(h.run(['bundle']))[0]), hAddr, p.address,
    p.sessions, p.identities);
  assert.equal(hushDecrypt(h, pName, JSON.parse(asLine(await lsEncrypt(p, hAddr, 'old me')))),
    'old me');
  assert.equal(await lsDecrypt(p, hAddr, hushEncrypt(h, pName, 'hi old you')), 'hi old you');
  const oldKey = hushInfo(h, pName).trusted_identity;

  const p2 = new Party(pName);  // the same name and device, a new identity (a reinstall)
  const newKey = Buffer.from(p2.identity.publicKey.serialize()).toString('hex');
  assert.notEqual(newKey, oldKey);
  // Its prekey message (to hush's next bundle) and its bundle are refused until trusted.
  await S.processPreKeyBundle(fromHushBundle(lines(h.run(['bundle']))[0]), hAddr, p2.address,
    p2.sessions, p2.identities);
  const m = JSON.parse(asLine(await lsEncrypt(p2, hAddr, 'new me')));
  assert.equal(m.type, 'prekey');
  const before = hushInfo(h, pName);
  h.expectError('untrusted_identity', ['decrypt', '--peer', pName, '--device', '1'],
    JSON.stringify(m) + '\n');
  h.expectError('untrusted_identity', ['process-bundle', '--peer', pName],
    bundleJson(makeBundle(p2)));
  assert.deepEqual(hushInfo(h, pName), before);
  // The old session still works meanwhile.
  assert.equal(await lsDecrypt(p, hAddr, hushEncrypt(h, pName, 'still old')), 'still old');
  ok('untrusted_identity for the new identity (message and bundle), nothing changed');

  h.run(['trust', '--peer', pName, '--identity-key', newKey]);
  assert.equal(hushDecrypt(h, pName, m), 'new me');
  const info = hushInfo(h, pName);
  assert.equal(info.version, 4);
  assert.equal(info.remote_identity, newKey);
  assert.equal(info.trusted_identity, newKey);
  const reply = hushEncrypt(h, pName, 'welcome back');
  assert.equal(reply.type, 'whisper');
  assert.equal(await lsDecrypt(p2, hAddr, reply), 'welcome back');
  const n = await exchange(h, hName, p2, 3);
  ok(`trusted: a new version-4 session, ${n} messages both ways`);
}

// ---- 6. identity change the other way: hush re-inits with a new identity ----
// libsignal's identity store sees the change: its prekey processing refuses the new identity
// (UntrustedIdentity) until the application saves it (ReplacedExisting); then a new version-4
// session works both ways.
step('identity change: hush comes back with a new identity');
{
  const hName = randomUUID();
  const h = hushDevice(hName);
  const hAddr = S.ProtocolAddress.new(hName, 1);
  const p = new Party(randomUUID());
  const pName = p.address.name();
  h.run(['process-bundle', '--peer', pName], bundleJson(makeBundle(p)));
  assert.equal(await lsDecrypt(p, hAddr, hushEncrypt(h, pName, 'old hush')), 'old hush');
  assert.equal(hushDecrypt(h, pName, JSON.parse(asLine(await lsEncrypt(p, hAddr, 'hi')))), 'hi');
  const oldKey = lines(h.run(['identity']))[0].identity_key;

  h.run(['init', '--force', '--name', hName, '--prekeys', '3', '--kyber-prekeys', '2']);
  const newKey = lines(h.run(['identity']))[0].identity_key;
  assert.notEqual(newKey, oldKey);
  // hush (new identity) starts with libsignal's next bundle: refused as untrusted.
  h.run(['process-bundle', '--peer', pName], bundleJson(makeBundle(p, { kyberId: 34 })));
  const m = hushEncrypt(h, pName, 'new hush');
  assert.equal(m.type, 'prekey');
  const untrusted = (e) => e instanceof S.LibSignalErrorBase &&
    e.code === S.ErrorCode.UntrustedIdentity;
  await assert.rejects(lsDecrypt(p, hAddr, m), untrusted);
  // ... and so is hush's new bundle.
  const hb = fromHushBundle(lines(h.run(['bundle']))[0]);
  await assert.rejects(S.processPreKeyBundle(hb, hAddr, p.address, p.sessions, p.identities),
    untrusted);
  // The application accepts the new key: the store reports the replacement.
  const newPublic = S.PublicKey.deserialize(Buffer.from(newKey, 'hex'));
  assert.equal(await p.identities.saveIdentity(hAddr, newPublic), S.IdentityChange.ReplacedExisting);
  assert.equal(await lsDecrypt(p, hAddr, m), 'new hush');
  assert.ok((await p.identities.getIdentity(hAddr)).equals(newPublic));
  assert.equal(hushDecrypt(h, pName, JSON.parse(asLine(await lsEncrypt(p, hAddr, 'hello new')))),
    'hello new');
  assert.equal(hushInfo(h, pName).version, 4);
  const n = await exchange(h, hName, p, 3);
  ok(`libsignal saw the change (UntrustedIdentity, then ReplacedExisting); ${n} messages on the` +
     ' new version-4 session');
}

// ---- 7. a libsignal message far ahead: past version 3's limit, within version 4's ----
// libsignal sends kFarAhead messages that are lost, then one that arrives: 2,500 skipped keys on
// both chains (the Double Ratchet's and SPQR's), beyond version 3's 2,000 and within version 4's
// 25,000 (the exact limits are tested hush to hush in tests/integration/pqxdh_trial_test.cpp: a
// libsignal message at 25,000 would take 25,000 encryptions here, about 10 s).
step('libsignal -> hush, a message 2,500 ahead on both chains');
{
  const kFarAhead = 2500;
  const hName = randomUUID();
  const h = hushDevice(hName);
  const hAddr = S.ProtocolAddress.new(hName, 1);
  const p = new Party(randomUUID());
  const pName = p.address.name();
  await S.processPreKeyBundle(fromHushBundle(lines(h.run(['bundle']))[0]), hAddr, p.address,
    p.sessions, p.identities);
  assert.equal(hushDecrypt(h, pName, JSON.parse(asLine(await lsEncrypt(p, hAddr, 'near')))), 'near');
  assert.equal(await lsDecrypt(p, hAddr, hushEncrypt(h, pName, 'ack')), 'ack');
  for (let i = 0; i < kFarAhead; i++) await lsEncrypt(p, hAddr, `lost ${i}`);
  const far = JSON.parse(asLine(await lsEncrypt(p, hAddr, 'far ahead')));
  assert.equal(hushDecrypt(h, pName, far), 'far ahead');
  assert.equal(await lsDecrypt(p, hAddr, hushEncrypt(h, pName, 'got it')), 'got it');
  ok(`hush decrypted libsignal's message ${kFarAhead} ahead; the session goes on`);
}

// ---- 8. require-pq: hush refuses X3DH ----
step('hush --require-pq refuses a bundle without a Kyber prekey');
{
  const h = hushDevice(randomUUID(), ['--require-pq']);
  const other = hushDevice(randomUUID());
  const v3 = lines(other.run(['bundle', '--no-kyber']))[0];
  assert.equal(v3.kyber_prekey, undefined);
  h.expectError('post_quantum_required', ['process-bundle', '--peer', other.name],
    JSON.stringify(v3) + '\n');
  ok('post_quantum_required');
}
console.log('\nall PQXDH interop checks passed');
