/*
 * hub_store_dash — what the community dashboard asks the store (the
 * operations are in hub_store.h's table, under "the dashboard").
 *
 * Every number counts attendances, not rows: a check-in undone at the kiosk
 * (reversed) or a second check-in of one attendance (duplicate_of, the same
 * member at two doors) never counts. A member merged into another counts as
 * that other member. Days are the check-ins' venue-local days (checkins.day),
 * so a period is in each venue's own zone.
 *
 * A visit is a counted attendance. A member's 1st, 2nd, 3rd... visit are
 * their counted attendances in time order, whatever the period.
 */
#ifndef TINGZI_HUB_STORE_DASH_H
#define TINGZI_HUB_STORE_DASH_H

#include <stddef.h>
#include <stdint.h>

/* A period: venue-local days from..to, both included. venue_id NULL: every venue (an owner's view). */
typedef struct hub_period {
	const char *venue_id;
	char from[11], to[11]; /* YYYY-MM-DD */
} hub_period;

/* Attendance over a period, and by week (weeks start on Monday; the first and last may be cut by the period). */
typedef struct hub_dash_week {
	char monday[11];
	int64_t visits;	      /* counted attendances that week */
	int64_t members;      /* distinct members who came that week */
	int64_t first_timers; /* members whose first visit ever was that week */
} hub_dash_week;

typedef struct hub_dash_attendance {
	int64_t visits, members; /* in the period */
	int64_t first_timers;	 /* members whose first visit ever fell in the period */
	int64_t returning;	 /* members who came in the period and had come before it */
	hub_dash_week *weeks;	 /* malloc'd, oldest first; free() it */
	size_t nweeks;
} hub_dash_attendance;

/* One event in the period (by its start's day in the venue's zone). */
typedef struct hub_dash_event {
	const char *uid, *title, *venue_id;
	int64_t start_ms;
	int64_t visits, first_timers; /* attendances; of them first visits ever */
	int cancelled;
} hub_dash_event;

/*
 * The tie funnel: the members whose first visit fell in the period, and of
 * them how many have (by now) come a 2nd, 3rd and 10th time; the median days
 * between 1st and 2nd and between 2nd and 3rd visit (of those who came again;
 * -1 when none did).
 */
typedef struct hub_dash_funnel {
	int64_t first, second, third, tenth;
	double median_days_1_2, median_days_2_3;
} hub_dash_funnel;

/*
 * Cohorts: the members whose first visit fell in each month of the period,
 * and of each cohort how many came in each month after it (offset 1, 2, ...)
 * up to the period's end. seen[c * max_offset + (k - 1)] is the count for
 * cohort c at offset k (k = 1..max_offset); months past the period's end are -1.
 */
typedef struct hub_dash_cohorts {
	size_t ncohorts, max_offset;
	char (*month)[8]; /* "YYYY-MM" per cohort */
	int64_t *size;	  /* members per cohort */
	int64_t *seen;	  /* ncohorts * max_offset */
} hub_dash_cohorts;

/* Who the numbers are: the lists behind them. */
typedef enum hub_dash_list {
	HUB_DL_VISITED,	       /* came in the period */
	HUB_DL_FIRST_TIMERS,   /* first visit in the period */
	HUB_DL_RETURNING,      /* came in the period, and before it */
	HUB_DL_REACHED,	       /* first visit in the period and, by now, at least n visits (n = 2, 3, 10) */
	HUB_DL_COHORT,	       /* first visit in month (YYYY-MM, arg) and came again n months after (n 0: the cohort) */
	HUB_DL_REGULARS,       /* at least 3 visits ever, and came in the period */
	HUB_DL_DRIFTING,       /* at least 3 visits ever, last visit more than n days before the period's end */
	HUB_DL_EVENT,	       /* came to the event arg */
	HUB_DL_WEEK,	       /* came in the week starting arg (a Monday) */
	HUB_DL_REFERRED_BY,    /* brought by the member arg (uid) */
	HUB_DL_TIER,	       /* current members of tier arg ("" for none) */
	HUB_DL_EXPIRING,       /* membership ends within n days after the period's end */
	HUB_DL_EXPIRED_COMING, /* membership had ended, and they came in the period after it ended */
} hub_dash_list;

typedef struct hub_dash_member {
	const char *uid, *name, *phone, *code, *tier, *expires, *venue_id;
	int64_t visits;		      /* ever */
	char first_day[11], last_day[11]; /* "" when never */
	int64_t referrals;	      /* members they brought */
} hub_dash_member;

/* A referral: member was brought by referrer (credited once, at their first visit or sign-up). */
typedef struct hub_dash_referrer {
	const char *uid, *name;
	int64_t brought;     /* in the period (by the brought member's first visit or sign-up) */
	int64_t brought_all; /* ever */
	int64_t invites_followed; /* in the period: live-code redirects carrying their member code (?ref=CODE) */
} hub_dash_referrer;

typedef struct hub_dash_referral {
	const char *member_uid, *member_name, *referrer_uid;
	int depth;	/* 1: brought by the root, 2: by one of those, ... */
	char day[11];	/* when it counted */
	const char *via; /* "visit", "signup", "console" */
} hub_dash_referral;

/* Live codes over the period: redirects per day, and what went wrong. */
typedef struct hub_dash_redirects {
	const char *slug;
	char day[11];
	int64_t redirects; /* sent to a group */
	int64_t missed;	   /* answered "not available": no link of the code was valid */
	int64_t with_ref;  /* of the redirects, those carrying a member's ref */
} hub_dash_redirects;

typedef struct hub_dash_link {
	const char *uid, *slug, *label, *platform;
	int64_t cap, redirects, expires_ms;
	int full;		/* reached its cap */
	int expired_while_live; /* expired in the period while its live code still led to it */
} hub_dash_link;

typedef struct hub_dash_groups {
	int64_t first_timers;	      /* first visits in the period */
	int64_t first_timers_shown_qr; /* of them, the kiosk showed the group's join QR (check-in flag bit 1) */
} hub_dash_groups;

typedef struct hub_dash_tier {
	const char *tier; /* "" for none */
	int64_t members;
} hub_dash_tier;

typedef struct hub_dash_tiers {
	int64_t expiring;	/* memberships ending within 30 days after the period's end */
	int64_t expired_coming; /* came in the period after their membership ended */
} hub_dash_tiers;

#endif
