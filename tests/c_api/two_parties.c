/* hush C API: two parties exchange messages, first over sessions directly (Bob's device in a
 * SQLite database sealed with a storage key, reopened mid-conversation), then through messengers
 * over a transport and a key directory written here in C as callbacks; then a group of three with
 * sender keys (both wire formats) and an SFrame exchange. Compiled as C99 with
 * -Wall -Wextra -Werror -pedantic and run by ctest: exits 0 only if every step did what it says.
 *
 * Usage: hush_c_two_parties DIRECTORY (where Bob's database is created; it must not exist yet). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hush/c/hush.h>

/* Where every call's error goes; E is the argument that passes it. */
static hush_error last_error;
#define E (&last_error)

/* Returns from the calling function with 1 (after printing the error) unless `call` succeeds. */
#define CHECK(call)                              \
  do {                                           \
    hush_status st_ = (call);                    \
    if (st_ != HUSH_OK) return fail(#call, st_); \
  } while (0)

static int fail(const char* what, hush_status status) {
  fprintf(stderr, "FAILED: %s\n  -> %s (status %d)\n", what, last_error.message, (int)status);
  return 1;
}

static int expect(int condition, const char* what) {
  if (!condition) fprintf(stderr, "FAILED: %s\n", what);
  return condition ? 0 : 1;
}

static hush_address address(const char* name, uint32_t device) {
  hush_address a;
  a.name = name;
  a.name_len = strlen(name);
  a.device_id = device;
  return a;
}

static int same_text(const hush_bytes* bytes, const char* text) {
  return hush_bytes_size(bytes) == strlen(text) &&
         memcmp(hush_bytes_data(bytes), text, strlen(text)) == 0;
}

/* ---- part 1: sessions, a sealed SQLite store, safety numbers ---- */

static int sessions(const hush_context* ctx, const char* directory) {
  uint8_t storage_key[HUSH_STORAGE_KEY_SIZE];
  uint8_t wrong_key[HUSH_STORAGE_KEY_SIZE];
  char path[1024];
  hush_store* alice = NULL;
  hush_store* bob = NULL;
  hush_store* reopened = NULL;
  hush_bytes* bundle = NULL;
  hush_bytes* wire = NULL;
  hush_bytes* plain = NULL;
  hush_message_type type;
  uint32_t first_pre_key = 0;
  const hush_address alice_addr = address("alice", 1);
  const hush_address bob_addr = address("bob", 1);
  int failures = 0;
  size_t i;

  for (i = 0; i < sizeof storage_key; ++i) {
    storage_key[i] = (uint8_t)(i * 7 + 1);
    wrong_key[i] = (uint8_t)(i * 7 + 2);
  }
  snprintf(path, sizeof path, "%s/bob.db", directory);

  CHECK(hush_store_new_in_memory(ctx, &alice, E));
  CHECK(
      hush_store_create_sqlite(ctx, path, strlen(path), storage_key, sizeof storage_key, &bob, E));

  /* Bob: a signed prekey and ten one-time prekeys, published as a bundle. */
  CHECK(hush_prekeys_generate(ctx, bob, 1, 10, &first_pre_key, E));
  failures += expect(first_pre_key != 0, "a first one-time prekey id");
  CHECK(hush_bundle_make(bob, 1, 1, first_pre_key, &bundle, E));

  /* Alice: processes the bundle and encrypts; her first message is a prekey message. */
  CHECK(hush_session_process_bundle(ctx, alice, &bob_addr, hush_bytes_data(bundle),
                                    hush_bytes_size(bundle), E));
  hush_bytes_free(bundle);
  CHECK(hush_session_encrypt(ctx, alice, &bob_addr, (const uint8_t*)"Hi Bob!", 7, &type, &wire, E));
  failures += expect(type == HUSH_MESSAGE_PREKEY, "Alice's first message is a prekey message");

  /* Bob decrypts it; the same bytes again are refused. */
  CHECK(hush_session_decrypt(ctx, bob, &alice_addr, type, hush_bytes_data(wire),
                             hush_bytes_size(wire), &plain, E));
  failures += expect(same_text(plain, "Hi Bob!"), "Bob reads Hi Bob!");
  printf("bob reads: %.*s\n", (int)hush_bytes_size(plain), (const char*)hush_bytes_data(plain));
  hush_bytes_free(plain);
  plain = NULL;
  {
    hush_status replay = hush_session_decrypt(ctx, bob, &alice_addr, type, hush_bytes_data(wire),
                                              hush_bytes_size(wire), &plain, E);
    failures += expect(replay == HUSH_ERR_DUPLICATE_MESSAGE && plain == NULL,
                       "a replayed message is refused with HUSH_ERR_DUPLICATE_MESSAGE");
    printf("a replay is refused: %s\n", last_error.message);
  }
  hush_bytes_free(wire);

  /* Bob closes his database; it will not open with another key, and opens with his. */
  hush_store_free(bob);
  bob = NULL;
  {
    hush_status wrong =
        hush_store_open_sqlite(ctx, path, strlen(path), wrong_key, sizeof wrong_key, &reopened, E);
    failures += expect(wrong == HUSH_ERR_WRONG_STORAGE_KEY && reopened == NULL,
                       "the wrong storage key is refused");
  }
  CHECK(hush_store_open_sqlite(ctx, path, strlen(path), storage_key, sizeof storage_key, &bob, E));

  /* Bob answers on the session his database kept; Alice decrypts a whisper message. */
  CHECK(
      hush_session_encrypt(ctx, bob, &alice_addr, (const uint8_t*)"Hi Alice.", 9, &type, &wire, E));
  failures += expect(type == HUSH_MESSAGE_WHISPER, "Bob's answer is a whisper message");
  CHECK(hush_session_decrypt(ctx, alice, &bob_addr, type, hush_bytes_data(wire),
                             hush_bytes_size(wire), &plain, E));
  failures += expect(same_text(plain, "Hi Alice."), "Alice reads Hi Alice.");
  printf("alice reads: %.*s\n", (int)hush_bytes_size(plain), (const char*)hush_bytes_data(plain));
  hush_bytes_free(plain);
  hush_bytes_free(wire);

  /* Now Alice's messages are whisper messages too. */
  CHECK(hush_session_encrypt(ctx, alice, &bob_addr, (const uint8_t*)"Bye", 3, &type, &wire, E));
  failures += expect(type == HUSH_MESSAGE_WHISPER, "Alice's later messages are whisper messages");
  CHECK(hush_session_decrypt(ctx, bob, &alice_addr, type, hush_bytes_data(wire),
                             hush_bytes_size(wire), &plain, E));
  failures += expect(same_text(plain, "Bye"), "Bob reads Bye");
  hush_bytes_free(plain);
  hush_bytes_free(wire);

  /* Safety numbers: both sides show the same digits, and each accepts the other's code. */
  {
    uint8_t alice_key[HUSH_PUBLIC_KEY_SIZE];
    uint8_t bob_key[HUSH_PUBLIC_KEY_SIZE];
    uint8_t code[256];
    size_t len = 0;
    size_t code_len = 0;
    char alice_digits[HUSH_FINGERPRINT_DISPLAY_MAX];
    char bob_digits[HUSH_FINGERPRINT_DISPLAY_MAX];
    hush_fingerprint* at_alice = NULL;
    hush_fingerprint* at_bob = NULL;
    int matches = 0;
    CHECK(hush_store_identity_key(alice, alice_key, sizeof alice_key, &len, E));
    CHECK(hush_store_identity_key(bob, bob_key, sizeof bob_key, &len, E));
    CHECK(hush_fingerprint_compute("alice", 5, alice_key, sizeof alice_key, "bob", 3, bob_key,
                                   sizeof bob_key, &at_alice, E));
    CHECK(hush_fingerprint_compute("bob", 3, bob_key, sizeof bob_key, "alice", 5, alice_key,
                                   sizeof alice_key, &at_bob, E));
    CHECK(hush_fingerprint_display(at_alice, HUSH_FINGERPRINT_GROUPED, alice_digits,
                                   sizeof alice_digits, &len, E));
    failures += expect(len == 71, "a grouped safety number is 71 characters");
    CHECK(hush_fingerprint_display(at_bob, HUSH_FINGERPRINT_GROUPED, bob_digits, sizeof bob_digits,
                                   &len, E));
    failures += expect(strcmp(alice_digits, bob_digits) == 0, "both sides show the same number");
    printf("safety number: %s\n", alice_digits);
    CHECK(hush_fingerprint_scannable(at_bob, code, sizeof code, &code_len, E));
    CHECK(hush_fingerprint_compare_scanned(at_alice, code, code_len, &matches, E));
    failures += expect(matches == 1, "Alice accepts the code on Bob's screen");
    hush_fingerprint_free(at_alice);
    hush_fingerprint_free(at_bob);
  }

  hush_store_free(alice);
  hush_store_free(bob);
  return failures;
}

/* ---- part 2: messengers over a transport and a directory written in C ---- */

#define MAX_DEVICES 8
#define MAX_PRE_KEYS 256
#define MAX_ENVELOPES 64

typedef struct {
  char name[64];
  uint32_t device;
  hush_published_keys* keys; /* the latest publish (identity, signed prekey) */
  uint32_t pre_key_ids[MAX_PRE_KEYS];
  uint8_t pre_keys[MAX_PRE_KEYS][HUSH_PUBLIC_KEY_SIZE];
  size_t pre_key_count;
} device_keys;

typedef struct {
  char name[64];
  uint8_t list[HUSH_MAX_DEVICE_LIST_BYTES];
  size_t len;
  uint64_t version;
} device_list;

typedef struct {
  char recipient[64];
  uint32_t device;
  uint8_t* bytes;
  size_t len;
} envelope;

typedef struct {
  device_keys devices[MAX_DEVICES];
  size_t device_count;
  device_list lists[MAX_DEVICES];
  size_t list_count;
  envelope queue[MAX_ENVELOPES];
  size_t queued;
  int down; /* when set, the transport fails */
} server;

static int name_is(const char* held, const char* name, size_t len) {
  return strlen(held) == len && memcmp(held, name, len) == 0;
}

static device_keys* find_device(server* s, const hush_address* a, int create) {
  size_t i;
  for (i = 0; i < s->device_count; ++i)
    if (s->devices[i].device == a->device_id && name_is(s->devices[i].name, a->name, a->name_len))
      return &s->devices[i];
  if (!create || s->device_count == MAX_DEVICES || a->name_len >= sizeof s->devices[0].name)
    return NULL;
  memset(&s->devices[s->device_count], 0, sizeof s->devices[0]);
  memcpy(s->devices[s->device_count].name, a->name, a->name_len);
  s->devices[s->device_count].device = a->device_id;
  return &s->devices[s->device_count++];
}

static int on_send(void* user_data, const hush_address* recipient, const uint8_t* bytes,
                   size_t len) {
  server* s = (server*)user_data;
  envelope* e;
  if (s->down || s->queued == MAX_ENVELOPES || recipient->name_len >= sizeof e->recipient)
    return HUSH_CALLBACK_FAILED;
  e = &s->queue[s->queued];
  memset(e->recipient, 0, sizeof e->recipient);
  memcpy(e->recipient, recipient->name, recipient->name_len);
  e->device = recipient->device_id;
  e->bytes = (uint8_t*)malloc(len);
  if (e->bytes == NULL) return HUSH_CALLBACK_FAILED;
  memcpy(e->bytes, bytes, len);
  e->len = len;
  ++s->queued;
  return HUSH_CALLBACK_OK;
}

static int on_publish(void* user_data, const hush_address* self, const uint8_t* keys, size_t len) {
  server* s = (server*)user_data;
  device_keys* d = find_device(s, self, 1);
  hush_published_keys* parsed = NULL;
  size_t i;
  size_t j;
  if (d == NULL || hush_published_keys_parse(keys, len, &parsed, NULL) != HUSH_OK)
    return HUSH_CALLBACK_FAILED;
  for (i = 0; i < hush_published_keys_pre_key_count(parsed); ++i) {
    uint32_t id = 0;
    uint8_t key[HUSH_PUBLIC_KEY_SIZE];
    size_t key_len = 0;
    if (hush_published_keys_pre_key(parsed, i, &id, key, sizeof key, &key_len, NULL) != HUSH_OK)
      continue;
    for (j = 0; j < d->pre_key_count && d->pre_key_ids[j] != id; ++j) {
    }
    if (j == MAX_PRE_KEYS) continue;
    d->pre_key_ids[j] = id; /* a repeated id replaces the one held */
    memcpy(d->pre_keys[j], key, sizeof key);
    if (j == d->pre_key_count) ++d->pre_key_count;
  }
  hush_published_keys_free(d->keys);
  d->keys = parsed;
  return HUSH_CALLBACK_OK;
}

static int on_available_pre_keys(void* user_data, const hush_address* self, uint32_t* count) {
  device_keys* d = find_device((server*)user_data, self, 0);
  *count = d == NULL ? 0 : (uint32_t)d->pre_key_count;
  return HUSH_CALLBACK_OK;
}

static int on_fetch_bundle(void* user_data, const hush_address* remote, uint8_t* out,
                           size_t out_cap, size_t* out_len) {
  device_keys* d = find_device((server*)user_data, remote, 0);
  hush_bytes* bundle = NULL;
  hush_status st;
  if (d == NULL || d->keys == NULL) return HUSH_CALLBACK_NOT_FOUND;
  if (d->pre_key_count > 0) {
    /* Hand out the last one-time prekey and forget it. */
    --d->pre_key_count;
    st = hush_published_keys_bundle(d->keys, d->pre_key_ids[d->pre_key_count],
                                    d->pre_keys[d->pre_key_count], HUSH_PUBLIC_KEY_SIZE, &bundle,
                                    NULL);
  } else {
    st = hush_published_keys_bundle(d->keys, 0, NULL, 0, &bundle, NULL);
  }
  if (st != HUSH_OK || hush_bytes_size(bundle) > out_cap) {
    hush_bytes_free(bundle);
    return HUSH_CALLBACK_FAILED;
  }
  memcpy(out, hush_bytes_data(bundle), hush_bytes_size(bundle));
  *out_len = hush_bytes_size(bundle);
  hush_bytes_free(bundle);
  return HUSH_CALLBACK_OK;
}

static int on_publish_device_list(void* user_data, const char* name, size_t name_len,
                                  const uint8_t* list, size_t list_len) {
  server* s = (server*)user_data;
  char list_name[64];
  size_t list_name_len = 0;
  uint64_t version = 0;
  size_t i;
  if (list_len > HUSH_MAX_DEVICE_LIST_BYTES ||
      hush_device_list_version(list, list_len, &version, list_name, sizeof list_name,
                               &list_name_len, NULL) != HUSH_OK ||
      list_name_len != name_len || memcmp(list_name, name, name_len) != 0)
    return HUSH_CALLBACK_FAILED;
  for (i = 0; i < s->list_count && !name_is(s->lists[i].name, name, name_len); ++i) {
  }
  if (i == s->list_count) {
    if (i == MAX_DEVICES || name_len >= sizeof s->lists[0].name) return HUSH_CALLBACK_FAILED;
    memset(&s->lists[i], 0, sizeof s->lists[i]);
    memcpy(s->lists[i].name, name, name_len);
    ++s->list_count;
  } else if (version <= s->lists[i].version) {
    return HUSH_CALLBACK_FAILED; /* not newer than the list held */
  }
  memcpy(s->lists[i].list, list, list_len);
  s->lists[i].len = list_len;
  s->lists[i].version = version;
  return HUSH_CALLBACK_OK;
}

static int on_fetch_device_list(void* user_data, const char* name, size_t name_len, uint8_t* out,
                                size_t out_cap, size_t* out_len) {
  server* s = (server*)user_data;
  size_t i;
  for (i = 0; i < s->list_count; ++i) {
    if (!name_is(s->lists[i].name, name, name_len)) continue;
    if (s->lists[i].len > out_cap) return HUSH_CALLBACK_FAILED;
    memcpy(out, s->lists[i].list, s->lists[i].len);
    *out_len = s->lists[i].len;
    return HUSH_CALLBACK_OK;
  }
  return HUSH_CALLBACK_NOT_FOUND;
}

/* Delivers every queued envelope for `name` to `m`; stores the last message shown in `*shown`. */
static int deliver(server* s, const char* name, hush_messenger* m, hush_received** shown) {
  size_t i;
  size_t kept = 0;
  for (i = 0; i < s->queued; ++i) {
    envelope e = s->queue[i];
    if (strcmp(e.recipient, name) != 0) {
      s->queue[kept++] = e;
      continue;
    }
    {
      hush_received* got = NULL;
      hush_status st = hush_messenger_receive(m, e.bytes, e.len, &got, E);
      free(e.bytes);
      if (st != HUSH_OK) return fail("hush_messenger_receive", st);
      if (got != NULL) {
        hush_received_free(*shown);
        *shown = got;
      }
    }
  }
  s->queued = kept;
  return 0;
}

static int messengers(const hush_context* ctx) {
  static server net; /* large: not on the stack */
  hush_transport transport;
  hush_key_directory directory;
  hush_store* carol_store = NULL;
  hush_store* dave_store = NULL;
  hush_messenger* carol = NULL;
  hush_messenger* dave = NULL;
  hush_received* got = NULL;
  const hush_address carol_addr = address("carol", 1);
  const hush_address dave_addr = address("dave", 1);
  size_t sent = 0;
  size_t queued = 0;
  int failures = 0;
  size_t i;

  memset(&net, 0, sizeof net);
  transport.user_data = &net;
  transport.send = on_send;
  directory.user_data = &net;
  directory.publish = on_publish;
  directory.available_pre_keys = on_available_pre_keys;
  directory.fetch_bundle = on_fetch_bundle;
  directory.publish_device_list = on_publish_device_list;
  directory.fetch_device_list = on_fetch_device_list;

  CHECK(hush_store_new_in_memory(ctx, &carol_store, E));
  CHECK(hush_store_new_in_memory(ctx, &dave_store, E));
  CHECK(hush_messenger_new(ctx, carol_store, &transport, &directory, &carol_addr, &carol, E));
  CHECK(hush_messenger_new(ctx, dave_store, &transport, &directory, &dave_addr, &dave, E));
  CHECK(hush_messenger_maintain_keys(carol, E));
  CHECK(hush_messenger_maintain_keys(dave, E));
  failures += expect(net.device_count == 2 && net.list_count == 2,
                     "both published their keys and device lists");

  CHECK(hush_messenger_send(carol, "dave", 4, (const uint8_t*)"hello dave", 10, &sent, &queued, E));
  failures += expect(sent == 1 && queued == 0, "Carol's message went to Dave's one device");
  if (deliver(&net, "dave", dave, &got) != 0) return 1;
  {
    size_t len = 0;
    const uint8_t* text = hush_received_plaintext(got, &len);
    hush_address from;
    hush_received_sender(got, &from);
    failures += expect(got != NULL && len == 10 && memcmp(text, "hello dave", 10) == 0,
                       "Dave reads hello dave");
    failures += expect(from.name_len == 5 && memcmp(from.name, "carol", 5) == 0 &&
                           from.device_id == 1 && !hush_received_sent_by_us(got),
                       "from Carol's device 1");
    hush_received_message_id(got, &len);
    failures += expect(len == 16, "a 16-byte message id");
    printf("dave reads from %s: %.*s\n", hush_received_conversation(got, NULL), 10,
           (const char*)text);
  }
  hush_received_free(got);
  got = NULL;

  CHECK(hush_messenger_send(dave, "carol", 5, (const uint8_t*)"hi carol", 8, &sent, &queued, E));
  if (deliver(&net, "carol", carol, &got) != 0) return 1;
  {
    size_t len = 0;
    const uint8_t* text = hush_received_plaintext(got, &len);
    failures +=
        expect(got != NULL && len == 8 && memcmp(text, "hi carol", 8) == 0, "Carol reads hi carol");
    printf("carol reads: %.*s\n", (int)len, (const char*)text);
  }
  hush_received_free(got);
  got = NULL;

  /* Both messengers compute the same safety number. */
  {
    hush_fingerprint* a = NULL;
    hush_fingerprint* b = NULL;
    char da[HUSH_FINGERPRINT_DISPLAY_MAX];
    char db[HUSH_FINGERPRINT_DISPLAY_MAX];
    size_t len = 0;
    CHECK(hush_messenger_safety_number(carol, "dave", 4, &a, E));
    CHECK(hush_messenger_safety_number(dave, "carol", 5, &b, E));
    CHECK(hush_fingerprint_display(a, HUSH_FINGERPRINT_DIGITS, da, sizeof da, &len, E));
    CHECK(hush_fingerprint_display(b, HUSH_FINGERPRINT_DIGITS, db, sizeof db, &len, E));
    failures += expect(len == 60 && strcmp(da, db) == 0, "Carol and Dave see the same number");
    hush_fingerprint_free(a);
    hush_fingerprint_free(b);
  }

  /* The server goes down: the message waits in the outbox; flush sends it when it is back. */
  net.down = 1;
  CHECK(hush_messenger_send(carol, "dave", 4, (const uint8_t*)"are you there?", 14, &sent, &queued,
                            E));
  failures += expect(sent == 0 && queued == 1, "with the server down the message is queued");
  net.down = 0;
  CHECK(hush_messenger_flush(carol, &sent, &queued, E));
  failures += expect(sent == 1 && queued == 0, "flush sends it when the server is back");
  if (deliver(&net, "dave", dave, &got) != 0) return 1;
  {
    size_t len = 0;
    const uint8_t* text = hush_received_plaintext(got, &len);
    failures += expect(got != NULL && len == 14 && memcmp(text, "are you there?", 14) == 0,
                       "Dave reads the message that waited in the outbox");
  }
  hush_received_free(got);
  got = NULL;

  hush_messenger_free(carol);
  hush_messenger_free(dave);
  hush_store_free(carol_store);
  hush_store_free(dave_store);
  for (i = 0; i < net.device_count; ++i)
    hush_published_keys_free(net.devices[i].keys);
  for (i = 0; i < net.queued; ++i)
    free(net.queue[i].bytes);
  return failures;
}

/* ---- part 3: a group of three with sender keys, in both formats ---- */

/* Copies `bytes` into `out` (capacity `cap`) and frees it; returns the length, or 0 if too long. */
static size_t take(hush_bytes* bytes, uint8_t* out, size_t cap) {
  size_t n = hush_bytes_size(bytes);
  if (n > cap) n = 0;
  if (n > 0) memcpy(out, hush_bytes_data(bytes), n);
  hush_bytes_free(bytes);
  return n;
}

/* `from` sends `bytes` to `to` over their 1:1 session; `to` decrypts it into `*plain`. */
static int over_session(const hush_context* ctx, hush_store* from, const hush_address* from_addr,
                        hush_store* to, const hush_address* to_addr, const hush_bytes* bytes,
                        hush_bytes** plain) {
  hush_message_type type;
  hush_bytes* wire = NULL;
  CHECK(hush_session_encrypt(ctx, from, to_addr, hush_bytes_data(bytes), hush_bytes_size(bytes),
                             &type, &wire, E));
  CHECK(hush_session_decrypt(ctx, to, from_addr, type, hush_bytes_data(wire), hush_bytes_size(wire),
                             plain, E));
  hush_bytes_free(wire);
  return 0;
}

/* `sender` encrypts `text` in `group`; each of the two `readers` decrypts it; a duplicate, a
 * tampered copy and the message under another sender's name are refused. */
static int group_round(const hush_context* ctx, const hush_group* group, hush_store* sender,
                       const hush_address* sender_addr, hush_store** readers,
                       const hush_address* other_addr, const char* text) {
  hush_bytes* wire = NULL;
  hush_bytes* plain = NULL;
  uint8_t message[512];
  size_t len;
  size_t i;
  int failures = 0;
  hush_status st;
  CHECK(hush_group_encrypt(ctx, sender, sender_addr, group, (const uint8_t*)text, strlen(text),
                           &wire, E));
  len = take(wire, message, sizeof message);
  if (expect(len > 0, "a group message fits the test's buffer")) return 1;
  for (i = 0; i < 2; ++i) {
    CHECK(hush_group_decrypt(ctx, readers[i], sender_addr, group, message, len, &plain, E));
    failures += expect(same_text(plain, text), "each member reads the group message");
    hush_bytes_free(plain);
    plain = NULL;
  }
  printf("the group reads: %s\n", text);
  st = hush_group_decrypt(ctx, readers[0], sender_addr, group, message, len, &plain, E);
  failures += expect(st == HUSH_ERR_DUPLICATE_MESSAGE && plain == NULL,
                     "a duplicate group message is refused with HUSH_ERR_DUPLICATE_MESSAGE");
  /* A bit flipped in the ciphertext (before the 64-byte signature): the signature fails. */
  message[len - 70] ^= 0x01;
  st = hush_group_decrypt(ctx, readers[1], sender_addr, group, message, len, &plain, E);
  failures += expect(st == HUSH_ERR_INVALID_MESSAGE && plain == NULL,
                     "a tampered group message is refused with HUSH_ERR_INVALID_MESSAGE");
  printf("a tampered group message is refused: %s\n", last_error.message);
  message[len - 70] ^= 0x01;
  /* The server claims another member sent it: that member's chain does not have it. */
  st = hush_group_decrypt(ctx, readers[1], other_addr, group, message, len, &plain, E);
  failures += expect(st != HUSH_OK && plain == NULL,
                     "a group message under another sender's name is refused");
  return failures;
}

static int groups(const hush_context* ctx) {
  static const char uuid[] = "d1d1d1d1-7000-11eb-b32a-33b8a8a487a6";
  hush_store* alice = NULL;
  hush_store* bob = NULL;
  hush_store* carol = NULL;
  hush_store* readers[2];
  hush_group* legacy = NULL;
  hush_group* current = NULL;
  hush_bytes* bundle = NULL;
  hush_bytes* dist = NULL;
  hush_bytes* plain = NULL;
  uint32_t first = 0;
  const hush_address alice_addr = address("alice", 1);
  const hush_address bob_addr = address("bob", 1);
  const hush_address carol_addr = address("carol", 1);
  int failures = 0;

  CHECK(hush_store_new_in_memory(ctx, &alice, E));
  CHECK(hush_store_new_in_memory(ctx, &bob, E));
  CHECK(hush_store_new_in_memory(ctx, &carol, E));
  /* Alice starts 1:1 sessions with Bob and Carol from their bundles. */
  CHECK(hush_prekeys_generate(ctx, bob, 1, 2, &first, E));
  CHECK(hush_bundle_make(bob, 1, 1, first, &bundle, E));
  CHECK(hush_session_process_bundle(ctx, alice, &bob_addr, hush_bytes_data(bundle),
                                    hush_bytes_size(bundle), E));
  hush_bytes_free(bundle);
  CHECK(hush_prekeys_generate(ctx, carol, 1, 2, &first, E));
  CHECK(hush_bundle_make(carol, 1, 1, first, &bundle, E));
  CHECK(hush_session_process_bundle(ctx, alice, &carol_addr, hush_bytes_data(bundle),
                                    hush_bytes_size(bundle), E));
  hush_bytes_free(bundle);

  /* The legacy group "book-club": Alice's distribution message goes over her 1:1 sessions. */
  CHECK(hush_group_new_legacy("book-club", 9, &legacy, E));
  CHECK(hush_group_create_distribution(ctx, alice, &alice_addr, legacy, &dist, E));
  if (over_session(ctx, alice, &alice_addr, bob, &bob_addr, dist, &plain) != 0) return 1;
  CHECK(hush_group_process_distribution(bob, &alice_addr, legacy, hush_bytes_data(plain),
                                        hush_bytes_size(plain), E));
  hush_bytes_free(plain);
  if (over_session(ctx, alice, &alice_addr, carol, &carol_addr, dist, &plain) != 0) return 1;
  CHECK(hush_group_process_distribution(carol, &alice_addr, legacy, hush_bytes_data(plain),
                                        hush_bytes_size(plain), E));
  hush_bytes_free(plain);
  plain = NULL;
  hush_bytes_free(dist);
  readers[0] = bob;
  readers[1] = carol;
  failures += group_round(ctx, legacy, alice, &alice_addr, readers, &bob_addr, "Chapter 3 tonight");

  /* The current-format group named by a UUID: Bob hands his distribution message over directly
   * (as if through a channel the test trusts). */
  CHECK(hush_group_new_current(uuid, sizeof uuid - 1, &current, E));
  CHECK(hush_group_create_distribution(ctx, bob, &bob_addr, current, &dist, E));
  CHECK(hush_group_process_distribution(alice, &bob_addr, current, hush_bytes_data(dist),
                                        hush_bytes_size(dist), E));
  CHECK(hush_group_process_distribution(carol, &bob_addr, current, hush_bytes_data(dist),
                                        hush_bytes_size(dist), E));
  {
    /* The same distribution message does not fit the legacy group. */
    hush_status st = hush_group_process_distribution(
        carol, &bob_addr, legacy, hush_bytes_data(dist), hush_bytes_size(dist), E);
    failures += expect(st != HUSH_OK, "a current-format distribution is refused by a legacy group");
  }
  hush_bytes_free(dist);
  readers[0] = alice;
  readers[1] = carol;
  failures += group_round(ctx, current, bob, &bob_addr, readers, &carol_addr, "Hello, group");

  /* Bob rotates his chain (say Carol left): Alice, who gets the new one, reads; Carol cannot. */
  CHECK(hush_group_rotate_sender_key(ctx, bob, &bob_addr, current, &dist, E));
  CHECK(hush_group_process_distribution(alice, &bob_addr, current, hush_bytes_data(dist),
                                        hush_bytes_size(dist), E));
  hush_bytes_free(dist);
  {
    hush_bytes* wire = NULL;
    hush_status st;
    CHECK(hush_group_encrypt(ctx, bob, &bob_addr, current, (const uint8_t*)"after", 5, &wire, E));
    CHECK(hush_group_decrypt(ctx, alice, &bob_addr, current, hush_bytes_data(wire),
                             hush_bytes_size(wire), &plain, E));
    failures += expect(same_text(plain, "after"), "Alice reads Bob's rotated chain");
    hush_bytes_free(plain);
    plain = NULL;
    st = hush_group_decrypt(ctx, carol, &bob_addr, current, hush_bytes_data(wire),
                            hush_bytes_size(wire), &plain, E);
    failures += expect(st == HUSH_ERR_NO_SESSION && plain == NULL,
                       "Carol cannot read what Bob sends after the rotation");
    hush_bytes_free(wire);
  }

  hush_group_free(legacy);
  hush_group_free(current);
  hush_store_free(alice);
  hush_store_free(bob);
  hush_store_free(carol);
  return failures;
}

/* ---- part 4: SFrame, one sender and one receiver ---- */

static int sframe(void) {
  uint8_t base_key[32];
  static const uint8_t metadata[] = {'r', 't', 'p'};
  static const char media[] = "a frame of video";
  hush_sframe_sender* sender = NULL;
  hush_sframe_receiver* receiver = NULL;
  hush_bytes* frame = NULL;
  hush_bytes* plain = NULL;
  uint8_t copy[256];
  size_t len;
  size_t i;
  uint64_t next = 0;
  hush_status st;
  int failures = 0;

  for (i = 0; i < sizeof base_key; ++i)
    base_key[i] = (uint8_t)(0x40 + i);
  CHECK(hush_sframe_sender_new(HUSH_SFRAME_AES_128_GCM_SHA256_128, 42, base_key, sizeof base_key, 0,
                               &sender, E));
  CHECK(hush_sframe_receiver_new(HUSH_SFRAME_AES_128_GCM_SHA256_128, &receiver, E));
  CHECK(hush_sframe_receiver_add_key(receiver, 42, base_key, sizeof base_key, E));

  CHECK(hush_sframe_sender_encrypt(sender, metadata, sizeof metadata, (const uint8_t*)media,
                                   strlen(media), &frame, E));
  failures += expect(hush_bytes_size(frame) > strlen(media) &&
                         hush_bytes_size(frame) <= strlen(media) + HUSH_SFRAME_MAX_OVERHEAD,
                     "a frame is the plaintext plus at most HUSH_SFRAME_MAX_OVERHEAD bytes");
  CHECK(hush_sframe_sender_next_counter(sender, &next, E));
  failures += expect(next == 1, "the sender's counter advanced");
  len = take(frame, copy, sizeof copy);
  if (expect(len > 0, "a frame fits the test's buffer")) return 1;

  CHECK(hush_sframe_receiver_decrypt(receiver, metadata, sizeof metadata, copy, len, &plain, E));
  failures += expect(same_text(plain, media), "the receiver reads the frame");
  printf("sframe: %.*s\n", (int)hush_bytes_size(plain), (const char*)hush_bytes_data(plain));
  hush_bytes_free(plain);
  plain = NULL;

  st = hush_sframe_receiver_decrypt(receiver, metadata, sizeof metadata, copy, len, &plain, E);
  failures += expect(st == HUSH_ERR_REPLAYED_FRAME && plain == NULL,
                     "a replayed frame is refused with HUSH_ERR_REPLAYED_FRAME");
  printf("a replayed frame is refused: %s\n", last_error.message);

  /* The next frame, tampered with: refused, and refusing it used nothing up. */
  CHECK(hush_sframe_sender_encrypt(sender, metadata, sizeof metadata, (const uint8_t*)media,
                                   strlen(media), &frame, E));
  len = take(frame, copy, sizeof copy);
  if (expect(len > 0, "a frame fits the test's buffer")) return 1;
  copy[len - 1] ^= 0x80;
  st = hush_sframe_receiver_decrypt(receiver, metadata, sizeof metadata, copy, len, &plain, E);
  failures += expect(st == HUSH_ERR_AUTHENTICATION_FAILED && plain == NULL,
                     "a tampered frame is refused with HUSH_ERR_AUTHENTICATION_FAILED");
  printf("a tampered frame is refused: %s\n", last_error.message);
  copy[len - 1] ^= 0x80;
  st = hush_sframe_receiver_decrypt(receiver, metadata, 2, copy, len, &plain, E);
  failures += expect(st == HUSH_ERR_AUTHENTICATION_FAILED && plain == NULL,
                     "a frame with other metadata is refused");
  CHECK(hush_sframe_receiver_decrypt(receiver, metadata, sizeof metadata, copy, len, &plain, E));
  failures += expect(same_text(plain, media), "the untampered frame still decrypts");
  hush_bytes_free(plain);
  plain = NULL;

  /* Once the key is removed, its frames are refused as of an unknown key id. */
  CHECK(hush_sframe_receiver_remove_key(receiver, 42, E));
  st = hush_sframe_receiver_decrypt(receiver, metadata, sizeof metadata, copy, len, &plain, E);
  failures += expect(st == HUSH_ERR_UNKNOWN_KEY_ID && plain == NULL,
                     "a frame of a removed key is refused with HUSH_ERR_UNKNOWN_KEY_ID");

  hush_sframe_sender_free(sender);
  hush_sframe_receiver_free(receiver);
  return failures;
}

int main(int argc, char** argv) {
  hush_context* ctx = NULL;
  int failures = 0;
  if (argc != 2) {
    fprintf(stderr, "usage: %s DIRECTORY\n", argv[0]);
    return 2;
  }
  CHECK(hush_context_new(&ctx, E));
  printf("hush %s, C API %d.%d\n", hush_version_string(), HUSH_C_ABI_VERSION_MAJOR,
         HUSH_C_ABI_VERSION_MINOR);
  failures += sessions(ctx, argv[1]);
  failures += messengers(ctx);
  failures += groups(ctx);
  failures += sframe();
  hush_context_free(ctx);
  if (failures != 0) {
    fprintf(stderr, "%d check(s) failed\n", failures);
    return 1;
  }
  printf("all C API checks passed\n");
  return 0;
}
