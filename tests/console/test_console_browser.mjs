// The console in Debian's chromium, driven by puppeteer-core, with a real
// kiosk window beside it (see test_console_browser.sh, which makes the hub, the
// venue, the owner's set-up link, the kiosk's database and the X display, and
// passes them in the environment).
import { execFileSync, spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import fs from 'node:fs';
import path from 'node:path';

const E = process.env;
const need = (k) => {
	if (!E[k]) throw new Error(`the environment has no ${k}`);
	return E[k];
};
const BASE = need('BASE'), HUBDB = need('HUBDB'), WORK = need('WORK'), OUT = need('OUT');
const TINGZI = need('TINGZI'), KDB = need('KDB'), PIN = need('PIN'), VENUE = need('VENUE');
const require = createRequire(path.join(need('NODE_DIR'), 'package.json'));
const puppeteer = require('puppeteer-core');

const PASSWORD = 'pu-erh at dusk 1987';
const t0 = Date.now();
const say = (s) => console.log(`[${((Date.now() - t0) / 1000).toFixed(1)} s] ${s}`);
class Fail extends Error {}
const fail = (s) => {
	throw new Fail(s);
};
const expect = (c, s) => {
	if (!c) fail(s);
};
const expectEq = (got, want, what) => {
	if (got !== want) fail(`${what}: expected ${JSON.stringify(want)}, got ${JSON.stringify(got)}`);
};
// A finding that leaves the rest of the walk-through worth running: reported at the end, and fails the test then.
const findings = [];
const soft = (c, s) => {
	if (!c) {
		findings.push(s);
		console.log(`FINDING: ${s}`);
	}
};
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const sql = (q, db = HUBDB) => execFileSync('sqlite3', [db, q], { encoding: 'utf8' }).trim();
const run = (cmd, args, opts = {}) => execFileSync(cmd, args, { encoding: 'utf8', ...opts });

// ---- the kiosk ----

const KLOG = path.join(WORK, 'kiosk.log');
let kiosk = null;

function kioskStart() {
	const env = { ...E, TINGZI_SYNC_INTERVAL_S: '1', TINGZI_LOG_LAYOUT: '1', SDL_AUDIODRIVER: 'dummy',
		      ASAN_OPTIONS: 'detect_leaks=0:abort_on_error=1' };
	delete env.SDL_VIDEODRIVER;
	const fd = fs.openSync(KLOG, 'a');
	kiosk = spawn(TINGZI, ['--db', KDB, '--result-timeout', '2'], { env, stdio: ['ignore', 'ignore', fd] });
	fs.writeFileSync(need('KIOSK_PIDFILE'), String(kiosk.pid));
	kiosk.exited = null;
	kiosk.on('exit', (code, sig) => (kiosk.exited = sig || code));
}

function klog() {
	let text = '';
	try {
		text = fs.readFileSync(KLOG, 'utf8');
	} catch {}
	const out = [];
	for (const line of text.split('\n'))
		if (line.startsWith('{'))
			try {
				out.push(JSON.parse(line));
			} catch {}
	return out;
}

async function waitLog(pred, n, secs, what) {
	const end = Date.now() + secs * 1000;
	for (;;) {
		const got = klog().filter(pred).length;
		if (got >= n) return;
		if (kiosk && kiosk.exited !== null) fail(`the kiosk exited (${kiosk.exited}) waiting for ${what}`);
		if (Date.now() > end) fail(`timed out after ${secs} s waiting for ${n} x ${what} in the kiosk's log`);
		await sleep(50);
	}
}

const frames = () => klog().filter((e) => e.event === 'layout').length;
const screen = () => {
	const l = klog().filter((e) => e.event === 'layout');
	return l.length ? l[l.length - 1].screen : null;
};

// Tap the centre of a button of the last frame drawn, and wait for the next frame.
async function tap(act, arg) {
	const before = frames();
	const l = klog().filter((e) => e.event === 'layout');
	const last = l[l.length - 1];
	const b = (last?.buttons || []).filter((x) => x.act === act && (arg === undefined || x.arg === arg)).pop();
	if (!b) fail(`no button "${act} ${arg ?? ''}" on the kiosk's screen ${last?.screen}`);
	run('xdotool', ['mousemove', String(b.x + Math.floor(b.w / 2)), String(b.y + Math.floor(b.h / 2)), 'click', '1']);
	await waitLog((e) => e.event === 'layout', before + 1, 10, `a frame after tapping ${act}`);
}

// What a wedge scanner does: the code as a burst of keys (2 ms apart) and Enter.
const scan = (code) => run('xdotool', ['type', '--delay', '2', code + '\n']);

// ---- the browser ----

async function submit(page, formSel) {
	const [resp] = await Promise.all([
		page.waitForNavigation({ waitUntil: 'load' }),
		page.$eval(formSel, (f) => f.requestSubmit()),
	]);
	return resp;
}

const text = (page, sel) => page.$eval(sel, (e) => e.textContent.replace(/\s+/g, ' ').trim());
const bodyText = (page) => page.evaluate(() => document.body.innerText);

// The count shown on the event page, read whenever the page has one (it reloads itself).
async function shownCount(page) {
	try {
		return await page.$eval('.card.count .stat', (e) => e.textContent.trim());
	} catch {
		return null;
	}
}

function decodeQr(png) {
	let out;
	try {
		out = run('zbarimg', ['--quiet', '--raw', '-Sdisable', '-Sqrcode.enable', png],
			  { stdio: ['ignore', 'pipe', 'ignore'] }).trim();
	} catch {
		fail(`no QR code could be read in ${png}`);
	}
	const lines = out.split('\n');
	expectEq(lines.length, 1, `QR codes in ${png}`);
	return lines[0];
}

async function main() {
	const browser = await puppeteer.launch({
		executablePath: need('CHROMIUM'),
		headless: true,
		args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-dev-shm-usage', '--font-render-hinting=none'],
	});
	try {
		await steps(browser);
	} catch (e) {
		// what each page showed when the test failed, beside the screenshots
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
		if (kiosk && kiosk.exited === null) {
			kiosk.kill('SIGTERM');
			for (let i = 0; i < 50 && kiosk.exited === null; i++) await sleep(100);
		}
	}
}

async function steps(browser) {
	const page = await browser.newPage();
	await page.setViewport({ width: 1440, height: 900 });
	const errors = [];
	page.on('pageerror', (e) => errors.push(String(e)));
	// a page's own script failing; a refused request (the 401 of a wrong password) is not one
	page.on('console', (m) => m.type() === 'error' && !/^Failed to load resource/.test(m.text()) && errors.push(m.text()));

	// ---- set-up link: choose a password, which signs in ----
	let r = await page.goto(need('SETUP_URL'));
	expectEq(r.status(), 200, 'the set-up page');
	await page.type('#password', PASSWORD);
	await page.type('#password2', PASSWORD);
	r = await submit(page, 'form[action="/setup"]');
	expectEq(new URL(page.url()).pathname, '/venues', 'where set-up leads');
	expect((await bodyText(page)).includes('听雨茶馆'), 'the venues page does not list the venue');
	const again = await (await browser.createBrowserContext()).newPage();
	r = await again.goto(need('SETUP_URL'));
	expectEq(r.status(), 410, 'the set-up link opened a second time');
	await again.close();
	say('set up the owner from the one-time link');

	// ---- sign out, sign in through the form ----
	await submit(page, 'form[action="/logout"]');
	expectEq(new URL(page.url()).pathname, '/login', 'where sign-out leads');
	await page.type('#email', need('OWNER'));
	await page.type('#password', 'not the password');
	r = await submit(page, 'form[action="/login"]');
	expectEq(r.status(), 401, 'a wrong password');
	await page.$eval('#password', (e) => (e.value = ''));
	await page.type('#password', PASSWORD);
	await submit(page, 'form[action="/login"]');
	expectEq(new URL(page.url()).pathname, '/venues', 'where sign-in leads');
	say('signed out and in');

	const V = `/venues/${VENUE}`;
	// ---- a members CSV with one bad row: refused whole, its line named ----
	const bad = path.join(WORK, '会员.csv');
	const rows = [
		'name,phone,code,tier',
		'张三,13812345678,TZ1001,gold',
		'李四,13987654321,TZ1002,',
		'王五,12,TZ1003,', // line 4: a phone of two digits
		'赵六,13700001111,TZ1004,',
		'Ann Lee,13600002222,TZ1005,',
	];
	fs.writeFileSync(bad, rows.join('\n') + '\n');
	await page.goto(BASE + V + '/members/import');
	await (await page.$('input[type=file][name=file]')).uploadFile(bad);
	r = await submit(page, `form[action="${V}/members/import"]`);
	expectEq(r.status(), 400, 'the import of a file with a bad row');
	const errRows = await page.$$eval('table.data tbody tr', (trs) =>
		trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent.trim())));
	expectEq(errRows.length, 1, 'rows of the refusal table');
	expectEq(errRows[0][0], '4', 'the line named');
	expect(/phone/i.test(errRows[0][1]) && errRows[0][1].includes('12'),
	       `the refusal does not name the phone "12": ${errRows[0][1]}`);
	expect((await bodyText(page)).includes('Nothing was imported') || (await bodyText(page)).includes('没有导入'),
	       'the page does not say nothing was imported');
	expectEq(sql(`SELECT count(*) FROM members WHERE venue_id = '${VENUE}'`), '0', 'members after the refused file');
	say(`the bad row refused: line ${errRows[0][0]}: ${errRows[0][1]}`);
	rows[3] = '王五,13500003333,TZ1003,';
	fs.writeFileSync(bad, rows.join('\n') + '\n');
	await (await page.$('input[type=file][name=file]')).uploadFile(bad);
	r = await submit(page, `form[action="${V}/members/import"]`);
	expectEq(new URL(page.url()).pathname, V + '/members', 'where an import leads');
	expect(/5/.test(await text(page, '.alert')), `the flash does not count 5 rows: ${await text(page, '.alert')}`);
	expectEq(sql(`SELECT count(*) FROM members WHERE venue_id = '${VENUE}'`), '5', 'members after the corrected file');
	expectEq(sql(`SELECT tier FROM members WHERE code = 'TZ1001'`), 'gold', 'a tier imported');
	say('the corrected file imported: 5 members');

	// ---- an event running now ----
	await page.goto(BASE + V + '/events');
	// the form is folded away under "New event": open it as a person would
	if (await page.$eval('#title', (e) => !e.checkVisibility()))
		await page.click('details:has(#title) > summary');
	await page.type('#title', '周末茶话会');
	await page.$eval('#start', (e, v) => (e.value = v), need('EVENT_START'));
	await page.$eval('#end', (e, v) => (e.value = v), need('EVENT_END'));
	await submit(page, `form[action="${V}/events"]`);
	const m = new URL(page.url()).pathname.match(/\/events\/([0-9a-f]{32})$/);
	expect(m, `creating an event led to ${page.url()}`);
	const EV = m[1];
	expectEq(sql(`SELECT title FROM events WHERE uid = '${EV}'`), '周末茶话会', 'the event stored');
	const liveNow = sql(`SELECT start_ms <= strftime('%s','now') * 1000 AND end_ms > strftime('%s','now') * 1000
			     FROM events WHERE uid = '${EV}'`);
	expectEq(liveNow, '1', 'the event runs now (start and end read in the venue\'s zone)');
	expect(await page.$('[data-live]'), 'the page of an event running now is not live');
	say(`event ${EV} created, running now`);

	// ---- an enrolment code from the Kiosks page; the kiosk enrolls with it ----
	await page.goto(BASE + V + '/devices');
	await submit(page, `form[action="${V}/devices/code"]`);
	const code = await text(page, '.code-big code');
	expect(/^[A-Z0-9]{4}-[A-Z0-9]{4}-[A-Z0-9]{4}$/.test(code), `the enrolment code on the page: ${code}`);
	const qrShot = path.join(OUT, 'enrolment-qr.png');
	await (await page.$('.enroll svg')).screenshot({ path: qrShot });
	expectEq(decodeQr(qrShot), code, 'the enrolment QR');
	run(TINGZI, ['--db', KDB, 'enroll', BASE, code, '--name', 'door'], { stdio: ['ignore', 'pipe', 'pipe'] });
	run(TINGZI, ['--db', KDB, 'sync', '--once'], { stdio: ['ignore', 'pipe', 'pipe'] });
	expectEq(sql("SELECT count(*) FROM members WHERE active = 1", KDB), '5', 'members at the kiosk');
	expectEq(sql(`SELECT count(*) FROM devices WHERE venue_id = '${VENUE}' AND revoked_ms IS NULL`), '1', 'kiosks at the hub');
	await page.goto(BASE + V + '/devices');
	expect((await bodyText(page)).includes('door'), 'the Kiosks page does not list the kiosk "door"');
	say(`the kiosk enrolled with ${code} from the console`);

	// ---- the kiosk's window; a scan is counted on the event page, live ----
	kioskStart();
	await waitLog((e) => e.event === 'roster.ready', 1, 30, 'roster.ready');
	await waitLog((e) => e.event === 'layout' && e.screen === 'home', 1, 15, 'the home screen');
	run('xdotool', ['search', '--sync', '--onlyvisible', '--pid', String(kiosk.pid)]);
	run('xdotool', ['mousemove', '5', '300']);
	await sleep(1500);
	const evPath = `${V}/events/${EV}`;
	const ev = await browser.newPage();
	await ev.setViewport({ width: 1440, height: 900 });
	let loads = 0;
	ev.on('load', () => loads++);
	await ev.goto(BASE + evPath);
	expectEq(await shownCount(ev), '0', 'the count before the scan');
	expect(await ev.$eval('.live-hint', (e) => e.hidden), 'console.js did not take over the live count');
	const loadsBefore = loads;
	const scannedAt = Date.now();
	scan('TZ1001');
	await waitLog((e) => e.event === 'checkin.recorded', 1, 10, 'checkin.recorded');
	const hubHas = async (q, want, secs, what) => {
		const end = Date.now() + secs * 1000;
		while (sql(q) !== want) {
			if (Date.now() > end) fail(`${what}: the hub has ${sql(q)}, not ${want}, after ${secs} s`);
			await sleep(100);
		}
		return Date.now();
	};
	const atHub = await hubHas(`SELECT count(*) FROM checkins WHERE event_uid = '${EV}' AND reversed = 0`, '1', 20,
				   'the check-in at the hub');
	say(`scanned TZ1001 at the kiosk: at the hub ${((atHub - scannedAt) / 1000).toFixed(1)} s later`);
	let seen1 = null;
	for (const end = atHub + 15000; Date.now() < end; await sleep(200))
		if ((await shownCount(ev)) === '1') {
			seen1 = Date.now();
			break;
		}
	expect(seen1, `the event page still shows ${await shownCount(ev)} 15 s after the check-in reached the hub`);
	expect(loads > loadsBefore, 'the count changed but the page was not reloaded by its script');
	expect((await bodyText(ev)).includes('张三'), 'the check-in row does not name 张三');
	say(`the event page showed 1 after ${((seen1 - atHub) / 1000).toFixed(1)} s, by itself`);
	await ev.screenshot({ path: path.join(OUT, 'event-live-1.png') });

	// ---- staff undo it on the kiosk; the page shows it undone ----
	await waitLog((e) => e.event === 'layout' && e.screen === 'home', 2, 15, 'home after the welcome');
	run('xdotool', ['mousemove', '4', '4', 'mousedown', '1']);
	await sleep(3400);
	run('xdotool', ['mouseup', '1']);
	await waitLog((e) => e.event === 'screen' && e.screen === 'staff_pin', 1, 10, 'the PIN pad');
	for (const d of PIN) await tap('key', d.charCodeAt(0));
	await tap('ok');
	await waitLog((e) => e.event === 'staff.enter', 1, 10, 'staff.enter');
	await tap('staff_list');
	await waitLog((e) => e.event === 'screen' && e.screen === 'staff_list', 1, 10, 'the list of check-ins');
	await tap('staff_undo', 0);
	await waitLog((e) => e.event === 'checkin.reversed', 1, 10, 'checkin.reversed');
	const undoneAtHub = await hubHas(`SELECT count(*) FROM checkins WHERE event_uid = '${EV}' AND reversed = 1`, '1',
					 20, 'the undo at the hub');
	let seen0 = null;
	for (const end = undoneAtHub + 15000; Date.now() < end; await sleep(200))
		if ((await shownCount(ev)) === '0') {
			seen0 = Date.now();
			break;
		}
	expect(seen0, `the event page still shows ${await shownCount(ev)} 15 s after the undo reached the hub`);
	const evText = await bodyText(ev);
	expect(/undone|撤销/.test(evText), 'the event page does not mark the check-in undone');
	say(`undone at the kiosk: the page showed 0 after ${((seen0 - undoneAtHub) / 1000).toFixed(1)} s`);
	await ev.screenshot({ path: path.join(OUT, 'event-live-undone.png') });
	await ev.close();
	// everything the kiosk held is at the hub now: its Kiosks row must not say records wait
	for (const end = Date.now() + 15000; sql('SELECT count(*) FROM outbox', KDB) !== '0'; await sleep(200))
		if (Date.now() > end) fail(`the kiosk still holds ${sql('SELECT count(*) FROM outbox', KDB)} records`);
	await page.goto(`${BASE}${V}/devices?lang=en`);
	const queue = await page.$eval('td[data-label="Queue"]', (e) => e.textContent.trim());
	soft(/^0 waiting/.test(queue), `the Kiosks page says "${queue}" for a kiosk whose outbox is empty (the count it ` +
	     'sent with its last push included the records that push delivered)');
	kiosk.kill('SIGTERM');
	for (let i = 0; i < 50 && kiosk.exited === null; i++) await sleep(100);
	expectEq(kiosk.exited, 0, "the kiosk's exit status");

	// ---- a group link: the venue's live code leads to it ----
	const slug = sql(`SELECT slug FROM venues WHERE id = '${VENUE}'`);
	const liveUrl = `${BASE}/j/${slug}`;
	const group = 'https://weixin.qq.com/g/AbC123tingzi';
	await page.goto(`${BASE}${V}/links`);
	await page.type('#url', group);
	await page.type('#label', '茶友群');
	r = await submit(page, `form[action="${V}/links"]`);
	expectEq(new URL(page.url()).pathname, `${V}/links`, 'where adding a link leads');
	expectEq(sql(`SELECT platform || ' ' || label || ' ' || slug FROM links WHERE venue_id = '${VENUE}'`),
		 `wechat 茶友群 ${slug}`, 'the link stored (platform from its host, under the venue\'s live code)');
	const days = Number(sql(`SELECT (expires_ms - created_ms) / 86400000.0 FROM links WHERE venue_id = '${VENUE}'`));
	expect(days > 6.9 && days <= 7, `a WeChat group link without an expiry lives ${days} days, not 7`);
	// a phone scanning the poster: the live address redirects to the group (not followed off this machine)
	const jump = await fetch(liveUrl, { redirect: 'manual' });
	expect([302, 303, 307].includes(jump.status), `${liveUrl} answered ${jump.status}`);
	expectEq(jump.headers.get('location'), group, `where ${liveUrl} leads`);
	await page.goto(`${BASE}${V}/links`);
	expect((await bodyText(page)).includes('AbC123tingzi'), 'the links page does not show where the live code leads');
	say(`a WeChat group link added; ${liveUrl} leads to it`);

	// ---- the poster: printed and downloaded, its QR leads to the live code ----
	await page.goto(`${BASE}${V}/poster`);
	const pdf = path.join(OUT, 'poster.pdf');
	await page.pdf({ path: pdf, format: 'A5', printBackground: true });
	run('pdftoppm', ['-r', '150', '-png', '-f', '1', '-l', '1', pdf, path.join(WORK, 'poster-print')]);
	const printed = fs.readdirSync(WORK).filter((f) => f.startsWith('poster-print') && f.endsWith('.png'));
	expectEq(printed.length, 1, 'pages of the printed poster read');
	fs.copyFileSync(path.join(WORK, printed[0]), path.join(OUT, 'poster-printed.png'));
	expectEq(decodeQr(path.join(OUT, 'poster-printed.png')), liveUrl, 'the printed poster\'s QR');
	const png = await page.evaluate(async (u) => {
		const r = await fetch(u, { credentials: 'same-origin' });
		return { status: r.status, type: r.headers.get('content-type'), bytes: Array.from(new Uint8Array(await r.arrayBuffer())) };
	}, `${V}/poster.png`);
	expectEq(png.status, 200, 'poster.png');
	expectEq(png.type, 'image/png', 'poster.png\'s type');
	fs.writeFileSync(path.join(OUT, 'poster.png'), Buffer.from(png.bytes));
	expectEq(decodeQr(path.join(OUT, 'poster.png')), liveUrl, 'poster.png\'s QR');
	say(`the poster, printed and as poster.png, decodes to ${liveUrl}`);

	// ---- screenshots of the main pages: two sizes, two languages ----
	const member = sql(`SELECT uid FROM members WHERE code = 'TZ1001'`);
	const pages = [
		['venues', '/venues'],
		['venue', V],
		['members-search', `${V}/members?q=zhang`],
		['member', `${V}/members/${member}`],
		['events', `${V}/events`],
		['event', evPath],
		['links', `${V}/links`],
		['devices', `${V}/devices`],
		['poster', `${V}/poster`],
	];
	let shots = 0;
	for (const lang of ['zh-Hans', 'en']) {
		await page.goto(`${BASE}/venues?lang=${lang}`);
		for (const [w, h] of [[390, 844], [1440, 900]]) {
			await page.setViewport({ width: w, height: h });
			for (const [name, p] of pages) {
				r = await page.goto(BASE + p);
				expectEq(r.status(), 200, `${p} (${lang}, ${w}x${h})`);
				expectEq(await page.$eval('html', (e) => e.lang), lang, `the lang of ${p}`);
				const wide = await page.evaluate(() => document.documentElement.scrollWidth);
				expect(wide <= w + 1, `${name} at ${w}x${h} (${lang}) is ${wide} px wide: the page scrolls sideways`);
				// markup written as text (an escaped tag) is something a person would see
				const leaked = (await bodyText(page)).match(/<\/?[a-z]+[ >\/]/i);
				soft(!leaked, `${name} (${lang}) shows markup as text: ${leaked}`);
				if (name === 'poster') {
					// the code fills its square and stands in the middle of the sheet
					const g = await page.evaluate(() => {
						const r = (s) => document.querySelector(s).getBoundingClientRect();
						const q = r('.poster-qr svg'), box = r('.poster-qr'), sheet = r('.poster');
						return { q: q.width, box: box.width, mid: q.left + q.width / 2 - (sheet.left + sheet.width / 2) };
					});
					soft(g.q >= 0.9 * g.box, `the poster's QR is ${g.q.toFixed(0)} px wide in its ${g.box.toFixed(0)} px square (${w}x${h})`);
					soft(Math.abs(g.mid) <= 2, `the poster's QR is ${g.mid.toFixed(0)} px off the sheet's middle (${w}x${h})`);
				}
				await page.screenshot({ path: path.join(OUT, `${name}-${lang}-${w}x${h}.png`) });
				shots++;
			}
		}
	}
	// the search found 张三 by pinyin
	await page.goto(`${BASE}${V}/members?q=zhang`);
	expect((await bodyText(page)).includes('张三'), 'searching "zhang" does not find 张三');

	// ---- sign out: the pages are closed ----
	await submit(page, 'form[action="/logout"]');
	expectEq(new URL(page.url()).pathname, '/login', 'where sign-out leads');
	for (const p of ['/venues', V, `${V}/members`, evPath, `${V}/poster`]) {
		r = await page.goto(BASE + p);
		const u = new URL(page.url());
		expectEq(u.pathname, '/login', `${p} after sign-out`);
		expectEq(u.searchParams.get('next'), p, `the next= of ${p}`);
	}
	const cookies = await page.cookies();
	expect(!cookies.some((c) => c.name === 'tzs'), 'the session cookie is still there after sign-out');
	for (const lang of ['zh-Hans', 'en'])
		for (const [w, h] of [[390, 844], [1440, 900]]) {
			await page.setViewport({ width: w, height: h });
			await page.goto(`${BASE}/login?lang=${lang}`);
			await page.screenshot({ path: path.join(OUT, `login-${lang}-${w}x${h}.png`) });
			shots++;
		}
	expectEq(errors.length, 0, `script errors in the pages: ${errors.join('; ')}`);
	say(`signed out: the pages lead to /login; ${shots} screenshots in ${OUT}`);
	expect(!findings.length, `${findings.length} finding(s):\n  ${findings.join('\n  ')}`);
}

main().then(
	() => process.exit(0),
	(e) => {
		console.error(e instanceof Fail ? `FAIL: ${e.message}` : e);
		process.exit(1);
	});
