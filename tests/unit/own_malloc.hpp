// CBIR_TEST_OWN_MALLOC: defined when a sanitizer replaces glibc's malloc (mallopt refuses).
#pragma once

#if defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define CBIR_TEST_OWN_MALLOC 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define CBIR_TEST_OWN_MALLOC 1
#endif
