/*
 * i18n — see i18n.h. The catalogs are looked for in $TINGZI_LOCALEDIR, then
 * in the build tree (running from a checkout), then in the installed prefix.
 */
#include "app/i18n.h"

#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

extern int _nl_msg_cat_cntr; /* GNU gettext: bump to drop cached translations */

static i18n_lang current = LANG_ZH_HANS;
static const char *const tags[LANG_COUNT] = {"zh-Hans", "zh-Hant", "en"};
static const char *const gnu[LANG_COUNT] = {"zh_CN", "zh_TW", "en"};

static int has_catalog(const char *dir)
{
	char path[1024];
	struct stat st;
	snprintf(path, sizeof path, "%s/zh_CN/LC_MESSAGES/tingzi.mo", dir);
	return stat(path, &st) == 0;
}

void i18n_init(void)
{
	if (!setlocale(LC_ALL, "C.UTF-8"))
		setlocale(LC_ALL, "");
	const char *dir = getenv("TINGZI_LOCALEDIR");
	if (!dir || !has_catalog(dir))
		dir = has_catalog(TINGZI_LOCALEDIR_BUILD) ? TINGZI_LOCALEDIR_BUILD : TINGZI_LOCALEDIR;
	bindtextdomain("tingzi", dir);
	bind_textdomain_codeset("tingzi", "UTF-8");
	textdomain("tingzi");
	i18n_set(current);
}

void i18n_set(i18n_lang lang)
{
	if (lang < 0 || lang >= LANG_COUNT)
		return;
	current = lang;
	setenv("LANGUAGE", gnu[lang], 1);
	++_nl_msg_cat_cntr;
}

i18n_lang i18n_current(void)
{
	return current;
}

int i18n_parse(const char *tag, i18n_lang *out)
{
	for (int i = 0; i < LANG_COUNT; i++)
		if (strcasecmp(tag, tags[i]) == 0) {
			*out = (i18n_lang)i;
			return 0;
		}
	return -1;
}

const char *i18n_tag(i18n_lang lang)
{
	return tags[lang];
}

const char *i18n_native_name(i18n_lang lang)
{
	static const char *const names[LANG_COUNT] = {"简体", "繁體", "English"};
	return (unsigned)lang < LANG_COUNT ? names[lang] : "?";
}

void i18n_ordinal(int n, char *buf, size_t len)
{
	if (current != LANG_EN) {
		snprintf(buf, len, "%d", n);
		return;
	}
	const char *suf = "th";
	if (n % 100 < 11 || n % 100 > 13) {
		if (n % 10 == 1)
			suf = "st";
		else if (n % 10 == 2)
			suf = "nd";
		else if (n % 10 == 3)
			suf = "rd";
	}
	snprintf(buf, len, "%d%s", n, suf);
}
