/*
 * The status board: one HTML page for a wall screen, refreshing itself.
 */
#ifndef KLAXON_BOARD_H
#define KLAXON_BOARD_H

#include <jansson.h>
#include <stdbool.h>

/* Render alerts (as api_alert_list gives them) into a page (caller
   frees), or NULL on ENOMEM. */
char *board_render(const json_t *alerts, bool delivery_on);

#endif
