/*
 * Token and signature comparison.
 */
#include "server/token.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <string.h>
#include <strings.h>

bool
token_matches(strv tokens, const char *presented)
{
    size_t plen, tlen, i;
    bool match = false;

    if (!presented || !*presented)
        return false;
    plen = strlen(presented);
    for (i = 0; tokens && tokens[i]; i++) {
        tlen = strlen(tokens[i]);
        /* CRYPTO_memcmp needs no OpenSSL set-up and never stops early. */
        match |= tlen == plen &&
                 CRYPTO_memcmp(tokens[i], presented, plen) == 0;
    }
    return match;
}

static int
hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c |= 0x20;
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

bool
token_signature_valid(const char *key, const char *body, size_t len,
                      const char *signature)
{
    unsigned char mac[EVP_MAX_MD_SIZE], given[32];
    unsigned int maclen = 0;
    int hi, lo;
    size_t i;

    if (!signature)
        return false;
    if (strncasecmp(signature, "sha256=", 7) == 0)
        signature += 7;
    if (strlen(signature) != 64)
        return false;
    for (i = 0; i < 32; i++) {
        hi = hex_value(signature[2 * i]);
        lo = hex_value(signature[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return false;
        given[i] = (unsigned char)(hi << 4 | lo);
    }
    if (!HMAC(EVP_sha256(), key, (int)strlen(key),
              (const unsigned char *)body, len, mac, &maclen) ||
        maclen != 32)
        return false;
    return CRYPTO_memcmp(mac, given, 32) == 0;
}
