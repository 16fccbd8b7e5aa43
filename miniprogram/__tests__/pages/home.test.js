const { installFakeWx, settle, problem } = require('../helpers/fake-wx');
const { loadPage } = require('../helpers/page-harness');
const config = require('../../utils/config');
const logic = require('../../pages/home/logic');

config.RETRY.baseDelayMs = 0;

function deps(over) {
  const store = { value: null };
  const d = Object.assign({
    confirm: jest.fn(async () => true),
    locate: jest.fn(async () => ({ lat: 30.63, lng: 119.68, coord_type: 'gcj02', accuracy_m: 25 })),
    chooseVillage: jest.fn(async () => ({ code: '330523001201' })),
    post: jest.fn(async (body) => ({ id: 'h1', number: 'N1', body })),
    pending: { get: () => store.value, set: (v) => { store.value = v; }, clear: () => { store.value = null; } },
    newId: jest.fn(() => `id-${d.newId.mock.calls.length}`),
    deviceId: 'mp-dev',
    contactPhone: '139 0000 1111',
    now: () => 1000,
  }, over || {});
  d.store = store;
  return d;
}

describe('一键求助 logic', () => {
  test('nothing happens unless the one confirmation is accepted', async () => {
    const d = deps({ confirm: jest.fn(async () => false) });
    expect(await logic.runQuickHelp(d)).toEqual({ status: 'cancelled' });
    expect(d.locate).not.toHaveBeenCalled();
    expect(d.post).not.toHaveBeenCalled();
  });

  test('sends quick:true with the gcj02 location and the stored phone, after one confirmation', async () => {
    const d = deps();
    const out = await logic.runQuickHelp(d);
    expect(out.status).toBe('sent');
    expect(d.confirm).toHaveBeenCalledTimes(1);
    expect(d.post.mock.calls[0][0]).toEqual({
      client_id: 'id-1',
      device_id: 'mp-dev',
      for_self: true,
      quick: true,
      location: { lat: 30.63, lng: 119.68, coord_type: 'gcj02', accuracy_m: 25 },
      contact_phone: '13900001111',
    });
    expect(d.store.value).toBeNull();
  });

  test('location refused: the chosen village is sent instead', async () => {
    const d = deps({ locate: jest.fn(async () => { throw Object.assign(new Error('x'), { denied: true }); }), contactPhone: '' });
    const out = await logic.runQuickHelp(d);
    expect(out).toMatchObject({ status: 'sent', usedVillage: true });
    const body = d.post.mock.calls[0][0];
    expect(body.subject).toEqual({ village_code: '330523001201' });
    expect(body.location).toBeUndefined();
    expect(body.contact_phone).toBeUndefined();
  });

  test('no location and no village chosen: nothing is sent', async () => {
    const d = deps({ locate: jest.fn(async () => { throw new Error('x'); }), chooseVillage: jest.fn(async () => null) });
    expect((await logic.runQuickHelp(d)).status).toBe('no-place');
    expect(d.post).not.toHaveBeenCalled();
  });

  test('a lost answer is resent as it was (same client_id, no new location); a refusal is not kept', async () => {
    const d = deps({ post: jest.fn(async () => { throw Object.assign(new Error('网络'), { network: true }); }) });
    expect((await logic.runQuickHelp(d)).status).toBe('failed');
    const first = d.post.mock.calls[0][0];
    expect(d.store.value.body).toEqual(first);

    d.post.mockImplementation(async () => { throw Object.assign(new Error('填写的内容有误'), { status: 422 }); });
    await logic.runQuickHelp(d);
    expect(d.locate).toHaveBeenCalledTimes(1);
    expect(d.post.mock.calls[1][0]).toEqual(first);
    expect(d.store.value).toBeNull();
  });

  test.each([408, 429, 500, 502, 503, 504])('after a %i the outcome is unknown: the same request is kept for the next press', async (status) => {
    const d = deps({ post: jest.fn(async () => { throw Object.assign(new Error('稍后再试'), { status, network: false }); }) });
    expect((await logic.runQuickHelp(d)).status).toBe('failed');
    const first = d.post.mock.calls[0][0];
    expect(d.store.value.body).toEqual(first);
    d.post.mockImplementation(async (body) => ({ id: 'h1', body }));
    expect((await logic.runQuickHelp(d)).status).toBe('sent');
    expect(d.post.mock.calls[1][0]).toEqual(first);
    expect(d.newId).toHaveBeenCalledTimes(1);
    expect(d.store.value).toBeNull();
  });

  test.each([400, 401, 403, 409, 422])('after a %i (a definite refusal) the request is dropped', async (status) => {
    const d = deps({ post: jest.fn(async () => { throw Object.assign(new Error('不行'), { status, network: false }); }) });
    await logic.runQuickHelp(d);
    expect(d.store.value).toBeNull();
  });

  test('the location error reaches the village picker (so it can say why)', async () => {
    const refused = Object.assign(new Error('没同意'), { privacyRefused: true });
    const d = deps({ locate: jest.fn(async () => { throw refused; }) });
    await logic.runQuickHelp(d);
    expect(d.chooseVillage).toHaveBeenCalledWith(refused);
  });

  test('an old unanswered request is not resent after the time limit', () => {
    expect(logic.pendingQuickHelp({ body: {}, at: 0 }, logic.PENDING_TTL_MS + 1)).toBeNull();
    expect(logic.pendingQuickHelp({ body: { a: 1 }, at: 0 }, 5)).toEqual({ body: { a: 1 }, at: 0 });
  });
});

describe('首页', () => {
  test('the services grid links to each area', async () => {
    installFakeWx();
    const page = loadPage('pages/home').render({});
    await settle(4);
    const titles = page.querySelectorAll('.home__service-title').map((n) => n.dom.textContent);
    expect(titles).toEqual(['我要求助', '申请救助', '办理进度', '找窗口']);
  });

  test('一键求助 button: one modal, then POST /mp/v1/help-requests with location', async () => {
    const control = installFakeWx();
    control.storage.set('yimen:resident:auth', { access_token: 'A', refresh_token: 'R' });
    control.storage.set('yimen:resident:contact-phone', '13900001111');
    control.setLocation({ latitude: 30.1, longitude: 119.2, accuracy: 40 });
    control.respond(() => ({ statusCode: 201, data: { id: 'h9', number: '330523001-2026-00009', township: { name: '递铺街道' } } }));
    const page = loadPage('pages/home').render({});
    await settle(4);
    page.querySelector('.home__quick').dispatchEvent('tap');
    await settle(20);

    expect(control.calls.modal[0].title).toBe('一键求助');
    expect(control.calls.location[0].type).toBe('gcj02');
    const posts = control.requests.filter((r) => r.method === 'POST');
    expect(posts).toHaveLength(1);
    expect(posts[0].url).toMatch(/\/mp\/v1\/help-requests$/);
    expect(JSON.parse(posts[0].data)).toMatchObject({
      quick: true,
      location: { lat: 30.1, lng: 119.2, coord_type: 'gcj02', accuracy_m: 40 },
      contact_phone: '13900001111',
    });
    expect(control.calls.modal[1].content).toContain('递铺街道窗口');
    expect(control.calls.modal[1].content).toContain('330523001-2026-00009');
    expect(control.calls.navigate).toEqual(['/resident/item/index?kind=help&id=h9']);
  });

  test('location refused: the village picker opens, and the chosen village is sent', async () => {
    const control = installFakeWx();
    control.storage.set('yimen:resident:auth', { access_token: 'A', refresh_token: 'R' });
    const tree = {
      '': [{ code: '330000000000', name: '浙江省', level: 'province' }],
      '330000000000': [{ code: '330500000000', name: '湖州市', level: 'city' }],
      '330500000000': [{ code: '330523000000', name: '安吉县', level: 'county' }],
      '330523000000': [{ code: '330523001000', name: '递铺街道', level: 'township' }],
      '330523001000': [{ code: '330523001201', name: '古城村', level: 'village' }],
    };
    control.respond((req) => {
      if (req.method === 'POST') return { statusCode: 201, data: { id: 'h2', number: 'N2' } };
      const m = /parent=(\d+)/.exec(req.url);
      return { statusCode: 200, data: { items: tree[m ? m[1] : ''] } };
    });
    const page = loadPage('pages/home').render({});
    await settle(4);
    page.querySelector('.home__quick').dispatchEvent('tap');
    await settle(20);
    expect(page.querySelector('.sheet__hint').dom.textContent).toContain('请选择您所在的村（社区）');
    expect(control.requests.filter((r) => r.method === 'POST')).toHaveLength(0);

    const picker = page.querySelector('.village-picker');
    for (const name of ['浙江省', '湖州市', '安吉县', '递铺街道', '古城村']) {
      picker.querySelectorAll('.dp__option').find((o) => o.dom.textContent === name).dispatchEvent('tap');
      await settle(6);
    }
    const posts = control.requests.filter((r) => r.method === 'POST');
    expect(posts).toHaveLength(1);
    const body = JSON.parse(posts[0].data);
    expect(body).toMatchObject({ quick: true, subject: { village_code: '330523001201' } });
    expect(body.location).toBeUndefined();
    expect(page.querySelector('.sheet')).toBeUndefined();
    expect(control.storage.get('yimen:resident:last-village')).toEqual({ code: '330523001201', name: '浙江省湖州市安吉县递铺街道古城村' });
  });

  test('a refusal from the server is shown in its own words', async () => {
    const control = installFakeWx();
    control.storage.set('yimen:resident:auth', { access_token: 'A', refresh_token: 'R' });
    control.setLocation({ latitude: 30.1, longitude: 119.2, accuracy: 40 });
    control.respond(() => problem(422, 'content-flagged', '内容不能发送'));
    const page = loadPage('pages/home').render({});
    await settle(4);
    page.querySelector('.home__quick').dispatchEvent('tap');
    await settle(20);
    expect(control.calls.modal[1]).toMatchObject({ title: '没有发出去', content: '内容不能发送' });
    expect(control.storage.has('yimen:resident:quick-help-pending')).toBe(false);
  });

  test('a 429 is shown in its own words, and the request is kept (same client_id next time)', async () => {
    const control = installFakeWx();
    control.storage.set('yimen:resident:auth', { access_token: 'A', refresh_token: 'R' });
    control.setLocation({ latitude: 30.1, longitude: 119.2, accuracy: 40 });
    control.respond(() => problem(429, 'rate-limited', '求助太频繁了，请 10 分钟后再试'));
    const page = loadPage('pages/home').render({});
    await settle(4);
    page.querySelector('.home__quick').dispatchEvent('tap');
    await settle(20);
    expect(control.calls.modal[1]).toMatchObject({ title: '没有发出去', content: '求助太频繁了，请 10 分钟后再试' });
    const first = control.body(0);
    expect(control.storage.get('yimen:resident:quick-help-pending').body).toEqual(first);

    control.respond(() => ({ statusCode: 200, data: { id: 'h1', number: 'N1' } }));
    page.querySelector('.home__quick').dispatchEvent('tap');
    await settle(20);
    expect(control.body(1)).toEqual(first);
    expect(control.storage.has('yimen:resident:quick-help-pending')).toBe(false);
  });

  describe('privacy agreement before the loading mask', () => {
    function setup() {
      const control = installFakeWx({
        showLoading(o) {
          control.order.push(`showLoading${o.mask ? ' mask' : ''}`);
          control.calls.loading.push(o);
        },
      });
      control.storage.set('yimen:resident:auth', { access_token: 'A', refresh_token: 'R' });
      control.setLocation({ latitude: 30.1, longitude: 119.2, accuracy: 40 });
      control.respond((req) => (req.method === 'POST' ? { statusCode: 201, data: { id: 'h3', number: 'N3' } } : { statusCode: 200, data: { items: [] } }));
      return control;
    }

    test('while the privacy pop-up waits, no mask covers it; agreed, the location is taken', async () => {
      const control = setup();
      let answer = null;
      control.answerPrivacy((o) => { answer = o; });
      const page = loadPage('pages/home').render({});
      await settle(4);
      page.querySelector('.home__quick').dispatchEvent('tap');
      await settle(10);
      expect(answer).not.toBeNull();
      expect(control.calls.loading).toHaveLength(0);
      expect(control.calls.location || []).toHaveLength(0);

      answer.success({ errMsg: 'requirePrivacyAuthorize:ok' });
      await settle(20);
      expect(control.order.filter((x) => /^(requirePrivacyAuthorize|showLoading|getLocation)/.test(x))).toEqual([
        'requirePrivacyAuthorize', 'showLoading mask', 'getLocation', 'showLoading mask',
      ]);
      expect(JSON.parse(control.requests.find((r) => r.method === 'POST').data).location).toMatchObject({ lat: 30.1, lng: 119.2 });
    });

    test('refused: no location is asked, the village picker opens with a plain sentence', async () => {
      const control = setup();
      control.answerPrivacy('refuse');
      const page = loadPage('pages/home').render({});
      await settle(4);
      page.querySelector('.home__quick').dispatchEvent('tap');
      await settle(20);
      expect(control.calls.privacy).toBe(1);
      expect(control.calls.location || []).toHaveLength(0);
      expect(control.calls.loading).toHaveLength(0);
      expect(page.querySelector('.sheet__hint').dom.textContent).toBe('您没有同意隐私保护指引，拿不到您的位置。请选择您所在的村（社区）');
      expect(control.requests.filter((r) => r.method === 'POST')).toHaveLength(0);
    });

    test('without wx.requirePrivacyAuthorize, a pending agreement means no mask', async () => {
      const control = setup();
      global.wx.requirePrivacyAuthorize = undefined;
      global.wx.getPrivacySetting = (o) => setTimeout(() => o.success({ needAuthorization: true }), 0);
      const page = loadPage('pages/home').render({});
      await settle(4);
      page.querySelector('.home__quick').dispatchEvent('tap');
      await settle(20);
      const before = control.order.slice(0, control.order.indexOf('getLocation'));
      expect(control.order).toContain('getLocation');
      expect(before.filter((x) => /^showLoading/.test(x))).toEqual([]);
    });
  });
});
