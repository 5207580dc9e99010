/* Uses an installed hush through its C API only: Bob publishes a bundle, Alice starts a session
 * and sends, Bob decrypts and answers, Alice decrypts. Exits 0 only if both messages arrive. */
#include <stdio.h>
#include <string.h>

#include <hush/c/hush.h>

static hush_error error;

static int failed(const char* what) {
  fprintf(stderr, "c_consumer: %s failed: %s\n", what, error.message);
  return 1;
}

int main(void) {
  hush_context* ctx = NULL;
  hush_store* alice = NULL;
  hush_store* bob = NULL;
  hush_bytes* bundle = NULL;
  hush_bytes* wire = NULL;
  hush_bytes* plain = NULL;
  hush_message_type type;
  uint32_t first = 0;
  const hush_address alice_addr = {"alice", 5, 1};
  const hush_address bob_addr = {"bob", 3, 1};
  int ok;

  if (hush_context_new(&ctx, &error) != HUSH_OK) return failed("hush_context_new");
  if (hush_store_new_in_memory(ctx, &alice, &error) != HUSH_OK ||
      hush_store_new_in_memory(ctx, &bob, &error) != HUSH_OK)
    return failed("hush_store_new_in_memory");
  if (hush_prekeys_generate(ctx, bob, 1, 1, &first, &error) != HUSH_OK)
    return failed("hush_prekeys_generate");
  if (hush_bundle_make(bob, 1, 1, first, &bundle, &error) != HUSH_OK)
    return failed("hush_bundle_make");
  if (hush_session_process_bundle(ctx, alice, &bob_addr, hush_bytes_data(bundle),
                                  hush_bytes_size(bundle), &error) != HUSH_OK)
    return failed("hush_session_process_bundle");
  hush_bytes_free(bundle);

  if (hush_session_encrypt(ctx, alice, &bob_addr, (const uint8_t*)"installed", 9, &type, &wire,
                           &error) != HUSH_OK)
    return failed("hush_session_encrypt");
  if (hush_session_decrypt(ctx, bob, &alice_addr, type, hush_bytes_data(wire),
                           hush_bytes_size(wire), &plain, &error) != HUSH_OK)
    return failed("hush_session_decrypt");
  ok = hush_bytes_size(plain) == 9 && memcmp(hush_bytes_data(plain), "installed", 9) == 0;
  hush_bytes_free(plain);
  hush_bytes_free(wire);

  if (hush_session_encrypt(ctx, bob, &alice_addr, (const uint8_t*)"answered", 8, &type, &wire,
                           &error) != HUSH_OK)
    return failed("hush_session_encrypt");
  if (hush_session_decrypt(ctx, alice, &bob_addr, type, hush_bytes_data(wire),
                           hush_bytes_size(wire), &plain, &error) != HUSH_OK)
    return failed("hush_session_decrypt");
  ok = ok && type == HUSH_MESSAGE_WHISPER && hush_bytes_size(plain) == 8 &&
       memcmp(hush_bytes_data(plain), "answered", 8) == 0;
  hush_bytes_free(plain);
  hush_bytes_free(wire);

  hush_store_free(alice);
  hush_store_free(bob);
  hush_context_free(ctx);
  if (!ok) {
    fprintf(stderr, "c_consumer: the messages did not arrive intact\n");
    return 1;
  }
  printf("c_consumer: hush %s works from C when installed\n", hush_version_string());
  return 0;
}
