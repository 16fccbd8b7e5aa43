// The mini-program's own files: app.json pages and subpackages, privacy declarations, every
// page's four files and Page() shape, and that WeChat's compilers accept every template.
const fs = require('fs');
const path = require('path');
const compiler = require('miniprogram-compiler');
const { installFakeWx, settle } = require('./helpers/fake-wx');
const { capturePage, ROOT } = require('./helpers/page-harness');

const readJson = (f) => JSON.parse(fs.readFileSync(path.join(ROOT, f), 'utf8'));
const app = readJson('app.json');
const pages = app.pages.concat(...app.subPackages.map((p) => p.pages.map((x) => `${p.root}/${x}`)));

beforeEach(() => installFakeWx());

test('pages are grouped by area: main package, resident and worker subpackages', () => {
  expect(app.pages).toEqual(['pages/home/index', 'pages/mine/index']);
  const byRoot = {};
  app.subPackages.forEach((p) => { byRoot[p.root] = p.pages; });
  expect(byRoot.resident).toEqual(['help/index', 'apply/index', 'item/index', 'window/index']);
  expect(byRoot.worker).toEqual(['login/index', 'report/index', 'reports/index']);
});

test('privacy and location are declared as WeChat requires', () => {
  expect(app.requiredPrivateInfos).toEqual(['getLocation', 'chooseLocation']);
  expect(app.permission['scope.userLocation'].desc.length).toBeGreaterThan(10);
  expect(app.__usePrivacyCheck__).toBe(true);
  expect(readJson('project.config.json').appid).toBe('touristappid');
  expect(readJson('sitemap.json').rules.length).toBeGreaterThan(0);
});

test.each(pages.map((p) => [p]))('%s has its four files and a Page() wrapped for large text', (page) => {
  ['js', 'wxml', 'wxss', 'json'].forEach((ext) => {
    expect(fs.existsSync(path.join(ROOT, `${page}.${ext}`))).toBe(true);
  });
  const def = capturePage(page.replace(/\/index$/, ''));
  expect(typeof def.onLargeTextChange).toBe('function');
  expect(def.data).toHaveProperty('a11yClass');
  const wxml = fs.readFileSync(path.join(ROOT, `${page}.wxml`), 'utf8');
  expect(wxml.trim().startsWith('<view class="page {{a11yClass}}">')).toBe(true);
  // components used by a subpackage page must live in the main package
  const using = readJson(`${page}.json`).usingComponents || {};
  Object.values(using).forEach((c) => {
    expect(c.startsWith('/components/')).toBe(true);
    expect(fs.existsSync(path.join(ROOT, `${c}.json`))).toBe(true);
  });
});

test('every component folder has index.{js,wxml,wxss,json} and a __test__ folder', () => {
  const dirs = fs.readdirSync(path.join(ROOT, 'components'));
  expect(dirs.length).toBeGreaterThanOrEqual(6);
  dirs.forEach((d) => {
    ['index.js', 'index.wxml', 'index.wxss', 'index.json', '__test__'].forEach((f) => {
      expect([d, fs.existsSync(path.join(ROOT, 'components', d, f))]).toEqual([d, true]);
    });
  });
});

test("WeChat's template and style compilers (wcc, wcsc) accept every file", () => {
  const wxml = compiler.wxmlToJs(ROOT);
  expect(wxml).toContain('$gwx');
  const wxss = compiler.wxssToJs(ROOT);
  expect(wxss).toContain('wxssMap');
});

test('App start: resident signs in silently, the worker queue listens once and sends what waits', async () => {
  const control = installFakeWx();
  control.storage.set('yimen:worker:auth', { access_token: 'WA' });
  control.storage.set('yimen:worker:profile', { id: 'w1', display_name: '小陈', villages: [] });
  control.storage.set('yimen:worker:queue', [{
    client_id: 'q1', worker_id: 'w1', state: 'pending', body: { client_id: 'q1', subject: { name: '王' } }, photos: [], error: '', report: null,
  }, {
    // another worker's report on the same phone waits for that worker
    client_id: 'q2', worker_id: 'w2', state: 'pending', body: { client_id: 'q2', subject: { name: '李' } }, photos: [], error: '', report: null,
  }]);
  control.respond((req) => {
    if (/\/mp\/v1\/auth\/login$/.test(req.url)) return { statusCode: 200, data: { access_token: 'RA', refresh_token: 'RR', resident: { id: 'r1' } } };
    if (/\/mobile\/v1\/reports$/.test(req.url)) return { statusCode: 201, data: { id: 'l1', number: 'N1' } };
    return { statusCode: 200, data: {} };
  });
  let appDef;
  global.App = (d) => { appDef = d; };
  jest.isolateModules(() => require(path.join(ROOT, 'app.js'))); // eslint-disable-line global-require, import/no-dynamic-require
  appDef.onLaunch();
  await settle(20);
  expect(control.networkListenerCount()).toBe(1);
  const posted = control.requests.filter((r) => r.method === 'POST').map((r) => r.url.replace(/^https?:\/\/[^/]+/, ''));
  expect(posted).toEqual(expect.arrayContaining(['/mp/v1/auth/login', '/mobile/v1/reports']));
  expect(posted.filter((p) => p === '/mobile/v1/reports')).toHaveLength(1);
  expect(control.storage.get('yimen:resident:auth')).toMatchObject({ access_token: 'RA' });
  expect(control.storage.get('yimen:worker:queue').map((i) => i.client_id)).toEqual(['q2']);
});
