/*
 * Endpoints that silence the siren: the admin's POST /api/v1/siren/off,
 * which needs the admin token (without one configured it does not
 * exist), and Pushover's emergency acknowledgement callback, which is
 * vouched for by the receipt it names.
 */
#include <stdio.h>
#include <string.h>

#include "notifiers/pushover.h"
#include "notifiers/siren.h"
#include "server/body.h"
#include "server/log.h"
#include "server/request.h"
#include "server/token.h"

enum MHD_Result
api_check_admin(struct request *r)
{
    char *tokens[2] = { r->cfg->server.admin_token, NULL };

    if (!r->cfg->server.admin_token)
        return request_respond_error(r, MHD_HTTP_NOT_FOUND,
                                     "not found (no admin_token is "
                                     "configured)");
    if (!token_matches(tokens, request_token(r)))
        return request_respond_error(r, MHD_HTTP_UNAUTHORIZED,
                                     "missing or wrong admin token");
    return (enum MHD_Result)-1;
}

/* Answers a request that passed api_check_admin before its body was
   read. */
enum MHD_Result
api_siren_off(struct request *r)
{
    if (r->relay->siren)
        siren_silence(r->relay->siren);
    log_info("siren", "silenced by POST /api/v1/siren/off");
    return request_respond_json(r, MHD_HTTP_OK,
                                json_pack("{ss}", "status", "off"));
}

static void
acknowledged(struct journal_ack *ack)
{
    struct request *r = ack->ctx;
    char key[300];

    if (ack->found && r->relay->siren) {
        snprintf(key, sizeof key, "%s:%s", ack->source, ack->key);
        siren_clear(r->relay->siren, key);
    }
    request_journaled(r);
}

static enum MHD_Result
answer_ack(struct request *r)
{
    char key[80];

    if (!r->ack.stored)
        return request_respond_error(r, MHD_HTTP_SERVICE_UNAVAILABLE,
                                     "journal is not writable");
    if (!r->ack.found)
        return request_respond_json(r, MHD_HTTP_OK,
                                    json_pack("{ss ss}", "status", "ignored",
                                              "reason", "no open alert has "
                                              "this receipt"));
    log_info("pushover", "%s %s: acknowledged on a phone", r->ack.source,
             log_quote(key, sizeof key, r->ack.key));
    return request_respond_json(r, MHD_HTTP_OK,
                                json_pack("{ss}", "status",
                                          "acknowledged"));
}

enum MHD_Result
api_pushover_callback(struct request *r)
{
    char reason[160];
    const char *receipt;
    json_t *form;
    int status = 0;

    form = body_decode(request_header(r, MHD_HTTP_HEADER_CONTENT_TYPE),
                       r->body ? r->body : "", r->len, &status, reason,
                       sizeof reason);
    if (!form)
        return request_respond_error(r, status, "%s", reason);
    receipt = json_string_value(json_object_get(form, "receipt"));
    if (!pushover_receipt_ok(receipt)) {
        json_decref(form);
        return request_respond_error(r, MHD_HTTP_BAD_REQUEST,
                                     "missing or malformed field receipt");
    }
    snprintf(r->ack.receipt, sizeof r->ack.receipt, "%s", receipt);
    json_decref(form);
    r->ack.done = acknowledged;
    r->ack.ctx = r;
    request_wait_for_journal(r, answer_ack);
    journal_acknowledge(r->relay->journal, &r->ack);
    return MHD_YES;
}
