const { installFakeWx, settle, problem, wxmlAttr } = require('../helpers/fake-wx');
const { loadPage } = require('../helpers/page-harness');
const config = require('../../utils/config');
const { idCheckChar } = require('../../utils/validate');
const reportLogic = require('../../worker/report/logic');
const reportsLogic = require('../../worker/reports/logic');

config.RETRY.baseDelayMs = 0;

const VILLAGES = [{ code: '330523001201', name: '古城村' }, { code: '330523001202', name: '马家村' }];
const WORKER = { id: 'w1', display_name: '网格员小陈', township: { code: '330523001', name: '递铺街道' }, villages: VILLAGES };
const urlPath = (r) => r.url.replace(/^https?:\/\/[^/]+/, '');

function filledReport(over) {
  return Object.assign(reportLogic.initialReport(VILLAGES), {
    name: '王大妈', phone: '13900003333', villageIndex: 1, hardship: ['elderly_alone'], description: '独居，腿脚不便', householdSize: '1',
    location: { lat: 30.6, lng: 119.7, coord_type: 'gcj02', accuracy_m: 12, captured_at: '2026-05-01T09:30:00+08:00' },
  }, over || {});
}

describe('report logic', () => {
  test('observed_at is the moment of writing, ISO 8601 with the phone offset', () => {
    const now = new Date(Date.UTC(2026, 4, 1, 1, 30, 5));
    const body = reportLogic.buildReportBody(filledReport(), { clientId: 'c1', villages: VILLAGES, now });
    expect(body.observed_at).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}[+-]\d{2}:\d{2}$/);
    expect(Date.parse(body.observed_at)).toBe(now.getTime());
    expect(body).toMatchObject({
      client_id: 'c1',
      subject: { name: '王大妈', phone: '13900003333', village_code: '330523001202', household_size: 1 },
      hardship: ['elderly_alone'],
      location: { coord_type: 'gcj02', accuracy_m: 12 },
    });
  });

  test('a report needs a name, a hardship, a description, and a place', () => {
    const errors = reportLogic.validateReport(reportLogic.initialReport([]), []);
    expect(errors).toMatchObject({
      'subject.name': '请填写求助对象姓名',
      hardship: '请选择困难类型',
      description: '请填写情况说明',
      location: '没有定位时，请选择所在村（社区）',
    });
    const body = '33052319500101123';
    expect(reportLogic.validateReport(filledReport({ idNumber: body + idCheckChar(body) }), VILLAGES)).toEqual({});
    expect(reportLogic.validateReport(filledReport({ idNumber: `${body}${idCheckChar(body) === '1' ? '2' : '1'}` }), VILLAGES)['subject.id_number']).toContain('校验码');
  });

  test('a corrected report keeps the observed_at it was written with', () => {
    const body = reportLogic.buildReportBody(filledReport(), { clientId: 'c1', villages: VILLAGES, now: new Date(), observedAt: '2026-05-01T09:30:00+08:00' });
    expect(body.observed_at).toBe('2026-05-01T09:30:00+08:00');
  });

  test('the logout confirmation counts what is still on the phone', () => {
    expect(reportsLogic.logoutMessage([])).toBe('确定退出登录吗？');
    const msg = reportsLogic.logoutMessage([{ state: 'pending' }, { state: 'photos' }, { state: 'failed' }]);
    expect(msg).toContain('还有 2 份报告等待发送');
    expect(msg).toContain('有 1 份报告没有发送成功');
  });

  test('a queued report goes back into the form unchanged', () => {
    const body = reportLogic.buildReportBody(filledReport(), { clientId: 'c1', villages: VILLAGES, now: new Date() });
    const form = reportLogic.formFromBody(body, [{ path: 'p.jpg', client_photo_id: 'x' }], VILLAGES);
    expect(reportLogic.buildReportBody(form, { clientId: 'c1', villages: VILLAGES, now: new Date(body.observed_at) })).toEqual(body);
  });

  test('queue rows say what is happening in words', () => {
    const row = reportsLogic.queuedRow({ client_id: 'c', state: 'failed', error: '填写的内容有误', body: { subject: { name: '王' }, observed_at: '2026-05-01T01:00:00Z' }, photos: [{ state: 'done' }, { state: 'pending' }], report: null });
    expect(row).toMatchObject({ name: '王', stateLabel: '没有发送成功，请查看原因', error: '填写的内容有误', photos: '1/2', canEdit: true, observed: '2026年5月1日 09:00' });
    expect(reportsLogic.queuedRow({ client_id: 'c', state: 'failed', body: {}, photos: [], report: { id: 'r' } }).canEdit).toBe(false);
  });
});

describe('worker pages', () => {
  let control;
  beforeEach(() => {
    control = installFakeWx();
  });

  test('login sends device_id, stores the worker token under its own key', async () => {
    control.storage.set('yimen:resident:auth', { access_token: 'RES' });
    control.respond(() => ({ statusCode: 200, data: { access_token: 'WA', refresh_token: 'WR', expires_in: 3600, worker: WORKER } }));
    const page = loadPage('worker/login').render({});
    page.instance.setData({ form: { username: 'dipu_grid', password: 'yimen-demo-2026' } });
    page.querySelector('.btn--primary').dispatchEvent('tap');
    await settle(10);
    const login = control.requests[0];
    expect(urlPath(login)).toBe('/mobile/v1/auth/login');
    expect(JSON.parse(login.data)).toEqual({ username: 'dipu_grid', password: 'yimen-demo-2026', device_id: control.storage.get('yimen:device-id') });
    expect(login.header.Authorization).toBeUndefined();
    expect(control.storage.get('yimen:worker:auth')).toMatchObject({ access_token: 'WA', refresh_token: 'WR' });
    expect(control.storage.get('yimen:resident:auth')).toEqual({ access_token: 'RES' });
    expect(control.storage.get('yimen:worker:profile')).toEqual(WORKER);
    expect(control.calls.navigate).toEqual(['/worker/report/index']);
  });

  test('a wrong password shows the server sentence', async () => {
    control.respond(() => problem(401, 'invalid-credentials', '账号或密码不正确'));
    const page = loadPage('worker/login').render({});
    page.instance.setData({ form: { username: 'x', password: 'y' } });
    page.querySelector('.btn--primary').dispatchEvent('tap');
    await settle(10);
    expect(page.querySelector('.error').dom.textContent).toBe('账号或密码不正确');
  });

  function loggedIn() {
    control.storage.set('yimen:worker:auth', { access_token: 'WA', refresh_token: 'WR' });
    control.storage.set('yimen:worker:profile', WORKER);
  }

  test('without signal the report is kept on the phone and the worker is told', async () => {
    loggedIn();
    control.setNetwork('none');
    const page = loadPage('worker/report').render({});
    await settle(6);
    page.instance.setData({ form: filledReport() });
    page.querySelector('.btn--primary').dispatchEvent('tap');
    await settle(10);
    expect(control.requests.filter((r) => /\/mobile\/v1\//.test(r.url))).toHaveLength(0);
    const queue = control.storage.get('yimen:worker:queue');
    expect(queue).toHaveLength(1);
    expect(queue[0].body).toMatchObject({ subject: { name: '王大妈' }, hardship: ['elderly_alone'] });
    expect(control.calls.modal.pop()).toMatchObject({ title: '已保存在手机上' });
    expect(page.querySelector('.report__link').dom.textContent).toBe('我的上报（1 份待发送）');
  });

  test('with signal it is sent at once and the number is shown', async () => {
    loggedIn();
    control.respond(() => ({ statusCode: 201, data: { id: 'lead-1', number: '330523001-2026-00042', status_label: '已送达窗口' } }));
    const page = loadPage('worker/report').render({});
    await settle(6);
    page.instance.setData({ form: filledReport({ photos: [{ path: 'tmp/p.jpg', client_photo_id: 'pp' }] }) });
    page.querySelector('.btn--primary').dispatchEvent('tap');
    await settle(20);
    expect(control.requests.filter((r) => r.method === 'POST').map(urlPath)).toEqual(['/mobile/v1/reports']);
    expect(control.uploads.map((u) => [urlPath(u), u.formData.client_photo_id, u.filePath])).toEqual([
      ['/mobile/v1/reports/lead-1/photos', 'pp', 'wxfile://usr/queue-pp.jpg'],
    ]);
    // the photo was copied out of the temporary folder when queued, and removed once uploaded
    expect(control.calls.savedFiles).toEqual([['tmp/p.jpg', 'wxfile://usr/queue-pp.jpg']]);
    expect(control.calls.unlinked).toEqual(['wxfile://usr/queue-pp.jpg']);
    expect(control.calls.modal.pop()).toMatchObject({ title: '上报成功', content: '编号 330523001-2026-00042，已送达窗口。' });
    expect(control.storage.get('yimen:worker:queue')).toEqual([]);
  });

  test('my reports shows a refused report with its message above the server list', async () => {
    loggedIn();
    control.storage.set('yimen:worker:queue', [{
      client_id: 'c9', state: 'failed', error: '填写的内容有误：身份证号码不正确', body: { subject: { name: '李大爷' }, observed_at: '2026-05-01T01:00:00Z' }, photos: [], report: null,
    }]);
    control.respond(() => ({ statusCode: 200, data: { items: [{ id: 'l1', client_id: 'c1', number: 'N1', status_label: '窗口已确认', subject: { name: '王大妈' }, township: { name: '递铺街道' }, created_at: '2026-05-01T01:00:00Z' }], next_cursor: null } }));
    const page = loadPage('worker/reports').render({});
    await settle(8);
    expect(urlPath(control.requests[0])).toBe('/mobile/v1/reports?limit=20');
    expect(control.requests[0].header.Authorization).toBe('Bearer WA');
    const names = page.querySelectorAll('.reports__name').map((n) => n.dom.textContent.trim());
    expect(names).toEqual(['李大爷', '王大妈']);
    expect(page.querySelectorAll('.error').map((n) => n.dom.textContent)).toContain('填写的内容有误：身份证号码不正确');
  });
  const WORKER_B = { id: 'w2', display_name: '网格员小李', township: WORKER.township, villages: VILLAGES };
  const posted = () => control.requests.filter((r) => r.method === 'POST' && /\/mobile\/v1\/reports$/.test(r.url)).map((r) => JSON.parse(r.data));

  test('a double tap on 上报 saves and sends one report; the button is disabled meanwhile', async () => {
    loggedIn();
    let answer;
    control.respond((req) => (/\/mobile\/v1\/reports$/.test(req.url)
      ? new Promise((resolve) => { answer = resolve; })
      : { statusCode: 200, data: {} }));
    const page = loadPage('worker/report').render({});
    await settle(6);
    page.instance.setData({ form: filledReport() });
    const button = page.querySelector('.btn--primary');
    button.dispatchEvent('tap');
    button.dispatchEvent('tap');
    await settle(10);
    expect(wxmlAttr(page.querySelector('.btn--primary'), 'disabled')).toBe(true);
    page.querySelector('.btn--primary').dispatchEvent('tap');
    await settle(4);
    answer({ statusCode: 201, data: { id: 'lead-1', number: 'N1', status_label: '已送达窗口' } });
    await settle(20);
    expect(posted()).toHaveLength(1);
    expect(control.calls.modal.filter((m) => m.title === '上报成功')).toHaveLength(1);
    expect(wxmlAttr(page.querySelector('.btn--primary'), 'disabled')).toBe(false);
  });

  test('one client_id per draft: a refused report corrected and sent again is the same report', async () => {
    loggedIn();
    let refuse = true;
    control.respond((req) => {
      if (!/\/mobile\/v1\/reports$/.test(req.url)) return { statusCode: 200, data: {} };
      return refuse
        ? problem(422, 'validation-failed', '填写的内容有误', { errors: [{ field: 'subject.phone', message: '电话号码不正确' }] })
        : { statusCode: 201, data: { id: 'lead-2', number: 'N2' } };
    });
    const page = loadPage('worker/report').render({});
    await settle(6);
    page.instance.setData({ form: filledReport() });
    page.querySelector('.btn--primary').dispatchEvent('tap');
    await settle(20);
    expect(control.calls.modal.pop()).toMatchObject({ title: '需要修改' });
    expect(control.storage.get('yimen:worker:queue')).toHaveLength(1);

    refuse = false;
    page.instance.setData({ 'form.phone': '13900004444' });
    page.querySelector('.btn--primary').dispatchEvent('tap');
    await settle(20);
    const bodies = posted();
    expect(bodies).toHaveLength(2);
    expect(bodies[1].client_id).toBe(bodies[0].client_id);
    expect(bodies[1].subject.phone).toBe('13900004444');
    expect(control.storage.get('yimen:worker:queue')).toEqual([]);

    // the next report is a new draft with its own client_id
    control.setNetwork('none');
    page.instance.setData({ form: filledReport({ name: '李大爷' }) });
    page.querySelector('.btn--primary').dispatchEvent('tap');
    await settle(20);
    expect(control.storage.get('yimen:worker:queue')[0].client_id).not.toBe(bodies[0].client_id);
  });

  test('correcting a queued report keeps its observed_at', async () => {
    loggedIn();
    const body = reportLogic.buildReportBody(filledReport(), { clientId: 'c9', villages: VILLAGES, now: new Date(Date.UTC(2026, 4, 1, 1, 30)) });
    control.storage.set('yimen:worker:queue', [{
      client_id: 'c9', worker_id: 'w1', state: 'failed', error: '填写的内容有误', body, photos: [], report: null,
    }]);
    control.respond(() => ({ statusCode: 201, data: { id: 'lead-9', number: 'N9' } }));
    const page = loadPage('worker/report').render({ queued: 'c9' });
    await settle(6);
    expect(page.instance.data.editing).toBe('c9');
    page.instance.setData({ 'form.description': '独居，腿脚不便，需要送餐' });
    page.querySelector('.btn--primary').dispatchEvent('tap');
    await settle(20);
    expect(posted()).toHaveLength(1);
    expect(posted()[0]).toMatchObject({ client_id: 'c9', description: '独居，腿脚不便，需要送餐', observed_at: body.observed_at });
  });

  test("logout warns about waiting reports and keeps them; worker B's login does not send them", async () => {
    loggedIn();
    control.storage.set('yimen:worker:queue', ['a1', 'a2'].map((id) => ({
      client_id: id, worker_id: 'w1', state: 'pending', error: '', report: null, photos: [],
      body: { client_id: id, subject: { name: '王大妈' }, hardship: ['elderly_alone'], description: 'x', urgent: false, observed_at: '2026-05-01T09:30:00+08:00' },
    })));
    control.setNetwork('none');
    control.answerModal({ confirm: true, cancel: false });
    const reports = loadPage('worker/reports').render({});
    await settle(8);
    reports.querySelectorAll('.btn').find((b) => b.dom.textContent === '退出登录').dispatchEvent('tap');
    await settle(8);
    const confirmLogout = control.calls.modal.find((m) => m.title === '退出登录');
    expect(confirmLogout.content).toContain('还有 2 份报告等待发送');
    expect(confirmLogout.showCancel).not.toBe(false);
    expect(control.storage.has('yimen:worker:auth')).toBe(false);
    expect(control.storage.has('yimen:worker:profile')).toBe(false);
    expect(control.storage.get('yimen:worker:queue').map((i) => i.client_id)).toEqual(['a1', 'a2']);

    // worker B logs in on the same phone, with signal
    control.setNetwork('wifi');
    control.respond((req) => {
      if (/\/auth\/login$/.test(req.url)) {
        const who = JSON.parse(req.data).username === 'b' ? WORKER_B : WORKER;
        return { statusCode: 200, data: { access_token: `T-${who.id}`, refresh_token: 'R', worker: who } };
      }
      if (/\/mobile\/v1\/reports$/.test(req.url)) return { statusCode: 201, data: { id: `lead-${JSON.parse(req.data).client_id}`, number: 'N' } };
      return { statusCode: 200, data: { items: [], next_cursor: null } };
    });
    const login = loadPage('worker/login').render({});
    login.instance.setData({ form: { username: 'b', password: 'p' } });
    login.querySelector('.btn--primary').dispatchEvent('tap');
    await settle(30);
    expect(posted()).toHaveLength(0);
    const asB = loadPage('worker/report').render({});
    await settle(6);
    expect(asB.querySelector('.report__link').dom.textContent).toBe('我的上报');

    // A logs in again: A's reports go out under A's login
    control.storage.delete('yimen:worker:auth');
    const loginA = loadPage('worker/login').render({});
    loginA.instance.setData({ form: { username: 'a', password: 'p' } });
    loginA.querySelector('.btn--primary').dispatchEvent('tap');
    await settle(30);
    expect(posted().map((b) => b.client_id)).toEqual(['a1', 'a2']);
    const sent = control.requests.filter((r) => r.method === 'POST' && /\/mobile\/v1\/reports$/.test(r.url));
    expect(sent.every((r) => r.header.Authorization === 'Bearer T-w1')).toBe(true);
    expect(control.storage.get('yimen:worker:queue')).toEqual([]);
  });
});
