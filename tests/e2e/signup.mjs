// A member signs up on their phone (Debian's chromium at 390x844, JavaScript
// off, puppeteer-core), through a friend's ref= link, and lands on their
// pass. The screenshot of the pass page is read with zbarimg; the pass among
// the codes found is printed alone on the last line (for test_signup_pass.sh).
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import path from 'node:path';

const E = process.env;
const need = (k) => {
	if (!E[k]) throw new Error(`the environment has no ${k}`);
	return E[k];
};
const require = createRequire(path.join(need('NODE_DIR'), 'package.json'));
const puppeteer = require('puppeteer-core');

const browser = await puppeteer.launch({
	executablePath: need('CHROMIUM'),
	headless: true,
	args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-dev-shm-usage', '--font-render-hinting=none'],
});
try {
	const page = await browser.newPage();
	await page.setJavaScriptEnabled(false);
	await page.setViewport({ width: 390, height: 844, deviceScaleFactor: 1, isMobile: true, hasTouch: true });
	await page.setExtraHTTPHeaders({ 'Accept-Language': 'zh-CN,zh;q=0.9' });
	const r = await page.goto(`${need('BASE')}/m/${need('SLUG')}?ref=${need('REF')}`, { waitUntil: 'load' });
	if (r.status() !== 200) throw new Error(`the sign-up page answered ${r.status()}`);
	await page.screenshot({ path: path.join(need('SHOTS'), 'signup-390x844.png'), fullPage: true });
	await page.type('#name', need('NAME'));
	await page.type('#phone', need('PHONE'));
	await page.click('input[name=consent]');
	await Promise.all([page.waitForNavigation({ waitUntil: 'load' }), page.$eval('form', (f) => f.submit())]);
	if (!/\/p\/[a-z2-7]{32}(\?new=1)?$/.test(page.url())) throw new Error(`sign-up led to ${page.url()}`);
	const shot = path.join(need('SHOTS'), 'signup-pass-390x844.png');
	await page.screenshot({ path: shot, fullPage: true });
	const found = execFileSync('zbarimg', ['-q', '--raw', shot], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] })
		.split('\n').filter((l) => /^[0-9A-Z$%*+./:-]{100,120}$/.test(l));
	if (found.length !== 1) throw new Error(`zbarimg found ${found.length} passes in the screenshot`);
	console.log(found[0]);
} finally {
	await browser.close();
}
