/*
 * The Pushover message codec: what klaxon sends to Pushover for an
 * alert, how the form body and the emergency-cancel request are written,
 * and what Pushover's answer means for the delivery (sent, try again
 * later, or give up). Everything here is a pure function except
 * pushover_easy_setup(), which only prepares a libcurl handle: the
 * delivery loop runs the transfers on its own curl multi handle.
 *
 * Secrets: the application token and the user key travel only in the
 * POST body, never in a URL, and never appear in any error text made
 * here.
 */
#ifndef KLAXON_PUSHOVER_H
#define KLAXON_PUSHOVER_H

#include <curl/curl.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "conf/config.h"
#include "server/alert.h"

/* Pushover's limits, in characters (code points). */
#define PUSHOVER_TITLE_MAX     250
#define PUSHOVER_MESSAGE_MAX   1024
#define PUSHOVER_URL_MAX       512
#define PUSHOVER_URL_TITLE_MAX 100

/* Emergency (priority 2) bounds set by Pushover, in seconds. */
#define PUSHOVER_RETRY_MIN     30
#define PUSHOVER_EXPIRE_MAX    10800

/* Most of an answer body kept; Pushover's answers are a few hundred. */
#define PUSHOVER_ANSWER_MAX    65536

/*
 * One message to one user, already within Pushover's limits. Strings
 * are owned (valid UTF-8, NUL-terminated); NULL means the field is left
 * out of the request. message is never NULL after pushover_message_init.
 */
struct pushover_message {
    char *user;
    char *title;
    char *message;
    char *url;
    char *url_title;
    int priority;           /* -2..2 */
    time_t timestamp;       /* 0: left out */
    int retry;              /* priority 2 only */
    int expire;             /* priority 2 only */
    char *callback;         /* priority 2 only; NULL: none */
};

/*
 * Build the message for alert a to user key user at priority (clamped to
 * -2..2). Text over the limits is cut with an ellipsis; a URL over its
 * limit or not valid UTF-8 is dropped, with its url_title. An alert
 * without message text uses its title as the message, and one with
 * neither says where it came from. For priority 2, retry, expire and
 * the callback come from conf (kept within Pushover's bounds). m is
 * overwritten; free it with pushover_message_free() whatever the result.
 * Returns 0, or -1 when out of memory or user is NULL or empty.
 */
int pushover_message_init(struct pushover_message *m, const struct alert *a,
                          const char *user, int priority,
                          const struct pushover_conf *conf);
void pushover_message_free(struct pushover_message *m);

/*
 * The application/x-www-form-urlencoded body posting m with token.
 * Fields appear in the order token, user, title, message, priority,
 * timestamp, url, url_title, retry, expire, callback; absent and empty
 * ones are left out. Returns a string the caller frees, or NULL when out
 * of memory or token is NULL or empty.
 */
char *pushover_encode(const struct pushover_message *m, const char *token);

/*
 * The URL cancelling the emergency retries of receipt:
 * api_url ".../1/messages.json" becomes ".../1/receipts/RECEIPT/
 * cancel.json". NULL (caller frees otherwise) when api_url does not end
 * in "/messages.json", when receipt is not a plain alphanumeric id (so
 * an answer can never steer the request elsewhere), or out of memory.
 */
char *pushover_cancel_url(const char *api_url, const char *receipt);

/* Whether receipt looks like Pushover's: 1 to 63 letters and digits.
   Anything else could turn a cancel URL into a request for some other
   path, or is not worth looking up. */
bool pushover_receipt_ok(const char *receipt);

/* The body of the cancel request ("token=..."); caller frees; NULL on
   an empty token or out of memory. */
char *pushover_cancel_body(const char *token);

/*
 * What came back from one request. The curl helper fills it; tests may
 * fill it by hand. Owned by the caller: pushover_answer_free() releases
 * what the fields point to, not the struct.
 */
struct pushover_answer {
    CURLcode curl_code;     /* CURLE_OK: an HTTP answer arrived */
    char curl_error[CURL_ERROR_SIZE];   /* curl's detail, may be "" */
    long status;            /* HTTP status; 0 when none */
    char *body;             /* NUL-terminated, at most PUSHOVER_ANSWER_MAX
                               bytes kept; may be NULL */
    size_t body_len;
    char retry_after[64];   /* Retry-After value, "" when absent */
    char limit_reset[32];   /* X-Limit-App-Reset value, "" when absent */
    char *secrets[2];       /* token and user key: kept out of errors */
};

void pushover_answer_free(struct pushover_answer *ans);

enum pushover_verdict {
    PUSHOVER_SENT,          /* Pushover accepted the message */
    PUSHOVER_RETRY,         /* passing failure: try again, not before
                               retry_at_ms */
    PUSHOVER_REJECTED,      /* permanent: trying again cannot help */
};

struct pushover_result {
    enum pushover_verdict verdict;
    char request[64];       /* Pushover's request id, "" when none */
    char receipt[64];       /* emergency receipt, "" when none */
    int64_t retry_at_ms;    /* earliest retry the server asked for, ms
                               since the epoch; 0: no constraint */
    char error[256];        /* why it failed, for the log; "" when sent */
};

/*
 * Classify ans into res at wall-clock time now_ms:
 *  - SENT: a 2xx whose body is a JSON object with "status": 1; request
 *    and receipt are kept;
 *  - RETRY: no answer (network error, timeout), 408, 429, 5xx, a 2xx
 *    whose body is not the JSON Pushover sends (an HTML error page from
 *    a proxy), or any other unexpected answer; the earliest retry comes
 *    from Retry-After (seconds or an HTTP date) and, on 429, from
 *    X-Limit-App-Reset (unix time), whichever is later;
 *  - REJECTED: any other 4xx, with Pushover's "errors" joined by "; "
 *    (or the status) in error.
 * error holds no control characters and none of the secrets in ans;
 * callers still quote it when logging, as it comes from the network.
 */
void pushover_classify(const struct pushover_answer *ans, int64_t now_ms,
                       struct pushover_result *res);

/*
 * Prepare easy handle h (fresh or reset) to POST body to url, with the
 * connect and total timeouts from conf->timeout, TCP keep-alive, no
 * redirects, HTTP(S) only, and the answer body written into ans, which
 * is overwritten (it must not hold an unfreed answer); token and user
 * (either may be NULL) are remembered in ans so they never leak into
 * its error text. ans must outlive the transfer. When the transfer is
 * done (curl_easy_perform returned, or a multi handle reported
 * CURLMSG_DONE), call pushover_answer_done().
 * The caller calls curl_global_init() once at start-up, and frees ans
 * with pushover_answer_free() whatever the result. 0, or -1 when curl
 * refuses an option or memory runs out.
 */
int pushover_easy_setup(CURL *h, const char *url, const char *body,
                        const char *token, const char *user,
                        const struct pushover_conf *conf,
                        struct pushover_answer *ans);

/* Record the result code, status and the two headers of finished
   transfer h into ans. */
void pushover_answer_done(CURL *h, CURLcode code,
                          struct pushover_answer *ans);

#endif
