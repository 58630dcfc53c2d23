/*
 * The config file's sections, each read into struct config by its own
 * function. Internal to conf/.
 */
#ifndef KLAXON_CONFIG_SECTIONS_H
#define KLAXON_CONFIG_SECTIONS_H

#include <libconfig.h>

#include "conf/config.h"
#include "conf/reader.h"

void config_load_server(struct reader *r, config_setting_t *s,
                        struct config *cfg);
void config_load_journal(struct reader *r, config_setting_t *s,
                         struct config *cfg);
void config_load_sources(struct reader *r, config_setting_t *s,
                         struct config *cfg);
void config_disable_sources(struct config *cfg);
void config_load_people(struct reader *r, config_setting_t *s,
                        struct config *cfg);
void config_load_pushover(struct reader *r, config_setting_t *s,
                          struct config *cfg);
void config_load_siren(struct reader *r, config_setting_t *s,
                       struct config *cfg);
void config_load_scanner(struct reader *r, config_setting_t *s,
                         struct config *cfg);
void config_load_rules(struct reader *r, config_setting_t *s,
                       struct config *cfg);

/* Checks that span sections (rule recipients name known people). */
void config_check(struct reader *r, struct config *cfg);

#endif
