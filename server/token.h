/*
 * Shared-secret checks on inbound requests, in constant time.
 */
#ifndef KLAXON_TOKEN_H
#define KLAXON_TOKEN_H

#include <stdbool.h>
#include <stddef.h>

#include "conf/config.h"

/*
 * Whether presented equals one of tokens. Every token is compared in
 * full with a constant-time comparison, so the time taken tells nothing
 * about how much of a guess was right; it depends only on the lengths
 * (tokens are random strings: their length is no secret worth keeping).
 */
bool token_matches(strv tokens, const char *presented);

/*
 * Whether signature (hex HMAC-SHA256 of body under key, optionally
 * prefixed "sha256=") is right. Constant time in the signature.
 */
bool token_signature_valid(const char *key, const char *body, size_t len,
                           const char *signature);

#endif
