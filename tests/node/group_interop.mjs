// hush <-> current libsignal (0.103, the Node package) in a group, current sender-key format:
// libsignal's distribution message -> hush-cli process-distribution -> libsignal groupEncrypt ->
// hush-cli group-decrypt, and the reverse, with reordering, duplicates, forged signatures, a
// message of the other format, and the 25,000 forward-jump limit both sides share.
//
// usage: node tests/node/group_interop.mjs path/to/hush-cli
// Exits non-zero at the first failed check, saying what failed.
import assert from 'node:assert/strict';
import { createCipheriv, createHmac, hkdfSync, randomUUID } from 'node:crypto';

import { HushDevice, lines, scratch } from './lib/hush_cli.mjs';
import { Party, S } from './lib/libsignal.mjs';

const cli = process.argv[2];
if (!cli) {
  console.error('usage: node group_interop.mjs path/to/hush-cli');
  process.exit(1);
}
const ok = (what) => console.log(`   ok: ${what}`);
const step = (what) => console.log(`\n== ${what}`);

const root = scratch();
const group = randomUUID();  // lowercase
const G = ['--group', group];

const alice = new Party('alice');            // libsignal
const carol = new Party('carol');            // libsignal
const bob = HushDevice.create(cli, root, 'bob');  // hush
const bobAddress = S.ProtocolAddress.new('bob', 1);

// Expects `promise` to reject (libsignal refusing a message).
async function refused(promise, what) {
  await assert.rejects(promise, undefined, what);
  ok(what);
}

step('libsignal sends, hush receives');
const skdmAlice = await alice.createDistribution(group);
bob.run(['process-distribution', ...G, '--peer', 'alice'],
  JSON.stringify({ type: 'senderkey_distribution', body: skdmAlice.toString('hex') }) + '\n');
ok('hush processed libsignal\'s distribution message');
await carol.processDistribution(alice.address, skdmAlice);
const fromAlice = [];
for (let i = 0; i < 6; i++) fromAlice.push(await alice.groupEncrypt(group, `alice ${i}`));
const decryptAtBob = (sender, bytes) =>
  bob.run(['group-decrypt', ...G, '--peer', sender],
    JSON.stringify({ type: 'senderkey', body: bytes.toString('hex') })).toString();
for (const i of [3, 0, 5, 1, 4, 2]) {
  assert.equal(decryptAtBob('alice', fromAlice[i]), `alice ${i}`);
}
ok('hush decrypted six libsignal messages in the order 3, 0, 5, 1, 4, 2');
for (const m of fromAlice) {
  bob.expectError('duplicate_message', ['group-decrypt', ...G, '--peer', 'alice'], m.toString('hex'));
}
ok('every one of them again is duplicate_message');
{
  const m = await alice.groupEncrypt(group, 'alice signed');
  const forged = Buffer.from(m);
  forged[forged.length - 3] ^= 0x10;
  bob.expectError('invalid_message', ['group-decrypt', ...G, '--peer', 'alice'], forged.toString('hex'));
  ok('a flipped bit in libsignal\'s signature is invalid_message in hush');
  // A member (carol holds alice's chain) signs as alice with her own key: libsignal's own API
  // builds the message; only alice's key verifies.
  const stolen = S.SenderKeyDistributionMessage.deserialize(skdmAlice);
  const mallory = S.PrivateKey.generate();
  const seed = createHmac('sha256', Buffer.from(stolen.chainKey())).update(Buffer.from([1])).digest();
  const okm = Buffer.from(hkdfSync('sha256', seed, Buffer.alloc(0), Buffer.from('WhisperGroup'), 48));
  const c = createCipheriv('aes-256-cbc', okm.subarray(16, 48), okm.subarray(0, 16));
  const ct = Buffer.concat([c.update('forged by a member'), c.final()]);
  const byMember = S.SenderKeyMessage._new(3, group, stolen.chainId(), 0, ct, mallory);
  bob.expectError('invalid_message', ['group-decrypt', ...G, '--peer', 'alice'],
    Buffer.from(byMember.serialize()).toString('hex'));
  ok('a message on alice\'s chain signed by another key is invalid_message in hush');
  assert.equal(decryptAtBob('alice', m), 'alice signed');
  ok('the genuine message still decrypts after the refusals');
}
// libsignal's distribution message again never restarts the chain in hush.
bob.run(['process-distribution', ...G, '--peer', 'alice'], skdmAlice.toString('hex'));
bob.expectError('duplicate_message', ['group-decrypt', ...G, '--peer', 'alice'], fromAlice[0].toString('hex'));
ok('the same distribution message again does not restart the chain');

step('hush sends, libsignal receives');
const skdmBob = lines(bob.run(['create-distribution', ...G]))[0];
assert.equal(skdmBob.type, 'senderkey_distribution');
await alice.processDistribution(bobAddress, Buffer.from(skdmBob.body, 'hex'));
await carol.processDistribution(bobAddress, Buffer.from(skdmBob.body, 'hex'));
ok('libsignal processed hush\'s distribution message');
const fromBob = lines(bob.run(['group-encrypt', ...G, '--count', '6'], 'from hush'))
  .map((l) => { assert.equal(l.type, 'senderkey'); return Buffer.from(l.body, 'hex'); });
for (const i of [5, 2, 0, 4, 1, 3]) {
  assert.equal((await alice.groupDecrypt(bobAddress, fromBob[i])).toString(), 'from hush');
}
ok('libsignal decrypted six hush messages in the order 5, 2, 0, 4, 1, 3');
for (const m of fromBob) {
  await assert.rejects(alice.groupDecrypt(bobAddress, m), (e) => e.code === S.ErrorCode.DuplicatedMessage);
}
ok('every one of them again is DuplicatedMessage in libsignal');
{
  const [m] = lines(bob.run(['group-encrypt', ...G], 'signed by hush'))
    .map((l) => Buffer.from(l.body, 'hex'));
  const forged = Buffer.from(m);
  forged[forged.length - 1] ^= 0x01;
  await refused(carol.groupDecrypt(bobAddress, forged), 'a flipped bit in hush\'s signature is refused by libsignal');
  assert.equal((await carol.groupDecrypt(bobAddress, m)).toString(), 'signed by hush');
  ok('the genuine message still decrypts in libsignal');
}

step('the formats do not mix');
{
  // A legacy (libsignal-protocol-c) group message of hush's is not a current one.
  bob.run(['create-distribution', '--legacy', '--group', 'legacy group']);
  const [legacy] = lines(bob.run(['group-encrypt', '--legacy', '--group', 'legacy group'], 'legacy'))
    .map((l) => Buffer.from(l.body, 'hex'));
  await refused(alice.groupDecrypt(bobAddress, legacy), 'libsignal refuses hush\'s legacy-format message');
  // A message for another distribution id is refused by hush.
  const other = randomUUID();
  await alice.createDistribution(other);
  const elsewhere = await alice.groupEncrypt(other, 'elsewhere');
  bob.expectError('invalid_message', ['group-decrypt', ...G, '--peer', 'alice'], elsewhere.toString('hex'));
  ok('hush refuses a message of another distribution id');
}

step('the forward jump: 25,000 accepted, 25,001 too far, on both sides');
for (const jump of [25000, 25001]) {
  // A chain libsignal and hush both learn from one distribution message, and a message `jump`
  // iterations ahead, built with libsignal's API and the chain KDF (node:crypto).
  const d = randomUUID();
  const chainKey = Buffer.alloc(32, jump & 0xff);
  const signing = S.PrivateKey.generate();
  const skdm = S.SenderKeyDistributionMessage._new(3, d, 77, 0, chainKey, signing.getPublicKey());
  const sender = new Party('dave');
  const receiver = new Party('erin');
  await receiver.processDistribution(sender.address, Buffer.from(skdm.serialize()));
  bob.run(['process-distribution', '--group', d, '--peer', 'dave'], Buffer.from(skdm.serialize()).toString('hex'));
  let ck = chainKey;
  for (let i = 0; i < jump; i++) ck = createHmac('sha256', ck).update(Buffer.from([2])).digest();
  const seed = createHmac('sha256', ck).update(Buffer.from([1])).digest();
  const okm = Buffer.from(hkdfSync('sha256', seed, Buffer.alloc(0), Buffer.from('WhisperGroup'), 48));
  const c = createCipheriv('aes-256-cbc', okm.subarray(16, 48), okm.subarray(0, 16));
  const ct = Buffer.concat([c.update(`jump ${jump}`), c.final()]);
  const m = Buffer.from(S.SenderKeyMessage._new(3, d, 77, jump, ct, signing).serialize());
  if (jump <= 25000) {
    assert.equal((await receiver.groupDecrypt(sender.address, m)).toString(), `jump ${jump}`);
    assert.equal(bob.run(['group-decrypt', '--group', d, '--peer', 'dave'], m.toString('hex')).toString(),
      `jump ${jump}`);
    ok(`a message ${jump} ahead decrypts in both`);
  } else {
    await refused(receiver.groupDecrypt(sender.address, m), `libsignal refuses a message ${jump} ahead`);
    bob.expectError('too_far_in_future', ['group-decrypt', '--group', d, '--peer', 'dave'], m.toString('hex'));
    ok(`hush refuses a message ${jump} ahead with too_far_in_future`);
  }
}

console.log('\nall Node interop checks passed');
