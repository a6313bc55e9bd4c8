/*
 * i18n — the kiosk's three languages through gettext catalogs (assets/po).
 *
 * The language can change at any moment (the home screen's switch, or a
 * member's own language on the welcome screen), so it is chosen with the
 * LANGUAGE variable over the C.UTF-8 locale rather than with setlocale().
 */
#ifndef TINGZI_I18N_H
#define TINGZI_I18N_H

#include <libintl.h>
#include <stddef.h>

#define _(s)  gettext(s)
#define N_(s) (s)

typedef enum i18n_lang { LANG_ZH_HANS = 0, LANG_ZH_HANT = 1, LANG_EN = 2, LANG_COUNT } i18n_lang;

void i18n_init(void);
void i18n_set(i18n_lang lang);
i18n_lang i18n_current(void);
/* "zh-Hans", "zh-Hant", "en" -> lang; returns -1 for anything else. */
int i18n_parse(const char *tag, i18n_lang *out);
const char *i18n_tag(i18n_lang lang);
/* The language's name in itself ("简体", "繁體", "English"), for its button. */
const char *i18n_native_name(i18n_lang lang);
/* The ordinal of n in the current language: "3rd" in English, "3" in Chinese
 * (the catalog's "第 %s 次" supplies the rest). */
void i18n_ordinal(int n, char *buf, size_t len);

#endif
