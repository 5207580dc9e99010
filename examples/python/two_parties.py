#!/usr/bin/env python3
"""hush from Python through the C API (ctypes, standard library only).

Two parties in one script: Alice and Bob exchange messages over sessions (Bob's device in a
SQLite database sealed with a storage key), compare safety numbers, and then Carol and Dave talk
through messengers whose transport and key directory are Python callbacks. Last, a group of three
with sender keys (C API 1.1): the distribution messages go over 1:1 sessions, and one encrypted
message reaches everyone.

Usage: two_parties.py [PATH/TO/libhush.so]   (else $HUSH_LIBRARY, else the system's libhush)
Exits 0 after printing "all Python checks passed"; any failure raises with hush's own message.
"""
import ctypes
import ctypes.util
import os
import sys
import tempfile
from ctypes import (CFUNCTYPE, POINTER, Structure, byref, c_char, c_char_p, c_int, c_size_t,
                    c_uint8, c_uint32, c_uint64, c_void_p)

# ---- the C API's types (include/hush/c/*.h) ----

HUSH_OK = 0
HUSH_ERR_NO_SESSION = 9
HUSH_ERR_DUPLICATE_MESSAGE = 11
HUSH_ERR_WRONG_STORAGE_KEY = 19
HUSH_ERR_INVALID_MESSAGE = 2
HUSH_ERR_BUFFER_TOO_SMALL = 101
HUSH_MESSAGE_WHISPER, HUSH_MESSAGE_PREKEY = 2, 3
HUSH_FINGERPRINT_DIGITS, HUSH_FINGERPRINT_GROUPED = 0, 1
HUSH_CALLBACK_OK, HUSH_CALLBACK_NOT_FOUND, HUSH_CALLBACK_FAILED = 0, 1, 2
HUSH_PUBLIC_KEY_SIZE = 33
HUSH_FINGERPRINT_DISPLAY_MAX = 72


class Error(Structure):
    _fields_ = [("code", c_int), ("message", c_char * 256)]


class Address(Structure):
    _fields_ = [("name", POINTER(c_char)), ("name_len", c_size_t), ("device_id", c_uint32)]


SEND = CFUNCTYPE(c_int, c_void_p, POINTER(Address), POINTER(c_uint8), c_size_t)
PUBLISH = CFUNCTYPE(c_int, c_void_p, POINTER(Address), POINTER(c_uint8), c_size_t)
AVAILABLE = CFUNCTYPE(c_int, c_void_p, POINTER(Address), POINTER(c_uint32))
FETCH_BUNDLE = CFUNCTYPE(c_int, c_void_p, POINTER(Address), POINTER(c_uint8), c_size_t,
                         POINTER(c_size_t))
PUBLISH_LIST = CFUNCTYPE(c_int, c_void_p, POINTER(c_char), c_size_t, POINTER(c_uint8), c_size_t)
FETCH_LIST = CFUNCTYPE(c_int, c_void_p, POINTER(c_char), c_size_t, POINTER(c_uint8), c_size_t,
                       POINTER(c_size_t))


class Transport(Structure):
    _fields_ = [("user_data", c_void_p), ("send", SEND)]


class KeyDirectory(Structure):
    _fields_ = [("user_data", c_void_p), ("publish", PUBLISH), ("available_pre_keys", AVAILABLE),
                ("fetch_bundle", FETCH_BUNDLE), ("publish_device_list", PUBLISH_LIST),
                ("fetch_device_list", FETCH_LIST)]


def load(path):
    lib = ctypes.CDLL(path)
    P, S, E = c_void_p, c_size_t, POINTER(Error)
    B = POINTER(c_uint8)
    A = POINTER(Address)
    sig = {
        "hush_status_name": (c_char_p, [c_int]),
        "hush_version_string": (c_char_p, []),
        "hush_bytes_data": (P, [P]),
        "hush_bytes_size": (S, [P]),
        "hush_bytes_free": (None, [P]),
        "hush_context_new": (c_int, [POINTER(P), E]),
        "hush_context_free": (None, [P]),
        "hush_store_new_in_memory": (c_int, [P, POINTER(P), E]),
        "hush_store_create_sqlite": (c_int, [P, c_char_p, S, c_char_p, S, POINTER(P), E]),
        "hush_store_open_sqlite": (c_int, [P, c_char_p, S, c_char_p, S, POINTER(P), E]),
        "hush_store_identity_key": (c_int, [P, B, S, POINTER(S), E]),
        "hush_store_free": (None, [P]),
        "hush_prekeys_generate": (c_int, [P, P, c_uint32, c_uint32, POINTER(c_uint32), E]),
        "hush_bundle_make": (c_int, [P, c_uint32, c_uint32, c_uint32, POINTER(P), E]),
        "hush_session_process_bundle": (c_int, [P, P, A, c_char_p, S, E]),
        "hush_session_encrypt": (c_int, [P, P, A, c_char_p, S, POINTER(c_int), POINTER(P), E]),
        "hush_session_decrypt": (c_int, [P, P, A, c_int, c_char_p, S, POINTER(P), E]),
        "hush_fingerprint_compute": (c_int, [c_char_p, S, c_char_p, S, c_char_p, S, c_char_p, S,
                                             POINTER(P), E]),
        "hush_fingerprint_display": (c_int, [P, c_int, c_char_p, S, POINTER(S), E]),
        "hush_fingerprint_scannable": (c_int, [P, B, S, POINTER(S), E]),
        "hush_fingerprint_compare_scanned": (c_int, [P, c_char_p, S, POINTER(c_int), E]),
        "hush_fingerprint_free": (None, [P]),
        "hush_published_keys_parse": (c_int, [c_char_p, S, POINTER(P), E]),
        "hush_published_keys_pre_key_count": (S, [P]),
        "hush_published_keys_identity_key": (c_int, [P, B, S, POINTER(S), E]),
        "hush_published_keys_pre_key": (c_int, [P, S, POINTER(c_uint32), B, S, POINTER(S), E]),
        "hush_published_keys_bundle": (c_int, [P, c_uint32, c_char_p, S, POINTER(P), E]),
        "hush_published_keys_free": (None, [P]),
        "hush_device_list_version": (c_int, [c_char_p, S, POINTER(c_uint64), c_char_p, S,
                                             POINTER(S), E]),
        "hush_messenger_new": (c_int, [P, P, POINTER(Transport), POINTER(KeyDirectory), A,
                                       POINTER(P), E]),
        "hush_messenger_maintain_keys": (c_int, [P, E]),
        "hush_messenger_send": (c_int, [P, c_char_p, S, c_char_p, S, POINTER(S), POINTER(S), E]),
        "hush_messenger_flush": (c_int, [P, POINTER(S), POINTER(S), E]),
        "hush_messenger_receive": (c_int, [P, c_char_p, S, POINTER(P), E]),
        "hush_messenger_safety_number": (c_int, [P, c_char_p, S, POINTER(P), E]),
        "hush_messenger_free": (None, [P]),
        "hush_received_sender": (None, [P, A]),
        "hush_received_conversation": (P, [P, POINTER(S)]),
        "hush_received_plaintext": (P, [P, POINTER(S)]),
        "hush_received_free": (None, [P]),
        "hush_group_new_random": (c_int, [P, POINTER(P), E]),
        "hush_group_new_current": (c_int, [c_char_p, S, POINTER(P), E]),
        "hush_group_name": (c_int, [P, c_char_p, S, POINTER(S), POINTER(c_int), E]),
        "hush_group_free": (None, [P]),
        "hush_group_create_distribution": (c_int, [P, P, A, P, POINTER(P), E]),
        "hush_group_process_distribution": (c_int, [P, A, P, c_char_p, S, E]),
        "hush_group_encrypt": (c_int, [P, P, A, P, c_char_p, S, POINTER(P), E]),
        "hush_group_decrypt": (c_int, [P, P, A, P, c_char_p, S, POINTER(P), E]),
    }
    for name, (restype, argtypes) in sig.items():
        f = getattr(lib, name)
        f.restype, f.argtypes = restype, argtypes
    return lib


class HushError(Exception):
    """A failed hush call: `code` is the hush_status, `name` its stable name."""

    def __init__(self, code, name, message):
        super().__init__(message)
        self.code, self.name = code, name


class Hush:
    """A thin Pythonic layer: every call raises HushError with hush's message on failure."""

    def __init__(self, lib):
        self.lib = lib

    def call(self, fn, *args):
        err = Error()
        status = getattr(self.lib, fn)(*args, byref(err))
        if status != HUSH_OK:
            name = self.lib.hush_status_name(status).decode()
            raise HushError(status, name, err.message.decode())

    def take_bytes(self, handle):
        """Copies a hush_bytes out and frees it (hush_bytes_free wipes it)."""
        try:
            return ctypes.string_at(self.lib.hush_bytes_data(handle),
                                    self.lib.hush_bytes_size(handle))
        finally:
            self.lib.hush_bytes_free(handle)

    def identity_key(self, store):
        out, n = (c_uint8 * HUSH_PUBLIC_KEY_SIZE)(), c_size_t()
        self.call("hush_store_identity_key", store, out, len(out), byref(n))
        return bytes(out[:n.value])


def address(name, device=1):
    """A hush_address and the buffer its name lives in (keep both)."""
    buf = ctypes.create_string_buffer(name, len(name))
    return Address(ctypes.cast(buf, POINTER(c_char)), len(name), device), buf


def expect(condition, what):
    if not condition:
        raise AssertionError(what)


# ---- part 1: sessions, a sealed SQLite store, safety numbers ----

def sessions(h, ctx, directory):
    lib = h.lib
    alice, bob = c_void_p(), c_void_p()
    alice_addr, _a = address(b"alice")
    bob_addr, _b = address(b"bob")
    path = os.path.join(directory, "bob.db").encode()
    storage_key = os.urandom(32)

    h.call("hush_store_new_in_memory", ctx, byref(alice))
    h.call("hush_store_create_sqlite", ctx, path, len(path), storage_key, 32, byref(bob))

    # Bob publishes a bundle; Alice processes it and encrypts (a prekey message).
    first = c_uint32()
    h.call("hush_prekeys_generate", ctx, bob, 1, 10, byref(first))
    bundle = c_void_p()
    h.call("hush_bundle_make", bob, 1, 1, first.value, byref(bundle))
    bundle = h.take_bytes(bundle)
    h.call("hush_session_process_bundle", ctx, alice, byref(bob_addr), bundle, len(bundle))

    def encrypt(store, to, text):
        kind, wire = c_int(), c_void_p()
        h.call("hush_session_encrypt", ctx, store, byref(to), text, len(text), byref(kind),
               byref(wire))
        return kind.value, h.take_bytes(wire)

    def decrypt(store, frm, kind, wire):
        plain = c_void_p()
        h.call("hush_session_decrypt", ctx, store, byref(frm), kind, wire, len(wire),
               byref(plain))
        return h.take_bytes(plain)

    kind, wire = encrypt(alice, bob_addr, b"Hi Bob!")
    expect(kind == HUSH_MESSAGE_PREKEY, "Alice's first message is a prekey message")
    text = decrypt(bob, alice_addr, kind, wire)
    expect(text == b"Hi Bob!", "Bob reads Hi Bob!")
    print("bob reads:", text.decode())
    try:
        decrypt(bob, alice_addr, kind, wire)
        raise AssertionError("a replayed message was accepted")
    except HushError as e:
        expect(e.code == HUSH_ERR_DUPLICATE_MESSAGE, "a replay is refused as a duplicate")
        print("a replay is refused:", e)

    # Bob reopens his database: not with another key, with his it is all there.
    lib.hush_store_free(bob)
    bob = c_void_p()
    try:
        h.call("hush_store_open_sqlite", ctx, path, len(path), os.urandom(32), 32, byref(bob))
        raise AssertionError("a wrong storage key was accepted")
    except HushError as e:
        expect(e.code == HUSH_ERR_WRONG_STORAGE_KEY, "the wrong storage key is refused")
    h.call("hush_store_open_sqlite", ctx, path, len(path), storage_key, 32, byref(bob))

    kind, wire = encrypt(bob, alice_addr, b"Hi Alice.")
    expect(kind == HUSH_MESSAGE_WHISPER, "Bob's answer is a whisper message")
    text = decrypt(alice, bob_addr, kind, wire)
    expect(text == b"Hi Alice.", "Alice reads Hi Alice.")
    print("alice reads:", text.decode())

    # Safety numbers: the same on both sides; each accepts the other's scanned code.
    ka, kb = h.identity_key(alice), h.identity_key(bob)
    fa, fb = c_void_p(), c_void_p()
    h.call("hush_fingerprint_compute", b"alice", 5, ka, len(ka), b"bob", 3, kb, len(kb), byref(fa))
    h.call("hush_fingerprint_compute", b"bob", 3, kb, len(kb), b"alice", 5, ka, len(ka), byref(fb))

    def display(fp):
        out, n = ctypes.create_string_buffer(HUSH_FINGERPRINT_DISPLAY_MAX), c_size_t()
        h.call("hush_fingerprint_display", fp, HUSH_FINGERPRINT_GROUPED, out, len(out), byref(n))
        return out.value.decode()

    expect(display(fa) == display(fb), "both sides show the same safety number")
    print("safety number:", display(fa))
    # A size query first (no buffer), then the code itself.
    n = c_size_t()
    try:
        h.call("hush_fingerprint_scannable", fb, None, 0, byref(n))
    except HushError as e:
        expect(e.code == HUSH_ERR_BUFFER_TOO_SMALL and n.value > 0, "a size query")
    code = (c_uint8 * n.value)()
    h.call("hush_fingerprint_scannable", fb, code, len(code), byref(n))
    matches = c_int()
    h.call("hush_fingerprint_compare_scanned", fa, bytes(code), n.value, byref(matches))
    expect(matches.value == 1, "Alice accepts the code on Bob's screen")

    lib.hush_fingerprint_free(fa)
    lib.hush_fingerprint_free(fb)
    lib.hush_store_free(alice)
    lib.hush_store_free(bob)


# ---- part 2: messengers over a transport and a directory written in Python ----

class Server:
    """An in-process relay and key directory, given to the messengers as ctypes callbacks."""

    def __init__(self, h):
        self.h = h
        self.queues = {}       # (name, device) -> [envelope bytes]
        self.keys = {}         # (name, device) -> hush_published_keys handle (latest publish)
        self.pre_keys = {}     # (name, device) -> {id: key}
        self.lists = {}        # name -> (version, bytes)
        self.down = False
        self.errors = []       # exceptions raised inside callbacks (reported by the test)
        # The callbacks must stay referenced as long as the messengers live.
        self.transport = Transport(None, SEND(self._guard(self.send)))
        self.directory = KeyDirectory(
            None, PUBLISH(self._guard(self.publish)), AVAILABLE(self._guard(self.available)),
            FETCH_BUNDLE(self._guard(self.fetch_bundle)),
            PUBLISH_LIST(self._guard(self.publish_list)), FETCH_LIST(self._guard(self.fetch_list)))

    def _guard(self, fn):
        # An exception must not cross back into C (ctypes would return 0: "OK"): report FAILED.
        def wrapper(*args):
            try:
                return fn(*args)
            except Exception as e:  # noqa: BLE001 - recorded and reported by the test
                self.errors.append(e)
                return HUSH_CALLBACK_FAILED
        return wrapper

    @staticmethod
    def _device(a):
        return ctypes.string_at(a.contents.name, a.contents.name_len), a.contents.device_id

    def send(self, _user, recipient, envelope, n):
        if self.down:
            return HUSH_CALLBACK_FAILED
        self.queues.setdefault(self._device(recipient), []).append(ctypes.string_at(envelope, n))
        return HUSH_CALLBACK_OK

    def publish(self, _user, me, data, n):
        h, lib = self.h, self.h.lib
        parsed = c_void_p()
        h.call("hush_published_keys_parse", ctypes.string_at(data, n), n, byref(parsed))
        device = self._device(me)
        held = self.pre_keys.setdefault(device, {})
        if device in self.keys:
            # Another identity under this device (a reinstall): its old prekeys are useless.
            old, new = (c_uint8 * 33)(), (c_uint8 * 33)()
            ln = c_size_t()
            h.call("hush_published_keys_identity_key", self.keys[device], old, 33, byref(ln))
            h.call("hush_published_keys_identity_key", parsed, new, 33, byref(ln))
            if bytes(old) != bytes(new):
                held.clear()
            lib.hush_published_keys_free(self.keys[device])
        for i in range(lib.hush_published_keys_pre_key_count(parsed)):
            pid, key, ln = c_uint32(), (c_uint8 * 33)(), c_size_t()
            h.call("hush_published_keys_pre_key", parsed, i, byref(pid), key, 33, byref(ln))
            held[pid.value] = bytes(key)  # a repeated id replaces the one held
        self.keys[device] = parsed
        return HUSH_CALLBACK_OK

    def available(self, _user, me, count):
        count[0] = len(self.pre_keys.get(self._device(me), {}))
        return HUSH_CALLBACK_OK

    def fetch_bundle(self, _user, remote, out, cap, out_len):
        device = self._device(remote)
        if device not in self.keys:
            return HUSH_CALLBACK_NOT_FOUND
        held = self.pre_keys[device]
        bundle = c_void_p()
        if held:
            pid = min(held)
            key = held.pop(pid)
            self.h.call("hush_published_keys_bundle", self.keys[device], pid, key, len(key),
                        byref(bundle))
        else:
            self.h.call("hush_published_keys_bundle", self.keys[device], 0, None, 0, byref(bundle))
        data = self.h.take_bytes(bundle)
        if len(data) > cap:
            return HUSH_CALLBACK_FAILED
        ctypes.memmove(out, data, len(data))
        out_len[0] = len(data)
        return HUSH_CALLBACK_OK

    def publish_list(self, _user, name, name_len, data, n):
        name, data = ctypes.string_at(name, name_len), ctypes.string_at(data, n)
        version, listed, ln = c_uint64(), ctypes.create_string_buffer(1024), c_size_t()
        self.h.call("hush_device_list_version", data, n, byref(version), listed, len(listed),
                    byref(ln))
        if listed.raw[:ln.value] != name:
            return HUSH_CALLBACK_FAILED
        if name in self.lists and self.lists[name][0] >= version.value:
            return HUSH_CALLBACK_FAILED  # not newer than the list held
        self.lists[name] = (version.value, data)
        return HUSH_CALLBACK_OK

    def fetch_list(self, _user, name, name_len, out, cap, out_len):
        held = self.lists.get(ctypes.string_at(name, name_len))
        if held is None:
            return HUSH_CALLBACK_NOT_FOUND
        if len(held[1]) > cap:
            return HUSH_CALLBACK_FAILED
        ctypes.memmove(out, held[1], len(held[1]))
        out_len[0] = len(held[1])
        return HUSH_CALLBACK_OK

    def deliver(self, name, messenger):
        """Hands every envelope queued for `name` to its messenger; returns what it showed."""
        h, lib = self.h, self.h.lib
        shown = []
        for env in self.queues.pop((name, 1), []):
            got = c_void_p()
            h.call("hush_messenger_receive", messenger, env, len(env), byref(got))
            if got:
                n = c_size_t()
                text = ctypes.string_at(lib.hush_received_plaintext(got, byref(n)), n.value)
                sender, _ = address(b"")
                lib.hush_received_sender(got, byref(sender))
                shown.append((ctypes.string_at(sender.name, sender.name_len), text))
                lib.hush_received_free(got)
        return shown

    def close(self):
        for handle in self.keys.values():
            self.h.lib.hush_published_keys_free(handle)


def messengers(h, ctx):
    lib = h.lib
    net = Server(h)
    stores, ms, addrs = {}, {}, {}
    for name in (b"carol", b"dave"):
        stores[name], ms[name] = c_void_p(), c_void_p()
        addrs[name] = address(name)
        h.call("hush_store_new_in_memory", ctx, byref(stores[name]))
        h.call("hush_messenger_new", ctx, stores[name], byref(net.transport), byref(net.directory),
               byref(addrs[name][0]), byref(ms[name]))
        h.call("hush_messenger_maintain_keys", ms[name])
    expect(len(net.keys) == 2 and len(net.lists) == 2, "both published keys and device lists")

    sent, queued = c_size_t(), c_size_t()
    h.call("hush_messenger_send", ms[b"carol"], b"dave", 4, b"hello dave", 10, byref(sent),
           byref(queued))
    expect((sent.value, queued.value) == (1, 0), "Carol's message went to Dave's device")
    shown = net.deliver(b"dave", ms[b"dave"])
    expect(shown == [(b"carol", b"hello dave")], "Dave reads hello dave from Carol")
    print("dave reads from carol:", shown[0][1].decode())

    h.call("hush_messenger_send", ms[b"dave"], b"carol", 5, b"hi carol", 8, byref(sent),
           byref(queued))
    shown = net.deliver(b"carol", ms[b"carol"])
    expect(shown == [(b"dave", b"hi carol")], "Carol reads hi carol from Dave")
    print("carol reads from dave:", shown[0][1].decode())

    # The relay goes down: the message waits in the outbox until flush.
    net.down = True
    h.call("hush_messenger_send", ms[b"carol"], b"dave", 4, b"still there?", 12, byref(sent),
           byref(queued))
    expect((sent.value, queued.value) == (0, 1), "queued while the relay is down")
    net.down = False
    h.call("hush_messenger_flush", ms[b"carol"], byref(sent), byref(queued))
    expect((sent.value, queued.value) == (1, 0), "flush sends it")
    expect(net.deliver(b"dave", ms[b"dave"]) == [(b"carol", b"still there?")],
           "Dave reads the message that waited")

    # Both see the same safety number.
    numbers = []
    for me, peer in ((b"carol", b"dave"), (b"dave", b"carol")):
        fp = c_void_p()
        h.call("hush_messenger_safety_number", ms[me], peer, len(peer), byref(fp))
        out, n = ctypes.create_string_buffer(HUSH_FINGERPRINT_DISPLAY_MAX), c_size_t()
        h.call("hush_fingerprint_display", fp, HUSH_FINGERPRINT_DIGITS, out, len(out), byref(n))
        numbers.append(out.value)
        lib.hush_fingerprint_free(fp)
    expect(numbers[0] == numbers[1] and len(numbers[0]) == 60, "the same 60-digit number")

    # A person the directory does not know is an error with a message, not a crash.
    try:
        h.call("hush_messenger_send", ms[b"carol"], b"nobody", 6, b"hi", 2, None, None)
        raise AssertionError("sending to an unknown person succeeded")
    except HushError as e:
        expect(e.code == HUSH_ERR_NO_SESSION, "an unknown person is no_session")
        print("sending to nobody:", e)

    expect(not net.errors, "no callback raised: %r" % net.errors)
    for name in ms:
        lib.hush_messenger_free(ms[name])
        lib.hush_store_free(stores[name])
    net.close()


# ---- part 3: a group of three with sender keys ----

def group(h, ctx):
    lib = h.lib
    names = [b"alice", b"bob", b"carol"]
    stores = {n: c_void_p() for n in names}
    addrs = {n: address(n) for n in names}  # (hush_address, the buffer its name lives in)
    for n in names:
        h.call("hush_store_new_in_memory", ctx, byref(stores[n]))

    def addr(n):
        return byref(addrs[n][0])

    # Alice starts 1:1 sessions with Bob and Carol from their bundles.
    for n in (b"bob", b"carol"):
        first, bundle = c_uint32(), c_void_p()
        h.call("hush_prekeys_generate", ctx, stores[n], 1, 2, byref(first))
        h.call("hush_bundle_make", stores[n], 1, 1, first.value, byref(bundle))
        bundle = h.take_bytes(bundle)
        h.call("hush_session_process_bundle", ctx, stores[b"alice"], addr(n), bundle, len(bundle))

    # A group in the current format, named by a random UUID; the name is what members share.
    g, name, n = c_void_p(), ctypes.create_string_buffer(37), c_size_t()
    h.call("hush_group_new_random", ctx, byref(g))
    h.call("hush_group_name", g, name, len(name), byref(n), None)
    print("group:", name.value.decode())
    same = c_void_p()
    h.call("hush_group_new_current", name.value, n.value, byref(same))
    lib.hush_group_free(same)

    # Alice's distribution message travels inside her 1:1 sessions (it holds her chain key).
    dist = c_void_p()
    h.call("hush_group_create_distribution", ctx, stores[b"alice"], addr(b"alice"), g,
           byref(dist))
    dist = h.take_bytes(dist)
    for n in (b"bob", b"carol"):
        kind, wire, plain = c_int(), c_void_p(), c_void_p()
        h.call("hush_session_encrypt", ctx, stores[b"alice"], addr(n), dist, len(dist),
               byref(kind), byref(wire))
        wire = h.take_bytes(wire)
        h.call("hush_session_decrypt", ctx, stores[n], addr(b"alice"), kind.value, wire,
               len(wire), byref(plain))
        received = h.take_bytes(plain)
        h.call("hush_group_process_distribution", stores[n], addr(b"alice"), g, received,
               len(received))

    # One ciphertext for the whole group; each member decrypts it once.
    wire = c_void_p()
    h.call("hush_group_encrypt", ctx, stores[b"alice"], addr(b"alice"), g, b"Hello, group", 12,
           byref(wire))
    wire = h.take_bytes(wire)

    def group_decrypt(n, message, sender=b"alice"):
        plain = c_void_p()
        h.call("hush_group_decrypt", ctx, stores[n], addr(sender), g, message, len(message),
               byref(plain))
        return h.take_bytes(plain)

    for n in (b"bob", b"carol"):
        text = group_decrypt(n, wire)
        expect(text == b"Hello, group", "%s reads the group message" % n.decode())
    print("the group reads: Hello, group")
    try:
        group_decrypt(b"bob", wire)
        raise AssertionError("a duplicate group message was accepted")
    except HushError as e:
        expect(e.code == HUSH_ERR_DUPLICATE_MESSAGE, "a duplicate group message is refused")
    tampered = bytearray(wire)
    tampered[-70] ^= 1
    try:
        group_decrypt(b"carol", bytes(tampered))
        raise AssertionError("a tampered group message was accepted")
    except HushError as e:
        expect(e.code == HUSH_ERR_INVALID_MESSAGE, "a tampered group message is refused")
        print("a tampered group message is refused:", e)

    lib.hush_group_free(g)
    for n in names:
        lib.hush_store_free(stores[n])


def main():
    path = (sys.argv[1] if len(sys.argv) > 1 else os.environ.get("HUSH_LIBRARY")
            or ctypes.util.find_library("hush"))
    if not path:
        sys.exit("libhush not found: pass its path, or set HUSH_LIBRARY")
    h = Hush(load(path))
    print("hush", h.lib.hush_version_string().decode(), "through ctypes")
    ctx = c_void_p()
    h.call("hush_context_new", byref(ctx))
    with tempfile.TemporaryDirectory() as directory:
        sessions(h, ctx, directory)
    messengers(h, ctx)
    group(h, ctx)
    h.lib.hush_context_free(ctx)
    print("all Python checks passed")


if __name__ == "__main__":
    main()
