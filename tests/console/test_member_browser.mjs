// Member sign-up and passes in Debian's chromium, driven by puppeteer-core
// (see test_member_browser.sh, which makes the hub, its key file, the venue,
// its sign-up page and the owner's set-up link, and passes them in the
// environment).
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import fs from 'node:fs';
import path from 'node:path';

const E = process.env;
const need = (k) => {
	if (!E[k]) throw new Error(`the environment has no ${k}`);
	return E[k];
};
const BASE = need('BASE'), HUBDB = need('HUBDB'), OUT = need('OUT'), VENUE = need('VENUE'), SLUG = need('SLUG');
const require = createRequire(path.join(need('NODE_DIR'), 'package.json'));
const puppeteer = require('puppeteer-core');

const PASSWORD = 'oolong by the window 2026';
const t0 = Date.now();
const say = (s) => console.log(`[${((Date.now() - t0) / 1000).toFixed(1)} s] ${s}`);
const fail = (s) => {
	throw new Error(s);
};
const expect = (c, s) => {
	if (!c) fail(s);
};
const expectEq = (got, want, what) => {
	if (got !== want) fail(`${what}: expected ${JSON.stringify(want)}, got ${JSON.stringify(got)}`);
};
const sql = (q) => execFileSync('sqlite3', [HUBDB, q], { encoding: 'utf8' }).trim();
// every QR code zbarimg finds in a picture, one text a line
const qrs = (file) => {
	try {
		return execFileSync('zbarimg', ['-q', '--raw', file], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] })
			.split('\n').filter((l) => l);
	} catch {
		return [];
	}
};

async function submit(page, formSel) {
	const [resp] = await Promise.all([
		page.waitForNavigation({ waitUntil: 'load' }),
		page.$eval(formSel, (f) => f.submit()),
	]);
	return resp;
}

const bodyText = (page) => page.evaluate(() => document.body.innerText);

// Nothing wider than the viewport, and every field, button and QR inside it.
async function fits(page, what) {
	const r = await page.evaluate(() => {
		const w = document.documentElement.clientWidth;
		const wide = document.documentElement.scrollWidth;
		const out = [];
		for (const e of document.querySelectorAll('input, button, label, svg, h1, p, dd, a')) {
			const b = e.getBoundingClientRect();
			if (b.width && (b.left < -0.5 || b.right > w + 0.5)) out.push(`${e.tagName}.${e.className} ${b.left}-${b.right}`);
		}
		return { w, wide, out };
	});
	expect(r.wide <= r.w, `${what}: the page is ${r.wide} px wide in a ${r.w} px viewport`);
	expect(r.out.length === 0, `${what}: cut off at the edge: ${r.out.join('; ')}`);
}

async function shot(page, name) {
	const file = path.join(OUT, `${name}.png`);
	await page.screenshot({ path: file, fullPage: true });
	return file;
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
		let i = 0;
		for (const p of await browser.pages()) {
			i++;
			try {
				fs.writeFileSync(path.join(OUT, `failed-${i}.html`), await p.content());
				await p.screenshot({ path: path.join(OUT, `failed-${i}.png`), fullPage: true });
				console.error(`page ${i} at the failure: ${p.url()} (failed-${i}.png)`);
			} catch {}
		}
		throw e;
	} finally {
		await browser.close();
	}
}

async function steps(browser) {
	// ---- a phone, JavaScript off, Chinese, through a member's invite ----
	const ctx = await browser.createBrowserContext();
	const phone = await ctx.newPage();
	await phone.setJavaScriptEnabled(false);
	await phone.setViewport({ width: 390, height: 844, deviceScaleFactor: 1, isMobile: true, hasTouch: true });
	await phone.setExtraHTTPHeaders({ 'Accept-Language': 'zh-CN,zh;q=0.9' });
	// the page's weight: its HTML and everything it loads (its stylesheet; no script, no image)
	const loads = [];
	phone.on('response', (resp) => loads.push(resp));
	let r = await phone.goto(`${BASE}/m/${SLUG}?ref=A-77`, { waitUntil: 'load' });
	expectEq(r.status(), 200, 'the sign-up page');
	let weight = 0;
	for (const resp of loads) weight += (await resp.buffer()).length;
	expectEq(loads.length, 2, 'requests the sign-up page makes (itself and its stylesheet)');
	expect(weight < 10000, `the sign-up page weighs ${weight} bytes`);
	const text = await bodyText(phone);
	expect(text.includes('成为会员') && text.includes('听雨茶馆'), 'the sign-up page is not in Simplified Chinese');
	expect(text.includes('请友善对待其他会员'), 'the venue\'s terms are not on the page');
	await fits(phone, 'the sign-up page at 390 px');
	await shot(phone, 'signup-zh-Hans-390x844');
	say(`sign-up page: ${weight} bytes with its stylesheet`);
	fs.writeFileSync(path.join(OUT, 'weight.txt'), `signup_page_bytes ${weight}\n`);
	await phone.type('#name', '林美玲');
	await phone.type('#phone', '139 0000 0031');
	await phone.click('input[name=consent]');
	r = await submit(phone, 'form');
	const url = new URL(phone.url());
	expect(/^\/p\/[a-z2-7]{32}$/.test(url.pathname), `sign-up led to ${phone.url()}`);
	expectEq(r.status(), 200, 'the pass page after sign-up');
	const passText = await phone.$eval('#pass-qr svg', (e) => e.getAttribute('aria-label'));
	expect(passText.length >= 100 && passText.length <= 120, `the pass is ${passText.length} characters`);
	const ptext = await bodyText(phone);
	expect(ptext.includes('美玲') && ptext.includes('会员号') && ptext.includes('请保管好本页地址'),
	       'the pass page lacks the greeting, the code or the sentence to keep the address');
	await fits(phone, 'the pass page at 390 px');
	const passShot = await shot(phone, 'pass-zh-Hans-390x844');
	const found = qrs(passShot);
	expect(found.includes(passText), `zbarimg read ${JSON.stringify(found)} from the 390 px screenshot, not the pass`);
	expect(found.some((t) => t.includes('/j/')), 'the join QR of the live code is not on the pass page');
	say(`signed up at 390x844 without JavaScript; zbarimg read the pass (${passText.length} characters) from the screenshot`);
	// the referral, credited to Alice
	expectEq(sql(`SELECT count(*) FROM referrals r JOIN members m ON m.rowid = r.member_rid
		      JOIN members b ON b.rowid = r.referrer_rid WHERE m.phone = '13900000031' AND b.code = 'A-77'
		      AND r.via = 'signup'`), '1', 'the referral of the sign-up');
	// printed as a card: the join section and the sentence stay off paper
	await phone.emulateMediaType('print');
	await shot(phone, 'pass-print');
	const hidden = await phone.$eval('.join', (e) => getComputedStyle(e).display);
	expectEq(hidden, 'none', 'the join section when printed');
	await phone.emulateMediaType('screen');

	// ---- the other languages and a laptop ----
	for (const [lang, word] of [['zh-Hant', '成為會員'], ['en', 'Become a member']]) {
		r = await phone.goto(`${BASE}/m/${SLUG}?lang=${lang}`);
		expect((await bodyText(phone)).includes(word), `the sign-up page in ${lang}`);
		await fits(phone, `the sign-up page in ${lang} at 390 px`);
		await shot(phone, `signup-${lang}-390x844`);
	}
	// a browser of its own: the phone's choice of language (a cookie) is not the laptop's
	const laptop = await (await browser.createBrowserContext()).newPage();
	await laptop.setViewport({ width: 1440, height: 900 });
	await laptop.setExtraHTTPHeaders({ 'Accept-Language': 'zh-TW,zh;q=0.9' });
	r = await laptop.goto(`${BASE}/m/${SLUG}`);
	expect((await bodyText(laptop)).includes('成為會員'), 'the sign-up page for a browser asking zh-TW');
	await fits(laptop, 'the sign-up page at 1440 px');
	await shot(laptop, 'signup-zh-Hant-1440x900');
	r = await laptop.goto(`${url.href}?lang=en`);
	await fits(laptop, 'the pass page at 1440 px');
	await shot(laptop, 'pass-en-1440x900');
	say('screenshots at 390x844 and 1440x900 in three languages');

	// ---- the console: issue a pass from a member's page, rotate the key ----
	const page = await browser.newPage();
	await page.setViewport({ width: 1440, height: 900 });
	await page.goto(need('SETUP_URL'));
	await page.type('#password', PASSWORD);
	await page.type('#password2', PASSWORD);
	await submit(page, 'form[action="/setup"]');
	await page.goto(`${BASE}/venues/${VENUE}/members/${need('MEMBER_W')}?lang=en`);
	expect(await page.$('#pass'), 'the member page has no pass card');
	r = await submit(page, `form[action$="/members/${need('MEMBER_W')}/pass"]`);
	expectEq(r.status(), 200, 'issuing a pass in the console');
	const consolePass = await page.$eval('#pass-qr svg', (e) => e.getAttribute('aria-label'));
	const address = await page.$eval('#private-address', (e) => e.getAttribute('href'));
	await shot(page, 'console-pass-issued-1440x900');
	const shown = qrs(path.join(OUT, 'console-pass-issued-1440x900.png'));
	expect(shown.includes(consolePass), 'the console\'s pass QR does not read back as the pass');
	const viaAddress = await ctx.newPage();
	r = await viaAddress.goto(address);
	expectEq(r.status(), 200, 'the private address the console gave');
	await page.goto(`${BASE}/venues/${VENUE}/passes?lang=zh-Hans`);
	await shot(page, 'console-passes-zh-Hans-1440x900');
	await submit(page, 'form[action$="/passes/rotate"]');
	expect((await bodyText(page)).includes('密钥 2'), 'the flash after rotating the key');
	expectEq(sql(`SELECT count(*) FROM console_audit WHERE action IN ('pass.issue', 'pass.rotate_key')`), '2',
		 'audit rows of the console\'s pass actions');
	expectEq(sql(`SELECT count(*) FROM pass_keys WHERE venue_id = '${VENUE}' AND retired_ms = 0`), '1',
		 'signing keys after rotating');
	say('console: a pass issued from a member\'s page (read back from its screenshot), the key rotated');
}

main().catch((e) => {
	console.error(`FAIL: ${e.message}`);
	process.exit(1);
});
