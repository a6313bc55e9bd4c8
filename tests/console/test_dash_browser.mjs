// The community dashboard in Debian's chromium (puppeteer-core), against a real
// hub holding the small community dash_community.py built (see
// test_dash_browser.sh). Every expected number below is worked out by hand from
// the table at the top of dash_community.py, not by the code under test; the
// working is in the comments. The page is read by its stable hooks
// (console_dash.c): a figure's data-n, a table row's data-row, a number cell's
// data-n, the charts' ids.
import { createRequire } from 'node:module';
import fs from 'node:fs';
import path from 'node:path';

const E = process.env;
const need = (k) => {
	if (!E[k]) throw new Error(`the environment has no ${k}`);
	return E[k];
};
const BASE = need('BASE'), OUT = need('OUT');
const C = JSON.parse(fs.readFileSync(need('COMMUNITY'), 'utf8'));
const require = createRequire(path.join(need('NODE_DIR'), 'package.json'));
const puppeteer = require('puppeteer-core');

const t0 = Date.now();
const say = (s) => console.log(`[${((Date.now() - t0) / 1000).toFixed(1)} s] ${s}`);
class Fail extends Error {}
const fail = (s) => {
	throw new Fail(s);
};
const expect = (c, s) => {
	if (!c) fail(s);
};
// Equal values: arrays in order, objects whatever their keys' order (a CSV and a page may list them apart).
const canon = (v) => Array.isArray(v) ? v.map(canon)
	: v && typeof v === 'object' ? Object.fromEntries(Object.keys(v).sort().map((k) => [k, canon(v[k])])) : v;
const same = (a, b) => JSON.stringify(canon(a)) === JSON.stringify(canon(b));
const expectEq = (got, want, what) => {
	if (!same(got, want)) fail(`${what}: expected ${JSON.stringify(want)}, got ${JSON.stringify(got)}`);
};
// A finding that leaves the rest worth running: reported at the end, and fails the test then.
// what: the finding, said once however many views show it; where: the first view that did.
const findings = new Map();
const soft = (c, what, where) => {
	if (!c && !findings.has(what)) {
		findings.set(what, where);
		console.log(`FINDING: ${what} (${where})`);
	}
};

const V = `/venues/${C.venue}`;
const P = `from=${C.period.from}&to=${C.period.to}`; // 2026-06-01 .. 2026-08-30: 13 weeks, June to August
const TODAY = C.today;
const PT = `from=${TODAY}&to=${TODAY}`; // today: the live codes' redirects, links expired now, referrals noted now
const name = (k) => C.members[k].name;
const names = (ks) => ks.map(name);
const sorted = (a) => [...a].sort();
const ev = (k) => C.events[k];

// ---- the numbers, worked out by hand from the table in dash_community.py ----
//
// Visits are counted attendances: a check-in undone (!) never counts, nor the
// second check-in of one attendance (AB: door B's). M15 胡君 is merged into M14
// 胡军: their visits are M14's (E2 from M15, E3, E6 both of them: one
// attendance, E10 from M15), so M14's first visit is 05-23, before the period.
const HAND = {
	figures: {
		// In the period (E3..E12 and D2), per member: M01 张伟 10 events + D2 = 11; M02 王芳 E3 E5 E8 E10
		// E12 = 5; M03 李娜 E4 E6 E9 E11 = 4; M04 刘洋 E3 = 1; M06 杨磊 E4 E5 = 2; M07 赵敏 E7 = 1; M09 周杰
		// E3..E12 = 10; M10 吴婷 3; M11 徐涛 1; M12 孙丽 2; M13 马超 4; M14 胡军 E3 E6 E10 = 3; M16 郭梅 3;
		// M17 何平 1; M18 林红 E11 = 1 (E7 undone); M20 高洁 3; M21 梁雪 3; M22 宋宇 2; M23 郑琳 1; M24 Ann
		// Lee 1: 11+5+4+1+2+1+10+3+1+2+4+3+3+1+1+3+3+2+1+1 = 62. Counting the 5 second check-ins at door
		// B, M15's E6 and the 2 undone ones would make 70.
		visits: '62',
		// those 20 members (M19 罗斌's only check-in was undone; M05 陈静 and M08 黄强 came before only)
		members: '20',
		// first visit ever in the period: June M09 周杰 06-06, M10 吴婷 06-06, M11 徐涛 06-13, M12 孙丽
		// 06-13, M13 马超 06-27; July M16 郭梅 07-04, M20 高洁 07-04, M17 何平 07-18; August M21 梁雪 08-01,
		// M22 宋宇 08-08, M18 林红 08-15 (her 07-18 was undone), M24 Ann Lee 08-15, M23 郑琳 08-29 = 13.
		// M14 胡军 is not one (merged: first 05-23).
		first_timers: '13',
		// came and had come before: M01, M02, M03, M04, M06, M07, M14 = 7 (20 - 13)
		returning: '7',
		// of the 13: 2nd visit by now M09 (7 days), M10 (21), M12 (42), M13 (7), M16 (21), M20 (14), M21
		// (7), M22 (7): 7 7 7 7 | 14 21 21 42, median of 8 = (7 + 14) / 2 = 10.5
		median_1_2: '10.5',
		// 3rd visit: M09 06-13 -> 06-27 14, M10 06-27 -> 07-04 7, M13 07-04 -> 07-18 14, M16 07-25 -> 08-01 7,
		// M20 07-18 -> 08-01 14, M21 08-08 -> 08-29 21: 7 7 14 | 14 14 21, median = (14 + 14) / 2 = 14
		median_2_3: '14',
		// 3 visits or more ever, and came in the period: M01 (13), M02 (6), M03 (5), M04 (3), M06 (4), M09
		// (10), M10 (3), M13 (4), M14 (4, with M15's), M16 (3), M20 (3), M21 (3) = 12
		regulars: '12',
		// regulars whose last visit is more than 30 days before 08-30, i.e. on 07-30 or before: M10 吴婷
		// 07-04, M06 杨磊 06-27, M04 刘洋 06-06 and M05 陈静 05-23 (3 visits, none in the period) = 4
		drifting: '4',
		// first-timers whose first counted check-in carried flags bit 1: M11 (E4), M16 (E6), M17 (E7), M21
		// (E9, door B), M22 (E10), M23 (E12) = 6 of 13 = 46% (M18's flagged one was undone; M07's is not a
		// first visit; M14's is not, once merged: counting it would make 7 of 14 = 50%)
		shown_qr: '46%',
		// no live code was followed in the summer
		invites: '0',
		redirects: '0',
		missed: '0',
		// memberships ending 08-30 .. 09-28: M25 谢飞 09-01, M20 高洁 09-10, M02 王芳 09-15, M13 马超 09-20 = 4
		expiring: '4',
		// ended before 08-30 and came after it ended: M12 孙丽 (07-20; came 07-25), M03 李娜 (07-10; came 08-01,
		// 08-15) = 2; not M04 刘洋 (06-30; last came 06-06), M05 陈静, M26 韩雪 (never came)
		expired_coming: '2',
	},
	// per week (Monday): visits, members, first-timers, returning (= members - first-timers)
	weeks: {
		'2026-06-01': [6, 6, 2, 4], // E3: M01 M02 M04 M09 M10 M14; first M09 M10
		'2026-06-08': [6, 6, 2, 4], // E4: M01 M03 M06 M09 M11 M12; first M11 M12
		'2026-06-15': [0, 0, 0, 0],
		'2026-06-22': [6, 6, 1, 5], // E5: M01 (twice: A and B) M02 M06 M09 M10 M13; first M13
		'2026-06-29': [8, 8, 2, 6], // E6: M01 M03 M09 M10 M13 M14 (and M15: one person) M16 M20; first M16 M20
		'2026-07-06': [1, 1, 0, 1], // D2: M01 at both doors, one attendance
		'2026-07-13': [6, 6, 1, 5], // E7: M01 M07 M09 M13 M17 M20 (twice); M18 undone; first M17
		'2026-07-20': [5, 5, 0, 5], // E8: M01 M02 M09 (twice) M12 M16; M19 undone
		'2026-07-27': [7, 7, 1, 6], // E9: M01 M03 M09 M13 M16 M20 M21; first M21
		'2026-08-03': [6, 6, 1, 5], // E10: M01 M02 M09 M14 (M15's) M21 M22; first M22
		'2026-08-10': [6, 6, 2, 4], // E11: M01 M03 M09 M18 M22 M24; first M18 M24
		'2026-08-17': [0, 0, 0, 0],
		'2026-08-24': [5, 5, 1, 4], // E12: M01 M02 (twice) M09 M21 M23; first M23
	},
	// the events of the period, newest first: visits, first-timers (E1 and E2 fall before it)
	events: [['E12', 5, 1], ['E11', 6, 2], ['E10', 6, 1], ['E9', 7, 1], ['E8', 5, 0], ['E7', 6, 1],
		 ['E6', 8, 2], ['E5', 6, 1], ['E4', 6, 2], ['E3', 6, 2]],
	// the funnel: of the 13 first-timers, 2nd visit 8 (listed above), 3rd 6, 10th 1 (M09 周杰: E3..E12)
	funnel: { 1: ['13', '100%'], 2: ['8', '62%'], 3: ['6', '46%'], 10: ['1', '8%'] },
	// cohorts by the month of the first visit, and the share seen again 1 and 2 months later:
	//   June M09 M10 M11 M12 M13 (5): in July M09 M10 M12 M13 = 4 (80%), in August M09 M13 = 2 (40%)
	//   July M16 M17 M20 (3): in August M16 M20 = 2 (67%); August is the period's last month
	//   August M18 M21 M22 M23 M24 (5)
	cohorts: { '2026-06': ['5', '80%', '40%'], '2026-07': ['3', '67%', ''], '2026-08': ['5', '', ''] },
	cohortCounts: { '2026-06': [5, 4, 2], '2026-07': [3, 2, null], '2026-08': [5, null, null] },
	// drifting, the most recently seen first
	drifting: ['M10', 'M06', 'M04', 'M05'], // 07-04, 06-27, 06-06, 05-23
	// referrals noted in the console count at the brought member's first visit, all of them in the summer:
	// M01 张伟 3 (M09 06, M10 06, M16 07), M09 周杰 2 (M21 08, M22 08), M02 王芳 1 (M11 06), M03 李娜 1
	// (M13 06), M21 梁雪 1 (M23 08). Most brought first, ties by name (code point order): 周 5468, 张 5F20,
	// 李 674E, 梁 6881, 王 738B, 赵 8D75.
	referrersSummer: [['M01', 3, 3, 0], ['M09', 2, 2, 0], ['M03', 1, 1, 0], ['M21', 1, 1, 0], ['M02', 1, 1, 0]],
	// today: nobody brought (their first visits were in the summer), so by name; invites followed (hits
	// carrying their code): TZ01 twice, TZ09 once, TZ07 once (at dushu; TZ07's other ref was a miss, which
	// is no invite followed); 赵敏 brought nobody but her invite was followed; NOPE99 is nobody's code
	referrersToday: [['M09', 0, 2, 1], ['M01', 0, 3, 2], ['M03', 0, 1, 0], ['M21', 0, 1, 0], ['M02', 0, 1, 0],
			 ['M07', 0, 0, 1]],
	// the tree of M01 张伟, depth first: M09 周杰 (M21 梁雪 (M23 郑琳), M22 宋宇), M10 吴婷, M16 郭梅
	tree: [['M09', 1], ['M21', 2], ['M23', 3], ['M22', 2], ['M10', 1], ['M16', 1]],
	// today's live codes: the venue's code: 5 sent to a group (L1 twice, L2 three times), 2 found nothing
	// (after L2 expired), 3 with a member's ref (TZ01 TZ01 TZ09; the miss with TZ07 is no redirect);
	// dushu: 4 sent to 读书会群, none missed, 2 with a ref (TZ07, NOPE99)
	slugsToday: { venue: [5, 2, 3], dushu: [4, 0, 2] },
	// 9 sent in all, 2 missed, 5 invites followed
	groupsToday: { redirects: '9', missed: '2', invites: '5' },
	// links that left people outside today: L1 reached its cap (2 of 2); L2 expired while the venue's code
	// still led to it (L1 before it was full). L4 expired too, but the code led to L3: not listed.
	linksToday: [['L1', 'full', 2], ['L2', 'expired_live', 3]],
	// current members per tier (29: M15 was merged): none M06 M08 M10 M11 M16 M17 M18 M19 M21 M22 M23 M24
	// M28 M29 M30 = 15; 月卡 M03 M04 M07 M14 M20 M26 = 6; 学生 M05 M12 M13 M27 = 4; 年卡 M01 M02 M09 M25 =
	// 4 (ties by name: 学 5B66 before 年 5E74)
	tiers: [['', 15], ['月卡', 6], ['学生', 4], ['年卡', 4]],
};

// The members behind some numbers, by name (lists are by name; drifting ones by last visit).
const LISTS = [
	['first-timers', '#attendance [data-n="first_timers"]', HAND.figures.first_timers,
	 ['M09', 'M10', 'M11', 'M12', 'M13', 'M16', 'M17', 'M20', 'M18', 'M21', 'M22', 'M23', 'M24']],
	['returning', '#attendance [data-n="returning"]', '7', ['M01', 'M02', 'M03', 'M04', 'M06', 'M07', 'M14']],
	// the week of 06-29 (its bar in the chart): the 8 of E6 (M15 is M14)
	['week of 2026-06-29', 'svg:has(#c-visits-t) a[href*="monday=2026-06-29"]', null,
	 ['M01', 'M03', 'M09', 'M10', 'M13', 'M14', 'M16', 'M20']],
	['3rd visit', '#funnel tr[data-row="3"] [data-n="members"] a', '6', ['M09', 'M10', 'M13', 'M16', 'M20', 'M21']],
	['June cohort seen in July', '#cohorts tr[data-row="2026-06"] td[data-n="1"] a', null, ['M09', 'M10', 'M12', 'M13']],
	['drifting', '#regulars [data-n="drifting"]', '4', HAND.drifting, 'ordered'],
	['the event E7', () => `#attendance tr[data-row="${ev('E7')}"] [data-n="visits"] a`, '6',
	 ['M01', 'M07', 'M09', 'M13', 'M17', 'M20']],
	['came after their membership ended', '#tiers [data-n="expired_coming"]', '2', ['M03', 'M12']],
	['expiring', '#tiers [data-n="expiring"]', '4', ['M02', 'M13', 'M20', 'M25']],
	['brought by 张伟', () => `#referrals tr[data-row="${C.members.M01.uid}"] [data-n="brought_all"] a`, '3',
	 ['M09', 'M10', 'M16']],
	['tier 学生', '#tiers tr[data-row="学生"] [data-n="members"] a', '4', ['M05', 'M12', 'M13', 'M27']],
];

// ---- reading the page ----

async function readDash(page) {
	return page.evaluate(() => {
		const q = (s, r = document) => r.querySelector(s);
		const qa = (s, r = document) => [...r.querySelectorAll(s)];
		const t = (e) => (e ? e.textContent.replace(/\s+/g, ' ').trim() : null);
		const fig = {};
		for (const f of qa('.figure[data-n]')) fig[f.dataset.n] = t(q('.fig', f));
		const cells = (tr) => Object.fromEntries(qa('td[data-n]', tr).map((td) => [td.dataset.n, t(td)]));
		const weeks = {};
		for (const tr of qa('#attendance tr[data-row]')) if (/^\d{4}-\d\d-\d\d$/.test(tr.dataset.row)) weeks[tr.dataset.row] = cells(tr);
		const events = qa('#attendance tr[data-row]').filter((tr) => /^[0-9a-f]{32}$/.test(tr.dataset.row))
			.map((tr) => ({ uid: tr.dataset.row, title: t(q('td a', tr)), ...cells(tr) }));
		const funnel = {};
		for (const tr of qa('#funnel tr[data-row]')) funnel[tr.dataset.row] = [t(q('[data-n="members"]', tr)), t(tr.cells[2])];
		const cohorts = {};
		for (const tr of qa('#cohorts tr[data-row]')) cohorts[tr.dataset.row] = qa('td', tr).map(t);
		const drifting = qa('#regulars tr[data-row]').map((tr) => ({ uid: tr.dataset.row, name: t(q('td a', tr)),
									    phone: t(tr.cells[1]) }));
		const referrers = qa('#referrals tr[data-row]').map((tr) => ({ uid: tr.dataset.row, name: t(q('td a', tr)), ...cells(tr) }));
		const slugs = Object.fromEntries(qa('#groups tr[data-row]').filter((tr) => !/^[0-9a-f]{32}$/.test(tr.dataset.row))
			.map((tr) => [tr.dataset.row, cells(tr)]));
		const links = qa('#groups tr[data-row]').filter((tr) => /^[0-9a-f]{32}$/.test(tr.dataset.row))
			.map((tr) => ({ uid: tr.dataset.row, what: qa('[data-n="full"],[data-n="expired_live"]', tr).map((b) => b.dataset.n),
					...cells(tr) }));
		const tiers = qa('#tiers tr[data-row]').map((tr) => [tr.dataset.row, t(q('[data-n="members"]', tr))]);
		// the bars: the value printed on each week's bar, and the split of the stacked one (heights in px)
		const bars = (id) => {
			const svg = q(`#${id}-t`)?.closest('svg');
			if (!svg) return null;
			const out = {};
			for (const a of qa('a', svg)) {
				const m = a.getAttribute('href').match(/monday=([0-9-]+)/);
				if (!m) continue;
				const h = (s) => Number(q(s, a)?.getAttribute('height') || 0);
				out[m[1]] = { v: t(q('text.v', a)), a: h('rect.sa'), b: h('rect.sb'), title: t(q('title', a)) };
			}
			return out;
		};
		// the redirects' lines: each point's title says its code, day and count
		const dots = qa('circle title', q('#c-redirects-t')?.closest('svg') || document.createElement('svg')).map(t);
		return { fig, weeks, events, funnel, cohorts, drifting, referrers, slugs, links, tiers, dots,
			 visitBars: bars('c-visits'), splitBars: bars('c-split'), lang: document.documentElement.lang };
	});
}

// The page against the hand-worked numbers of the summer (P).
function checkSummer(d, where) {
	for (const [k, v] of Object.entries(HAND.figures)) expectEq(d.fig[k], v, `${where}: the figure ${k}`);
	const weeks = Object.fromEntries(Object.entries(d.weeks).map(([m, c]) =>
		[m, [c.visits, c.members, c.first_timers, c.returning].map(Number)]));
	expectEq(weeks, HAND.weeks, `${where}: the weeks' table`);
	expectEq(d.events.map((e) => [e.uid, Number(e.visits), Number(e.first_timers)]),
		 HAND.events.map(([k, v, f]) => [ev(k), v, f]), `${where}: the events' table`);
	expectEq(d.funnel, HAND.funnel, `${where}: the funnel's table`);
	expectEq(d.cohorts, HAND.cohorts, `${where}: the cohorts' cells`);
	expectEq(d.drifting.map((m) => m.name), names(HAND.drifting), `${where}: the drifting members, newest first`);
	expectEq(d.drifting.map((m) => m.uid), HAND.drifting.map((k) => C.members[k].uid), `${where}: the drifting rows' members`);
	for (const m of d.drifting)
		expect(/^139\*+\d{4}$/.test(m.phone), `${where}: ${m.name}'s phone is not masked on the page: ${m.phone}`);
	expectEq(d.referrers.map((r) => [r.name, r.brought, r.brought_all, r.invites]),
		 HAND.referrersSummer.map(([k, b, a, i]) => [name(k), String(b), String(a), String(i)]),
		 `${where}: the referrers of the summer`);
	expectEq(d.tiers, HAND.tiers.map(([t, n]) => [t, String(n)]), `${where}: members by tier`);
	expectEq(d.slugs, {}, `${where}: live codes used in the summer`);
	// the bars: the visits printed on two weeks' bars; the stacked bar of 06-29 is 2 first-timers under
	// 6 returning (heights in proportion, to a pixel of rounding)
	expectEq(d.visitBars['2026-06-29']?.v, '8', `${where}: the visits bar of the week of 06-29`);
	expectEq(d.visitBars['2026-07-06']?.v, '1', `${where}: the visits bar of the week of 07-06 (one drop-in, two doors)`);
	expectEq(d.visitBars['2026-06-15']?.v, '0', `${where}: the visits bar of the week of 06-15`);
	const s = d.splitBars['2026-06-29'];
	expect(s && s.v === '8' && s.a > 0 && Math.abs(s.a * 6 - s.b * 2) <= 8,
	       `${where}: the stacked bar of 06-29 is not 2 first-timers under 6 returning: ${JSON.stringify(s)}`);
	const s2 = d.splitBars['2026-07-20'];
	expect(s2 && s2.v === '5' && s2.a === 0 && s2.b > 0,
	       `${where}: the stacked bar of 07-20 is not 0 first-timers and 5 returning: ${JSON.stringify(s2)}`);
	// the links that left people outside, in the summer: none (every group link was made today)
	soft(same(d.links, []), `the summer's "group links that left people outside" lists ${JSON.stringify(d.links.map((l) => l.what))}: ` +
	     'a link made today, after the period, is listed as having reached its cap in it', where);
}

function checkToday(d, where) {
	expectEq([d.fig.redirects, d.fig.missed, d.fig.invites],
		 [HAND.groupsToday.redirects, HAND.groupsToday.missed, HAND.groupsToday.invites], `${where}: today's live-code figures`);
	const slugs = Object.fromEntries(Object.entries(HAND.slugsToday).map(([k, [r, m, w]]) =>
		[C.slugs[k], { redirects: String(r), missed: String(m), with_ref: String(w) }]));
	expectEq(d.slugs, slugs, `${where}: today's live codes`);
	// one point a code on today's chart (a period of one day is drawn by the day)
	expectEq(sorted(d.dots), sorted(Object.entries(HAND.slugsToday).map(([k, [r]]) => `${C.slugs[k]} ${TODAY.slice(5)}: ${r}`)),
		 `${where}: the points of today's redirects chart`);
	expectEq(d.links.map((l) => [l.uid, l.what, l.redirects]),
		 HAND.linksToday.map(([k, w, r]) => [C.links[k].uid, [w], String(r)]), `${where}: today's links that left people outside`);
	expectEq(d.referrers.map((r) => [r.name, r.brought, r.brought_all, r.invites]),
		 HAND.referrersToday.map(([k, b, a, i]) => [name(k), String(b), String(a), String(i)]), `${where}: today's referrers`);
	// nobody came today
	expectEq([d.fig.visits, d.fig.first_timers, d.fig.shown_qr], ['0', '0', '—'], `${where}: today's attendance`);
}

// ---- the browser ----

async function go(page, url, want = 200) {
	const r = await page.goto(BASE + url, { waitUntil: 'load' });
	expectEq(r.status(), want, `GET ${url}`);
	return r;
}

async function clickTo(page, sel) {
	const el = await page.$(sel);
	expect(el, `nothing on ${page.url()} matches ${sel}`);
	await el.evaluate((e) => e.scrollIntoView({ block: 'center' }));
	const [r] = await Promise.all([page.waitForNavigation({ waitUntil: 'load' }), el.click()]);
	expectEq(r.status(), 200, `following ${sel} to ${page.url()}`);
}

async function readList(page) {
	return page.evaluate(() => ({
		total: document.querySelector('section.card[data-n]')?.dataset.n ?? null,
		names: [...document.querySelectorAll('table.data tbody tr[data-row] td:first-child a')].map((a) => a.textContent.trim()),
		csv: document.querySelector('a[href*="csv=1"]')?.getAttribute('href') ?? null,
	}));
}

// CSV downloads: chromium saves each file the page's link names into DL (the browser's own download).
const DL = path.join(OUT, 'csv');
let cdp;
const downloads = new Map(); // guid -> { name, state }
async function downloadsOn(browser) {
	fs.mkdirSync(DL, { recursive: true });
	cdp = await browser.target().createCDPSession();
	// each file saved under its download's id, then named as the page named it (a second download of a name
	// replaces the first, rather than being read from a stale copy)
	await cdp.send('Browser.setDownloadBehavior', { behavior: 'allowAndName', downloadPath: DL, eventsEnabled: true });
	cdp.on('Browser.downloadWillBegin', (e) => downloads.set(e.guid, { name: e.suggestedFilename, state: 'begun' }));
	cdp.on('Browser.downloadProgress', (e) => {
		const d = downloads.get(e.guid);
		if (d) d.state = e.state;
	});
}

async function download(page, sel) {
	const el = await page.$(sel);
	expect(el, `no download link ${sel} on ${page.url()}`);
	const before = new Set(downloads.keys());
	await el.evaluate((e) => e.scrollIntoView({ block: 'center' }));
	await el.click();
	for (let i = 0; i < 200; i++) {
		const fresh = [...downloads.entries()].find(([g]) => !before.has(g));
		if (fresh && fresh[1].state === 'completed') {
			const file = path.join(DL, fresh[1].name);
			fs.renameSync(path.join(DL, fresh[0]), file);
			const text = fs.readFileSync(file, 'utf8');
			expect(text.startsWith('\ufeff'), `${fresh[1].name} has no byte-order mark (a spreadsheet would misread it)`);
			return { name: fresh[1].name, rows: parseCsv(text.slice(1)) };
		}
		if (fresh && fresh[1].state === 'canceled') fail(`the download of ${sel} was cancelled`);
		await new Promise((r) => setTimeout(r, 50));
	}
	fail(`the download of ${sel} did not complete in 10 s`);
}

function parseCsv(text) {
	const rows = [];
	let row = [], cell = '', quoted = false;
	for (let i = 0; i < text.length; i++) {
		const ch = text[i];
		if (quoted) {
			if (ch === '"' && text[i + 1] === '"') cell += text[++i];
			else if (ch === '"') quoted = false;
			else cell += ch;
		} else if (ch === '"') quoted = true;
		else if (ch === ',') row.push(cell), (cell = '');
		else if (ch === '\n' || ch === '\r') {
			if (ch === '\r' && text[i + 1] === '\n') i++;
			row.push(cell), rows.push(row), (row = []), (cell = '');
		} else cell += ch;
	}
	if (cell || row.length) row.push(cell), rows.push(row);
	return rows;
}

// The share a page prints of num out of den, for the cohorts' CSV (counts) against their cells (shares).
const pct = (num, den) => `${Math.floor((num * 1000) / den + 5) / 10 | 0}%`;

async function main() {
	const browser = await puppeteer.launch({
		executablePath: need('CHROMIUM'),
		headless: true,
		args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-dev-shm-usage', '--font-render-hinting=none'],
	});
	try {
		await downloadsOn(browser);
		await steps(browser);
	} catch (e) {
		let i = 0;
		for (const p of await browser.pages()) {
			i++;
			try {
				fs.writeFileSync(path.join(OUT, `failed-${i}.html`), await p.content());
				await p.screenshot({ path: path.join(OUT, `failed-${i}.png`), fullPage: true });
				console.error(`page ${i} at the failure: ${p.url()} (failed-${i}.png, failed-${i}.html)`);
			} catch {}
		}
		throw e;
	} finally {
		await browser.close();
	}
}

async function steps(browser) {
	expectEq(C.signup_day, C.today, 'the day the members were imported and the day of the redirects (run again after midnight)');
	const page = await browser.newPage();
	await page.setViewport({ width: 1440, height: 900 });
	const errors = [];
	page.on('pageerror', (e) => errors.push(String(e)));
	page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));

	// ---- sign in as the organizer ----
	await go(page, '/login?lang=en');
	await page.type('#email', C.email);
	await page.type('#password', C.password);
	await Promise.all([page.waitForNavigation({ waitUntil: 'load' }), page.$eval('form[action="/login"]', (f) => f.requestSubmit())]);
	expectEq(new URL(page.url()).pathname, '/venues', 'where signing in leads');
	// the Dashboard tab leads to the venue's dashboard
	await go(page, V);
	await clickTo(page, `nav.tabs a[href="${V}/dashboard"]`);
	expectEq(new URL(page.url()).pathname, `${V}/dashboard`, 'where the Dashboard tab leads');
	// the period chosen in its form, as a person does
	await page.$eval('nav.periods input[name="from"]', (e, v) => (e.value = v), C.period.from);
	await page.$eval('nav.periods input[name="to"]', (e, v) => (e.value = v), C.period.to);
	await Promise.all([page.waitForNavigation({ waitUntil: 'load' }), page.$eval('nav.periods form', (f) => f.requestSubmit())]);
	expectEq(new URL(page.url()).search, `?${P}`, 'the period the form asked for');
	checkSummer(await readDash(page), 'the summer, chosen in the form');
	say('signed in as the organizer; the Dashboard tab, then the summer chosen in the period form');

	// ---- the summer and today, two sizes, two languages: the numbers and screenshots ----
	for (const lang of ['zh-Hans', 'en']) {
		await go(page, `${V}/dashboard?lang=${lang}`);
		for (const [w, h] of [[390, 844], [1440, 900]]) {
			await page.setViewport({ width: w, height: h });
			for (const [what, q, check] of [['summer', P, checkSummer], ['today', PT, checkToday]]) {
				await go(page, `${V}/dashboard?${q}`);
				const d = await readDash(page);
				expectEq(d.lang, lang, `the page's language (${what})`);
				check(d, `${what}, ${lang}, ${w}x${h}`);
				const wide = await page.evaluate(() => document.documentElement.scrollWidth);
				soft(wide <= w + 1, `the dashboard is ${wide} px wide at ${w} px: it scrolls sideways`, `${what}, ${lang}`);
				const leaked = (await page.evaluate(() => document.body.innerText)).match(/<\/?[a-z]+[ >\/]/i);
				soft(!leaked, `the dashboard shows markup as text: ${leaked}`, `${what}, ${lang}, ${w}x${h}`);
				await page.screenshot({ path: path.join(OUT, `dashboard-${what}-${lang}-${w}x${h}.png`), fullPage: true });
			}
		}
	}
	// the zh-Hans page says its figures in Chinese: a label read as a person would
	await go(page, `${V}/dashboard?${P}&lang=zh-Hans`);
	const zhLabel = await page.$eval('#attendance [data-n="first_timers"] .fig-label', (e) => e.textContent.trim());
	expect(/首次/.test(zhLabel), `the first-timers' label in zh-Hans: ${zhLabel}`);
	say('the summer and today read as worked out by hand, at 390x844 and 1440x900, in zh-Hans and en (8 screenshots)');

	// ---- following numbers to the members behind them ----
	await page.setViewport({ width: 1440, height: 900 });
	for (const lang of ['en', 'zh-Hans']) {
		for (const [what, selOf, total, keys, ordered] of LISTS) {
			await go(page, `${V}/dashboard?${P}&lang=${lang}`);
			const sel = typeof selOf === 'function' ? selOf() : selOf;
			if (total !== null) expectEq(await page.$eval(sel, (e) => e.textContent.replace(/\D+/g, ' ').trim().split(' ')[0]),
						     total, `the number of ${what} (${lang})`);
			await clickTo(page, sel);
			expect(/\/dashboard\/members$/.test(new URL(page.url()).pathname), `${what} led to ${page.url()}`);
			const l = await readList(page);
			const want = names(keys);
			expectEq(ordered ? l.names : sorted(l.names), ordered ? want : sorted(want), `the members behind ${what} (${lang})`);
			expectEq(l.total, String(keys.length), `the total on the list of ${what} (${lang})`);
		}
	}
	say(`${LISTS.length} numbers followed to their members, in en and zh-Hans`);

	// ---- another drift, typed in its field: 60 days (last visit on 06-30 or before): M06 杨磊 06-27,
	// M04 刘洋 06-06, M05 陈静 05-23 = 3 (M10 吴婷's 07-04 is 57 days before 08-30) ----
	await go(page, `${V}/dashboard?${P}&lang=en`);
	await page.$eval('#drift', (e) => (e.value = ''));
	await page.type('#drift', '60');
	await Promise.all([page.waitForNavigation({ waitUntil: 'load' }), page.$eval('#drift', (e) => e.form.requestSubmit())]);
	expectEq(new URL(page.url()).searchParams.get('drift'), '60', 'the drift asked for');
	const d60 = await readDash(page);
	expectEq([d60.fig.drifting, d60.drifting.map((m) => m.name)], ['3', names(['M06', 'M04', 'M05'])], 'drifting after 60 days');
	expectEq(d60.fig.regulars, HAND.figures.regulars, 'regulars, whatever the drift');
	const f60 = await download(page, '#regulars a[href*="csv=drifting"]');
	expectEq(f60.rows.slice(1).map((r) => r[0]), names(['M06', 'M04', 'M05']), `${f60.name}: the drifting CSV follows the drift`);
	say('a drift of 60 days typed in its field: 3 drifting, in the CSV too');

	// ---- the referral tree: from the referrers' table, and from the "who" form ----
	await go(page, `${V}/dashboard?${P}&lang=en`);
	await clickTo(page, `#referrals tr[data-row="${C.members.M01.uid}"] td a`);
	expectEq(new URL(page.url()).pathname, `${V}/dashboard/referrals/${C.members.M01.uid}`, "where 张伟's name leads");
	const tree = await page.$$eval('ul.tree li[data-row]', (li) => li.map((e) => [e.dataset.row, Number(e.dataset.depth),
										      e.querySelector('a').textContent.trim()]));
	expectEq(tree, HAND.tree.map(([k, d]) => [C.members[k].uid, d, name(k)]), "张伟's referral tree, depth first");
	// nested as a tree: 郑琳 (depth 3) sits inside 梁雪's list, inside 周杰's
	const nest = await page.$eval(`li[data-row="${C.members.M23.uid}"]`, (e) =>
		[e.parentElement.closest('li[data-row]')?.dataset.row, e.parentElement.closest('li[data-row]')?.parentElement.closest('li[data-row]')?.dataset.row]);
	expectEq(nest, [C.members.M21.uid, C.members.M09.uid], "郑琳's place in the tree");
	await page.screenshot({ path: path.join(OUT, 'referral-tree-en-1440x900.png'), fullPage: true });
	await go(page, `${V}/dashboard?${P}`);
	await page.type('#who', C.members.M09.code);
	await Promise.all([page.waitForNavigation({ waitUntil: 'load' }), page.$eval('#who', (e) => e.form.requestSubmit())]);
	expectEq(new URL(page.url()).pathname, `${V}/dashboard/referrals/${C.members.M09.uid}`, `where the code ${C.members.M09.code} leads`);
	expectEq(await page.$$eval('ul.tree li[data-row]', (li) => li.map((e) => e.querySelector('a').textContent.trim())),
		 names(['M21', 'M23', 'M22']), "周杰's referral tree");
	say("张伟's tree and 周杰's (by their code) are as noted in the console");

	// ---- CSV downloads against the page ----
	await go(page, `${V}/dashboard?${P}&lang=en`);
	let d = await readDash(page);
	let f = await download(page, '#attendance a[href*="csv=weeks"]');
	expectEq(f.rows[0], ['week', 'visits', 'members', 'first_timers', 'returning'], `${f.name}'s header`);
	expectEq(Object.fromEntries(f.rows.slice(1).map((r) => [r[0], r.slice(1).map(Number)])),
		 Object.fromEntries(Object.entries(d.weeks).map(([m, c]) => [m, [c.visits, c.members, c.first_timers, c.returning].map(Number)])),
		 `${f.name} against the page's weeks`);
	f = await download(page, '#attendance a[href*="csv=events"]');
	expectEq(f.rows.slice(1).map((r) => [r[0], r[2], r[3]]), d.events.map((e) => [e.title, e.visits, e.first_timers]),
		 `${f.name} against the page's events`);
	f = await download(page, '#funnel a[href*="csv=funnel"]');
	expectEq(f.rows.slice(1, 5).map((r) => [r[0], [r[1], r[2]]]), Object.entries(d.funnel).sort((a, b) => a[0] - b[0]),
		 `${f.name} against the page's funnel`);
	expectEq([f.rows[5][1], f.rows[6][1]], [d.fig.median_1_2, d.fig.median_2_3], `${f.name}'s medians against the page's`);
	f = await download(page, '#cohorts a[href*="csv=cohorts"]');
	const counts = Object.fromEntries(f.rows.slice(1).map((r) => [r[0], r.slice(1).map((x) => (x === '' ? null : Number(x)))]));
	expectEq(counts, HAND.cohortCounts, `${f.name}: the cohorts' counts`);
	for (const [m, [size, ...seen]] of Object.entries(counts))
		expectEq([String(size), ...seen.map((s) => (s === null ? '' : pct(s, size)))], d.cohorts[m], `${f.name}'s ${m} against the page's shares`);
	f = await download(page, '#regulars a[href*="csv=drifting"]');
	expectEq(f.rows.slice(1).map((r) => r[0]), d.drifting.map((m) => m.name), `${f.name} against the page's drifting members`);
	f.rows.slice(1).forEach((r, i) => {
		const masked = d.drifting[i].phone;
		expect(/^\d{11}$/.test(r[1]) && masked.startsWith(r[1].slice(0, 3)) && masked.endsWith(r[1].slice(-4)),
		       `${f.name}: ${r[0]}'s full phone ${r[1]} is not the one masked on the page (${masked})`);
	});
	f = await download(page, '#tiers a[href*="csv=tiers"]');
	expectEq(f.rows.slice(1), d.tiers, `${f.name} against the page's tiers`);
	// today's: referrers, redirects, links
	await go(page, `${V}/dashboard?${PT}&lang=en`);
	d = await readDash(page);
	f = await download(page, '#referrals a[href*="csv=referrers"]');
	expectEq(f.rows.slice(1), d.referrers.map((r) => [r.name, r.brought, r.brought_all, r.invites]), `${f.name} against the page's referrers`);
	f = await download(page, '#groups a[href*="csv=redirects"]');
	expectEq(Object.fromEntries(f.rows.slice(1).map((r) => [r[0], { redirects: r[2], missed: r[3], with_ref: r[4] }])), d.slugs,
		 `${f.name} against the page's live codes`);
	expect(f.rows.slice(1).every((r) => r[1] === TODAY), `${f.name}: redirects on a day other than today ${TODAY}`);
	f = await download(page, '#groups a[href*="csv=links"]');
	expectEq(f.rows.slice(1).map((r) => [r[0], r[6], r[4]]),
		 HAND.linksToday.map(([k, w, r]) => [C.links[k].label, w === 'full' ? 'full' : 'expired while live', String(r)]),
		 `${f.name} against today's links`);
	// a list's CSV: the first-timers, with their first visits
	await go(page, `${V}/dashboard?${P}&lang=en`);
	await clickTo(page, '#attendance [data-n="first_timers"]');
	const l = await readList(page);
	f = await download(page, 'a[href*="csv=1"]');
	expectEq(sorted(f.rows.slice(1).map((r) => r[0])), sorted(l.names), `${f.name} against the first-timers' list`);
	const firstOf = Object.fromEntries(f.rows.slice(1).map((r) => [r[0], r[6]]));
	expectEq([firstOf[name('M18')], firstOf[name('M14')]], ['2026-08-15', undefined],
		 `${f.name}: 林红's first visit (her July one was undone), and 胡军 not a first-timer`);
	say(`${fs.readdirSync(DL).length} CSVs downloaded by the browser match the page (${DL})`);

	expectEq(errors, [], 'script errors in the pages');
	expect(!findings.size, `${findings.size} finding(s):\n  ${[...findings].map(([w, at]) => `${w} (${at})`).join('\n  ')}`);
}

main().then(
	() => process.exit(0),
	(e) => {
		console.error(e instanceof Fail ? `FAIL: ${e.message}` : e);
		process.exit(1);
	});
